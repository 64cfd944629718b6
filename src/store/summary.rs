use super::metrics::{GroupMetrics, LeakageStat};
use serde::{Deserialize, Serialize};

/// The `summary.json` format this version writes. Files without the field are format 1 (written
/// before group metrics); readers take every older format.
pub const SUMMARY_FORMAT: u32 = 2;

fn format_one() -> u32 {
    1
}

/// An evaluation card: each attack of the ladder with the robust accuracy it left, the probes,
/// and the flags they raised.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct CardStat {
    pub eps: f64,
    pub norm: String,
    pub images: usize,
    pub clean_acc: f64,
    /// (attack, robust accuracy), weakest attack first.
    pub attacks: Vec<(String, f64)>,
    pub noise_acc: f64,
    pub large_eps: f64,
    pub large_eps_acc: f64,
    pub zero_grad_fraction: f64,
    pub flags: Vec<String>,
}

/// `summary.json`: the headline numbers of a run, rewritten (atomically) as it goes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct Summary {
    #[serde(default = "format_one")]
    pub format: u32,
    /// Evaluation points done (epochs only when the run is measured in epochs); runs written
    /// before the rename call it `epochs_done`.
    #[serde(alias = "epochs_done")]
    pub evaluations_done: usize,
    pub steps_done: usize,
    pub total_steps: usize,
    pub test_acc: Option<f64>,
    pub best_test_acc: Option<f64>,
    pub test_loss: Option<f64>,
    pub robust_acc: Option<f64>,
    pub robust_attack: Option<String>,
    #[serde(deserialize_with = "super::metrics::nan::vec")]
    pub per_class_acc: Vec<f64>,
    #[serde(deserialize_with = "super::metrics::nan::vec")]
    pub robust_per_class_acc: Vec<f64>,
    pub train_loss: Option<f64>,
    pub images_per_s: Option<f64>,
    pub duration_s: f64,
    pub train_size: usize,
    pub distinct_images: usize,
    pub error: Option<String>,
    pub finished_at: Option<u64>,
    /// Group metrics of the latest evaluation that computed them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub groups: Option<GroupMetrics>,
    /// Robust evaluations added after training (`duplab eval`), keyed by their attack (kind,
    /// norm, ε, steps, step, restarts, images): each attack keeps its own result, and the
    /// training-time `robust_acc` is never overwritten.
    #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub evaluations: std::collections::BTreeMap<String, super::metrics::RobustRecord>,
    /// The evaluation card (`duplab eval --card`): the attack ladder and the sanity flags.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub card: Option<CardStat>,
    /// Why the run ended before its last step (the catastrophic-overfitting check).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub early_stop: Option<String>,
    /// Clean accuracy on leaky and fair test images at the latest evaluation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub leakage: Option<LeakageStat>,
}
