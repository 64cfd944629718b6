//! The duplicate finder: every pair of images whose RMS pixel distance (in [0, 1] units: the
//! square root of the mean squared difference over all pixels and channels) is at most a
//! threshold, within a split or from one split to another. Exact for the metric: nothing is
//! approximated away, bounds only skip pairs that provably cannot qualify.
//!
//! Two lower bounds do the skipping. Each image is summarised by its block sums (b × b blocks
//! per channel) scaled by 1/√(pixels in the block): by Cauchy–Schwarz the distance between two
//! summaries never exceeds the distance between the images, and by the triangle inequality
//! neither does the difference of the summaries' norms. Images are sorted by that norm, each
//! one is compared only with the window of images whose norm is within the threshold, the
//! summary distance (a few dozen numbers) rejects most of the window, and every survivor is
//! checked exactly, in integers (the sum of squared u8 differences).

use super::Split;
use serde::{Deserialize, Serialize};

/// A pair under the threshold. `a` indexes the first split, `b` the second (the same split for
/// a within-split search, then `a < b`). Indices are 0-based, in file order.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Pair {
    pub a: u32,
    pub b: u32,
    /// Sum of squared differences of the u8 pixels (0 = identical).
    pub sq: u64,
    /// RMS distance in [0, 1] units.
    pub dist: f64,
}

impl Pair {
    fn new(a: usize, b: usize, sq: u64, values: usize) -> Pair {
        Pair {
            a: a as u32,
            b: b as u32,
            sq,
            dist: rms(sq, values),
        }
    }
}

/// Pairs in the order every search returns them: by distance, then indices.
fn sorted(mut pairs: Vec<Pair>) -> Vec<Pair> {
    pairs.sort_by(|x, y| x.sq.cmp(&y.sq).then(x.a.cmp(&y.a)).then(x.b.cmp(&y.b)));
    pairs
}

/// The squared-difference sum at or below which a pair is within `threshold` (RMS, [0, 1]).
fn sq_limit(threshold: f64, values: usize) -> f64 {
    (threshold * 255.0).powi(2) * values as f64
}

pub fn rms(sq: u64, values: usize) -> f64 {
    (sq as f64 / values.max(1) as f64).sqrt() / 255.0
}

/// Block summaries of a split: `dims` numbers per image, a coarser one of `cdims` numbers
/// (quadrants), and each summary's norm. Every level is a lower bound of the one below it.
struct Summaries {
    dims: usize,
    v: Vec<f32>,
    cdims: usize,
    coarse: Vec<f32>,
    norm: Vec<f64>,
}

/// Block side for an image side: 4 when it divides, else 2, else 1 (28 and 32 both take 4).
fn block(side: usize) -> usize {
    [4, 2, 1].into_iter().find(|b| side % b == 0).unwrap_or(1)
}

fn summarise(s: &Split) -> Summaries {
    let (c, h, w) = (s.channels, s.height, s.width);
    let (bh, bw) = (block(h), block(w));
    let (gh, gw) = (h / bh, w / bw);
    let dims = c * gh * gw;
    let scale = 1.0 / ((bh * bw) as f64).sqrt();
    let mut v = vec![0f32; s.len() * dims];
    let mut norm = vec![0f64; s.len()];
    // Quadrants of the block grid (halves when the grid side is even, else the whole side).
    let (qh, qw) = (
        if gh % 2 == 0 { 2 } else { 1 },
        if gw % 2 == 0 { 2 } else { 1 },
    );
    let cdims = c * qh * qw;
    let cscale = 1.0 / ((h / qh * (w / qw)) as f64).sqrt();
    let mut coarse = vec![0f32; s.len() * cdims];
    for i in 0..s.len() {
        let img = s.image(i);
        let out = &mut v[i * dims..(i + 1) * dims];
        let cout = &mut coarse[i * cdims..(i + 1) * cdims];
        let mut csum = vec![0u32; cdims];
        let mut n2 = 0.0;
        for ch in 0..c {
            for gy in 0..gh {
                for gx in 0..gw {
                    let mut sum = 0u32;
                    for y in gy * bh..(gy + 1) * bh {
                        let row = ch * h * w + y * w;
                        for x in gx * bw..(gx + 1) * bw {
                            sum += img[row + x] as u32;
                        }
                    }
                    let u = sum as f64 * scale;
                    out[ch * gh * gw + gy * gw + gx] = u as f32;
                    n2 += u * u;
                    csum[ch * qh * qw + gy / (gh / qh) * qw + gx / (gw / qw)] += sum;
                }
            }
        }
        for (o, &cs) in cout.iter_mut().zip(&csum) {
            *o = (cs as f64 * cscale) as f32;
        }
        norm[i] = n2.sqrt();
    }
    Summaries {
        dims,
        v,
        cdims,
        coarse,
        norm,
    }
}

/// Squared distance of two summaries (f64 sum of f32 differences).
#[inline]
fn dist2(a: &[f32], b: &[f32]) -> f64 {
    let mut acc = [0f32; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for k in 0..8 {
            let d = x[k] - y[k];
            acc[k] += d * d;
        }
    }
    let mut s: f64 = acc.iter().map(|&v| v as f64).sum();
    for (x, y) in ra.iter().zip(rb) {
        let d = (*x - *y) as f64;
        s += d * d;
    }
    s
}

fn exact_sq(a: &[u8], b: &[u8]) -> u64 {
    a.iter()
        .zip(b)
        .map(|(&x, &y)| {
            let d = x as i32 - y as i32;
            (d * d) as u64
        })
        .sum()
}

/// Slack for the f32 summaries: a bound is compared against the limit plus this much, so
/// rounding can only let a pair through to the exact check, never reject a true pair.
fn slack(limit: f64, scale: f64) -> f64 {
    1e-3 * limit + 1e-4 * scale * scale + 1.0
}

/// Every pair within `threshold` inside `s` (`a < b`), or from every image of `q` to `s`
/// (`a` in `q`, `b` in `s`) when `q` is given. `progress(done, total)` is called as the
/// query images are processed. Pairs come sorted by distance, then indices.
pub fn find_pairs(
    s: &Split,
    q: Option<&Split>,
    threshold: f64,
    progress: &(dyn Fn(usize, usize) + Sync),
) -> Vec<Pair> {
    let values = s.channels * s.height * s.width;
    let limit = sq_limit(threshold, values);
    let base = summarise(s);
    let query = q.map(summarise);
    let qs = q.unwrap_or(s);
    let qsum = query.as_ref().unwrap_or(&base);
    // Base images by summary norm, so each query scans one window of norms.
    let mut order: Vec<u32> = (0..s.len() as u32).collect();
    order.sort_by(|&x, &y| base.norm[x as usize].total_cmp(&base.norm[y as usize]));
    let sorted_norm: Vec<f64> = order.iter().map(|&i| base.norm[i as usize]).collect();
    // Summaries laid out in that order, so a window is one sequential scan of memory.
    let gather = |src: &[f32], d: usize| -> Vec<f32> {
        order
            .iter()
            .flat_map(|&i| src[i as usize * d..(i as usize + 1) * d].iter().copied())
            .collect()
    };
    let (sv, sc) = (gather(&base.v, base.dims), gather(&base.coarse, base.cdims));
    let radius = limit.sqrt();
    let max_norm = sorted_norm.last().copied().unwrap_or(0.0);
    let eps = slack(limit, max_norm);
    let n = qs.len();
    let done = std::sync::atomic::AtomicUsize::new(0);
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let chunk = n.div_ceil(threads * 8).max(1);
    let starts: Vec<usize> = (0..n).step_by(chunk).collect();
    let next = std::sync::atomic::AtomicUsize::new(0);
    let pairs: Vec<Pair> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut found = vec![];
                    loop {
                        let k = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some(&start) = starts.get(k) else { break };
                        let end = (start + chunk).min(n);
                        for i in start..end {
                            let ni = qsum.norm[i];
                            let lo = sorted_norm
                                .partition_point(|&v| v < ni - radius - 1e-6 * (1.0 + ni));
                            let hi = sorted_norm
                                .partition_point(|&v| v <= ni + radius + 1e-6 * (1.0 + ni));
                            let vi = &qsum.v[i * qsum.dims..(i + 1) * qsum.dims];
                            let ci = &qsum.coarse[i * qsum.cdims..(i + 1) * qsum.cdims];
                            let img = qs.image(i);
                            for r in lo..hi {
                                // Quadrants first (a handful of numbers), then the blocks.
                                let cj = &sc[r * base.cdims..(r + 1) * base.cdims];
                                if dist2(ci, cj) > limit + eps {
                                    continue;
                                }
                                let j = order[r] as usize;
                                if q.is_none() && j <= i {
                                    continue;
                                }
                                let vj = &sv[r * base.dims..(r + 1) * base.dims];
                                if dist2(vi, vj) > limit + eps {
                                    continue;
                                }
                                let sq = exact_sq(img, s.image(j));
                                if sq as f64 <= limit {
                                    found.push(Pair::new(i, j, sq, values));
                                }
                            }
                        }
                        let d = done.fetch_add(end - start, std::sync::atomic::Ordering::Relaxed);
                        progress(d + end - start, n);
                    }
                    found
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().expect("a finder thread does not panic"))
            .collect()
    });
    sorted(pairs)
}

/// The brute force the finder must equal: every pair, in integers. For tests and the benchmark.
pub fn brute_force(s: &Split, q: Option<&Split>, threshold: f64) -> Vec<Pair> {
    let values = s.channels * s.height * s.width;
    let limit = sq_limit(threshold, values);
    let qs = q.unwrap_or(s);
    let mut out = vec![];
    for i in 0..qs.len() {
        let from = if q.is_none() { i + 1 } else { 0 };
        for j in from..s.len() {
            let sq = exact_sq(qs.image(i), s.image(j));
            if sq as f64 <= limit {
                out.push(Pair::new(i, j, sq, values));
            }
        }
    }
    sorted(out)
}

/// The matrix-product brute force, as a GPU or PyTorch user would write it: every distance as
/// ‖a‖² + ‖b‖² − 2 a·b, the dot products by a blocked f32 GEMM (the `gemm` crate, all cores),
/// candidates within the threshold plus a rounding margin rechecked exactly. The benchmark's
/// baseline for `find_pairs`; it returns the same pairs. Built for tests and the developers'
/// benchmarks only (feature `dev`).
#[cfg(any(test, feature = "dev"))]
pub fn gemm_brute_force(s: &Split, q: &Split, threshold: f64) -> Vec<Pair> {
    let d = s.channels * s.height * s.width;
    let limit = sq_limit(threshold, d);
    let to_f32 = |x: &Split| -> Vec<f32> { x.images.iter().map(|&p| p as f32).collect() };
    let (bs, qf) = (to_f32(s), to_f32(q));
    let norms = |v: &[f32]| -> Vec<f64> {
        v.chunks(d)
            .map(|r| r.iter().map(|&x| (x as f64) * (x as f64)).sum())
            .collect()
    };
    let (nb, nq) = (norms(&bs), norms(&qf));
    // f32 dot products of 784 values up to 255² each: a relative margin covers their rounding.
    let margin = 1e-4 * (255.0f64 * 255.0 * d as f64) + 1.0;
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let block = 1024;
    let mut out = vec![];
    let mut dots = vec![0f32; block * s.len()];
    for q0 in (0..q.len()).step_by(block) {
        let m = block.min(q.len() - q0);
        // dots[i, j] = q[q0 + i] · s[j]: lhs m×d row-major, rhs d×n (s transposed, i.e. s
        // row-major read with swapped strides), dst m×n row-major.
        unsafe {
            gemm::gemm(
                m,
                s.len(),
                d,
                dots.as_mut_ptr(),
                1,
                s.len() as isize,
                false,
                qf[q0 * d..].as_ptr(),
                1,
                d as isize,
                bs.as_ptr(),
                d as isize,
                1,
                0.0,
                1.0,
                false,
                false,
                false,
                gemm::Parallelism::Rayon(threads),
            );
        }
        for i in 0..m {
            let row = &dots[i * s.len()..(i + 1) * s.len()];
            for (j, &dot) in row.iter().enumerate() {
                let est = nq[q0 + i] + nb[j] - 2.0 * dot as f64;
                if est <= limit + margin {
                    let sq = exact_sq(q.image(q0 + i), s.image(j));
                    if sq as f64 <= limit {
                        out.push(Pair::new(q0 + i, j, sq, d));
                    }
                }
            }
        }
    }
    sorted(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::{Jitter, apply_jitter, load_embedded};

    /// The first `n` embedded training images, with planted exact and near duplicates of some.
    fn planted(n: usize) -> Split {
        let d = load_embedded();
        let mut s = d.train.clone();
        let px = s.channels * s.height * s.width;
        s.images.truncate(n * px);
        s.labels.truncate(n);
        for k in 0..40 {
            let src = k * 37 % n;
            let img = s.image(src).to_vec();
            let copy = match k % 4 {
                0 => img,
                1 => apply_jitter(
                    &img,
                    1,
                    28,
                    28,
                    Jitter {
                        dx: 0,
                        dy: 0,
                        noise: k as u32 | 1,
                    },
                ),
                2 => apply_jitter(
                    &img,
                    1,
                    28,
                    28,
                    Jitter {
                        dx: 1,
                        dy: 0,
                        noise: 0,
                    },
                ),
                _ => apply_jitter(
                    &img,
                    1,
                    28,
                    28,
                    Jitter {
                        dx: 0,
                        dy: 0,
                        noise: 3,
                    },
                ),
            };
            s.images.extend_from_slice(&copy);
            s.labels.push(s.labels[src]);
        }
        s
    }

    #[test]
    fn equals_integer_brute_force_within_and_across_splits() {
        let s = planted(1500);
        for t in [0.0, 0.02, 0.05, 0.1] {
            let fast = find_pairs(&s, None, t, &|_, _| {});
            assert_eq!(fast, brute_force(&s, None, t), "within, threshold {t}");
        }
        let test = load_embedded().test;
        let q = Split {
            images: test.images[..500 * 784].to_vec(),
            labels: test.labels[..500].to_vec(),
            ..test.clone()
        };
        for t in [0.05, 0.12] {
            let fast = find_pairs(&s, Some(&q), t, &|_, _| {});
            assert_eq!(fast, brute_force(&s, Some(&q), t), "cross, threshold {t}");
            assert_eq!(
                fast,
                gemm_brute_force(&s, &q, t),
                "gemm baseline, threshold {t}"
            );
        }
        // The search found something to compare: the planted near-duplicates.
        assert!(find_pairs(&s, None, 0.05, &|_, _| {}).len() >= 30);
    }

    #[test]
    fn every_planted_exact_duplicate_is_found() {
        let s = planted(1000);
        let exact: Vec<(u32, u32)> = find_pairs(&s, None, 0.0, &|_, _| {})
            .into_iter()
            .map(|p| (p.a, p.b))
            .collect();
        for k in (0..40).step_by(4) {
            let pair = ((k * 37 % 1000) as u32, (1000 + k) as u32);
            assert!(exact.contains(&pair), "planted {pair:?} missing");
        }
    }

    #[test]
    fn distance_is_rms_in_unit_range() {
        // One pixel of 784 differs by 255: RMS = 1/√784 = 1/28.
        assert!((rms(255 * 255, 784) - 1.0 / 28.0).abs() < 1e-12);
        assert_eq!(rms(0, 784), 0.0);
    }
}
