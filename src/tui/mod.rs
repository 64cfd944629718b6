//! The terminal UI. State changes in one place (`App::update`), drawing is a pure function of
//! state (`draw`); terminal events, trainer events and signals all arrive over one channel, so
//! the UI never blocks on training. Trainers run on background workers.

mod app;
pub mod compare;
mod draw;
mod event;
pub mod fixture;
mod keys;
mod live;
mod presets;
mod runs;
pub mod screenshot;

pub use app::{App, Dialog, Effect, Msg, Screen};
pub use draw::{CLEAN, ROBUST, draw};
pub use live::{LiveRun, LiveStatus, ema};

/// The compare state for a list of runs (screenshots, benchmarks).
pub fn screenshot_compare(
    store: &RunStore,
    ids: &[String],
) -> Result<compare::CompareState, String> {
    compare::CompareState::load(store, ids)
}

use crate::store::RunStore;
use std::io::IsTerminal;

#[derive(Debug, Clone, Copy)]
pub struct Options {
    pub color: bool,
    pub ascii: bool,
    pub mouse: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            color: true,
            ascii: false,
            mouse: false,
        }
    }
}

impl Options {
    pub fn from_cli(no_color: bool, ascii: bool, mouse: bool) -> Options {
        let env_no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        Options {
            color: !(no_color || env_no_color),
            ascii,
            mouse,
        }
    }
}

pub fn run(store: &RunStore, opts: Options, data_dir: Option<std::path::PathBuf>) -> i32 {
    if !std::io::stdout().is_terminal() || !std::io::stdin().is_terminal() {
        eprintln!(
            "duplab: not a terminal, so the lab's screen cannot open. Headless commands:\n  \
             duplab train --preset NAME      train a preset\n  \
             duplab sweep GRID               train every point of a grid\n  \
             duplab report --sweep ID        tables and plots of a sweep\n  \
             duplab presets [NAME]           list or show presets\n  \
             duplab data inspect             data sets and duplication plans\n  \
             duplab runs ls|show|export      the run store\n  \
             duplab eval RUN_ID              robust accuracy of a finished run\n  \
             duplab bench                    training throughput\n\
             (duplab --help for everything)"
        );
        return 2;
    }
    event::run(store, opts, data_dir)
}

#[cfg(test)]
mod tests;
