//! Sweep points in the store: finding a point's run, deciding what a sweep does with it, and
//! claiming it. A point is claimed before any data is loaded, by an atomic rename (atomic on NFS
//! too, unlike the locks network file systems emulate) of a folder holding the run id to
//! `.claims/<hash of sweep, point, seed>/<n>` in the store, so two sweeps (or a task resubmitted
//! while the first still runs) never train one point twice, and finding a point is one lookup.
//! Resuming a claimed point is guarded by the run's lease (`store::lease`), not by the claim.

use super::error::{StoreError, io};
use super::run::{Run, RunStore};
use super::status::RunStatus;
use crate::spec::Preset;
use std::path::PathBuf;

/// The claims folder of a store.
const CLAIMS: &str = ".claims";
/// The file in a claim that names its run.
const CLAIM_RUN: &str = "run";

/// What `take_point` gives a sweep: skip the point, resume its run, or train it in `Run` (a new
/// run folder this process claimed the point for).
#[derive(Debug)]
pub enum PointTake {
    Skip(String),
    Resume(String),
    Start(Run),
}

/// What a sweep does with a point (see `RunStore::plan_point`).
#[derive(Debug, Clone, PartialEq)]
pub enum PointPlan {
    Skip(String),
    Resume(String),
    Start,
}

impl RunStore {
    /// The folder of a point's claims: `.claims/<hash>/`, holding one folder per claim, `<n>/`.
    fn claim_dir(&self, sweep: &str, point: &str, seed: u64) -> PathBuf {
        use sha2::{Digest, Sha256};
        let h = Sha256::digest(format!("{sweep}\0{point}\0{seed}").as_bytes());
        let hex: String = h.iter().take(16).map(|b| format!("{b:02x}")).collect();
        self.root.join(CLAIMS).join(hex)
    }

    /// The newest claim of a point: its number and the run it names (`None`: never claimed).
    fn latest_claim(&self, sweep: &str, point: &str, seed: u64) -> Option<(u64, String)> {
        let dir = self.claim_dir(sweep, point, seed);
        let n = std::fs::read_dir(&dir)
            .ok()?
            .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u64>().ok())
            .max()?;
        let text =
            crate::atomic::read_small(&dir.join(n.to_string()).join(CLAIM_RUN), 4096).ok()?;
        Some((n, String::from_utf8_lossy(&text).trim().to_string()))
    }

    /// The run a point's newest claim names.
    pub fn claimed_run(&self, sweep: &str, point: &str, seed: u64) -> Option<String> {
        self.latest_claim(sweep, point, seed)
            .map(|(_, id)| id)
            .filter(|id| !id.is_empty())
    }

    /// Claim a point for `run_id`: `Ok(None)` when this process took it, `Ok(Some(holder))`
    /// when another did (`holder` is its run id). A claim is a folder holding the run id, written
    /// under a temporary name and renamed to its number: a rename onto a claim that exists fails
    /// (it is never empty), so of two claimers one wins, and no claim is ever half written. A
    /// claim whose run failed, was deleted, or was interrupted before any checkpoint is stale:
    /// the point is claimed again under the next number, which again only one process wins.
    pub fn claim_point(
        &self,
        sweep: &str,
        point: &str,
        seed: u64,
        run_id: &str,
    ) -> Result<Option<String>, StoreError> {
        let dir = self.claim_dir(sweep, point, seed);
        std::fs::create_dir_all(&dir).map_err(io(&dir))?;
        let next = match self.latest_claim(sweep, point, seed) {
            None => 0,
            Some((n, holder)) => {
                // Stale: its run is gone, failed, or was interrupted with nothing to resume
                // from (see `Run::resumable`) and no owner left.
                let stale = self.open(&holder).map_or(true, |r| match r.status() {
                    RunStatus::Failed => true,
                    RunStatus::Interrupted => !r.resumable(),
                    _ => false,
                });
                if !stale {
                    return Ok(Some(holder));
                }
                n + 1
            }
        };
        let tmp = crate::atomic::temp_path(&dir.join("claim"));
        std::fs::create_dir(&tmp).map_err(io(&tmp))?;
        crate::atomic::write_atomic(
            &tmp.join(CLAIM_RUN),
            format!("{run_id}\n").as_bytes(),
            crate::atomic::Durability::Sync,
        )?;
        let target = dir.join(next.to_string());
        match std::fs::rename(&tmp, &target) {
            Ok(()) => Ok(None),
            Err(_) if target.exists() => {
                let _ = std::fs::remove_dir_all(&tmp);
                Ok(Some(
                    self.claimed_run(sweep, point, seed).unwrap_or_default(),
                ))
            }
            Err(e) => {
                let _ = std::fs::remove_dir_all(&tmp);
                Err(StoreError::Io(target, e))
            }
        }
    }

    /// What to do with a point, and for a new one, its claimed run folder (created here, before
    /// any data is loaded, holding the point's preset and seed so that a trainer killed before
    /// it wrote the config still resumes it): the one call a sweep makes per point.
    pub fn take_point(
        &self,
        sweep: &str,
        point: &str,
        seed: u64,
        preset: &Preset,
    ) -> Result<PointTake, StoreError> {
        match self.plan_point(sweep, point, seed) {
            PointPlan::Skip(id) => Ok(PointTake::Skip(id)),
            PointPlan::Resume(id) => Ok(PointTake::Resume(id)),
            PointPlan::Start => {
                let run = self.create_staged(&preset.name, |r| {
                    r.write_preset(preset)?;
                    r.write_launch(&super::Launch {
                        seed,
                        sweep: Some(sweep.into()),
                        point: Some(point.into()),
                    })
                })?;
                match self.claim_point(sweep, point, seed, &run.id)? {
                    None => Ok(PointTake::Start(run)),
                    Some(holder) => {
                        // Another sweep took it between the plan and the claim.
                        let _ = std::fs::remove_dir_all(&run.dir);
                        Ok(PointTake::Skip(if holder.is_empty() {
                            "a run being claimed".into()
                        } else {
                            holder
                        }))
                    }
                }
            }
        }
    }

    /// The newest run of a sweep point and seed, if any (sweeps use it to skip or resume): the
    /// run its claim names, else a run of a version before claims, found by its config. Runs of
    /// this version (they have a `lease`) always claim their points, so only the older ones'
    /// configs are read: in a store of this version's runs, finding a point is one lookup.
    pub fn find_point(
        &self,
        sweep: &str,
        point: &str,
        seed: u64,
    ) -> Result<Option<Run>, StoreError> {
        if let Some(id) = self.claimed_run(sweep, point, seed)
            && let Ok(run) = self.open(&id)
        {
            return Ok(Some(run));
        }
        Ok(self.runs()?.into_iter().rev().find(|r| {
            !r.dir.join(super::layout::LEASE).exists()
                && r.config().ok().flatten().is_some_and(|c| {
                    c.sweep.as_deref() == Some(sweep)
                        && c.point.as_deref() == Some(point)
                        && c.seed == seed
                })
        }))
    }

    /// What a sweep does with one of its points, given what the store holds: skip it (done, or
    /// trained right now by another process), resume it (from its checkpoint, or from step 0 in
    /// its own folder), or start it.
    pub fn plan_point(&self, sweep: &str, label: &str, seed: u64) -> PointPlan {
        match self.find_point(sweep, label, seed) {
            Ok(Some(run)) => match run.status() {
                RunStatus::Finished | RunStatus::Running | RunStatus::Paused => {
                    PointPlan::Skip(run.id)
                }
                RunStatus::Interrupted if run.resumable() => PointPlan::Resume(run.id),
                _ => PointPlan::Start,
            },
            _ => PointPlan::Start,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn default() -> Preset {
        crate::spec::find_preset("default", &[]).unwrap()
    }

    /// Eight processes' worth of threads take one point at once: exactly one trains it.
    #[test]
    fn a_point_is_taken_by_one_taker_only() {
        for round in 0..20 {
            let dir = tempfile::tempdir().unwrap();
            let store = RunStore::new(dir.path());
            let takes: Vec<PointTake> = std::thread::scope(|s| {
                let hs: Vec<_> = (0..8)
                    .map(|_| {
                        s.spawn(|| store.take_point("grid", "rate=0.1", 3, &default()).unwrap())
                    })
                    .collect();
                hs.into_iter().map(|h| h.join().unwrap()).collect()
            });
            let started: Vec<&Run> = takes
                .iter()
                .filter_map(|t| match t {
                    PointTake::Start(r) => Some(r),
                    _ => None,
                })
                .collect();
            assert_eq!(started.len(), 1, "round {round}: {takes:?}");
            assert_eq!(store.runs().unwrap().len(), 1, "the losers left no folder");
            assert_eq!(
                store.claimed_run("grid", "rate=0.1", 3).as_deref(),
                Some(started[0].id.as_str())
            );
        }
    }

    /// Eight takers that all find one claim stale (its run failed) retake it once: the old
    /// rename-away-then-mkdir let two of them win.
    #[test]
    fn a_stale_claim_is_retaken_by_one_taker_only() {
        for round in 0..20 {
            let dir = tempfile::tempdir().unwrap();
            let store = RunStore::new(dir.path());
            let PointTake::Start(first) = store.take_point("g", "p", 0, &default()).unwrap() else {
                panic!("a new point starts");
            };
            first.set_status(RunStatus::Failed).unwrap();
            let takes: Vec<PointTake> = std::thread::scope(|s| {
                let hs: Vec<_> = (0..8)
                    .map(|_| s.spawn(|| store.take_point("g", "p", 0, &default()).unwrap()))
                    .collect();
                hs.into_iter().map(|h| h.join().unwrap()).collect()
            });
            let started = takes
                .iter()
                .filter(|t| matches!(t, PointTake::Start(_)))
                .count();
            assert_eq!(started, 1, "round {round}: {takes:?}");
            assert_eq!(
                store.runs().unwrap().len(),
                2,
                "the failed run and one new one"
            );
        }
    }

    #[test]
    fn a_claim_whose_run_failed_is_taken_again() {
        let dir = tempfile::tempdir().unwrap();
        let store = RunStore::new(dir.path());
        let PointTake::Start(first) = store.take_point("g", "p", 0, &default()).unwrap() else {
            panic!("a new point starts");
        };
        first.set_status(RunStatus::Failed).unwrap();
        let PointTake::Start(second) = store.take_point("g", "p", 0, &default()).unwrap() else {
            panic!("a failed point starts again");
        };
        assert_ne!(first.id, second.id);
        assert_eq!(store.claimed_run("g", "p", 0), Some(second.id.clone()));
        // Live (this process owns it): a second taker skips it.
        assert!(
            matches!(store.take_point("g", "p", 0, &default()).unwrap(), PointTake::Skip(id) if id == second.id)
        );
    }

    /// A point whose trainer was killed before it wrote the config (its folder holds only what
    /// the sweep prepared: preset and seed) is resumed in its own folder, not started again in a
    /// new one beside it; without the launch record it starts again.
    #[test]
    fn a_point_killed_before_its_config_is_resumed_in_its_folder() {
        let dir = tempfile::tempdir().unwrap();
        let store = RunStore::new(dir.path());
        let PointTake::Start(first) = store.take_point("g", "p", 4, &default()).unwrap() else {
            panic!("a new point starts");
        };
        let l = first.launch().unwrap();
        assert_eq!(
            (l.seed, l.sweep.as_deref(), l.point.as_deref()),
            (4, Some("g"), Some("p"))
        );
        assert!(first.preset_path().exists());
        first.set_status(RunStatus::Interrupted).unwrap();
        assert!(
            matches!(store.take_point("g", "p", 4, &default()).unwrap(), PointTake::Resume(id) if id == first.id)
        );
        std::fs::remove_file(first.preset_path()).unwrap();
        let PointTake::Start(second) = store.take_point("g", "p", 4, &default()).unwrap() else {
            panic!("nothing to resume: it starts again");
        };
        assert_ne!(second.id, first.id);
    }
}
