//! `duplab membership`: LiRA, RMIA and the threshold attack on a sweep's reference models, by
//! occurrences k, with memorisation per image (docs/membership.md). Reads the runs' reference
//! files; trains nothing.

use super::exit::failure;
use crate::report::membership::{Arm, MembershipReport, analyse, arm_of};
use crate::report::write_svg_and_png;
use crate::store::{ReferenceScores, Run, RunStore};
use anyhow::Result;
use clap::Args;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

#[derive(Args, Debug)]
pub struct MembershipArgs {
    /// The sweep whose reference models are attacked (a grid with `[reference]`).
    #[arg(long)]
    pub sweep: String,
    /// Only this point (its label, e.g. `training=standard`); default every point.
    #[arg(long)]
    pub point: Option<String>,
    /// Folder for membership.md, .csv, .json and roc.svg/png (default results/<sweep>).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Print the report as JSON instead of Markdown.
    #[arg(long)]
    pub json: bool,
}

/// The finished reference models of `sweep`, by point (label → (run id, scores)). Runs without
/// reference scores (not finished, or not reference models) are counted, not read; an unreadable
/// file is an error naming it.
pub fn reference_arms(
    store: &RunStore,
    sweep: &str,
    point: Option<&str>,
) -> Result<(Vec<Arm>, usize)> {
    let mut by_point: BTreeMap<String, Vec<(String, ReferenceScores)>> = BTreeMap::new();
    let mut pending = 0;
    let runs: Vec<Run> = store
        .runs()?
        .into_iter()
        .filter(|r| {
            r.config()
                .ok()
                .flatten()
                .is_some_and(|c| c.sweep.as_deref() == Some(sweep))
        })
        .collect();
    if runs.is_empty() {
        return Err(failure(format!(
            "no runs of sweep `{sweep}` in {}",
            store.root.display()
        )));
    }
    for r in runs {
        let label = r
            .config()
            .ok()
            .flatten()
            .and_then(|c| c.point)
            .unwrap_or_default();
        if point.is_some_and(|p| p != label) {
            continue;
        }
        match r.reference().map_err(failure)? {
            Some(scores) => by_point
                .entry(label)
                .or_default()
                .push((r.id.clone(), scores)),
            None => pending += 1,
        }
    }
    if by_point.is_empty() {
        return Err(failure(format!(
            "sweep `{sweep}`{} has no finished reference model ({pending} run(s) without reference scores: not finished, or their preset has no [reference])",
            point.map(|p| format!(" point `{p}`")).unwrap_or_default()
        )));
    }
    let mut arms = vec![];
    for (label, models) in by_point {
        arms.push(arm_of(&label, models).map_err(failure)?);
    }
    Ok((arms, pending))
}

pub fn run(store: &RunStore, a: MembershipArgs) -> Result<i32> {
    let (arms, pending) = reference_arms(store, &a.sweep, a.point.as_deref())?;
    if pending > 0 {
        errln!(
            "note: {pending} run(s) of the sweep have no reference scores yet (not finished): left out"
        );
    }
    for arm in &arms {
        errln!(
            "point {}: {} reference models, each the target in turn…",
            arm.label,
            arm.models.len()
        );
    }
    let report = analyse(&format!("Sweep {}", a.sweep), &arms);
    let out = a
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("results").join(&a.sweep));
    write(&report, &out)?;
    if a.json {
        outln!("{}", report.json());
    } else {
        outln!("{}", report.markdown());
    }
    Ok(0)
}

/// membership.md, membership.csv, membership.json and roc.svg/png into `out`.
pub fn write(report: &MembershipReport, out: &Path) -> Result<()> {
    std::fs::create_dir_all(out).map_err(|e| failure(format!("{}: {e}", out.display())))?;
    for (name, text) in [
        ("membership.md", report.markdown()),
        ("membership.csv", report.csv()),
        ("membership.json", report.json()),
    ] {
        crate::atomic::write_atomic(
            &out.join(name),
            text.as_bytes(),
            crate::atomic::Durability::Rename,
        )
        .map_err(|e| failure(format!("{}: {e}", out.join(name).display())))?;
    }
    write_svg_and_png(&report.roc_svg(), &out.join("roc"))?;
    errln!(
        "wrote {}/membership.md, membership.csv, membership.json, roc.svg, roc.png",
        out.display()
    );
    Ok(())
}
