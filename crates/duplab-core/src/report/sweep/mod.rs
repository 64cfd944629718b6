//! A sweep's answer: runs grouped by point (runs of one point differ only by seed), with mean ±
//! std over seeds of clean and robust accuracy, time and throughput; for class-skewed points, the
//! accuracy of the over-duplicated classes against the others.
//!
//! Three parts, one job each: `facts` reads each run's folder once, `aggregate` turns those facts
//! into points and paired comparisons (pure, unit-tested), `render` writes them as Markdown and CSV.

mod aggregate;
mod document;
mod facts;
mod family;
mod render;

pub use aggregate::{aggregate, comparisons};
pub use document::{
    BEGIN_MARKER, BlockSource, END_MARKER, SweepReport, read_block_source, render_blocks,
};
pub use facts::{RunFacts, load};
pub use family::{Family, auto_family, evaluate, metric_label, verdict};
pub use render::{comparisons_markdown, csv, markdown, runs_csv};

use super::MeanStd;
use crate::measures::Group;
use serde::{Deserialize, Serialize};

/// Mean ± sample std over seeds (the one such type of the reports).
pub type Stat = MeanStd;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PointStats {
    pub label: String,
    #[serde(default)]
    pub seeds: Vec<u64>,
    pub training: String,
    pub duplication: String,
    /// Copies / total training entries.
    pub dup_fraction: f64,
    pub robust_training: bool,
    pub clean: Option<Stat>,
    /// Robust accuracy under `robust_attack`; runs of the point measured under another attack
    /// are left out of it (attacks are never mixed).
    pub robust: Option<Stat>,
    pub robust_attack: Option<String>,
    pub duration_s: Option<Stat>,
    pub images_per_s: Option<Stat>,
    /// Classes duplicated more than average, and the rest (skewed profiles only).
    #[serde(default)]
    pub over_classes: Vec<usize>,
    pub over_clean: Option<Stat>,
    pub other_clean: Option<Stat>,
    pub over_robust: Option<Stat>,
    pub other_robust: Option<Stat>,
    /// Per-class accuracy, mean over seeds (clean, robust).
    #[serde(default)]
    pub per_class_clean: Vec<f64>,
    #[serde(default)]
    pub per_class_robust: Vec<f64>,
    /// Group metrics at the last evaluation (runs that recorded them): mean loss of the
    /// duplicated originals, the unique sample and the test set, and the membership AUC of
    /// duplicated and unique images against the test set; the same AUCs on adversarial inputs.
    pub dup_loss: Option<Stat>,
    pub unique_loss: Option<Stat>,
    pub test_loss: Option<Stat>,
    pub dup_auc: Option<Stat>,
    pub unique_auc: Option<Stat>,
    pub dup_tpr_at_1: Option<Stat>,
    pub adv_dup_auc: Option<Stat>,
    pub adv_unique_auc: Option<Stat>,
    /// Membership AUC of the logit-margin attack (tie-free; runs of earlier versions: none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dup_margin_auc: Option<Stat>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unique_margin_auc: Option<Stat>,
    /// One entry per run, for paired statistics (seed → values).
    #[serde(default)]
    pub per_seed: Vec<SeedValues>,
}

/// What one run (one seed of a point) measured, as the paired statistics use it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SeedValues {
    pub id: String,
    pub seed: u64,
    pub clean: Option<f64>,
    pub robust: Option<f64>,
    pub dup_loss: Option<f64>,
    pub unique_loss: Option<f64>,
    pub test_loss: Option<f64>,
    pub dup_auc: Option<f64>,
    pub unique_auc: Option<f64>,
    pub adv_dup_auc: Option<f64>,
    pub adv_unique_auc: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dup_margin_auc: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unique_margin_auc: Option<f64>,
    /// Per-class clean and robust accuracy (class-level paired statistics).
    #[serde(default)]
    pub per_class_clean: Vec<f64>,
    #[serde(default)]
    pub per_class_robust: Vec<f64>,
}

impl SeedValues {
    fn of(id: &str, seed: u64, s: &crate::store::Summary) -> SeedValues {
        let g = s.groups.as_ref();
        let loss = |n: Group| Some(g?.group(n)?.loss);
        let auc = |n: Group| Some(g?.membership_of(n)?.auc);
        let adv = |n: Group| Some(g?.adversarial.as_ref()?.membership_of(n)?.auc);
        let margin = |n: Group| Some(g?.margin_membership_of(n)?.auc);
        SeedValues {
            id: id.to_string(),
            seed,
            clean: s.test_acc,
            robust: s.robust_acc,
            dup_loss: loss(Group::Duplicated),
            unique_loss: loss(Group::Unique),
            test_loss: loss(Group::Test),
            dup_auc: auc(Group::Duplicated),
            unique_auc: auc(Group::Unique),
            adv_dup_auc: adv(Group::Duplicated),
            adv_unique_auc: adv(Group::Unique),
            dup_margin_auc: margin(Group::Duplicated),
            unique_margin_auc: margin(Group::Unique),
            per_class_clean: s.per_class_acc.clone(),
            per_class_robust: s.robust_per_class_acc.clone(),
        }
    }
}

impl PointStats {
    /// The point without duplication trained the same way: the control for a skewed point.
    pub fn baseline<'a>(&self, all: &'a [PointStats]) -> Option<&'a PointStats> {
        all.iter().find(|b| {
            b.dup_fraction == 0.0
                && b.robust_training == self.robust_training
                && b.training == self.training
        })
    }
}

/// One paired comparison of a report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Comparison {
    pub what: String,
    pub metric: String,
    /// `effect` (a point against its control), `gap` (duplicated − unique within runs) or
    /// `interaction` (one effect minus another).
    #[serde(default)]
    pub kind: String,
    /// Scale applied for display (100 for accuracies in points).
    pub scale: f64,
    pub stats: super::paired::Paired,
    /// Holm-adjusted p below the family's level: the one place this is decided.
    #[serde(default)]
    pub significant: bool,
}
