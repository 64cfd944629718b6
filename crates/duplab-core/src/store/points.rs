//! Sweep points in the store: finding a point's run and deciding what a sweep does with it.

use super::error::StoreError;
use super::run::{Run, RunStore};
use super::status::RunStatus;

/// What a sweep does with a point (see `RunStore::plan_point`).
#[derive(Debug, Clone, PartialEq)]
pub enum PointPlan {
    Skip(String),
    Resume(String),
    Start,
}

impl RunStore {
    /// The newest run of a sweep point and seed, if any (sweeps use it to skip or resume).
    pub fn find_point(
        &self,
        sweep: &str,
        point: &str,
        seed: u64,
    ) -> Result<Option<Run>, StoreError> {
        Ok(self.runs()?.into_iter().rev().find(|r| {
            r.config().ok().flatten().is_some_and(|c| {
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
                RunStatus::Interrupted if run.checkpoint_state_path().exists() => {
                    PointPlan::Resume(run.id)
                }
                _ => PointPlan::Start,
            },
            _ => PointPlan::Start,
        }
    }
}
