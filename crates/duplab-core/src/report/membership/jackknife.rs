//! The contrasts' uncertainty by a delete-one-model jackknife. Every target of a point is
//! attacked with the same other models as references, so the per-target differences of a
//! contrast are correlated and a t-test across targets would treat them as independent (too
//! narrow an interval). Leaving out one model index at a time — as target and as reference, in
//! both points of a contrast — and recomputing the contrast gives a standard error that carries
//! that dependence: se² = (N − 1)/N · Σ (D₍ⱼ₎ − D̄)², t with N − 1 degrees of freedom.

use super::analysis::{Arm, HEADLINE, Role, Stratum};
use super::attacks::{Attack, Models, Sums, scores};
use super::roc::roc_by;

/// The headline attack's [TPR 0.1 %, TPR 1 %, AUC] per stratum and target of `arm`, its models
/// without index `drop`: `(model indices of the targets, values[stratum][target])`.
pub fn headline_without(
    arm: &Arm,
    drop: Option<usize>,
    strata: &[Stratum],
) -> (Vec<usize>, Vec<Vec<Option<[f64; 3]>>>) {
    let kept: Vec<usize> = (0..arm.models.len())
        .filter(|&t| Some(arm.models[t].index) != drop)
        .collect();
    let phi: Vec<Vec<f64>> = kept.iter().map(|&t| arm.models[t].phi.clone()).collect();
    let member: Vec<Vec<bool>> = kept.iter().map(|&t| arm.models[t].member()).collect();
    let index: Vec<usize> = kept.iter().map(|&t| arm.models[t].index).collect();
    let models = Models {
        phi: &phi,
        member: &member,
        index: &index,
    };
    let sums = Sums::new(&models);
    let occurrences = &arm.models[0].occurrences;
    let n = occurrences.len();
    let head = Attack::ALL.iter().position(|&a| a == HEADLINE).unwrap_or(0);
    let mut values = vec![vec![]; strata.len()];
    for (t, &model) in kept.iter().enumerate() {
        let mut shadowed = vec![false; n];
        for &i in &arm.models[model].shadowed {
            if let Some(e) = shadowed.get_mut(i as usize) {
                *e = true;
            }
        }
        let (all, scorable) = scores(&models, &sums, t);
        let score = &all[head].1;
        let mut rows: Vec<(f64, Role, u8)> = (0..n)
            .map(|i| {
                let role = match (scorable[i], member[t][i], shadowed[i]) {
                    (false, _, _) => Role::Unscored,
                    (true, true, _) => Role::Member,
                    (true, false, false) => Role::NonMember,
                    (true, false, true) => Role::Shadowed,
                };
                (score[i], role, occurrences[i])
            })
            .collect();
        rows.sort_by(|x, y| y.0.total_cmp(&x.0));
        for (si, st) in strata.iter().enumerate() {
            let it = rows
                .iter()
                .filter_map(|r| st.side(r.1, r.2).map(|pos| (r.0, pos, 1.0)));
            values[si]
                .push(roc_by(it, &super::analysis::FPRS).map(|r| [r.tpr[0], r.tpr[1], r.auc]));
        }
    }
    (index, values)
}

/// The mean over shared targets (by model index) of `a − b` for metric `j`.
pub fn mean_difference(
    a: (&[usize], &[Option<[f64; 3]>]),
    b: (&[usize], &[Option<[f64; 3]>]),
    j: usize,
) -> Option<(f64, usize)> {
    let diffs: Vec<f64> =
        a.0.iter()
            .zip(a.1)
            .filter_map(|(idx, va)| {
                let ib = b.0.iter().position(|x| x == idx)?;
                Some((*va)?[j] - (*b.1.get(ib)?)?[j])
            })
            .collect();
    (!diffs.is_empty()).then(|| (diffs.iter().sum::<f64>() / diffs.len() as f64, diffs.len()))
}

/// The jackknife standard error of replicates `d` (one per left-out model).
pub fn jackknife_se(d: &[f64]) -> Option<f64> {
    let n = d.len();
    if n < 2 {
        return None;
    }
    let mean = d.iter().sum::<f64>() / n as f64;
    let ss: f64 = d.iter().map(|x| (x - mean).powi(2)).sum();
    Some(((n as f64 - 1.0) / n as f64 * ss).sqrt())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// For a mean, the jackknife standard error is the usual s/√n.
    #[test]
    fn the_jackknife_of_a_mean_is_its_standard_error() {
        let x = [1.0, 4.0, 2.0, 8.0, 5.0];
        let n = x.len() as f64;
        let mean = x.iter().sum::<f64>() / n;
        let sd = (x.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
        let reps: Vec<f64> = (0..x.len())
            .map(|j| {
                x.iter()
                    .enumerate()
                    .filter(|(i, _)| *i != j)
                    .map(|(_, v)| v)
                    .sum::<f64>()
                    / (n - 1.0)
            })
            .collect();
        assert!((jackknife_se(&reps).unwrap() - sd / n.sqrt()).abs() < 1e-12);
    }
}
