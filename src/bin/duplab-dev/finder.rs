//! `duplab-dev finder`: the duplicate finder against a matrix-product brute force run beside it
//! (test→train; within-train it would take 36× longer), interleaved, medians of the repeats.

use duplab::cli::bench::median;
use duplab::cli::fail;
use std::time::Instant;

/// The duplicate finder against the GEMM brute force, interleaved, medians of the repeats.
pub fn run(data_dir: Option<&std::path::Path>, threshold: f64, repeats: usize) -> i32 {
    let ds = match duplab::cli::dups_cmd::load(data_dir, None) {
        Ok(d) => d,
        Err(e) => return fail(e),
    };
    let reps = repeats.clamp(1, 3);
    println!(
        "duplicate finder on {} ({} train, {} test), threshold {}, median of {reps}:",
        ds.name,
        ds.train.len(),
        ds.test.len(),
        threshold
    );
    let (mut fast, mut slow) = (vec![], vec![]);
    let mut found = (0, 0);
    for _ in 0..reps {
        let t = Instant::now();
        let p = duplab::data::find_pairs(&ds.train, Some(&ds.test), threshold, &|_, _| {});
        fast.push(t.elapsed().as_secs_f64());
        let t = Instant::now();
        let g = duplab::data::gemm_brute_force(&ds.train, &ds.test, threshold);
        slow.push(t.elapsed().as_secs_f64());
        if p != g {
            return fail("the finder and the brute force disagree: a bug, please report it");
        }
        found = (p.len(), g.len());
    }
    let (f, g) = (median(&mut fast), median(&mut slow));
    println!(
        "  test→train ({} × {} pairs): finder {f:.2} s, GEMM brute force {g:.2} s: {:.1}× faster, the same {} pairs",
        ds.test.len(),
        ds.train.len(),
        g / f,
        found.0
    );
    let mut within = vec![];
    let mut n = 0;
    for _ in 0..reps {
        let t = Instant::now();
        n = duplab::data::find_pairs(&ds.train, None, threshold, &|_, _| {}).len();
        within.push(t.elapsed().as_secs_f64());
    }
    println!(
        "  within train ({} pairs): finder {:.2} s, {n} pairs",
        ds.train.len() * ds.train.len().saturating_sub(1) / 2,
        median(&mut within)
    );
    0
}
