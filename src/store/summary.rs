use serde::{Deserialize, Serialize};

/// `summary.json`: the headline numbers of a run, rewritten (atomically) as it goes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct Summary {
    pub epochs_done: usize,
    pub steps_done: usize,
    pub total_steps: usize,
    pub test_acc: Option<f64>,
    pub best_test_acc: Option<f64>,
    pub test_loss: Option<f64>,
    pub robust_acc: Option<f64>,
    pub robust_attack: Option<String>,
    pub per_class_acc: Vec<f64>,
    pub robust_per_class_acc: Vec<f64>,
    pub train_loss: Option<f64>,
    pub images_per_s: Option<f64>,
    pub duration_s: f64,
    pub train_size: usize,
    pub distinct_images: usize,
    pub error: Option<String>,
    pub finished_at: Option<u64>,
}
