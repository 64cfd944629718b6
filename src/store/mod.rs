//! The run store: one folder per run, shared by the TUI, the CLI and concurrent trainers.
//! Plain Rust: no burn, no terminal.
//!
//! `runs/<time>-<preset>-<short id>/` holds `config.json`, `metrics.jsonl` (append-only, flushed a
//! record at a time), `summary.json` (temp file + rename), `status`, `pid` and `checkpoints/`; a run launched
//! from the lab adds `preset.toml` (what its trainer reads), `train.log`, and the `phase` and
//! `control` files through which other processes watch and steer it.

mod control;
mod id;
mod metrics;
mod run;
mod summary;
pub mod synthetic;

pub use control::{ControlCommand, ControlReader};
pub use id::{new_run_id, validate_run_id};
pub use metrics::{
    EpochRecord, GroupMetrics, GroupStat, LeakageStat, MembershipStat, MetricRecord, MetricsTail,
    MetricsWriter, OverfitStat, RobustRecord, StepRecord, TailRead, read_metrics,
};
pub use run::{
    DedupStat, PointPlan, Run, RunConfig, RunStatus, RunStore, StoreError, now, write_atomic,
};
pub use summary::{CardStat, Summary, TimeSplit};
