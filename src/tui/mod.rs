//! The terminal UI. State changes in one place (`App::update`), drawing is a pure function of
//! state (`draw`), terminal events arrive from a thread over a channel: the UI never blocks.

mod app;
mod draw;
mod event;

pub use app::{App, Msg};
pub use draw::draw;

use crate::store::RunStore;
use std::io::IsTerminal;

#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    pub color: bool,
    pub ascii: bool,
    pub mouse: bool,
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

pub fn run(store: &RunStore, opts: Options) -> i32 {
    if !std::io::stdout().is_terminal() || !std::io::stdin().is_terminal() {
        eprintln!(
            "duplab: not a terminal, so the lab's screen cannot open. Headless commands:\n  \
             duplab train --preset NAME      train a preset\n  \
             duplab presets [NAME]           list or show presets\n  \
             duplab data inspect             data sets and duplication plans\n  \
             duplab runs ls|show|export      the run store\n  \
             duplab eval RUN_ID              robust accuracy of a finished run\n  \
             duplab bench                    training throughput\n\
             (duplab --help for everything)"
        );
        return 2;
    }
    let mut app = App::new(store.clone(), opts);
    let mut terminal = ratatui::init();
    if opts.mouse {
        let _ = crossterm::execute!(std::io::stdout(), crossterm::event::EnableMouseCapture);
    }
    let rx = event::spawn();
    let result = event::main_loop(&mut terminal, &mut app, rx);
    if opts.mouse {
        let _ = crossterm::execute!(std::io::stdout(), crossterm::event::DisableMouseCapture);
    }
    ratatui::restore();
    match result {
        Ok(()) => 0,
        Err(e) => crate::cli::fail(e),
    }
}
