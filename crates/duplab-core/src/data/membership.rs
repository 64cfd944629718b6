//! Loss-threshold membership inference (Yeom et al. 2018; the low-FPR view of Carlini et al.'s
//! LiRA): an image is called a member when its loss is at most a threshold. From the losses of
//! members (a training group) and non-members (test images): ROC AUC, TPR at fixed FPR, and the
//! membership advantage max(TPR − FPR). Ties are handled exactly: every distinct loss value is a
//! threshold, tied scores count half in the AUC (the Mann–Whitney statistic), and TPR at a fixed
//! FPR interpolates linearly across the tie block that crosses it — the expected TPR of a
//! threshold that breaks the tie at random — so it is never below chance, however many images tie
//! (float32 losses of confident images are exactly 0: a tie block of thousands).

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
    let mut adv = 0.0f64;
    // TPR at each target FPR, read off the ROC with its tie blocks as straight segments.
    let targets = [0.001, 0.01, 0.10];
    let mut at = [0.0f64; 3];
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
        let (tpr0, fpr0) = (tp as f64 / m, fp as f64 / n);
        tp += tp_here;
        fp += fp_here;
        let (tpr1, fpr1) = (tp as f64 / m, fp as f64 / n);
        for (k, &target) in targets.iter().enumerate() {
            if fpr1 <= target + 1e-12 {
                at[k] = at[k].max(tpr1);
            } else if fpr0 < target {
                // The block crosses the target: the share of it a random tie-break calls member.
                let f = (target - fpr0) / (fpr1 - fpr0);
                at[k] = at[k].max(tpr0 + f * (tpr1 - tpr0));
            }
        }
        adv = adv.max(tpr1 - fpr1);
        i = j;
    }
    let [tpr01, tpr1, tpr10] = at;
    Some(Membership {
        auc: auc / (m * n),
        tpr_at_1: tpr1,
        tpr_at_10: tpr10,
        tpr_at_01: tpr01,
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
        // All tied: a coin flip, and no threshold helps; at a fixed FPR a random tie-break gets
        // exactly chance (the exact threshold gave 0: calling the tie 'member' costs FPR 1).
        let r = membership(&[0.5, 0.5], &[0.5, 0.5, 0.5]).unwrap();
        assert!(close(r.auc, 0.5));
        assert!(close(r.advantage, 0.0));
        assert!(close(r.tpr_at_1, 0.01) && close(r.tpr_at_10, 0.10), "{r:?}");
    }

    #[test]
    fn a_hand_computed_case_with_a_tie() {
        // members 1, 2, 3; non-members 2, 4. Pairs (m < n): 1<2, 1<4, 2<4, 3<4 = 4; tie 2=2: ½.
        let r = membership(&[1.0, 2.0, 3.0], &[2.0, 4.0]).unwrap();
        assert!(close(r.auc, 4.5 / 6.0), "{}", r.auc);
        // Thresholds: ≤1: TPR 1/3 FPR 0; ≤2: 2/3, 1/2; ≤3: 1, 1/2; ≤4: 1, 1. The tie at 2
        // crosses 1 % and 10 % FPR: 1/3 + (0.01 / 0.5)·(1/3), and with 0.10.
        assert!(close(r.tpr_at_1, 1.0 / 3.0 + 0.02 / 3.0), "{}", r.tpr_at_1);
        assert!(close(r.tpr_at_10, 1.0 / 3.0 + 0.2 / 3.0), "{}", r.tpr_at_10);
        assert!(close(r.advantage, 0.5));
    }

    /// The defect this replaced: thousands of confident images score exactly 0 (float32
    /// losses); the exact threshold jumped from FPR 0 past 1 % at once and printed TPR 0 — below
    /// chance — where a random tie-break gets at least the chance line.
    #[test]
    fn a_large_tie_block_never_puts_tpr_below_chance() {
        // 2,000 non-members, 156 of them at exactly 0 (7.8 %); 1,000 members, 400 at 0.
        let non: Vec<f64> = (0..2000)
            .map(|i| if i < 156 { 0.0 } else { 0.01 + i as f64 })
            .collect();
        let mem: Vec<f64> = (0..1000)
            .map(|i| if i < 400 { 0.0 } else { 0.5 + i as f64 })
            .collect();
        let r = membership(&mem, &non).unwrap();
        // The zero block runs from (0, 0) to (0.078, 0.4): at 1 % FPR, 0.4 · 0.01 / 0.078.
        assert!(close(r.tpr_at_1, 0.4 * 0.01 / 0.078), "{r:?}");
        assert!(r.tpr_at_1 >= 0.01 && r.tpr_at_01 >= 0.001);
        // Members no more member-like than non-members: still the chance line, not below.
        let same: Vec<f64> = (0..500).map(|i| (i % 50) as f64).collect();
        let r = membership(&same, &same).unwrap();
        assert!(
            r.tpr_at_1 >= 0.01 - 1e-12 && r.tpr_at_01 >= 0.001 - 1e-12,
            "{r:?}"
        );
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
