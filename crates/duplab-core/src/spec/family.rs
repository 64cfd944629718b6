//! A study's comparison family, declared in its grid file before it runs: which effects the
//! report tests, so that Holm's correction covers exactly the claims made — no more (a report
//! that tests everything it can dilutes its power) and no fewer (a claim picked after looking
//! escapes the correction).
//!
//! ```toml
//! alpha = 0.05                     # the family's level (default 0.05)
//!
//! [[family]]                       # an effect: a point against its control, paired by seed
//! effect = { point = "training=standard,duplication=skewed", control = "training=standard,duplication=none" }
//! metrics = ["clean[others]"]
//!
//! [[family]]                       # a within-run gap: duplicated − unique images of one point
//! effect = { point = "training=standard,duplication=10x4" }
//! metrics = ["loss"]
//!
//! [[family]]                       # an interaction: one effect minus another, paired by seed
//! effect = { point = "training=fgsm-rs,duplication=skewed", control = "training=fgsm-rs,duplication=none" }
//! minus = { point = "training=standard,duplication=skewed", control = "training=standard,duplication=none" }
//! metrics = ["clean[others]"]
//! ```

use serde::{Deserialize, Serialize};

/// One side of a comparison: a point against its control (`control` given), or the within-run
/// gap duplicated − unique of one point (`control` absent).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EffectRef {
    pub point: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub control: Option<String>,
}

impl EffectRef {
    pub fn is_gap(&self) -> bool {
        self.control.is_none()
    }
}

/// One declared entry: an effect (or the difference of two) on one or more metrics; each
/// metric is one test of the family.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Declared {
    pub effect: EffectRef,
    /// An interaction: `effect` minus this effect, paired by seed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minus: Option<EffectRef>,
    pub metrics: Vec<String>,
}

/// Metrics of a point against its control (the point's value minus the control's, by seed).
/// `[over]` and `[others]` are the class-skewed point's over-duplicated classes and the rest;
/// `*_vs_control_unique` compare the point's duplicated images with the *control's* unique
/// images (under a fixed step budget the point's own unique images are seen less often, so its
/// within-run gap mixes the two); `unique_*` is that confound itself.
pub const CONTRAST_METRICS: &[&str] = &[
    "clean",
    "robust",
    "clean[over]",
    "clean[others]",
    "robust[over]",
    "robust[others]",
    "unique_loss",
    "unique_auc",
    "dup_vs_control_unique_loss",
    "dup_vs_control_unique_auc",
    "dup_vs_control_unique_margin_auc",
    "adv_dup_vs_control_unique_auc",
];

/// Metrics of a within-run gap (duplicated − unique images of the same run).
pub const GAP_METRICS: &[&str] = &["loss", "auc", "adv_auc", "margin_auc"];

/// The family's level when the grid does not give one.
pub fn default_alpha() -> f64 {
    0.05
}

/// What the family check needs to know of a point: whether its plan is class-skewed and whether
/// it duplicates anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PointKind {
    pub skewed: bool,
    pub duplicated: bool,
}

/// Check a declared family against the grid's point labels: every point and control exists,
/// every metric is one its kind allows, an interaction subtracts an effect of its own kind, the
/// class-group metrics name a class-skewed point and a within-run gap a point that duplicates
/// (otherwise the test could never have data, and would only weaken the correction). Errors are
/// `(field, message)`, the field as `family[i].…`.
pub fn check_family(
    family: &[Declared],
    labels: &[String],
    kind: &dyn Fn(&str) -> PointKind,
) -> Result<(), (String, String)> {
    let known = |l: &str| labels.iter().any(|x| x == l);
    for (i, d) in family.iter().enumerate() {
        let sides =
            std::iter::once(("effect", &d.effect)).chain(d.minus.iter().map(|m| ("minus", m)));
        for (side, e) in sides {
            for (what, label) in
                std::iter::once(("point", &e.point)).chain(e.control.iter().map(|c| ("control", c)))
            {
                if !known(label) {
                    return Err((
                        format!("family[{i}].{side}.{what}"),
                        format!(
                            "`{label}` is not a point of this grid; its points are: {}",
                            labels.join("; ")
                        ),
                    ));
                }
            }
        }
        if let Some(m) = &d.minus
            && m.is_gap() != d.effect.is_gap()
        {
            return Err((
                format!("family[{i}].minus"),
                "must be of the effect's kind: both with a control (effects) or both without (within-run gaps)".into(),
            ));
        }
        if d.metrics.is_empty() {
            return Err((format!("family[{i}].metrics"), "is empty".into()));
        }
        let allowed = if d.effect.is_gap() {
            GAP_METRICS
        } else {
            CONTRAST_METRICS
        };
        for (j, m) in d.metrics.iter().enumerate() {
            let sides = std::iter::once(&d.effect).chain(d.minus.as_ref());
            for e in sides {
                let k = kind(&e.point);
                if m.contains('[') && !k.skewed {
                    return Err((
                        format!("family[{i}].metrics[{j}]"),
                        format!(
                            "`{m}` compares the over-duplicated classes with the others, but point `{}` duplicates every class alike; use it with a class-skewed point",
                            e.point
                        ),
                    ));
                }
                if e.is_gap() && !k.duplicated {
                    return Err((
                        format!("family[{i}].metrics[{j}]"),
                        format!(
                            "`{m}` of a within-run gap (duplicated − unique) needs a point that duplicates images; `{}` duplicates none",
                            e.point
                        ),
                    ));
                }
            }
            if !allowed.contains(&m.as_str()) {
                return Err((
                    format!("family[{i}].metrics[{j}]"),
                    format!(
                        "`{m}` is not a metric of {}; allowed: {}",
                        if d.effect.is_gap() {
                            "a within-run gap (an effect without a control)"
                        } else {
                            "an effect against a control"
                        },
                        allowed.join(", ")
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// The number of tests a family holds (one per declared metric): Holm's m.
pub fn family_size(family: &[Declared]) -> usize {
    family.iter().map(|d| d.metrics.len()).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels() -> Vec<String> {
        vec!["a".into(), "a0".into(), "b".into(), "b0".into()]
    }

    /// `a` and `b` are class-skewed duplications, `a0` and `b0` their controls.
    fn kind(label: &str) -> PointKind {
        let dup = !label.ends_with('0');
        PointKind {
            skewed: dup,
            duplicated: dup,
        }
    }

    fn contrast(p: &str, c: &str) -> EffectRef {
        EffectRef {
            point: p.into(),
            control: Some(c.into()),
        }
    }

    #[test]
    fn a_family_names_points_and_metrics_of_its_grid() {
        let ok = vec![
            Declared {
                effect: contrast("a", "a0"),
                minus: Some(contrast("b", "b0")),
                metrics: vec!["clean".into(), "robust[others]".into()],
            },
            Declared {
                effect: EffectRef {
                    point: "a".into(),
                    control: None,
                },
                minus: None,
                metrics: vec!["loss".into()],
            },
        ];
        assert_eq!(check_family(&ok, &labels(), &kind), Ok(()));
        assert_eq!(family_size(&ok), 3);

        let mut bad = ok.clone();
        bad[0].minus = Some(contrast("c", "b0"));
        let (field, msg) = check_family(&bad, &labels(), &kind).unwrap_err();
        assert_eq!(field, "family[0].minus.point");
        assert!(msg.contains("`c`") && msg.contains("a; a0; b; b0"), "{msg}");

        let mut bad = ok.clone();
        bad[1].metrics = vec!["clean".into()];
        let (field, msg) = check_family(&bad, &labels(), &kind).unwrap_err();
        assert_eq!(field, "family[1].metrics[0]");
        assert!(msg.contains("loss, auc, adv_auc, margin_auc"), "{msg}");

        let mut bad = ok;
        bad[0].minus = Some(EffectRef {
            point: "b".into(),
            control: None,
        });
        assert_eq!(
            check_family(&bad, &labels(), &kind).unwrap_err().0,
            "family[0].minus"
        );
    }

    /// A test that could never have data is refused: class groups of a point that duplicates
    /// every class alike, a within-run gap of a point without duplication.
    #[test]
    fn a_test_without_possible_data_is_refused() {
        let uniform = |l: &str| PointKind {
            skewed: false,
            duplicated: l != "a0",
        };
        let classes = vec![Declared {
            effect: contrast("a", "a0"),
            minus: None,
            metrics: vec!["clean".into(), "clean[over]".into()],
        }];
        let (field, msg) = check_family(&classes, &labels(), &uniform).unwrap_err();
        assert_eq!(field, "family[0].metrics[1]");
        assert!(msg.contains("every class alike"), "{msg}");
        let gap = vec![Declared {
            effect: EffectRef {
                point: "a0".into(),
                control: None,
            },
            minus: None,
            metrics: vec!["loss".into()],
        }];
        let (_, msg) = check_family(&gap, &labels(), &uniform).unwrap_err();
        assert!(msg.contains("duplicates none"), "{msg}");
    }
}
