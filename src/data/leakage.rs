//! Train/test leakage: which test images have a near-duplicate in the training set (ciFAIR's
//! "leaky" test images), found by the exact duplicate finder and cached per data set in the
//! user cache folder, keyed by both splits' checksums and the threshold, so a changed data set
//! is searched again and an unchanged one is not.

use super::{DataSet, checksum, find_pairs};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Leakage {
    pub threshold: f64,
    /// Test indices (0-based, file order) with a training image within the threshold.
    pub leaky: Vec<u32>,
    /// Whether this came from the cache.
    #[serde(skip)]
    pub cached: bool,
}

/// `$DUPLAB_CACHE`, else the user cache folder (`~/.cache/duplab`).
pub fn cache_dir() -> Option<PathBuf> {
    if let Some(d) = std::env::var_os("DUPLAB_CACHE") {
        return Some(PathBuf::from(d));
    }
    directories::ProjectDirs::from("", "", "duplab").map(|p| p.cache_dir().to_path_buf())
}

fn key(ds: &DataSet, threshold: f64) -> String {
    let k = format!(
        "{}|{}|{}x{}x{}|{threshold}",
        checksum(&ds.train.images),
        checksum(&ds.test.images),
        ds.train.channels,
        ds.train.height,
        ds.train.width
    );
    checksum(k.as_bytes())[..32].to_string()
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
    let file = cache.map(|d| {
        d.join("leakage")
            .join(format!("{}.json", key(ds, threshold)))
    });
    if let Some(f) = &file
        && let Ok(text) = std::fs::read_to_string(f)
        && let Ok(mut l) = serde_json::from_str::<Leakage>(&text)
    {
        l.cached = true;
        return l;
    }
    let mut leaky: Vec<u32> = find_pairs(&ds.train, Some(&ds.test), threshold, &|_, _| {})
        .into_iter()
        .map(|p| p.a)
        .collect();
    leaky.sort_unstable();
    leaky.dedup();
    let l = Leakage {
        threshold,
        leaky,
        cached: false,
    };
    // A cache that cannot be written only costs a search next time.
    if let Some(f) = &file
        && let Some(dir) = f.parent()
        && std::fs::create_dir_all(dir).is_ok()
        && let Ok(text) = serde_json::to_string(&l)
    {
        let tmp = f.with_extension("tmp");
        if std::fs::write(&tmp, text).is_ok() {
            let _ = std::fs::rename(&tmp, f);
        }
    }
    l
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
            std::fs::read_dir(dir.path().join("leakage"))
                .unwrap()
                .count(),
            2
        );
    }
}
