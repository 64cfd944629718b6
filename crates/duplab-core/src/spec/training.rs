//! The training spec: model, optimiser, schedule, batch size, length, seeds.

use super::FieldError;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ModelKind {
    /// The reference study's small CNN: conv 16 → conv 32 → FC 128, dropout.
    SmallCnn,
    /// Its wider CNN for adversarial training: conv 32 → conv 64 → FC 256.
    WideCnn,
    /// LeNet-5 class CNN for 28×28 inputs.
    Lenet,
    /// PreAct-ResNet-18 for 32×32 colour inputs.
    PreactResnet18,
}

impl ModelKind {
    pub fn name(self) -> &'static str {
        match self {
            ModelKind::SmallCnn => "small-cnn",
            ModelKind::WideCnn => "wide-cnn",
            ModelKind::Lenet => "lenet",
            ModelKind::PreactResnet18 => "preact-resnet18",
        }
    }
    pub fn parse(name: &str) -> Option<ModelKind> {
        ModelKind::ALL.into_iter().find(|k| k.name() == name)
    }
    pub const ALL: [ModelKind; 4] = [
        ModelKind::SmallCnn,
        ModelKind::WideCnn,
        ModelKind::Lenet,
        ModelKind::PreactResnet18,
    ];
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum OptimizerKind {
    Sgd,
    Adam,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Schedule {
    #[default]
    Constant,
    /// × `gamma` every `step_every` epochs (or equivalent fraction of the step budget).
    Step,
    Cosine,
    /// Linear warm-up to `lr` over the first 30 %, then linear decay to 0 (airbench / Smith).
    OneCycle,
}

/// Length of training: whole epochs over the (duplicated) set, or a fixed number of steps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Length {
    Epochs(usize),
    Steps(usize),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainingSpec {
    pub model: ModelKind,
    pub optimizer: OptimizerKind,
    pub lr: f64,
    #[serde(default)]
    pub momentum: f64,
    #[serde(default)]
    pub weight_decay: f64,
    #[serde(default)]
    pub schedule: Schedule,
    #[serde(default = "gamma")]
    pub gamma: f64,
    #[serde(default = "one")]
    pub step_every: usize,
    pub batch_size: usize,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub epochs: Option<usize>,
    /// A fixed step budget: a duplicated set gets exactly the steps of the clean one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub steps: Option<usize>,
    /// Steps between evaluations when training by step budget (0 = about 5 evaluations).
    #[serde(default)]
    pub eval_every: usize,
    #[serde(default = "seeds")]
    pub seeds: Vec<u64>,
    /// Group metrics (loss, accuracy and membership inference of duplicated, unique, dropped
    /// and test images) every this many evaluations; 0 = never. The final evaluation always
    /// has them unless 0.
    #[serde(default = "one")]
    pub group_every: usize,
    /// FGSM / FGSM-RS training: end the run where the catastrophic-overfitting check fires
    /// (Wong et al. 2020), after an evaluation and a checkpoint there, instead of only showing
    /// the alarm.
    #[serde(default, skip_serializing_if = "is_false")]
    pub stop_on_overfit: bool,
    /// FGSM / FGSM-RS training: steps between catastrophic-overfitting checks (PGD-10 and FGSM
    /// at the training ε on 256 training images); 0 = once per epoch as the learning-rate
    /// schedule counts it (the un-duplicated set's under a fixed step budget, the training set's
    /// when training by epochs).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub overfit_every: usize,
    /// How much (a fraction of the images) FGSM accuracy may fall from one check to the next
    /// while a PGD collapse still counts as catastrophic overfitting.
    #[serde(
        default = "overfit_tolerance",
        skip_serializing_if = "is_default_tolerance"
    )]
    pub overfit_tolerance: f64,
    /// The device the preset's runs train on when the command line names none: `auto`, `gpu`,
    /// `gpu:N` (adapter N as `duplab doctor` lists them) or `cpu`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device: Option<super::DeviceChoice>,
    /// Random crop with zero padding and horizontal flip of every training batch
    /// (`augment = { crop = 4, flip = true }`); none by default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub augment: Option<super::AugmentSpec>,
}

fn is_false(b: &bool) -> bool {
    !*b
}
fn is_zero(n: &usize) -> bool {
    *n == 0
}
/// 0.02: five images of the 256 checked.
pub fn overfit_tolerance() -> f64 {
    0.02
}
fn is_default_tolerance(t: &f64) -> bool {
    *t == overfit_tolerance()
}

fn gamma() -> f64 {
    0.1
}
fn one() -> usize {
    1
}
fn seeds() -> Vec<u64> {
    vec![0]
}

impl TrainingSpec {
    pub fn length(&self) -> Result<Length, FieldError> {
        match (self.epochs, self.steps) {
            (Some(_), Some(_)) => Err(FieldError::new(
                "epochs".into(),
                "and `training.steps` are both set; set one: epochs or a fixed step budget".into(),
            )),
            (None, None) => Err(FieldError::new(
                "epochs".into(),
                "is missing; set `epochs` (passes over the set) or `steps` (a fixed step budget)"
                    .into(),
            )),
            (Some(e), None) if e == 0 || e > 10_000 => Err(FieldError::new(
                "epochs".into(),
                format!("is {e}; allowed: 1 to 10000"),
            )),
            (None, Some(s)) if s == 0 => Err(FieldError::new(
                "steps".into(),
                "is 0; allowed: 1 or more".into(),
            )),
            (Some(e), None) => Ok(Length::Epochs(e)),
            (None, Some(s)) => Ok(Length::Steps(s)),
        }
    }

    pub fn validate(&self) -> Result<(), FieldError> {
        self.length()?;
        if !(self.lr > 0.0 && self.lr <= 10.0) {
            return Err(FieldError::new(
                "lr".into(),
                format!("is {}; allowed: > 0 and ≤ 10", self.lr),
            ));
        }
        if !(0.0..1.0).contains(&self.momentum) {
            return Err(FieldError::new(
                "momentum".into(),
                format!("is {}; allowed: 0 ≤ momentum < 1", self.momentum),
            ));
        }
        if !(0.0..=1.0).contains(&self.weight_decay) {
            return Err(FieldError::new(
                "weight_decay".into(),
                format!("is {}; allowed: 0 to 1", self.weight_decay),
            ));
        }
        if !(1..=65_536).contains(&self.batch_size) {
            return Err(FieldError::new(
                "batch_size".into(),
                format!("is {}; allowed: 1 to 65536", self.batch_size),
            ));
        }
        if let Some(a) = &self.augment {
            a.validate().map_err(|e| e.within("augment"))?;
        }
        if self.seeds.is_empty() {
            return Err(FieldError::new(
                "seeds".into(),
                "is empty; give at least one seed, e.g. [0]".into(),
            ));
        }
        if !(0.0..=1.0).contains(&self.overfit_tolerance) {
            return Err(FieldError::new(
                "overfit_tolerance".into(),
                format!(
                    "is {}; allowed: 0 to 1 (a fraction of the images checked; default 0.02)",
                    self.overfit_tolerance
                ),
            ));
        }
        if self.schedule == Schedule::Step
            && (self.step_every == 0 || !(0.0..=1.0).contains(&self.gamma))
        {
            return Err(FieldError::new(
                "step_every".into(),
                "must be ≥ 1 and gamma in [0, 1] for schedule `step`".into(),
            ));
        }
        Ok(())
    }

    /// Learning rate at `step` of `total` steps (`steps_per_epoch` for the step schedule).
    pub fn lr_at(&self, step: usize, total: usize, steps_per_epoch: usize) -> f64 {
        let t = step as f64 / total.max(1) as f64;
        match self.schedule {
            Schedule::Constant => self.lr,
            Schedule::Step => {
                let epoch = step / steps_per_epoch.max(1);
                self.lr * self.gamma.powi((epoch / self.step_every) as i32)
            }
            Schedule::Cosine => self.lr * 0.5 * (1.0 + (std::f64::consts::PI * t).cos()),
            Schedule::OneCycle => {
                let peak = 0.3;
                if t < peak {
                    self.lr * (0.1 + 0.9 * t / peak)
                } else {
                    self.lr * (1.0 - t) / (1.0 - peak)
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(schedule: Schedule) -> TrainingSpec {
        TrainingSpec {
            model: ModelKind::SmallCnn,
            optimizer: OptimizerKind::Sgd,
            lr: 0.1,
            momentum: 0.9,
            weight_decay: 0.0,
            schedule,
            gamma: 0.1,
            step_every: 2,
            batch_size: 8,
            epochs: Some(4),
            steps: None,
            eval_every: 0,
            seeds: vec![0],
            group_every: 1,
            stop_on_overfit: false,
            overfit_every: 0,
            overfit_tolerance: overfit_tolerance(),
            device: None,
            augment: None,
        }
    }

    #[test]
    fn schedules_have_expected_shape() {
        let c = spec(Schedule::Cosine);
        assert!((c.lr_at(0, 100, 10) - 0.1).abs() < 1e-12);
        assert!(c.lr_at(100, 100, 10).abs() < 1e-12);
        let s = spec(Schedule::Step);
        assert!((s.lr_at(19, 40, 10) - 0.1).abs() < 1e-12);
        assert!((s.lr_at(20, 40, 10) - 0.01).abs() < 1e-12);
        let o = spec(Schedule::OneCycle);
        assert!(o.lr_at(30, 100, 10) > o.lr_at(0, 100, 10));
        assert!(o.lr_at(99, 100, 10) < 0.01);
    }

    #[test]
    fn both_epochs_and_steps_is_an_error() {
        let mut s = spec(Schedule::Constant);
        s.steps = Some(5);
        assert!(s.validate().unwrap_err().message.contains("both set"));
    }
}

impl TrainingSpec {
    /// e.g. `sgd lr 0.05 · one-cycle · batch 128`.
    pub fn optimizer_label(&self) -> String {
        let opt = match self.optimizer {
            OptimizerKind::Sgd => "sgd",
            OptimizerKind::Adam => "adam",
        };
        let sched = match self.schedule {
            Schedule::Constant => "constant",
            Schedule::Step => "step",
            Schedule::Cosine => "cosine",
            Schedule::OneCycle => "one-cycle",
        };
        format!("{opt} lr {} · {sched} · batch {}", self.lr, self.batch_size)
    }
}
