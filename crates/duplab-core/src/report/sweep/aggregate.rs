//! From runs to points and their paired comparisons: pure functions, unit-tested against
//! hand-computed values. The study's headline numbers are made here.

use super::facts::RunFacts;
use super::{Comparison, PointStats, SeedValues, Stat};
use crate::measures::Group;
use crate::report::mean_std;
use crate::store::Summary;

/// Group runs by point (runs of one point differ only by seed) and summarise each point over
/// its seeds. Pure: the same facts give the same points, in the order points first appear.
pub fn aggregate(runs: &[RunFacts]) -> Vec<PointStats> {
    let mut groups: Vec<(String, Vec<&RunFacts>)> = vec![];
    for r in runs {
        match groups.iter_mut().find(|(k, _)| *k == r.point) {
            Some((_, v)) => v.push(r),
            None => groups.push((r.point.clone(), vec![r])),
        }
    }
    groups
        .into_iter()
        .map(|(label, runs)| {
            let sums: Vec<&Summary> = runs.iter().map(|r| &r.summary).collect();
            let c0 = runs[0];
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
            let per = |f: &dyn Fn(&Summary) -> Option<f64>| -> Option<Stat> {
                mean_std(&sums.iter().copied().filter_map(f).collect::<Vec<_>>())
            };
            let loss = |g: Group| per(&move |s| Some(s.groups.as_ref()?.group(g)?.loss));
            let auc = |g: Group, adv: bool| {
                per(&move |s| {
                    let m = s.groups.as_ref()?;
                    let m = if adv { m.adversarial.as_deref()? } else { m };
                    Some(m.membership_of(g)?.auc)
                })
            };
            PointStats {
                label,
                seeds: runs.iter().map(|r| r.seed).collect(),
                training: c0.training.clone(),
                duplication: c0.duplication.clone(),
                dup_fraction: (total as f64 - before as f64) / total.max(1) as f64,
                robust_training: c0.robust_training,
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
                dup_loss: loss(Group::Duplicated),
                unique_loss: loss(Group::Unique),
                test_loss: loss(Group::Test),
                dup_auc: auc(Group::Duplicated, false),
                unique_auc: auc(Group::Unique, false),
                dup_tpr_at_1: per(&|s| {
                    Some(
                        s.groups
                            .as_ref()?
                            .membership_of(Group::Duplicated)?
                            .tpr_at_1,
                    )
                }),
                adv_dup_auc: auc(Group::Duplicated, true),
                adv_unique_auc: auc(Group::Unique, true),
                dup_margin_auc: per(&|s| {
                    Some(
                        s.groups
                            .as_ref()?
                            .margin_membership_of(Group::Duplicated)?
                            .auc,
                    )
                }),
                unique_margin_auc: per(&|s| {
                    Some(s.groups.as_ref()?.margin_membership_of(Group::Unique)?.auc)
                }),
                per_seed: runs
                    .iter()
                    .map(|r| SeedValues::of(&r.id, r.seed, &r.summary))
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

fn mean_vectors(vs: &[&Vec<f64>]) -> Vec<f64> {
    let vs: Vec<&&Vec<f64>> = vs.iter().filter(|v| !v.is_empty()).collect();
    let Some(n) = vs.first().map(|v| v.len()) else {
        return vec![];
    };
    (0..n)
        .map(|i| vs.iter().filter_map(|v| v.get(i)).sum::<f64>() / vs.len() as f64)
        .collect()
}

/// Mean accuracy over the classes `classes`.
pub(super) fn class_mean(acc: &[f64], classes: &[usize]) -> Option<f64> {
    let v: Vec<f64> = classes
        .iter()
        .filter_map(|&c| acc.get(c).copied())
        .collect();
    (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
}

/// Every paired comparison a sweep supports when no family was declared (`auto_family`),
/// Holm-corrected together at α 0.05.
pub fn comparisons(stats: &[PointStats]) -> Vec<Comparison> {
    let family = super::family::auto_family(stats);
    super::family::evaluate(stats, &family, 0.05, false).comparisons
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    fn run(point: &str, seed: u64, after: usize, clean: f64) -> RunFacts {
        RunFacts {
            id: format!("{point}-{seed}"),
            seed,
            point: point.into(),
            training: "none".into(),
            duplication: if after == 10 { "none" } else { "uniform" }.into(),
            robust_training: false,
            plan_before: vec![10, 10],
            plan_after: vec![after, after],
            summary: Summary {
                test_acc: Some(clean),
                ..Default::default()
            },
        }
    }

    /// A control with seeds 1–4 and two duplicated points with seeds 1–3, in mixed order.
    pub(in crate::report::sweep) fn sweep() -> Vec<RunFacts> {
        vec![
            run("base", 1, 10, 0.70),
            run("dup", 2, 12, 0.74),
            run("base", 2, 10, 0.72),
            run("dup2", 1, 12, 0.69),
            run("base", 3, 10, 0.74),
            run("dup", 1, 12, 0.71),
            run("dup2", 2, 12, 0.72),
            run("base", 4, 10, 0.76),
            run("dup", 3, 12, 0.77),
            run("dup2", 3, 12, 0.78),
        ]
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-6
    }

    #[test]
    fn runs_group_by_point_with_mean_and_sample_std_over_seeds() {
        let points = aggregate(&sweep());
        let labels: Vec<&str> = points.iter().map(|p| p.label.as_str()).collect();
        assert_eq!(
            labels,
            ["base", "dup", "dup2"],
            "in order of first appearance"
        );
        let base = &points[0];
        assert_eq!(base.seeds, [1, 2, 3, 4]);
        let c = base.clean.unwrap();
        // mean 0.73; sample std sqrt((0.03² + 0.01² + 0.01² + 0.03²) / 3).
        assert!(
            close(c.mean, 0.73) && close(c.std, (0.002f64 / 3.0).sqrt()),
            "{c:?}"
        );
        assert_eq!(c.n, 4);
        assert!(close(base.dup_fraction, 0.0));
        assert!(close(points[1].dup_fraction, 4.0 / 24.0));
        assert!(
            points[1].over_classes.is_empty(),
            "uniform duplication has no skew"
        );
        assert_eq!(
            points[1].baseline(&points).map(|b| b.label.as_str()),
            Some("base")
        );
    }

    /// Each point against its control, paired by seed (seed 4 of the control has no partner),
    /// Holm-corrected across the two comparisons. Values computed by hand with the closed form of
    /// Student's t at 2 degrees of freedom: F(t) = 1/2 + t / (2 √(2 + t²)).
    #[test]
    fn comparisons_pair_by_seed_and_are_holm_corrected_together() {
        let cs = comparisons(&aggregate(&sweep()));
        assert_eq!(
            cs.len(),
            2,
            "clean accuracy of two points; nothing else was measured"
        );
        let (a, b) = (&cs[0], &cs[1]);
        assert_eq!(
            (a.what.as_str(), b.what.as_str()),
            ("dup − base", "dup2 − base")
        );
        assert_eq!((a.metric.as_str(), a.scale), ("clean acc (points)", 100.0));

        // dup − base: differences 0.01, 0.02, 0.03; sd 0.01, se 0.01/√3, t = 2√3.
        let s = a.stats;
        let se = 0.01 / 3f64.sqrt();
        let t975 = 4.302_652_73;
        assert_eq!(s.n, 3);
        assert!(close(s.mean, 0.02) && close(s.sd, 0.01));
        assert!(close(s.lo, 0.02 - t975 * se) && close(s.hi, 0.02 + t975 * se));
        let t = 0.02 / se;
        let p = 1.0 - t / (2.0 + t * t).sqrt();
        assert!(close(s.p, p) && close(p, 0.074_179_9), "{}", s.p);
        // Exact 80 % power at 2 df: 5.6535 standard errors (SciPy, power.rs).
        assert!(close(s.mde, 5.653_489_266 * se));

        // dup2 − base: differences −0.01, 0, 0.04; mean 0.01, sd √0.0007.
        let s2 = b.stats;
        let se2 = 0.0007f64.sqrt() / 3f64.sqrt();
        let t2 = 0.01 / se2;
        let p2 = 1.0 - t2 / (2.0 + t2 * t2).sqrt();
        assert!(close(s2.mean, 0.01) && close(s2.p, p2));

        // Holm: the smaller p times 2, the larger times 1, kept monotone.
        assert!(close(s.p_holm, 2.0 * p), "{}", s.p_holm);
        assert!(close(s2.p_holm, p2.max(2.0 * p)), "{}", s2.p_holm);
    }

    #[test]
    fn a_point_without_a_control_is_compared_with_nothing() {
        let only_dup: Vec<RunFacts> = sweep().into_iter().filter(|r| r.point != "base").collect();
        assert!(comparisons(&aggregate(&only_dup)).is_empty());
    }
}
