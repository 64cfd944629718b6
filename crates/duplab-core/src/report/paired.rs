//! Paired statistics: a point's metric minus its control's for the same seed (same initial
//! weights; docs/architecture.md, "paired difference"), summarised by a paired t-test — mean difference,
//! 95 % confidence interval, two-sided p-value — with Holm's correction across the comparisons
//! of one report, and the minimum detectable effect for the seeds used (exact power, from the
//! noncentral t: `report::power`), uncorrected and at Holm's first step. With 3–5 seeds a
//! bootstrap is meaningless, so none is offered.

use super::power::mde_in_se;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Paired {
    /// Pairs (seeds) compared.
    pub n: usize,
    pub mean: f64,
    /// Sample standard deviation of the differences.
    pub sd: f64,
    /// 95 % confidence interval of the mean difference.
    pub lo: f64,
    pub hi: f64,
    /// Two-sided p-value of "mean difference = 0".
    pub p: f64,
    /// Holm-adjusted p-value (set by `holm` across one report's comparisons).
    pub p_holm: f64,
    /// Smallest true difference this many seeds detect with 80 % power at α 0.05 (two-sided,
    /// uncorrected), given the observed spread: exact power of the t-test.
    pub mde: f64,
    /// The same at Holm's first step, α/m for a family of m tests (set by `holm_family`): the
    /// effect that could hide behind "no detectable effect" once the family is corrected.
    #[serde(default)]
    pub mde_holm: f64,
    /// The level of that step, α/m.
    #[serde(default)]
    pub alpha_holm: f64,
}

/// The MDE at level `alpha` of `n` pairs with standard error `se` (80 % power); 0 when the
/// differences do not vary (then any effect is detected), never NaN (report.json must read back).
fn mde_at(n: usize, se: f64, alpha: f64) -> f64 {
    if se == 0.0 {
        return 0.0;
    }
    mde_in_se(n, alpha, 0.8).map_or(f64::MAX, |d| (d * se).min(f64::MAX))
}

/// The paired t-test of `diffs` (one difference per seed). `None` for fewer than 2 pairs.
pub fn paired(diffs: &[f64]) -> Option<Paired> {
    let n = diffs.len();
    if n < 2 {
        return None;
    }
    let nf = n as f64;
    let mean = diffs.iter().sum::<f64>() / nf;
    let sd = (diffs.iter().map(|d| (d - mean).powi(2)).sum::<f64>() / (nf - 1.0)).sqrt();
    Some(t_test(n, mean, sd / nf.sqrt(), sd))
}

/// A test of `mean` = 0 from a standard error found otherwise (a jackknife over `n` units):
/// t with n − 1 degrees of freedom, its 95 % interval, p-value and MDE. `None` below 2 units
/// or for a value that is not finite.
pub fn from_se(n: usize, mean: f64, se: f64) -> Option<Paired> {
    (n >= 2 && se.is_finite() && mean.is_finite())
        .then(|| t_test(n, mean, se, se * (n as f64).sqrt()))
}

/// The t-test of a mean over `n` units with standard error `se` (`sd`: the units' spread).
fn t_test(n: usize, mean: f64, se: f64, sd: f64) -> Paired {
    let df = n as f64 - 1.0;
    let t975 = t_quantile(0.975, df);
    let p = if se == 0.0 {
        if mean == 0.0 { 1.0 } else { 0.0 }
    } else {
        2.0 * (1.0 - t_cdf((mean / se).abs(), df))
    };
    let mde = mde_at(n, se, 0.05);
    Paired {
        n,
        mean,
        sd,
        lo: mean - t975 * se,
        hi: mean + t975 * se,
        p,
        p_holm: p,
        mde,
        mde_holm: mde,
        alpha_holm: 0.05,
    }
}

/// Holm's step-down correction of the p-values of one family of comparisons, in place, at
/// α 0.05 with the family being exactly `tests`.
pub fn holm(tests: &mut [&mut Paired]) {
    let m = tests.len();
    holm_family(tests, m, 0.05);
}

/// Holm's correction for a family of `m` tests at level `alpha` of which `tests` could be
/// computed (a declared test without data counts in m, as if its p were 1), and the MDE at
/// Holm's first step, α/m.
pub fn holm_family(tests: &mut [&mut Paired], m: usize, alpha: f64) {
    let m = m.max(tests.len());
    let mut order: Vec<usize> = (0..tests.len()).collect();
    order.sort_by(|&a, &b| tests[a].p.total_cmp(&tests[b].p));
    let mut running = 0.0f64;
    for (rank, &i) in order.iter().enumerate() {
        let adj = ((m - rank) as f64 * tests[i].p).min(1.0);
        running = running.max(adj);
        tests[i].p_holm = running;
    }
    for t in tests.iter_mut() {
        let se = t.sd / (t.n as f64).sqrt();
        t.alpha_holm = alpha / m.max(1) as f64;
        t.mde_holm = mde_at(t.n, se, t.alpha_holm);
    }
}

/// Student's t cumulative distribution at `t` with `df` degrees of freedom.
pub fn t_cdf(t: f64, df: f64) -> f64 {
    let x = df / (df + t * t);
    let tail = 0.5 * inc_beta(df / 2.0, 0.5, x);
    if t >= 0.0 { 1.0 - tail } else { tail }
}

/// The `q` quantile of Student's t (bisection on the CDF; exact to 1e-12).
pub fn t_quantile(q: f64, df: f64) -> f64 {
    // A bracket wide enough for the tail asked for (1 df at α/m = 1e-6 needs 6e5).
    let mut hi = 1e3f64;
    while t_cdf(hi, df) < q && hi < 1e300 {
        hi *= 10.0;
    }
    let mut lo = -hi;
    for _ in 0..400 {
        let mid = 0.5 * (lo + hi);
        if t_cdf(mid, df) < q {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    0.5 * (lo + hi)
}

pub(super) fn ln_gamma(x: f64) -> f64 {
    // Lanczos approximation (g = 7, n = 9), accurate to ~1e-15 for x > 0.
    const G: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        return std::f64::consts::PI.ln()
            - (std::f64::consts::PI * x).sin().ln()
            - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let mut a = G[0];
    let t = x + 7.5;
    for (i, g) in G.iter().enumerate().skip(1) {
        a += g / (x + i as f64);
    }
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + a.ln()
}

/// The regularised incomplete beta function I_x(a, b) (continued fraction, Lentz's method).
pub(super) fn inc_beta(a: f64, b: f64, x: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    if x >= 1.0 {
        return 1.0;
    }
    let front =
        (ln_gamma(a + b) - ln_gamma(a) - ln_gamma(b) + a * x.ln() + b * (1.0 - x).ln()).exp();
    if x > (a + 1.0) / (a + b + 2.0) {
        return 1.0 - inc_beta(b, a, 1.0 - x);
    }
    let tiny = 1e-300;
    let (mut c, mut d) = (1.0, 1.0 - (a + b) * x / (a + 1.0));
    if d.abs() < tiny {
        d = tiny;
    }
    d = 1.0 / d;
    let mut f = d;
    for m in 1..300 {
        let m = m as f64;
        for num in [
            m * (b - m) * x / ((a + 2.0 * m - 1.0) * (a + 2.0 * m)),
            -(a + m) * (a + b + m) * x / ((a + 2.0 * m) * (a + 2.0 * m + 1.0)),
        ] {
            d = 1.0 + num * d;
            if d.abs() < tiny {
                d = tiny;
            }
            c = 1.0 + num / c;
            if c.abs() < tiny {
                c = tiny;
            }
            d = 1.0 / d;
            f *= d * c;
        }
        if (d * c - 1.0).abs() < 1e-15 {
            break;
        }
    }
    front * f / a
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() < tol
    }

    #[test]
    fn t_quantiles_match_the_tables() {
        // Two-sided 95 % critical values: df 1, 2, 4, 9, 30.
        for (df, t) in [
            (1.0, 12.706),
            (2.0, 4.303),
            (4.0, 2.776),
            (9.0, 2.262),
            (30.0, 2.042),
        ] {
            assert!(close(t_quantile(0.975, df), t, 1e-3), "df {df}");
        }
        assert!(close(t_quantile(0.80, 4.0), 0.941, 1e-3));
        assert!(close(t_cdf(0.0, 3.0), 0.5, 1e-12));
    }

    #[test]
    fn a_paired_test_against_hand_computed_values() {
        // Differences 1, 2, 3: mean 2, sd 1, se 1/√3, t = 3.464 with 2 df → p = 0.0742.
        let p = paired(&[1.0, 2.0, 3.0]).unwrap();
        assert_eq!((p.n, p.mean, p.sd), (3, 2.0, 1.0));
        assert!(close(p.p, 0.07418, 1e-4), "{}", p.p);
        let half = 4.302_653 / 3f64.sqrt();
        assert!(close(p.lo, 2.0 - half, 1e-5) && close(p.hi, 2.0 + half, 1e-5));
        // MDE: exact 80 % power at 2 df is reached at 5.6535 standard errors (SciPy, see
        // power.rs), not at the shortcut's 4.303 + 1.061.
        assert!(close(p.mde, 5.653_489_266 / 3f64.sqrt(), 1e-6), "{}", p.mde);
        assert!(paired(&[0.5]).is_none());
        let z = paired(&[0.0, 0.0, 0.0]).unwrap();
        assert_eq!((z.p, z.lo, z.hi), (1.0, 0.0, 0.0));
    }

    #[test]
    fn holm_steps_down_and_stays_monotone() {
        let mut a = paired(&[1.0, 2.0, 3.0]).unwrap(); // p 0.074
        let mut b = paired(&[10.0, 10.1, 9.9]).unwrap(); // p tiny
        let mut c = paired(&[1.0, -1.0, 0.5]).unwrap(); // p large
        let (pa, pb, pc) = (a.p, b.p, c.p);
        holm(&mut [&mut a, &mut b, &mut c]);
        assert!(close(b.p_holm, 3.0 * pb, 1e-12));
        assert!(close(a.p_holm, (2.0 * pa).max(3.0 * pb), 1e-12));
        assert!(close(c.p_holm, pc.max(a.p_holm).min(1.0), 1e-12));
        // The MDE at Holm's first step: α/3, for every test of the family.
        assert!(close(a.alpha_holm, 0.05 / 3.0, 1e-15));
        let se = a.sd / 3f64.sqrt();
        let want = super::super::power::mde_in_se(3, 0.05 / 3.0, 0.8).unwrap() * se;
        assert!(close(a.mde_holm, want, 1e-12) && a.mde_holm > 1.5 * a.mde);
    }

    /// A declared test without data still counts in the family: m = 4 though one was computed.
    #[test]
    fn holm_counts_the_declared_family() {
        let mut a = paired(&[10.0, 10.1, 9.9]).unwrap();
        let pa = a.p;
        holm_family(&mut [&mut a], 4, 0.05);
        assert!(close(a.p_holm, 4.0 * pa, 1e-12) && close(a.alpha_holm, 0.0125, 1e-15));
    }
}
