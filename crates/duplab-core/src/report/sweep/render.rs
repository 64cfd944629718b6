//! A sweep's report as text: the Markdown tables and the CSV files. Pure functions of the
//! aggregates; nothing here reads the disk or computes a statistic.

use super::aggregate::class_mean;
use super::{Comparison, Family, PointStats, Stat, verdict};

pub(super) fn pm(s: &Option<Stat>) -> String {
    match s {
        Some(s) if s.n > 1 => format!("{:.1} ± {:.1}", s.mean * 100.0, s.std * 100.0),
        Some(s) => format!("{:.1}", s.mean * 100.0),
        None => "-".into(),
    }
}

/// Mean ± sample std with `d` decimals (the mean alone for one seed; "-" when absent).
pub(super) fn mean_sd(s: &Option<Stat>, d: usize) -> String {
    match s {
        Some(s) if s.n > 1 => format!("{:.*} ± {:.*}", d, s.mean, d, s.std),
        Some(s) => format!("{:.*}", d, s.mean),
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
             images from test images (0.5 = no leakage). Mean ± sample std over seeds. TPR at a \
             low FPR is not shown here: a few thousand test images cannot resolve it and runs of \
             earlier versions computed it tie-exact, below chance (0.0 % at 1 % FPR); it comes \
             from reference models (`duplab membership`, docs/membership.md).\n\n\
             | point | loss duplicated | loss unique | loss test | AUC duplicated | AUC unique | adv. AUC duplicated | adv. AUC unique |\n\
             |---|---|---|---|---|---|---|---|\n",
        );
        let f = mean_sd;
        for s in stats {
            out.push_str(&format!(
                "| {} | {} | {} | {} | {} | {} | {} | {} |\n",
                s.label,
                f(&s.dup_loss, 4),
                f(&s.unique_loss, 4),
                f(&s.test_loss, 4),
                f(&s.dup_auc, 3),
                f(&s.unique_auc, 3),
                f(&s.adv_dup_auc, 3),
                f(&s.adv_unique_auc, 3),
            ));
        }
    }
    if stats.iter().any(|s| s.unique_margin_auc.is_some()) {
        out.push_str(
            "\n## Membership by logit margin\n\nThe same membership inference on the logit margin \
             φ = z_y − log Σ_{j≠y} e^{z_j} (f64) instead of the loss: the score without ties. \
             Mean ± sample std over seeds.\n\n\
             | point | AUC duplicated | AUC unique |\n|---|---|---|\n",
        );
        let f = |s: &Option<Stat>| mean_sd(s, 3);
        for s in stats {
            out.push_str(&format!(
                "| {} | {} | {} |\n",
                s.label,
                f(&s.dup_margin_auc),
                f(&s.unique_margin_auc)
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

/// A comparison's numbers as the tables print them: mean Δ, its 95 % CI, with the digits its
/// scale calls for (accuracies in points to 2 decimals, losses and AUCs to 4).
pub fn delta_ci(c: &Comparison) -> String {
    let (s, k) = (&c.stats, c.scale);
    let d = if k == 100.0 { 2 } else { 4 };
    format!("{:+.d$} [{:+.d$}, {:+.d$}]", s.mean * k, s.lo * k, s.hi * k)
}

/// A p-value as the tables print it: three decimals, and below 0.001 as "< 0.001".
pub fn p_str(p: f64) -> String {
    if p < 0.001 {
        "< 0.001".into()
    } else {
        format!("{p:.3}")
    }
}

/// The comparison family as a Markdown table. The verdict column and the bold come from
/// `Comparison::significant` (Holm-adjusted p below the family's level), never from a hand.
pub fn comparisons_markdown(f: &Family) -> String {
    if f.comparisons.is_empty() && f.missing.is_empty() {
        return String::new();
    }
    let declared = if f.declared {
        format!(
            "the comparison family the grid file declares ({} tests)",
            f.size
        )
    } else {
        format!(
            "every comparison these runs allow ({} tests; the grid declared no family, so this is exploratory)",
            f.size
        )
    };
    let mut out = format!(
        "\n## Paired differences\n\nEach difference is taken per seed (same seed = same initial weights; \
         the control is the point named after the minus sign, or, for \"duplicated − unique\", the \
         same run; an interaction is one effect minus another, paired by seed). 95 % confidence \
         interval and p-value from a paired t-test; p (Holm) corrects across {declared} at α {}; \
         **bold** = significant after that correction, otherwise \"no detectable effect\". MDE = the \
         smallest true difference these seeds detect with 80 % power (exact, noncentral t) at \
         Holm's first step, α/m = {:.4}: a smaller effect can hide behind \"no detectable effect\". \
         Class-skewed points are compared class group by class group (the over-duplicated classes, \
         the others) with their control.\n\n\
         | comparison | metric | seeds | mean Δ [95 % CI] | p | p (Holm) | MDE (α/m) | verdict |\n\
         |---|---|---|---|---|---|---|---|\n",
        f.alpha,
        f.alpha / f.size.max(1) as f64,
    );
    for c in &f.comparisons {
        let s = &c.stats;
        let d = if c.scale == 100.0 { 2 } else { 4 };
        let bold = |t: String| if c.significant { format!("**{t}**") } else { t };
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {:.d$} | {} |\n",
            c.what,
            c.metric,
            s.n,
            bold(delta_ci(c)),
            p_str(s.p),
            bold(p_str(s.p_holm)),
            s.mde_holm * c.scale,
            verdict(c.significant),
        ));
    }
    for m in &f.missing {
        out.push_str(&format!(
            "| {} | {} | - | - | - | - | - | no data: {} |\n",
            m.what, m.metric, m.why
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

#[cfg(test)]
mod tests {
    use super::super::aggregate;
    use super::super::aggregate::tests::sweep;
    use super::*;

    /// The tables say what the hand-computed statistics of `aggregate`'s tests say, to the digit.
    #[test]
    fn the_tables_print_the_hand_computed_numbers() {
        let points = aggregate(&sweep());
        let md = markdown("Sweep t", &points);
        assert!(md.starts_with("# Sweep t\n"), "{md}");
        // base: 70, 72, 74, 76 → 73.0 ± 2.6; dup: 71, 74, 77 → 74.0 ± 3.0.
        assert!(
            md.contains("| base | none | none | 0.0 % | 4 | 73.0 ± 2.6 | - |"),
            "{md}"
        );
        assert!(
            md.contains("| dup | none | uniform | 16.7 % | 3 | 74.0 ± 3.0 | - |"),
            "{md}"
        );
        let family =
            super::super::evaluate(&points, &super::super::auto_family(&points), 0.05, false);
        let cmp = comparisons_markdown(&family);
        // Differences 1, 2, 3 points: mean +2.00, 95 % CI ±4.30·(1/√3), p 0.074, Holm ×2; MDE
        // at α/2 = 0.025 with 2 df, exact power: 8.0104 standard errors (SciPy) · (1/√3) = 4.62.
        assert!(
            cmp.contains("| dup − base | clean acc (points) | 3 | +2.00 [-0.48, +4.48] | 0.074 | 0.148 | 4.62 | no detectable effect |"),
            "{cmp}"
        );
        assert!(
            cmp.contains("exploratory") && cmp.contains("(2 tests"),
            "{cmp}"
        );
    }

    #[test]
    fn the_per_run_csv_has_one_row_a_run_for_recomputing() {
        let csv = runs_csv(&aggregate(&sweep()));
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(
            lines[0],
            "point,id,seed,clean_acc,robust_acc,dup_loss,unique_loss,test_loss,dup_auc,unique_auc,adv_dup_auc,adv_unique_auc"
        );
        assert_eq!(lines.len(), 11, "a header and ten runs");
        assert!(lines.contains(&"\"dup\",dup-1,1,0.710000,,,,,,,,"), "{csv}");
        let point_csv = super::csv(&aggregate(&sweep()));
        assert!(
            point_csv
                .lines()
                .nth(1)
                .unwrap()
                .starts_with("\"base\",\"none\",\"none\",0.000000,4,0.730000,0.025820,"),
            "{point_csv}"
        );
    }
}
