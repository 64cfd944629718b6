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
    /// SHA-256 of the training labels and of the test split (runs written before record only
    /// `train_checksum`); a resume refuses data that differs in any of them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_checksums: Option<DataChecksums>,
}

/// The checksums of a data set's parts besides the training images (`train_checksum`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DataChecksums {
    pub train_labels: String,
    pub test_images: String,
    pub test_labels: String,
}

impl RunConfig {
    /// The first part of the data that differs from what this run recorded ("training images",
    /// "training labels", "test images", "test labels"), given the checksums of the data now
    /// loaded; `None` when all recorded parts agree. Parts a run did not record (an older
    /// version's config) are not compared.
    pub fn data_differs(&self, train_images: &str, now: &DataChecksums) -> Option<&'static str> {
        if !self.train_checksum.is_empty() && self.train_checksum != train_images {
            return Some("training images");
        }
        let old = self.data_checksums.as_ref()?;
        [
            ("training labels", &old.train_labels, &now.train_labels),
            ("test images", &old.test_images, &now.test_images),
            ("test labels", &old.test_labels, &now.test_labels),
        ]
        .into_iter()
        .find(|(_, a, b)| a != b)
        .map(|(part, _, _)| part)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sums(tag: &str) -> DataChecksums {
        DataChecksums {
            train_labels: format!("tl{tag}"),
            test_images: format!("ti{tag}"),
            test_labels: format!("te{tag}"),
        }
    }

    fn config(train: &str, rest: Option<DataChecksums>) -> RunConfig {
        let preset = crate::spec::find_preset("default", &[]).unwrap();
        let mut c = crate::store::synthetic::config("r", preset, 0, vec![]);
        c.train_checksum = train.into();
        c.data_checksums = rest;
        c
    }

    #[test]
    fn every_recorded_part_of_the_data_is_compared() {
        let c = config("a", Some(sums("1")));
        assert_eq!(c.data_differs("a", &sums("1")), None);
        assert_eq!(c.data_differs("b", &sums("1")), Some("training images"));
        let mut other = sums("1");
        other.train_labels = "x".into();
        assert_eq!(c.data_differs("a", &other), Some("training labels"));
        let mut other = sums("1");
        other.test_images = "x".into();
        assert_eq!(c.data_differs("a", &other), Some("test images"));
        let mut other = sums("1");
        other.test_labels = "x".into();
        assert_eq!(c.data_differs("a", &other), Some("test labels"));
    }

    #[test]
    fn an_older_config_compares_what_it_recorded() {
        // Written before the labels and test split were recorded: only the training images.
        let c = config("a", None);
        assert_eq!(c.data_differs("a", &sums("2")), None);
        assert_eq!(c.data_differs("b", &sums("2")), Some("training images"));
        // Older still: nothing recorded, nothing to compare.
        assert_eq!(config("", None).data_differs("b", &sums("2")), None);
        // And such a config still reads.
        let json = serde_json::to_string(&config("a", None)).unwrap();
        assert!(!json.contains("data_checksums"));
        let back: RunConfig = serde_json::from_str(&json).unwrap();
        assert_eq!(back.data_checksums, None);
    }
}
