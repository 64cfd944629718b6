//! Train/test leakage: which test images have a near-duplicate in the training set (ciFAIR's
//! "leaky" test images), from the exact duplicate finder's test→train pairs (cached per data
//! set, see `pair_cache`).

use super::DataSet;
use super::cache::cache_dir;
use super::pair_cache::{PairSet, pairs_in};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Leakage {
    pub threshold: f64,
    /// Test indices (0-based, file order) with a training image within the threshold.
    pub leaky: Vec<u32>,
    /// Whether this came from the cache.
    #[serde(skip)]
    pub cached: bool,
}

/// The leaky test images of `ds` at `threshold`, from the user cache when it has them.
pub fn leaky_test_images(ds: &DataSet, threshold: f64) -> Leakage {
    leaky_test_images_in(ds, threshold, cache_dir().as_deref())
}

/// The same with the cache in `cache` (`None`: no cache).
pub fn leaky_test_images_in(
    ds: &DataSet,
    threshold: f64,
    cache: Option<&std::path::Path>,
) -> Leakage {
    let (pairs, cached) = pairs_in(ds, PairSet::Cross, threshold, cache, &|_, _| {});
    let mut leaky: Vec<u32> = pairs.into_iter().map(|p| p.a).collect();
    leaky.sort_unstable();
    leaky.dedup();
    Leakage {
        threshold,
        leaky,
        cached,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::load_embedded;

    /// The cache is keyed by the data: a changed training set is searched again.
    #[test]
    fn leakage_is_cached_and_the_cache_follows_the_data() {
        let dir = tempfile::tempdir().unwrap();
        let find = |ds: &DataSet| leaky_test_images_in(ds, 0.05, Some(dir.path()));
        let mut ds = load_embedded();
        let first = find(&ds);
        assert!(!first.cached);
        assert_eq!(
            first.leaky.len(),
            3,
            "the embedded subset has 3 leaky test images"
        );
        let again = find(&ds);
        assert!(again.cached);
        assert_eq!(again.leaky, first.leaky);
        // Plant an exact copy of test image 5 in the training set: a new key, a new search.
        let px = ds.test.image(5).to_vec();
        ds.train.images[..784].copy_from_slice(&px);
        let changed = find(&ds);
        assert!(!changed.cached);
        assert!(changed.leaky.contains(&5));
        assert_eq!(
            std::fs::read_dir(dir.path().join("pairs")).unwrap().count(),
            2
        );
    }
}
