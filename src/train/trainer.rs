//! The training job: what a trainer needs (`TrainJob`), the optimiser and evaluation points a
//! preset implies, and `run_job`, which strings the session's named steps (session.rs) together.

use super::eval::EvalResult;
use super::session::{Flow, Session};
use super::setup::JobError;
use super::{Control, TrainEvent};
use crate::backend::DeviceChoice;
use crate::spec::{Length, OptimizerKind, Preset};
use crate::store::{EpochRecord, RobustRecord, Run, RunStore, Summary};
use anyhow::Result;
use burn::optim::decay::WeightDecayConfig;
use burn::optim::momentum::MomentumConfig;
use burn::optim::{AdamConfig, ModuleOptimizer, SgdConfig};
use std::path::PathBuf;
use std::sync::mpsc::{Receiver, Sender};
use std::time::Instant;

/// Everything a trainer needs to start (or resume) one run.
#[derive(Debug, Clone)]
pub struct TrainJob {
    pub preset: Preset,
    pub seed: u64,
    pub device: DeviceChoice,
    pub data_dir: Option<PathBuf>,
    pub store: RunStore,
    /// Continue this run from its last checkpoint instead of starting a new one.
    pub resume: Option<String>,
    /// Start in this run folder, which a launcher (the lab) created and wrote `preset.toml` into,
    /// instead of creating one.
    pub prepared: Option<String>,
    /// Tag of the sweep this run belongs to, and its point label.
    pub sweep: Option<String>,
    pub point: Option<String>,
}

impl TrainJob {
    /// A new run of `preset` with `seed` on `device` into `store`: no data folder, no resume, not
    /// part of a sweep (set those fields where they apply).
    pub fn new(preset: Preset, seed: u64, device: DeviceChoice, store: RunStore) -> TrainJob {
        TrainJob {
            preset,
            seed,
            device,
            data_dir: None,
            store,
            resume: None,
            prepared: None,
            sweep: None,
            point: None,
        }
    }
}

pub fn optimizer(preset: &Preset) -> ModuleOptimizer {
    let t = &preset.training;
    let wd = (t.weight_decay > 0.0).then(|| WeightDecayConfig::new(t.weight_decay as f32));
    match t.optimizer {
        OptimizerKind::Sgd => SgdConfig::new()
            .with_weight_decay(wd)
            .with_momentum((t.momentum > 0.0).then_some(MomentumConfig {
                momentum: t.momentum,
                dampening: 0.0,
                nesterov: false,
            }))
            .init(),
        OptimizerKind::Adam => AdamConfig::new().with_weight_decay(wd).init(),
    }
}

/// Steps at which the test set is evaluated (1-based step counts), for a run of `total` steps.
pub fn eval_points(
    length: Length,
    steps_per_epoch: usize,
    total: usize,
    eval_every: usize,
) -> Vec<usize> {
    let every = match length {
        Length::Epochs(_) => steps_per_epoch,
        Length::Steps(_) if eval_every > 0 => eval_every,
        Length::Steps(s) => s.div_ceil(5),
    };
    let mut v: Vec<usize> = (1..)
        .map(|k| k * every)
        .take_while(|&s| s < total)
        .collect();
    v.push(total);
    v
}

/// Run one job to its end on this thread and return its run folder. Events go to `events`;
/// `control` is polled between steps. A failure carries the run folder it had by then (the
/// worker marks it `failed`). The job is a session of named steps: start (set up or resume),
/// then per step control → train → metric window, and at evaluation points evaluate →
/// checkpoint, then finish.
pub fn run_job(
    job: &TrainJob,
    events: &Sender<TrainEvent>,
    control: &Receiver<Control>,
) -> Result<Run, JobError> {
    let explain = |mut e: JobError| {
        // The adapter the run's config names, where it got that far; else what was asked for.
        let device = e
            .run
            .as_ref()
            .and_then(|r| r.config().ok().flatten())
            .map_or_else(|| job.device.to_string(), |c| c.device);
        if let Some(hint) = out_of_memory_hint(&format!("{:#}", e.error), job, &device) {
            e.error = e.error.context(hint);
        }
        e
    };
    let mut s = Session::start(job, events, control).map_err(explain)?;
    let run = s.run().clone();
    JobError::guard(Some(&run), move || match train(&mut s)? {
        End::Stopped => s.stop(),
        End::Finished => s.finish(),
    })
    .map_err(explain)?;
    Ok(run)
}

/// A device out of memory is said with what a user can change: the device, the model, the batch
/// size, and a smaller one to try. `None` for any other failure.
pub fn out_of_memory_hint(message: &str, job: &TrainJob, device: &str) -> Option<String> {
    let m = message.to_ascii_lowercase();
    if !(m.contains("out of memory") || m.contains("outofmemory") || m.contains("out_of_memory")) {
        return None;
    }
    let t = &job.preset.training;
    Some(format!(
        "out of memory on device {} training {} at batch size {}: try --set training.batch_size={} (or --device another adapter; `duplab doctor` lists them)",
        device,
        t.model.name(),
        t.batch_size,
        (t.batch_size / 2).max(1)
    ))
}

/// The run was taken from this trainer (deleted, released, taken over): nothing may be written
/// to it any more, not even the failure.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct RunLost(pub String);

/// How the loop ended.
enum End {
    Stopped,
    Finished,
}

/// The training loop, to its last step, a stop, or an early end.
fn train(s: &mut Session) -> Result<End> {
    s.training_phase();
    while s.state.step < s.schedule.total_steps {
        match s.control() {
            Flow::Go => {}
            Flow::Stop => return Ok(End::Stopped),
            Flow::Lost(why) => {
                return Err(RunLost(format!(
                    "run {} is no longer this trainer's: {why}; it stops without writing to it",
                    s.run().id
                ))
                .into());
            }
        }
        let t0 = Instant::now();
        s.train_step();
        let mut at_eval = s.schedule.points.contains(&s.state.step);
        let recorded = s.state.step % s.schedule.emit_every == 0 || at_eval;
        if recorded {
            // (Its read-back is where queued device work finishes: counted as steps.)
            s.record_window()?;
        }
        s.split().steps_s += t0.elapsed().as_secs_f64();
        s.check_overfit()?;
        // An alarm under `training.stop_on_overfit` ends the run here: evaluated and
        // checkpointed like an evaluation point.
        if s.stop_early.is_some() {
            at_eval = true;
            if !recorded {
                s.record_window()?;
            }
        }
        if at_eval {
            s.evaluate()?;
            s.checkpoint()?;
            if s.stop_early.is_some() {
                // `training.stop_on_overfit`: the weights at the alarm are the final ones.
                return Ok(End::Finished);
            }
            s.training_phase();
        }
    }
    Ok(End::Finished)
}

pub fn robust_record(r: &EvalResult, label: &str) -> RobustRecord {
    RobustRecord {
        attack: label.to_string(),
        acc: r.acc,
        loss: r.loss,
        per_class_acc: r.per_class_acc.clone(),
        images: r.images,
    }
}

pub(super) fn update_summary(s: &mut Summary, rec: &EpochRecord, robust: Option<&RobustRecord>) {
    s.test_acc = Some(rec.test_acc);
    s.test_loss = Some(rec.test_loss);
    s.best_test_acc = Some(s.best_test_acc.unwrap_or(0.0).max(rec.test_acc));
    s.per_class_acc = rec.per_class_acc.clone();
    if let Some(r) = robust {
        s.robust_acc = Some(r.acc);
        s.robust_attack = Some(r.attack.clone());
        s.robust_per_class_acc = r.per_class_acc.clone();
    }
    if let Some(g) = &rec.groups {
        s.groups = Some(g.clone());
    }
    if rec.leakage.is_some() {
        s.leakage = rec.leakage;
    }
}
