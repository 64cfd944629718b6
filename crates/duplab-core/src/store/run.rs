//! The run store (a folder of run folders) and one run folder: creating, listing and opening
//! runs, and reading and writing the files the layout names. A reader returns
//! `Result<Option<T>>`: `None` when the file is not there (yet), an error naming the file when it
//! is there and unreadable, so a corrupt file is reported, never taken for an empty one.

use super::config::RunConfig;
use super::error::{StoreError, io};
use super::id::{iso_time, new_run_id, now_secs, validate_run_id};
use super::layout;
use super::metrics::{MetricRecord, MetricsWriter, read_metrics};
use super::status::RunStatus;
use super::summary::Summary;
use crate::atomic::Durability;
use crate::spec::Preset;
use std::path::{Path, PathBuf};

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

/// What a launcher chose for the trainer of a folder it prepared (`launch.json`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Launch {
    pub seed: u64,
    /// The sweep and point a sweep claimed the folder for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sweep: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub point: Option<String>,
}

impl Launch {
    /// A launch outside a sweep (the lab's): just the seed.
    pub fn seeded(seed: u64) -> Launch {
        Launch {
            seed,
            sweep: None,
            point: None,
        }
    }
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
        validate_run_id(id)?;
        std::fs::create_dir_all(&self.root).map_err(io(&self.root))?;
        let dir = self.root.join(id);
        std::fs::create_dir(&dir).map_err(|e| StoreError::Io(dir.clone(), e))?;
        let run = Run {
            id: id.to_string(),
            dir,
        };
        std::fs::create_dir_all(run.checkpoints_dir()).map_err(io(&run.dir))?;
        run.set_status(RunStatus::Running)?;
        run.first_lease()?;
        Ok(run)
    }

    /// A new run folder that appears whole: made under a hidden name (`.staging-ID`, never
    /// listed), given its status, lease and whatever `fill` writes (the trainer's config), then
    /// renamed into place. A kill at any moment leaves either no run or a run with its config.
    pub fn create_staged(
        &self,
        preset_name: &str,
        fill: impl Fn(&Run) -> Result<(), StoreError>,
    ) -> Result<Run, StoreError> {
        self.stage(|| new_run_id(preset_name), true, fill)
    }

    /// `create_staged` under a chosen id (the lab's): an existing run of that id is an
    /// `AlreadyExists` error, never reused.
    pub fn create_staged_with_id(
        &self,
        id: &str,
        fill: impl Fn(&Run) -> Result<(), StoreError>,
    ) -> Result<Run, StoreError> {
        self.stage(|| id.to_string(), false, fill)
    }

    /// Stage a run folder under the ids `next_id` gives (another one after a collision when
    /// `retry`), fill it and rename it into place.
    fn stage(
        &self,
        mut next_id: impl FnMut() -> String,
        retry: bool,
        fill: impl Fn(&Run) -> Result<(), StoreError>,
    ) -> Result<Run, StoreError> {
        std::fs::create_dir_all(&self.root).map_err(io(&self.root))?;
        // What a process killed while staging left behind, an hour on: nobody will finish it.
        if let Ok(rd) = std::fs::read_dir(&self.root) {
            for e in rd.flatten() {
                let old = e
                    .metadata()
                    .and_then(|m| m.modified())
                    .ok()
                    .and_then(|t| t.elapsed().ok())
                    .is_some_and(|age| age > std::time::Duration::from_secs(3600));
                if e.file_name().to_string_lossy().starts_with(".staging-") && old {
                    let _ = std::fs::remove_dir_all(e.path());
                }
            }
        }
        loop {
            let id = next_id();
            validate_run_id(&id)?;
            let dir = self.root.join(&id);
            if !retry && dir.exists() {
                return Err(StoreError::Io(
                    dir,
                    std::io::ErrorKind::AlreadyExists.into(),
                ));
            }
            let staging = self.root.join(format!(".staging-{id}"));
            std::fs::create_dir(&staging).map_err(|e| StoreError::Io(staging.clone(), e))?;
            let run = Run {
                id: id.clone(),
                dir: staging.clone(),
            };
            let filled = std::fs::create_dir_all(run.checkpoints_dir())
                .map_err(io(&run.dir))
                .and_then(|()| run.set_status(RunStatus::Running))
                .and_then(|()| run.first_lease())
                .and_then(|()| fill(&run));
            if let Err(e) = filled {
                let _ = std::fs::remove_dir_all(&staging);
                return Err(e);
            }
            // Renaming onto an existing run (never empty) fails: then another id.
            match std::fs::rename(&staging, &dir) {
                Ok(()) => {
                    crate::atomic::sync_dir(&self.root);
                    return Ok(Run { id, dir });
                }
                Err(_) if dir.exists() => {
                    let _ = std::fs::remove_dir_all(&staging);
                    if retry {
                        continue;
                    }
                    return Err(StoreError::Io(
                        dir,
                        std::io::ErrorKind::AlreadyExists.into(),
                    ));
                }
                Err(e) => {
                    let _ = std::fs::remove_dir_all(&staging);
                    return Err(StoreError::Io(dir, e));
                }
            }
        }
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
                // `.claims`, `.slurm`, `.staging-…`: the store's own, not runs.
                if id.starts_with('.') {
                    return None;
                }
                let dir = e.path();
                (dir.join(layout::CONFIG).exists() || dir.join(layout::STATUS).exists())
                    .then_some(Run { id, dir })
            })
            .collect();
        runs.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(runs)
    }

    /// Open a run by id, or by a unique prefix or suffix of one.
    pub fn open(&self, id: &str) -> Result<Run, StoreError> {
        validate_run_id(id)?;
        let exact = self.root.join(id);
        if exact.join(layout::STATUS).exists() || exact.join(layout::CONFIG).exists() {
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

    /// Delete a run folder; a run whose trainer lives (running or paused) is refused: it must
    /// be stopped first, or its trainer would go on writing into a folder that is gone.
    pub fn delete(&self, id: &str) -> Result<(), StoreError> {
        let run = self.open(id)?;
        let status = run.status();
        if status.is_live() {
            return Err(StoreError::Live {
                id: run.id.clone(),
                status: status.name(),
            });
        }
        std::fs::remove_dir_all(&run.dir).map_err(io(&run.dir))
    }
}

/// The most a one-line file of the run folder (`status`, `phase`, `control`, `lease`) may hold.
pub(crate) const SMALL_FILE: u64 = 4096;

impl Run {
    /// Link a Slurm task's log (a file Slurm is writing, in the store's `.slurm/`) into the run
    /// folder as `task-JOB.log`: a hard link, so the folder holds the whole log as it grows (a
    /// symbolic link where the file system refuses hard links). A link already there is kept.
    pub fn link_task_log(&self, log: &Path, job: &str) -> Result<PathBuf, StoreError> {
        let safe: String = job
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '_' {
                    c
                } else {
                    '-'
                }
            })
            .collect();
        let dest = self
            .dir
            .join(format!("{}{safe}.log", layout::TASK_LOG_PREFIX));
        if dest.exists() {
            return Ok(dest);
        }
        std::fs::hard_link(log, &dest)
            .or_else(|_| std::os::unix::fs::symlink(log, &dest))
            .map_err(io(&dest))?;
        Ok(dest)
    }

    pub fn checkpoints_dir(&self) -> PathBuf {
        self.dir.join(layout::CHECKPOINTS)
    }
    /// `checkpoints/state.json`: present once a checkpoint is complete.
    pub fn checkpoint_state_path(&self) -> PathBuf {
        self.checkpoints_dir().join(layout::CHECKPOINT_STATE)
    }
    pub fn metrics_path(&self) -> PathBuf {
        self.dir.join(layout::METRICS)
    }

    /// Replace one of the run folder's files whole.
    pub(crate) fn replace(
        &self,
        name: &str,
        bytes: &[u8],
        durability: Durability,
    ) -> Result<(), StoreError> {
        Ok(crate::atomic::write_atomic(
            &self.dir.join(name),
            bytes,
            durability,
        )?)
    }

    /// A file's text, `None` when it does not exist.
    /// A file of the run folder as text (`None`: absent), read with `atomic::read_small`: JSON
    /// files up to 256 MiB, the one-line files (`status`, `phase`, …) up to 4 KiB; a link, a FIFO
    /// or a larger file is an error naming it, never a blocked or flooded reader.
    pub(crate) fn read_text(&self, name: &str) -> Result<Option<String>, StoreError> {
        let p = self.dir.join(name);
        let max = if name.ends_with(".json") {
            256 << 20
        } else {
            SMALL_FILE
        };
        match crate::atomic::read_small(&p, max) {
            Ok(t) => String::from_utf8(t)
                .map(Some)
                .map_err(|_| StoreError::Corrupt(p, "not UTF-8 text".into())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(StoreError::Io(p, e)),
        }
    }

    /// A JSON file of the run folder, `None` when it does not exist; unreadable JSON is an error
    /// naming the file.
    pub(crate) fn read_json<T: serde::de::DeserializeOwned>(
        &self,
        name: &str,
        what: &str,
    ) -> Result<Option<T>, StoreError> {
        let Some(text) = self.read_text(name)? else {
            return Ok(None);
        };
        serde_json::from_str(&text).map(Some).map_err(|e| {
            StoreError::Corrupt(self.dir.join(name), format!("unreadable {what}: {e}"))
        })
    }

    pub fn set_status(&self, s: RunStatus) -> Result<(), StoreError> {
        self.replace(
            layout::STATUS,
            format!("{}\n", s.name()).as_bytes(),
            Durability::Rename,
        )
    }

    /// The status on disk; `running` or `paused` whose trainer process is gone reads as
    /// `interrupted`.
    pub fn status(&self) -> RunStatus {
        let s = self
            .read_text(layout::STATUS)
            .ok()
            .flatten()
            .and_then(|s| RunStatus::parse(&s));
        match s {
            Some(s) if s.is_live() && !self.owner_alive() => RunStatus::Interrupted,
            Some(s) => s,
            None => RunStatus::Interrupted,
        }
    }

    /// The resolved preset a launcher wrote for its trainer (`preset.toml`).
    pub fn preset_path(&self) -> PathBuf {
        self.dir.join(layout::PRESET)
    }

    pub fn write_preset(&self, p: &Preset) -> Result<(), StoreError> {
        self.replace(layout::PRESET, p.to_toml().as_bytes(), Durability::Sync)
    }

    /// Record what a launcher chose for the trainer of the folder it prepared (`launch.json`).
    pub fn write_launch(&self, l: &Launch) -> Result<(), StoreError> {
        let bytes = serde_json::to_vec(l).expect("a launch record serialises");
        self.replace(layout::LAUNCH, &bytes, Durability::Sync)
    }

    /// The launch record, if a launcher wrote one (`None` too when it cannot be read).
    pub fn launch(&self) -> Option<Launch> {
        serde_json::from_str(&self.read_text(layout::LAUNCH).ok()??).ok()
    }

    /// Whether an interrupted run can be resumed: from its checkpoint, from its config (from
    /// step 0), or, killed before its config was written, as its launcher prepared it
    /// (`preset.toml` and `launch.json`).
    pub fn resumable(&self) -> bool {
        self.checkpoint_state_path().exists()
            || self.dir.join(layout::CONFIG).exists()
            || (self.preset_path().exists() && self.launch().is_some())
    }

    /// What a detached trainer printed (`train.log`).
    pub fn log_path(&self) -> PathBuf {
        self.dir.join(layout::LOG)
    }

    /// What the trainer is doing outside training steps (loading, evaluating), for watchers
    /// in other processes. One line, replaced atomically.
    pub fn set_phase(&self, what: &str) -> Result<(), StoreError> {
        self.replace(layout::PHASE, what.as_bytes(), Durability::Rename)
    }

    pub fn phase(&self) -> String {
        self.read_text(layout::PHASE)
            .ok()
            .flatten()
            .unwrap_or_default()
    }

    pub fn write_config(&self, c: &RunConfig) -> Result<(), StoreError> {
        let bytes = serde_json::to_vec_pretty(c)
            .map_err(|e| StoreError::Corrupt(self.dir.clone(), e.to_string()))?;
        self.replace(layout::CONFIG, &bytes, Durability::Sync)
    }

    /// `config.json`, `None` before the trainer wrote it.
    pub fn config(&self) -> Result<Option<RunConfig>, StoreError> {
        self.read_json(layout::CONFIG, "config")
    }

    /// `config.json`, which the caller cannot do without: a missing one is an error naming it.
    pub fn require_config(&self) -> Result<RunConfig, StoreError> {
        self.config()?
            .ok_or_else(|| StoreError::Missing(self.dir.join(layout::CONFIG)))
    }

    /// Write `summary.json` (atomically), stamped with this version's format.
    pub fn write_summary(&self, s: &Summary) -> Result<(), StoreError> {
        let s = Summary {
            format: super::summary::SUMMARY_FORMAT,
            ..s.clone()
        };
        let bytes = serde_json::to_vec_pretty(&s)
            .map_err(|e| StoreError::Corrupt(self.dir.clone(), e.to_string()))?;
        self.replace(layout::SUMMARY, &bytes, Durability::Sync)
    }

    /// Record a failure: the error in the summary, status `failed`. A corrupt summary is
    /// replaced (the failure is what matters now) rather than stopping the record of it.
    pub fn mark_failed(&self, error: &str) -> Result<(), StoreError> {
        let mut s = self.own_summary().ok().flatten().unwrap_or_default();
        s.error = Some(error.to_string());
        self.write_summary(&s)?;
        self.set_status(RunStatus::Failed)
    }

    /// `summary.json` with the evaluations and the card merged in from their own files (each has
    /// one writer, so a trainer rewriting the summary cannot lose them); `None` before any of
    /// these was written.
    pub fn summary(&self) -> Result<Option<Summary>, StoreError> {
        let base = self.own_summary()?;
        let card: Option<super::CardStat> = self.read_json(layout::CARD, "evaluation card")?;
        let evals = self.evaluations()?;
        if base.is_none() && card.is_none() && evals.is_empty() {
            return Ok(None);
        }
        let mut s = base.unwrap_or_default();
        s.evaluations.extend(evals);
        if card.is_some() {
            s.card = card;
        }
        Ok(Some(s))
    }

    /// The robust evaluations added after training, by attack key (`evals/*.json`).
    fn evaluations(&self) -> Result<Vec<(String, super::metrics::RobustRecord)>, StoreError> {
        let dir = self.dir.join(layout::EVALS);
        let rd = match std::fs::read_dir(&dir) {
            Ok(rd) => rd,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(vec![]),
            Err(e) => return Err(StoreError::Io(dir, e)),
        };
        let mut out = vec![];
        let mut names: Vec<String> = rd
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".json") && !n.starts_with('.'))
            .collect();
        names.sort();
        for n in names {
            let rel = format!("{}/{n}", layout::EVALS);
            if let Some(e) = self.read_json::<StoredEval>(&rel, "evaluation")? {
                out.push((e.key, e.record));
            }
        }
        Ok(out)
    }

    /// Record a robust evaluation under its attack key (`evals/<key>.json`): its own file, so
    /// an evaluation during training, or two at once, lose nothing.
    pub fn write_eval(
        &self,
        key: &str,
        record: &super::metrics::RobustRecord,
    ) -> Result<(), StoreError> {
        if !self.dir.is_dir() {
            return Err(StoreError::Missing(self.dir.clone()));
        }
        let dir = self.dir.join(layout::EVALS);
        std::fs::create_dir_all(&dir).map_err(io(&dir))?;
        // A readable name, made unique by a hash of the whole key (keys hold `·`, `ε`, spaces:
        // two keys may read alike once made safe for a file name).
        use sha2::{Digest, Sha256};
        let safe: String = key
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || "._-".contains(c) {
                    c
                } else {
                    '_'
                }
            })
            .take(80)
            .collect();
        let h = Sha256::digest(key.as_bytes());
        let file = format!("{safe}-{:02x}{:02x}{:02x}{:02x}", h[0], h[1], h[2], h[3]);
        let bytes = serde_json::to_vec_pretty(&StoredEval {
            key: key.to_string(),
            record: record.clone(),
        })
        .map_err(|e| StoreError::Corrupt(dir.clone(), e.to_string()))?;
        self.replace(
            &format!("{}/{file}.json", layout::EVALS),
            &bytes,
            Durability::Sync,
        )
    }

    /// Record the evaluation card (`card.json`).
    pub fn write_card(&self, card: &super::CardStat) -> Result<(), StoreError> {
        let bytes = serde_json::to_vec_pretty(card)
            .map_err(|e| StoreError::Corrupt(self.dir.clone(), e.to_string()))?;
        self.replace(layout::CARD, &bytes, Durability::Sync)
    }

    /// The summary for its writer (the trainer) to update: `summary.json` alone, without the
    /// evaluations and card other writers keep in their own files; empty before any was written.
    pub fn summary_or_default(&self) -> Result<Summary, StoreError> {
        Ok(self.own_summary()?.unwrap_or_default())
    }

    /// `summary.json` as its writer wrote it.
    fn own_summary(&self) -> Result<Option<Summary>, StoreError> {
        self.read_json(layout::SUMMARY, "summary")
    }

    /// Why this run's files cannot be read (`PATH: reason`), if they cannot: listings show such
    /// a run as corrupt and go on with the rest.
    pub fn corruption(&self) -> Option<String> {
        self.config()
            .err()
            .or_else(|| self.summary().err())
            .map(|e| e.to_string())
    }

    pub fn metrics(&self) -> Result<Vec<MetricRecord>, StoreError> {
        let p = self.metrics_path();
        read_metrics(&p).map_err(io(&p))
    }

    /// Drop the records of steps after `step` (a resumed run continues from its checkpoint;
    /// what a crash wrote after it goes). The file is replaced atomically.
    /// Drop the step and evaluation records after `step` (a resume from a checkpoint of an
    /// earlier version, which did not record its byte offset). Every other line is kept as it
    /// is: kinds this version does not know, evaluations added later; a fragment a crash left is
    /// dropped.
    pub fn truncate_metrics(&self, step: usize) -> Result<(), StoreError> {
        let path = self.metrics_path();
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(StoreError::Io(path, e)),
        };
        let mut out = Vec::with_capacity(bytes.len());
        for line in bytes.split_inclusive(|&b| b == b'\n') {
            if !line.ends_with(b"\n") {
                break;
            }
            let keep = match serde_json::from_slice::<serde_json::Value>(line) {
                Ok(v) => {
                    let kind = v.get("kind").and_then(|k| k.as_str());
                    let at = v.get("step").and_then(|s| s.as_u64());
                    !(matches!(kind, Some("step" | "epoch")) && at.is_some_and(|s| s > step as u64))
                }
                Err(_) => false,
            };
            if keep {
                out.extend_from_slice(line);
            }
        }
        self.replace(layout::METRICS, &out, Durability::Sync)
    }

    /// The length of `metrics.jsonl` now (0 when there is none).
    pub fn metrics_len(&self) -> u64 {
        std::fs::metadata(self.metrics_path()).map_or(0, |m| m.len())
    }

    /// Cut `metrics.jsonl` at byte `at` (a checkpoint's offset), keeping every byte before it.
    /// After it only the trainer's own step, evaluation and overfitting-check records go: the lines other writers
    /// added since (`duplab eval` records, kinds this version does not know) are kept, moved to
    /// the cut.
    pub fn cut_metrics(&self, at: u64) -> Result<(), StoreError> {
        use std::io::{Read, Seek, SeekFrom, Write};
        let path = self.metrics_path();
        let mut f = match std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(&path)
        {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(StoreError::Io(path, e)),
        };
        let len = f.metadata().map_err(io(&path))?.len();
        if at >= len {
            return Ok(());
        }
        let mut after = vec![];
        f.seek(SeekFrom::Start(at)).map_err(io(&path))?;
        f.read_to_end(&mut after).map_err(io(&path))?;
        let mut kept = vec![];
        for line in after.split_inclusive(|&b| b == b'\n') {
            let theirs = line.ends_with(b"\n")
                && serde_json::from_slice::<serde_json::Value>(line).is_ok_and(|v| {
                    !matches!(
                        v.get("kind").and_then(|k| k.as_str()),
                        Some("step" | "epoch" | "overfit")
                    )
                });
            if theirs {
                kept.extend_from_slice(line);
            }
        }
        f.set_len(at).map_err(io(&path))?;
        if !kept.is_empty() {
            f.seek(SeekFrom::Start(at)).map_err(io(&path))?;
            f.write_all(&kept).map_err(io(&path))?;
        }
        f.sync_all().map_err(io(&path))?;
        Ok(())
    }

    pub fn metrics_writer(&self) -> Result<MetricsWriter, StoreError> {
        let p = self.metrics_path();
        MetricsWriter::open(&p).map_err(io(&p))
    }

    /// Unix seconds of the run's start, from the config or the folder.
    pub fn started_at(&self) -> u64 {
        match self.config() {
            Ok(Some(c)) => c.created_at,
            _ => std::fs::metadata(&self.dir)
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .map(|d| d.as_secs())
                .unwrap_or(0),
        }
    }

    pub fn started_iso(&self) -> String {
        iso_time(self.started_at())
    }
}

/// One `evals/*.json` file: the attack key (file names are made safe, the key is kept whole) and
/// the record.
#[derive(serde::Serialize, serde::Deserialize)]
struct StoredEval {
    key: String,
    record: super::metrics::RobustRecord,
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
        a.set_status(RunStatus::Finished).unwrap();
        store.delete(&a.id).unwrap();
        assert_eq!(store.runs().unwrap().len(), 1);
    }

    #[test]
    fn a_paused_run_whose_trainer_lives_is_not_deleted() {
        let dir = tempfile::tempdir().unwrap();
        let store = RunStore::new(dir.path());
        let run = store.create("x").unwrap(); // owned by this live process
        run.set_status(RunStatus::Paused).unwrap();
        let e = store.delete(&run.id).unwrap_err().to_string();
        assert!(e.contains("paused") && e.contains("runs stop"), "{e}");
        assert!(run.dir.exists());
        run.set_status(RunStatus::Interrupted).unwrap();
        store.delete(&run.id).unwrap();
        assert!(!run.dir.exists());
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
        // A run of a version before leases: its `pid` file alone names the owner; pid 0 never
        // names a live process in /proc.
        std::fs::remove_file(run.dir.join("lease")).unwrap();
        std::fs::write(
            run.dir.join("pid"),
            "0 ".to_string() + &super::super::lease::hostname(),
        )
        .unwrap();
        assert_eq!(run.status(), RunStatus::Interrupted);
        run.set_status(RunStatus::Finished).unwrap();
        assert_eq!(run.status(), RunStatus::Finished);
    }

    #[test]
    fn summary_is_replaced_whole() {
        let dir = tempfile::tempdir().unwrap();
        let run = RunStore::new(dir.path()).create("x").unwrap();
        assert_eq!(run.summary().unwrap(), None);
        let s = Summary {
            test_acc: Some(0.9),
            ..Default::default()
        };
        run.write_summary(&s).unwrap();
        assert_eq!(
            run.summary().unwrap().unwrap(),
            Summary {
                format: super::super::summary::SUMMARY_FORMAT,
                ..s
            }
        );
        let leftovers: Vec<_> = std::fs::read_dir(&run.dir)
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().contains(".tmp"))
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
        let c = run.config().unwrap().unwrap();
        assert_eq!(
            c.preset.training.group_every, 1,
            "new fields take their defaults"
        );
        let s = run.summary().unwrap().unwrap();
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

    /// A run folder of summary format 2 (group metrics, leakage, the time split), as a real
    /// trainer wrote it (a 6-step run of `default` with 10 % duplication, committed as it was):
    /// read whole, every group found through `Group`.
    #[test]
    fn a_run_folder_of_format_two_reads_whole() {
        use crate::measures::Group;
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/store/fixtures/run-format-2");
        let dir = tempfile::tempdir().unwrap();
        let id = "20261204-212708-default-af1bb8";
        std::fs::create_dir_all(dir.path().join(id)).unwrap();
        for f in std::fs::read_dir(src.join(id)).unwrap() {
            let f = f.unwrap();
            std::fs::copy(f.path(), dir.path().join(id).join(f.file_name())).unwrap();
        }
        let run = RunStore::new(dir.path()).open("af1bb8").unwrap();
        assert_eq!(run.status(), RunStatus::Finished);
        let c = run.require_config().unwrap();
        assert_eq!((c.total_steps, c.preset.duplication.rate), (6, Some(0.1)));
        let s = run.summary().unwrap().unwrap();
        assert_eq!((s.format, s.evaluations_done, s.steps_done), (2, 2, 6));
        let g = s.groups.as_ref().unwrap();
        for group in [Group::Duplicated, Group::Unique, Group::Test] {
            assert!(g.group(group).is_some(), "{group}");
        }
        assert!(g.membership_of(Group::Duplicated).is_some());
        assert!(s.leakage.is_some() && s.time_split.is_some());
        let evals = run
            .metrics()
            .unwrap()
            .into_iter()
            .filter(|m| matches!(m, MetricRecord::Epoch(e) if e.groups.is_some()))
            .count();
        assert_eq!(evals, 2);
    }

    /// Evaluations under keys that read alike once made safe for a file name stay apart, and a
    /// run whose only results are evaluations still has a summary.
    #[test]
    fn evaluations_keep_their_keys_apart() {
        let dir = tempfile::tempdir().unwrap();
        let run = RunStore::new(dir.path()).create("x").unwrap();
        let rec = |acc| super::super::metrics::RobustRecord {
            attack: "pgd".into(),
            acc,
            loss: 1.0,
            per_class_acc: vec![],
            images: 10,
        };
        run.write_eval("pgd ε=0.1 · 10 images", &rec(0.1)).unwrap();
        run.write_eval("pgd ε=0.3 · 10 images", &rec(0.3)).unwrap();
        run.write_eval("pgd ε_0.1 _ 10 images", &rec(0.5)).unwrap();
        let s = run
            .summary()
            .unwrap()
            .expect("evaluations alone make a summary");
        assert_eq!(s.evaluations.len(), 3);
        assert_eq!(s.evaluations["pgd ε=0.1 · 10 images"].acc, 0.1);
        assert_eq!(s.evaluations["pgd ε_0.1 _ 10 images"].acc, 0.5);
    }

    #[test]
    fn a_corrupt_file_is_an_error_naming_it_and_a_missing_one_is_none() {
        let dir = tempfile::tempdir().unwrap();
        let run = RunStore::new(dir.path()).create("x").unwrap();
        assert!(run.config().unwrap().is_none());
        let e = run.require_config().unwrap_err().to_string();
        assert!(e.contains("config.json") && e.contains("missing"), "{e}");
        std::fs::write(run.dir.join("summary.json"), "{\"test_acc\": 0.").unwrap();
        let e = run.summary().unwrap_err().to_string();
        assert!(
            e.contains("summary.json") && e.contains("unreadable summary"),
            "{e}"
        );
        assert_eq!(run.corruption(), Some(e));
    }

    /// A resume from a checkpoint of an earlier version (no byte offset) drops the records
    /// after its step and keeps every other line as it was: once, the file was re-serialised and
    /// lines of kinds this version does not know were lost.
    #[test]
    fn truncating_by_step_keeps_lines_it_does_not_understand() {
        let dir = tempfile::tempdir().unwrap();
        let run = RunStore::new(dir.path()).create("x").unwrap();
        let future = r#"{"kind":"calibration","from":"a newer version","values":[1,2]}"#;
        let lines = [
            r#"{"kind":"step","step":1,"epoch":0.1,"loss":2.0,"acc":0.1,"lr":0.1,"images_per_s":1.0}"#,
            future,
            r#"{"kind":"step","step":2,"epoch":0.2,"loss":1.9,"acc":0.2,"lr":0.1,"images_per_s":1.0}"#,
            r#"{"kind":"step","step":3,"epoch":0.3,"loss":1.8,"acc":0.3,"lr":0.1,"images_per_s":1.0}"#,
        ];
        let text = lines.join("\n") + "\n" + r#"{"kind":"step","step":4,"#;
        std::fs::write(run.metrics_path(), &text).unwrap();
        run.truncate_metrics(2).unwrap();
        let kept = std::fs::read_to_string(run.metrics_path()).unwrap();
        assert_eq!(kept, [lines[0], future, lines[2]].join("\n") + "\n");
        // Cut at a byte offset: everything before it, byte for byte; after it, the trainer's
        // own step records go and the other writers' lines stay.
        let at = (lines[0].len() + 1) as u64;
        run.cut_metrics(at).unwrap();
        assert_eq!(
            std::fs::read_to_string(run.metrics_path()).unwrap(),
            [lines[0], future].join("\n") + "\n"
        );
        let len = run.metrics_len();
        run.cut_metrics(10_000).unwrap();
        assert_eq!(
            run.metrics_len(),
            len,
            "a cut beyond the end changes nothing"
        );
        // An evaluation `duplab eval` added after the checkpoint survives the cut.
        let eval =
            r#"{"kind":"eval","attack":"pgd","acc":0.5,"loss":1.0,"per_class_acc":[],"images":4}"#;
        // The trainer's overfitting checks after the checkpoint go with its steps: the resumed
        // run makes them again.
        let check = r#"{"kind":"overfit","step":3,"images":256,"pgd_acc":0.1,"fgsm_acc":0.5,"alarm":false}"#;
        let text = [lines[0], lines[2], eval, check, lines[3]].join("\n") + "\n";
        std::fs::write(run.metrics_path(), &text).unwrap();
        run.cut_metrics(at).unwrap();
        assert_eq!(
            std::fs::read_to_string(run.metrics_path()).unwrap(),
            [lines[0], eval].join("\n") + "\n"
        );
    }
}
