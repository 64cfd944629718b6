//! The run store: one folder per run, shared by the TUI, the CLI and concurrent trainers.
//! Plain Rust: no burn, no terminal.
//!
//! `runs/<time>-<preset>-<short id>/` holds `config.json`, `metrics.jsonl` (append-only, flushed a
//! record at a time), `summary.json` (temp file + rename), `status`, `lease` and `checkpoints/`; a run launched
//! from the lab adds `preset.toml` (what its trainer reads), `train.log`, and the `phase` and
//! `control` files through which other processes watch and steer it. `layout` is the one table
//! of those names.
//!
//! One concept a file: `status`, `config`, `lease` (the owner, its heartbeat and liveness), `points` (what a
//! sweep does with a point), `control`, `metrics`, `summary`, `run` (the folders and their readers).

mod config;
mod control;
mod error;
mod id;
pub mod layout;
mod lease;
mod metrics;
mod phase;
mod points;
mod reference;
mod run;
mod status;
mod summary;
/// Synthetic runs for tests and the developers' benchmarks only (feature `dev`).
#[cfg(any(test, feature = "dev"))]
pub mod synthetic;

pub use config::{DataChecksums, DedupStat, RunConfig};
pub use control::{ControlCommand, ControlReader};
pub use error::StoreError;
pub use id::{new_run_id, validate_run_id};
pub use lease::{Heartbeat, Lease, Liveness, heartbeat_interval, lease_expiry, slurm_job};
pub use metrics::{
    EpochRecord, GroupMetrics, GroupStat, LeakageStat, Membership, MetricRecord, MetricsTail,
    MetricsWriter, OverfitHistory, OverfitRecord, OverfitStat, RobustRecord, StepRecord, TailRead,
    read_metrics,
};
pub use phase::Phase;
pub use points::{PointPlan, PointTake};
pub use reference::{REFERENCE_FORMAT, ReferenceScores};
pub use run::{Launch, Run, RunStore, now};
pub use status::RunStatus;
pub use summary::{CardStat, Summary, TimeSplit, Transfers};
