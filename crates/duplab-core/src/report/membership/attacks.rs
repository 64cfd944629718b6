//! The membership attacks on reference models, each a score per pool image for one target model
//! (higher = more member-like), calibrated on the other models (leave-one-out):
//! - the global threshold on φ (Yeom et al.'s loss attack: the cross-entropy is log(1 + e^−φ), so
//!   the order is the loss's, without float32's ties);
//! - LiRA (Carlini et al. 2022) offline — a one-sided test against the per-image Gaussian of φ
//!   under the models that did not train on the image — and online — the likelihood ratio of
//!   the Gaussians from the models that did and did not — each with per-image variances or
//!   the fixed (pooled) variance the paper recommends for few models;
//! - RMIA (Zarifzadeh et al. 2024), online: Score(x) = the fraction of population images z with
//!   LR(x, z) = (p(x|θ)/p(x)) / (p(z|θ)/p(z)) ≥ γ, with p(·|θ) the true-class probability (σ(φ))
//!   and p(·) its mean over the reference models. For γ = 1 and one population for every x, the
//!   score is a non-decreasing function of p(x|θ)/p(x): its ROC is that ratio's, which the
//!   population only quantises, so the ratio itself is the score (no ties, no self-comparison).

use crate::data::rng::Rng;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "kebab-case")]
pub enum Attack {
    /// The global threshold on φ (the loss attack, tie-free).
    Threshold,
    LiraOffline,
    LiraOfflineFixed,
    LiraOnline,
    LiraOnlineFixed,
    Rmia,
}

impl Attack {
    pub const ALL: [Attack; 6] = [
        Attack::Threshold,
        Attack::LiraOffline,
        Attack::LiraOfflineFixed,
        Attack::LiraOnline,
        Attack::LiraOnlineFixed,
        Attack::Rmia,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Attack::Threshold => "threshold on φ (loss attack)",
            Attack::LiraOffline => "LiRA offline",
            Attack::LiraOfflineFixed => "LiRA offline, fixed variance",
            Attack::LiraOnline => "LiRA online",
            Attack::LiraOnlineFixed => "LiRA online, fixed variance",
            Attack::Rmia => "RMIA (online, γ = 1)",
        }
    }

    pub fn key(self) -> &'static str {
        match self {
            Attack::Threshold => "threshold",
            Attack::LiraOffline => "lira-offline",
            Attack::LiraOfflineFixed => "lira-offline-fixed",
            Attack::LiraOnline => "lira-online",
            Attack::LiraOnlineFixed => "lira-online-fixed",
            Attack::Rmia => "rmia",
        }
    }
}

/// Per-image sums of φ over the models that trained on the image (IN) and those that did not
/// (OUT), from which the leave-one-out Gaussians of any target are taken.
#[derive(Clone)]
pub struct Sums {
    n_in: Vec<u32>,
    s_in: Vec<f64>,
    ss_in: Vec<f64>,
    n_out: Vec<u32>,
    s_out: Vec<f64>,
    ss_out: Vec<f64>,
    /// Σ over models of σ(φ) (RMIA's p(x) before dividing).
    p_sum: Vec<f64>,
}

/// The true-class probability from the logit margin: p = e^{z_y}/Σ e^{z_j} = σ(φ).
pub fn prob(phi: f64) -> f64 {
    if phi >= 0.0 {
        1.0 / (1.0 + (-phi).exp())
    } else {
        let e = phi.exp();
        e / (1.0 + e)
    }
}

/// φ of image `i` under model `m` and whether `m` trained on it: `phi[m][i]`, `member[m][i]`.
pub struct Models<'a> {
    pub phi: &'a [Vec<f64>],
    pub member: &'a [Vec<bool>],
    /// Each model's index in its study (what balancing is seeded by, so that leaving another
    /// model out — the jackknife — does not redraw which references a target keeps).
    pub index: &'a [usize],
}

impl Sums {
    pub fn new(m: &Models) -> Sums {
        let n = m.phi.first().map_or(0, |p| p.len());
        let mut s = Sums {
            n_in: vec![0; n],
            s_in: vec![0.0; n],
            ss_in: vec![0.0; n],
            n_out: vec![0; n],
            s_out: vec![0.0; n],
            ss_out: vec![0.0; n],
            p_sum: vec![0.0; n],
        };
        for (phi, member) in m.phi.iter().zip(m.member) {
            for i in 0..n {
                s.add(i, phi[i], member[i], 1.0);
            }
        }
        s
    }

    fn add(&mut self, i: usize, phi: f64, member: bool, sign: f64) {
        if !phi.is_finite() {
            return;
        }
        let (n, s, ss) = if member {
            (&mut self.n_in[i], &mut self.s_in[i], &mut self.ss_in[i])
        } else {
            (&mut self.n_out[i], &mut self.s_out[i], &mut self.ss_out[i])
        };
        *n = (*n as f64 + sign) as u32;
        *s += sign * phi;
        *ss += sign * phi * phi;
        self.p_sum[i] += sign * prob(phi);
    }

    /// Mean and (sample) variance of image `i`'s IN or OUT φ; `None` below two models.
    fn gauss(&self, i: usize, member: bool) -> Option<(f64, f64, u32)> {
        let (n, s, ss) = if member {
            (self.n_in[i], self.s_in[i], self.ss_in[i])
        } else {
            (self.n_out[i], self.s_out[i], self.ss_out[i])
        };
        if n < 2 {
            return None;
        }
        let nf = n as f64;
        let mean = s / nf;
        let var = ((ss - s * s / nf) / (nf - 1.0)).max(0.0);
        Some((mean, var, n))
    }

    /// The variance pooled over every image (the fixed-variance variant): Σ (n−1)·var / Σ (n−1).
    fn pooled(&self, member: bool) -> f64 {
        let (mut num, mut den) = (0.0, 0.0);
        for i in 0..self.n_in.len() {
            if let Some((_, var, n)) = self.gauss(i, member) {
                num += (n - 1) as f64 * var;
                den += (n - 1) as f64;
            }
        }
        if den > 0.0 { num / den } else { 1.0 }
    }
}

/// Variances below this are floored (a model family that agrees exactly on an image would give
/// an infinite likelihood ratio).
const VAR_FLOOR: f64 = 1e-8;

fn log_normal(x: f64, mean: f64, var: f64) -> f64 {
    let var = var.max(VAR_FLOOR);
    -0.5 * ((x - mean).powi(2) / var + (2.0 * std::f64::consts::PI * var).ln())
}

/// Every attack's scores of `target` on every pool image (higher = more member-like), calibrated
/// on the other models, and whether each image could be scored: it needs two IN and two OUT
/// references once they are balanced (below). An image that cannot is left out of every attack,
/// so all attacks are scored on the same images.
pub fn scores(m: &Models, all: &Sums, target: usize) -> (Vec<(Attack, Vec<f64>)>, Vec<bool>) {
    let mut s = all.clone();
    let (phi, member) = (&m.phi[target], &m.member[target]);
    let n = phi.len();
    let models = m.phi.len();
    for i in 0..n {
        s.add(i, phi[i], member[i], -1.0);
        // Every image is in exactly half the models, so without the target its references
        // lean the other way (7 IN and 8 OUT for a member of 16 models, 8 and 7 for a
        // non-member): the better-estimated side would then tell members apart by itself (a
        // bias of σ²/(2·7·8) in the likelihood ratio, which pushed the AUC of unique images
        // below ½). References of the larger side are left out at random (seeded by target and
        // image; never the first by index, which would tie a model's own offset to the
        // target's membership) until both sides are equal — also in a sweep only partly
        // finished.
        let (n_in, n_out) = (s.n_in[i], s.n_out[i]);
        if n_in != n_out {
            let larger = n_in > n_out;
            // The references left out are those of the lowest key, a hash of (target, reference,
            // image) by model index: the same ones whichever other models are present.
            let key = |r: usize| {
                Rng::derive(
                    (m.index[target] as u64) << 32 | m.index[r] as u64,
                    "balance",
                    i as u64,
                )
                .next_u64()
            };
            let mut pool: Vec<(u64, usize)> = (0..models)
                .filter(|&r| r != target && m.member[r][i] == larger && m.phi[r][i].is_finite())
                .map(|r| (key(r), r))
                .collect();
            let excess = n_in.abs_diff(n_out) as usize;
            if excess < pool.len() {
                pool.select_nth_unstable(excess);
            }
            for &(_, r) in pool.iter().take(excess) {
                s.add(i, m.phi[r][i], larger, -1.0);
            }
        }
    }
    let (var_in, var_out) = (s.pooled(true), s.pooled(false));
    let mut out: Vec<(Attack, Vec<f64>)> = Attack::ALL.iter().map(|&a| (a, vec![0.0; n])).collect();
    let mut scorable = vec![true; n];
    for i in 0..n {
        let x = phi[i];
        let (Some((mi, vi, _)), Some((mo, vo, _))) = (s.gauss(i, true), s.gauss(i, false)) else {
            scorable[i] = false;
            continue;
        };
        if !x.is_finite() {
            scorable[i] = false;
            continue;
        }
        let refs = (s.n_in[i] + s.n_out[i]).max(1) as f64;
        let p_ref = (s.p_sum[i] / refs).max(f64::MIN_POSITIVE);
        for (a, v) in out.iter_mut() {
            v[i] = match a {
                Attack::Threshold => x,
                Attack::LiraOffline => (x - mo) / vo.max(VAR_FLOOR).sqrt(),
                Attack::LiraOfflineFixed => (x - mo) / var_out.max(VAR_FLOOR).sqrt(),
                Attack::LiraOnline => log_normal(x, mi, vi) - log_normal(x, mo, vo),
                Attack::LiraOnlineFixed => log_normal(x, mi, var_in) - log_normal(x, mo, var_out),
                Attack::Rmia => prob(x).max(f64::MIN_POSITIVE).ln() - p_ref.ln(),
            };
            if !v[i].is_finite() {
                v[i] = if v[i] == f64::INFINITY {
                    f64::MAX
                } else {
                    f64::MIN
                };
            }
        }
    }
    (out, scorable)
}

/// Memorisation of image `i` (Feldman & Zhang, on φ instead of 0/1 correctness): the mean φ of
/// the models that trained on it minus that of the models that did not, with its standard
/// error; `None` below two models on either side.
pub fn memorisation(all: &Sums, i: usize) -> Option<(f64, f64)> {
    let (mi, vi, ni) = all.gauss(i, true)?;
    let (mo, vo, no) = all.gauss(i, false)?;
    Some((mi - mo, (vi / ni as f64 + vo / no as f64).sqrt()))
}
