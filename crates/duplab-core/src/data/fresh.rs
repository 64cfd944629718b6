//! The class-prior control by data (`duplication.mode = "fresh"`): the exact plan's class counts,
//! with every copy replaced by a *new* image of its class drawn from the reserve (the training
//! images `data.train_per_class` left out). The set has the duplicated set's class prior and size,
//! and no image in it repeats: what remains of a duplication effect beside it is the repetition.

use super::plan::{Plan, make_plan};
use super::rng::Rng;
use crate::spec::{DupMode, DuplicationSpec, FieldError};

/// The plan of `spec` for a training split with `labels`, drawing fresh images from a reserve
/// with `reserve` labels where the mode asks for it.
pub fn make_plan_with(
    spec: &DuplicationSpec,
    labels: &[u8],
    reserve: Option<&[u8]>,
    num_classes: usize,
    run_seed: u64,
) -> Result<Plan, FieldError> {
    if spec.mode != DupMode::Fresh {
        return make_plan(spec, labels, num_classes, run_seed);
    }
    let Some(reserve) = reserve else {
        return Err(FieldError::new(
            "mode".into(),
            "is \"fresh\", which draws new images from the training images data.train_per_class leaves out; set data.train_per_class".into(),
        ));
    };
    let exact = make_plan(
        &DuplicationSpec {
            mode: DupMode::Exact,
            ..spec.clone()
        },
        labels,
        num_classes,
        run_seed,
    )?;
    let seed = spec.seed.resolve(run_seed);
    let mut by_class: Vec<Vec<u32>> = vec![vec![]; num_classes];
    for (i, &l) in reserve.iter().enumerate() {
        by_class[l as usize].push(i as u32);
    }
    let mut fresh = vec![];
    for (c, pool) in by_class.iter_mut().enumerate() {
        let want = exact.after[c] - exact.distinct[c];
        if want > pool.len() {
            return Err(FieldError::new(
                "mode".into(),
                format!(
                    "is \"fresh\": class {c} needs {want} fresh images but the reserve holds {}; lower data.train_per_class or the rate",
                    pool.len()
                ),
            ));
        }
        Rng::derive(seed, "fresh", c as u64).shuffle(pool);
        let mut take = pool[..want].to_vec();
        take.sort_unstable();
        fresh.extend(take);
    }
    // Pool indices: the fresh images are appended after the train split, in `fresh` order.
    let mut indices = exact.indices[..exact.originals].to_vec();
    indices.extend((0..fresh.len() as u32).map(|j| labels.len() as u32 + j));
    Ok(Plan {
        originals: indices.len(),
        indices,
        jitter: vec![],
        chosen: vec![0; num_classes],
        distinct: exact.after.clone(),
        fresh,
        ..exact
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::Split;
    use crate::spec::{PlanSeed, Profile};

    fn skewed() -> DuplicationSpec {
        DuplicationSpec {
            profile: Profile::Step,
            rate: Some(0.5),
            other_rate: Some(0.0),
            classes: Some(vec![1]),
            copies: 2,
            mode: DupMode::Fresh,
            seed: PlanSeed::Fixed(3),
            ..Default::default()
        }
    }

    /// 3 classes: 10 images each in the split, 20 each in the reserve.
    fn labels(n: usize) -> Vec<u8> {
        (0..3 * n).map(|i| (i % 3) as u8).collect()
    }

    #[test]
    fn fresh_images_give_the_exact_plans_class_counts_with_no_repeats() {
        let (train, reserve) = (labels(10), labels(20));
        let p = make_plan_with(&skewed(), &train, Some(&reserve), 3, 0).unwrap();
        let mut exact = skewed();
        exact.mode = DupMode::Exact;
        let e = make_plan(&exact, &train, 3, 0).unwrap();
        assert_eq!(p.after, e.after);
        assert_eq!(p.after, vec![10, 20, 10]);
        assert_eq!(p.before, e.before);
        // Every entry is distinct, nothing is a copy, and the fresh images are of class 1.
        assert_eq!(p.copies(), 0);
        assert_eq!(p.distinct, p.after);
        let mut seen = p.indices.clone();
        seen.dedup();
        assert_eq!(seen.len(), 40);
        assert_eq!(p.fresh.len(), 10);
        assert!(p.fresh.iter().all(|&r| reserve[r as usize] == 1));
        assert_eq!(&p.indices[30..], &(30..40).collect::<Vec<u32>>()[..]);
        // Seeded: the same seed draws the same images, another seed others.
        let again = make_plan_with(&skewed(), &train, Some(&reserve), 3, 9).unwrap();
        assert_eq!(again.fresh, p.fresh);
        let mut other = skewed();
        other.seed = PlanSeed::Fixed(4);
        let o = make_plan_with(&other, &train, Some(&reserve), 3, 0).unwrap();
        assert_ne!(o.fresh, p.fresh);
        // Without a reserve there are no fresh images: an error, whichever function is asked.
        assert!(make_plan(&skewed(), &train, 3, 0).is_err());
        assert!(make_plan_with(&skewed(), &train, None, 3, 0).is_err());
    }

    #[test]
    fn materialised_fresh_images_are_the_reserves() {
        let img = |l: &[u8], base: u8| Split {
            images: l.iter().enumerate().map(|(i, _)| base + i as u8).collect(),
            labels: l.to_vec(),
            channels: 1,
            height: 1,
            width: 1,
        };
        let (train, reserve) = (img(&labels(10), 0), img(&labels(20), 100));
        let p = make_plan_with(&skewed(), &train.labels, Some(&reserve.labels), 3, 0).unwrap();
        let (pool, idx) = p.materialise(&train, Some(&reserve));
        assert_eq!(pool.len(), 40);
        assert_eq!(idx, p.indices);
        for (j, &r) in p.fresh.iter().enumerate() {
            assert_eq!(pool.image(30 + j), reserve.image(r as usize));
            assert_eq!(pool.labels[30 + j], 1);
        }
    }

    #[test]
    fn a_short_reserve_or_none_is_a_clear_error() {
        let e = make_plan_with(&skewed(), &labels(10), None, 3, 0).unwrap_err();
        assert!(e.to_string().contains("data.train_per_class"), "{e}");
        let e = make_plan_with(&skewed(), &labels(10), Some(&labels(3)), 3, 0).unwrap_err();
        assert!(
            e.to_string()
                .contains("class 1 needs 10 fresh images but the reserve holds 3"),
            "{e}"
        );
    }
}
