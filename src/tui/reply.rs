//! What a screen's update hands back to the lab: whether the key meant anything there, and
//! what the screen asks of the lab beyond its own state (effects for the loop, a line for the
//! status bar, a dialog, another screen, a launch). Each screen changes only its own state; the
//! lab applies the asks in `App::apply`, so no screen reaches into another's state or the disk.

use super::app::{Effect, Screen};
use super::dialog::Dialog;

#[derive(Debug, Clone, PartialEq)]
pub enum Ask {
    Effect(Effect),
    /// A status-bar line; `true` for an error.
    Say(String, bool),
    Dialog(Dialog),
    Screen(Screen),
    /// Train the presets screen's resolved preset (the lab picks the worker key or run id).
    Launch,
    /// Smoothing of curves, a view setting the live and compare screens share.
    ToggleSmoothing,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Reply {
    /// The key did something on this screen (the screen is redrawn).
    pub handled: bool,
    pub asks: Vec<Ask>,
}

impl Reply {
    /// The key means nothing here.
    pub fn ignored() -> Reply {
        Reply::default()
    }

    /// The key changed the screen's own state.
    pub fn done() -> Reply {
        Reply {
            handled: true,
            asks: vec![],
        }
    }

    /// The key asks the lab for `ask`.
    pub fn ask(ask: Ask) -> Reply {
        Reply {
            handled: true,
            asks: vec![ask],
        }
    }

    pub fn and(mut self, ask: Ask) -> Reply {
        self.asks.push(ask);
        self
    }

    pub fn error(text: impl Into<String>) -> Reply {
        Reply::ask(Ask::Say(text.into(), true))
    }
}
