//! Sweep grids: a base preset, fixed overrides, axes of labelled override sets, and seeds. Each
//! point of the cartesian product (× seeds) is one ordinary run, tagged with the sweep id and the
//! point's label, so a re-run of the sweep can find what is already done.

use super::{Preset, SpecError, find_preset};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AxisValue {
    pub label: String,
    /// Preset fields this value sets, as `--set` would.
    #[serde(default)]
    pub set: BTreeMap<String, toml::Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Axis {
    pub name: String,
    pub values: Vec<AxisValue>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Grid {
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// The preset every point starts from.
    pub base: String,
    /// Overrides for every point.
    #[serde(default)]
    pub set: BTreeMap<String, toml::Value>,
    pub axes: Vec<Axis>,
    pub seeds: Vec<u64>,
    /// The level of the comparison family (Holm-corrected across it).
    #[serde(default = "super::family::default_alpha")]
    pub alpha: f64,
    /// The comparison family, declared before the study runs (`spec::family`); empty: the
    /// report tests every comparison the runs allow, and says that no family was declared.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub family: Vec<super::family::Declared>,
}

/// One run of a sweep.
#[derive(Debug, Clone, PartialEq)]
pub struct Point {
    /// `axis=value,axis=value`: the same for every seed of the point.
    pub label: String,
    /// Axis name → value label.
    pub coords: Vec<(String, String)>,
    pub seed: u64,
    /// Every override, fixed ones first, as `key=value` strings.
    pub overrides: Vec<String>,
}

fn assignment(key: &str, v: &toml::Value) -> String {
    match v {
        toml::Value::String(s) => format!("{key}={s}"),
        other => format!("{key}={other}"),
    }
}

impl Grid {
    pub fn from_toml_str(text: &str, origin: &str) -> Result<Grid, SpecError> {
        let g: Grid = toml::from_str(text).map_err(|e| SpecError::parse(origin, e))?;
        let invalid = |field: &str, message: String| SpecError::Invalid {
            origin: origin.into(),
            field: field.into(),
            message,
        };
        if g.seeds.is_empty() {
            return Err(invalid("seeds", "is empty; give at least one seed".into()));
        }
        for (i, a) in g.axes.iter().enumerate() {
            if a.values.is_empty() {
                return Err(invalid(&format!("axes[{i}].values"), "is empty".into()));
            }
        }
        if !(g.alpha > 0.0 && g.alpha < 1.0) {
            return Err(invalid(
                "alpha",
                format!("is {}; give a level between 0 and 1, e.g. 0.05", g.alpha),
            ));
        }
        // Every point must give a valid preset: check them all now, not hours into the sweep.
        for p in g.points() {
            let preset = g.preset(&p).map_err(|e| SpecError::Invalid {
                origin: origin.into(),
                field: format!("point {}", p.label),
                message: format!("gives an invalid preset: {e}"),
            })?;
            // A reference model's seed is its index among the reference models.
            if let Some(r) = &preset.reference
                && let Err(why) = r.model_of(p.seed)
            {
                return Err(invalid("seeds", format!("(point {}): {why}", p.label)));
            }
        }
        // (After the presets: a family check reads each point's duplication.)
        let labels = g.labels();
        let points = g.points();
        let kind = |label: &str| {
            let d = points
                .iter()
                .find(|p| p.label == label)
                .and_then(|p| g.preset(p).ok())
                .map(|p| p.duplication);
            super::family::PointKind {
                skewed: d.as_ref().is_some_and(|d| d.is_skewed()),
                // The class-prior controls favour no image: they have no duplicated group.
                duplicated: d
                    .as_ref()
                    .is_some_and(|d| d.copies_any() && d.mode.favours_images()),
            }
        };
        super::family::check_family(&g.family, &labels, &kind).map_err(|(f, m)| invalid(&f, m))?;
        Ok(g)
    }

    pub fn load(path: &Path) -> Result<Grid, SpecError> {
        let text = std::fs::read_to_string(path).map_err(|e| SpecError::Io {
            origin: path.display().to_string(),
            message: e.to_string(),
        })?;
        Grid::from_toml_str(&text, &path.display().to_string())
    }

    /// Every (point, seed), axes varying slowest-first.
    pub fn points(&self) -> Vec<Point> {
        let mut combos: Vec<Vec<(usize, usize)>> = vec![vec![]];
        for (ai, axis) in self.axes.iter().enumerate() {
            combos = combos
                .into_iter()
                .flat_map(|c| {
                    (0..axis.values.len()).map(move |vi| [c.clone(), vec![(ai, vi)]].concat())
                })
                .collect();
        }
        let mut out = vec![];
        for combo in combos {
            let coords: Vec<(String, String)> = combo
                .iter()
                .map(|&(a, v)| {
                    (
                        self.axes[a].name.clone(),
                        self.axes[a].values[v].label.clone(),
                    )
                })
                .collect();
            let label = coords
                .iter()
                .map(|(a, v)| format!("{a}={v}"))
                .collect::<Vec<_>>()
                .join(",");
            let mut overrides: Vec<String> =
                self.set.iter().map(|(k, v)| assignment(k, v)).collect();
            for &(a, v) in &combo {
                overrides.extend(
                    self.axes[a].values[v]
                        .set
                        .iter()
                        .map(|(k, val)| assignment(k, val)),
                );
            }
            for &seed in &self.seeds {
                out.push(Point {
                    label: label.clone(),
                    coords: coords.clone(),
                    seed,
                    overrides: overrides.clone(),
                });
            }
        }
        out
    }

    /// The point labels, each once, in the order of `points`.
    pub fn labels(&self) -> Vec<String> {
        let mut out: Vec<String> = vec![];
        for p in self.points() {
            if out.last() != Some(&p.label) {
                out.push(p.label);
            }
        }
        out
    }

    pub fn preset(&self, p: &Point) -> Result<Preset, SpecError> {
        find_preset(&self.base, &p.overrides)
    }
}

/// The built-in grids, so studies run from any folder.
pub const BUILTIN_GRIDS: &[(&str, &str)] = &[
    (
        "study-default",
        include_str!("../../../../presets/study-default.toml"),
    ),
    (
        "study-mnist",
        include_str!("../../../../presets/study-mnist.toml"),
    ),
    (
        "study-fashion",
        include_str!("../../../../presets/study-fashion.toml"),
    ),
    (
        "study-cifar10",
        include_str!("../../../../presets/study-cifar10.toml"),
    ),
    (
        "study-memorisation",
        include_str!("../../../../presets/study-memorisation.toml"),
    ),
    (
        "study-membership",
        include_str!("../../../../presets/study-membership.toml"),
    ),
    (
        "study-claims",
        include_str!("../../../../presets/study-claims.toml"),
    ),
    (
        "study-claims-long",
        include_str!("../../../../presets/study-claims-long.toml"),
    ),
    (
        "study-dose",
        include_str!("../../../../presets/study-dose.toml"),
    ),
    (
        "study-augment",
        include_str!("../../../../presets/study-augment.toml"),
    ),
    (
        "study-claims-gpu",
        include_str!("../../../../presets/study-claims-gpu.toml"),
    ),
];

/// A grid by name (the preset folders, then the built-in set) or by path.
pub fn load_grid(name: &str) -> Result<Grid, SpecError> {
    if name.ends_with(".toml") || name.contains('/') {
        return Grid::load(Path::new(name));
    }
    for dir in super::preset_dirs() {
        let p = dir.join(format!("{name}.toml"));
        if p.exists() {
            return Grid::load(&p);
        }
    }
    match BUILTIN_GRIDS.iter().find(|(n, _)| *n == name) {
        Some((n, text)) => Grid::from_toml_str(text, &format!("<built-in>/{n}.toml")),
        None => Err(SpecError::NotFound {
            name: name.into(),
            known: BUILTIN_GRIDS.iter().map(|(n, _)| n.to_string()).collect(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GRID: &str = r#"
name = "g"
base = "default"
seeds = [0, 1]
[set]
"training.steps" = 10
[[axes]]
name = "dup"
values = [{ label = "0", set = { "duplication.rate" = 0.0 } }, { label = "30", set = { "duplication.rate" = 0.3 } }]
[[axes]]
name = "attack"
values = [{ label = "std" }, { label = "fgsm", set = { "attack.train.kind" = "fgsm-rs", "attack.train.eps" = 0.1, "attack.train.step" = 0.125 } }]
"#;

    #[test]
    fn expands_the_cartesian_product_times_seeds() {
        let g = Grid::from_toml_str(GRID, "g.toml").unwrap();
        let pts = g.points();
        assert_eq!(pts.len(), 8);
        assert_eq!(pts[0].label, "dup=0,attack=std");
        assert_eq!(pts[7].label, "dup=30,attack=fgsm");
        assert_eq!((pts[6].seed, pts[7].seed), (0, 1));
        let p = g.preset(&pts[7]).unwrap();
        assert_eq!(p.duplication.rate, Some(0.3));
        assert_eq!(p.attack.train.kind, crate::spec::AttackKind::FgsmRs);
        assert_eq!(p.training.steps, Some(10));
    }

    #[test]
    fn a_family_is_checked_when_the_grid_loads() {
        let with = format!(
            "{GRID}\n[[family]]\neffect = {{ point = \"dup=30,attack=std\", control = \"dup=0,attack=std\" }}\nmetrics = [\"clean\"]\n"
        );
        let g = Grid::from_toml_str(&with, "g.toml").unwrap();
        assert_eq!((g.family.len(), g.alpha), (1, 0.05));
        let bad = with.replace("control = \"dup=0,attack=std\"", "control = \"dup=0\"");
        let e = Grid::from_toml_str(&bad, "g.toml").unwrap_err().to_string();
        assert!(
            e.contains("g.toml")
                && e.contains("family[0].effect.control")
                && e.contains("dup=0,attack=fgsm"),
            "{e}"
        );
    }

    /// A within-run gap needs a duplicated group: the class-weight control favours no image,
    /// so it has none; the reweighting control keeps its chosen images as the group.
    #[test]
    fn a_gap_on_the_class_weight_control_is_refused() {
        let gap = |mode: &str| {
            let g = GRID.replace(
                "{ label = \"30\", set = { \"duplication.rate\" = 0.3 } }",
                &format!(
                    "{{ label = \"30\", set = {{ \"duplication.rate\" = 0.3, \"duplication.mode\" = \"{mode}\" }} }}"
                ),
            );
            Grid::from_toml_str(
                &format!(
                    "{g}\n[[family]]\neffect = {{ point = \"dup=30,attack=std\" }}\nmetrics = [\"loss\"]\n"
                ),
                "g.toml",
            )
        };
        assert!(gap("weight").is_ok());
        let e = gap("class-weight").unwrap_err().to_string();
        assert!(e.contains("family[0]"), "{e}");
        // The fresh-image control favours no image either.
        let e = gap("fresh\", \"data.train_per_class\" = \"900")
            .unwrap_err()
            .to_string();
        assert!(e.contains("family[0]"), "{e}");
    }

    #[test]
    fn a_bad_point_is_caught_when_the_grid_loads() {
        let bad = GRID.replace("\"duplication.rate\" = 0.3", "\"duplication.rate\" = 3.0");
        let e = Grid::from_toml_str(&bad, "g.toml").unwrap_err().to_string();
        assert!(
            e.contains("g.toml") && e.contains("dup=30") && e.contains("duplication.rate"),
            "{e}"
        );
    }
}
