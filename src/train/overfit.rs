//! The catastrophic-overfitting check of FGSM / FGSM-RS training (Wong et al. 2020), on its own
//! step interval (`training.overfit_every`; by default once per epoch of the un-duplicated set):
//! accuracy of a fixed batch of 256 training images under PGD-10 and under FGSM at the training
//! ε. The model stops being robust to multi-step attacks within an epoch while it gets *more*
//! accurate on FGSM examples; an alarm is a PGD accuracy below 30 % of its best so far while FGSM
//! accuracy held within `training.overfit_tolerance` (`OverfitStat::collapsed`). Its history is
//! part of the checkpoint, and its attacks draw from a generator seeded by (seed, step), so a
//! resumed run checks, and alarms, exactly as an uninterrupted one.

use super::DeviceData;
use super::eval::{per_image_adversarial, tally_per_image};
use crate::data::rng::Rng;
use crate::nn::Net;
use crate::spec::{AttackKind, AttackSpec, Preset};
use crate::store::{OverfitHistory, OverfitRecord, OverfitStat};
use burn::prelude::*;

/// Training images a check attacks.
const IMAGES: usize = 256;

/// When and how a run is checked.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OverfitCheck {
    /// Steps between checks.
    pub every: usize,
    pub tolerance: f64,
    classes: usize,
}

impl OverfitCheck {
    /// The run's check: FGSM and FGSM-RS training only (`None` otherwise). `epoch` is the
    /// un-duplicated set's epoch in steps (the default interval).
    pub fn of(preset: &Preset, epoch: usize, classes: usize) -> Option<OverfitCheck> {
        let a = &preset.attack.train;
        if !matches!(a.kind, AttackKind::Fgsm | AttackKind::FgsmRs) || a.eps <= 0.0 {
            return None;
        }
        let t = &preset.training;
        Some(OverfitCheck {
            every: if t.overfit_every == 0 {
                epoch.max(1)
            } else {
                t.overfit_every
            },
            tolerance: t.overfit_tolerance,
            classes,
        })
    }

    pub fn due(&self, step: usize) -> bool {
        step > 0 && step % self.every == 0
    }

    /// Check `model` after `step`, judge it against `history` and add it there.
    pub fn run(
        &self,
        model: &Net,
        pool: &DeviceData,
        device: &Device,
        preset: &Preset,
        seed: u64,
        step: usize,
        history: &mut OverfitHistory,
    ) -> OverfitRecord {
        device.seed(Rng::derive(seed, "overfit", step as u64).next_u64());
        let train_attack = &preset.attack.train;
        let idx: Vec<u32> = (0..pool.len().min(IMAGES) as u32).collect();
        let eps = train_attack.eps;
        let acc = |spec: &AttackSpec| {
            let p = per_image_adversarial(model, pool, &idx, spec, 0, device, &mut |_, _| {});
            tally_per_image(&p, self.classes).acc
        };
        let pgd_acc = acc(&AttackSpec {
            kind: AttackKind::Pgd,
            norm: train_attack.norm,
            eps,
            step: eps / 4.0,
            steps: 10,
            ..AttackSpec::default()
        });
        let fgsm_acc = acc(&AttackSpec {
            kind: AttackKind::Fgsm,
            norm: train_attack.norm,
            eps,
            ..AttackSpec::default()
        });
        let stat = OverfitStat {
            images: idx.len(),
            pgd_acc,
            fgsm_acc,
            alarm: OverfitStat::collapsed(history, pgd_acc, fgsm_acc, self.tolerance),
        };
        history.push(&stat);
        OverfitRecord { step, stat }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fgsm_training_is_checked_once_an_epoch_unless_told_otherwise() {
        let mut p = crate::spec::find_preset("default-fgsm", &[]).unwrap();
        let c = OverfitCheck::of(&p, 79, 10).unwrap();
        assert_eq!((c.every, c.tolerance), (79, 0.02));
        assert!(!c.due(0) && c.due(79) && !c.due(80) && c.due(158));
        p.training.overfit_every = 25;
        assert_eq!(OverfitCheck::of(&p, 79, 10).unwrap().every, 25);
        p.attack.train.kind = AttackKind::Pgd;
        assert!(
            OverfitCheck::of(&p, 79, 10).is_none(),
            "PGD training is not checked"
        );
        let standard = crate::spec::find_preset("default", &[]).unwrap();
        assert!(OverfitCheck::of(&standard, 79, 10).is_none());
    }
}
