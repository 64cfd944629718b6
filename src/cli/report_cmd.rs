use super::exit::failure;
use crate::report::{
    SweepReport, aggregate, membership_chart, render_blocks, study_chart, sweep_csv,
    write_svg_and_png,
};
use crate::store::{Run, RunStore};
use anyhow::Result;
use clap::Args;
use std::path::{Path, PathBuf};

#[derive(Args, Debug)]
pub struct ReportArgs {
    /// Report every run of this sweep, testing the comparison family its grid declares.
    #[arg(long, conflicts_with_all = ["runs", "from", "docs"])]
    pub sweep: Option<String>,
    /// Recompute a written report from its report.json alone (the per-seed values are in it),
    /// with the family its grid declares now: e.g. `--from results/study-default`.
    #[arg(long, value_name = "DIR", conflicts_with_all = ["runs", "docs"])]
    pub from: Option<PathBuf>,
    /// The grid (a name or a .toml file) whose comparison family the report tests (default: the
    /// grid named like the sweep, when there is one).
    #[arg(long)]
    pub grid: Option<String>,
    /// Re-render the generated result tables of these Markdown files (between
    /// `<!-- duplab report: PATH -->` and `<!-- end duplab report -->`) from the reports they
    /// name; nothing else in the files changes.
    #[arg(long, num_args = 1.., value_name = "FILE", conflicts_with = "runs")]
    pub docs: Vec<PathBuf>,
    /// Or these runs (ids or unique parts of ids).
    pub runs: Vec<String>,
    /// Folder for report.md, report.csv, report.json and accuracy.svg/png (default results/<sweep>).
    #[arg(long)]
    pub out: Option<PathBuf>,
}

pub fn run(store: &RunStore, a: ReportArgs) -> Result<i32> {
    if !a.docs.is_empty() {
        return docs(&a.docs);
    }
    if let Some(dir) = &a.from {
        return recompute(dir, a.grid.as_deref(), a.out.clone());
    }
    let (title, runs): (String, Vec<Run>) = match (&a.sweep, a.runs.is_empty()) {
        (Some(id), _) => {
            let all = store.runs()?;
            let runs: Vec<Run> = all
                .into_iter()
                .filter(|r| {
                    r.config()
                        .ok()
                        .flatten()
                        .is_some_and(|c| c.sweep.as_deref() == Some(id))
                })
                .collect();
            if runs.is_empty() {
                return Err(failure(format!(
                    "no runs of sweep `{id}` in {}",
                    store.root.display()
                )));
            }
            (format!("Sweep {id}"), runs)
        }
        (None, false) => {
            let mut v = vec![];
            for id in &a.runs {
                match store.open(id) {
                    Ok(r) => v.push(r),
                    Err(e) => return Err(failure(e)),
                }
            }
            ("Selected runs".into(), v)
        }
        (None, true) => {
            return Err(failure(
                "give --sweep ID, run ids, --from DIR or --docs FILE",
            ));
        }
    };
    // A run whose files cannot be read is left out, and said so (its path and why).
    for r in &runs {
        if let Some(why) = r.corruption() {
            eprintln!("warning: left out corrupt run {}: {why}", r.id);
        }
    }
    let stats = aggregate(&crate::report::load_facts(&runs));
    if stats.is_empty() {
        return Err(failure("none of these runs is finished yet"));
    }
    let grid = family_grid(a.grid.as_deref().or(a.sweep.as_deref()), a.grid.is_some())?;
    let cards: Vec<crate::report::CardRow> =
        runs.iter().filter_map(crate::report::CardRow::of).collect();
    let report = SweepReport::new(
        title,
        a.sweep.clone(),
        stats,
        grid.as_ref().map(|g| (g.family.as_slice(), g.alpha)),
        cards,
    );
    let out = a.out.clone().unwrap_or_else(|| {
        PathBuf::from("results").join(a.sweep.clone().unwrap_or_else(|| "selection".into()))
    });
    let code = write_report(&report, &out)?;
    // A sweep of reference models: its membership report beside it (`duplab membership`).
    if let Some(sweep) = &a.sweep
        && runs
            .iter()
            .any(|r| r.dir.join(crate::store::layout::REFERENCE).is_file())
    {
        match crate::report::membership::load_arms(store, sweep, None) {
            Ok((arms, _)) => {
                let m = crate::report::membership::analyse(&format!("Sweep {sweep}"), &arms);
                print!("\n{}", m.findings());
                super::membership_cmd::write(&m, &out)?;
            }
            // A sweep still running: the accuracy report stands, the membership one waits.
            Err(e) => eprintln!("membership report not written: {e}"),
        }
    }
    Ok(code)
}

/// The grid whose family a report tests: `name` when it names one. A grid asked for by
/// `--grid` must load; one found by the sweep's name is optional (a sweep of a grid file that is
/// gone reports every comparison its runs allow, and says so).
fn family_grid(name: Option<&str>, required: bool) -> Result<Option<crate::spec::Grid>> {
    let Some(name) = name else { return Ok(None) };
    match crate::spec::load_grid(name) {
        Ok(g) => Ok(Some(g)),
        Err(e) if required => Err(failure(e)),
        Err(crate::spec::SpecError::NotFound { .. }) => Ok(None),
        Err(e) => Err(failure(e)),
    }
}

/// `--from DIR`: the report in DIR recomputed from its report.json, with the family its grid
/// declares now; written back to DIR (or `--out`).
fn recompute(dir: &Path, grid: Option<&str>, out: Option<PathBuf>) -> Result<i32> {
    let old = SweepReport::read(&dir.join("report.json")).map_err(failure)?;
    let sweep = old.sweep.clone().or_else(|| {
        dir.file_name()
            .map(|n| n.to_string_lossy().to_string())
            .filter(|_| old.title.is_empty() || old.title.starts_with("Sweep "))
    });
    let title = if old.title.is_empty() {
        sweep
            .as_ref()
            .map_or_else(|| "Selected runs".into(), |s| format!("Sweep {s}"))
    } else {
        old.title.clone()
    };
    let grid = family_grid(grid.or(sweep.as_deref()), grid.is_some())?;
    // A report that tested a declared family is never quietly rewritten as an exploratory one.
    if grid.as_ref().is_none_or(|g| g.family.is_empty())
        && old.family.as_ref().is_some_and(|f| f.declared)
    {
        return Err(failure(format!(
            "{} tested the family its grid declared, but no grid with a family was found for it ({}); name it with --grid",
            dir.join("report.json").display(),
            sweep.as_deref().unwrap_or("no sweep name")
        )));
    }
    let report = SweepReport::new(
        title,
        sweep,
        old.points,
        grid.as_ref().map(|g| (g.family.as_slice(), g.alpha)),
        old.cards,
    );
    write_report(&report, &out.unwrap_or_else(|| dir.to_path_buf()))
}

/// `--docs FILE...`: every generated block re-rendered from the report it names.
fn docs(files: &[PathBuf]) -> Result<i32> {
    for f in files {
        let text =
            std::fs::read_to_string(f).map_err(|e| failure(format!("{}: {e}", f.display())))?;
        let load = |p: &str| crate::report::read_block_source(Path::new(p));
        let new =
            render_blocks(&text, &load).map_err(|e| failure(format!("{}: {e}", f.display())))?;
        if new != text {
            crate::atomic::write_atomic(f, new.as_bytes(), crate::atomic::Durability::Rename)
                .map_err(|e| failure(format!("{}: {e}", f.display())))?;
            eprintln!("updated {}", f.display());
        } else {
            eprintln!("{} is up to date", f.display());
        }
    }
    Ok(0)
}

/// report.md (printed too), report.csv, runs.csv, report.json and the charts, into `out`.
fn write_report(report: &SweepReport, out: &Path) -> Result<i32> {
    let md = report.markdown();
    print!("{md}");
    if let Err(e) = std::fs::create_dir_all(out) {
        return Err(failure(format!("{}: {e}", out.display())));
    }
    let stats = &report.points;
    for (name, text) in [
        ("report.md", md.as_str()),
        ("report.csv", &sweep_csv(stats)),
        ("runs.csv", &crate::report::runs_csv(stats)),
        ("report.json", &report.json()),
    ] {
        if let Err(e) = std::fs::write(out.join(name), text) {
            return Err(failure(format!("{}: {e}", out.join(name).display())));
        }
    }
    let title = &report.title;
    write_svg_and_png(&study_chart(title, stats), &out.join("accuracy"))?;
    let mut wrote =
        "report.md, report.csv, runs.csv, report.json, accuracy.svg, accuracy.png".to_string();
    if stats
        .iter()
        .any(|s| s.dup_auc.is_some() || s.unique_auc.is_some())
    {
        let svg = membership_chart(&format!("{title}: membership inference"), stats);
        write_svg_and_png(&svg, &out.join("membership"))?;
        wrote.push_str(", membership.svg, membership.png");
    }
    eprintln!("wrote {}/{wrote}", out.display());
    Ok(0)
}
