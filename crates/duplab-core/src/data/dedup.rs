//! The dedup control, the study run backwards: remove the near-duplicates a real training set
//! already holds before the duplication plan is built. Images joined by pairs under the
//! threshold form groups (connected components); each group keeps its lowest index.

use super::pair_cache::{PairSet, pairs_in};
use super::{DataSet, Pair, Split};
use std::path::Path;

/// What deduplication removed.
#[derive(Debug, Clone, PartialEq)]
pub struct Dedup {
    pub threshold: f64,
    /// Pairs under the threshold found within the training set.
    pub pairs: usize,
    /// Groups of two or more images.
    pub groups: usize,
    /// Removed training indices (0-based, file order), ascending.
    pub removed: Vec<u32>,
    /// Removed images per class.
    pub removed_per_class: Vec<usize>,
}

impl Dedup {
    /// What `config.json` records of this: counts, and the training images left (`kept`).
    pub fn stat(&self, kept: usize) -> crate::measures::DedupStat {
        crate::measures::DedupStat {
            threshold: self.threshold,
            pairs: self.pairs,
            groups: self.groups,
            removed: self.removed.len(),
            removed_per_class: self.removed_per_class.clone(),
            kept,
        }
    }
}

fn find(parent: &mut [u32], mut x: u32) -> u32 {
    while parent[x as usize] != x {
        // Path halving keeps the trees flat.
        parent[x as usize] = parent[parent[x as usize] as usize];
        x = parent[x as usize];
    }
    x
}

/// Indices to remove from `n` images so that no two left are joined by `pairs` (within one
/// split), and how many groups there were: every connected component keeps its lowest index.
pub fn components(n: usize, pairs: &[Pair]) -> (Vec<u32>, usize) {
    let mut parent: Vec<u32> = (0..n as u32).collect();
    for p in pairs {
        let (ra, rb) = (find(&mut parent, p.a), find(&mut parent, p.b));
        // The smaller root wins, so each component's root is its lowest index.
        let (lo, hi) = (ra.min(rb), ra.max(rb));
        parent[hi as usize] = lo;
    }
    let mut removed = vec![];
    let mut roots_with_members = std::collections::HashSet::new();
    for i in 0..n as u32 {
        let r = find(&mut parent, i);
        if r != i {
            removed.push(i);
            roots_with_members.insert(r);
        }
    }
    (removed, roots_with_members.len())
}

/// The split without the images at `removed` (ascending indices).
pub fn without(s: &Split, removed: &[u32]) -> Split {
    let size = s.image_size();
    let mut images = Vec::with_capacity(s.images.len());
    let mut labels = Vec::with_capacity(s.len());
    let mut skip = removed.iter().peekable();
    for i in 0..s.len() {
        if skip.peek().is_some_and(|&&r| r as usize == i) {
            skip.next();
            continue;
        }
        images.extend_from_slice(&s.images[i * size..(i + 1) * size]);
        labels.push(s.labels[i]);
    }
    Split {
        images,
        labels,
        ..*s
    }
}

/// `ds` with its training set deduplicated at `threshold` (pairs from the cache in `cache`
/// when it has them).
pub fn deduplicate(
    ds: &DataSet,
    threshold: f64,
    cache: Option<&Path>,
    progress: &(dyn Fn(usize, usize) + Sync),
) -> (DataSet, Dedup) {
    let (pairs, _) = pairs_in(ds, PairSet::Train, threshold, cache, progress);
    let (removed, groups) = components(ds.train.len(), &pairs);
    let mut removed_per_class = vec![0; ds.num_classes()];
    for &i in &removed {
        removed_per_class[ds.train.labels[i as usize] as usize] += 1;
    }
    let out = DataSet {
        train: without(&ds.train, &removed),
        ..ds.clone()
    };
    (
        out,
        Dedup {
            threshold,
            pairs: pairs.len(),
            groups,
            removed,
            removed_per_class,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::load_embedded;

    fn pair(a: u32, b: u32) -> Pair {
        Pair {
            a,
            b,
            sq: 1,
            dist: 0.0,
        }
    }

    #[test]
    fn each_connected_group_keeps_its_lowest_index() {
        // Groups {1, 4, 7} (a chain whose ends are not paired), {2, 9}; 0, 3, 5, 6, 8 alone.
        let (removed, groups) = components(10, &[pair(4, 7), pair(1, 4), pair(2, 9)]);
        assert_eq!(removed, vec![4, 7, 9]);
        assert_eq!(groups, 2);
        let (removed, groups) = components(5, &[]);
        assert!(removed.is_empty() && groups == 0);
    }

    #[test]
    fn planted_duplicates_are_removed_and_the_cache_follows_the_data() {
        let cache = tempfile::tempdir().unwrap();
        let mut ds = load_embedded();
        let before = deduplicate(&ds, 0.0, Some(cache.path()), &|_, _| {}).1;
        // Plant exact copies: image 10 over 11 and 12 (three of a kind), image 20 over 500.
        let size = ds.train.image_size();
        for (from, to) in [(10usize, 11usize), (10, 12), (20, 500)] {
            let px = ds.train.images[from * size..(from + 1) * size].to_vec();
            ds.train.images[to * size..(to + 1) * size].copy_from_slice(&px);
        }
        let (out, d) = deduplicate(&ds, 0.0, Some(cache.path()), &|_, _| {});
        for i in [11, 12, 500] {
            assert!(d.removed.contains(&i), "{i} removed: {:?}", d.removed);
        }
        for i in [10, 20] {
            assert!(!d.removed.contains(&i), "{i} kept");
        }
        assert_eq!(d.removed.len(), before.removed.len() + 3);
        assert_eq!(out.train.len(), ds.train.len() - d.removed.len());
        assert_eq!(d.removed_per_class.iter().sum::<usize>(), d.removed.len());
        // Image 13 of the original is image 11 of the deduplicated set (11 and 12 gone).
        let kept13 = out.train.image(13 - 2).to_vec();
        assert!(
            before.removed.iter().all(|&r| r > 13),
            "no earlier removal shifts it"
        );
        assert_eq!(kept13, ds.train.image(13));
        assert_eq!(out.test, ds.test, "the test set is untouched");
        assert_eq!(
            std::fs::read_dir(cache.path().join("pairs"))
                .unwrap()
                .count(),
            2,
            "changed data, a new cache entry"
        );
    }
}
