//! The reference-model spec: a preset whose runs are the reference models of a membership study.
//! Model `s` (the run's seed) trains on a seeded random half of the training split (the pool);
//! which half is drawn per image so that every image is in exactly ⌊models / 2⌋ of the models.
//! The duplication plan is the same in every model (a fixed plan seed): only membership is random.

use super::FieldError;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReferenceSpec {
    /// How many reference models the study trains (N): seeds 0 to N − 1.
    pub models: usize,
    /// Seed of the membership draw (which half of the pool each model trains on).
    #[serde(default)]
    pub seed: u64,
}

/// Most reference models a study may declare (LiRA used 256 on CIFAR-10).
pub const MAX_MODELS: usize = 1024;
/// Fewest: 8. A target then keeps at least 2 IN and 2 OUT references for every image even when
/// the findings' jackknife leaves one more model out (6 would leave some images one).
pub const MIN_MODELS: usize = 8;

impl ReferenceSpec {
    pub fn validate(&self) -> Result<(), FieldError> {
        // Each image is in half the models; a target leaves N/2 − 1 references on each side of
        // every image, and the per-image Gaussians need two.
        if !(MIN_MODELS..=MAX_MODELS).contains(&self.models) || self.models % 2 == 1 {
            return Err(FieldError::new(
                "models".into(),
                format!(
                    "is {}; allowed: an even number from {MIN_MODELS} to {MAX_MODELS} (each image is in half of them, and a target needs two IN and two OUT references for every image)",
                    self.models
                ),
            ));
        }
        Ok(())
    }

    /// The reference model a run of seed `seed` trains, or why it names none.
    pub fn model_of(&self, seed: u64) -> Result<usize, String> {
        if seed < self.models as u64 {
            Ok(seed as usize)
        } else {
            Err(format!(
                "seed {seed} names no reference model: reference.models is {}, so the seeds are 0 to {}",
                self.models,
                self.models - 1
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::spec::default_with as load;

    #[test]
    fn a_reference_preset_is_checked_where_it_loads() {
        assert!(load(&["reference.models=16"]).is_ok());
        let e = load(&["reference.models=7"]).unwrap_err();
        assert!(
            e.contains("reference.models") && e.contains("even number from 8"),
            "{e}"
        );
        let e = load(&["reference.models=6"]).unwrap_err();
        assert!(e.contains("reference.models"), "{e}");
        let e = load(&["reference.models=8", "training.seeds=[0, 8]"]).unwrap_err();
        assert!(e.contains("training.seeds") && e.contains("seed 8"), "{e}");
        let e = load(&["reference.models=8", "duplication.seed=\"run\""]).unwrap_err();
        assert!(e.contains("duplication.seed"), "{e}");
        let e = load(&["duplication.occurrences=[2, 4]", "duplication.copies=3"]).unwrap_err();
        assert!(e.contains("duplication.copies"), "{e}");
        let e = load(&["reference.models=8", "duplication.mode=weight"]).unwrap_err();
        assert!(e.contains("duplication.mode"), "{e}");
        let e = load(&["duplication.occurrences=[1]"]).unwrap_err();
        assert!(
            e.contains("duplication.occurrences") && e.contains("2 to 101"),
            "{e}"
        );
    }
}
