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
    /// The ladder as one attack, per image as AutoAttack counts it: the share of images that
    /// are classified right clean and under every rung (cards written before: absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ensemble_acc: Option<f64>,
}

/// Where a run's time went, in seconds, summed over its sessions (a resumed run adds to it).
/// The parts are timed around the trainer's named steps; on an asynchronous device (wgpu) a
/// step's queued work may be counted in the next part that reads a result back.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct TimeSplit {
    /// Loading the data, the plan, the leakage search, building the model, uploading the data.
    pub prepare_s: f64,
    /// Optimiser steps (adversarial examples of training included) and their metric records.
    pub steps_s: f64,
    /// The clean pass over the test set at each evaluation.
    pub test_s: f64,
    /// The robust evaluation of test images.
    pub robust_s: f64,
    /// Group metrics (duplicated, unique, dropped, test; clean and adversarial).
    pub groups_s: f64,
    /// The catastrophic-overfitting check (FGSM / FGSM-RS training only).
    pub overfit_s: f64,
    /// Checkpoints and the final weights.
    pub save_s: f64,
}

impl TimeSplit {
    pub fn total(&self) -> f64 {
        self.prepare_s
            + self.steps_s
            + self.test_s
            + self.robust_s
            + self.groups_s
            + self.overfit_s
            + self.save_s
    }

    /// `prepare 1.2 s (4 %) · steps 23.1 s (71 %) · …`: the parts that took at least 0.05 s, in
    /// the order a run goes through them.
    pub fn describe(&self) -> String {
        let total = self.total().max(1e-9);
        [
            ("prepare", self.prepare_s),
            ("steps", self.steps_s),
            ("test", self.test_s),
            ("robust", self.robust_s),
            ("groups", self.groups_s),
            ("overfit check", self.overfit_s),
            ("saving", self.save_s),
        ]
        .iter()
        .filter(|(_, s)| *s >= 0.05)
        .map(|(n, s)| format!("{n} {s:.1} s ({:.0} %)", 100.0 * s / total))
        .collect::<Vec<_>>()
        .join(" · ")
    }
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
    /// Where the run's time went (runs written before it have none).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time_split: Option<TimeSplit>,
    /// What the training steps moved between host and device (runs written before it have none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transfers: Option<Transfers>,
}

/// The host↔device crossings of a run's training steps (evaluations, metric records and
/// checkpoints apart), over every session of the run: uploads of host data and blocking
/// readbacks of tensor values. The trainer's goal is one upload a step (the batch's indices with
/// the augmentation's offsets) and no readback.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Transfers {
    pub steps: u64,
    pub uploads: u64,
    pub readbacks: u64,
}

#[cfg(test)]
mod time_split_tests {
    use super::*;

    #[test]
    fn time_split_totals_and_describes_the_parts_that_took_time() {
        let t = TimeSplit {
            prepare_s: 1.0,
            steps_s: 6.0,
            test_s: 2.0,
            robust_s: 0.5,
            groups_s: 0.0,
            overfit_s: 0.01,
            save_s: 0.5,
        };
        assert!((t.total() - 10.01).abs() < 1e-12);
        assert_eq!(
            t.describe(),
            "prepare 1.0 s (10 %) · steps 6.0 s (60 %) · test 2.0 s (20 %) · robust 0.5 s (5 %) · saving 0.5 s (5 %)"
        );
        // Round trip, and a summary written before the split reads back without one.
        let s = Summary {
            time_split: Some(t.clone()),
            ..Summary::default()
        };
        let back: Summary = serde_json::from_str(&serde_json::to_string(&s).unwrap()).unwrap();
        assert_eq!(back.time_split, Some(t));
        let old: Summary = serde_json::from_str(r#"{"format": 2, "duration_s": 3.0}"#).unwrap();
        assert_eq!(old.time_split, None);
    }
}
