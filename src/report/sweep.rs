//! A sweep's answer: runs grouped by point (runs of one point differ only by seed), with mean ±
//! std over seeds of clean and robust accuracy, time and throughput; for class-skewed points, the
//! accuracy of the over-duplicated classes against the others.

use super::{MeanStd, mean_std};
use crate::store::{Run, RunStatus};
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct PointStats {
    pub label: String,
    pub seeds: Vec<u64>,
    pub training: String,
    pub duplication: String,
    /// Copies / total training entries.
    pub dup_fraction: f64,
    pub robust_training: bool,
    pub clean: Option<Stat>,
    /// Robust accuracy under `robust_attack`; runs of the point measured under another attack
    /// are left out of it (attacks are never mixed).
    pub robust: Option<Stat>,
    pub robust_attack: Option<String>,
    pub duration_s: Option<Stat>,
    pub images_per_s: Option<Stat>,
    /// Classes duplicated more than average, and the rest (skewed profiles only).
    pub over_classes: Vec<usize>,
    pub over_clean: Option<Stat>,
    pub other_clean: Option<Stat>,
    pub over_robust: Option<Stat>,
    pub other_robust: Option<Stat>,
    /// Per-class accuracy, mean over seeds (clean, robust).
    pub per_class_clean: Vec<f64>,
    pub per_class_robust: Vec<f64>,
    /// Group metrics at the last evaluation (runs that recorded them): mean loss of the
    /// duplicated originals, the unique sample and the test set, and the membership AUC of
    /// duplicated and unique images against the test set; the same AUCs on adversarial inputs.
    pub dup_loss: Option<Stat>,
    pub unique_loss: Option<Stat>,
    pub test_loss: Option<Stat>,
    pub dup_auc: Option<Stat>,
    pub unique_auc: Option<Stat>,
    pub dup_tpr_at_1: Option<Stat>,
    pub adv_dup_auc: Option<Stat>,
    pub adv_unique_auc: Option<Stat>,
    /// One entry per run, for paired statistics (seed → values).
    pub per_seed: Vec<SeedValues>,
}

/// What one run (one seed of a point) measured, as the paired statistics use it.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct SeedValues {
    pub id: String,
    pub seed: u64,
    pub clean: Option<f64>,
    pub robust: Option<f64>,
    pub dup_loss: Option<f64>,
    pub unique_loss: Option<f64>,
    pub test_loss: Option<f64>,
    pub dup_auc: Option<f64>,
    pub unique_auc: Option<f64>,
    pub adv_dup_auc: Option<f64>,
    pub adv_unique_auc: Option<f64>,
    /// Per-class clean and robust accuracy (class-level paired statistics).
    pub per_class_clean: Vec<f64>,
    pub per_class_robust: Vec<f64>,
}

impl SeedValues {
    fn of(id: &str, seed: u64, s: &crate::store::Summary) -> SeedValues {
        let g = s.groups.as_ref();
        let loss = |n: &str| Some(g?.groups.get(n)?.loss);
        let auc = |n: &str| Some(g?.membership.get(n)?.auc);
        let adv = |n: &str| Some(g?.adversarial.as_ref()?.membership.get(n)?.auc);
        SeedValues {
            id: id.to_string(),
            seed,
            clean: s.test_acc,
            robust: s.robust_acc,
            dup_loss: loss("duplicated"),
            unique_loss: loss("unique"),
            test_loss: loss("test"),
            dup_auc: auc("duplicated"),
            unique_auc: auc("unique"),
            adv_dup_auc: adv("duplicated"),
            adv_unique_auc: adv("unique"),
            per_class_clean: s.per_class_acc.clone(),
            per_class_robust: s.robust_per_class_acc.clone(),
        }
    }
}

fn mean_vectors(vs: &[&Vec<f64>]) -> Vec<f64> {
    let vs: Vec<&&Vec<f64>> = vs.iter().filter(|v| !v.is_empty()).collect();
    let Some(n) = vs.first().map(|v| v.len()) else {
        return vec![];
    };
    (0..n)
        .map(|i| vs.iter().filter_map(|v| v.get(i)).sum::<f64>() / vs.len() as f64)
        .collect()
}

impl PointStats {
    /// The point without duplication trained the same way: the control for a skewed point.
    pub fn baseline<'a>(&self, all: &'a [PointStats]) -> Option<&'a PointStats> {
        all.iter().find(|b| {
            b.dup_fraction == 0.0
                && b.robust_training == self.robust_training
                && b.training == self.training
        })
    }
}

#[derive(Debug, Clone, Copy, Serialize, PartialEq)]
pub struct Stat {
    pub mean: f64,
    pub std: f64,
    pub n: usize,
}

impl From<MeanStd> for Stat {
    fn from(m: MeanStd) -> Stat {
        Stat {
            mean: m.mean,
            std: m.std,
            n: m.n,
        }
    }
}

fn stat(v: &[f64]) -> Option<Stat> {
    mean_std(v).map(Stat::from)
}

/// Mean accuracy over the classes `classes`.
fn class_mean(acc: &[f64], classes: &[usize]) -> Option<f64> {
    let v: Vec<f64> = classes
        .iter()
        .filter_map(|&c| acc.get(c).copied())
        .collect();
    (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
}

/// Group finished runs by their point label (or preset + duplication when not from a sweep).
pub fn aggregate(runs: &[Run]) -> Vec<PointStats> {
    let mut groups: Vec<(String, Vec<&Run>)> = vec![];
    for r in runs {
        if r.status() != RunStatus::Finished {
            continue;
        }
        let Ok(c) = r.config() else { continue };
        let key = c.point.clone().unwrap_or_else(|| {
            format!(
                "{} {} {}",
                c.preset.name,
                c.preset.duplication.label(),
                c.preset.attack.train.label()
            )
        });
        match groups.iter_mut().find(|(k, _)| *k == key) {
            Some((_, v)) => v.push(r),
            None => groups.push((key, vec![r])),
        }
    }
    groups
        .into_iter()
        .map(|(label, runs)| {
            let cfgs: Vec<_> = runs.iter().filter_map(|r| r.config().ok()).collect();
            let sums: Vec<_> = runs.iter().map(|r| r.summary()).collect();
            let c0 = &cfgs[0];
            let total: usize = c0.plan_after.iter().sum();
            let before: usize = c0.plan_before.iter().sum();
            // Over-duplicated: a class whose share of copies is above the mean, when shares differ.
            let frac: Vec<f64> = c0
                .plan_after
                .iter()
                .zip(&c0.plan_before)
                .map(|(a, b)| (*a as f64 - *b as f64) / (*b).max(1) as f64)
                .collect();
            let mean_frac = frac.iter().sum::<f64>() / frac.len().max(1) as f64;
            let skewed = frac.iter().any(|f| (f - mean_frac).abs() > 1e-9);
            let over: Vec<usize> = if skewed {
                (0..frac.len()).filter(|&c| frac[c] > mean_frac).collect()
            } else {
                vec![]
            };
            let others: Vec<usize> = if skewed {
                (0..frac.len()).filter(|c| !over.contains(c)).collect()
            } else {
                vec![]
            };
            let per = |f: &dyn Fn(&crate::store::Summary) -> Option<f64>| -> Option<Stat> {
                stat(&sums.iter().filter_map(f).collect::<Vec<_>>())
            };
            let loss =
                |g: &'static str| per(&move |s| Some(s.groups.as_ref()?.groups.get(g)?.loss));
            let auc = |g: &'static str, adv: bool| {
                per(&move |s| {
                    let m = s.groups.as_ref()?;
                    let m = if adv { m.adversarial.as_deref()? } else { m };
                    Some(m.membership.get(g)?.auc)
                })
            };
            PointStats {
                label,
                seeds: cfgs.iter().map(|c| c.seed).collect(),
                training: c0.preset.attack.train.label(),
                duplication: c0.preset.duplication.label(),
                dup_fraction: (total as f64 - before as f64) / total.max(1) as f64,
                robust_training: c0.preset.attack.train.kind != crate::spec::AttackKind::None,
                clean: per(&|s| s.test_acc),
                robust: per(&|s| {
                    (s.robust_attack == sums[0].robust_attack)
                        .then_some(s.robust_acc)
                        .flatten()
                }),
                robust_attack: sums[0].robust_attack.clone(),
                duration_s: per(&|s| Some(s.duration_s)),
                images_per_s: per(&|s| s.images_per_s),
                over_clean: per(&|s| class_mean(&s.per_class_acc, &over)),
                other_clean: per(&|s| class_mean(&s.per_class_acc, &others)),
                over_robust: per(&|s| class_mean(&s.robust_per_class_acc, &over)),
                other_robust: per(&|s| class_mean(&s.robust_per_class_acc, &others)),
                over_classes: over,
                dup_loss: loss("duplicated"),
                unique_loss: loss("unique"),
                test_loss: loss("test"),
                dup_auc: auc("duplicated", false),
                unique_auc: auc("unique", false),
                dup_tpr_at_1: per(&|s| {
                    Some(s.groups.as_ref()?.membership.get("duplicated")?.tpr_at_1)
                }),
                adv_dup_auc: auc("duplicated", true),
                adv_unique_auc: auc("unique", true),
                per_seed: runs
                    .iter()
                    .zip(&cfgs)
                    .zip(&sums)
                    .map(|((r, c), s)| SeedValues::of(&r.id, c.seed, s))
                    .collect(),
                per_class_clean: mean_vectors(
                    &sums.iter().map(|s| &s.per_class_acc).collect::<Vec<_>>(),
                ),
                per_class_robust: mean_vectors(
                    &sums
                        .iter()
                        .map(|s| &s.robust_per_class_acc)
                        .collect::<Vec<_>>(),
                ),
            }
        })
        .collect()
}

fn pm(s: &Option<Stat>) -> String {
    match s {
        Some(s) if s.n > 1 => format!("{:.1} ± {:.1}", s.mean * 100.0, s.std * 100.0),
        Some(s) => format!("{:.1}", s.mean * 100.0),
        None => "-".into(),
    }
}

fn num(s: &Option<Stat>, digits: usize) -> String {
    s.map(|s| format!("{:.*}", digits, s.mean))
        .unwrap_or_else(|| "-".into())
}

/// The Markdown report: the main table, then the skewed-class table when there are skewed points.
pub fn markdown(title: &str, stats: &[PointStats]) -> String {
    let mut out = format!("# {title}\n\nAccuracy in %, mean ± sample std over seeds.\n\n");
    out.push_str("| point | training | duplication | copies | seeds | clean acc | robust acc | time (s) | images/s |\n|---|---|---|---|---|---|---|---|---|\n");
    for s in stats {
        out.push_str(&format!(
            "| {} | {} | {} | {:.1} % | {} | {} | {} | {} | {} |\n",
            s.label,
            s.training,
            s.duplication,
            s.dup_fraction * 100.0,
            s.seeds.len(),
            pm(&s.clean),
            pm(&s.robust),
            num(&s.duration_s, 0),
            num(&s.images_per_s, 0)
        ));
    }
    if stats.iter().any(|s| s.unique_loss.is_some()) {
        out.push_str(
            "\n## Memorisation: groups at the last evaluation\n\n\
             Mean cross-entropy of the duplicated originals, of a fixed sample of unique training \
             images and of the test set; membership AUC = a loss-threshold attack telling the group's \
             images from test images (0.5 = no leakage). Mean ± sample std over seeds.\n\n\
             | point | loss duplicated | loss unique | loss test | AUC duplicated | AUC unique | TPR@1% duplicated | adv. AUC duplicated | adv. AUC unique |\n\
             |---|---|---|---|---|---|---|---|---|\n",
        );
        let f = |s: &Option<Stat>, d: usize| match s {
            Some(s) if s.n > 1 => format!("{:.*} ± {:.*}", d, s.mean, d, s.std),
            Some(s) => format!("{:.*}", d, s.mean),
            None => "-".into(),
        };
        for s in stats {
            out.push_str(&format!(
                "| {} | {} | {} | {} | {} | {} | {} | {} | {} |\n",
                s.label,
                f(&s.dup_loss, 4),
                f(&s.unique_loss, 4),
                f(&s.test_loss, 4),
                f(&s.dup_auc, 3),
                f(&s.unique_auc, 3),
                f(
                    &s.dup_tpr_at_1.map(|t| Stat {
                        mean: t.mean * 100.0,
                        std: t.std * 100.0,
                        ..t
                    }),
                    1
                ),
                f(&s.adv_dup_auc, 3),
                f(&s.adv_unique_auc, 3),
            ));
        }
    }
    let mut attacks: Vec<&str> = stats
        .iter()
        .filter_map(|s| s.robust_attack.as_deref())
        .collect();
    attacks.dedup();
    match attacks.as_slice() {
        [] => {}
        [one] => out.push_str(&format!("\nRobust accuracy: under {one}.\n")),
        _ => {
            out.push_str("\nRobust accuracy, by point (attacks differ between points; compare only equal ones):\n\n");
            for s in stats {
                if let Some(a) = &s.robust_attack {
                    out.push_str(&format!("- {}: {a}\n", s.label));
                }
            }
        }
    }
    let skewed: Vec<&PointStats> = stats
        .iter()
        .filter(|s| !s.over_classes.is_empty())
        .collect();
    if !skewed.is_empty() {
        out.push_str("\n## Class-skewed points: over-duplicated classes vs the others\n\n");
        out.push_str(
            "Classes differ in difficulty, so each group is also shown in the control (the point without \
             duplication, trained the same way) and the change against it.\n\n",
        );
        out.push_str(
            "| point | over-duplicated classes | clean (over) | control | Δ | clean (others) | control | Δ \
             | robust (over) | control | Δ | robust (others) | control | Δ |\n\
             |---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n",
        );
        for s in skewed {
            let others: Vec<usize> = (0..s.per_class_clean.len())
                .filter(|c| !s.over_classes.contains(c))
                .collect();
            let base = s.baseline(stats);
            let cols = [
                (
                    &s.over_clean,
                    base.and_then(|b| class_mean(&b.per_class_clean, &s.over_classes)),
                ),
                (
                    &s.other_clean,
                    base.and_then(|b| class_mean(&b.per_class_clean, &others)),
                ),
                (
                    &s.over_robust,
                    base.and_then(|b| class_mean(&b.per_class_robust, &s.over_classes)),
                ),
                (
                    &s.other_robust,
                    base.and_then(|b| class_mean(&b.per_class_robust, &others)),
                ),
            ];
            out.push_str(&format!("| {} | {:?} |", s.label, s.over_classes));
            for (mine, control) in cols {
                let (c, d) = match (mine, control) {
                    (Some(m), Some(b)) => (
                        format!("{:.1}", b * 100.0),
                        format!("{:+.1}", (m.mean - b) * 100.0),
                    ),
                    _ => ("-".into(), "-".into()),
                };
                out.push_str(&format!(" {} | {c} | {d} |", pm(mine)));
            }
            out.push('\n');
        }
    }
    out
}

pub fn csv(stats: &[PointStats]) -> String {
    let mut out = String::from(
        "point,training,duplication,dup_fraction,seeds,clean_mean,clean_std,robust_mean,robust_std,time_s,images_per_s,over_clean_mean,other_clean_mean,over_robust_mean,other_robust_mean,dup_loss_mean,dup_loss_std,unique_loss_mean,unique_loss_std,test_loss_mean,test_loss_std,dup_auc_mean,dup_auc_std,unique_auc_mean,unique_auc_std,dup_tpr_at_1_mean,adv_dup_auc_mean,adv_unique_auc_mean\n",
    );
    let f = |s: &Option<Stat>, std: bool| {
        s.map(|s| format!("{:.6}", if std { s.std } else { s.mean }))
            .unwrap_or_default()
    };
    for s in stats {
        out.push_str(&format!(
            "\"{}\",\"{}\",\"{}\",{:.6},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}\n",
            s.label,
            s.training,
            s.duplication,
            s.dup_fraction,
            s.seeds.len(),
            f(&s.clean, false),
            f(&s.clean, true),
            f(&s.robust, false),
            f(&s.robust, true),
            f(&s.duration_s, false),
            f(&s.images_per_s, false),
            f(&s.over_clean, false),
            f(&s.other_clean, false),
            f(&s.over_robust, false),
            f(&s.other_robust, false),
            f(&s.dup_loss, false),
            f(&s.dup_loss, true),
            f(&s.unique_loss, false),
            f(&s.unique_loss, true),
            f(&s.test_loss, false),
            f(&s.test_loss, true),
            f(&s.dup_auc, false),
            f(&s.dup_auc, true),
            f(&s.unique_auc, false),
            f(&s.unique_auc, true),
            f(&s.dup_tpr_at_1, false),
            f(&s.adv_dup_auc, false),
            f(&s.adv_unique_auc, false)
        ));
    }
    out
}

/// One paired comparison of a report.
#[derive(Debug, Clone, Serialize)]
pub struct Comparison {
    pub what: String,
    pub metric: String,
    /// Scale applied for display (100 for accuracies in points).
    pub scale: f64,
    pub stats: super::paired::Paired,
}

fn pair_by_seed(
    a: &PointStats,
    b: &PointStats,
    f: impl Fn(&SeedValues) -> Option<f64>,
) -> Vec<f64> {
    a.per_seed
        .iter()
        .filter_map(|x| {
            let y = b.per_seed.iter().find(|y| y.seed == x.seed)?;
            Some(f(x)? - f(y)?)
        })
        .collect()
}

/// Every paired comparison a sweep supports, Holm-corrected together:
/// each duplicated point against its control (same training, no duplication), by seed;
/// within each run, duplicated images against unique ones; and adversarial against standard
/// training at the same duplication, on that within-run gap.
pub fn comparisons(stats: &[PointStats]) -> Vec<Comparison> {
    let mut out = vec![];
    let mut push = |what: String, metric: &str, scale: f64, diffs: Vec<f64>| {
        if let Some(p) = super::paired::paired(&diffs) {
            out.push(Comparison {
                what,
                metric: metric.into(),
                scale,
                stats: p,
            });
        }
    };
    for s in stats {
        if let Some(c) = s.baseline(stats).filter(|c| c.label != s.label) {
            let what = format!("{} − {}", s.label, c.label);
            push(
                what.clone(),
                "clean acc (points)",
                100.0,
                pair_by_seed(s, c, |v| v.clean),
            );
            push(
                what.clone(),
                "robust acc (points)",
                100.0,
                pair_by_seed(s, c, |v| v.robust),
            );
            // Class-skewed points: the over-duplicated classes and the others, each against the
            // same classes in the control.
            if !s.over_classes.is_empty() {
                let over = s.over_classes.clone();
                let others: Vec<usize> = (0..s.per_class_clean.len())
                    .filter(|k| !over.contains(k))
                    .collect();
                for (metric, classes, robust) in [
                    ("over-duplicated classes, clean acc (points)", &over, false),
                    ("the other classes, clean acc (points)", &others, false),
                    ("over-duplicated classes, robust acc (points)", &over, true),
                    ("the other classes, robust acc (points)", &others, true),
                ] {
                    let m = |v: &SeedValues| {
                        let acc = if robust {
                            &v.per_class_robust
                        } else {
                            &v.per_class_clean
                        };
                        class_mean(acc, classes)
                    };
                    push(what.clone(), metric, 100.0, pair_by_seed(s, c, m));
                }
            }
        }
    }
    let within = |v: &SeedValues,
                  f: fn(&SeedValues) -> Option<f64>,
                  g: fn(&SeedValues) -> Option<f64>| { Some(f(v)? - g(v)?) };
    // Within-run duplicated − unique only where the duplicated images are a sample of every
    // class: under a class-skewed plan they come from the over-duplicated classes alone, and the
    // gap would measure class difficulty, not memorisation.
    for s in stats.iter().filter(|s| s.over_classes.is_empty()) {
        let d = |f, g| {
            s.per_seed
                .iter()
                .filter_map(|v| within(v, f, g))
                .collect::<Vec<_>>()
        };
        let what = format!("{}: duplicated − unique", s.label);
        push(
            what.clone(),
            "loss",
            1.0,
            d(|v| v.dup_loss, |v| v.unique_loss),
        );
        push(
            what.clone(),
            "membership AUC",
            1.0,
            d(|v| v.dup_auc, |v| v.unique_auc),
        );
        push(
            what,
            "adversarial membership AUC",
            1.0,
            d(|v| v.adv_dup_auc, |v| v.adv_unique_auc),
        );
    }
    // Adversarial vs standard training at the same duplication: the within-run AUC gap.
    for r in stats
        .iter()
        .filter(|s| s.robust_training && s.over_classes.is_empty())
    {
        let Some(st) = stats.iter().find(|s| {
            !s.robust_training && s.duplication == r.duplication && s.dup_fraction == r.dup_fraction
        }) else {
            continue;
        };
        let gap = |v: &SeedValues| Some(v.dup_auc? - v.unique_auc?);
        push(
            format!("{} vs {}: (duplicated − unique) AUC", r.label, st.label),
            "difference of gaps",
            1.0,
            pair_by_seed(r, st, gap),
        );
    }
    let mut refs: Vec<&mut super::paired::Paired> = out.iter_mut().map(|c| &mut c.stats).collect();
    super::paired::holm(&mut refs);
    out
}

/// The paired comparisons as a Markdown table.
pub fn comparisons_markdown(cs: &[Comparison]) -> String {
    if cs.is_empty() {
        return String::new();
    }
    let mut out = String::from(
        "\n## Paired differences\n\nEach difference is taken per seed (same seed = same initial weights; \
         the control is the point without duplication trained the same way, or, for \
         \"duplicated − unique\", the same run). 95 % confidence interval and p-value from a paired \
         t-test; p (Holm) corrects across every comparison below; MDE = the smallest true \
         difference these seeds detect with 80 % power at α 0.05. An interval that contains 0 means \
         no detectable effect. Class-skewed points are compared class group by class group (the \
         over-duplicated classes, the others) with their control; their duplicated − unique gap is \
         left out, as their duplicated images come from the over-duplicated classes only.\n\n\
         | comparison | metric | seeds | mean Δ | 95 % CI | p | p (Holm) | MDE |\n\
         |---|---|---|---|---|---|---|---|\n",
    );
    for c in cs {
        let s = &c.stats;
        let k = c.scale;
        let d = if k == 100.0 { 2 } else { 4 };
        out.push_str(&format!(
            "| {} | {} | {} | {:+.d$} | [{:+.d$}, {:+.d$}] | {:.3} | {:.3} | {:.d$} |\n",
            c.what,
            c.metric,
            s.n,
            s.mean * k,
            s.lo * k,
            s.hi * k,
            s.p,
            s.p_holm,
            s.mde * k,
        ));
    }
    out
}

/// One row per run: what the paired statistics are computed from, so a reader can recompute them.
pub fn runs_csv(stats: &[PointStats]) -> String {
    let mut out = String::from(
        "point,id,seed,clean_acc,robust_acc,dup_loss,unique_loss,test_loss,dup_auc,unique_auc,adv_dup_auc,adv_unique_auc\n",
    );
    let classes = stats
        .iter()
        .flat_map(|s| s.per_seed.iter().map(|v| v.per_class_clean.len()))
        .max()
        .unwrap_or(0);
    // Per-class clean and robust accuracy, so class-level statistics can be recomputed too.
    out.pop();
    for k in 0..classes {
        out.push_str(&format!(",clean_c{k}"));
    }
    for k in 0..classes {
        out.push_str(&format!(",robust_c{k}"));
    }
    out.push('\n');
    let f = |v: Option<f64>| v.map(|x| format!("{x:.6}")).unwrap_or_default();
    for s in stats {
        for v in &s.per_seed {
            let per_class = |acc: &Vec<f64>| -> String {
                (0..classes)
                    .map(|k| format!(",{}", f(acc.get(k).copied().filter(|x| x.is_finite()))))
                    .collect()
            };
            out.push_str(&format!(
                "\"{}\",{},{},{},{},{},{},{},{},{},{},{}{}{}\n",
                s.label,
                v.id,
                v.seed,
                f(v.clean),
                f(v.robust),
                f(v.dup_loss),
                f(v.unique_loss),
                f(v.test_loss),
                f(v.dup_auc),
                f(v.unique_auc),
                f(v.adv_dup_auc),
                f(v.adv_unique_auc),
                per_class(&v.per_class_clean),
                per_class(&v.per_class_robust)
            ));
        }
    }
    out
}
