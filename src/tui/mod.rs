//! The terminal UI. State changes in one place (`App::update`), drawing is a pure function of
//! state (`draw`); terminal events, trainer events and signals all arrive over one channel, so
//! the UI never blocks on training. Trainers run on background workers.

mod app;
pub mod compare;
mod curve;
mod data_view;
mod detach;
mod dialog;
mod draw;
mod event;
mod keys;
mod live;
mod membership;
mod presets;
mod reply;
mod runs;
pub mod screenshot;
mod store_worker;

pub use app::{App, Msg, Screen};
pub use draw::{CLEAN, ROBUST, draw};
/// The lab without a terminal, for the developers' latency benchmark (`duplab-dev lab`).
#[cfg(feature = "dev")]
pub use event::Lab;
pub use live::{LiveRun, LiveStatus, ema};

use crate::store::RunStore;
use std::io::IsTerminal;

/// Carry out an app's store (and data) effects on this thread and feed the answers back through `update`
/// until none is left. For screenshots and tests, which want a settled screen; the lab itself
/// hands store work to its worker and never waits.
pub fn settle(app: &mut App) {
    let store = app.store().clone();
    loop {
        let effects = app.take_effects();
        if effects.is_empty() {
            return;
        }
        for e in effects {
            if let app::Effect::LoadData { spec, threshold } = e {
                let v = data_view::load_view(&spec, None, threshold, &|_| {})
                    .map_err(|e| format!("{e:#}"));
                app.update(Msg::DataLoaded(v.map(std::sync::Arc::new)));
                continue;
            }
            if let app::Effect::LoadMembership { sweep } = &e {
                let result = membership::load_view(&store, sweep, None, &|_| {});
                app.update(Msg::MembershipLoaded {
                    sweep: sweep.clone(),
                    result: result.map(std::sync::Arc::new),
                });
                continue;
            }
            if let Some(r) = store_worker::StoreRequest::of(e) {
                for m in store_worker::answer_now(&store, r) {
                    app.update(m);
                }
            }
        }
    }
}

#[derive(Debug, Clone, Copy)]
pub struct Options {
    pub color: bool,
    pub ascii: bool,
    pub mouse: bool,
    /// Train launched runs on worker threads of the lab (they stop when it closes) instead of
    /// trainer processes of their own (which outlive it).
    pub in_process: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            color: true,
            ascii: false,
            mouse: false,
            in_process: false,
        }
    }
}

impl Options {
    pub fn from_cli(no_color: bool, ascii: bool, mouse: bool, in_process: bool) -> Options {
        let env_no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        Options {
            color: !(no_color || env_no_color),
            ascii,
            mouse,
            in_process,
        }
    }
}

/// Why the lab could not run.
#[derive(Debug)]
pub enum LabError {
    /// stdin or stdout is not a terminal; the text lists the headless commands.
    NotATerminal(String),
    Io(std::io::Error),
}

impl std::fmt::Display for LabError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LabError::NotATerminal(s) => f.write_str(s),
            LabError::Io(e) => write!(f, "terminal: {e}"),
        }
    }
}

pub fn run(
    store: &RunStore,
    opts: Options,
    data_dir: Option<std::path::PathBuf>,
) -> Result<(), LabError> {
    if !std::io::stdout().is_terminal() || !std::io::stdin().is_terminal() {
        return Err(LabError::NotATerminal(format!(
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
        )));
    }
    event::run(store, opts, data_dir).map_err(LabError::Io)
}

#[cfg(test)]
mod membership_tests;
#[cfg(test)]
mod tests;
