//! Duplication plans: the concrete training indices a duplication spec yields for one data set.
//!
//! Deterministic: the same spec, seed and labels give the same plan on every platform (our own
//! generator, integer arithmetic where it matters, f64 rounding of `rate × count` only).

use super::Split;
use super::rng::Rng;
#[cfg(test)]
use crate::spec::PlanSeed;
use crate::spec::{DupMode, DuplicationSpec, FieldError};
use serde::{Deserialize, Serialize};

/// How a near-duplicate differs from its original: a shift and a seeded light noise.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Jitter {
    pub dx: i8,
    pub dy: i8,
    /// Seed of the ±`NOISE` noise; 0 = no noise.
    pub noise: u32,
}

/// Largest per-pixel change of near-duplicate noise, in u8 levels (≈ 3 % of the range).
pub const NOISE: i16 = 8;

impl Jitter {
    pub fn is_identity(&self) -> bool {
        self.dx == 0 && self.dy == 0 && self.noise == 0
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    /// Indices into the train split: first every kept original (ascending), then the copies.
    pub indices: Vec<u32>,
    /// `indices[..originals]` are originals; the rest are copies.
    pub originals: usize,
    /// Jitter of each copy (`indices[originals + k]` has `jitter[k]`); empty for exact copies.
    pub jitter: Vec<Jitter>,
    /// Per class: images in the train split.
    pub before: Vec<usize>,
    /// Per class: images chosen for copying.
    pub chosen: Vec<usize>,
    /// Per class: entries in the plan (originals + copies); for the weighted controls, the
    /// entries the exact plan would have (what the weights stand for).
    pub after: Vec<usize>,
    /// Per class: distinct original images in the plan.
    pub distinct: Vec<usize>,
    /// The weighted controls (`mode = "weight"` / `"class-weight"`): the loss weight of each
    /// original, `weights[k]` for `indices[k]`; empty = every entry weighs 1.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub weights: Vec<f32>,
    /// `mode = "weight"`: the chosen images (weighted up instead of copied), ascending; they are
    /// the duplicated group.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub weighted: Vec<u32>,
    /// `mode = "fresh"`: the reserve images standing in for the copies, in the order they are
    /// appended to the pool (pool index = train length + position here).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fresh: Vec<u32>,
}

impl Plan {
    pub fn len(&self) -> usize {
        self.indices.len()
    }
    pub fn is_empty(&self) -> bool {
        self.indices.is_empty()
    }
    pub fn copies(&self) -> usize {
        self.indices.len() - self.originals
    }

    /// The images a trainer uploads, and the indices into them. Exact copies point at their
    /// original; near-duplicates become new images appended after the originals, and so do the
    /// fresh images of the class-prior control (from `reserve`, which such a plan was made with).
    pub fn materialise(&self, train: &Split, reserve: Option<&Split>) -> (Split, Vec<u32>) {
        if !self.fresh.is_empty() {
            let reserve = reserve.expect("a fresh-image plan is only made with a reserve");
            let mut pool = train.clone();
            for &r in &self.fresh {
                pool.images.extend_from_slice(reserve.image(r as usize));
                pool.labels.push(reserve.labels[r as usize]);
            }
            return (pool, self.indices.clone());
        }
        if self.jitter.is_empty() {
            return (train.clone(), self.indices.clone());
        }
        let mut pool = train.clone();
        let mut indices = self.indices[..self.originals].to_vec();
        for (k, &src) in self.indices[self.originals..].iter().enumerate() {
            let img = apply_jitter(
                train.image(src as usize),
                train.channels,
                train.height,
                train.width,
                self.jitter[k],
            );
            indices.push(pool.labels.len() as u32);
            pool.images.extend_from_slice(&img);
            pool.labels.push(train.labels[src as usize]);
        }
        (pool, indices)
    }
}

/// Shift an image by (dx, dy) with zero fill, then add the seeded noise; clamps to 0..=255.
pub fn apply_jitter(img: &[u8], c: usize, h: usize, w: usize, j: Jitter) -> Vec<u8> {
    let mut out = vec![0u8; img.len()];
    for ch in 0..c {
        for y in 0..h as isize {
            let sy = y - j.dy as isize;
            if sy < 0 || sy >= h as isize {
                continue;
            }
            for x in 0..w as isize {
                let sx = x - j.dx as isize;
                if sx < 0 || sx >= w as isize {
                    continue;
                }
                out[ch * h * w + y as usize * w + x as usize] =
                    img[ch * h * w + sy as usize * w + sx as usize];
            }
        }
    }
    if j.noise != 0 {
        let mut r = Rng::derive(j.noise as u64, "noise", 0);
        for p in out.iter_mut() {
            let d = r.below((2 * NOISE + 1) as u64) as i16 - NOISE;
            *p = (*p as i16 + d).clamp(0, 255) as u8;
        }
    }
    out
}

fn near_jitter(r: &mut Rng) -> Jitter {
    // ±1–2 px in at least one direction, or noise alone: never the identity.
    let shift = |r: &mut Rng| [-2i8, -1, 0, 1, 2][r.below(5) as usize];
    loop {
        let dx = shift(r);
        let dy = shift(r);
        let noise = if r.below(2) == 0 {
            (r.next_u64() as u32) | 1
        } else {
            0
        };
        let j = Jitter { dx, dy, noise };
        if !j.is_identity() {
            return j;
        }
    }
}

/// Build the plan for `labels` (the train split's) under `spec` with `num_classes` classes, for a
/// run of seed `run_seed` (used when the spec's seed follows the run).
pub fn make_plan(
    spec: &DuplicationSpec,
    labels: &[u8],
    num_classes: usize,
    run_seed: u64,
) -> Result<Plan, FieldError> {
    if spec.mode == DupMode::Fresh {
        // The fresh images come from a reserve this function has not got.
        return super::make_plan_with(spec, labels, None, num_classes, run_seed);
    }
    let rates = spec.class_rates(num_classes)?;
    let seed = spec.seed.resolve(run_seed);
    let mut by_class: Vec<Vec<u32>> = vec![vec![]; num_classes];
    for (i, &l) in labels.iter().enumerate() {
        by_class[l as usize].push(i as u32);
    }
    let before: Vec<usize> = by_class.iter().map(|v| v.len()).collect();
    let mut chosen_n = vec![0; num_classes];
    let mut kept: Vec<u32> = vec![];
    let mut copies: Vec<u32> = vec![];
    let mut jitter = vec![];
    for c in 0..num_classes {
        let mut order = by_class[c].clone();
        Rng::derive(seed, "choose", c as u64).shuffle(&mut order);
        let n = order.len();
        let mut k = ((rates[c] * n as f64).round() as usize).min(n);
        if spec.keep_size {
            // Each chosen image displaces `copies` unchosen ones of its class.
            k = k.min(n / (spec.copies + 1));
            kept.extend_from_slice(&order[..n - k * spec.copies]);
        } else {
            kept.extend_from_slice(&order);
        }
        chosen_n[c] = k;
        let mut jr = Rng::derive(seed, "jitter", c as u64);
        for (j, &i) in order[..k].iter().enumerate() {
            for _ in 0..spec.copies_of(j) {
                copies.push(i);
                if spec.mode == DupMode::Near {
                    jitter.push(near_jitter(&mut jr));
                }
            }
        }
    }
    kept.sort_unstable();
    let mut after = vec![0; num_classes];
    let mut distinct = vec![0; num_classes];
    for &i in &kept {
        after[labels[i as usize] as usize] += 1;
        distinct[labels[i as usize] as usize] += 1;
    }
    for &i in &copies {
        after[labels[i as usize] as usize] += 1;
    }
    let originals = kept.len();
    if spec.mode.weights() {
        // The controls: what the copies would have done, as loss weights on the originals.
        let (n, k) = (originals as f64, copies.len() as f64);
        let scale = n / (n + k);
        let weights: Vec<f32> = match spec.mode {
            DupMode::Weight => {
                let mut extra = vec![0u32; labels.len()];
                for &i in &copies {
                    extra[i as usize] += 1;
                }
                kept.iter()
                    .map(|&i| ((1.0 + extra[i as usize] as f64) * scale) as f32)
                    .collect()
            }
            _ => kept
                .iter()
                .map(|&i| {
                    let c = labels[i as usize] as usize;
                    (after[c] as f64 / distinct[c].max(1) as f64 * scale) as f32
                })
                .collect(),
        };
        let mut weighted: Vec<u32> = if spec.mode == DupMode::Weight {
            copies.clone()
        } else {
            vec![]
        };
        weighted.sort_unstable();
        weighted.dedup();
        return Ok(Plan {
            indices: kept,
            originals,
            jitter: vec![],
            before,
            chosen: chosen_n,
            // The class counts the weights stand for (the exact plan's): what the sweep report's
            // class groups and the copy share are read from, as for the copies they replace.
            after,
            distinct,
            weights,
            weighted,
            fresh: vec![],
        });
    }
    kept.extend(copies);
    Ok(Plan {
        indices: kept,
        originals,
        jitter,
        before,
        chosen: chosen_n,
        after,
        distinct,
        weights: vec![],
        weighted: vec![],
        fresh: vec![],
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::Profile;
    use proptest::prelude::*;

    /// 10 classes with 100·(c+1) images each, interleaved.
    fn labels() -> Vec<u8> {
        let mut l = vec![];
        for round in 0..1000 {
            for c in 0..10u8 {
                if round < 100 * (c as usize + 1) {
                    l.push(c);
                }
            }
        }
        l
    }

    fn spec(profile: Profile) -> DuplicationSpec {
        DuplicationSpec {
            profile,
            ..Default::default()
        }
    }

    #[test]
    fn uniform_counts_are_exact() {
        let mut s = spec(Profile::Uniform);
        s.rate = Some(0.3);
        let p = make_plan(&s, &labels(), 10, 0).unwrap();
        for c in 0..10 {
            let n = 100 * (c + 1);
            assert_eq!(p.before[c], n);
            assert_eq!(p.chosen[c], (0.3 * n as f64).round() as usize);
            assert_eq!(p.after[c], n + p.chosen[c]);
            assert_eq!(p.distinct[c], n);
        }
        assert_eq!(p.len(), 5500 + 1650);
    }

    #[test]
    fn linear_step_custom_and_copies() {
        let mut s = spec(Profile::Linear);
        s.rate_max = Some(0.9);
        s.rate_min = Some(0.0);
        s.copies = 2;
        let p = make_plan(&s, &labels(), 10, 0).unwrap();
        assert_eq!(p.chosen, vec![90, 160, 210, 240, 250, 240, 210, 160, 90, 0]);
        assert_eq!(p.after[0], 100 + 180);
        assert_eq!(p.after[9], 1000);

        let mut s = spec(Profile::Step);
        s.rate = Some(0.5);
        s.other_rate = Some(0.1);
        s.classes = Some(vec![0, 3]);
        let p = make_plan(&s, &labels(), 10, 0).unwrap();
        assert_eq!(p.chosen, vec![50, 20, 30, 200, 50, 60, 70, 80, 90, 100]);

        let mut s = spec(Profile::Custom);
        s.rates = Some(vec![1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.25]);
        let p = make_plan(&s, &labels(), 10, 0).unwrap();
        assert_eq!(p.chosen, vec![100, 0, 0, 0, 0, 0, 0, 0, 0, 250]);
    }

    #[test]
    fn keep_size_keeps_class_totals_and_drops_distinct_images() {
        let mut s = spec(Profile::Uniform);
        s.rate = Some(0.2);
        s.copies = 2;
        s.keep_size = true;
        let p = make_plan(&s, &labels(), 10, 0).unwrap();
        assert_eq!(p.after, p.before);
        for c in 0..10 {
            assert_eq!(p.distinct[c], p.before[c] - 2 * p.chosen[c]);
        }
        // Every copy's original is kept.
        let kept: std::collections::HashSet<u32> =
            p.indices[..p.originals].iter().copied().collect();
        assert!(p.indices[p.originals..].iter().all(|i| kept.contains(i)));
    }

    #[test]
    fn near_duplicates_are_recorded_and_materialised() {
        let mut s = spec(Profile::Uniform);
        s.rate = Some(0.1);
        s.mode = DupMode::Near;
        let l = labels();
        let p = make_plan(&s, &l, 10, 0).unwrap();
        assert_eq!(p.jitter.len(), p.copies());
        assert!(
            p.jitter
                .iter()
                .all(|j| !j.is_identity() && j.dx.abs() <= 2 && j.dy.abs() <= 2)
        );
        let split = Split {
            images: (0..l.len() * 16).map(|i| (i % 251) as u8).collect(),
            labels: l.clone(),
            channels: 1,
            height: 4,
            width: 4,
        };
        let (pool, idx) = p.materialise(&split, None);
        assert_eq!(pool.len(), l.len() + p.copies());
        assert_eq!(idx.len(), p.len());
        // A near copy keeps its label and differs from its original.
        let k = p.originals;
        assert_eq!(pool.labels[idx[k] as usize], l[p.indices[k] as usize]);
        assert_ne!(
            pool.image(idx[k] as usize),
            split.image(p.indices[k] as usize)
        );
    }

    #[test]
    fn jitter_shifts_with_zero_fill() {
        let img: Vec<u8> = (1..=9).collect();
        let out = apply_jitter(
            &img,
            1,
            3,
            3,
            Jitter {
                dx: 1,
                dy: 0,
                noise: 0,
            },
        );
        assert_eq!(out, vec![0, 1, 2, 0, 4, 5, 0, 7, 8]);
    }

    #[test]
    fn same_seed_same_plan_other_seed_other_plan() {
        let mut s = spec(Profile::Uniform);
        s.rate = Some(0.3);
        let a = make_plan(&s, &labels(), 10, 0).unwrap();
        assert_eq!(a, make_plan(&s, &labels(), 10, 0).unwrap());
        s.seed = PlanSeed::Fixed(1);
        assert_ne!(a.indices, make_plan(&s, &labels(), 10, 0).unwrap().indices);
        // A seed that follows the run: the run's seed decides, a fixed one ignores it.
        s.seed = PlanSeed::Run;
        assert_eq!(
            make_plan(&s, &labels(), 10, 1).unwrap(),
            make_plan(
                &{
                    let mut f = s.clone();
                    f.seed = PlanSeed::Fixed(1);
                    f
                },
                &labels(),
                10,
                7
            )
            .unwrap()
        );
        assert_ne!(
            make_plan(&s, &labels(), 10, 1).unwrap().indices,
            make_plan(&s, &labels(), 10, 2).unwrap().indices
        );
    }

    /// The reweighting control's weights average 1 and stand in the ratio of the occurrences
    /// the exact plan gives; the class control's reach the exact plan's class prior.
    #[test]
    fn weighted_controls_carry_the_duplicated_sets_expectation() {
        let l = labels();
        let mut s = spec(Profile::Uniform);
        s.rate = Some(0.3);
        s.copies = 3;
        let exact = make_plan(&s, &l, 10, 0).unwrap();
        s.mode = DupMode::Weight;
        let w = make_plan(&s, &l, 10, 0).unwrap();
        assert_eq!(w.len(), w.originals, "no copies");
        // Its per-class counts are those the weights stand for: the exact plan's.
        assert_eq!(w.after, exact.after);
        assert_eq!(w.weighted.len(), exact.chosen.iter().sum::<usize>());
        assert_eq!(w.weights.len(), w.len());
        let mean = w.weights.iter().map(|&x| x as f64).sum::<f64>() / w.len() as f64;
        assert!((mean - 1.0).abs() < 1e-5, "{mean}");
        // Occurrences in the exact plan, and the weights' ratio.
        let k = exact.occurrences(l.len());
        let (a, b) = (
            w.indices.iter().position(|&i| k[i as usize] == 4).unwrap(),
            w.indices.iter().position(|&i| k[i as usize] == 1).unwrap(),
        );
        assert!((w.weights[a] / w.weights[b] - 4.0).abs() < 1e-5);
        // The expected class shares under uniform sampling equal the exact plan's.
        s.mode = DupMode::ClassWeight;
        let cw = make_plan(&s, &l, 10, 0).unwrap();
        let total: f64 = cw.weights.iter().map(|&x| x as f64).sum();
        for c in 0..10u8 {
            let share: f64 = cw
                .indices
                .iter()
                .zip(&cw.weights)
                .filter(|(i, _)| l[**i as usize] == c)
                .map(|(_, &x)| x as f64)
                .sum::<f64>()
                / total;
            let want = exact.after[c as usize] as f64 / exact.len() as f64;
            assert!((share - want).abs() < 1e-5, "class {c}: {share} vs {want}");
        }
        s.keep_size = true;
        assert!(make_plan(&s, &l, 10, 0).is_err());
    }

    proptest! {
        #[test]
        fn every_index_valid_and_originals_kept(
            labels in proptest::collection::vec(0u8..5, 1..300),
            rate in 0.0f64..=0.33,
            copies in 1usize..=2,
            keep_size in any::<bool>(),
            seed in any::<u64>(),
        ) {
            let s = DuplicationSpec { rate: Some(rate), copies, keep_size, seed: PlanSeed::Fixed(seed), ..Default::default() };
            let p = make_plan(&s, &labels, 5, 0).unwrap();
            prop_assert!(p.indices.iter().all(|&i| (i as usize) < labels.len()));
            prop_assert_eq!(p.after.iter().sum::<usize>(), p.len());
            if keep_size {
                prop_assert_eq!(&p.after, &p.before);
            } else {
                let mut orig = p.indices[..p.originals].to_vec();
                orig.sort();
                prop_assert_eq!(orig, (0..labels.len() as u32).collect::<Vec<_>>());
                prop_assert_eq!(p.copies(), p.chosen.iter().sum::<usize>() * copies);
            }
        }
    }
}
