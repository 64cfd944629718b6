//! `duplab screenshots`: every screen rendered from the runs in the store, as SVG and PNG, for the
//! README. Regenerated from code, never drawn by hand.

use super::fail;
use crate::report::write_svg_and_png;
use crate::store::{RunStatus, RunStore};
use crate::tui::screenshot::{render, svg};
use crate::tui::{App, LiveRun, Options, Screen};
use clap::Args;
use std::path::PathBuf;

#[derive(Args, Debug)]
pub struct ScreenshotsArgs {
    #[arg(long, default_value = "screenshots")]
    pub out: PathBuf,
    #[arg(long, default_value_t = 150)]
    pub width: u16,
    #[arg(long, default_value_t = 40)]
    pub height: u16,
}

/// An app showing the store as a user would see it: newest finished run opened, up to four
/// finished runs of different presets or sweep points marked and compared.
pub fn fixture_app(store: &RunStore) -> Result<App, String> {
    let runs = store.runs().map_err(|e| e.to_string())?;
    let finished: Vec<_> = runs
        .iter()
        .filter(|r| r.status() == RunStatus::Finished)
        .collect();
    if finished.len() < 2 {
        return Err(format!(
            "need at least 2 finished runs in {} (e.g. `duplab sweep study-default`)",
            store.root.display()
        ));
    }
    let mut app = App::new(store.clone(), Options::default());
    app.effects.clear();
    // Prefer one run per point of the newest sweep (seed 0), else distinct presets.
    let newest_sweep = finished
        .iter()
        .rev()
        .find_map(|r| r.config().ok().and_then(|c| c.sweep));
    let mut picked: Vec<String> = vec![];
    let mut seen: Vec<String> = vec![];
    for r in finished.iter() {
        let Ok(c) = r.config() else { continue };
        if newest_sweep.is_some() && c.sweep != newest_sweep {
            continue;
        }
        let key = c.point.clone().unwrap_or(c.preset.name.clone());
        if c.seed == 0 && !seen.contains(&key) && picked.len() < 6 {
            seen.push(key);
            picked.push(r.id.clone());
        }
    }
    if picked.len() < 2 {
        picked = finished
            .iter()
            .rev()
            .take(4)
            .map(|r| r.id.clone())
            .collect();
    }
    let newest = finished.last().expect("two or more finished runs");
    app.open_stored(LiveRun::from_store(newest));
    app.runs
        .set_rows(crate::report::run_rows(store).map_err(|e| e.to_string())?);
    app.runs.marked = picked.iter().cloned().collect();
    app.compare = crate::tui::screenshot_compare(store, &picked)?;
    Ok(app)
}

pub fn run(store: &RunStore, a: ScreenshotsArgs) -> i32 {
    let mut app = match fixture_app(store) {
        Ok(a) => a,
        Err(e) => return fail(e),
    };
    if let Err(e) = std::fs::create_dir_all(&a.out) {
        return fail(format!("{}: {e}", a.out.display()));
    }
    for (screen, name, help) in [
        (Screen::Presets, "presets", false),
        (Screen::Live, "live", false),
        (Screen::Runs, "runs", false),
        (Screen::Compare, "compare", false),
        (Screen::Live, "help", true),
    ] {
        app.screen = screen;
        app.show_help = help;
        let buf = render(&app, a.width, a.height);
        if let Err(e) = write_svg_and_png(&svg(&buf), &a.out.join(name)) {
            return fail(e);
        }
        println!("{}", a.out.join(format!("{name}.svg")).display());
    }
    0
}
