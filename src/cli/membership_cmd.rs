//! `duplab membership`: LiRA, RMIA and the threshold attack on a sweep's reference models, by
//! occurrences k, with memorisation per image (docs/membership.md). Reads the runs' reference
//! files; trains nothing.

use super::exit::failure;
use crate::report::membership::{Arm, MembershipReport, analyse};
use crate::report::write_svg_and_png;
use crate::store::{ReferenceScores, Run, RunStore};
use anyhow::Result;
use clap::Args;
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

/// The finished reference models of `sweep`, by point (`report::membership::load_arms`).
pub fn reference_arms(
    store: &RunStore,
    sweep: &str,
    point: Option<&str>,
) -> Result<(Vec<Arm>, usize)> {
    crate::report::membership::load_arms(store, sweep, point).map_err(failure)
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
    errln!(
        "then the findings' jackknife: each model index left out in turn and the attacks run again…"
    );
    let t0 = std::time::Instant::now();
    let report = analyse(&format!("Sweep {}", a.sweep), &arms);
    errln!("analysed in {:.0} s", t0.elapsed().as_secs_f64());
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

/// `runs show` of a reference model: its membership, and how the attacks do with it as the
/// target of the sweep's other models (the same numbers as the sweep's membership report).
pub fn show_target(
    store: &RunStore,
    run: &Run,
    scores: &ReferenceScores,
    sweep: Option<&str>,
    point: Option<&str>,
) {
    let members = scores.members.bytes().filter(|&b| b == b'1').count();
    outln!(
        "reference  model {} of {}: trained on {members} of the pool's {} images; {} non-members left out as near-duplicates of a member (≤ {})",
        scores.index,
        scores.models,
        scores.phi.len(),
        scores.shadowed.len(),
        scores.threshold
    );
    let Some(sweep) = sweep else {
        outln!("           (no sweep: the attacks need the other reference models of its sweep)");
        return;
    };
    let arm = match reference_arms(store, sweep, point) {
        Ok((arms, _)) => arms.into_iter().next(),
        Err(e) => {
            outln!("           the attacks cannot run yet: {e}");
            return;
        }
    };
    let Some(arm) = arm else { return };
    let Some(pos) = arm.runs.iter().position(|r| r == &run.id) else {
        return;
    };
    // This target's numbers need the point's cells, not the contrasts' jackknife.
    let a = &crate::report::membership::arm_report(&arm);
    let headline = crate::report::membership::HEADLINE;
    outln!(
        "           as the target of the other {} models (resolution 1/{:.0} = {:.3} %):",
        a.targets.len() - 1,
        1.0 / a.resolution,
        a.resolution * 100.0
    );
    outln!(
        "           {:<32} {:<20} {:>11} {:>10} {:>10} {:>7}",
        "attack",
        "stratum",
        "avg members",
        "TPR@0.1%",
        "TPR@1%",
        "AUC"
    );
    for attack in [headline, crate::report::membership::Attack::Threshold] {
        for c in a.cells.iter().filter(|c| c.attack == attack) {
            let Some(Some(v)) = c.per_target.get(pos) else {
                continue;
            };
            outln!(
                "           {:<32} {:<20} {:>11.0} {:>9.2}% {:>9.2}% {:>7.4}",
                attack.name(),
                c.stratum,
                c.members,
                v[0] * 100.0,
                v[1] * 100.0,
                v[2]
            );
        }
    }
}
