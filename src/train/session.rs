//! One training run as a session of named steps (burn's custom-training-loop style, written out):
//! `start` (the setup: data, plan, device, run folder new or resumed, model and optimiser), then
//! per step `control` (pause/resume/stop between steps) → `train_step` → `record_window` (the
//! step metrics, at a bounded rate), at evaluation points `evaluate` → `checkpoint`, and
//! `finish` or `stop`. `run_job` (trainer.rs) strings them together.
//!
//! The session holds what the steps share; each part with a job of its own lives beside it:
//! `setup` (everything before the first step), `evaluator` (evaluation points), `reporter`
//! (events, phases, metric records, the summary), `control_source` (the lab's channel and the
//! run folder's control file, merged).

use super::batches::Batches;
use super::checkpoint::{self, TrainerState};
use super::control_source::{CONTROL_POLL, ControlSource};
use super::evaluator::{Evaluator, Point};
use super::overfit::OverfitCheck;
use super::reporter::Reporter;
use super::setup::{JobError, Schedule, Setup};
use super::step::train_step;
use super::trainer::TrainJob;
use super::transfer;
use super::{Control, DeviceData, TrainEvent};
use crate::data::rng::Rng;
use crate::nn::{InputShape, Net};
use crate::store::{Phase, RunStatus, StepRecord, TimeSplit};
use anyhow::{Context, Result};
use burn::nn::loss::{CrossEntropyLoss, CrossEntropyLossConfig};
use burn::optim::ModuleOptimizer;
use burn::prelude::*;
use std::sync::mpsc::{Receiver, Sender};
use std::time::{Duration, Instant};

/// What `control` decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Flow {
    Go,
    Stop,
    /// The run is no longer this trainer's (its folder deleted, its lease released by hand or
    /// taken by another process): end without writing anything.
    Lost(String),
}

/// The training-metric window: loss and correct counts summed on the device since the last
/// evaluation, read only when a step record is written (the only sync between evaluations).
struct Window {
    loss: Tensor<1>,
    correct: Tensor<1, Int>,
    count: usize,
    /// Wall time and steps since the last step record, for images/s.
    start: Instant,
    steps: usize,
}

impl Window {
    fn new(state: &TrainerState, inner: &Device) -> Window {
        Window {
            loss: transfer::upload_f32(vec![state.window_loss as f32], [1], inner),
            correct: transfer::upload_i64(vec![state.window_correct as i64], [1], inner),
            count: state.window_count,
            start: Instant::now(),
            steps: 0,
        }
    }

    /// The device-side sums into the state, before a checkpoint.
    fn sync(&self, state: &mut TrainerState) {
        state.window_loss = transfer::scalar_f32(self.loss.clone()) as f64;
        state.window_correct = transfer::scalar_i64(self.correct.clone()) as f64;
        state.window_count = self.count;
    }
}

/// Training time: this session's, less time paused, plus earlier sessions' (a resumed run).
struct Clock {
    started: Instant,
    base_s: f64,
    paused_s: f64,
}

impl Clock {
    fn elapsed(&self) -> f64 {
        self.base_s + self.started.elapsed().as_secs_f64() - self.paused_s
    }
}

pub struct Session<'a> {
    job: &'a TrainJob,
    pub state: TrainerState,
    pub schedule: Schedule,
    /// The model, taken out for each optimiser step (which consumes it) and put back.
    model: Option<Net>,
    optim: ModuleOptimizer,
    device: Device,
    /// The training pool the batches index (the evaluator's groups index it too).
    train: DeviceData,
    ce: CrossEntropyLoss,
    batches: Batches,
    window: Window,
    /// Learning rate of the last step (for its record).
    lr: f64,
    clock: Clock,
    evaluator: Evaluator,
    /// The catastrophic-overfitting check (FGSM / FGSM-RS training only).
    overfit: Option<OverfitCheck>,
    report: Reporter<'a>,
    control: ControlSource<'a>,
    /// Why to end early (the overfitting alarm under `training.stop_on_overfit`), if so.
    pub stop_early: Option<String>,
    /// The model's input (shape and normalisation) and the class names, for the final weights.
    input: InputShape,
    class_names: Vec<String>,
    /// A reference model's membership record, completed with the margins at the end.
    reference: Option<super::setup::Reference>,
    /// SHA-256 of the pool images (the reference record names the pool it scored).
    pool_checksum: String,
    /// The weighted controls' loss weight of every pool image, on the device (uploaded once).
    weights: Option<Tensor<1>>,
}

impl<'a> Session<'a> {
    /// Set the job up and open its session.
    pub fn start(
        job: &'a TrainJob,
        events: &'a Sender<TrainEvent>,
        control: &'a Receiver<Control>,
    ) -> Result<Session<'a>, JobError> {
        let s: Setup = super::setup::prepare(job, events)?;
        let run = s.run.clone();
        // An error or a panic from here on is still this run's.
        JobError::guard(Some(&run), move || {
            Session::assemble(job, events, control, s)
        })
    }

    fn assemble(
        job: &'a TrainJob,
        events: &'a Sender<TrainEvent>,
        control: &'a Receiver<Control>,
        s: Setup,
    ) -> Result<Session<'a>> {
        let report = Reporter::new(events, s.run, s.summary)?;
        let inner = s.device.clone().inner();
        let overfit = OverfitCheck::of(&job.preset, s.schedule.schedule_epoch, s.classes);
        Ok(Session {
            job,
            clock: Clock {
                started: Instant::now(),
                base_s: s.state.elapsed_s,
                paused_s: 0.0,
            },
            window: Window::new(&s.state, &inner),
            state: s.state,
            schedule: s.schedule,
            model: Some(s.model),
            optim: s.optim,
            ce: CrossEntropyLossConfig::new().init(&s.device),
            device: s.device,
            train: s.train,
            batches: s.batches,
            lr: 0.0,
            overfit,
            evaluator: Evaluator::new(
                s.test,
                s.classes,
                s.groups,
                s.leaky,
                job.preset.data.leak_threshold,
            ),
            report,
            control: ControlSource::new(control, s.heartbeat),
            stop_early: None,
            input: s.input,
            class_names: s.class_names,
            reference: s.reference,
            pool_checksum: s.pool_checksum,
            weights: s.weights.map(|w| {
                let n = w.len();
                transfer::upload_f32(w, [n], &inner)
            }),
        })
    }

    /// This session's run folder, for a failure's record.
    pub fn run(&self) -> &crate::store::Run {
        &self.report.run
    }

    pub fn split(&mut self) -> &mut TimeSplit {
        self.report.split()
    }

    fn model(&self) -> &Net {
        self.model
            .as_ref()
            .expect("the model is back after every step")
    }

    pub fn training_phase(&self) {
        self.report.training_phase();
    }

    /// Controls between steps, never mid-update. A pause blocks here until resume or stop;
    /// the run's status says `paused` meanwhile, so watchers in other processes see it.
    pub fn control(&mut self) -> Flow {
        let flow = self.controls();
        match &self.control.lost {
            Some(why) => Flow::Lost(why.clone()),
            None => flow,
        }
    }

    fn controls(&mut self) -> Flow {
        match self.control.next(&self.report.run, Duration::ZERO) {
            Some(Control::Stop) => Flow::Stop,
            Some(Control::Pause) => {
                let _ = self.report.run.set_status(RunStatus::Paused);
                self.report.send(TrainEvent::Paused {
                    run_id: self.report.run_id(),
                });
                let paused_at = Instant::now();
                let flow = loop {
                    match self.control.next(&self.report.run, CONTROL_POLL) {
                        Some(Control::Resume) => break Flow::Go,
                        Some(Control::Stop) => break Flow::Stop,
                        Some(Control::Pause) | None => {}
                    }
                };
                // Time spent paused is not training time.
                self.clock.paused_s += paused_at.elapsed().as_secs_f64();
                if flow == Flow::Go {
                    let _ = self.report.run.set_status(RunStatus::Running);
                    self.window.start = Instant::now();
                    self.window.steps = 0;
                    self.report.send(TrainEvent::Resumed {
                        run_id: self.report.run_id(),
                    });
                }
                flow
            }
            Some(Control::Resume) | None => Flow::Go,
        }
    }

    /// One optimiser step on the next batch (part of it adversarial when the preset says so).
    pub fn train_step(&mut self) {
        let before = transfer::counts();
        self.step_only();
        let d = transfer::counts() - before;
        let t = self.report.transfers();
        t.steps += 1;
        t.uploads += d.uploads;
        t.readbacks += d.readbacks;
    }

    fn step_only(&mut self) {
        let t = &self.job.preset.training;
        let step = self.state.step;
        let batch_idx = self.batches.draw(step);
        // Reseeding each step makes dropout masks and attack starts a function of (seed, step),
        // so a resumed run draws exactly what an uninterrupted one would.
        self.device
            .seed(Rng::derive(self.job.seed, "device", step as u64).next_u64());
        // The step's one upload: the batch's indices, then the augmentation's gather offsets
        // (drawn from (seed, "augment", step), like the batch itself).
        let b = batch_idx.len();
        let mut host: Vec<i64> = batch_idx.iter().map(|&i| i as i64).collect();
        let augment = t.augment.filter(|a| a.is_active());
        let [_, _, h, w] = self.train.images.dims();
        if let Some(a) = augment {
            let d = super::augment::draws(&a, self.job.seed, step, b);
            let (rows, cols) = super::augment::offsets(&d, b, h, w, a.crop);
            host.extend(rows);
            host.extend(cols);
        }
        let n = host.len();
        let all = transfer::upload_i64(host, [n], &self.train.images.device());
        let ix = all.clone().slice(s![0..b]);
        let (x, y) = self.train.gather_on(ix.clone());
        let x = match augment {
            Some(a) => super::augment::apply_on(
                x,
                all.clone().slice(s![b..b + b * h]),
                all.slice(s![b + b * h..n]),
                a.crop,
            ),
            None => x,
        };
        // The weighted controls: every pool image's weight is on the device, picked by index.
        let weights = self.weights.as_ref().map(|w| w.clone().select(0, ix));
        let total = self.schedule.total_steps;
        self.lr = t.lr_at(step, total, self.schedule.schedule_epoch);
        // ε warm-up: the attack grows with progress through the run.
        let attack = self
            .job
            .preset
            .attack
            .train
            .at_progress(step as f64 / total as f64);
        let model = self
            .model
            .take()
            .expect("the model is back after every step");
        let (m, loss, correct) = train_step(
            model,
            &mut self.optim,
            &self.ce,
            x,
            y,
            &attack,
            self.lr,
            &self.device,
            weights,
        );
        self.model = Some(m);
        let w = &mut self.window;
        w.loss = w.loss.clone() + loss.mul_scalar(batch_idx.len() as f64);
        w.correct = w.correct.clone() + correct;
        w.count += batch_idx.len();
        w.steps += 1;
        self.state.step += 1;
    }

    /// A step record: loss and accuracy over the steps since the last record, images/s.
    pub fn record_window(&mut self) -> Result<()> {
        let t = &self.job.preset.training;
        let loss_sum = transfer::scalar_f32(self.window.loss.clone()) as f64;
        let correct_sum = transfer::scalar_i64(self.window.correct.clone()) as f64;
        let secs = self.window.start.elapsed().as_secs_f64().max(1e-9);
        let window_images = self.window.steps * t.batch_size;
        let n = (self.window.count - self.state.record_count).max(1) as f64;
        let rec = StepRecord {
            step: self.state.step,
            epoch: self.state.step as f64 / self.schedule.steps_per_epoch as f64,
            loss: (loss_sum - self.state.record_loss) / n,
            acc: (correct_sum - self.state.record_correct) / n,
            lr: self.lr,
            images_per_s: window_images as f64 / secs,
            unique_seen: self.batches.unique_seen,
            dup_seen: self.batches.dup_seen,
            elapsed_s: self.clock.elapsed(),
        };
        // The next record's loss is over the steps after this one.
        self.state.record_loss = loss_sum;
        self.state.record_correct = correct_sum;
        self.state.record_count = self.window.count;
        self.window.start = Instant::now();
        self.window.steps = 0;
        self.report.step(rec)
    }

    /// The catastrophic-overfitting check, when one is due after this step (`train::overfit`),
    /// recorded; an alarm under `training.stop_on_overfit` ends the run early.
    pub fn check_overfit(&mut self) -> Result<()> {
        let Some(check) = self.overfit else {
            return Ok(());
        };
        if !check.due(self.state.step) {
            return Ok(());
        }
        let t0 = Instant::now();
        self.report.phase(Phase::OverfitCheck);
        let best = self.state.overfit.best_pgd;
        let model = self
            .model
            .as_ref()
            .expect("the model is back after every step");
        let rec = check.run(
            model,
            &self.train,
            &self.device,
            &self.job.preset,
            self.job.seed,
            self.state.step,
            &mut self.state.overfit,
        );
        let took = t0.elapsed();
        self.report.split().overfit_s += took.as_secs_f64();
        // The check's time is not training: the step window's images/s leaves it out.
        self.window.start += took;
        if rec.stat.alarm
            && self.job.preset.training.stop_on_overfit
            && self.state.step < self.schedule.total_steps
        {
            self.stop_early = Some(format!("step {}: {}", rec.step, rec.stat.describe(best)));
        }
        self.report.overfit(rec, best)?;
        // After an alarm its phase stays up (a detached lab shows it) until training goes on.
        if !rec.stat.alarm {
            self.training_phase();
        }
        Ok(())
    }

    /// An evaluation point (see `Evaluator`), recorded.
    pub fn evaluate(&mut self) -> Result<()> {
        // A step record was just written: its baseline is the whole window's sums.
        let count = self.window.count.max(1) as f64;
        self.state.evals_done += 1;
        let at = Point {
            step: self.state.step,
            total_steps: self.schedule.total_steps,
            evaluation: self.state.evals_done,
            train_loss: self.state.record_loss / count,
            train_acc: self.state.record_correct / count,
            elapsed_s: self.clock.elapsed(),
            ends_early: self.stop_early.is_some(),
        };
        let model = self
            .model
            .as_ref()
            .expect("the model is back after every step");
        let e = self.evaluator.evaluate(
            model,
            &self.train,
            &self.device,
            &self.job.preset,
            at,
            &mut self.report,
        );
        self.report.evaluation(e.record)
    }

    /// After an evaluation: a new metric window, then model, optimiser and state to disk.
    /// The run must still be this trainer's before it writes what another owner would (a
    /// checkpoint, the summary, the final status): an error that writes nothing otherwise.
    fn still_owned(&self) -> Result<()> {
        match self.control.check_owned() {
            None => Ok(()),
            Some(why) => Err(super::trainer::RunLost(format!(
                "run {} is no longer this trainer's: {why}; it stops without writing to it",
                self.report.run.id
            ))
            .into()),
        }
    }

    pub fn checkpoint(&mut self) -> Result<()> {
        self.still_owned()?;
        let t0 = Instant::now();
        let inner = self.device.clone().inner();
        self.window.loss = Tensor::<1>::zeros([1], &inner);
        self.window.correct = Tensor::<1, Int>::zeros([1], &inner);
        self.window.count = 0;
        let st = &mut self.state;
        (st.window_loss, st.window_correct, st.window_count) = (0.0, 0.0, 0);
        (st.record_loss, st.record_correct, st.record_count) = (0.0, 0.0, 0);
        self.state.elapsed_s = self.clock.elapsed();
        checkpoint::save(self.run(), self.model(), &self.optim, &self.state)?;
        self.split().save_s += t0.elapsed().as_secs_f64();
        self.report.write_summary()?;
        self.report.send(TrainEvent::CheckpointSaved {
            run_id: self.report.run_id(),
            step: self.state.step,
        });
        Ok(())
    }

    /// Stopped on request: checkpoint mid-window, mark the run interrupted (resumable).
    pub fn stop(mut self) -> Result<()> {
        self.still_owned()?;
        let t0 = Instant::now();
        self.state.elapsed_s = self.clock.elapsed();
        self.window.sync(&mut self.state);
        checkpoint::save(self.run(), self.model(), &self.optim, &self.state)?;
        self.split().save_s += t0.elapsed().as_secs_f64();
        self.report.summary.steps_done = self.state.step;
        self.report.summary.duration_s = self.state.elapsed_s;
        self.report.write_summary()?;
        self.run().set_status(RunStatus::Interrupted)?;
        self.report.send(TrainEvent::Stopped {
            run_id: self.report.run_id(),
            step: self.state.step,
        });
        Ok(())
    }

    /// All steps done: final weights, summary, status.
    pub fn finish(mut self) -> Result<()> {
        self.still_owned()?;
        let t0 = Instant::now();
        let info = super::pytorch::ModelInfo {
            kind: self.job.preset.training.model,
            input: self.input.clone(),
            class_names: self.class_names.clone(),
            preset: self.job.preset.name.clone(),
        };
        super::pytorch::write(
            self.model(),
            &info,
            &self.run().dir.join(crate::store::layout::WEIGHTS),
        )
        .context("exporting final weights")?;
        self.write_reference()?;
        self.split().save_s += t0.elapsed().as_secs_f64();
        self.report.summary.finished_at = Some(crate::store::now());
        self.report.summary.early_stop = self.stop_early.clone();
        self.report.summary.duration_s = self.clock.elapsed();
        self.report.write_summary()?;
        self.run().set_status(RunStatus::Finished)?;
        self.report.send(TrainEvent::Finished {
            run_id: self.report.run_id(),
            summary: self.report.summary.clone(),
        });
        Ok(())
    }

    /// A reference model's last act: the logit margin of every pool image under the final
    /// weights, with its membership mask, into `reference.json` (what LiRA and RMIA read).
    fn write_reference(&self) -> Result<()> {
        let (Some(r), Some(spec)) = (&self.reference, &self.job.preset.reference) else {
            return Ok(());
        };
        let n = r.member.len();
        let mut phi = Vec::with_capacity(n);
        let all: Vec<u32> = (0..n as u32).collect();
        for chunk in all.chunks(4096) {
            self.report.phase(Phase::Scoring {
                done: phi.len(),
                total: n,
            });
            phi.extend(super::eval::per_image(self.model(), &self.train, Some(chunk)).margin);
        }
        let scores = crate::store::ReferenceScores {
            format: crate::store::REFERENCE_FORMAT,
            models: spec.models,
            index: r.index,
            seed: spec.seed,
            pool_checksum: self.pool_checksum.clone(),
            labels: r.labels.clone(),
            occurrences: r.occurrences.clone(),
            members: r
                .member
                .iter()
                .map(|&m| if m { '1' } else { '0' })
                .collect(),
            shadowed: r.shadowed.clone(),
            threshold: self.job.preset.data.leak_threshold,
            phi,
            step: self.state.step,
        };
        self.run()
            .write_reference(&scores)
            .context("writing the reference scores")?;
        Ok(())
    }
}
