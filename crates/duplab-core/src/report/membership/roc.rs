//! The ROC of a score (higher = more member-like) with weights per image: the AUC (ties count
//! half), and TPR at any FPR read off the curve with each tie block as a straight segment (the
//! expected TPR of a threshold that breaks ties at random: never below chance). Weights make the
//! same walk serve the image bootstrap (Poisson weights) without sorting again.

#[derive(Debug, Clone, PartialEq)]
pub struct Roc {
    pub auc: f64,
    /// TPR at each FPR asked for.
    pub tpr: Vec<f64>,
}

/// The ROC of (score, member, weight) rows sorted most member-like first; `None` when either
/// side weighs nothing.
pub fn roc_by(items: impl Iterator<Item = (f64, bool, f64)> + Clone, fprs: &[f64]) -> Option<Roc> {
    let (mut m, mut n) = (0.0, 0.0);
    for (_, member, w) in items.clone() {
        if member {
            m += w;
        } else {
            n += w;
        }
    }
    if m <= 0.0 || n <= 0.0 {
        return None;
    }
    let mut tpr = vec![0.0f64; fprs.len()];
    let (mut tp, mut fp, mut auc) = (0.0f64, 0.0f64, 0.0f64);
    let mut it = items.peekable();
    while let Some((score, member, w)) = it.next() {
        let (mut tp_here, mut fp_here) = (0.0, 0.0);
        if member {
            tp_here += w;
        } else {
            fp_here += w;
        }
        while let Some(&(s, mem, w)) = it.peek() {
            if s != score {
                break;
            }
            if mem {
                tp_here += w;
            } else {
                fp_here += w;
            }
            it.next();
        }
        // Members in this block beat every non-member after it; ties count half.
        auc += tp_here * (n - fp - fp_here) + 0.5 * tp_here * fp_here;
        let (tpr0, fpr0) = (tp / m, fp / n);
        tp += tp_here;
        fp += fp_here;
        let (tpr1, fpr1) = (tp / m, fp / n);
        for (k, &target) in fprs.iter().enumerate() {
            if fpr1 <= target + 1e-12 {
                tpr[k] = tpr[k].max(tpr1);
            } else if fpr0 < target {
                let f = (target - fpr0) / (fpr1 - fpr0);
                tpr[k] = tpr[k].max(tpr0 + f * (tpr1 - tpr0));
            }
        }
    }
    Some(Roc {
        auc: auc / (m * n),
        tpr,
    })
}

/// FPRs spaced evenly in log10 from `lo` to 1, `per_decade` per decade: the ROC's log–log grid.
pub fn log_grid(lo: f64, per_decade: usize) -> Vec<f64> {
    let decades = (-lo.log10()).ceil().max(1.0) as usize;
    let steps = decades * per_decade;
    (0..=steps)
        .map(|s| 10f64.powf(-(decades as f64) + s as f64 / per_decade as f64))
        .filter(|&f| f >= lo * (1.0 - 1e-9))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One scored image: its score, whether it is a member, and its weight.
    #[derive(Debug, Clone, Copy)]
    pub struct Item {
        pub score: f64,
        pub member: bool,
        pub weight: f64,
    }

    /// Sort items for `roc` (most member-like first).
    pub fn sort(items: &mut [Item]) {
        items.sort_by(|a, b| b.score.total_cmp(&a.score));
    }

    /// The ROC of `items`, sorted by `sort`; `None` when either side weighs nothing.
    pub fn roc(items: &[Item], fprs: &[f64]) -> Option<Roc> {
        roc_by(
            items.iter().map(|it| (it.score, it.member, it.weight)),
            fprs,
        )
    }

    fn items(members: &[f64], non: &[f64]) -> Vec<Item> {
        let mut v: Vec<Item> = members
            .iter()
            .map(|&s| Item {
                score: s,
                member: true,
                weight: 1.0,
            })
            .chain(non.iter().map(|&s| Item {
                score: s,
                member: false,
                weight: 1.0,
            }))
            .collect();
        sort(&mut v);
        v
    }

    /// The same hand-computed case as the loss attack's, with scores negated (higher = member).
    #[test]
    fn agrees_with_the_loss_attack_on_a_hand_computed_case() {
        let r = roc(&items(&[-1.0, -2.0, -3.0], &[-2.0, -4.0]), &[0.01, 0.10]).unwrap();
        assert!((r.auc - 4.5 / 6.0).abs() < 1e-12);
        assert!((r.tpr[0] - (1.0 / 3.0 + 0.02 / 3.0)).abs() < 1e-12);
        assert!((r.tpr[1] - (1.0 / 3.0 + 0.2 / 3.0)).abs() < 1e-12);
        let loss = crate::data::membership(&[1.0, 2.0, 3.0], &[2.0, 4.0]).unwrap();
        assert!((loss.auc - r.auc).abs() < 1e-12 && (loss.tpr_at_1 - r.tpr[0]).abs() < 1e-12);
    }

    /// A weight of 2 is the image counted twice; weight 0 is the image left out.
    #[test]
    fn weights_count_as_repeated_images() {
        let mut w = items(&[3.0, 1.0], &[2.0, 0.0]);
        for it in w.iter_mut() {
            if it.score == 3.0 {
                it.weight = 2.0;
            }
            if it.score == 0.0 {
                it.weight = 0.0;
            }
        }
        let a = roc(&w, &[0.5]).unwrap();
        let b = roc(&items(&[3.0, 3.0, 1.0], &[2.0]), &[0.5]).unwrap();
        assert_eq!(a, b);
    }

    #[test]
    fn the_log_grid_spans_its_decades() {
        let g = log_grid(1e-3, 2);
        assert_eq!(g.len(), 7);
        assert!((g[0] - 1e-3).abs() < 1e-15 && (g[6] - 1.0).abs() < 1e-12);
    }
}
