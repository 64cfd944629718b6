//! `reference.json`: what a reference model leaves for the membership attacks — which pool images
//! it trained on, how often each occurs in the (fixed) duplication plan, and the logit margin φ
//! of every pool image under its final weights.

use super::{Run, StoreError, layout};
use crate::atomic::Durability;
use serde::{Deserialize, Serialize};

/// Format of `reference.json`; a reader refuses another.
pub const REFERENCE_FORMAT: u32 = 1;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReferenceScores {
    pub format: u32,
    /// How many reference models the study has, and which one this is (the run's seed).
    pub models: usize,
    pub index: usize,
    /// Seed of the membership draw.
    pub seed: u64,
    /// SHA-256 of the pool's images (the training split): every model of a study must agree.
    pub pool_checksum: String,
    /// Labels of the pool images.
    pub labels: Vec<u8>,
    /// Occurrences each pool image has in the fixed plan when it is a member (k ≥ 1).
    pub occurrences: Vec<u8>,
    /// One character per pool image: `1` = this model trained on it, `0` = not.
    pub members: String,
    /// Non-members with a near-duplicate among this model's members (RMS distance at most
    /// `threshold`): left out of the non-members an attack is scored on.
    pub shadowed: Vec<u32>,
    pub threshold: f64,
    /// The logit margin φ = z_y − log Σ_{j≠y} e^{z_j} of every pool image (f64, clean input).
    pub phi: Vec<f64>,
    /// The step the weights are from.
    pub step: usize,
}

impl ReferenceScores {
    pub fn member(&self) -> Vec<bool> {
        self.members.bytes().map(|b| b == b'1').collect()
    }

    /// Every per-image list has the pool's length, and the format is this version's.
    pub fn check(&self) -> Result<(), String> {
        if self.format != REFERENCE_FORMAT {
            return Err(format!(
                "format {} (this version reads {REFERENCE_FORMAT})",
                self.format
            ));
        }
        let n = self.phi.len();
        for (what, len) in [
            ("labels", self.labels.len()),
            ("occurrences", self.occurrences.len()),
            ("members", self.members.len()),
        ] {
            if len != n {
                return Err(format!("{what} has {len} entries, phi has {n}"));
            }
        }
        if self.members.bytes().any(|b| b != b'0' && b != b'1') {
            return Err("members holds characters other than 0 and 1".into());
        }
        if self.index >= self.models {
            return Err(format!("index {} of {} models", self.index, self.models));
        }
        Ok(())
    }
}

impl Run {
    pub fn write_reference(&self, r: &ReferenceScores) -> Result<(), StoreError> {
        let bytes = serde_json::to_vec(r)
            .map_err(|e| StoreError::Corrupt(self.dir.clone(), e.to_string()))?;
        self.replace(layout::REFERENCE, &bytes, Durability::Sync)
    }

    /// `reference.json`, `None` when the run is no reference model (or has not finished).
    pub fn reference(&self) -> Result<Option<ReferenceScores>, StoreError> {
        let r: Option<ReferenceScores> = self.read_json(layout::REFERENCE, "reference scores")?;
        if let Some(r) = &r {
            r.check()
                .map_err(|e| StoreError::Corrupt(self.dir.join(layout::REFERENCE), e))?;
        }
        Ok(r)
    }
}
