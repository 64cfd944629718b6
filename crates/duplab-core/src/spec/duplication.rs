//! The duplication spec: which fraction of each class gets copied, how many copies, exact or
//! near-duplicate, appended or replacing (keep-size).

use super::FieldError;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Profile {
    /// The same `rate` for every class.
    #[default]
    Uniform,
    /// From `rate_max` for class 0 down to `rate_min` for the last class, in equal steps.
    Linear,
    /// `rate` for the classes listed in `classes`, `other_rate` for the rest.
    Step,
    /// One rate per class, in `rates`.
    Custom,
}

impl Profile {
    pub const ALLOWED: &'static str = "uniform, linear, step, custom";
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum DupMode {
    /// Byte-identical copies.
    #[default]
    Exact,
    /// Copies shifted by ±1–2 px and/or given light noise, deterministic per copy.
    Near,
    /// The reweighting control: no copies; each chosen image's loss weighted (1 + kᵢ)·N/(N + K)
    /// and every other image's N/(N + K) (N images, K copies the exact plan would add), images
    /// drawn uniformly — the expected gradient of the duplicated set, without repeated inputs.
    Weight,
    /// The class-prior control: no copies; every image of class c weighted by the entries the
    /// exact plan would give the class over its distinct images (after_c / distinct_c ·
    /// N/(N + K)), so the loss sees the duplicated set's class prior with no image favoured
    /// within a class.
    ClassWeight,
    /// The class-prior control by data: no copies; each copy the exact plan would add to class c
    /// is a *fresh* image of class c instead, drawn from the training images `data.train_per_class`
    /// left out, so the set has the duplicated set's class counts with every image distinct.
    Fresh,
}

impl DupMode {
    pub const ALLOWED: &'static str = "exact, near, weight, class-weight, fresh";

    pub fn name(self) -> &'static str {
        match self {
            DupMode::Exact => "exact",
            DupMode::Near => "near",
            DupMode::Weight => "weight",
            DupMode::ClassWeight => "class-weight",
            DupMode::Fresh => "fresh",
        }
    }

    /// Whether the plan favours chosen images (copies, or the weights standing for them): the
    /// class-prior controls favour none, so they have no duplicated group.
    pub fn favours_images(self) -> bool {
        !matches!(self, DupMode::ClassWeight | DupMode::Fresh)
    }

    /// Whether the plan weights the loss instead of appending copies.
    pub fn weights(self) -> bool {
        matches!(self, DupMode::Weight | DupMode::ClassWeight)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DuplicationSpec {
    #[serde(default)]
    pub profile: Profile,
    /// Fraction of a class's images that are chosen for copying (uniform, step).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_max: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_min: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub classes: Option<Vec<usize>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub other_rate: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rates: Option<Vec<f64>>,
    /// Extra copies of each chosen image (1 = appended once).
    #[serde(default = "one")]
    pub copies: usize,
    /// Occurrence levels instead of one `copies`: the chosen images of each class are dealt in
    /// turn to these counts of occurrences (k = 1 + copies; `[2, 4, 8, 16]` gives 1, 3, 7 and 15
    /// extra copies), so one training set holds every level and the copy count need not be a
    /// grid axis (the reference models of a membership study).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub occurrences: Option<Vec<usize>>,
    #[serde(default)]
    pub mode: DupMode,
    /// Copies replace other images of the same class: total size and class balance stay fixed,
    /// only the number of distinct images drops.
    #[serde(default)]
    pub keep_size: bool,
    /// Seed of the plan (which images are chosen, and the jitter of near-duplicates): a number,
    /// or `"run"` to follow each run's seed, so that the spread over seeds includes *which*
    /// images were copied.
    #[serde(default)]
    pub seed: PlanSeed,
    /// Before the plan: remove the near-duplicates the training set already holds (groups of
    /// images joined by pairs within `dedup_threshold` keep their lowest index), the control for
    /// "does deduplicating a real data set change anything?".
    #[serde(default, skip_serializing_if = "is_false")]
    pub dedup: bool,
    /// RMS pixel distance in [0, 1] under which two training images count as duplicates.
    #[serde(
        default = "dedup_threshold",
        skip_serializing_if = "is_default_threshold"
    )]
    pub dedup_threshold: f64,
}

fn is_false(b: &bool) -> bool {
    !*b
}

fn dedup_threshold() -> f64 {
    0.05
}

fn is_default_threshold(t: &f64) -> bool {
    *t == dedup_threshold()
}

/// A duplication plan's seed: fixed, or the run's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlanSeed {
    Fixed(u64),
    Run,
}

impl Default for PlanSeed {
    fn default() -> Self {
        PlanSeed::Fixed(0)
    }
}

impl PlanSeed {
    /// The seed a run with seed `run_seed` builds its plan with.
    pub fn resolve(self, run_seed: u64) -> u64 {
        match self {
            PlanSeed::Fixed(s) => s,
            PlanSeed::Run => run_seed,
        }
    }
}

impl std::fmt::Display for PlanSeed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PlanSeed::Fixed(s) => write!(f, "{s}"),
            PlanSeed::Run => f.write_str("run"),
        }
    }
}

impl Serialize for PlanSeed {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            PlanSeed::Fixed(n) => s.serialize_u64(*n),
            PlanSeed::Run => s.serialize_str("run"),
        }
    }
}

impl<'de> Deserialize<'de> for PlanSeed {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Num(u64),
            Text(String),
        }
        match Raw::deserialize(d).map_err(|_| {
            serde::de::Error::custom("allowed: a non-negative integer, or \"run\" (the run's seed)")
        })? {
            Raw::Num(n) => Ok(PlanSeed::Fixed(n)),
            Raw::Text(t) if t == "run" => Ok(PlanSeed::Run),
            Raw::Text(t) => Err(serde::de::Error::custom(format!(
                "is \"{t}\"; allowed: a non-negative integer, or \"run\" (the run's seed)"
            ))),
        }
    }
}

fn one() -> usize {
    1
}

impl Default for DuplicationSpec {
    fn default() -> Self {
        DuplicationSpec {
            profile: Profile::Uniform,
            rate: Some(0.0),
            rate_max: None,
            rate_min: None,
            classes: None,
            other_rate: None,
            rates: None,
            copies: 1,
            occurrences: None,
            mode: DupMode::Exact,
            keep_size: false,
            seed: PlanSeed::default(),
            dedup: false,
            dedup_threshold: dedup_threshold(),
        }
    }
}

fn check_rate(field: &str, v: Option<f64>, profile: &str) -> Result<f64, FieldError> {
    match v {
        None => Err(FieldError::new(
            field.into(),
            format!("is required by profile `{profile}` (a fraction in [0, 1])"),
        )),
        Some(r) if !(0.0..=1.0).contains(&r) || r.is_nan() => Err(FieldError::new(
            field.into(),
            format!("is {r}; allowed: a fraction in [0, 1]"),
        )),
        Some(r) => Ok(r),
    }
}

impl DuplicationSpec {
    pub fn validate(&self) -> Result<(), FieldError> {
        let t = self.dedup_threshold;
        if !(0.0..=1.0).contains(&t) || t.is_nan() {
            return Err(FieldError::new(
                "dedup_threshold".into(),
                format!("is {t}; allowed: an RMS pixel distance in [0, 1]"),
            ));
        }
        if self.copies == 0 || self.copies > 100 {
            return Err(FieldError::new(
                "copies".into(),
                format!("is {}; allowed: 1 to 100", self.copies),
            ));
        }
        if (self.mode.weights() || self.mode == DupMode::Fresh) && self.keep_size {
            return Err(FieldError::new(
                "keep_size".into(),
                format!(
                    "cannot be combined with mode = \"{}\" (this control adds no copies to make room for); allowed: false",
                    self.mode.name()
                ),
            ));
        }
        if let Some(levels) = &self.occurrences {
            if levels.is_empty() || levels.iter().any(|&k| !(2..=101).contains(&k)) {
                return Err(FieldError::new(
                    "occurrences".into(),
                    format!(
                        "is {levels:?}; allowed: a non-empty list of occurrence counts from 2 to 101 (k = 1 + copies)"
                    ),
                ));
            }
            if self.copies != 1 {
                return Err(FieldError::new(
                    "copies".into(),
                    format!(
                        "is {} while occurrences is set; occurrences gives each level's copies (k − 1): remove copies",
                        self.copies
                    ),
                ));
            }
            if self.keep_size {
                return Err(FieldError::new(
                    "keep_size".into(),
                    "cannot be combined with occurrences; allowed: false".into(),
                ));
            }
        }
        match self.profile {
            Profile::Uniform => {
                check_rate("rate", self.rate, "uniform")?;
            }
            Profile::Linear => {
                check_rate("rate_max", self.rate_max, "linear")?;
                check_rate("rate_min", self.rate_min, "linear")?;
            }
            Profile::Step => {
                check_rate("rate", self.rate, "step")?;
                check_rate("other_rate", self.other_rate, "step")?;
                match &self.classes {
                    None => {
                        return Err(FieldError::new(
                            "classes".into(),
                            "is required by profile `step` (a list of class indices)".into(),
                        ));
                    }
                    Some(c) if c.is_empty() => {
                        return Err(FieldError::new(
                            "classes".into(),
                            "must list at least one class".into(),
                        ));
                    }
                    _ => {}
                }
            }
            Profile::Custom => match &self.rates {
                None => {
                    return Err(FieldError::new(
                        "rates".into(),
                        "is required by profile `custom` (one fraction in [0, 1] per class)".into(),
                    ));
                }
                Some(rs) => {
                    for (i, r) in rs.iter().enumerate() {
                        check_rate(&format!("rates[{i}]"), Some(*r), "custom")?;
                    }
                }
            },
        }
        if self.keep_size {
            // Each chosen image displaces `copies` others of its class: at most half can be chosen
            // at one copy, 1/(copies+1) in general.
            let cap = 1.0 / (self.copies as f64 + 1.0);
            let max = self.max_rate();
            if max > cap + 1e-9 {
                return Err(FieldError::new(
                    "keep_size".into(),
                    format!(
                        "with copies = {} allows rates up to {cap:.3} (each chosen image replaces {} others of its class); the largest rate here is {max}",
                        self.copies, self.copies
                    ),
                ));
            }
        }
        Ok(())
    }

    /// Extra copies of the `j`-th chosen image of a class (in the plan's seeded order).
    pub fn copies_of(&self, j: usize) -> usize {
        match &self.occurrences {
            Some(levels) if !levels.is_empty() => levels[j % levels.len()] - 1,
            _ => self.copies,
        }
    }

    fn max_rate(&self) -> f64 {
        let all = [self.rate, self.rate_max, self.rate_min, self.other_rate];
        let mut m = all.iter().flatten().fold(0.0f64, |a, b| a.max(*b));
        if let Some(rs) = &self.rates {
            m = rs.iter().fold(m, |a, b| a.max(*b));
        }
        m
    }

    /// The per-class rate for a data set of `num_classes` classes.
    pub fn class_rates(&self, num_classes: usize) -> Result<Vec<f64>, FieldError> {
        self.validate()?;
        Ok(match self.profile {
            Profile::Uniform => vec![self.rate.unwrap_or(0.0); num_classes],
            Profile::Linear => {
                let (hi, lo) = (self.rate_max.unwrap_or(0.0), self.rate_min.unwrap_or(0.0));
                (0..num_classes)
                    .map(|c| {
                        if num_classes == 1 {
                            hi
                        } else {
                            hi + (lo - hi) * c as f64 / (num_classes - 1) as f64
                        }
                    })
                    .collect()
            }
            Profile::Step => {
                let chosen = self.classes.clone().unwrap_or_default();
                if let Some(bad) = chosen.iter().find(|c| **c >= num_classes) {
                    return Err(FieldError::new(
                        "classes".into(),
                        format!(
                            "names class {bad}, but the data set has classes 0 to {}",
                            num_classes - 1
                        ),
                    ));
                }
                (0..num_classes)
                    .map(|c| {
                        if chosen.contains(&c) {
                            self.rate.unwrap_or(0.0)
                        } else {
                            self.other_rate.unwrap_or(0.0)
                        }
                    })
                    .collect()
            }
            Profile::Custom => {
                let rs = self.rates.clone().unwrap_or_default();
                if rs.len() != num_classes {
                    return Err(FieldError::new(
                        "rates".into(),
                        format!(
                            "has {} entries; the data set has {num_classes} classes",
                            rs.len()
                        ),
                    ));
                }
                rs
            }
        })
    }

    /// Whether classes are duplicated at different rates (a class-skewed plan), as far as the
    /// spec tells without the data.
    pub fn is_skewed(&self) -> bool {
        let r = |x: Option<f64>| x.unwrap_or(0.0);
        match self.profile {
            Profile::Uniform => false,
            Profile::Linear => r(self.rate_max) != r(self.rate_min),
            Profile::Step => {
                self.classes.as_ref().is_some_and(|c| !c.is_empty())
                    && r(self.rate) != r(self.other_rate)
            }
            Profile::Custom => self
                .rates
                .as_ref()
                .is_some_and(|rs| rs.windows(2).any(|w| w[0] != w[1])),
        }
    }

    /// Whether the plan copies any image at all.
    pub fn copies_any(&self) -> bool {
        let r = |x: Option<f64>| x.unwrap_or(0.0) > 0.0;
        self.copies > 0
            && match self.profile {
                Profile::Uniform => r(self.rate),
                Profile::Linear => r(self.rate_max) || r(self.rate_min),
                Profile::Step => r(self.rate) || r(self.other_rate),
                Profile::Custom => self
                    .rates
                    .as_ref()
                    .is_some_and(|rs| rs.iter().any(|x| *x > 0.0)),
            }
    }

    /// A short human label: `uniform 30%`, `linear 60→0%`, `step 50%/0% on [0,1]`.
    pub fn label(&self) -> String {
        let pct = |r: Option<f64>| format!("{:.0}%", r.unwrap_or(0.0) * 100.0);
        let mut s = match self.profile {
            Profile::Uniform => format!("uniform {}", pct(self.rate)),
            Profile::Linear => format!("linear {}→{}", pct(self.rate_max), pct(self.rate_min)),
            Profile::Step => format!(
                "step {}/{} on {:?}",
                pct(self.rate),
                pct(self.other_rate),
                self.classes.clone().unwrap_or_default()
            ),
            Profile::Custom => "custom".to_string(),
        };
        if let Some(levels) = &self.occurrences {
            let l: Vec<String> = levels.iter().map(|k| k.to_string()).collect();
            s.push_str(&format!(" k∈{{{}}}", l.join(",")));
        } else if self.copies > 1 {
            s.push_str(&format!(" ×{}", self.copies));
        }
        match self.mode {
            DupMode::Exact => {}
            DupMode::Near => s.push_str(" near"),
            DupMode::Weight => s.push_str(" weighted"),
            DupMode::ClassWeight => s.push_str(" class-weighted"),
            DupMode::Fresh => s.push_str(" fresh images"),
        }
        if self.dedup {
            s.push_str(&format!(" dedup≤{}", self.dedup_threshold));
        }
        if self.keep_size {
            s.push_str(" keep-size");
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linear_profile_ramps_from_max_to_min() {
        let d = DuplicationSpec {
            profile: Profile::Linear,
            rate_max: Some(0.9),
            rate_min: Some(0.0),
            ..Default::default()
        };
        let r = d.class_rates(10).unwrap();
        assert!((r[0] - 0.9).abs() < 1e-12 && r[9].abs() < 1e-12 && (r[1] - 0.8).abs() < 1e-12);
    }

    #[test]
    fn step_profile_rejects_unknown_class() {
        let d = DuplicationSpec {
            profile: Profile::Step,
            rate: Some(0.5),
            other_rate: Some(0.0),
            classes: Some(vec![12]),
            ..Default::default()
        };
        assert!(d.class_rates(10).unwrap_err().message.contains("class 12"));
    }

    #[test]
    fn keep_size_caps_the_rate() {
        let d = DuplicationSpec {
            rate: Some(0.6),
            keep_size: true,
            ..Default::default()
        };
        assert_eq!(d.validate().unwrap_err().field, "keep_size");
    }
}
