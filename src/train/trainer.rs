//! The training loop, written out in full (burn's custom-training-loop style): gather a batch by
//! index on the device, optionally replace part of it by its adversarial version, step the
//! optimiser, report at a bounded rate, evaluate and checkpoint at evaluation points.

use super::batches::Batches;
use super::checkpoint::{self, TrainerState};
use super::eval::{EvalResult, evaluate_clean, evaluate_robust};
use super::step::train_step;
use super::{Control, DeviceData, TrainEvent};
use crate::backend::{DeviceChoice, select};
use crate::data::{self, rng::Rng};
use crate::nn::{InputShape, Net};
use crate::spec::{AttackKind, Length, OptimizerKind, Preset};
use crate::store::{
    EpochRecord, MetricRecord, RobustRecord, Run, RunConfig, RunStatus, RunStore, StepRecord,
    Summary,
};
use anyhow::{Context, Result, anyhow, bail};
use burn::module::Module;
use burn::nn::loss::CrossEntropyLossConfig;
use burn::optim::decay::WeightDecayConfig;
use burn::optim::momentum::MomentumConfig;
use burn::optim::{AdamConfig, ModuleOptimizer, SgdConfig};
use burn::prelude::*;
use std::path::PathBuf;
use std::sync::mpsc::{Receiver, Sender, TryRecvError};
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
    /// Tag of the sweep this run belongs to, and its point label.
    pub sweep: Option<String>,
    pub point: Option<String>,
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

/// Run one job to its end on this thread. Events go to `events`; `control` is polled between
/// steps. Errors are returned (the worker turns them into a `failed` run).
pub fn run_job(
    job: &TrainJob,
    events: &Sender<TrainEvent>,
    control: &Receiver<Control>,
    run_slot: &mut Option<Run>,
) -> Result<()> {
    let send = |e: TrainEvent| {
        let _ = events.send(e);
    };
    let preset = &job.preset;
    let t = &preset.training;
    send(TrainEvent::Phase {
        run_id: None,
        what: format!("loading data set {}", preset.data.set.name()),
    });
    let ds = data::load(preset.data.set, job.data_dir.as_deref())?;
    let classes = ds.num_classes();
    let plan = data::make_plan(&preset.duplication, &ds.train.labels, classes)
        .map_err(|(f, m)| anyhow!("preset {}: field `duplication.{f}` {m}", preset.name))?;
    let (pool, indices) = plan.materialise(&ds.train);
    let selected = select(job.device).map_err(|e| anyhow!(e))?;
    let device = selected.device.clone();
    let inner = device.clone().inner();
    let shape = InputShape::of(&ds);

    let length = t.length().map_err(|(f, m)| anyhow!("training.{f} {m}"))?;
    let steps_per_epoch = indices.len().div_ceil(t.batch_size);
    let total_steps = match length {
        Length::Epochs(e) => e * steps_per_epoch,
        Length::Steps(s) => s,
    };
    let points = eval_points(length, steps_per_epoch, total_steps, t.eval_every);

    // The run folder: new, or the one being resumed.
    let (run, mut state) = match &job.resume {
        Some(id) => {
            let run = job.store.open(id)?;
            let status = run.status();
            if status == RunStatus::Finished {
                bail!("run {} is already finished; nothing to resume", run.id);
            }
            if status == RunStatus::Running {
                bail!("run {} is still being trained by a live process", run.id);
            }
            run.mark_owner()?;
            run.set_status(RunStatus::Running)?;
            let state = checkpoint::load_state(&run)?.unwrap_or_default();
            (run, state)
        }
        None => (job.store.create(&preset.name)?, TrainerState::default()),
    };
    *run_slot = Some(run.clone());
    let rid = run.id.clone();

    device.seed(job.seed);
    let mut model = Net::new(t.model, &shape, &device).map_err(|e| anyhow!(e))?;
    let mut optim = optimizer(preset);
    if state.step > 0 {
        (model, optim) = checkpoint::load(&run, model, optim)?;
        truncate_metrics(&run, state.step)?;
    }
    let config = RunConfig {
        id: rid.clone(),
        preset: preset.clone(),
        seed: job.seed,
        backend: selected.backend.clone(),
        device: selected.adapter.clone(),
        version: env!("CARGO_PKG_VERSION").to_string(),
        created_at: if job.resume.is_some() {
            run.started_at()
        } else {
            crate::store::now()
        },
        data_source: ds.source.clone(),
        train_checksum: data::checksum(&ds.train.images),
        plan_before: plan.before.clone(),
        plan_after: plan.after.clone(),
        plan_chosen: plan.chosen.clone(),
        class_names: ds.class_names.clone(),
        total_steps,
        steps_per_epoch,
        params: model.num_params(),
        sweep: job.sweep.clone(),
        point: job.point.clone(),
    };
    run.write_config(&config)?;
    let mut metrics = run.metrics_writer()?;
    send(TrainEvent::Started {
        run_id: rid.clone(),
        backend: selected.backend.clone(),
        adapter: selected.adapter.clone(),
        total_steps,
        steps_per_epoch,
        start_step: state.step,
        plan_before: plan.before.clone(),
        plan_after: plan.after.clone(),
        class_names: ds.class_names.clone(),
    });

    send(TrainEvent::Phase {
        run_id: Some(rid.clone()),
        what: "uploading data to the device".into(),
    });
    let train = DeviceData::upload(&pool, &inner);
    let test = DeviceData::upload(&ds.test, &inner);
    let ce = CrossEntropyLossConfig::new().init(&device);
    let train_attack = &preset.attack.train;
    let eval_attack = &preset.attack.eval;

    let mut summary = Summary {
        total_steps,
        train_size: indices.len(),
        distinct_images: plan.distinct.iter().sum(),
        ..run.summary()
    };
    let emit_every = (steps_per_epoch / 25).max(1);
    let started = Instant::now();
    let base_elapsed = state.elapsed_s;
    let elapsed = |started: &Instant, paused_s: f64| {
        base_elapsed + started.elapsed().as_secs_f64() - paused_s
    };
    let mut paused_s = 0.0;
    // Replay the batches of completed steps so a resumed run counts what it has seen right.
    let mut batches = Batches::new(&indices, plan.originals, pool.len(), t.batch_size, job.seed);
    for s in 0..state.step {
        batches.draw(s);
    }

    // Window sums stay on the device; they are read only when a record is written.
    let mut win_loss = Tensor::<1>::from_floats([state.window_loss as f32], &inner);
    let mut win_correct = Tensor::<1, Int>::from_ints([state.window_correct as i64], &inner);
    let mut win_count = state.window_count;
    let mut win_start = Instant::now();
    let mut win_steps = 0usize;
    // Before a checkpoint: the device-side sums into the state.
    let sync_window = |state: &mut TrainerState, wl: &Tensor<1>, wc: &Tensor<1, Int>, n: usize| {
        state.window_loss = wl.clone().into_scalar::<f32>() as f64;
        state.window_correct = wc.clone().into_scalar::<i64>() as f64;
        state.window_count = n;
    };

    while state.step < total_steps {
        // Control between steps: never mid-update. A pause blocks here until resume or stop.
        let stop = match control.try_recv() {
            Ok(Control::Stop) | Err(TryRecvError::Disconnected) => true,
            Ok(Control::Pause) => {
                send(TrainEvent::Paused {
                    run_id: rid.clone(),
                });
                let paused_at = Instant::now();
                let stop = loop {
                    match control.recv() {
                        Ok(Control::Resume) => break false,
                        Ok(Control::Pause) => {}
                        Ok(Control::Stop) | Err(_) => break true,
                    }
                };
                // Time spent paused is not training time.
                paused_s += paused_at.elapsed().as_secs_f64();
                if !stop {
                    win_start = Instant::now();
                    win_steps = 0;
                    send(TrainEvent::Resumed {
                        run_id: rid.clone(),
                    });
                }
                stop
            }
            Ok(Control::Resume) | Err(TryRecvError::Empty) => false,
        };
        if stop {
            state.elapsed_s = elapsed(&started, paused_s);
            sync_window(&mut state, &win_loss, &win_correct, win_count);
            checkpoint::save(&run, &model, &optim, &state)?;
            summary.steps_done = state.step;
            summary.duration_s = state.elapsed_s;
            run.write_summary(&summary)?;
            run.set_status(RunStatus::Interrupted)?;
            send(TrainEvent::Stopped {
                run_id: rid.clone(),
                step: state.step,
            });
            return Ok(());
        }

        let batch_idx = batches.draw(state.step);
        // Reseeding each step makes dropout masks and attack starts a function of (seed, step),
        // so a resumed run draws exactly what an uninterrupted one would.
        device.seed(Rng::derive(job.seed, "device", state.step as u64).next_u64());
        let (x, y) = train.gather(&batch_idx);
        let lr = t.lr_at(state.step, total_steps, steps_per_epoch);
        // ε warm-up: the attack grows with progress through the run.
        let attack = train_attack.at_progress(state.step as f64 / total_steps as f64);
        let (m, loss, correct) = train_step(model, &mut optim, &ce, x, y, &attack, lr, &device);
        model = m;
        win_loss = win_loss + loss.mul_scalar(batch_idx.len() as f64);
        win_correct = win_correct + correct;
        win_count += batch_idx.len();
        state.step += 1;
        win_steps += 1;

        let at_eval = points.contains(&state.step);
        if state.step % emit_every == 0 || at_eval {
            // Reading the sums is the only sync with the device between evaluations.
            let loss_sum = win_loss.clone().into_scalar::<f32>() as f64;
            let correct_sum = win_correct.clone().into_scalar::<i64>() as f64;
            let secs = win_start.elapsed().as_secs_f64().max(1e-9);
            let window_images = win_steps * t.batch_size;
            let n = (win_count - state.record_count).max(1) as f64;
            let rec = StepRecord {
                step: state.step,
                epoch: state.step as f64 / steps_per_epoch as f64,
                loss: (loss_sum - state.record_loss) / n,
                acc: (correct_sum - state.record_correct) / n,
                lr,
                images_per_s: window_images as f64 / secs,
                unique_seen: batches.unique_seen,
                dup_seen: batches.dup_seen,
                elapsed_s: elapsed(&started, paused_s),
            };
            // The step record's loss is over the steps since the last record.
            state.record_loss = loss_sum;
            state.record_correct = correct_sum;
            state.record_count = win_count;
            win_start = Instant::now();
            win_steps = 0;
            summary.images_per_s = Some(rec.images_per_s);
            summary.train_loss = Some(rec.loss);
            metrics.append(&MetricRecord::Step(rec.clone()))?;
            send(TrainEvent::Step {
                run_id: rid.clone(),
                record: rec,
            });
        }

        if at_eval {
            // A step record was just written: its baseline is the whole window's sums.
            let train_loss = state.record_loss / win_count.max(1) as f64;
            let train_acc = state.record_correct / win_count.max(1) as f64;
            state.evals_done += 1;
            send(TrainEvent::Phase {
                run_id: Some(rid.clone()),
                what: "evaluating on the test set".into(),
            });
            let clean = evaluate_clean(&model, &test, classes);
            let last = state.step == total_steps;
            let robust_due = eval_attack.attack.kind != AttackKind::None
                && (last || (eval_attack.every > 0 && state.evals_done % eval_attack.every == 0));
            let robust = if robust_due {
                let rid2 = rid.clone();
                let mut progress = |done: usize, n: usize| {
                    let _ = events.send(TrainEvent::Phase {
                        run_id: Some(rid2.clone()),
                        what: format!(
                            "robust evaluation ({}): {done}/{n} images",
                            eval_attack.attack.label()
                        ),
                    });
                };
                let r = evaluate_robust(
                    &model,
                    &test,
                    classes,
                    &eval_attack.attack,
                    eval_attack.limit,
                    &device,
                    &mut progress,
                );
                Some(robust_record(&r, &eval_attack.attack.label()))
            } else {
                None
            };
            let rec = EpochRecord {
                epoch: state.evals_done,
                step: state.step,
                test_loss: clean.loss,
                test_acc: clean.acc,
                per_class_acc: clean.per_class_acc.clone(),
                confusion: clean.confusion.clone(),
                train_loss,
                train_acc,
                robust: robust.clone(),
                elapsed_s: elapsed(&started, paused_s),
            };
            metrics.append(&MetricRecord::Epoch(rec.clone()))?;
            update_summary(&mut summary, &rec, robust.as_ref());
            summary.epochs_done = state.evals_done;
            summary.steps_done = state.step;
            summary.duration_s = rec.elapsed_s;
            send(TrainEvent::Epoch {
                run_id: rid.clone(),
                record: rec,
            });
            // A new evaluation window.
            win_loss = Tensor::<1>::zeros([1], &inner);
            win_correct = Tensor::<1, Int>::zeros([1], &inner);
            win_count = 0;
            state.window_loss = 0.0;
            state.window_correct = 0.0;
            state.window_count = 0;
            state.record_loss = 0.0;
            state.record_correct = 0.0;
            state.record_count = 0;
            state.elapsed_s = elapsed(&started, paused_s);
            checkpoint::save(&run, &model, &optim, &state)?;
            run.write_summary(&summary)?;
            send(TrainEvent::CheckpointSaved {
                run_id: rid.clone(),
                step: state.step,
            });
        }
    }
    checkpoint::export_safetensors(&model, &run.dir.join("model.safetensors"))
        .context("exporting final weights")?;
    summary.finished_at = Some(crate::store::now());
    summary.duration_s = elapsed(&started, paused_s);
    run.write_summary(&summary)?;
    run.set_status(RunStatus::Finished)?;
    send(TrainEvent::Finished {
        run_id: rid,
        summary,
    });
    Ok(())
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

fn update_summary(s: &mut Summary, rec: &EpochRecord, robust: Option<&RobustRecord>) {
    s.test_acc = Some(rec.test_acc);
    s.test_loss = Some(rec.test_loss);
    s.best_test_acc = Some(s.best_test_acc.unwrap_or(0.0).max(rec.test_acc));
    s.per_class_acc = rec.per_class_acc.clone();
    if let Some(r) = robust {
        s.robust_acc = Some(r.acc);
        s.robust_attack = Some(r.attack.clone());
        s.robust_per_class_acc = r.per_class_acc.clone();
    }
}

/// On resume, drop records written after the checkpoint (a crash after it), so the metrics
/// stream reads as one uninterrupted run.
fn truncate_metrics(run: &Run, step: usize) -> Result<()> {
    let keep: Vec<MetricRecord> = run
        .metrics()?
        .into_iter()
        .filter(|r| match r {
            MetricRecord::Step(s) => s.step <= step,
            MetricRecord::Epoch(e) => e.step <= step,
            _ => true,
        })
        .collect();
    let mut text = String::new();
    for r in keep {
        text.push_str(&serde_json::to_string(&r)?);
        text.push('\n');
    }
    crate::store::write_atomic(&run.metrics_path(), text.as_bytes())?;
    Ok(())
}
