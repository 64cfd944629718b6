//! The runs screen's state: every run in the store, sorted, filtered, marked.

use super::app::{Effect, Screen};
use super::dialog::Dialog;
use super::keys::Action;
use super::reply::{Ask, Reply};
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
impl RunsState {
    /// Typing into the filter.
    pub fn on_filter_text(&mut self, k: KeyEvent) -> bool {
        match k.code {
            KeyCode::Char(c) => self.filter.push(c),
            KeyCode::Backspace => {
                self.filter.pop();
            }
            KeyCode::Enter => self.filtering = false,
            KeyCode::Esc => {
                self.filter.clear();
                self.filtering = false;
            }
            _ => return false,
        }
        self.selected = 0;
        true
    }

    /// `trained_here(id)`: whether a worker of this lab trains the run right now.
    pub fn update(&mut self, a: Action, trained_here: impl Fn(&str) -> bool) -> Reply {
        let n = self.visible().len();
        let reply = match a {
            Action::Down => {
                self.selected = (self.selected + 1).min(n.saturating_sub(1));
                Reply::done()
            }
            Action::Up => {
                self.selected = self.selected.saturating_sub(1);
                Reply::done()
            }
            Action::Top => {
                self.selected = 0;
                Reply::done()
            }
            Action::Bottom => {
                self.selected = n.saturating_sub(1);
                Reply::done()
            }
            Action::Filter => {
                self.filtering = true;
                Reply::done()
            }
            Action::SortNext => {
                self.sort = (self.sort + 1) % COLUMNS.len();
                Reply::done()
            }
            Action::SortReverse => {
                self.descending = !self.descending;
                Reply::done()
            }
            Action::Mark => {
                let mut reply = Reply::done();
                if let Some(r) = self.current() {
                    if !self.marked.remove(&r.id) {
                        if self.marked.len() >= 6 {
                            reply = Reply::error("at most 6 runs can be compared");
                        } else {
                            self.marked.insert(r.id);
                        }
                    }
                    self.selected = (self.selected + 1).min(n.saturating_sub(1));
                }
                reply
            }
            Action::Open => match self.current() {
                Some(r) => Reply::ask(Ask::Effect(Effect::OpenRun(r.id))),
                None => Reply::done(),
            },
            Action::CompareMarked => {
                if (2..=6).contains(&self.marked.len()) {
                    let ids = self.marked.iter().cloned().collect();
                    Reply::ask(Ask::Effect(Effect::LoadCompare(ids)))
                        .and(Ask::Screen(Screen::Compare))
                } else {
                    Reply::error("mark 2 to 6 runs with space, then press c")
                }
            }
            Action::CompareSweep => {
                let Some(sweep) = self.current().and_then(|r| r.sweep) else {
                    return Reply::error("this run is not part of a sweep");
                };
                let picked = crate::report::one_run_per_point(&self.rows, &sweep, 6);
                if picked.len() < 2 {
                    return Reply::error("fewer than 2 finished points in this sweep");
                }
                self.marked = picked.iter().cloned().collect();
                Reply::ask(Ask::Effect(Effect::LoadCompare(picked)))
                    .and(Ask::Screen(Screen::Compare))
            }
            Action::Delete => match self.current() {
                Some(r) if trained_here(&r.id) || r.status == "running" => {
                    Reply::error("this run is training; stop it first")
                }
                Some(r) => Reply::ask(Ask::Dialog(Dialog::DeleteRun { id: r.id })),
                None => Reply::done(),
            },
            _ => return Reply::ignored(),
        };
        self.clamp();
        reply
    }
}
