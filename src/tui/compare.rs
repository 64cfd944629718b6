//! The compare screen's state: 2–6 runs read from the store, their config differences, and
//! runs that differ only by seed grouped as mean ± std.

use super::keys::Action;
use super::live::LiveRun;
use super::reply::Reply;
use crate::measures::Group;
use crate::report::{MeanStd, RunRow, mean_std};
use crate::store::RunStore;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metric {
    TestAcc,
    RobustAcc,
    TrainLoss,
}

impl Metric {
    pub fn next(self) -> Metric {
        match self {
            Metric::TestAcc => Metric::RobustAcc,
            Metric::RobustAcc => Metric::TrainLoss,
            Metric::TrainLoss => Metric::TestAcc,
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            Metric::TestAcc => "test accuracy (clean) %",
            Metric::RobustAcc => "test accuracy (robust) %",
            Metric::TrainLoss => "training loss",
        }
    }
}

#[derive(Debug)]
pub struct CompareRun {
    pub row: RunRow,
    pub run: LiveRun,
    /// The resolved config as dotted key → value, for the diff.
    pub config: BTreeMap<String, String>,
}

/// Runs that differ only by seed.
#[derive(Debug)]
pub struct SeedGroup {
    pub members: Vec<usize>,
    pub clean: Option<MeanStd>,
    pub robust: Option<MeanStd>,
    pub dup_loss: Option<MeanStd>,
    pub dup_auc: Option<MeanStd>,
}

impl CompareRun {
    /// The duplicated group's loss and membership AUC at the run's last group evaluation (the
    /// standard vs robust question: which model memorises its duplicates more).
    pub fn dup_loss(&self) -> Option<f64> {
        Some(self.run.last_groups()?.1.group(Group::Duplicated)?.loss)
    }
    pub fn dup_auc(&self) -> Option<f64> {
        Some(
            self.run
                .last_groups()?
                .1
                .membership_of(Group::Duplicated)?
                .auc,
        )
    }
}

#[derive(Debug)]
pub struct CompareState {
    pub runs: Vec<CompareRun>,
    pub metric: Metric,
    pub diff_only: bool,
    pub groups: Vec<SeedGroup>,
    /// Each seed group after the first against the first (its control), paired by seed.
    pub paired: Vec<PairedRow>,
}

/// A seed group against the control group: per-seed differences, paired t-test, Holm-corrected
/// across the screen's comparisons.
#[derive(Debug, Clone, PartialEq)]
pub struct PairedRow {
    pub group: usize,
    pub clean: Option<crate::report::Paired>,
    pub robust: Option<crate::report::Paired>,
}

impl Default for CompareState {
    fn default() -> Self {
        CompareState {
            runs: vec![],
            metric: Metric::TestAcc,
            diff_only: true,
            groups: vec![],
            paired: vec![],
        }
    }
}

fn flatten(prefix: &str, v: &serde_json::Value, out: &mut BTreeMap<String, String>) {
    match v {
        serde_json::Value::Object(m) => {
            for (k, x) in m {
                flatten(
                    &if prefix.is_empty() {
                        k.clone()
                    } else {
                        format!("{prefix}.{k}")
                    },
                    x,
                    out,
                );
            }
        }
        other => {
            out.insert(
                prefix.to_string(),
                other.to_string().trim_matches('"').to_string(),
            );
        }
    }
}

/// The compare screen's keys.
impl CompareState {
    pub fn update(&mut self, a: Action) -> Reply {
        match a {
            Action::NextMetric => self.metric = self.metric.next(),
            Action::DiffOnly => self.diff_only = !self.diff_only,
            Action::Smoothing => return Reply::ask(super::reply::Ask::ToggleSmoothing),
            _ => return Reply::ignored(),
        }
        Reply::done()
    }
}

impl CompareState {
    pub fn load(store: &RunStore, ids: &[String]) -> anyhow::Result<CompareState> {
        let mut runs = vec![];
        for id in ids {
            let run = store.open(id)?;
            let mut config = BTreeMap::new();
            if let Ok(Some(c)) = run.config() {
                let mut v = serde_json::to_value(&c.preset).unwrap_or_default();
                v["seed"] = serde_json::json!(c.seed);
                v["backend"] = serde_json::json!(c.backend);
                if let Some(obj) = v.as_object_mut() {
                    obj.remove("description");
                    obj.remove("name");
                }
                flatten("", &v, &mut config);
                config.insert("preset".into(), c.preset.name.clone());
            }
            runs.push(CompareRun {
                row: RunRow::from_run(&run),
                run: LiveRun::from_store(&run),
                config,
            });
        }
        let mut s = CompareState {
            runs,
            ..Default::default()
        };
        s.group();
        s.pair();
        Ok(s)
    }

    fn group(&mut self) {
        let key = |c: &CompareRun| {
            let mut m = c.config.clone();
            m.remove("seed");
            m.remove("training.seeds");
            m.remove("duplication.seed");
            format!("{m:?}")
        };
        let mut groups: Vec<(String, Vec<usize>)> = vec![];
        for (i, r) in self.runs.iter().enumerate() {
            let k = key(r);
            match groups.iter_mut().find(|(g, _)| *g == k) {
                Some((_, v)) => v.push(i),
                None => groups.push((k, vec![i])),
            }
        }
        self.groups = groups
            .into_iter()
            .filter(|(_, m)| m.len() > 1)
            .map(|(_, members)| {
                let clean: Vec<f64> = members
                    .iter()
                    .filter_map(|&i| self.runs[i].row.test_acc)
                    .collect();
                let robust: Vec<f64> = members
                    .iter()
                    .filter_map(|&i| self.runs[i].row.robust_acc)
                    .collect();
                let of = |f: fn(&CompareRun) -> Option<f64>| {
                    mean_std(
                        &members
                            .iter()
                            .filter_map(|&i| f(&self.runs[i]))
                            .collect::<Vec<_>>(),
                    )
                };
                SeedGroup {
                    clean: mean_std(&clean),
                    robust: mean_std(&robust),
                    dup_loss: of(CompareRun::dup_loss),
                    dup_auc: of(CompareRun::dup_auc),
                    members,
                }
            })
            .collect();
    }

    /// Pair every seed group after the first with the first by seed (the same seed gives the
    /// same initial weights), and test the per-seed differences of clean and robust accuracy
    /// (in points), Holm-corrected across all of them.
    fn pair(&mut self) {
        let seed = |i: usize| self.runs[i].config.get("seed").cloned();
        let Some(control) = self.groups.first() else {
            return;
        };
        let mut rows: Vec<PairedRow> = vec![];
        for (g, group) in self.groups.iter().enumerate().skip(1) {
            let diffs = |f: fn(&RunRow) -> Option<f64>| -> Vec<f64> {
                group
                    .members
                    .iter()
                    .filter_map(|&i| {
                        let c = control.members.iter().find(|&&j| seed(j) == seed(i))?;
                        Some((f(&self.runs[i].row)? - f(&self.runs[*c].row)?) * 100.0)
                    })
                    .collect()
            };
            rows.push(PairedRow {
                group: g,
                clean: crate::report::paired(&diffs(|r| r.test_acc)),
                robust: crate::report::paired(&diffs(|r| r.robust_acc)),
            });
        }
        let mut family: Vec<&mut crate::report::Paired> = rows
            .iter_mut()
            .flat_map(|r| [r.clean.as_mut(), r.robust.as_mut()])
            .flatten()
            .collect();
        crate::report::holm(&mut family);
        self.paired = rows;
    }

    /// Config keys and each run's value: only keys whose values differ when `diff_only`.
    pub fn diff(&self) -> Vec<(String, Vec<String>)> {
        let mut keys: Vec<&String> = self.runs.iter().flat_map(|r| r.config.keys()).collect();
        keys.sort();
        keys.dedup();
        keys.into_iter()
            .map(|k| {
                (
                    k.clone(),
                    self.runs
                        .iter()
                        .map(|r| r.config.get(k).cloned().unwrap_or_else(|| "-".into()))
                        .collect::<Vec<_>>(),
                )
            })
            .filter(|(_, vals)| !self.diff_only || vals.iter().any(|v| v != &vals[0]))
            .collect()
    }
}
