//! `duplab screenshots`: every screen rendered from the runs in the store, as SVG and PNG, for the
//! README. Regenerated from code, never drawn by hand.

use super::exit::failure;
use crate::report::{one_run_per_point, run_rows, write_svg_and_png};
use crate::store::RunStore;
use crate::tui::screenshot::{render, svg};
use crate::tui::{App, Msg, Options, Screen, settle};
use anyhow::Result;
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

/// An app showing the store as a user would see it: newest finished run opened, one run per
/// point of the newest sweep (or up to four finished runs) marked and compared. Built only
/// through messages, as the lab builds itself.
pub fn fixture_app(store: &RunStore) -> anyhow::Result<App> {
    let rows = run_rows(store)?;
    let finished: Vec<_> = rows.iter().filter(|r| r.status == "finished").collect();
    if finished.len() < 2 {
        anyhow::bail!(
            "need at least 2 finished runs in {} (e.g. `duplab sweep study-default`)",
            store.root.display()
        );
    }
    let newest_sweep = finished.iter().rev().find_map(|r| r.sweep.clone());
    let mut picked = newest_sweep
        .map(|s| one_run_per_point(&rows, &s, 6))
        .unwrap_or_default();
    if picked.len() < 2 {
        picked = finished
            .iter()
            .rev()
            .take(4)
            .map(|r| r.id.clone())
            .collect();
    }
    let newest = finished
        .last()
        .expect("two or more finished runs")
        .id
        .clone();
    let mut app = App::new(store.clone(), Options::default());
    settle(&mut app);
    app.update(Msg::Compare(picked));
    app.update(Msg::Open(newest));
    settle(&mut app);
    Ok(app)
}

/// Keys that bring the app to a screen (and its help overlay), as a user would press them.
fn show(app: &mut App, screen: Screen, help: bool) {
    let want = Screen::ALL.iter().position(|s| *s == screen).unwrap_or(0);
    let digit = char::from(b'1' + want as u8);
    let key = |c| {
        Msg::Key(crossterm::event::KeyEvent::from(
            crossterm::event::KeyCode::Char(c),
        ))
    };
    app.update(key(digit));
    settle(app);
    if help {
        app.update(key('?'));
    }
}

pub fn run(store: &RunStore, a: ScreenshotsArgs) -> Result<i32> {
    let mut app = fixture_app(store)?;
    if let Err(e) = std::fs::create_dir_all(&a.out) {
        return Err(failure(format!("{}: {e}", a.out.display())));
    }
    for (screen, name, help) in [
        (Screen::Presets, "presets", false),
        (Screen::Live, "live", false),
        (Screen::Runs, "runs", false),
        (Screen::Compare, "compare", false),
        (Screen::Data, "data", false),
        // The sweep of the run selected on the Runs screen: a reference-model sweep's attacks
        // when the store holds one, else what to do.
        (Screen::Membership, "membership", false),
        (Screen::Live, "help", true),
    ] {
        show(&mut app, screen, help);
        let buf = render(&app, a.width, a.height);
        if help {
            // The overlay closes with the same key.
            app.update(Msg::Key(crossterm::event::KeyEvent::from(
                crossterm::event::KeyCode::Esc,
            )));
        }
        write_svg_and_png(&svg(&buf), &a.out.join(name))?;
        println!("{}", a.out.join(format!("{name}.svg")).display());
    }
    Ok(0)
}
