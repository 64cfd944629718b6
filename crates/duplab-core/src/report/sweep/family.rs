//! A report's comparison family: the tests a grid declared (`spec::family`), or, when it declared
//! none, every comparison the runs allow; each one a paired t-test by seed, Holm-corrected across
//! the family at its level, with the MDE at Holm's first step. Whether a comparison is called
//! significant is decided here, once, and every table and sentence that says so reads it.

use super::aggregate::class_mean;
use super::{Comparison, PointStats, SeedValues};
use crate::report::paired::{Paired, holm_family, paired};
use crate::spec::{Declared, EffectRef, family_size};
use serde::{Deserialize, Serialize};

/// What a report tested, and how.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Family {
    /// Declared in the grid file (false: every comparison the runs allow, exploratory).
    pub declared: bool,
    /// The family's level.
    pub alpha: f64,
    /// Holm's m: the number of tests, declared ones without data included.
    pub size: usize,
    pub comparisons: Vec<Comparison>,
    /// Declared tests the runs gave no data for, and why: each still counts in m.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub missing: Vec<Missing>,
}

/// A declared test without data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Missing {
    pub what: String,
    pub metric: String,
    pub why: String,
}

/// The words a comparison earns: significant after Holm at the family's level, or not.
pub fn verdict(significant: bool) -> &'static str {
    if significant {
        "significant"
    } else {
        "no detectable effect"
    }
}

/// The family the runs allow when none was declared: each duplicated point against its control
/// (clean and robust accuracy; class groups for class-skewed points), the within-run gap
/// duplicated − unique of every point duplicated across all classes, and adversarial minus
/// standard training on that gap's membership AUC at the same duplication.
pub fn auto_family(stats: &[PointStats]) -> Vec<Declared> {
    let mut out = vec![];
    for s in stats {
        if let Some(c) = s.baseline(stats).filter(|c| c.label != s.label) {
            let mut metrics = vec!["clean".to_string(), "robust".to_string()];
            if !s.over_classes.is_empty() {
                for m in [
                    "clean[over]",
                    "clean[others]",
                    "robust[over]",
                    "robust[others]",
                ] {
                    metrics.push(m.into());
                }
            }
            out.push(Declared {
                effect: contrast(&s.label, &c.label),
                minus: None,
                metrics,
            });
        }
    }
    // Within-run duplicated − unique only where the duplicated images are a sample of every
    // class: under a class-skewed plan they come from the over-duplicated classes alone, and the
    // gap would measure class difficulty, not memorisation.
    for s in stats.iter().filter(|s| s.over_classes.is_empty()) {
        out.push(Declared {
            effect: gap(&s.label),
            minus: None,
            metrics: vec!["loss".into(), "auc".into(), "adv_auc".into()],
        });
    }
    for r in stats
        .iter()
        .filter(|s| s.robust_training && s.over_classes.is_empty())
    {
        if let Some(st) = stats.iter().find(|s| {
            !s.robust_training && s.duplication == r.duplication && s.dup_fraction == r.dup_fraction
        }) {
            out.push(Declared {
                effect: gap(&r.label),
                minus: Some(gap(&st.label)),
                metrics: vec!["auc".into()],
            });
        }
    }
    out
}

fn contrast(point: &str, control: &str) -> EffectRef {
    EffectRef {
        point: point.into(),
        control: Some(control.into()),
    }
}

fn gap(point: &str) -> EffectRef {
    EffectRef {
        point: point.into(),
        control: None,
    }
}

/// Test every declared metric (Holm over `family_size(family)` tests at `alpha`).
pub fn evaluate(stats: &[PointStats], family: &[Declared], alpha: f64, declared: bool) -> Family {
    let mut comparisons = vec![];
    let mut missing = vec![];
    for d in family {
        for metric in &d.metrics {
            let what = describe(&d.effect, d.minus.as_ref());
            let mut lack = |why: String| {
                missing.push(Missing {
                    what: what.clone(),
                    metric: metric_label(metric).into(),
                    why,
                })
            };
            let values = |e: &EffectRef| effect_values(stats, e, metric);
            let a = match values(&d.effect) {
                Ok(a) => a,
                Err(why) => {
                    lack(why);
                    continue;
                }
            };
            let diffs: Vec<f64> = match &d.minus {
                None => a.iter().map(|(_, v)| *v).collect(),
                Some(m) => match values(m) {
                    Ok(b) => a
                        .iter()
                        .filter_map(|(seed, x)| Some(x - b.iter().find(|(s, _)| s == seed)?.1))
                        .collect(),
                    Err(why) => {
                        lack(why);
                        continue;
                    }
                },
            };
            let Some(stats) = paired(&diffs) else {
                lack(format!(
                    "{} seed(s) with this metric on both sides; a paired test needs 2",
                    diffs.len()
                ));
                continue;
            };
            comparisons.push(Comparison {
                what,
                metric: metric_label(metric).into(),
                kind: match (&d.minus, d.effect.is_gap()) {
                    (Some(_), _) => "interaction",
                    (None, true) => "gap",
                    (None, false) => "effect",
                }
                .into(),
                scale: if metric.starts_with("clean") || metric.starts_with("robust") {
                    100.0
                } else {
                    1.0
                },
                stats,
                significant: false,
            });
        }
    }
    let size = if declared {
        family_size(family)
    } else {
        comparisons.len()
    };
    let mut refs: Vec<&mut Paired> = comparisons.iter_mut().map(|c| &mut c.stats).collect();
    holm_family(&mut refs, size, alpha);
    for c in &mut comparisons {
        c.significant = c.stats.p_holm < alpha;
    }
    Family {
        declared,
        alpha,
        size,
        comparisons,
        // Not declared: the family is what the runs allow, nothing is missing from it.
        missing: if declared { missing } else { vec![] },
    }
}

fn describe(e: &EffectRef, minus: Option<&EffectRef>) -> String {
    let one = |e: &EffectRef| match &e.control {
        Some(c) => format!("{} − {}", e.point, c),
        None => format!("{}: duplicated − unique", e.point),
    };
    match minus {
        None => one(e),
        Some(m) => format!("({}) − ({})", one(e), one(m)),
    }
}

/// How a metric is named in the tables.
pub fn metric_label(m: &str) -> &'static str {
    match m {
        "clean" => "clean acc (points)",
        "robust" => "robust acc (points)",
        "clean[over]" => "over-duplicated classes, clean acc (points)",
        "clean[others]" => "the other classes, clean acc (points)",
        "robust[over]" => "over-duplicated classes, robust acc (points)",
        "robust[others]" => "the other classes, robust acc (points)",
        "unique_loss" => "loss of the unique images",
        "unique_auc" => "membership AUC of the unique images",
        "dup_vs_control_unique_loss" => "loss, duplicated vs the control's unique images",
        "dup_vs_control_unique_auc" => "membership AUC, duplicated vs the control's unique images",
        "dup_vs_control_unique_margin_auc" => {
            "margin membership AUC, duplicated vs the control's unique images"
        }
        "adv_dup_vs_control_unique_auc" => {
            "adversarial membership AUC, duplicated vs the control's unique images"
        }
        "loss" => "loss",
        "auc" => "membership AUC",
        "adv_auc" => "adversarial membership AUC",
        "margin_auc" => "membership AUC by logit margin",
        _ => "unknown metric",
    }
}

/// An effect's value for each seed that has one; why there is none when a point or the metric
/// is missing.
fn effect_values(
    stats: &[PointStats],
    e: &EffectRef,
    metric: &str,
) -> Result<Vec<(u64, f64)>, String> {
    let find = |label: &str| {
        stats
            .iter()
            .find(|s| s.label == label)
            .ok_or_else(|| format!("no finished run of point {label}"))
    };
    let p = find(&e.point)?;
    let Some(control) = &e.control else {
        let f = gap_metric(metric).ok_or_else(|| format!("`{metric}` is not a gap metric"))?;
        return Ok(p
            .per_seed
            .iter()
            .filter_map(|v| Some((v.seed, f(v)?)))
            .collect());
    };
    let c = find(control)?;
    let others: Vec<usize> = (0..p.per_class_clean.len().max(p.per_class_robust.len()))
        .filter(|k| !p.over_classes.contains(k))
        .collect();
    let classes = |v: &SeedValues, robust: bool, over: bool| {
        if p.over_classes.is_empty() {
            return None;
        }
        let acc = if robust {
            &v.per_class_robust
        } else {
            &v.per_class_clean
        };
        class_mean(acc, if over { &p.over_classes } else { &others })
    };
    let value = |v: &SeedValues, w: &SeedValues| -> Option<f64> {
        Some(match metric {
            "clean" => v.clean? - w.clean?,
            "robust" => v.robust? - w.robust?,
            "clean[over]" => classes(v, false, true)? - classes(w, false, true)?,
            "clean[others]" => classes(v, false, false)? - classes(w, false, false)?,
            "robust[over]" => classes(v, true, true)? - classes(w, true, true)?,
            "robust[others]" => classes(v, true, false)? - classes(w, true, false)?,
            "unique_loss" => v.unique_loss? - w.unique_loss?,
            "unique_auc" => v.unique_auc? - w.unique_auc?,
            "dup_vs_control_unique_loss" => v.dup_loss? - w.unique_loss?,
            "dup_vs_control_unique_auc" => v.dup_auc? - w.unique_auc?,
            "dup_vs_control_unique_margin_auc" => v.dup_margin_auc? - w.unique_margin_auc?,
            "adv_dup_vs_control_unique_auc" => v.adv_dup_auc? - w.adv_unique_auc?,
            _ => return None,
        })
    };
    Ok(p.per_seed
        .iter()
        .filter_map(|v| {
            let w = c.per_seed.iter().find(|w| w.seed == v.seed)?;
            Some((v.seed, value(v, w)?))
        })
        .collect())
}

fn gap_metric(metric: &str) -> Option<fn(&SeedValues) -> Option<f64>> {
    Some(match metric {
        "loss" => |v| Some(v.dup_loss? - v.unique_loss?),
        "auc" => |v| Some(v.dup_auc? - v.unique_auc?),
        "adv_auc" => |v| Some(v.adv_dup_auc? - v.adv_unique_auc?),
        "margin_auc" => |v| Some(v.dup_margin_auc? - v.unique_margin_auc?),
        _ => return None,
    })
}
