//! Groups of images that metrics are split by (docs/architecture.md, "the instrument"): what a duplication
//! plan did to each training image decides its group. Indices are into the *pool* a trainer
//! uploads (`Plan::materialise`): the train split first, in file order, then near-duplicate
//! copies, so a train index is a pool index.

use super::plan::Plan;
use super::rng::Rng;
use crate::measures::Group;
use serde::{Deserialize, Serialize};

/// How many unique (never chosen) training images stand for the unique group.
pub const UNIQUE_SAMPLE: usize = 2000;

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Groups {
    /// Originals the plan chose for copying (members seen `1 + copies` times per epoch).
    pub duplicated: Vec<u32>,
    /// Near-duplicate copies (jittered images appended to the pool); empty for exact copies.
    pub copies: Vec<u32>,
    /// A fixed seeded sample of the training images the plan kept but did not choose.
    pub unique: Vec<u32>,
    /// Training images the plan left out (`keep_size`): non-members drawn from the training
    /// distribution, the cleanest membership baseline.
    pub dropped: Vec<u32>,
}

impl Groups {
    /// The member groups and the non-member train group (`dropped`), those that hold images.
    pub fn named(&self) -> Vec<(Group, &[u32])> {
        let mut v: Vec<(Group, &[u32])> = vec![];
        for (group, g) in [
            (Group::Duplicated, &self.duplicated),
            (Group::Copies, &self.copies),
            (Group::Unique, &self.unique),
            (Group::Dropped, &self.dropped),
        ] {
            if !g.is_empty() {
                v.push((group, g.as_slice()));
            }
        }
        v
    }
}

/// Which group each image of a plan is in. `train_len` is the train split's size; `sample`
/// caps the unique group (a seeded choice, the same at every evaluation of a run).
pub fn groups(plan: &Plan, train_len: usize, sample: usize, seed: u64) -> Groups {
    let mut in_plan = vec![false; train_len];
    for &i in &plan.indices[..plan.originals] {
        in_plan[i as usize] = true;
    }
    let mut chosen = vec![false; train_len];
    // Copied images, or (the reweighting control) images weighted up instead.
    for &i in plan.indices[plan.originals..].iter().chain(&plan.weighted) {
        chosen[i as usize] = true;
    }
    let copies = plan.copies();
    let duplicated: Vec<u32> = (0..train_len as u32)
        .filter(|&i| chosen[i as usize])
        .collect();
    let near: Vec<u32> = if plan.jitter.is_empty() {
        vec![]
    } else {
        (0..copies as u32).map(|k| train_len as u32 + k).collect()
    };
    let mut unique: Vec<u32> = (0..train_len as u32)
        .filter(|&i| in_plan[i as usize] && !chosen[i as usize])
        .collect();
    if unique.len() > sample {
        Rng::derive(seed, "unique-sample", 0).shuffle(&mut unique);
        unique.truncate(sample);
        unique.sort_unstable();
    }
    let dropped = (0..train_len as u32)
        .filter(|&i| !in_plan[i as usize])
        .collect();
    Groups {
        duplicated,
        copies: near,
        unique,
        dropped,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::make_plan;
    use crate::spec::{DupMode, DuplicationSpec, Profile};

    fn labels() -> Vec<u8> {
        (0..1000).map(|i| (i % 10) as u8).collect()
    }

    fn spec(rate: f64, copies: usize, keep: bool, mode: DupMode) -> DuplicationSpec {
        DuplicationSpec {
            profile: Profile::Uniform,
            rate: Some(rate),
            copies,
            keep_size: keep,
            mode,
            ..Default::default()
        }
    }

    #[test]
    fn every_train_image_lands_in_exactly_the_right_group() {
        let l = labels();
        let plan = make_plan(&spec(0.1, 4, false, DupMode::Exact), &l, 10, 0).unwrap();
        let g = groups(&plan, l.len(), usize::MAX, 1);
        // The chosen originals are exactly the images the copies repeat.
        let mut copied: Vec<u32> = plan.indices[plan.originals..].to_vec();
        copied.sort_unstable();
        copied.dedup();
        assert_eq!(g.duplicated, copied);
        assert_eq!(g.duplicated.len(), 100);
        assert_eq!(plan.copies(), 4 * g.duplicated.len());
        assert!(
            g.copies.is_empty(),
            "exact copies are the originals themselves"
        );
        assert!(g.dropped.is_empty());
        assert_eq!(g.unique.len(), 900);
        assert!(g.unique.iter().all(|i| !g.duplicated.contains(i)));
    }

    #[test]
    fn keep_size_drops_images_and_near_mode_names_its_copies() {
        let l = labels();
        let plan = make_plan(&spec(0.1, 2, true, DupMode::Near), &l, 10, 0).unwrap();
        let g = groups(&plan, l.len(), usize::MAX, 1);
        assert_eq!(g.duplicated.len(), 100);
        assert_eq!(
            g.dropped.len(),
            200,
            "each chosen image displaces 2 unchosen ones"
        );
        assert_eq!(g.copies, (1000..1200).collect::<Vec<u32>>());
        assert_eq!(g.unique.len(), 1000 - 100 - 200);
        let kept: std::collections::HashSet<u32> =
            plan.indices[..plan.originals].iter().copied().collect();
        assert!(g.dropped.iter().all(|i| !kept.contains(i)));
        assert!(g.duplicated.iter().all(|i| kept.contains(i)));
    }

    #[test]
    fn the_unique_sample_is_seeded_and_capped() {
        let l = labels();
        let plan = make_plan(&spec(0.0, 1, false, DupMode::Exact), &l, 10, 0).unwrap();
        let a = groups(&plan, l.len(), 50, 7);
        assert_eq!(a.unique.len(), 50);
        assert_eq!(a, groups(&plan, l.len(), 50, 7));
        assert_ne!(a.unique, groups(&plan, l.len(), 50, 8).unique);
        assert!(a.duplicated.is_empty() && a.named().len() == 1);
    }
}
