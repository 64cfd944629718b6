//! Known answers for the attacks: Gaussian margins with a planted member shift, where the
//! likelihood-ratio test's TPR is analytic; margins that ignore membership, where every attack
//! is at chance.

use super::*;
use crate::data::rng::Rng;
use crate::report::normal_cdf;
use crate::store::{REFERENCE_FORMAT, ReferenceScores};

fn normal(r: &mut Rng) -> f64 {
    let (u, v) = (r.unit().max(1e-300), r.unit());
    (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
}

/// The inverse of the standard normal CDF, by bisection (tests only).
fn probit(p: f64) -> f64 {
    let (mut lo, mut hi) = (-10.0, 10.0);
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if normal_cdf(mid) < p {
            lo = mid
        } else {
            hi = mid
        }
    }
    0.5 * (lo + hi)
}

/// `models` reference models over `n` images: φ = μ_i + shift·[member] + σ·ε, with per-image
/// difficulty μ_i ~ N(0, spread²) that a global threshold cannot see past.
fn synthetic(models: usize, n: usize, shift: f64, sigma: f64, spread: f64) -> Arm {
    synthetic_with(models, n, shift, sigma, spread, &[])
}

/// The same with a per-model offset of every margin (`offsets[m]`; models beyond it get none):
/// seeds that differ in overall confidence.
fn synthetic_with(
    models: usize,
    n: usize,
    shift: f64,
    sigma: f64,
    spread: f64,
    offsets: &[f64],
) -> Arm {
    let mut r = Rng::new(11);
    let mu: Vec<f64> = (0..n).map(|_| spread * normal(&mut r)).collect();
    let labels: Vec<u8> = (0..n).map(|i| (i % 10) as u8).collect();
    // k = 1 for most, 16 for every 10th image (a stratum of its own).
    let occurrences: Vec<u8> = (0..n).map(|i| if i % 10 == 0 { 16 } else { 1 }).collect();
    let scores: Vec<(String, ReferenceScores)> = (0..models)
        .map(|m| {
            let member = crate::data::reference_members(3, models, m, n);
            let phi = (0..n)
                .map(|i| {
                    mu[i]
                        + if member[i] { shift } else { 0.0 }
                        + offsets.get(m).copied().unwrap_or(0.0)
                        + sigma * normal(&mut r)
                })
                .collect();
            let s = ReferenceScores {
                format: REFERENCE_FORMAT,
                models,
                index: m,
                seed: 3,
                pool_checksum: "x".into(),
                labels: labels.clone(),
                occurrences: occurrences.clone(),
                members: member.iter().map(|&b| if b { '1' } else { '0' }).collect(),
                shadowed: vec![],
                threshold: 0.05,
                phi,
                step: 1,
            };
            (format!("run-{m}"), s)
        })
        .collect();
    arm_of("synthetic", scores).unwrap()
}

/// With the variance known, LiRA's test of φ against the image's OUT Gaussian has
/// TPR(α) = 1 − Φ(z₁₋α − Δ/σ') and AUC = Φ(Δ / (σ'√2)), where σ' = σ·√(1 + 1/n_out) carries
/// the error of the estimated OUT mean (n_out of the other models).
#[test]
fn lira_on_gaussian_margins_returns_the_analytic_tpr() {
    let (models, n, shift, sigma) = (64, 20_000, 2.0, 1.0);
    let arm = &arm_report(&synthetic(models, n, shift, sigma, 3.0));
    // Each image is scored against as many IN as OUT references: 31 of each of the other 63.
    let n_out = (models / 2 - 1) as f64;
    let s = sigma * (1.0 + 1.0 / n_out).sqrt();
    for (fpr, got) in [
        (
            0.01,
            arm.cell(Attack::LiraOfflineFixed, "all")
                .unwrap()
                .tpr_1
                .mean,
        ),
        (
            0.001,
            arm.cell(Attack::LiraOfflineFixed, "all")
                .unwrap()
                .tpr_01
                .mean,
        ),
    ] {
        let want = 1.0 - normal_cdf(probit(1.0 - fpr) - shift / s);
        assert!((got - want).abs() < 0.02, "TPR at {fpr}: {got} vs {want}");
    }
    let auc = arm.cell(Attack::LiraOfflineFixed, "all").unwrap().auc.mean;
    let want = normal_cdf(shift / (s * 2f64.sqrt()));
    assert!((auc - want).abs() < 0.01, "AUC {auc} vs {want}");
    // The online test uses the IN Gaussian too: never worse here, the same shift.
    let online = arm.cell(Attack::LiraOnlineFixed, "all").unwrap().tpr_1.mean;
    assert!(online > 0.34, "{online}");
    // The global threshold sees the shift through the images' spread of difficulty: far less.
    let global = arm.cell(Attack::Threshold, "all").unwrap().tpr_1.mean;
    assert!(global < 0.1, "threshold {global}");
    // RMIA ranks by p(x|θ)/p(x): it calibrates per image too.
    assert!(arm.cell(Attack::Rmia, "all").unwrap().tpr_1.mean > 0.2);
    // Every cell names its resolution: 1 / the fewest non-members of a target.
    assert!(arm.resolution > 1.0 / 11_000.0 && arm.resolution < 1.0 / 9_000.0);
}

/// Margins that do not depend on membership (a model that never trained on the images): every
/// attack, every stratum, at chance — TPR at 1 % FPR near 1 %, AUC near ½, and no verdict.
#[test]
fn margins_blind_to_membership_score_at_chance() {
    let report = analyse("null", &[synthetic(16, 20_000, 0.0, 1.0, 3.0)]);
    let arm = &report.arms[0];
    for c in &arm.cells {
        assert!(
            (c.auc.mean - 0.5).abs() < 0.03,
            "{:?} {}: {}",
            c.attack,
            c.stratum,
            c.auc.mean
        );
        assert!(
            c.tpr_1.mean < 0.03,
            "{:?} {}: {}",
            c.attack,
            c.stratum,
            c.tpr_1.mean
        );
        assert!(c.tpr_1.mean >= 0.0);
    }
    assert!(
        report
            .contrasts
            .iter()
            .all(|c| c.verdict() == "no detectable difference"),
        "{}",
        report.findings()
    );
}

/// With few models, the other models' IN/OUT split leans against the target's own membership
/// (every image is in exactly half); scored as it is, members drew systematically lower
/// likelihood ratios — AUC below ½ on margins that ignore membership. Equal IN and OUT
/// references per image remove it.
#[test]
fn few_reference_models_do_not_bias_the_attacks() {
    let arm = arm_report(&synthetic(6, 40_000, 0.0, 1.0, 3.0));
    for attack in [Attack::LiraOnline, Attack::LiraOnlineFixed, Attack::Rmia] {
        let auc = arm.cell(attack, "all").unwrap().auc.mean;
        assert!((auc - 0.5).abs() < 0.006, "{attack:?}: AUC {auc}");
    }
}

/// A model more confident than the others on every image (another seed, FGSM-RS) must not leak
/// into the scores: the reference left out to balance IN and OUT is drawn at random; by index it
/// was always the same low-index model on one side for members and the other for non-members.
#[test]
fn a_model_offset_does_not_bias_the_attacks() {
    let arm = arm_report(&synthetic_with(16, 40_000, 0.0, 1.0, 3.0, &[1.0]));
    for attack in [
        Attack::LiraOffline,
        Attack::LiraOfflineFixed,
        Attack::LiraOnline,
        Attack::LiraOnlineFixed,
        Attack::Rmia,
    ] {
        let auc = arm.cell(attack, "all").unwrap().auc.mean;
        assert!((auc - 0.5).abs() < 0.006, "{attack:?}: AUC {auc}");
    }
}

/// A planted shift on the k = 16 stratum only is found there, with a verdict, and not in the
/// unique images.
#[test]
fn a_shift_on_one_stratum_is_found_there_only() {
    let mut arm = synthetic(16, 20_000, 0.0, 1.0, 3.0);
    for m in arm.models.iter_mut() {
        let member = m.member();
        for i in 0..m.phi.len() {
            if m.occurrences[i] == 16 && member[i] {
                m.phi[i] += 3.0;
            }
        }
    }
    let report = analyse("canary", &[arm]);
    let a = &report.arms[0];
    let k16 = a.cell(Attack::LiraOnlineFixed, "k=16").unwrap();
    let k1 = a.cell(Attack::LiraOnlineFixed, "k=1 (unique)").unwrap();
    assert!(
        k16.tpr_01.mean > 0.3 && k1.tpr_01.mean < 0.01,
        "{} {}",
        k16.tpr_01.mean,
        k1.tpr_01.mean
    );
    assert!(k16.first_lo[1] <= k16.first[1] && k16.first[1] <= k16.first_hi[1]);
    let c = report
        .contrasts
        .iter()
        .find(|c| c.stratum == "k=16" && c.metric == "tpr_1")
        .unwrap();
    assert_eq!(c.verdict(), "higher", "{}", report.findings());
    assert!(report.markdown().contains("**"));
    // Memorisation: the shift, where it was planted.
    let m16 = a.memorisation.iter().find(|m| m.stratum == "k=16").unwrap();
    assert!((m16.mean - 3.0).abs() < 0.1, "{m16:?}");
    assert!(a.top.iter().all(|m| m.k == 16));
}

/// Non-members left out as near-duplicates of a member are scored apart, as if members: a
/// disguised member (its twin trained on, the image itself not) that the attack calls a member
/// shows there, not among the non-members.
#[test]
fn near_duplicates_of_members_are_scored_apart() {
    let mut arm = synthetic(16, 20_000, 2.0, 1.0, 3.0);
    for m in arm.models.iter_mut() {
        let member = m.member();
        // Image i (every 7th) has a twin i + 1: when the twin is a member and i is not, i is
        // shadowed, and the model has seen it in disguise (its margin rises as a member's).
        m.shadowed = (0..m.phi.len() as u32 - 1)
            .filter(|&i| i % 7 == 0 && !member[i as usize] && member[i as usize + 1])
            .collect();
        for &i in &m.shadowed {
            m.phi[i as usize] += 2.0;
        }
    }
    let expected: f64 = arm
        .models
        .iter()
        .map(|m| m.shadowed.len() as f64)
        .sum::<f64>()
        / arm.models.len() as f64;
    let report = analyse("shadowed", &[arm]);
    let a = &report.arms[0];
    let near = a.cell(Attack::LiraOnlineFixed, stratum_shadowed()).unwrap();
    // Called members far above chance (left among the non-members they would raise the FPR).
    assert!(near.tpr_1.mean > 0.03 && near.auc.mean > 0.65, "{near:?}");
    assert!((near.members - expected).abs() < 1e-9 && (a.shadowed - expected).abs() < 1e-9);
    assert!(
        !report
            .contrasts
            .iter()
            .any(|c| c.stratum == stratum_shadowed())
    );
}

fn stratum_shadowed() -> &'static str {
    super::analysis::SHADOWED
}

#[test]
fn models_of_other_studies_are_refused() {
    let arm = synthetic(4, 100, 0.0, 1.0, 1.0);
    let mut models: Vec<(String, ReferenceScores)> = arm.runs.into_iter().zip(arm.models).collect();
    models[2].1.pool_checksum = "other".into();
    let e = arm_of("p", models.clone()).err().unwrap();
    assert!(e.contains("pool") && e.contains("run-2"), "{e}");
    models[2].1.pool_checksum = "x".into();
    models[3].1.index = 2;
    assert!(
        arm_of("p", models)
            .err()
            .unwrap()
            .contains("both reference model 2")
    );
}

/// Between points: the same model indices, the same halves — a point whose members leak more
/// is found so with the jackknife's verdict; a point of another membership draw is not compared,
/// and the report says why.
#[test]
fn points_are_compared_by_model_index_and_other_draws_are_not() {
    let mut quiet = synthetic(8, 5_000, 0.0, 1.0, 3.0);
    quiet.label = "a-quiet".into();
    let mut leaky = synthetic(8, 5_000, 1.5, 1.0, 3.0);
    leaky.label = "b-leaky".into();
    let mut other = synthetic(8, 5_000, 1.5, 1.0, 3.0);
    other.label = "c-other".into();
    for m in other.models.iter_mut() {
        m.seed = 99;
    }
    let report = analyse("points", &[quiet, leaky, other]);
    let c = report
        .contrasts
        .iter()
        .find(|c| c.what == "b-leaky − a-quiet" && c.stratum == "all" && c.metric == "auc")
        .expect("the two points of one draw are compared");
    assert_eq!(c.verdict(), "higher", "{}", report.findings());
    assert_eq!(c.diff.n, 8, "one jackknife replicate per model index");
    assert!(
        !report
            .contrasts
            .iter()
            .any(|c| c.what.contains("c-other −") || c.what.ends_with("− c-other"))
    );
    assert!(
        report.notes.iter().any(|n| n.contains("c-other")),
        "{:?}",
        report.notes
    );
    // m counts every planned test: within each point (k=16 vs unique, 3 metrics) and between
    // the comparable pair (k=1, k=16, all: 3 strata × 3 metrics).
    assert_eq!(report.family_size, 3 * 3 + 3 * 3);
    assert!(report.findings().contains("18 tests in one family"));
}
