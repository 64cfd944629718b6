//! Reference models' training sets: which half of the pool (the training split) each model
//! trains on, the fixed duplication plan restricted to that half, and how many times each image
//! occurs (k). Plain Rust and our own generator, so every model of a study, on any machine, draws
//! the same halves.

use super::Pair;
use super::plan::Plan;
use super::rng::Rng;

/// Whether each of `n` pool images is in reference model `index` of `models`. For every image a
/// seeded permutation of the models puts it in the first ⌊models / 2⌋: each image is in exactly
/// half the models (LiRA's balanced design), and a model holds about half the pool.
pub fn reference_members(seed: u64, models: usize, index: usize, n: usize) -> Vec<bool> {
    let half = models / 2;
    let mut order: Vec<usize> = (0..models).collect();
    (0..n)
        .map(|i| {
            order.iter_mut().enumerate().for_each(|(j, o)| *o = j);
            Rng::derive(seed, "reference", i as u64).shuffle(&mut order);
            order[..half].contains(&index)
        })
        .collect()
}

impl Plan {
    /// The plan with only the pool images in `member` (and the copies of those): a reference
    /// model's training set. Per-class counts are of the members (`before` is the model's half).
    pub fn restrict(&self, member: &[bool], labels: &[u8]) -> Plan {
        let classes = self.before.len();
        let keep = |i: u32| member.get(i as usize).copied().unwrap_or(false);
        let originals: Vec<u32> = self.indices[..self.originals]
            .iter()
            .copied()
            .filter(|&i| keep(i))
            .collect();
        let weights: Vec<f32> = self
            .indices
            .iter()
            .zip(&self.weights)
            .filter(|(i, _)| keep(**i))
            .map(|(_, &w)| w)
            .collect();
        let mut copies = vec![];
        let mut jitter = vec![];
        for (k, &i) in self.indices[self.originals..].iter().enumerate() {
            if keep(i) {
                copies.push(i);
                if let Some(j) = self.jitter.get(k) {
                    jitter.push(*j);
                }
            }
        }
        let mut before = vec![0; classes];
        for (i, &m) in member.iter().enumerate() {
            if m && let Some(&l) = labels.get(i) {
                before[l as usize] += 1;
            }
        }
        let mut distinct = vec![0; classes];
        for &i in &originals {
            distinct[labels[i as usize] as usize] += 1;
        }
        let mut after = distinct.clone();
        let mut chosen = vec![0; classes];
        let mut seen = std::collections::HashSet::new();
        for &i in &copies {
            after[labels[i as usize] as usize] += 1;
            if seen.insert(i) {
                chosen[labels[i as usize] as usize] += 1;
            }
        }
        let n = originals.len();
        let mut indices = originals;
        indices.extend(copies);
        Plan {
            indices,
            originals: n,
            jitter,
            before,
            chosen,
            after,
            distinct,
            weights,
            weighted: self.weighted.iter().copied().filter(|&i| keep(i)).collect(),
            fresh: vec![],
        }
    }

    /// How many times each of the `train_len` pool images occurs in the plan (k; 0 = left out).
    /// A near-duplicate copy counts as an occurrence of its original.
    pub fn occurrences(&self, train_len: usize) -> Vec<u8> {
        let mut k = vec![0u8; train_len];
        for &i in &self.indices {
            if let Some(v) = k.get_mut(i as usize) {
                *v = v.saturating_add(1);
            }
        }
        k
    }
}

/// The non-members (false in `member`) that have a near-duplicate among the members, by the
/// duplicate finder's within-pool pairs: a member in disguise, excluded from the non-members an
/// attack is scored on (and counted apart).
pub fn shadowed(member: &[bool], pairs: &[Pair]) -> Vec<u32> {
    let mut out: Vec<u32> = vec![];
    for p in pairs {
        let (a, b) = (p.a as usize, p.b as usize);
        if a >= member.len() || b >= member.len() {
            continue;
        }
        if !member[a] && member[b] {
            out.push(p.a);
        }
        if !member[b] && member[a] {
            out.push(p.b);
        }
    }
    out.sort_unstable();
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::make_plan;
    use crate::spec::{DupMode, DuplicationSpec};

    #[test]
    fn every_image_is_in_exactly_half_the_models() {
        let (models, n) = (16, 3000);
        let masks: Vec<Vec<bool>> = (0..models)
            .map(|m| reference_members(7, models, m, n))
            .collect();
        for i in 0..n {
            assert_eq!(masks.iter().filter(|m| m[i]).count(), 8, "image {i}");
        }
        for m in &masks {
            let size = m.iter().filter(|&&b| b).count();
            assert!((1300..1700).contains(&size), "{size}");
        }
        // Another membership seed, other halves; the same seed, the same ones.
        assert_ne!(masks[0], reference_members(8, models, 0, n));
        assert_eq!(masks[3], reference_members(7, models, 3, n));
    }

    #[test]
    fn a_restricted_plan_keeps_the_fixed_levels_of_its_members_only() {
        let labels: Vec<u8> = (0..2000).map(|i| (i % 10) as u8).collect();
        let spec = DuplicationSpec {
            rate: Some(0.2),
            occurrences: Some(vec![2, 4, 8, 16]),
            mode: DupMode::Near,
            ..Default::default()
        };
        let full = make_plan(&spec, &labels, 10, 0).unwrap();
        let k = full.occurrences(labels.len());
        // 20 % of each class chosen, dealt to the four levels in turn: 100 images per level.
        for level in [1u8, 2, 4, 8, 16] {
            let n = k.iter().filter(|&&v| v == level).count();
            assert_eq!(n, if level == 1 { 1600 } else { 100 }, "k = {level}");
        }
        let member = reference_members(1, 4, 2, labels.len());
        let part = full.restrict(&member, &labels);
        let kp = part.occurrences(labels.len());
        for i in 0..labels.len() {
            assert_eq!(kp[i], if member[i] { k[i] } else { 0 }, "image {i}");
        }
        assert_eq!(part.jitter.len(), part.copies());
        assert_eq!(part.after.iter().sum::<usize>(), part.len());
        assert_eq!(
            part.before.iter().sum::<usize>(),
            member.iter().filter(|&&m| m).count()
        );
        // The jitter of a kept copy is the one it had in the full plan.
        let pos = |p: &Plan, i: u32| p.indices[p.originals..].iter().position(|&x| x == i);
        let first = part.indices[part.originals];
        assert_eq!(
            part.jitter[pos(&part, first).unwrap()],
            full.jitter[pos(&full, first).unwrap()]
        );
    }

    #[test]
    fn only_non_members_with_a_member_twin_are_shadowed() {
        let pair = |a, b| Pair {
            a,
            b,
            sq: 0,
            dist: 0.0,
        };
        let member = [true, false, false, true, false];
        let pairs = [pair(0, 1), pair(1, 2), pair(2, 4), pair(3, 4)];
        assert_eq!(shadowed(&member, &pairs), vec![1, 4]);
    }
}
