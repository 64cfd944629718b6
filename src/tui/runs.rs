//! The runs screen's state: every run in the store, sorted, filtered, marked.

use super::app::{App, Effect, Screen};
use super::dialog::Dialog;
use super::keys::Action;
use crate::report::RunRow;
use crossterm::event::{KeyCode, KeyEvent};
use std::collections::BTreeSet;

pub const COLUMNS: &[&str] = &[
    "preset",
    "data",
    "duplication",
    "attack",
    "status",
    "clean",
    "robust",
    "time",
    "date",
];

pub struct RunsState {
    pub rows: Vec<RunRow>,
    pub selected: usize,
    pub sort: usize,
    pub descending: bool,
    pub filter: String,
    pub filtering: bool,
    pub marked: BTreeSet<String>,
    pub error: Option<String>,
}

impl Default for RunsState {
    fn default() -> Self {
        RunsState {
            rows: vec![],
            selected: 0,
            sort: 8,
            descending: true,
            filter: String::new(),
            filtering: false,
            marked: BTreeSet::new(),
            error: None,
        }
    }
}

fn cmp_opt(a: Option<f64>, b: Option<f64>) -> std::cmp::Ordering {
    a.unwrap_or(-1.0)
        .partial_cmp(&b.unwrap_or(-1.0))
        .unwrap_or(std::cmp::Ordering::Equal)
}

impl RunsState {
    /// Rows after filter and sort, as shown.
    pub fn visible(&self) -> Vec<&RunRow> {
        let f = self.filter.to_lowercase();
        let mut v: Vec<&RunRow> = self
            .rows
            .iter()
            .filter(|r| {
                f.is_empty()
                    || [
                        &r.id,
                        &r.preset,
                        &r.data,
                        &r.duplication,
                        &r.attack,
                        &r.status,
                    ]
                    .iter()
                    .any(|s| s.to_lowercase().contains(&f))
            })
            .collect();
        v.sort_by(|a, b| {
            let o = match self.sort {
                0 => a.preset.cmp(&b.preset),
                1 => a.data.cmp(&b.data),
                2 => a.duplication.cmp(&b.duplication),
                3 => a.attack.cmp(&b.attack),
                4 => a.status.cmp(&b.status),
                5 => cmp_opt(a.test_acc, b.test_acc),
                6 => cmp_opt(a.robust_acc, b.robust_acc),
                7 => a
                    .duration_s
                    .partial_cmp(&b.duration_s)
                    .unwrap_or(std::cmp::Ordering::Equal),
                _ => a.id.cmp(&b.id),
            };
            if self.descending { o.reverse() } else { o }
        });
        v
    }

    pub fn current(&self) -> Option<RunRow> {
        self.visible().get(self.selected).map(|r| (*r).clone())
    }

    /// New rows from the store; keeps the selection on the same run when it still exists.
    pub fn set_rows(&mut self, rows: Vec<RunRow>) {
        let keep = self.current().map(|r| r.id);
        self.rows = rows;
        self.marked
            .retain(|id| self.rows.iter().any(|r| &r.id == id));
        if let Some(id) = keep
            && let Some(i) = self.visible().iter().position(|r| r.id == id)
        {
            self.selected = i;
        }
        self.clamp();
    }

    pub fn clamp(&mut self) {
        let n = self.visible().len();
        if self.selected >= n {
            self.selected = n.saturating_sub(1);
        }
    }
}

/// The runs screen's keys.
impl App {
    pub(super) fn on_filter_text(&mut self, k: KeyEvent) -> bool {
        match k.code {
            KeyCode::Char(c) => self.runs.filter.push(c),
            KeyCode::Backspace => {
                self.runs.filter.pop();
            }
            KeyCode::Enter => self.runs.filtering = false,
            KeyCode::Esc => {
                self.runs.filter.clear();
                self.runs.filtering = false;
            }
            _ => return false,
        }
        self.runs.selected = 0;
        true
    }

    pub(super) fn on_runs(&mut self, a: Action) -> bool {
        let n = self.runs.visible().len();
        match a {
            Action::Down => self.runs.selected = (self.runs.selected + 1).min(n.saturating_sub(1)),
            Action::Up => self.runs.selected = self.runs.selected.saturating_sub(1),
            Action::Top => self.runs.selected = 0,
            Action::Bottom => self.runs.selected = n.saturating_sub(1),
            Action::Filter => self.runs.filtering = true,
            Action::SortNext => self.runs.sort = (self.runs.sort + 1) % COLUMNS.len(),
            Action::SortReverse => self.runs.descending = !self.runs.descending,
            Action::Mark => {
                if let Some(r) = self.runs.current() {
                    if !self.runs.marked.remove(&r.id) {
                        if self.runs.marked.len() >= 6 {
                            self.say("at most 6 runs can be compared", true);
                        } else {
                            self.runs.marked.insert(r.id);
                        }
                    }
                    self.runs.selected = (self.runs.selected + 1).min(n.saturating_sub(1));
                }
            }
            Action::Open => {
                if let Some(r) = self.runs.current() {
                    self.push(Effect::OpenRun(r.id));
                }
            }
            Action::CompareMarked => {
                if (2..=6).contains(&self.runs.marked.len()) {
                    let ids = self.runs.marked.iter().cloned().collect();
                    self.push(Effect::LoadCompare(ids));
                    self.screen = Screen::Compare;
                } else {
                    self.say("mark 2 to 6 runs with space, then press c", true);
                }
            }
            Action::CompareSweep => {
                let Some(sweep) = self.runs.current().and_then(|r| r.sweep) else {
                    self.say("this run is not part of a sweep", true);
                    return true;
                };
                let picked = crate::report::one_run_per_point(&self.runs.rows, &sweep, 6);
                if picked.len() < 2 {
                    self.say("fewer than 2 finished points in this sweep", true);
                    return true;
                }
                self.runs.marked = picked.iter().cloned().collect();
                self.push(Effect::LoadCompare(picked));
                self.screen = Screen::Compare;
            }
            Action::Delete => {
                if let Some(r) = self.runs.current() {
                    let ours = self
                        .live
                        .iter()
                        .any(|l| l.id == r.id && l.worker.is_some() && l.status.is_active());
                    if ours || r.status == "running" {
                        self.say("this run is training; stop it first", true);
                    } else {
                        self.dialog = Some(Dialog::DeleteRun { id: r.id });
                    }
                }
            }
            _ => return false,
        }
        self.runs.clamp();
        true
    }
}
