//! The duplicate finder's results, cached per data set in the user cache folder: one file per
//! (pair set, threshold, data), keyed by the checksums of the splits searched, so a changed data
//! set is searched again and an unchanged one never is. `duplab data dups`, the lab's Data
//! screen, the trainer's leakage split and the `dedup` control all read pairs through here.

use super::cache::cache_dir;
use super::{DataSet, Pair, Split, checksum, find_pairs};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// Which pairs: within the training set, within the test set, or each test image against the
/// training set (`a` a test index, `b` a train index).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PairSet {
    Train,
    Test,
    Cross,
}

impl PairSet {
    pub const ALL: [PairSet; 3] = [PairSet::Train, PairSet::Test, PairSet::Cross];
    pub fn label(self) -> &'static str {
        match self {
            PairSet::Train => "train",
            PairSet::Test => "test",
            PairSet::Cross => "test→train",
        }
    }
    /// The split `a` indexes and the split `b` indexes.
    pub fn splits(self, ds: &DataSet) -> (&Split, &Split) {
        match self {
            PairSet::Train => (&ds.train, &ds.train),
            PairSet::Test => (&ds.test, &ds.test),
            PairSet::Cross => (&ds.test, &ds.train),
        }
    }
}

fn shape(s: &Split) -> String {
    format!("{}x{}x{}", s.channels, s.height, s.width)
}

/// The cache key: what was searched (the bytes of every split involved), how, and how far.
fn key(ds: &DataSet, set: PairSet, threshold: f64) -> String {
    let (a, b) = set.splits(ds);
    let k = format!(
        "pairs-v1|{set:?}|{}|{}|{}|{}|{threshold}",
        checksum(&a.images),
        checksum(&b.images),
        shape(a),
        shape(b)
    );
    checksum(k.as_bytes())[..32].to_string()
}

/// Whether every pair indexes into its splits (a cache file is checked before it is trusted).
fn pairs_fit(pairs: &[Pair], (a, b): (&Split, &Split)) -> bool {
    pairs
        .iter()
        .all(|p| (p.a as usize) < a.len() && (p.b as usize) < b.len())
}

/// The pair cache's kind in the cache format (`data::cache`).
const CACHE_KIND: &str = "pairs-v2";

/// The pairs of `set` within `threshold`, and whether they came from the cache in `cache`
/// (`None`: no cache). `progress(done, total)` follows a search.
pub fn pairs_in(
    ds: &DataSet,
    set: PairSet,
    threshold: f64,
    cache: Option<&Path>,
    progress: &(dyn Fn(usize, usize) + Sync),
) -> (Vec<Pair>, bool) {
    let file = cache.map(|d| {
        d.join("pairs")
            .join(format!("{}.bin", key(ds, set, threshold)))
    });
    if let Some(f) = &file
        && let Some((h, payload)) = super::cache::read(f, CACHE_KIND)
        && serde_json::from_value::<PairSet>(h["set"].clone()).ok() == Some(set)
        && h["threshold"].as_f64() == Some(threshold)
        && let Ok(pairs) = serde_json::from_slice::<Vec<Pair>>(&payload)
        && pairs_fit(&pairs, set.splits(ds))
    {
        return (pairs, true);
    }
    let pairs = match set {
        PairSet::Train => find_pairs(&ds.train, None, threshold, progress),
        PairSet::Test => find_pairs(&ds.test, None, threshold, progress),
        PairSet::Cross => find_pairs(&ds.train, Some(&ds.test), threshold, progress),
    };
    // A cache that cannot be written only costs a search next time.
    if let Some(f) = &file
        && let Ok(payload) = serde_json::to_vec(&pairs)
    {
        let header = serde_json::json!({ "set": set, "threshold": threshold });
        let _ = super::cache::write(f, CACHE_KIND, header, &[&payload]);
    }
    (pairs, false)
}

/// The same with the user cache folder.
pub fn pairs(
    ds: &DataSet,
    set: PairSet,
    threshold: f64,
    progress: &(dyn Fn(usize, usize) + Sync),
) -> (Vec<Pair>, bool) {
    pairs_in(ds, set, threshold, cache_dir().as_deref(), progress)
}
