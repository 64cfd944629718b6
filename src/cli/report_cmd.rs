use super::exit::failure;
use crate::report::{
    aggregate, membership_chart, study_chart, sweep_csv, sweep_markdown, write_svg_and_png,
};
use crate::store::{Run, RunStore};
use anyhow::Result;
use clap::Args;
use std::path::PathBuf;

#[derive(Args, Debug)]
pub struct ReportArgs {
    /// Report every run of this sweep.
    #[arg(long, conflicts_with = "runs")]
    pub sweep: Option<String>,
    /// Or these runs (ids or unique parts of ids).
    pub runs: Vec<String>,
    /// Folder for report.md, report.csv, report.json and accuracy.svg/png (default results/<sweep>).
    #[arg(long)]
    pub out: Option<PathBuf>,
}

pub fn run(store: &RunStore, a: ReportArgs) -> Result<i32> {
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
        (None, true) => return Err(failure("give --sweep ID or run ids")),
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
    let compared = crate::report::comparisons(&stats);
    let cards: Vec<crate::report::CardRow> =
        runs.iter().filter_map(crate::report::CardRow::of).collect();
    let md = sweep_markdown(&title, &stats)
        + &crate::report::comparisons_markdown(&compared)
        + &crate::report::cards_markdown(&cards);
    print!("{md}");
    let out = a.out.clone().unwrap_or_else(|| {
        PathBuf::from("results").join(a.sweep.clone().unwrap_or_else(|| "selection".into()))
    });
    if let Err(e) = std::fs::create_dir_all(&out) {
        return Err(failure(format!("{}: {e}", out.display())));
    }
    let json = serde_json::to_string_pretty(&serde_json::json!({
        "points": stats,
        "comparisons": compared,
        "cards": cards,
    }))
    .expect("stats serialise");
    for (name, text) in [
        ("report.md", md.as_str()),
        ("report.csv", &sweep_csv(&stats)),
        ("runs.csv", &crate::report::runs_csv(&stats)),
        ("report.json", &json),
    ] {
        if let Err(e) = std::fs::write(out.join(name), text) {
            return Err(failure(format!("{}: {e}", out.join(name).display())));
        }
    }
    write_svg_and_png(&study_chart(&title, &stats), &out.join("accuracy"))?;
    let mut wrote =
        "report.md, report.csv, runs.csv, report.json, accuracy.svg, accuracy.png".to_string();
    if stats
        .iter()
        .any(|s| s.dup_auc.is_some() || s.unique_auc.is_some())
    {
        let svg = membership_chart(&format!("{title}: membership inference"), &stats);
        write_svg_and_png(&svg, &out.join("membership"))?;
        wrote.push_str(", membership.svg, membership.png");
    }
    eprintln!("wrote {}/{wrote}", out.display());
    Ok(0)
}
