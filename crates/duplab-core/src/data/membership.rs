//! Loss-threshold membership inference (Yeom et al. 2018; the low-FPR view of Carlini et al.'s
//! LiRA): an image is called a member when its loss is at most a threshold. From the losses of
//! members (a training group) and non-members (test images): ROC AUC, TPR at fixed FPR, and the
//! membership advantage max(TPR − FPR). Ties are handled exactly: every distinct loss value is a
//! threshold, and tied scores count half in the AUC (the Mann–Whitney statistic).

pub use crate::measures::Membership;

/// Membership statistics of `members` against `non_members` (losses; lower = more member-like).
/// `None` when either side is empty. Non-finite losses sort as the largest (least member-like).
pub fn membership(members: &[f64], non_members: &[f64]) -> Option<Membership> {
    if members.is_empty() || non_members.is_empty() {
        return None;
    }
    let key = |v: f64| if v.is_nan() { f64::INFINITY } else { v };
    // (loss, is_member), sorted by loss.
    let mut all: Vec<(f64, bool)> = members
        .iter()
        .map(|&v| (key(v), true))
        .chain(non_members.iter().map(|&v| (key(v), false)))
        .collect();
    all.sort_by(|a, b| a.0.total_cmp(&b.0));
    let (m, n) = (members.len() as f64, non_members.len() as f64);
    let (mut tp, mut fp) = (0usize, 0usize);
    let mut auc = 0.0;
    let (mut tpr1, mut tpr10, mut adv) = (0.0f64, 0.0f64, 0.0f64);
    let mut i = 0;
    while i < all.len() {
        // One threshold per distinct loss: everything at most it is called a member.
        let mut j = i;
        let (mut tp_here, mut fp_here) = (0usize, 0usize);
        while j < all.len() && all[j].0 == all[i].0 {
            if all[j].1 {
                tp_here += 1;
            } else {
                fp_here += 1;
            }
            j += 1;
        }
        // Members at this loss beat the non-members above it; ties count half.
        auc += tp_here as f64 * (n - fp as f64 - fp_here as f64) + 0.5 * (tp_here * fp_here) as f64;
        tp += tp_here;
        fp += fp_here;
        let (tpr, fpr) = (tp as f64 / m, fp as f64 / n);
        if fpr <= 0.01 + 1e-12 {
            tpr1 = tpr1.max(tpr);
        }
        if fpr <= 0.10 + 1e-12 {
            tpr10 = tpr10.max(tpr);
        }
        adv = adv.max(tpr - fpr);
        i = j;
    }
    Some(Membership {
        auc: auc / (m * n),
        tpr_at_1: tpr1,
        tpr_at_10: tpr10,
        advantage: adv,
        members: members.len(),
        non_members: non_members.len(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-12
    }

    #[test]
    fn perfect_separation() {
        let r = membership(&[0.1, 0.2], &[0.5, 0.6, 0.7]).unwrap();
        assert!(close(r.auc, 1.0));
        assert!(close(r.tpr_at_1, 1.0) && close(r.tpr_at_10, 1.0));
        assert!(close(r.advantage, 1.0));
    }

    #[test]
    fn inverted_and_identical_losses() {
        let r = membership(&[0.9], &[0.1]).unwrap();
        assert!(close(r.auc, 0.0) && close(r.advantage, 0.0) && close(r.tpr_at_10, 0.0));
        // All tied: a coin flip, and no threshold helps.
        let r = membership(&[0.5, 0.5], &[0.5, 0.5, 0.5]).unwrap();
        assert!(close(r.auc, 0.5));
        assert!(close(r.advantage, 0.0));
        assert!(
            close(r.tpr_at_1, 0.0),
            "calling the tie 'member' costs FPR 1"
        );
    }

    #[test]
    fn a_hand_computed_case_with_a_tie() {
        // members 1, 2, 3; non-members 2, 4. Pairs (m < n): 1<2, 1<4, 2<4, 3<4 = 4; tie 2=2: ½.
        let r = membership(&[1.0, 2.0, 3.0], &[2.0, 4.0]).unwrap();
        assert!(close(r.auc, 4.5 / 6.0), "{}", r.auc);
        // Thresholds: ≤1: TPR 1/3 FPR 0; ≤2: 2/3, 1/2; ≤3: 1, 1/2; ≤4: 1, 1.
        assert!(close(r.tpr_at_1, 1.0 / 3.0));
        assert!(close(r.tpr_at_10, 1.0 / 3.0));
        assert!(close(r.advantage, 0.5));
    }

    #[test]
    fn low_fpr_needs_many_non_members() {
        // 200 non-members: FPR 1 % allows two of them below the threshold.
        let non: Vec<f64> = (0..200).map(|i| i as f64).collect();
        let mem: Vec<f64> = (0..10).map(|i| 1.5 + i as f64 * 0.01).collect();
        let r = membership(&mem, &non).unwrap();
        assert!(close(r.tpr_at_1, 1.0), "{r:?}");
        assert!(membership(&[], &[1.0]).is_none());
    }
}
