use crate::store::{Run, RunStore, StoreError};
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
    /// Why the run's files cannot be read (`PATH: reason`), when they cannot.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub corrupt: Option<String>,
    pub test_acc: Option<f64>,
    pub robust_acc: Option<f64>,
    pub evaluations_done: usize,
    pub steps_done: usize,
    pub total_steps: usize,
    pub duration_s: f64,
    pub started: String,
    pub backend: String,
    /// The adapter or CPU it trained on, as its config names it (`gpu:1 NVIDIA H200 (…)`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub device: String,
    pub sweep: Option<String>,
    pub point: Option<String>,
    /// The Slurm job its (last) trainer ran in, from the run's lease.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job: Option<String>,
}

impl RunRow {
    pub fn from_run(run: &Run) -> RunRow {
        // Each file read once; the first that cannot be read names the run as corrupt.
        let (cfg, sum) = (run.config(), run.summary());
        let corrupt = match (&cfg, &sum) {
            (Err(e), _) | (_, Err(e)) => Some(e.to_string()),
            _ => None,
        };
        let cfg = cfg.ok().flatten();
        let sum = sum.ok().flatten().unwrap_or_default();
        let status = run.status().name().to_string();
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
            status,
            corrupt,
            test_acc: sum.test_acc,
            robust_acc: sum.robust_acc,
            evaluations_done: sum.evaluations_done,
            steps_done: sum.steps_done,
            total_steps: sum.total_steps,
            duration_s: sum.duration_s,
            started: run.started_iso(),
            backend: cfg.as_ref().map(|c| c.backend.clone()).unwrap_or_default(),
            device: cfg.as_ref().map(|c| c.device.clone()).unwrap_or_default(),
            sweep: cfg.as_ref().and_then(|c| c.sweep.clone()),
            point: cfg.and_then(|c| c.point),
            job: run.lease().and_then(|l| l.job),
        }
    }
}

impl RunRow {
    /// A trainer owns the run now (running or paused): it holds its device, and the lab shows it.
    pub fn is_live(&self) -> bool {
        crate::store::RunStatus::parse(&self.status).is_some_and(crate::store::RunStatus::is_live)
    }

    /// The status column: the status, or `corrupt: PATH: reason` for a run whose files cannot
    /// be read.
    pub fn status_text(&self) -> String {
        match &self.corrupt {
            Some(why) => format!("corrupt: {why}"),
            None => self.status.clone(),
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
    let mut header = vec![
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
                r.status_text(),
                pct(r.test_acc),
                pct(r.robust_acc),
                format!("{}/{}", r.steps_done, r.total_steps),
                duration(r.duration_s),
                r.started.clone(),
            ]
        })
        .collect();
    // The Slurm job, only when some run has one.
    let mut body = body;
    if rows.iter().any(|r| r.job.is_some()) {
        header.push("JOB");
        for (cells, r) in body.iter_mut().zip(rows) {
            cells.push(r.job.clone().unwrap_or_default());
        }
    }
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

/// The runs that stand for a sweep's points: one finished run per point (lowest seed, then id),
/// at most `limit`, in point order of first appearance. The lab's "compare this sweep" and the
/// screenshots both choose with this.
pub fn one_run_per_point(rows: &[RunRow], sweep: &str, limit: usize) -> Vec<String> {
    let mut rows: Vec<&RunRow> = rows
        .iter()
        .filter(|r| r.sweep.as_deref() == Some(sweep) && r.status == "finished")
        .collect();
    rows.sort_by(|a, b| a.seed.cmp(&b.seed).then(a.id.cmp(&b.id)));
    let mut picked: Vec<(String, String)> = vec![];
    for r in rows {
        let point = r.point.clone().unwrap_or_default();
        if picked.len() < limit && !picked.iter().any(|(p, _)| *p == point) {
            picked.push((point, r.id.clone()));
        }
    }
    picked.into_iter().map(|p| p.1).collect()
}

/// Group metrics as a plain-text table (`runs show`): loss, accuracy and memorisation gap per
/// group, and the membership inference of each train group against the test images.
pub fn group_table(g: &crate::store::GroupMetrics) -> String {
    let mut out = String::new();
    let section = |out: &mut String, g: &crate::store::GroupMetrics, title: &str| {
        out.push_str(&format!(
            "{title}\n{:<11} {:>7} {:>8} {:>7} {:>8} {:>7} {:>8} {:>9} {:>6}\n",
            "group", "images", "loss", "acc%", "gap", "AUC", "TPR@1%", "TPR@10%", "adv"
        ));
        for group in crate::measures::Group::ALL {
            let Some(s) = g.group(group) else {
                continue;
            };
            let m = g.membership_of(group);
            let f = |v: Option<f64>, d: usize| v.map(|x| format!("{x:.d$}")).unwrap_or("-".into());
            out.push_str(&format!(
                "{:<11} {:>7} {:>8.4} {:>7.2} {:>8} {:>7} {:>8} {:>9} {:>6}\n",
                group.name(),
                s.images,
                s.loss,
                s.acc * 100.0,
                if group == crate::measures::Group::Test {
                    "-".into()
                } else {
                    format!("{:+.4}", s.gap)
                },
                f(m.map(|m| m.auc), 3),
                f(m.map(|m| m.tpr_at_1 * 100.0), 1),
                f(m.map(|m| m.tpr_at_10 * 100.0), 1),
                f(m.map(|m| m.advantage), 3),
            ));
        }
    };
    section(
        &mut out,
        g,
        "groups (clean; gap = test loss − group loss; membership vs the test images)",
    );
    if let Some(a) = &g.adversarial {
        out.push('\n');
        section(
            &mut out,
            a,
            "groups on adversarial inputs (the evaluation attack)",
        );
    }
    if !g.margin_membership.is_empty() {
        out.push_str(
            "\nmembership by logit margin (tie-free; TPR at a fixed FPR resolves 1 / non-members)\n",
        );
        out.push_str(&format!(
            "{:<11} {:>7} {:>9} {:>8} {:>9} {:>12}\n",
            "group", "AUC", "TPR@0.1%", "TPR@1%", "TPR@10%", "non-members"
        ));
        for group in crate::measures::Group::ALL {
            let Some(m) = g.margin_membership_of(group) else {
                continue;
            };
            out.push_str(&format!(
                "{:<11} {:>7.3} {:>9.1} {:>8.1} {:>9.1} {:>12}\n",
                group.name(),
                m.auc,
                m.tpr_at_01 * 100.0,
                m.tpr_at_1 * 100.0,
                m.tpr_at_10 * 100.0,
                m.non_members
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One run's `summary.json` cut short (a full disk, a copy interrupted): the listing names
    /// that run as corrupt, with the file and the reason, and still lists the others.
    #[test]
    fn a_store_with_one_truncated_summary_lists_every_run() {
        let dir = tempfile::tempdir().unwrap();
        let store = RunStore::new(dir.path());
        let good = store.create("good").unwrap();
        good.write_summary(&crate::store::Summary {
            test_acc: Some(0.8),
            ..Default::default()
        })
        .unwrap();
        let bad = store.create("bad").unwrap();
        bad.write_summary(&Default::default()).unwrap();
        let p = bad.dir.join("summary.json");
        let text = std::fs::read_to_string(&p).unwrap();
        std::fs::write(&p, &text[..text.len() / 2]).unwrap();

        let rows = run_rows(&store).unwrap();
        assert_eq!(rows.len(), 2);
        let bad_row = rows.iter().find(|r| r.id == bad.id).unwrap();
        let shown = bad_row.status_text();
        assert!(
            shown.starts_with("corrupt: ")
                && shown.contains(&p.display().to_string())
                && shown.contains("unreadable summary"),
            "{shown}"
        );
        assert_eq!(
            bad_row.status, "running",
            "the status itself is still known"
        );
        assert!(format_table(&rows).contains(&shown), "runs ls shows it");
        let good_row = rows.iter().find(|r| r.id == good.id).unwrap();
        assert_eq!(
            (good_row.status.as_str(), good_row.test_acc),
            ("running", Some(0.8))
        );
    }
}
