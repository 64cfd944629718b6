//! One training run as a session of named steps (burn's custom-training-loop style, written out):
//! `prepare` (load data, plan, device, run folder new or resumed, model and optimiser), then per
//! step `control` (pause/resume/stop between steps) → `train_step` → `record_window` (the step
//! metrics, at a bounded rate), at evaluation points `evaluate` → `checkpoint`, and `finish` or
//! `stop`. `run_job` (trainer.rs) strings them together.

use super::batches::Batches;
use super::checkpoint::{self, TrainerState};
use super::eval::{per_image, per_image_adversarial, tally_per_image};
use super::group_eval::{adversarial_groups, clean_groups};
use super::step::train_step;
use super::trainer::{TrainJob, eval_points, optimizer, robust_record, update_summary};
use super::{Control, DeviceData, TrainEvent};
use crate::backend::select;
use crate::data::{self, rng::Rng};
use crate::nn::{InputShape, Net};
use crate::spec::{AttackKind, AttackSpec, Length};
use crate::store::{
    ControlCommand, ControlReader, EpochRecord, LeakageStat, MetricRecord, MetricsWriter,
    OverfitStat, Run, RunConfig, RunStatus, StepRecord, Summary, TimeSplit,
};
use anyhow::{Context, Result, anyhow, bail};
use burn::module::Module;
use burn::nn::loss::{CrossEntropyLoss, CrossEntropyLossConfig};
use burn::optim::ModuleOptimizer;
use burn::prelude::*;
use std::cell::Cell;
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, TryRecvError};
use std::time::{Duration, Instant};

/// How often the run folder's control file is read, and the phase file written at most.
const CONTROL_POLL: Duration = Duration::from_millis(250);
const PHASE_EVERY: Duration = Duration::from_secs(1);

/// What `control` decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    Go,
    Stop,
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
            loss: Tensor::<1>::from_floats([state.window_loss as f32], inner),
            correct: Tensor::<1, Int>::from_ints([state.window_correct as i64], inner),
            count: state.window_count,
            start: Instant::now(),
            steps: 0,
        }
    }

    /// The device-side sums into the state, before a checkpoint.
    fn sync(&self, state: &mut TrainerState) {
        state.window_loss = self.loss.clone().into_scalar::<f32>() as f64;
        state.window_correct = self.correct.clone().into_scalar::<i64>() as f64;
        state.window_count = self.count;
    }
}

/// The epoch length the step schedule decays by: the run's own epochs when it is measured in
/// epochs; under a fixed step budget, the *un-duplicated* set's, so that duplicated and clean
/// runs decay at the same steps (the budget's whole point).
pub fn schedule_epoch(
    length: Length,
    steps_per_epoch: usize,
    clean_len: usize,
    batch: usize,
) -> usize {
    match length {
        Length::Epochs(_) => steps_per_epoch,
        Length::Steps(_) => clean_len.div_ceil(batch.max(1)),
    }
}

pub struct Session<'a> {
    job: &'a TrainJob,
    events: &'a Sender<TrainEvent>,
    run: Run,
    rid: String,
    pub state: TrainerState,
    pub total_steps: usize,
    steps_per_epoch: usize,
    /// Steps of an epoch as the step schedule counts them (see `schedule_epoch`).
    schedule_epoch: usize,
    pub points: Vec<usize>,
    /// A step record every this many steps.
    pub emit_every: usize,
    classes: usize,
    /// The model, taken out for each optimiser step (which consumes it) and put back.
    model: Option<Net>,
    optim: ModuleOptimizer,
    device: Device,
    train: DeviceData,
    test: DeviceData,
    ce: CrossEntropyLoss,
    batches: Batches,
    /// Which pool images are duplicated, copies, unique (a sample) or dropped.
    groups: data::Groups,
    /// Whether each test image is leaky (a training image within the data's leak threshold).
    leaky: Vec<bool>,
    leak_threshold: f64,
    summary: Summary,
    metrics: MetricsWriter,
    window: Window,
    /// Learning rate of the last step (for its record).
    lr: f64,
    started: Instant,
    base_elapsed: f64,
    paused_s: f64,
    /// Earlier catastrophic-overfitting checks of this session, and why to end early (if so).
    overfit: Vec<OverfitStat>,
    pub stop_early: Option<String>,
    /// The model's input (shape and normalisation) and the class names, for the final weights.
    input: InputShape,
    class_names: Vec<String>,
    /// Commands from other processes, through the run folder's control file.
    control_file: ControlReader,
    control_checked: Instant,
    /// When the phase file was last written (progress phases come many a second).
    phase_written: Cell<Option<Instant>>,
}

/// Send a phase and mirror it into the run folder, so a lab in another process shows it too.
fn send_phase(events: &Sender<TrainEvent>, run: Option<&Run>, what: String) {
    if let Some(run) = run {
        let _ = run.set_phase(&what);
    }
    let _ = events.send(TrainEvent::Phase {
        run_id: run.map(|r| r.id.clone()),
        what,
    });
}

impl<'a> Session<'a> {
    fn send(&self, e: TrainEvent) {
        if let TrainEvent::Phase { what, .. } = &e
            && self
                .phase_written
                .get()
                .is_none_or(|t| t.elapsed() >= PHASE_EVERY)
        {
            self.phase_written.set(Some(Instant::now()));
            let _ = self.run.set_phase(what);
        }
        let _ = self.events.send(e);
    }

    /// Where this run's time went, earlier sessions' included: kept in the summary, so every
    /// summary written carries it.
    pub fn split(&mut self) -> &mut TimeSplit {
        self.summary.time_split.get_or_insert_default()
    }

    fn model(&self) -> &Net {
        self.model
            .as_ref()
            .expect("the model is back after every step")
    }

    /// Training time so far (time paused does not count; a resumed run adds its earlier time).
    fn elapsed(&self) -> f64 {
        self.base_elapsed + self.started.elapsed().as_secs_f64() - self.paused_s
    }

    /// Load the data, build the plan, open (or resume) the run folder, write its config, build
    /// model and optimiser (from the checkpoint when resuming) and upload the data.
    pub fn prepare(
        job: &'a TrainJob,
        events: &'a Sender<TrainEvent>,
        run_slot: &mut Option<Run>,
    ) -> Result<Session<'a>> {
        let send = |e: TrainEvent| {
            let _ = events.send(e);
        };
        let preparing = Instant::now();
        let preset = &job.preset;
        let t = &preset.training;
        // A folder a launcher prepared is ours from the first moment, so that whatever fails
        // from here on is recorded in it (status failed, the error in its summary).
        let prepared = match &job.prepared {
            Some(id) => {
                let run = job.store.open(id)?;
                *run_slot = Some(run.clone());
                if run.dir.join(crate::store::layout::CONFIG).exists() {
                    bail!(
                        "run {id} was started before; continue it with: duplab train --resume {id}"
                    );
                }
                run.mark_owner()?;
                Some(run)
            }
            None => None,
        };
        send_phase(
            events,
            prepared.as_ref(),
            format!("loading data set {}", preset.data.set.name()),
        );
        let decoding = |done: usize, total: usize| {
            if let Some(run) = prepared.as_ref() {
                let _ = run.set_phase(&format!("decoding the image folder: {done}/{total} images"));
            }
            let _ = events.send(TrainEvent::Phase {
                run_id: prepared.as_ref().map(|r| r.id.clone()),
                what: format!(
                    "decoding the image folder (cached for next time): {done}/{total} images"
                ),
            });
        };
        let (ds, skipped) = data::load_spec(&preset.data, job.data_dir.as_deref(), &decoding)?;
        if let Some(first) = skipped.first() {
            send_phase(
                events,
                prepared.as_ref(),
                format!(
                    "skipped {} unreadable image(s), e.g. {first}",
                    skipped.len()
                ),
            );
        }
        // The dedup control: the training set without its own near-duplicates, before the plan.
        let (ds, dedup) = if preset.duplication.dedup {
            let th = preset.duplication.dedup_threshold;
            send_phase(
                events,
                prepared.as_ref(),
                format!("dedup: near-duplicates within the training set (≤ {th})"),
            );
            let (out, d) = data::deduplicate(&ds, th, data::cache_dir().as_deref(), &|_, _| {});
            let stat = d.stat(out.train.len());
            (out, Some(stat))
        } else {
            (ds, None)
        };
        let classes = ds.num_classes();
        let plan = data::make_plan(&preset.duplication, &ds.train.labels, classes, job.seed)
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
        let (run, state) = match &job.resume {
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
                // The stop that ended it last time is not a command for this run.
                run.clear_control()?;
                let state = checkpoint::load_state(&run)?.unwrap_or_default();
                (run, state)
            }
            None => match prepared {
                Some(run) => (run, TrainerState::default()),
                None => (job.store.create(&preset.name)?, TrainerState::default()),
            },
        };
        *run_slot = Some(run.clone());
        let rid = run.id.clone();

        device.seed(job.seed);
        let mut model = Net::new(t.model, &shape, &device).map_err(|e| anyhow!(e))?;
        let mut optim = optimizer(preset);
        if state.step > 0 {
            (model, optim) = checkpoint::load(&run, model, optim)?;
            // Records written after the checkpoint (a crash after it) are dropped, so the
            // metrics stream reads as one uninterrupted run.
            run.truncate_metrics(state.step)?;
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
            input_mean: shape.mean.clone(),
            input_std: shape.std.clone(),
            dedup,
        };
        run.write_config(&config)?;
        let metrics = run.metrics_writer()?;
        send(TrainEvent::Started {
            run_id: rid.clone(),
            config: Box::new(config),
            start_step: state.step,
        });

        send_phase(events, Some(&run), "uploading data to the device".into());
        let train = DeviceData::upload(&pool, &inner);
        let test = DeviceData::upload(&ds.test, &inner);
        let ce = CrossEntropyLossConfig::new().init(&device);
        let mut summary = Summary {
            total_steps,
            train_size: indices.len(),
            distinct_images: plan.distinct.iter().sum(),
            ..run.summary_or_default()?
        };
        // Replay the batches of completed steps so a resumed run counts what it has seen right.
        let mut batches =
            Batches::new(&indices, plan.originals, pool.len(), t.batch_size, job.seed);
        for s in 0..state.step {
            batches.draw(s);
        }
        let window = Window::new(&state, &inner);
        let groups = data::groups(&plan, ds.train.len(), data::UNIQUE_SAMPLE, job.seed);
        send_phase(
            events,
            Some(&run),
            "finding test images that nearly copy a training image".into(),
        );
        let leakage = data::leaky_test_images(&ds, preset.data.leak_threshold);
        let mut leaky = vec![false; ds.test.len()];
        for &i in &leakage.leaky {
            leaky[i as usize] = true;
        }
        summary.time_split.get_or_insert_default().prepare_s += preparing.elapsed().as_secs_f64();
        Ok(Session {
            job,
            events,
            rid,
            base_elapsed: state.elapsed_s,
            state,
            total_steps,
            steps_per_epoch,
            schedule_epoch: schedule_epoch(length, steps_per_epoch, ds.train.len(), t.batch_size),
            points,
            emit_every: (steps_per_epoch / 25).max(1),
            classes,
            model: Some(model),
            optim,
            device,
            train,
            test,
            ce,
            batches,
            groups,
            leaky,
            leak_threshold: preset.data.leak_threshold,
            summary,
            metrics,
            window,
            lr: 0.0,
            started: Instant::now(),
            paused_s: 0.0,
            overfit: vec![],
            stop_early: None,
            input: shape.clone(),
            class_names: ds.class_names.clone(),
            control_file: ControlReader::default(),
            control_checked: Instant::now(),
            phase_written: Cell::new(None),
            run,
        })
    }

    /// Back to training steps: say so in the phase file (in-process watchers learn it from the
    /// step events themselves).
    pub fn training_phase(&self) {
        let _ = self.run.set_phase("training");
        self.phase_written.set(None);
    }

    /// The next command from the lab's channel or the run folder's control file (read at most
    /// every `CONTROL_POLL`). A channel whose sender is gone means stop.
    fn next_control(&mut self, channel: &Receiver<Control>, wait: Duration) -> Option<Control> {
        let from_channel = if wait.is_zero() {
            match channel.try_recv() {
                Ok(c) => Some(c),
                Err(TryRecvError::Disconnected) => Some(Control::Stop),
                Err(TryRecvError::Empty) => None,
            }
        } else {
            match channel.recv_timeout(wait) {
                Ok(c) => Some(c),
                Err(RecvTimeoutError::Disconnected) => Some(Control::Stop),
                Err(RecvTimeoutError::Timeout) => None,
            }
        };
        if from_channel.is_some() {
            return from_channel;
        }
        if self.control_checked.elapsed() < CONTROL_POLL {
            return None;
        }
        self.control_checked = Instant::now();
        self.control_file.poll(&self.run).map(|c| match c {
            ControlCommand::Pause => Control::Pause,
            ControlCommand::Resume => Control::Resume,
            ControlCommand::Stop => Control::Stop,
        })
    }

    /// Controls between steps, never mid-update. A pause blocks here until resume or stop;
    /// the run's status says `paused` meanwhile, so watchers in other processes see it.
    pub fn control(&mut self, control: &Receiver<Control>) -> Flow {
        match self.next_control(control, Duration::ZERO) {
            Some(Control::Stop) => Flow::Stop,
            Some(Control::Pause) => {
                let _ = self.run.set_status(RunStatus::Paused);
                self.send(TrainEvent::Paused {
                    run_id: self.rid.clone(),
                });
                let paused_at = Instant::now();
                let flow = loop {
                    match self.next_control(control, CONTROL_POLL) {
                        Some(Control::Resume) => break Flow::Go,
                        Some(Control::Stop) => break Flow::Stop,
                        Some(Control::Pause) | None => {}
                    }
                };
                // Time spent paused is not training time.
                self.paused_s += paused_at.elapsed().as_secs_f64();
                if flow == Flow::Go {
                    let _ = self.run.set_status(RunStatus::Running);
                    self.window.start = Instant::now();
                    self.window.steps = 0;
                    self.send(TrainEvent::Resumed {
                        run_id: self.rid.clone(),
                    });
                }
                flow
            }
            Some(Control::Resume) | None => Flow::Go,
        }
    }

    /// One optimiser step on the next batch (part of it adversarial when the preset says so).
    pub fn train_step(&mut self) {
        let t = &self.job.preset.training;
        let step = self.state.step;
        let batch_idx = self.batches.draw(step);
        // Reseeding each step makes dropout masks and attack starts a function of (seed, step),
        // so a resumed run draws exactly what an uninterrupted one would.
        self.device
            .seed(Rng::derive(self.job.seed, "device", step as u64).next_u64());
        let (x, y) = self.train.gather(&batch_idx);
        self.lr = t.lr_at(step, self.total_steps, self.schedule_epoch);
        // ε warm-up: the attack grows with progress through the run.
        let attack = self
            .job
            .preset
            .attack
            .train
            .at_progress(step as f64 / self.total_steps as f64);
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
        let loss_sum = self.window.loss.clone().into_scalar::<f32>() as f64;
        let correct_sum = self.window.correct.clone().into_scalar::<i64>() as f64;
        let secs = self.window.start.elapsed().as_secs_f64().max(1e-9);
        let window_images = self.window.steps * t.batch_size;
        let n = (self.window.count - self.state.record_count).max(1) as f64;
        let rec = StepRecord {
            step: self.state.step,
            epoch: self.state.step as f64 / self.steps_per_epoch as f64,
            loss: (loss_sum - self.state.record_loss) / n,
            acc: (correct_sum - self.state.record_correct) / n,
            lr: self.lr,
            images_per_s: window_images as f64 / secs,
            unique_seen: self.batches.unique_seen,
            dup_seen: self.batches.dup_seen,
            elapsed_s: self.elapsed(),
        };
        // The next record's loss is over the steps after this one.
        self.state.record_loss = loss_sum;
        self.state.record_correct = correct_sum;
        self.state.record_count = self.window.count;
        self.window.start = Instant::now();
        self.window.steps = 0;
        self.summary.images_per_s = Some(rec.images_per_s);
        self.summary.train_loss = Some(rec.loss);
        self.metrics.append(&MetricRecord::Step(rec.clone()))?;
        self.send(TrainEvent::Step {
            run_id: self.rid.clone(),
            record: rec,
        });
        Ok(())
    }

    /// Test-set loss, accuracy and per-class results; robust accuracy when due.
    pub fn evaluate(&mut self) -> Result<()> {
        // A step record was just written: its baseline is the whole window's sums.
        let train_loss = self.state.record_loss / self.window.count.max(1) as f64;
        let train_acc = self.state.record_correct / self.window.count.max(1) as f64;
        self.state.evals_done += 1;
        self.send(TrainEvent::Phase {
            run_id: Some(self.rid.clone()),
            what: "evaluating on the test set".into(),
        });
        // One per-image pass over the test set gives the clean result and the test group.
        let t0 = Instant::now();
        let test_pass = per_image(self.model(), &self.test, None);
        self.split().test_s += t0.elapsed().as_secs_f64();
        let clean = tally_per_image(&test_pass, self.classes);
        let eval_attack = &self.job.preset.attack.eval;
        let last = self.state.step == self.total_steps;
        let every = self.job.preset.training.group_every;
        let groups_due = every > 0 && (last || self.state.evals_done % every == 0);
        let robust_due = eval_attack.attack.kind != AttackKind::None
            && (last || (eval_attack.every > 0 && self.state.evals_done % eval_attack.every == 0));
        // The robust pass keeps its per-image results: the adversarial test group reuses them.
        let adv_test = if robust_due {
            let rid = self.rid.clone();
            let events = self.events;
            let mut progress = |done: usize, n: usize| {
                let _ = events.send(TrainEvent::Phase {
                    run_id: Some(rid.clone()),
                    what: format!(
                        "robust evaluation ({}): {done}/{n} images",
                        eval_attack.attack.label()
                    ),
                });
            };
            let all: Vec<u32> = (0..self.test.len() as u32).collect();
            let t0 = Instant::now();
            let pass = per_image_adversarial(
                self.model(),
                &self.test,
                &all,
                &eval_attack.attack,
                eval_attack.limit,
                &self.device,
                &mut progress,
            );
            self.split().robust_s += t0.elapsed().as_secs_f64();
            Some(pass)
        } else {
            None
        };
        let robust = adv_test.as_ref().map(|p| {
            robust_record(
                &tally_per_image(p, self.classes),
                &eval_attack.attack.label(),
            )
        });
        let groups = if groups_due {
            self.send(TrainEvent::Phase {
                run_id: Some(self.rid.clone()),
                what: "group metrics: duplicated, unique, dropped, test".into(),
            });
            let t0 = Instant::now();
            let mut g = clean_groups(
                self.model(),
                &self.train,
                &self.groups,
                &test_pass,
                self.classes,
            );
            if let Some(adv_test) = adv_test.as_ref().filter(|_| eval_attack.group_limit > 0) {
                g.adversarial = Some(Box::new(adversarial_groups(
                    self.model(),
                    &self.train,
                    &self.groups,
                    adv_test,
                    &eval_attack.attack,
                    eval_attack.group_limit,
                    self.classes,
                    &self.device,
                )));
            }
            g.seconds = t0.elapsed().as_secs_f64();
            self.split().groups_s += g.seconds;
            Some(g)
        } else {
            None
        };
        let leakage = Some(self.leakage(&test_pass.correct));
        let t0 = Instant::now();
        let overfit = self.overfit_check();
        if overfit.is_some() {
            self.split().overfit_s += t0.elapsed().as_secs_f64();
        }
        let rec = EpochRecord {
            evaluation: self.state.evals_done,
            step: self.state.step,
            test_loss: clean.loss,
            test_acc: clean.acc,
            per_class_acc: clean.per_class_acc.clone(),
            confusion: clean.confusion.clone(),
            train_loss,
            train_acc,
            robust: robust.clone(),
            groups,
            leakage,
            overfit,
            elapsed_s: self.elapsed(),
        };
        self.metrics.append(&MetricRecord::Epoch(rec.clone()))?;
        update_summary(&mut self.summary, &rec, robust.as_ref());
        self.summary.evaluations_done = self.state.evals_done;
        self.summary.steps_done = self.state.step;
        self.summary.duration_s = rec.elapsed_s;
        self.send(TrainEvent::Epoch {
            run_id: self.rid.clone(),
            record: rec,
        });
        Ok(())
    }

    /// FGSM / FGSM-RS training: accuracy of a fixed batch of training images under PGD-10 and
    /// FGSM at the training ε (Wong et al. 2020's check for catastrophic overfitting). On an
    /// alarm the lab shows it, and with `training.stop_on_overfit` the run ends here.
    fn overfit_check(&mut self) -> Option<OverfitStat> {
        let train_attack = &self.job.preset.attack.train;
        if !matches!(train_attack.kind, AttackKind::Fgsm | AttackKind::FgsmRs)
            || train_attack.eps <= 0.0
        {
            return None;
        }
        self.send(TrainEvent::Phase {
            run_id: Some(self.rid.clone()),
            what: "catastrophic-overfitting check: PGD and FGSM on 256 training images".into(),
        });
        let idx: Vec<u32> = (0..self.train.len().min(256) as u32).collect();
        let eps = train_attack.eps;
        let acc = |spec: &AttackSpec| {
            let p = per_image_adversarial(
                self.model(),
                &self.train,
                &idx,
                spec,
                0,
                &self.device,
                &mut |_, _| {},
            );
            tally_per_image(&p, self.classes).acc
        };
        let pgd = acc(&AttackSpec {
            kind: AttackKind::Pgd,
            norm: train_attack.norm,
            eps,
            step: eps / 4.0,
            steps: 10,
            ..AttackSpec::default()
        });
        let fgsm = acc(&AttackSpec {
            kind: AttackKind::Fgsm,
            norm: train_attack.norm,
            eps,
            ..AttackSpec::default()
        });
        let best = self.overfit.iter().map(|s| s.pgd_acc).fold(0.0, f64::max);
        let stat = OverfitStat {
            images: idx.len(),
            pgd_acc: pgd,
            fgsm_acc: fgsm,
            alarm: OverfitStat::collapsed(&self.overfit, pgd, fgsm),
        };
        if stat.alarm {
            let what = format!("step {}: {}", self.state.step, stat.describe(best));
            self.send(TrainEvent::Phase {
                run_id: Some(self.rid.clone()),
                what: format!("⚠ {what}"),
            });
            if self.job.preset.training.stop_on_overfit {
                self.stop_early = Some(what);
            }
        }
        self.overfit.push(stat);
        Some(stat)
    }

    /// Clean accuracy on leaky and on fair test images.
    fn leakage(&self, correct: &[bool]) -> LeakageStat {
        LeakageStat::split(self.leak_threshold, correct, &self.leaky)
    }

    /// After an evaluation: a new metric window, then model, optimiser and state to disk.
    pub fn checkpoint(&mut self) -> Result<()> {
        let t0 = Instant::now();
        let inner = self.device.clone().inner();
        self.window.loss = Tensor::<1>::zeros([1], &inner);
        self.window.correct = Tensor::<1, Int>::zeros([1], &inner);
        self.window.count = 0;
        let st = &mut self.state;
        (st.window_loss, st.window_correct, st.window_count) = (0.0, 0.0, 0);
        (st.record_loss, st.record_correct, st.record_count) = (0.0, 0.0, 0);
        self.state.elapsed_s = self.elapsed();
        checkpoint::save(&self.run, self.model(), &self.optim, &self.state)?;
        self.split().save_s += t0.elapsed().as_secs_f64();
        self.run.write_summary(&self.summary)?;
        self.send(TrainEvent::CheckpointSaved {
            run_id: self.rid.clone(),
            step: self.state.step,
        });
        Ok(())
    }

    /// Stopped on request: checkpoint mid-window, mark the run interrupted (resumable).
    pub fn stop(mut self) -> Result<()> {
        let t0 = Instant::now();
        self.state.elapsed_s = self.elapsed();
        self.window.sync(&mut self.state);
        checkpoint::save(&self.run, self.model(), &self.optim, &self.state)?;
        self.split().save_s += t0.elapsed().as_secs_f64();
        self.summary.steps_done = self.state.step;
        self.summary.duration_s = self.state.elapsed_s;
        self.run.write_summary(&self.summary)?;
        self.run.set_status(RunStatus::Interrupted)?;
        self.send(TrainEvent::Stopped {
            run_id: self.rid.clone(),
            step: self.state.step,
        });
        Ok(())
    }

    /// All steps done: final weights, summary, status.
    pub fn finish(mut self) -> Result<()> {
        let t0 = Instant::now();
        let info = super::pytorch::ModelInfo {
            kind: self.job.preset.training.model,
            input: self.input.clone(),
            class_names: self.class_names.clone(),
            preset: self.job.preset.name.clone(),
        };
        super::pytorch::write(self.model(), &info, &self.run.dir.join("model.safetensors"))
            .context("exporting final weights")?;
        self.split().save_s += t0.elapsed().as_secs_f64();
        self.summary.finished_at = Some(crate::store::now());
        self.summary.early_stop = self.stop_early.clone();
        self.summary.duration_s = self.elapsed();
        self.run.write_summary(&self.summary)?;
        self.run.set_status(RunStatus::Finished)?;
        self.send(TrainEvent::Finished {
            run_id: self.rid.clone(),
            summary: self.summary.clone(),
        });
        Ok(())
    }
}
