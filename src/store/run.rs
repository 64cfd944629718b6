use super::id::{iso_time, new_run_id, now_secs, validate_run_id};
use super::metrics::{MetricRecord, MetricsWriter, read_metrics};
use super::summary::Summary;
use crate::spec::Preset;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RunStatus {
    Running,
    /// Training is held between steps by a pause control; the trainer process is alive.
    Paused,
    Finished,
    Failed,
    Interrupted,
}

impl RunStatus {
    pub fn name(self) -> &'static str {
        match self {
            RunStatus::Running => "running",
            RunStatus::Paused => "paused",
            RunStatus::Finished => "finished",
            RunStatus::Failed => "failed",
            RunStatus::Interrupted => "interrupted",
        }
    }
    fn parse(s: &str) -> Option<RunStatus> {
        Some(match s.trim() {
            "running" => RunStatus::Running,
            "paused" => RunStatus::Paused,
            "finished" => RunStatus::Finished,
            "failed" => RunStatus::Failed,
            "interrupted" => RunStatus::Interrupted,
            _ => return None,
        })
    }

    /// A trainer process owns the run right now (running or paused).
    pub fn is_live(self) -> bool {
        matches!(self, RunStatus::Running | RunStatus::Paused)
    }
}

/// `config.json`: everything needed to reproduce the run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunConfig {
    pub id: String,
    pub preset: Preset,
    pub seed: u64,
    pub backend: String,
    pub device: String,
    pub version: String,
    pub created_at: u64,
    pub data_source: String,
    pub train_checksum: String,
    pub plan_before: Vec<usize>,
    pub plan_after: Vec<usize>,
    pub plan_chosen: Vec<usize>,
    pub class_names: Vec<String>,
    pub total_steps: usize,
    pub steps_per_epoch: usize,
    #[serde(default)]
    pub params: usize,
    #[serde(default)]
    pub sweep: Option<String>,
    /// The sweep point (`axis=value,…`) this run belongs to.
    #[serde(default)]
    pub point: Option<String>,
    /// The per-channel mean and std the model normalises its [0, 1] inputs with (the training
    /// set's, after dedup; absent in runs written before).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub input_mean: Vec<f32>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub input_std: Vec<f32>,
    /// What `duplication.dedup` removed from the training set before the plan.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dedup: Option<DedupStat>,
}

/// The near-duplicates a `dedup` run removed from its training set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DedupStat {
    pub threshold: f64,
    /// Pairs within the threshold in the training set as read.
    pub pairs: usize,
    /// Groups of two or more images joined by those pairs (each kept its lowest index).
    pub groups: usize,
    pub removed: usize,
    pub removed_per_class: Vec<usize>,
    /// Training images left, before duplication.
    pub kept: usize,
}

#[derive(Debug)]
pub enum StoreError {
    Io(PathBuf, std::io::Error),
    BadId(String),
    NotFound { id: String, store: PathBuf },
    Ambiguous { id: String, matches: Vec<String> },
    Corrupt(PathBuf, String),
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreError::Io(p, e) => write!(f, "{}: {e}", p.display()),
            StoreError::BadId(m) => write!(f, "{m}"),
            StoreError::NotFound { id, store } => {
                write!(
                    f,
                    "no run `{id}` in the run store {} (see `duplab runs ls`)",
                    store.display()
                )
            }
            StoreError::Ambiguous { id, matches } => {
                write!(
                    f,
                    "`{id}` matches several runs: {}; give more of the id",
                    matches.join(", ")
                )
            }
            StoreError::Corrupt(p, m) => write!(f, "{}: {m}", p.display()),
        }
    }
}

impl std::error::Error for StoreError {}

fn io(p: &Path) -> impl FnOnce(std::io::Error) -> StoreError + '_ {
    move |e| StoreError::Io(p.to_path_buf(), e)
}

/// Write a file by writing a temporary sibling and renaming it over: readers never see half.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), StoreError> {
    // Unique per process and call, so two writers (two labs, two threads) never share a temp file.
    static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let tmp = path.with_extension(format!("tmp{}-{n}", std::process::id()));
    std::fs::write(&tmp, bytes).map_err(io(&tmp))?;
    std::fs::rename(&tmp, path).map_err(io(path))
}

/// Whether a process of this machine is alive. A zombie (exited, not yet reaped by its parent)
/// still has a `/proc` entry but trains nothing: its state letter is `Z`.
fn process_alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        // The state follows the command name, which is in parentheses and may hold spaces.
        Ok(stat) => stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().next())
            .is_some_and(|state| state != "Z" && state != "X"),
        Err(_) => false,
    }
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_string())
        .unwrap_or_default()
}

/// What a sweep does with a point (see `RunStore::plan_point`).
#[derive(Debug, Clone, PartialEq)]
pub enum PointPlan {
    Skip(String),
    Resume(String),
    Start,
}

/// The run store folder.
#[derive(Debug, Clone)]
pub struct RunStore {
    pub root: PathBuf,
}

/// One run folder.
#[derive(Debug, Clone)]
pub struct Run {
    pub id: String,
    pub dir: PathBuf,
}

impl RunStore {
    pub fn new(root: impl Into<PathBuf>) -> RunStore {
        RunStore { root: root.into() }
    }

    /// `--runs-dir`, else `$DUPLAB_RUNS`, else `./runs`.
    pub fn resolve(flag: Option<&Path>) -> RunStore {
        match (flag, std::env::var_os("DUPLAB_RUNS")) {
            (Some(p), _) => RunStore::new(p),
            (None, Some(p)) => RunStore::new(PathBuf::from(p)),
            (None, None) => RunStore::new("runs"),
        }
    }

    pub fn create(&self, preset_name: &str) -> Result<Run, StoreError> {
        loop {
            match self.create_with_id(&new_run_id(preset_name)) {
                Err(StoreError::Io(_, e)) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    continue;
                }
                other => return other,
            }
        }
    }

    /// A new run folder under a chosen id (status `running`, owned by this process); an
    /// existing folder of that id is an `AlreadyExists` error, never reused.
    pub fn create_with_id(&self, id: &str) -> Result<Run, StoreError> {
        validate_run_id(id).map_err(StoreError::BadId)?;
        std::fs::create_dir_all(&self.root).map_err(io(&self.root))?;
        let dir = self.root.join(id);
        std::fs::create_dir(&dir).map_err(|e| StoreError::Io(dir.clone(), e))?;
        let run = Run {
            id: id.to_string(),
            dir,
        };
        std::fs::create_dir_all(run.checkpoints_dir()).map_err(io(&run.dir))?;
        run.set_status(RunStatus::Running)?;
        run.mark_owner()?;
        Ok(run)
    }

    /// Every run folder (one with a `config.json` or `status`), sorted by id = by start time.
    pub fn runs(&self) -> Result<Vec<Run>, StoreError> {
        let rd = match std::fs::read_dir(&self.root) {
            Ok(rd) => rd,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(vec![]),
            Err(e) => return Err(StoreError::Io(self.root.clone(), e)),
        };
        let mut runs: Vec<Run> = rd
            .filter_map(|e| e.ok())
            .filter(|e| e.path().is_dir())
            .filter_map(|e| {
                let id = e.file_name().to_string_lossy().to_string();
                let dir = e.path();
                (dir.join("config.json").exists() || dir.join("status").exists())
                    .then_some(Run { id, dir })
            })
            .collect();
        runs.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(runs)
    }

    /// Open a run by id, or by a unique prefix or suffix of one.
    pub fn open(&self, id: &str) -> Result<Run, StoreError> {
        validate_run_id(id).map_err(StoreError::BadId)?;
        let exact = self.root.join(id);
        if exact.join("status").exists() || exact.join("config.json").exists() {
            return Ok(Run {
                id: id.to_string(),
                dir: exact,
            });
        }
        let matches: Vec<Run> = self
            .runs()?
            .into_iter()
            .filter(|r| r.id.starts_with(id) || r.id.ends_with(id))
            .collect();
        match matches.len() {
            0 => Err(StoreError::NotFound {
                id: id.to_string(),
                store: self.root.clone(),
            }),
            1 => Ok(matches.into_iter().next().unwrap()),
            _ => Err(StoreError::Ambiguous {
                id: id.to_string(),
                matches: matches.into_iter().map(|r| r.id).collect(),
            }),
        }
    }

    /// The newest run of a sweep point and seed, if any (sweeps use it to skip or resume).
    pub fn find_point(
        &self,
        sweep: &str,
        point: &str,
        seed: u64,
    ) -> Result<Option<Run>, StoreError> {
        Ok(self.runs()?.into_iter().rev().find(|r| {
            r.config().is_ok_and(|c| {
                c.sweep.as_deref() == Some(sweep)
                    && c.point.as_deref() == Some(point)
                    && c.seed == seed
            })
        }))
    }

    /// What a sweep does with one of its points, given what the store holds: skip it (done, or
    /// trained right now by another process), resume it from its checkpoint, or start it.
    pub fn plan_point(&self, sweep: &str, label: &str, seed: u64) -> PointPlan {
        match self.find_point(sweep, label, seed) {
            Ok(Some(run)) => match run.status() {
                RunStatus::Finished | RunStatus::Running | RunStatus::Paused => {
                    PointPlan::Skip(run.id)
                }
                RunStatus::Interrupted if run.checkpoints_dir().join("state.json").exists() => {
                    PointPlan::Resume(run.id)
                }
                _ => PointPlan::Start,
            },
            _ => PointPlan::Start,
        }
    }

    pub fn delete(&self, id: &str) -> Result<(), StoreError> {
        let run = self.open(id)?;
        std::fs::remove_dir_all(&run.dir).map_err(io(&run.dir))
    }
}

impl Run {
    pub fn checkpoints_dir(&self) -> PathBuf {
        self.dir.join("checkpoints")
    }
    pub fn metrics_path(&self) -> PathBuf {
        self.dir.join("metrics.jsonl")
    }

    pub fn set_status(&self, s: RunStatus) -> Result<(), StoreError> {
        write_atomic(
            &self.dir.join("status"),
            format!("{}\n", s.name()).as_bytes(),
        )
    }

    /// Record which process trains this run, so a reader can tell a dead trainer.
    pub fn mark_owner(&self) -> Result<(), StoreError> {
        self.set_owner(std::process::id())
    }

    /// Record another process (a trainer the lab just started) as this run's owner.
    pub fn set_owner(&self, pid: u32) -> Result<(), StoreError> {
        write_atomic(
            &self.dir.join("pid"),
            format!("{pid} {}\n", hostname()).as_bytes(),
        )
    }

    /// The trainer's process id, when it runs on this machine and is alive.
    pub fn owner_pid(&self) -> Option<u32> {
        let text = std::fs::read_to_string(self.dir.join("pid")).ok()?;
        let mut parts = text.split_whitespace();
        let pid: u32 = parts.next()?.parse().ok()?;
        let host = parts.next().unwrap_or("");
        (host.is_empty() || host == hostname())
            .then_some(pid)
            .filter(|&p| process_alive(p))
    }

    /// The resolved preset a launcher wrote for its trainer (`preset.toml`).
    pub fn preset_path(&self) -> PathBuf {
        self.dir.join("preset.toml")
    }

    pub fn write_preset(&self, p: &Preset) -> Result<(), StoreError> {
        write_atomic(&self.preset_path(), p.to_toml().as_bytes())
    }

    /// What a detached trainer printed (`train.log`).
    pub fn log_path(&self) -> PathBuf {
        self.dir.join("train.log")
    }

    /// What the trainer is doing outside training steps (loading, evaluating), for watchers
    /// in other processes. One line, replaced atomically.
    pub fn set_phase(&self, what: &str) -> Result<(), StoreError> {
        write_atomic(&self.dir.join("phase"), what.as_bytes())
    }

    pub fn phase(&self) -> String {
        std::fs::read_to_string(self.dir.join("phase")).unwrap_or_default()
    }

    /// The status on disk; `running` or `paused` whose trainer process is gone reads as
    /// `interrupted`.
    pub fn status(&self) -> RunStatus {
        let s = std::fs::read_to_string(self.dir.join("status"))
            .ok()
            .and_then(|s| RunStatus::parse(&s));
        match s {
            Some(s) if s.is_live() && !self.owner_alive() => RunStatus::Interrupted,
            Some(s) => s,
            None => RunStatus::Interrupted,
        }
    }

    fn owner_alive(&self) -> bool {
        let Ok(text) = std::fs::read_to_string(self.dir.join("pid")) else {
            return false;
        };
        let mut parts = text.split_whitespace();
        let pid = parts.next().unwrap_or("");
        let host = parts.next().unwrap_or("");
        if !host.is_empty() && host != hostname() {
            return true; // trained on another machine sharing the store: we cannot tell
        }
        pid.parse().is_ok_and(process_alive)
    }

    pub fn write_config(&self, c: &RunConfig) -> Result<(), StoreError> {
        let bytes = serde_json::to_vec_pretty(c)
            .map_err(|e| StoreError::Corrupt(self.dir.clone(), e.to_string()))?;
        write_atomic(&self.dir.join("config.json"), &bytes)
    }

    pub fn config(&self) -> Result<RunConfig, StoreError> {
        let p = self.dir.join("config.json");
        let text = std::fs::read_to_string(&p).map_err(io(&p))?;
        serde_json::from_str(&text)
            .map_err(|e| StoreError::Corrupt(p, format!("unreadable config: {e}")))
    }

    /// Write `summary.json` (atomically), stamped with this version's format.
    pub fn write_summary(&self, s: &Summary) -> Result<(), StoreError> {
        let s = Summary {
            format: super::summary::SUMMARY_FORMAT,
            ..s.clone()
        };
        let bytes = serde_json::to_vec_pretty(&s)
            .map_err(|e| StoreError::Corrupt(self.dir.clone(), e.to_string()))?;
        write_atomic(&self.dir.join("summary.json"), &bytes)
    }

    /// Record a failure: the error in the summary, status `failed`.
    pub fn mark_failed(&self, error: &str) -> Result<(), StoreError> {
        let mut s = self.summary();
        s.error = Some(error.to_string());
        self.write_summary(&s)?;
        self.set_status(RunStatus::Failed)
    }

    /// The summary, or an empty one if none was written yet.
    pub fn summary(&self) -> Summary {
        std::fs::read_to_string(self.dir.join("summary.json"))
            .ok()
            .and_then(|t| serde_json::from_str(&t).ok())
            .unwrap_or_default()
    }

    pub fn metrics(&self) -> Result<Vec<MetricRecord>, StoreError> {
        let p = self.metrics_path();
        read_metrics(&p).map_err(io(&p))
    }

    /// Drop the records of steps after `step` (a resumed run continues from its checkpoint;
    /// what a crash wrote after it goes). The file is replaced atomically.
    pub fn truncate_metrics(&self, step: usize) -> Result<(), StoreError> {
        let mut text = String::new();
        for r in self.metrics()? {
            let keep = match &r {
                MetricRecord::Step(s) => s.step <= step,
                MetricRecord::Epoch(e) => e.step <= step,
                _ => true,
            };
            if keep {
                let line = serde_json::to_string(&r)
                    .map_err(|e| StoreError::Io(self.metrics_path(), std::io::Error::other(e)))?;
                text.push_str(&line);
                text.push('\n');
            }
        }
        write_atomic(&self.metrics_path(), text.as_bytes())
    }

    pub fn metrics_writer(&self) -> Result<MetricsWriter, StoreError> {
        let p = self.metrics_path();
        MetricsWriter::open(&p).map_err(io(&p))
    }

    /// Unix seconds of the run's start, from the config or the folder.
    pub fn started_at(&self) -> u64 {
        self.config().map(|c| c.created_at).unwrap_or_else(|_| {
            std::fs::metadata(&self.dir)
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .map(|d| d.as_secs())
                .unwrap_or(0)
        })
    }

    pub fn started_iso(&self) -> String {
        iso_time(self.started_at())
    }
}

/// Unix seconds now (re-exported for trainers).
pub fn now() -> u64 {
    now_secs()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn create_list_open_and_delete() {
        let dir = tempfile::tempdir().unwrap();
        let store = RunStore::new(dir.path());
        let a = store.create("default").unwrap();
        let b = store.create("default").unwrap();
        assert_eq!(store.runs().unwrap().len(), 2);
        assert_eq!(a.status(), RunStatus::Running, "our own process is alive");
        assert_eq!(store.open(&a.id).unwrap().dir, a.dir);
        // A unique suffix opens a run; a shared prefix is ambiguous.
        let suffix = &b.id[b.id.len() - 6..];
        assert_eq!(store.open(suffix).unwrap().id, b.id);
        assert!(matches!(store.open("2"), Err(StoreError::Ambiguous { .. })));
        store.delete(&a.id).unwrap();
        assert_eq!(store.runs().unwrap().len(), 1);
    }

    #[test]
    fn ids_cannot_escape_the_store() {
        let dir = tempfile::tempdir().unwrap();
        let store = RunStore::new(dir.path().join("runs"));
        for bad in ["..", "../runs", "/tmp", "a/../../b"] {
            assert!(
                matches!(store.open(bad), Err(StoreError::BadId(_))),
                "{bad}"
            );
            assert!(store.delete(bad).is_err());
        }
        assert!(dir.path().exists());
    }

    #[test]
    fn dead_trainer_reads_as_interrupted() {
        let dir = tempfile::tempdir().unwrap();
        let run = RunStore::new(dir.path()).create("x").unwrap();
        // pid 0 never names a live process in /proc.
        std::fs::write(run.dir.join("pid"), "0 ".to_string() + &hostname()).unwrap();
        assert_eq!(run.status(), RunStatus::Interrupted);
        run.set_status(RunStatus::Finished).unwrap();
        assert_eq!(run.status(), RunStatus::Finished);
    }

    #[test]
    fn summary_is_replaced_whole() {
        let dir = tempfile::tempdir().unwrap();
        let run = RunStore::new(dir.path()).create("x").unwrap();
        assert_eq!(run.summary(), Summary::default());
        let s = Summary {
            test_acc: Some(0.9),
            ..Default::default()
        };
        run.write_summary(&s).unwrap();
        assert_eq!(
            run.summary(),
            Summary {
                format: super::super::summary::SUMMARY_FORMAT,
                ..s
            }
        );
        let leftovers: Vec<_> = std::fs::read_dir(&run.dir)
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().contains("tmp"))
            .collect();
        assert!(leftovers.is_empty());
    }

    /// A run folder written before evaluation points were renamed and group metrics added
    /// (summary format 1, `epoch` / `epochs_done`), committed as it was: still read whole.
    #[test]
    fn a_run_folder_of_format_one_reads_as_before() {
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/store/fixtures/run-format-1");
        let dir = tempfile::tempdir().unwrap();
        let id = "20261118-120000-default-f1f1f1";
        std::fs::create_dir_all(dir.path().join(id)).unwrap();
        for f in std::fs::read_dir(src.join(id)).unwrap() {
            let f = f.unwrap();
            std::fs::copy(f.path(), dir.path().join(id).join(f.file_name())).unwrap();
        }
        let store = RunStore::new(dir.path());
        let run = store.open("f1f1f1").unwrap();
        assert_eq!(run.status(), RunStatus::Finished);
        let c = run.config().unwrap();
        assert_eq!(
            c.preset.training.group_every, 1,
            "new fields take their defaults"
        );
        let s = run.summary();
        assert_eq!((s.format, s.evaluations_done, s.steps_done), (1, 2, 4));
        assert!(s.groups.is_none() && s.test_acc.is_some());
        let evals: Vec<usize> = run
            .metrics()
            .unwrap()
            .into_iter()
            .filter_map(|m| match m {
                MetricRecord::Epoch(e) => Some(e.evaluation),
                _ => None,
            })
            .collect();
        assert_eq!(evals, vec![1, 2]);
    }
}
