//! Attack specs. Every ε and step is in pixel space [0, 1]; normalisation lives inside the model,
//! so the reference study's clamp-to-[0,1]-while-inputs-are-in-[−1,1] mistake cannot happen.

use super::FieldError;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum AttackKind {
    #[default]
    None,
    Fgsm,
    /// FGSM from a uniform random start in the ε-ball ("fast" adversarial training).
    FgsmRs,
    Pgd,
    /// APGD on cross-entropy (Croce & Hein 2020): evaluation only.
    ApgdCe,
    /// APGD on the targeted DLR loss over the top-`targets` classes: evaluation only.
    ApgdT,
}

impl AttackKind {
    pub fn name(self) -> &'static str {
        match self {
            AttackKind::None => "none",
            AttackKind::Fgsm => "fgsm",
            AttackKind::FgsmRs => "fgsm-rs",
            AttackKind::Pgd => "pgd",
            AttackKind::ApgdCe => "apgd-ce",
            AttackKind::ApgdT => "apgd-t",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Norm {
    #[default]
    Linf,
    L2,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttackSpec {
    #[serde(default)]
    pub kind: AttackKind,
    #[serde(default)]
    pub norm: Norm,
    /// Radius of the ball around the clean image, in pixel units.
    #[serde(default)]
    pub eps: f64,
    /// Step size α (FGSM-RS: typically 1.25 ε; PGD: e.g. ε/4).
    #[serde(default)]
    pub step: f64,
    #[serde(default = "one")]
    pub steps: usize,
    #[serde(default = "yes")]
    pub random_start: bool,
    /// Restarts (evaluation): the worst case over restarts counts.
    #[serde(default = "one")]
    pub restarts: usize,
    /// Fraction of each training batch replaced by its adversarial version (1.0 = Madry-style).
    #[serde(default = "one_f")]
    pub fraction: f64,
    /// Training only: ε and the step grow linearly from 0 over this fraction of the run (ε
    /// warm-up; large-ε PGD training from scratch can otherwise stall at chance accuracy).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub warmup: f64,
    /// APGD-T: the target classes tried per image (the highest-ranked after the first; AutoAttack's
    /// standard version uses 9).
    #[serde(default = "nine", skip_serializing_if = "is_nine")]
    pub targets: usize,
}

fn nine() -> usize {
    9
}
fn is_nine(v: &usize) -> bool {
    *v == 9
}

fn is_zero(v: &f64) -> bool {
    *v == 0.0
}

fn one() -> usize {
    1
}
fn yes() -> bool {
    true
}
fn one_f() -> f64 {
    1.0
}

impl Default for AttackSpec {
    fn default() -> Self {
        AttackSpec {
            kind: AttackKind::None,
            norm: Norm::Linf,
            eps: 0.0,
            step: 0.0,
            steps: 1,
            random_start: true,
            restarts: 1,
            fraction: 1.0,
            warmup: 0.0,
            targets: 9,
        }
    }
}

impl AttackSpec {
    pub fn validate(&self) -> Result<(), FieldError> {
        if self.kind == AttackKind::None {
            return Ok(());
        }
        let max_eps = match self.norm {
            Norm::Linf => 1.0,
            Norm::L2 => 100.0,
        };
        if !(0.0..=max_eps).contains(&self.eps) {
            return Err(FieldError::new(
                "eps".into(),
                format!(
                    "is {}; allowed: 0 to {max_eps} (pixel units, images in [0, 1])",
                    self.eps
                ),
            ));
        }
        let apgd = matches!(self.kind, AttackKind::ApgdCe | AttackKind::ApgdT);
        if apgd && !(1..=99).contains(&self.targets) {
            return Err(FieldError::new(
                "targets".into(),
                format!("is {}; allowed: 1 to 99 target classes", self.targets),
            ));
        }
        // APGD sets its own step size (2ε, halved at checkpoints).
        if self.kind != AttackKind::Fgsm && !apgd && !(self.step > 0.0 && self.step <= max_eps) {
            return Err(FieldError::new(
                "step".into(),
                format!(
                    "is {}; allowed: > 0 and ≤ {max_eps} for `{}`",
                    self.step,
                    self.kind.name()
                ),
            ));
        }
        if (self.kind == AttackKind::Pgd || apgd) && !(1..=1000).contains(&self.steps) {
            return Err(FieldError::new(
                "steps".into(),
                format!("is {}; allowed: 1 to 1000", self.steps),
            ));
        }
        if !(1..=100).contains(&self.restarts) {
            return Err(FieldError::new(
                "restarts".into(),
                format!("is {}; allowed: 1 to 100", self.restarts),
            ));
        }
        if !(0.0..=1.0).contains(&self.warmup) {
            return Err(FieldError::new(
                "warmup".into(),
                format!(
                    "is {}; allowed: a fraction of the run in [0, 1]",
                    self.warmup
                ),
            ));
        }
        if !(0.0..=1.0).contains(&self.fraction) {
            return Err(FieldError::new(
                "fraction".into(),
                format!("is {}; allowed: a fraction in [0, 1]", self.fraction),
            ));
        }
        Ok(())
    }

    /// This attack at `progress` (0..1) of training: ε and step scaled during the warm-up.
    pub fn at_progress(&self, progress: f64) -> AttackSpec {
        if self.warmup <= 0.0 || progress >= self.warmup {
            return self.clone();
        }
        let f = (progress / self.warmup).clamp(0.0, 1.0);
        AttackSpec {
            eps: self.eps * f,
            step: self.step * f,
            ..self.clone()
        }
    }

    /// e.g. `pgd-20 linf ε=0.3` or `none`.
    pub fn label(&self) -> String {
        let norm = match self.norm {
            Norm::Linf => "L∞",
            Norm::L2 => "L2",
        };
        match self.kind {
            AttackKind::None => "none".into(),
            AttackKind::Fgsm => format!("fgsm {norm} ε={}", self.eps),
            AttackKind::FgsmRs => format!("fgsm-rs {norm} ε={}", self.eps),
            AttackKind::Pgd => format!("pgd-{} {norm} ε={}", self.steps, self.eps),
            AttackKind::ApgdCe => format!("apgd-ce-{} {norm} ε={}", self.steps, self.eps),
            AttackKind::ApgdT => format!(
                "apgd-t-{} {norm} ε={} ({} targets)",
                self.steps, self.eps, self.targets
            ),
        }
    }

    /// The label an evaluation under this attack is recorded and printed with: it states the
    /// counting convention. FGSM, FGSM-RS and PGD evaluations count an image as fooled when any
    /// iterate fooled it, as APGD does (whose label needs no mark); evaluations of earlier
    /// versions counted the last iterate under the plain label, so the two are never averaged
    /// together.
    pub fn eval_label(&self) -> String {
        match self.kind {
            AttackKind::Fgsm | AttackKind::FgsmRs | AttackKind::Pgd => {
                format!("{} (any iterate)", self.label())
            }
            _ => self.label(),
        }
    }
}

/// The evaluation attack and how often it runs (it is costly).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EvalSpec {
    #[serde(flatten)]
    pub attack: AttackSpec,
    /// Robust accuracy every `every` epochs (0 = only at the end).
    #[serde(default)]
    pub every: usize,
    /// Test images used for robust accuracy (0 = the whole test set).
    #[serde(default)]
    pub limit: usize,
    /// Images of each training group attacked for the adversarial group metrics (the test
    /// group reuses the robust-accuracy pass above). 0 = none.
    #[serde(default = "group_limit")]
    pub group_limit: usize,
}

fn group_limit() -> usize {
    200
}

impl Default for EvalSpec {
    fn default() -> Self {
        EvalSpec {
            attack: AttackSpec::default(),
            every: 0,
            limit: 0,
            group_limit: group_limit(),
        }
    }
}

impl EvalSpec {
    pub fn validate(&self) -> Result<(), FieldError> {
        self.attack.validate()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pgd_needs_a_step() {
        let a = AttackSpec {
            kind: AttackKind::Pgd,
            eps: 0.3,
            steps: 10,
            ..Default::default()
        };
        assert_eq!(a.validate().unwrap_err().field, "step");
    }

    #[test]
    fn eps_above_one_is_rejected_for_linf() {
        let a = AttackSpec {
            kind: AttackKind::Fgsm,
            eps: 8.0,
            ..Default::default()
        };
        assert!(a.validate().unwrap_err().message.contains("0 to 1"));
    }
}

#[cfg(test)]
mod warmup_tests {
    use super::*;

    #[test]
    fn warmup_scales_eps_and_step_linearly() {
        let a = AttackSpec {
            kind: AttackKind::Pgd,
            eps: 0.3,
            step: 0.075,
            steps: 10,
            warmup: 0.5,
            ..Default::default()
        };
        let h = a.at_progress(0.25);
        assert!((h.eps - 0.15).abs() < 1e-12 && (h.step - 0.0375).abs() < 1e-12);
        assert_eq!(a.at_progress(0.5), a);
        assert_eq!(a.at_progress(0.0).eps, 0.0);
    }
}
