//! The runs screen's state: every run in the store, sorted, filtered, marked.

use crate::report::RunRow;
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
