use crate::store::{Run, RunStatus, RunStore, StoreError};
use serde::Serialize;

/// One line of the runs table: what `duplab runs ls` prints and the TUI's runs screen shows.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct RunRow {
    pub id: String,
    pub preset: String,
    pub data: String,
    pub duplication: String,
    pub attack: String,
    pub model: String,
    pub seed: Option<u64>,
    pub status: String,
    pub test_acc: Option<f64>,
    pub robust_acc: Option<f64>,
    pub epochs_done: usize,
    pub steps_done: usize,
    pub total_steps: usize,
    pub duration_s: f64,
    pub started: String,
    pub backend: String,
    pub sweep: Option<String>,
    pub point: Option<String>,
}

impl RunRow {
    pub fn from_run(run: &Run) -> RunRow {
        let cfg = run.config().ok();
        let sum = run.summary();
        let status: RunStatus = run.status();
        RunRow {
            id: run.id.clone(),
            preset: cfg
                .as_ref()
                .map(|c| c.preset.name.clone())
                .unwrap_or_else(|| "?".into()),
            data: cfg
                .as_ref()
                .map(|c| c.preset.data.set.name().to_string())
                .unwrap_or_default(),
            duplication: cfg
                .as_ref()
                .map(|c| c.preset.duplication.label())
                .unwrap_or_default(),
            attack: cfg
                .as_ref()
                .map(|c| c.preset.attack.train.label())
                .unwrap_or_default(),
            model: cfg
                .as_ref()
                .map(|c| c.preset.training.model.name().to_string())
                .unwrap_or_default(),
            seed: cfg.as_ref().map(|c| c.seed),
            status: status.name().to_string(),
            test_acc: sum.test_acc,
            robust_acc: sum.robust_acc,
            epochs_done: sum.epochs_done,
            steps_done: sum.steps_done,
            total_steps: sum.total_steps,
            duration_s: sum.duration_s,
            started: run.started_iso(),
            backend: cfg.as_ref().map(|c| c.backend.clone()).unwrap_or_default(),
            sweep: cfg.as_ref().and_then(|c| c.sweep.clone()),
            point: cfg.and_then(|c| c.point),
        }
    }
}

pub fn run_rows(store: &RunStore) -> Result<Vec<RunRow>, StoreError> {
    Ok(store.runs()?.iter().map(RunRow::from_run).collect())
}

pub fn pct(v: Option<f64>) -> String {
    v.map(|x| format!("{:.1}", x * 100.0))
        .unwrap_or_else(|| "-".into())
}

pub fn duration(s: f64) -> String {
    let s = s.round() as u64;
    if s >= 3600 {
        format!("{}h{:02}m", s / 3600, s / 60 % 60)
    } else {
        format!("{}m{:02}s", s / 60, s % 60)
    }
}

/// A plain-text table, columns padded; no colour (it goes to pipes and files too).
pub fn format_table(rows: &[RunRow]) -> String {
    let header = [
        "ID",
        "PRESET",
        "DATA",
        "DUPLICATION",
        "ATTACK",
        "SEED",
        "STATUS",
        "CLEAN%",
        "ROBUST%",
        "STEPS",
        "TIME",
        "STARTED",
    ];
    let body: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            vec![
                r.id.clone(),
                r.preset.clone(),
                r.data.clone(),
                r.duplication.clone(),
                r.attack.clone(),
                r.seed.map(|s| s.to_string()).unwrap_or_default(),
                r.status.clone(),
                pct(r.test_acc),
                pct(r.robust_acc),
                format!("{}/{}", r.steps_done, r.total_steps),
                duration(r.duration_s),
                r.started.clone(),
            ]
        })
        .collect();
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in &body {
        for (w, c) in widths.iter_mut().zip(row) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |cells: Vec<String>| -> String {
        let s: Vec<String> = cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}", w = *w))
            .collect();
        s.join("  ").trim_end().to_string() + "\n"
    };
    let mut out = line(header.iter().map(|s| s.to_string()).collect());
    for row in body {
        out.push_str(&line(row));
    }
    out
}
