//! `duplab data dups`: the exact and near-duplicate pairs a data set already holds — within the
//! training set, within the test set, and test images that nearly copy a training image — with
//! a summary per class and per threshold, the closest pairs, label disagreements, and every pair
//! as JSON or CSV.

use super::exit::failure;
use crate::data::{self, DataSet, Pair, PairSet};
use anyhow::Result;
use clap::ValueEnum;
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;
use std::io::IsTerminal;
use std::time::Instant;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PairScope {
    Train,
    Test,
    Cross,
    All,
}

/// Thresholds the summary counts test images under (those above the search threshold are left
/// out: the search does not see that far).
const SUMMARY_THRESHOLDS: [f64; 3] = [0.01, 0.02, 0.05];

#[derive(Serialize)]
struct ScopeResult {
    scope: &'static str,
    pairs: Vec<PairOut>,
    exact: usize,
    near: usize,
    label_disagreements: usize,
    seconds: f64,
    /// Read from the user cache (searched before on the same data and threshold).
    cached: bool,
}

#[derive(Serialize, Clone)]
struct PairOut {
    a: u32,
    b: u32,
    label_a: u8,
    label_b: u8,
    labels_agree: bool,
    dist: f64,
    sq: u64,
}

pub struct DupsArgs {
    pub threshold: f64,
    pub pairs: PairScope,
    pub json: bool,
    pub csv: bool,
    pub limit: usize,
}

fn search(ds: &DataSet, set: PairSet, threshold: f64, fancy: bool) -> ScopeResult {
    let t0 = Instant::now();
    let scope = set.label();
    let (query, base) = set.splits(ds);
    let n = query.len() as u64;
    let bar = fancy.then(|| {
        let b = ProgressBar::new(n);
        b.set_style(
            ProgressStyle::with_template("{msg:>12} [{bar:30}] {pos}/{len} images  {eta} left")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        b.set_message(scope);
        b
    });
    let progress = |done: usize, _total: usize| {
        if let Some(b) = &bar {
            b.set_position(done as u64);
        }
    };
    // Cached per data set and threshold: the lab and the trainer find these without searching.
    let (found, cached): (Vec<Pair>, bool) = data::pairs(ds, set, threshold, &progress);
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    let qlabels = &query.labels;
    let pairs: Vec<PairOut> = found
        .iter()
        .map(|p| {
            let (la, lb) = (qlabels[p.a as usize], base.labels[p.b as usize]);
            PairOut {
                a: p.a,
                b: p.b,
                label_a: la,
                label_b: lb,
                labels_agree: la == lb,
                dist: p.dist,
                sq: p.sq,
            }
        })
        .collect();
    ScopeResult {
        scope,
        exact: pairs.iter().filter(|p| p.sq == 0).count(),
        near: pairs.iter().filter(|p| p.sq > 0).count(),
        label_disagreements: pairs.iter().filter(|p| !p.labels_agree).count(),
        pairs,
        seconds: t0.elapsed().as_secs_f64(),
        cached,
    }
}

pub fn run(ds: &DataSet, a: &DupsArgs) -> Result<i32> {
    if !(0.0..=1.0).contains(&a.threshold) || a.threshold.is_nan() {
        return Err(failure(format!(
            "--threshold {} is out of range; allowed: an RMS pixel distance in [0, 1] (e.g. 0.05)",
            a.threshold
        )));
    }
    let (tr, te) = (&ds.train, &ds.test);
    if (tr.channels, tr.height, tr.width) != (te.channels, te.height, te.width) {
        return Err(failure(format!(
            "{}: train images are {}×{}×{} but test images are {}×{}×{}; duplicates need one image size",
            ds.name, tr.channels, tr.height, tr.width, te.channels, te.height, te.width
        )));
    }
    let fancy = std::io::stderr().is_terminal() && !a.json && !a.csv;
    let mut results = vec![];
    let want = |s: PairScope| a.pairs == s || a.pairs == PairScope::All;
    if want(PairScope::Train) {
        results.push(search(ds, PairSet::Train, a.threshold, fancy));
    }
    if want(PairScope::Test) {
        results.push(search(ds, PairSet::Test, a.threshold, fancy));
    }
    if want(PairScope::Cross) {
        results.push(search(ds, PairSet::Cross, a.threshold, fancy));
    }
    if a.json {
        let v = serde_json::json!({
            "data": ds.name,
            "source": ds.source,
            "threshold": a.threshold,
            "metric": "RMS pixel distance in [0, 1] units",
            "class_names": ds.class_names,
            "scopes": results,
        });
        println!(
            "{}",
            serde_json::to_string_pretty(&v).expect("json values serialise")
        );
        return Ok(0);
    }
    if a.csv {
        println!("scope,a,b,label_a,label_b,labels_agree,dist,sq");
        for r in &results {
            for p in &r.pairs {
                println!(
                    "{},{},{},{},{},{},{:.6},{}",
                    r.scope, p.a, p.b, p.label_a, p.label_b, p.labels_agree, p.dist, p.sq
                );
            }
        }
        return Ok(0);
    }
    print_text(ds, a, &results);
    Ok(0)
}

fn name(ds: &DataSet, l: u8) -> &str {
    ds.class_names
        .get(l as usize)
        .map(String::as_str)
        .unwrap_or("?")
}

fn print_text(ds: &DataSet, a: &DupsArgs, results: &[ScopeResult]) {
    println!(
        "duplicates in {} ({} train, {} test images); RMS pixel distance in [0, 1] units, threshold {}",
        ds.name,
        ds.train.len(),
        ds.test.len(),
        a.threshold
    );
    println!("exact for the metric: every pair at or under the threshold is listed\n");
    println!(
        "{:<11} {:>9} {:>9} {:>16} {:>9}",
        "scope", "exact", "near", "labels disagree", "seconds"
    );
    for r in results {
        println!(
            "{:<11} {:>9} {:>9} {:>16} {:>9.2}{}",
            r.scope,
            r.exact,
            r.near,
            r.label_disagreements,
            r.seconds,
            if r.cached { "  (cached)" } else { "" }
        );
    }
    let classes = ds.num_classes();
    if let Some(cross) = results.iter().find(|r| r.scope == "test→train") {
        // Each test image's nearest training image within the threshold.
        let mut nearest = vec![f64::INFINITY; ds.test.len()];
        for p in &cross.pairs {
            nearest[p.a as usize] = nearest[p.a as usize].min(p.dist);
        }
        println!("\ntest images with a training image within a distance (leaky test images):");
        let mut ts: Vec<f64> = SUMMARY_THRESHOLDS
            .iter()
            .copied()
            .filter(|t| *t <= a.threshold)
            .collect();
        if !ts.contains(&a.threshold) {
            ts.push(a.threshold);
        }
        for t in ts {
            let k = nearest.iter().filter(|d| **d <= t).count();
            println!(
                "  ≤ {t:<6} {k:>7}  ({:.2} % of the test set)",
                100.0 * k as f64 / ds.test.len().max(1) as f64
            );
        }
        println!(
            "\n{:>3}  {:<14} {:>12} {:>12} {:>11}",
            "#", "class", "train pairs", "leaky test", "disagree"
        );
        let train_pairs = results.iter().find(|r| r.scope == "train");
        for c in 0..classes {
            let tp = train_pairs
                .map(|r| {
                    r.pairs
                        .iter()
                        .filter(|p| p.label_a as usize == c || p.label_b as usize == c)
                        .count()
                })
                .unwrap_or(0);
            let leaky = (0..ds.test.len())
                .filter(|&i| ds.test.labels[i] as usize == c && nearest[i] <= a.threshold)
                .count();
            let dis = cross
                .pairs
                .iter()
                .filter(|p| p.label_a as usize == c && !p.labels_agree)
                .count();
            println!(
                "{c:>3}  {:<14} {tp:>12} {leaky:>12} {dis:>11}",
                name(ds, c as u8)
            );
        }
    }
    println!(
        "\nclosest pairs (up to {}; --json or --csv give all):",
        a.limit
    );
    let mut all: Vec<(&str, &PairOut)> = results
        .iter()
        .flat_map(|r| r.pairs.iter().map(move |p| (r.scope, p)))
        .collect();
    all.sort_by(|x, y| x.1.dist.total_cmp(&y.1.dist));
    println!(
        "  {:<11} {:>7} {:>7} {:>8}  labels",
        "scope", "a", "b", "distance"
    );
    for (scope, p) in all.iter().take(a.limit) {
        println!(
            "  {:<11} {:>7} {:>7} {:>8.4}  {} / {}{}",
            scope,
            p.a,
            p.b,
            p.dist,
            name(ds, p.label_a),
            name(ds, p.label_b),
            if p.labels_agree {
                ""
            } else {
                "  ← labels differ"
            }
        );
    }
    let noisy: Vec<&(&str, &PairOut)> = all.iter().filter(|(_, p)| !p.labels_agree).collect();
    if !noisy.is_empty() {
        println!(
            "\nlabel noise: {} pair(s) within {} carry different labels (first {} above or in --csv)",
            noisy.len(),
            a.threshold,
            noisy.len().min(a.limit)
        );
    }
    if all.is_empty() {
        println!("  none within {}", a.threshold);
    }
}

/// Load what `data dups` (and `duplab-dev finder`) searches: a preset's data set, a folder, or
/// the embedded default.
pub fn load(data_dir: Option<&std::path::Path>, preset: Option<&str>) -> anyhow::Result<DataSet> {
    Ok(match (preset, data_dir) {
        (Some(p), dir) => {
            let p = crate::spec::find_preset(p, &[])?;
            let (ds, skipped) = data::load_spec(&p.data, dir, &|_, _| {})?;
            super::data_cmd::report_skipped(ds, &skipped)
        }
        (None, Some(dir)) => data::load(data::guess_kind(dir), Some(dir))?,
        (None, None) => data::load_embedded(),
    })
}
