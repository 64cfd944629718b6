//! The analysis of one study's reference models: per point (arm), every model a target in turn.

use super::attacks::{Attack, Models, Sums, memorisation, scores};
use super::roc::{log_grid, roc_by};
use crate::data::rng::Rng;
use crate::report::paired::{Paired, holm, paired};
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

/// A stratum of images by occurrences k (inclusive range).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Stratum {
    pub name: String,
    pub k_min: u8,
    pub k_max: u8,
}

impl Stratum {
    fn holds(&self, k: u8) -> bool {
        k >= self.k_min && k <= self.k_max
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
        });
    }
    if levels.iter().filter(|&&k| k >= 2).count() > 1 {
        out.push(Stratum {
            name: "k≥2 (duplicated)".into(),
            k_min: 2,
            k_max: u8::MAX,
        });
    }
    out.push(Stratum {
        name: "all".into(),
        k_min: 1,
        k_max: u8::MAX,
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
    /// Per target, in `ArmReport::targets` order: [TPR 0.1 %, TPR 1 %, AUC].
    pub per_target: Vec<[f64; 3]>,
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

/// The sorted (score, member, k, scored) rows of one target under one attack.
struct Scored {
    rows: Vec<(f64, bool, u8, u32)>,
}

fn arm_report(arm: &Arm) -> ArmReport {
    let first = &arm.models[0];
    let n = first.phi.len();
    let occurrences = &first.occurrences;
    let phi: Vec<Vec<f64>> = arm.models.iter().map(|m| m.phi.clone()).collect();
    let member: Vec<Vec<bool>> = arm.models.iter().map(|m| m.member()).collect();
    let models = Models {
        phi: &phi,
        member: &member,
    };
    let sums = Sums::new(&models);
    let strata = strata(occurrences);
    let mut boot_weights: Vec<Vec<f64>> = vec![];
    let mut r = Rng::derive(0, "membership-bootstrap", 0);
    for _ in 0..BOOTSTRAP {
        boot_weights.push((0..n).map(|_| poisson1(&mut r)).collect());
    }
    // cells[attack][stratum] per target.
    let mut values: Vec<Vec<Vec<[f64; 3]>>> = vec![vec![vec![]; strata.len()]; Attack::ALL.len()];
    let mut members_n: Vec<Vec<f64>> = vec![vec![0.0; strata.len()]; Attack::ALL.len()];
    let mut firsts: Vec<Vec<([f64; 3], [f64; 3], [f64; 3])>> = vec![vec![]; Attack::ALL.len()];
    let grid_lo = 1.0 / n.max(1) as f64;
    let mut curve_sum: Vec<Vec<Vec<f64>>> = vec![vec![]; Attack::ALL.len()];
    let mut non_members = vec![];
    let mut shadowed_n = vec![];
    let mut min_non = usize::MAX;
    let mut fpr_grid: Vec<f64> = vec![];
    for (t, model) in arm.models.iter().enumerate() {
        let mut excluded = vec![false; n];
        for &i in &model.shadowed {
            if let Some(e) = excluded.get_mut(i as usize) {
                *e = true;
            }
        }
        let non = (0..n).filter(|&i| !member[t][i] && !excluded[i]).count();
        non_members.push(non as f64);
        shadowed_n.push(model.shadowed.len() as f64);
        min_non = min_non.min(non);
        if t == 0 {
            fpr_grid = log_grid((1.0 / non.max(1) as f64).max(grid_lo), 4);
        }
        for (a, (_, score)) in scores(&models, &sums, t).into_iter().enumerate() {
            let mut s = Scored {
                rows: (0..n)
                    .filter(|&i| member[t][i] || !excluded[i])
                    .map(|i| (score[i], member[t][i], occurrences[i], i as u32))
                    .collect(),
            };
            s.rows.sort_by(|x, y| y.0.total_cmp(&x.0));
            for (si, st) in strata.iter().enumerate() {
                let rows = s
                    .rows
                    .iter()
                    .filter(|r| !r.1 || st.holds(r.2))
                    .map(|r| (r.0, r.1, 1.0));
                let Some(roc) = roc_by(rows, &FPRS) else {
                    continue;
                };
                members_n[a][si] += s.rows.iter().filter(|r| r.1 && st.holds(r.2)).count() as f64;
                values[a][si].push([roc.tpr[0], roc.tpr[1], roc.auc]);
                if t == 0 {
                    let mut boot: Vec<[f64; 3]> = vec![];
                    for w in &boot_weights {
                        let rows = s
                            .rows
                            .iter()
                            .filter(|r| !r.1 || st.holds(r.2))
                            .map(|r| (r.0, r.1, w[r.3 as usize]));
                        if let Some(b) = roc_by(rows, &FPRS) {
                            boot.push([b.tpr[0], b.tpr[1], b.auc]);
                        }
                    }
                    let (lo, hi) = percentiles(&boot);
                    firsts[a].push(([roc.tpr[0], roc.tpr[1], roc.auc], lo, hi));
                }
            }
            // The ROC on the log grid, per stratum, summed over targets.
            if curve_sum[a].is_empty() {
                curve_sum[a] = vec![vec![0.0; fpr_grid.len()]; strata.len()];
            }
            for (si, st) in strata.iter().enumerate() {
                let rows = s
                    .rows
                    .iter()
                    .filter(|r| !r.1 || st.holds(r.2))
                    .map(|r| (r.0, r.1, 1.0));
                if let Some(roc) = roc_by(rows, &fpr_grid) {
                    for (acc, v) in curve_sum[a][si].iter_mut().zip(roc.tpr) {
                        *acc += v;
                    }
                }
            }
        }
    }
    let targets = arm.models.len();
    let mut cells = vec![];
    let mut curves = vec![];
    for (a, &attack) in Attack::ALL.iter().enumerate() {
        for (si, st) in strata.iter().enumerate() {
            let v = &values[a][si];
            if v.is_empty() {
                continue;
            }
            let col = |j: usize| v.iter().map(|x| x[j]).collect::<Vec<f64>>();
            let (f, lo, hi) = firsts[a].get(si).copied().unwrap_or_default();
            cells.push(Cell {
                attack,
                stratum: st.name.clone(),
                members: members_n[a][si] / v.len() as f64,
                tpr_01: Estimate::of(&col(0)),
                tpr_1: Estimate::of(&col(1)),
                auc: Estimate::of(&col(2)),
                per_target: v.clone(),
                first: f,
                first_lo: lo,
                first_hi: hi,
            });
            curves.push(Curve {
                attack,
                stratum: st.name.clone(),
                fpr: fpr_grid.clone(),
                tpr: curve_sum[a][si]
                    .iter()
                    .map(|s| s / targets as f64)
                    .collect(),
            });
        }
    }
    // Memorisation per image from all the models.
    let mems: Vec<Option<(f64, f64)>> = (0..n).map(|i| memorisation(&sums, i)).collect();
    let memorisation_by = strata
        .iter()
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

/// Paired differences across the targets two cells share (by model index).
fn contrast(
    what: String,
    point: &str,
    stratum: &str,
    attack: Attack,
    a: (&Cell, &[usize]),
    b: (&Cell, &[usize]),
) -> Vec<Contrast> {
    let mut out = vec![];
    for (j, metric) in METRICS.iter().enumerate() {
        let diffs: Vec<f64> =
            a.1.iter()
                .enumerate()
                .filter_map(|(ia, idx)| {
                    let ib = b.1.iter().position(|x| x == idx)?;
                    Some(a.0.per_target.get(ia)?[j] - b.0.per_target.get(ib)?[j])
                })
                .collect();
        if let Some(diff) = paired(&diffs) {
            out.push(Contrast {
                what: what.clone(),
                point: point.to_string(),
                stratum: stratum.to_string(),
                attack,
                metric: metric.to_string(),
                diff,
            });
        }
    }
    out
}

/// Every arm analysed, and the contrast family tested with Holm's correction.
pub fn analyse(title: &str, arms: &[Arm]) -> MembershipReport {
    let reports: Vec<ArmReport> = arms.iter().map(arm_report).collect();
    let mut contrasts = vec![];
    for r in &reports {
        let Some(unique) = r.cell(HEADLINE, "k=1 (unique)") else {
            continue;
        };
        for st in r.strata.iter().filter(|s| s.k_min >= 2) {
            if let Some(c) = r.cell(HEADLINE, &st.name) {
                contrasts.extend(contrast(
                    format!("{} − k=1 (unique)", st.name),
                    &r.label,
                    &st.name,
                    HEADLINE,
                    (c, &r.targets),
                    (unique, &r.targets),
                ));
            }
        }
    }
    for (i, a) in reports.iter().enumerate() {
        for b in &reports[i + 1..] {
            for st in &b.strata {
                if let (Some(cb), Some(ca)) =
                    (b.cell(HEADLINE, &st.name), a.cell(HEADLINE, &st.name))
                {
                    contrasts.extend(contrast(
                        format!("{} − {}", b.label, a.label),
                        &b.label,
                        &st.name,
                        HEADLINE,
                        (cb, &b.targets),
                        (ca, &a.targets),
                    ));
                }
            }
        }
    }
    let mut refs: Vec<&mut Paired> = contrasts.iter_mut().map(|c| &mut c.diff).collect();
    holm(&mut refs);
    MembershipReport {
        title: title.to_string(),
        headline: HEADLINE,
        arms: reports,
        contrasts,
    }
}
