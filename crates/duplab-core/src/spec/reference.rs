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

impl ReferenceSpec {
    pub fn validate(&self) -> Result<(), FieldError> {
        if !(2..=MAX_MODELS).contains(&self.models) {
            return Err(FieldError::new(
                "models".into(),
                format!(
                    "is {}; allowed: 2 to {MAX_MODELS} (each image is in half of them)",
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
