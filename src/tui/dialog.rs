//! The one confirm dialog (gitui's `confirm.rs`): a question that needs an answer before anything
//! happens. Every dialog takes `y` / `n` / Esc from `keys::DIALOG`; Enter is the safe choice
//! (no), because each one guards something that cannot be undone.

use super::app::{App, Effect};
use super::keys::{self, Action};
use super::live::Target;
use crate::train::Control;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

#[derive(Debug, Clone, PartialEq)]
pub enum Dialog {
    QuitWhileTraining {
        running: usize,
    },
    StopRun {
        target: Target,
    },
    DeleteRun {
        id: String,
    },
    /// Waiting for stopped trainers to write their checkpoints.
    Stopping,
}

impl Dialog {
    /// The question and its answers, as the dialog box shows them.
    pub fn text(&self) -> String {
        let answers = "[y] yes   [n] no (Esc, Enter)";
        match self {
            Dialog::QuitWhileTraining { running } => format!(
                "{running} run(s) train inside this lab (--in-process).\nStop them with a checkpoint and quit?\n(resume later: duplab train --resume ID)\n\n{answers}"
            ),
            Dialog::StopRun { .. } => format!(
                "Stop this run?\nIts model and optimiser are checkpointed; the run is\nmarked interrupted and can be resumed.\n\n{answers}"
            ),
            Dialog::DeleteRun { id } => format!(
                "Delete run {id}?\nIts folder and checkpoints are removed for good.\n\n{answers}"
            ),
            Dialog::Stopping => "Stopping: writing checkpoints…".into(),
        }
    }
}

impl App {
    pub(super) fn on_dialog(&mut self, d: Dialog, k: &KeyEvent) -> bool {
        let ctrl_c = k.modifiers.contains(KeyModifiers::CONTROL) && k.code == KeyCode::Char('c');
        // Ctrl-C in the quit dialog means "quit" a second time: yes.
        let answer = if ctrl_c && matches!(d, Dialog::QuitWhileTraining { .. }) {
            Some(Action::Yes)
        } else {
            keys::lookup(keys::DIALOG, k)
        };
        self.last_action = answer;
        match (d, answer) {
            (Dialog::Stopping, _) | (_, None) => {}
            (_, Some(Action::No)) => self.dialog = None,
            (Dialog::QuitWhileTraining { .. }, Some(_)) => {
                self.push(Effect::StopAll);
                self.quit_when_idle = true;
                self.dialog = Some(Dialog::Stopping);
            }
            (Dialog::StopRun { target }, Some(_)) => {
                self.push(target.effect(Control::Stop));
                self.dialog = None;
            }
            (Dialog::DeleteRun { id }, Some(_)) => {
                self.runs.marked.remove(&id);
                self.push(Effect::Delete(id));
                self.dialog = None;
            }
        }
        true
    }
}
