//! The analysis of one study's reference models: per point (arm), every model a target in turn.

use super::attacks::{Attack, Models, Sums, memorisation, scores};
use super::roc::{log_grid, roc_by};
use crate::data::rng::Rng;
use crate::report::paired::{Paired, from_se, holm_family, paired};
use crate::store::ReferenceScores;
use serde::{Deserialize, Serialize};

/// The attack the findings are stated with: LiRA online with the fixed variance, which Carlini
/// et al. recommend below 64 reference models.
pub const HEADLINE: Attack = Attack::LiraOnlineFixed;
/// FPRs every cell reports: 0.1 % and 1 %.
pub const FPRS: [f64; 2] = [0.001, 0.01];
/// Image-bootstrap replicates (Poisson weights) for the first target's intervals.
pub const BOOTSTRAP: usize = 200;
/// The most memorised images listed per arm.
pub const TOP: usize = 20;

/// One study point: its reference models (run id, scores), ordered by model index.
pub struct Arm {
    pub label: String,
    pub runs: Vec<String>,
    pub models: Vec<ReferenceScores>,
}

/// The reference models of one point as an arm, checked to be one study: the same pool, plan,
/// membership draw and model count, each model once.
pub fn arm_of(label: &str, mut models: Vec<(String, ReferenceScores)>) -> Result<Arm, String> {
    models.sort_by_key(|(_, m)| m.index);
    let Some((first_run, first)) = models.first() else {
        return Err(format!("point {label}: no finished reference model"));
    };
    for (run, m) in &models[1..] {
        let differs = if m.pool_checksum != first.pool_checksum {
            Some("pool (training images)")
        } else if m.occurrences != first.occurrences {
            Some("duplication plan (occurrences)")
        } else if m.models != first.models || m.seed != first.seed {
            Some("membership draw (reference.models, reference.seed)")
        } else if m.labels != first.labels {
            Some("labels")
        } else if m.step != first.step {
            Some("step budget (one stopped early?)")
        } else if m.threshold != first.threshold {
            Some("near-duplicate threshold (data.leak_threshold)")
        } else {
            None
        };
        if let Some(what) = differs {
            return Err(format!(
                "point {label}: runs {first_run} and {run} differ in their {what}; they are not reference models of one study"
            ));
        }
    }
    for w in models.windows(2) {
        if w[0].1.index == w[1].1.index {
            return Err(format!(
                "point {label}: runs {} and {} are both reference model {}; keep one",
                w[0].0, w[1].0, w[0].1.index
            ));
        }
    }
    if models.len() < 3 {
        return Err(format!(
            "point {label}: {} finished reference model(s); the attacks need 3 at least (a target and two references)",
            models.len()
        ));
    }
    let (runs, models) = models.into_iter().unzip();
    Ok(Arm {
        label: label.to_string(),
        runs,
        models,
    })
}

/// A stratum of members by occurrences k (inclusive range), each scored against all the
/// target's non-members; or, `shadowed`, the non-members left out as near-duplicates of a member,
/// scored as if they were members (how often the attack calls such an image a member).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Stratum {
    pub name: String,
    pub k_min: u8,
    pub k_max: u8,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub shadowed: bool,
}

/// What an image is to a target: a member, a non-member it is scored on, or a non-member left
/// out as a near-duplicate of a member.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Role {
    Member,
    NonMember,
    Shadowed,
    /// Too few references on a side to be scored (a sweep only partly finished).
    Unscored,
}

/// The stratum of near-duplicates of members.
pub const SHADOWED: &str = "near-dups of members";

impl Stratum {
    fn holds(&self, k: u8) -> bool {
        k >= self.k_min && k <= self.k_max
    }

    /// Whether an image of `role` and occurrences `k` is in this stratum's ROC, and on which side
    /// (true: the positives).
    pub(super) fn side(&self, role: Role, k: u8) -> Option<bool> {
        match (role, self.shadowed) {
            (Role::NonMember, _) => Some(false),
            (Role::Member, false) if self.holds(k) => Some(true),
            (Role::Shadowed, true) => Some(true),
            _ => None,
        }
    }
}

/// Unique images (k = 1), each level present, every duplicated image (k ≥ 2) and all.
fn strata(occurrences: &[u8]) -> Vec<Stratum> {
    let mut levels: Vec<u8> = occurrences.iter().copied().filter(|&k| k >= 1).collect();
    levels.sort_unstable();
    levels.dedup();
    let mut out = vec![];
    for &k in &levels {
        out.push(Stratum {
            name: if k == 1 {
                "k=1 (unique)".into()
            } else {
                format!("k={k}")
            },
            k_min: k,
            k_max: k,
            shadowed: false,
        });
    }
    if levels.iter().filter(|&&k| k >= 2).count() > 1 {
        out.push(Stratum {
            name: "k≥2 (duplicated)".into(),
            k_min: 2,
            k_max: u8::MAX,
            shadowed: false,
        });
    }
    out.push(Stratum {
        name: "all".into(),
        k_min: 1,
        k_max: u8::MAX,
        shadowed: false,
    });
    out.push(Stratum {
        name: SHADOWED.into(),
        k_min: 0,
        k_max: u8::MAX,
        shadowed: true,
    });
    out
}

/// A number across targets: the mean and its 95 % t-interval (`n` targets).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Estimate {
    pub mean: f64,
    pub lo: f64,
    pub hi: f64,
    pub n: usize,
}

impl Estimate {
    fn of(values: &[f64]) -> Estimate {
        match paired(values) {
            Some(p) => Estimate {
                mean: p.mean,
                lo: p.lo,
                hi: p.hi,
                n: p.n,
            },
            None => {
                let m = values.first().copied().unwrap_or(f64::NAN);
                Estimate {
                    mean: m,
                    lo: m,
                    hi: m,
                    n: values.len(),
                }
            }
        }
    }
}

/// One attack on one stratum: across targets, and the first target's bootstrap interval.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cell {
    pub attack: Attack,
    pub stratum: String,
    /// Members per target (mean).
    pub members: f64,
    pub tpr_01: Estimate,
    pub tpr_1: Estimate,
    pub auc: Estimate,
    /// Per target, in `ArmReport::targets` order: [TPR 0.1 %, TPR 1 %, AUC]; `None` where the
    /// target has no image of the stratum.
    pub per_target: Vec<Option<[f64; 3]>>,
    /// The first target's [TPR 0.1 %, TPR 1 %, AUC] and their 95 % image-bootstrap intervals.
    pub first: [f64; 3],
    pub first_lo: [f64; 3],
    pub first_hi: [f64; 3],
}

/// A ROC curve averaged over targets on a log grid of FPR.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Curve {
    pub attack: Attack,
    pub stratum: String,
    pub fpr: Vec<f64>,
    pub tpr: Vec<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Memorised {
    pub index: u32,
    pub label: u8,
    pub k: u8,
    pub mem: f64,
    pub se: f64,
}

/// Mean memorisation of a stratum's images and its standard error across images.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StratumMemorisation {
    pub stratum: String,
    pub images: usize,
    pub mean: f64,
    pub se: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ArmReport {
    pub label: String,
    pub runs: Vec<String>,
    pub models: usize,
    /// Model indices that were targets, in order.
    pub targets: Vec<usize>,
    pub pool: usize,
    /// Non-members each target is scored on (mean), and those left out as near-duplicates of a
    /// member (mean).
    pub non_members: f64,
    pub shadowed: f64,
    /// Images left unscored per target (mean): fewer than two IN or OUT references once
    /// balanced — none when every model of an even count of 6 or more finished.
    #[serde(default)]
    pub unscorable: f64,
    /// The smallest FPR step: 1 / the fewest non-members of any target.
    pub resolution: f64,
    pub strata: Vec<Stratum>,
    pub cells: Vec<Cell>,
    pub curves: Vec<Curve>,
    pub memorisation: Vec<StratumMemorisation>,
    pub top: Vec<Memorised>,
}

impl ArmReport {
    pub fn cell(&self, attack: Attack, stratum: &str) -> Option<&Cell> {
        self.cells
            .iter()
            .find(|c| c.attack == attack && c.stratum == stratum)
    }
}

/// A paired difference across targets (same model index: same membership half and seed).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Contrast {
    /// What minus what, e.g. `k=16 − k=1 (unique)` within a point, or `B − A` between points.
    pub what: String,
    pub point: String,
    pub stratum: String,
    pub attack: Attack,
    /// `tpr_01`, `tpr_1` or `auc`.
    pub metric: String,
    pub diff: Paired,
}

impl Contrast {
    /// Decided from the numbers: a Holm-significant difference at α 0.05, or none detectable.
    pub fn verdict(&self) -> &'static str {
        if self.diff.p_holm < 0.05 {
            if self.diff.mean > 0.0 {
                "higher"
            } else {
                "lower"
            }
        } else {
            "no detectable difference"
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MembershipReport {
    pub title: String,
    pub headline: Attack,
    pub arms: Vec<ArmReport>,
    /// The family tested together (Holm at α 0.05): every stratum k ≥ 2 against the unique
    /// images within each point, and every stratum between each pair of points.
    pub contrasts: Vec<Contrast>,
    /// Tests in the family (Holm's m): every planned contrast and metric, those that could not
    /// be computed included.
    #[serde(default)]
    pub family_size: usize,
    /// What the family leaves out, and why.
    #[serde(default)]
    pub notes: Vec<String>,
}

const METRICS: [&str; 3] = ["tpr_01", "tpr_1", "auc"];

/// Poisson(1) draw (the bootstrap weight of one image in one replicate).
fn poisson1(r: &mut Rng) -> f64 {
    let (mut k, mut p, l) = (0.0, r.unit(), (-1.0f64).exp());
    while p > l {
        k += 1.0;
        p *= r.unit();
    }
    k
}

/// The sorted (score, role, k, image) rows of one target under one attack.
type Scored = Vec<(f64, Role, u8, u32)>;

/// One attack on one stratum of one target: its values, and its ROC on the log grid.
struct TargetCell {
    values: [f64; 3],
    positives: usize,
    curve: Vec<f64>,
    /// The first target's 95 % image-bootstrap interval.
    boot: Option<([f64; 3], [f64; 3])>,
}

/// Every stratum of one target under one attack (`None` where a stratum has no positives).
fn target_cells(
    s: &Scored,
    strata: &[Stratum],
    fpr_grid: &[f64],
    boot_weights: Option<&[Vec<f64>]>,
) -> Vec<Option<TargetCell>> {
    strata
        .iter()
        .map(|st| {
            let rows = || {
                s.iter()
                    .filter_map(|r| st.side(r.1, r.2).map(|pos| (r.0, pos, r.3)))
            };
            let unit = rows().map(|(score, pos, _)| (score, pos, 1.0));
            let roc = roc_by(unit.clone(), &FPRS)?;
            let curve = roc_by(unit, fpr_grid).map_or_else(|| vec![0.0; fpr_grid.len()], |r| r.tpr);
            let boot = boot_weights.map(|ws| {
                let reps: Vec<[f64; 3]> = ws
                    .iter()
                    .filter_map(|w| {
                        let b = roc_by(
                            rows().map(|(score, pos, i)| (score, pos, w[i as usize])),
                            &FPRS,
                        )?;
                        Some([b.tpr[0], b.tpr[1], b.auc])
                    })
                    .collect();
                percentiles(&reps)
            });
            Some(TargetCell {
                values: [roc.tpr[0], roc.tpr[1], roc.auc],
                positives: rows().filter(|r| r.1).count(),
                curve,
                boot,
            })
        })
        .collect()
}

/// One point's cells, curves and memorisation, without the contrast family (`analyse`).
pub fn arm_report(arm: &Arm) -> ArmReport {
    let first = &arm.models[0];
    let n = first.phi.len();
    let occurrences = &first.occurrences;
    let phi: Vec<Vec<f64>> = arm.models.iter().map(|m| m.phi.clone()).collect();
    let member: Vec<Vec<bool>> = arm.models.iter().map(|m| m.member()).collect();
    let index: Vec<usize> = arm.models.iter().map(|m| m.index).collect();
    let models = Models {
        phi: &phi,
        member: &member,
        index: &index,
    };
    let sums = Sums::new(&models);
    let strata = strata(occurrences);
    let mut r = Rng::derive(0, "membership-bootstrap", 0);
    let boot_weights: Vec<Vec<f64>> = (0..BOOTSTRAP)
        .map(|_| (0..n).map(|_| poisson1(&mut r)).collect())
        .collect();
    // per[attack][stratum][target]
    let mut per: Vec<Vec<Vec<Option<TargetCell>>>> = (0..Attack::ALL.len())
        .map(|_| (0..strata.len()).map(|_| vec![]).collect())
        .collect();
    let (mut non_members, mut shadowed_n, mut unscorable_n) = (vec![], vec![], vec![]);
    let mut min_non = usize::MAX;
    // One FPR grid for every target: from about the first target's resolution to 1.
    let non_first = (0..n)
        .filter(|&i| !member[0][i])
        .count()
        .saturating_sub(first.shadowed.len());
    let fpr_grid = log_grid(1.0 / non_first.max(1) as f64, 4);
    for (t, model) in arm.models.iter().enumerate() {
        let mut shadowed = vec![false; n];
        for &i in &model.shadowed {
            if let Some(e) = shadowed.get_mut(i as usize) {
                *e = true;
            }
        }
        let (scores, scorable) = scores(&models, &sums, t);
        let role = |i: usize| match (scorable[i], member[t][i], shadowed[i]) {
            (false, _, _) => Role::Unscored,
            (true, true, _) => Role::Member,
            (true, false, false) => Role::NonMember,
            (true, false, true) => Role::Shadowed,
        };
        let non = (0..n).filter(|&i| role(i) == Role::NonMember).count();
        non_members.push(non as f64);
        shadowed_n.push((0..n).filter(|&i| role(i) == Role::Shadowed).count() as f64);
        unscorable_n.push(scorable.iter().filter(|&&b| !b).count() as f64);
        min_non = min_non.min(non);
        for (a, (_, score)) in scores.into_iter().enumerate() {
            let mut s: Scored = (0..n)
                .map(|i| (score[i], role(i), occurrences[i], i as u32))
                .collect();
            s.sort_by(|x, y| y.0.total_cmp(&x.0));
            let boot = (t == 0).then_some(boot_weights.as_slice());
            for (si, c) in target_cells(&s, &strata, &fpr_grid, boot)
                .into_iter()
                .enumerate()
            {
                per[a][si].push(c);
            }
        }
    }
    let mut cells = vec![];
    let mut curves = vec![];
    for (a, &attack) in Attack::ALL.iter().enumerate() {
        for (si, st) in strata.iter().enumerate() {
            let cs = &per[a][si];
            let present: Vec<&TargetCell> = cs.iter().flatten().collect();
            if present.is_empty() {
                continue;
            }
            let col = |j: usize| present.iter().map(|c| c.values[j]).collect::<Vec<f64>>();
            let (f, (lo, hi)) = match cs.first().and_then(|c| c.as_ref()) {
                Some(c) => (c.values, c.boot.unwrap_or(([f64::NAN; 3], [f64::NAN; 3]))),
                None => ([f64::NAN; 3], ([f64::NAN; 3], [f64::NAN; 3])),
            };
            cells.push(Cell {
                attack,
                stratum: st.name.clone(),
                members: present.iter().map(|c| c.positives as f64).sum::<f64>()
                    / present.len() as f64,
                tpr_01: Estimate::of(&col(0)),
                tpr_1: Estimate::of(&col(1)),
                auc: Estimate::of(&col(2)),
                per_target: cs.iter().map(|c| c.as_ref().map(|c| c.values)).collect(),
                first: f,
                first_lo: lo,
                first_hi: hi,
            });
            curves.push(Curve {
                attack,
                stratum: st.name.clone(),
                fpr: fpr_grid.clone(),
                tpr: (0..fpr_grid.len())
                    .map(|k| present.iter().map(|c| c.curve[k]).sum::<f64>() / present.len() as f64)
                    .collect(),
            });
        }
    }
    // Memorisation per image from all the models.
    let mems: Vec<Option<(f64, f64)>> = (0..n).map(|i| memorisation(&sums, i)).collect();
    let memorisation_by = strata
        .iter()
        .filter(|st| !st.shadowed)
        .map(|st| {
            let xs: Vec<f64> = (0..n)
                .filter(|&i| st.holds(occurrences[i]))
                .filter_map(|i| mems[i].map(|m| m.0))
                .collect();
            let e = crate::report::stats::mean_std(&xs);
            StratumMemorisation {
                stratum: st.name.clone(),
                images: xs.len(),
                mean: e.map_or(f64::NAN, |e| e.mean),
                se: e.map_or(f64::NAN, |e| e.std / (xs.len().max(1) as f64).sqrt()),
            }
        })
        .collect();
    let mut top: Vec<Memorised> = (0..n)
        .filter_map(|i| {
            mems[i].map(|(mem, se)| Memorised {
                index: i as u32,
                label: first.labels[i],
                k: occurrences[i],
                mem,
                se,
            })
        })
        .collect();
    top.sort_by(|a, b| b.mem.total_cmp(&a.mem).then(a.index.cmp(&b.index)));
    top.truncate(TOP);
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len().max(1) as f64;
    ArmReport {
        label: arm.label.clone(),
        runs: arm.runs.clone(),
        models: first.models,
        targets: arm.models.iter().map(|m| m.index).collect(),
        pool: n,
        non_members: mean(&non_members),
        shadowed: mean(&shadowed_n),
        unscorable: mean(&unscorable_n),
        resolution: 1.0 / min_non.max(1) as f64,
        strata,
        cells,
        curves,
        memorisation: memorisation_by,
        top,
    }
}

/// The 2.5 % and 97.5 % percentiles of each of three columns.
fn percentiles(boot: &[[f64; 3]]) -> ([f64; 3], [f64; 3]) {
    let (mut lo, mut hi) = ([f64::NAN; 3], [f64::NAN; 3]);
    if boot.is_empty() {
        return (lo, hi);
    }
    for j in 0..3 {
        let mut col: Vec<f64> = boot.iter().map(|b| b[j]).collect();
        col.sort_by(f64::total_cmp);
        let at = |q: f64| col[((q * (col.len() - 1) as f64).round() as usize).min(col.len() - 1)];
        lo[j] = at(0.025);
        hi[j] = at(0.975);
    }
    (lo, hi)
}

/// One contrast of the family: a stratum of one point minus a stratum of the same or another.
struct Planned {
    what: String,
    point: String,
    stratum: String,
    a: (usize, usize),
    b: (usize, usize),
}

/// Every arm analysed, and the contrast family — each stratum k ≥ 2 against the unique images
/// within a point, each stratum between two points of the same membership draw — tested with a
/// delete-one-model jackknife (`jackknife`) and Holm's correction over the whole family.
pub fn analyse(title: &str, arms: &[Arm]) -> MembershipReport {
    let reports: Vec<ArmReport> = arms.iter().map(arm_report).collect();
    let mut plan: Vec<Planned> = vec![];
    let mut notes = vec![];
    for (ai, r) in reports.iter().enumerate() {
        let Some(u) = r.strata.iter().position(|s| s.name == "k=1 (unique)") else {
            continue;
        };
        for (si, st) in r.strata.iter().enumerate().filter(|(_, s)| s.k_min >= 2) {
            plan.push(Planned {
                what: format!("{} − k=1 (unique)", st.name),
                point: r.label.clone(),
                stratum: st.name.clone(),
                a: (ai, si),
                b: (ai, u),
            });
        }
    }
    for (i, a) in reports.iter().enumerate() {
        for (j, b) in reports.iter().enumerate().skip(i + 1) {
            let (ma, mb) = (&arms[i].models[0], &arms[j].models[0]);
            if (ma.models, ma.seed, &ma.occurrences) != (mb.models, mb.seed, &mb.occurrences) {
                notes.push(format!(
                    "points {} and {} are not compared: their membership draws or duplication plans differ, so a model index is not the same half of the pool in both",
                    a.label, b.label
                ));
                continue;
            }
            for (sb, st) in b.strata.iter().enumerate().filter(|(_, s)| !s.shadowed) {
                if let Some(sa) = a.strata.iter().position(|s| s.name == st.name) {
                    plan.push(Planned {
                        what: format!("{} − {}", b.label, a.label),
                        point: b.label.clone(),
                        stratum: st.name.clone(),
                        a: (j, sb),
                        b: (i, sa),
                    });
                }
            }
        }
    }
    // The full-sample values of the headline attack, and one replicate per left-out model index.
    let full: Vec<(Vec<usize>, Vec<Vec<Option<[f64; 3]>>>)> = arms
        .iter()
        .zip(&reports)
        .map(|(arm, r)| super::jackknife::headline_without(arm, None, &r.strata))
        .collect();
    let mut indices: Vec<usize> = arms
        .iter()
        .flat_map(|a| a.models.iter().map(|m| m.index))
        .collect();
    indices.sort_unstable();
    indices.dedup();
    let needed: Vec<bool> = (0..arms.len())
        .map(|k| plan.iter().any(|p| p.a.0 == k || p.b.0 == k))
        .collect();
    let replicates: Vec<Vec<(Vec<usize>, Vec<Vec<Option<[f64; 3]>>>)>> = indices
        .iter()
        .map(|&drop| {
            arms.iter()
                .zip(&reports)
                .zip(&needed)
                .map(|((arm, r), &need)| {
                    if need {
                        super::jackknife::headline_without(arm, Some(drop), &r.strata)
                    } else {
                        (vec![], vec![])
                    }
                })
                .collect()
        })
        .collect();
    let m = plan.len() * METRICS.len();
    let mut contrasts = vec![];
    for p in &plan {
        for (j, metric) in METRICS.iter().enumerate() {
            let side = |set: &[(Vec<usize>, Vec<Vec<Option<[f64; 3]>>>)],
                        (arm, st): (usize, usize)| {
                let (t, v) = &set[arm];
                (t.clone(), v.get(st).cloned().unwrap_or_default())
            };
            let (ta, va) = side(&full, p.a);
            let (tb, vb) = side(&full, p.b);
            let Some((d, _)) = super::jackknife::mean_difference((&ta, &va), (&tb, &vb), j) else {
                continue;
            };
            let held = |arm: usize, idx: usize| arms[arm].models.iter().any(|m| m.index == idx);
            let reps: Vec<f64> = replicates
                .iter()
                .zip(&indices)
                // Leaving out an index only one side holds still changes that side's
                // references: a replicate. One neither holds would repeat the full value.
                .filter(|(_, idx)| held(p.a.0, **idx) || held(p.b.0, **idx))
                .filter_map(|(rep, _)| {
                    let (ta, va) = side(rep, p.a);
                    let (tb, vb) = side(rep, p.b);
                    super::jackknife::mean_difference((&ta, &va), (&tb, &vb), j).map(|x| x.0)
                })
                .collect();
            let Some(diff) =
                super::jackknife::jackknife_se(&reps).and_then(|se| from_se(reps.len(), d, se))
            else {
                continue;
            };
            contrasts.push(Contrast {
                what: p.what.clone(),
                point: p.point.clone(),
                stratum: p.stratum.clone(),
                attack: HEADLINE,
                metric: metric.to_string(),
                diff,
            });
        }
    }
    let mut refs: Vec<&mut Paired> = contrasts.iter_mut().map(|c| &mut c.diff).collect();
    holm_family(&mut refs, m, 0.05);
    MembershipReport {
        title: title.to_string(),
        headline: HEADLINE,
        arms: reports,
        contrasts,
        family_size: m,
        notes,
    }
}
