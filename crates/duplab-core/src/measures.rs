//! What the instrument measures, as one set of types that `data` computes, `store` records and
//! `report` reads (docs/architecture.md, "the instrument"): the groups images are split by, membership
//! inference, the leaky/fair split of test accuracy and what `dedup` removed. Plain data, the bottom
//! layer with `spec`: no type here is converted field by field into another.

use serde::{Deserialize, Serialize};

/// A set of images a metric is split by. Files name groups by `name()`; maps keyed by those
/// names keep any name this version does not know (a newer file's group survives a rewrite).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Group {
    /// Originals the plan chose for copying.
    Duplicated,
    /// Near-duplicate copies of them.
    Copies,
    /// A fixed sample of the training images the plan kept but did not choose.
    Unique,
    /// Training images the plan left out (`keep_size`): non-members from the training distribution.
    Dropped,
    /// The test set: the non-members every membership figure is measured against.
    Test,
}

impl Group {
    pub const ALL: [Group; 5] = [
        Group::Duplicated,
        Group::Copies,
        Group::Unique,
        Group::Dropped,
        Group::Test,
    ];
    /// The groups of training images (members, and `dropped`): those with a membership figure.
    pub const TRAIN: [Group; 4] = [
        Group::Duplicated,
        Group::Copies,
        Group::Unique,
        Group::Dropped,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Group::Duplicated => "duplicated",
            Group::Copies => "copies",
            Group::Unique => "unique",
            Group::Dropped => "dropped",
            Group::Test => "test",
        }
    }

    pub fn parse(name: &str) -> Option<Group> {
        Group::ALL.into_iter().find(|g| g.name() == name)
    }
}

impl std::fmt::Display for Group {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// A loss-threshold membership inference of one group against the test images.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, Default)]
pub struct Membership {
    /// P(a member's loss < a non-member's) + ½ P(equal).
    pub auc: f64,
    /// TPR at 1 % and 10 % FPR, on the ROC whose tie blocks are straight segments (the expected
    /// TPR of a threshold that breaks ties at random): never below chance (runs written before
    /// took the highest TPR whose FPR was at most the target, which a large tie block could put
    /// at 0).
    pub tpr_at_1: f64,
    pub tpr_at_10: f64,
    /// The same at 0.1 % FPR (absent in runs written before): resolved only with at least
    /// 1,000 non-members.
    #[serde(default)]
    pub tpr_at_01: f64,
    /// max over thresholds of TPR − FPR.
    pub advantage: f64,
    pub members: usize,
    pub non_members: usize,
}

/// Test accuracy split the ciFAIR way: *leaky* test images (a training image lies within the
/// data set's `leak_threshold`) and the *fair* rest.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, Default)]
pub struct LeakageStat {
    pub threshold: f64,
    pub leaky: usize,
    pub fair: usize,
    pub leaky_acc: Option<f64>,
    pub fair_acc: Option<f64>,
}

impl LeakageStat {
    /// Accuracy of the leaky and the fair test images, from each image's correctness and whether
    /// it is leaky (one flag a test image, in order).
    pub fn split(threshold: f64, correct: &[bool], leaky: &[bool]) -> LeakageStat {
        let (mut n, mut k) = ([0usize; 2], [0usize; 2]);
        for (c, &l) in correct.iter().zip(leaky) {
            n[l as usize] += 1;
            k[l as usize] += *c as usize;
        }
        let acc = |i: usize| (n[i] > 0).then(|| k[i] as f64 / n[i] as f64);
        LeakageStat {
            threshold,
            leaky: n[1],
            fair: n[0],
            leaky_acc: acc(1),
            fair_acc: acc(0),
        }
    }
}

/// The near-duplicates a `dedup` run removed from its training set (recorded in `config.json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DedupStat {
    pub threshold: f64,
    /// Pairs within the threshold in the training set as read.
    pub pairs: usize,
    /// Groups of two or more images joined by those pairs (each kept its lowest index).
    pub groups: usize,
    pub removed: usize,
    pub removed_per_class: Vec<usize>,
    /// Training images left, before duplication.
    pub kept: usize,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn group_names_read_back() {
        for g in Group::ALL {
            assert_eq!(Group::parse(g.name()), Some(g));
        }
        assert_eq!(Group::parse("leaky"), None);
        assert!(!Group::TRAIN.contains(&Group::Test));
    }

    #[test]
    fn the_leakage_split_counts_each_side() {
        let s = LeakageStat::split(0.1, &[true, false, true, true], &[true, true, false, false]);
        assert_eq!((s.leaky, s.fair), (2, 2));
        assert_eq!((s.leaky_acc, s.fair_acc), (Some(0.5), Some(1.0)));
        let none = LeakageStat::split(0.1, &[true], &[false]);
        assert_eq!(none.leaky_acc, None);
    }
}
