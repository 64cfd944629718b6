//! `config.json`: the resolved preset and everything else needed to reproduce a run.

pub use crate::measures::DedupStat;
use crate::spec::Preset;
use serde::{Deserialize, Serialize};

/// `config.json`: everything needed to reproduce the run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunConfig {
    pub id: String,
    pub preset: Preset,
    pub seed: u64,
    pub backend: String,
    pub device: String,
    pub version: String,
    pub created_at: u64,
    pub data_source: String,
    pub train_checksum: String,
    pub plan_before: Vec<usize>,
    pub plan_after: Vec<usize>,
    pub plan_chosen: Vec<usize>,
    pub class_names: Vec<String>,
    pub total_steps: usize,
    pub steps_per_epoch: usize,
    #[serde(default)]
    pub params: usize,
    #[serde(default)]
    pub sweep: Option<String>,
    /// The sweep point (`axis=value,…`) this run belongs to.
    #[serde(default)]
    pub point: Option<String>,
    /// The per-channel mean and std the model normalises its [0, 1] inputs with (the training
    /// set's, after dedup; absent in runs written before).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub input_mean: Vec<f32>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub input_std: Vec<f32>,
    /// What `duplication.dedup` removed from the training set before the plan.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dedup: Option<DedupStat>,
}
