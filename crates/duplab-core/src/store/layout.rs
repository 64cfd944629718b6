//! The run folder's files, in one table: each name, who writes it and how. Code names a file
//! through these constants only, so a reader and its writer cannot drift apart, and the table is
//! the one place that says what a run folder holds.

/// `config.json`: the resolved preset, seed, plan, backend and device (the trainer, once data
/// and plan are known; fsynced).
pub const CONFIG: &str = "config.json";
/// `summary.json`: the latest results, replaced whole (trainer, `duplab eval`, cards; fsynced).
pub const SUMMARY: &str = "summary.json";
/// `evals/<attack>.json`: one robust evaluation added after training (`duplab eval`), written by
/// its evaluator alone; readers merge them into the summary's `evaluations`.
pub const EVALS: &str = "evals";
/// `card.json`: the evaluation card (`duplab eval --card`), written by the card alone; readers
/// merge it into the summary's `card`.
pub const CARD: &str = "card.json";
/// `metrics.jsonl`: one JSON record a line, appended and flushed as training goes.
pub const METRICS: &str = "metrics.jsonl";
/// `status`: one word (running, paused, finished, failed, interrupted).
pub const STATUS: &str = "status";
/// `lease`: the owner (host, pid, start time, boot, Slurm job), its epoch and heartbeat counter,
/// JSON on one line, replaced by the trainer every few seconds (see `store::lease`).
pub const LEASE: &str = "lease";
/// `owners/<epoch>`: one folder per change of owner, created with `mkdir` by whoever takes the
/// run, so two takers cannot both win one epoch.
pub const OWNERS: &str = "owners";
/// `pid`: the owner as versions before leases wrote it, `PID HOST`; read, never written.
pub const OWNER: &str = "pid";
/// `phase`: what the trainer does outside training steps, for watchers.
pub const PHASE: &str = "phase";
/// `control`: a command and a nonce from whoever steers the run.
pub const CONTROL: &str = "control";
/// `preset.toml`: the resolved preset a launcher wrote for its trainer.
pub const PRESET: &str = "preset.toml";
/// `launch.json`: what a launcher (the lab, a sweep) chose for the trainer of a folder it
/// prepared — the seed, and a sweep's name and point — so that a run killed before its config
/// was written still resumes as it was launched.
pub const LAUNCH: &str = "launch.json";
/// `train.log`: what a detached trainer printed.
pub const LOG: &str = "train.log";
/// `task-JOB.log`: a Slurm task's log, linked from the store's `.slurm/` by the task's trainer.
pub const TASK_LOG_PREFIX: &str = "task-";
/// `checkpoints/`: model, optimiser and the trainer's position.
pub const CHECKPOINTS: &str = "checkpoints";
/// `checkpoints/state.json`: where the trainer stands; written last, so it names a step only once
/// that step's tensors are in place.
pub const CHECKPOINT_STATE: &str = "state.json";
/// `checkpoints/model.bpk` and `checkpoints/optim.bpk`: burn's record files in checkpoints of
/// earlier versions; now `model-STEP.bpk` and `optim-STEP.bpk`, named by `state.json`.
pub const CHECKPOINT_MODEL: &str = "model.bpk";
pub const CHECKPOINT_OPTIM: &str = "optim.bpk";
/// `reference.json`: a reference model's membership mask, occurrences and per-image logit
/// margins (written once, at the end, by the trainer of a preset with `[reference]`).
pub const REFERENCE: &str = "reference.json";
/// `model.safetensors`: the final weights in PyTorch's layout (a finished run).
pub const WEIGHTS: &str = "model.safetensors";
