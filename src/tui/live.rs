//! A run as the dashboard shows it: built from a worker's events, or read back from the store.

use super::app::{Effect, SidePanel};
use super::curve::Curve;
use super::dialog::Dialog;
use super::keys::Action;
use super::reply::{Ask, Reply};
use crate::store::{
    ControlCommand, EpochRecord, MetricRecord, Run, RunConfig, RunStatus, StepRecord,
};
use crate::train::Control;
use crate::train::TrainEvent;

#[derive(Debug, Clone, PartialEq)]
pub enum LiveStatus {
    Starting,
    Running,
    Paused,
    Finished,
    Stopped,
    Failed(String),
    /// Read from the store (another process, or an old run).
    Stored(RunStatus),
}

impl LiveStatus {
    /// A trainer is at work on it (in this process or, for a stored run, in another one).
    pub fn is_active(&self) -> bool {
        match self {
            LiveStatus::Starting | LiveStatus::Running | LiveStatus::Paused => true,
            LiveStatus::Stored(s) => s.is_live(),
            _ => false,
        }
    }
    pub fn label(&self) -> String {
        match self {
            LiveStatus::Starting => "starting".into(),
            LiveStatus::Running => "running".into(),
            LiveStatus::Paused => "paused".into(),
            LiveStatus::Finished => "finished".into(),
            LiveStatus::Stopped => "interrupted".into(),
            LiveStatus::Failed(_) => "failed".into(),
            LiveStatus::Stored(s) => s.name().into(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct LiveRun {
    /// Until the worker has made the run folder, a placeholder key.
    pub id: String,
    pub preset: String,
    pub backend: String,
    pub adapter: String,
    pub total_steps: usize,
    pub steps_per_epoch: usize,
    /// Training loss and accuracy per step record, in bounded memory.
    pub loss: Curve,
    pub acc: Curve,
    /// The newest step record (step, images/s, elapsed time).
    pub last_step: Option<StepRecord>,
    /// One record per evaluation point: few, kept whole.
    pub evals: Vec<EpochRecord>,
    /// The catastrophic-overfitting checks (FGSM / FGSM-RS training): one an epoch, kept whole.
    pub overfit: Vec<crate::store::OverfitRecord>,
    pub plan_before: Vec<usize>,
    pub plan_after: Vec<usize>,
    pub class_names: Vec<String>,
    pub status: LiveStatus,
    pub phase: String,
    /// The evaluation card, as the run's summary held it when the run was opened.
    pub card: Option<crate::store::CardStat>,
    /// The key of the worker thread of this lab that trains the run; `None` for a run another
    /// process trains (a detached launch, a re-attached or opened stored run).
    pub worker: Option<String>,
}

impl LiveRun {
    pub fn launching(key: &str, preset: &str) -> LiveRun {
        LiveRun {
            id: key.into(),
            preset: preset.into(),
            backend: String::new(),
            adapter: String::new(),
            total_steps: 0,
            steps_per_epoch: 0,
            loss: Curve::default(),
            acc: Curve::default(),
            last_step: None,
            evals: vec![],
            overfit: vec![],
            plan_before: vec![],
            plan_after: vec![],
            class_names: vec![],
            status: LiveStatus::Starting,
            phase: "starting".into(),
            card: None,
            worker: None,
        }
    }

    pub(super) fn set_config(&mut self, c: &RunConfig) {
        self.preset = c.preset.name.clone();
        self.backend = c.backend.clone();
        self.adapter = c.device.clone();
        self.total_steps = c.total_steps;
        self.steps_per_epoch = c.steps_per_epoch;
        self.plan_before = c.plan_before.clone();
        self.plan_after = c.plan_after.clone();
        self.class_names = c.class_names.clone();
    }

    /// A stored run from its config and status alone; its metrics follow through `append`.
    pub fn stored(id: &str, config: Option<&RunConfig>, status: RunStatus) -> LiveRun {
        let mut r = LiveRun::launching(id, "");
        if let Some(c) = config {
            r.set_config(c);
        }
        r.status = LiveStatus::Stored(status);
        r.phase = String::new();
        r
    }

    /// A stored run, as far as its files tell (read whole: compare, screenshots, tests).
    pub fn from_store(run: &Run) -> LiveRun {
        let mut r = LiveRun::stored(&run.id, run.config().ok().flatten().as_ref(), run.status());
        r.append(&run.metrics().unwrap_or_default());
        r.card = run.summary().ok().flatten().and_then(|s| s.card);
        r
    }

    /// Records read from `metrics.jsonl` (a stored or detached run).
    pub fn append(&mut self, records: &[MetricRecord]) {
        for m in records {
            match m {
                MetricRecord::Step(s) => self.push_step(s),
                MetricRecord::Epoch(e) => self.evals.push(e.clone()),
                MetricRecord::Overfit(o) => self.overfit.push(*o),
                _ => {}
            }
        }
    }

    pub fn clear_metrics(&mut self) {
        self.loss = Curve::default();
        self.acc = Curve::default();
        self.last_step = None;
        self.evals.clear();
        self.overfit.clear();
    }

    fn push_step(&mut self, s: &StepRecord) {
        self.loss.push(s.step as f64, s.loss);
        self.acc.push(s.step as f64, s.acc * 100.0);
        self.last_step = Some(s.clone());
    }

    /// The latest evaluation that recorded group metrics: its step and the metrics.
    pub fn last_groups(&self) -> Option<(usize, &crate::store::GroupMetrics)> {
        self.evals
            .iter()
            .rev()
            .find_map(|e| e.groups.as_ref().map(|g| (e.step, g)))
    }

    pub fn step(&self) -> usize {
        self.last_step.as_ref().map(|s| s.step).unwrap_or(0)
    }

    /// Seconds left, from the recent images/s.
    pub fn eta_s(&self) -> Option<f64> {
        let last = self.last_step.as_ref()?;
        let per_step = last.elapsed_s / last.step.max(1) as f64;
        Some(per_step * (self.total_steps.saturating_sub(last.step)) as f64)
    }

    /// Apply a worker event. Returns whether anything visible changed.
    pub fn apply(&mut self, ev: &TrainEvent) -> bool {
        match ev {
            TrainEvent::Started { run_id, config, .. } => {
                self.id = run_id.clone();
                self.set_config(config);
                self.status = LiveStatus::Running;
            }
            TrainEvent::Step { record, .. } => {
                self.push_step(record);
                self.phase = "training".into();
            }
            TrainEvent::Epoch { record, .. } => self.evals.push(record.clone()),
            TrainEvent::Overfit { record, .. } => self.overfit.push(*record),
            TrainEvent::Phase { phase, .. } => self.phase = phase.to_string(),
            TrainEvent::Paused { .. } => self.status = LiveStatus::Paused,
            TrainEvent::Resumed { .. } => self.status = LiveStatus::Running,
            TrainEvent::Finished { .. } => {
                self.status = LiveStatus::Finished;
                self.phase = "finished".into();
            }
            TrainEvent::Stopped { step, .. } => {
                self.status = LiveStatus::Stopped;
                self.phase = format!(
                    "stopped at step {step}; checkpoint saved (duplab train --resume {})",
                    self.id
                );
            }
            TrainEvent::Failed { error, .. } => {
                self.status = LiveStatus::Failed(error.clone());
                self.phase = format!("failed: {error}");
            }
            TrainEvent::CheckpointSaved { .. } | TrainEvent::Robust { .. } => return false,
        }
        true
    }
}

/// The live screen: runs this lab trains and stored runs it follows, which one is shown, and
/// what the side panel shows.
#[derive(Debug, Default)]
pub struct LiveState {
    pub runs: Vec<LiveRun>,
    pub selected: usize,
    pub side: SidePanel,
}

/// The live screen's keys.
impl LiveState {
    pub fn update(&mut self, a: Action) -> Reply {
        if self.runs.is_empty() {
            return Reply::ignored();
        }
        let i = self.selected.min(self.runs.len() - 1);
        match a {
            Action::PrevRun => self.selected = i.saturating_sub(1),
            Action::NextRun => self.selected = (i + 1).min(self.runs.len() - 1),
            Action::Smoothing => return Reply::ask(Ask::ToggleSmoothing),
            Action::SidePanel => self.side = self.side.next(),
            Action::PauseResume => {
                let control = match self.runs[i].status {
                    LiveStatus::Running | LiveStatus::Stored(RunStatus::Running) => Control::Pause,
                    LiveStatus::Paused | LiveStatus::Stored(RunStatus::Paused) => Control::Resume,
                    _ => return Reply::error("this run is not training"),
                };
                return Reply::ask(Ask::Effect(self.target(i).effect(control)));
            }
            Action::StopRun => {
                if !self.runs[i].status.is_active() {
                    return Reply::error("this run is not training");
                }
                return Reply::ask(Ask::Dialog(Dialog::StopRun {
                    target: self.target(i),
                }));
            }
            _ => return Reply::ignored(),
        }
        Reply::done()
    }

    fn target(&self, i: usize) -> Target {
        match &self.runs[i].worker {
            Some(key) => Target::Worker(key.clone()),
            None => Target::Run(self.runs[i].id.clone()),
        }
    }
}

/// Who carries out a control for a live entry: this lab's worker, or the run's trainer
/// process through the control file in its folder.
#[derive(Debug, Clone, PartialEq)]
pub enum Target {
    Worker(String),
    Run(String),
}

impl Target {
    pub fn effect(&self, control: Control) -> Effect {
        match self {
            Target::Worker(key) => Effect::Control {
                key: key.clone(),
                control,
            },
            Target::Run(id) => Effect::ControlRun {
                id: id.clone(),
                command: match control {
                    Control::Pause => ControlCommand::Pause,
                    Control::Resume => ControlCommand::Resume,
                    Control::Stop => ControlCommand::Stop,
                },
            },
        }
    }
}

/// Exponential moving average with bias correction (as Adam's moments): early points are not
/// pulled towards zero.
pub fn ema(values: &[f64], beta: f64) -> Vec<f64> {
    let mut m = 0.0;
    values
        .iter()
        .enumerate()
        .map(|(i, v)| {
            m = beta * m + (1.0 - beta) * v;
            m / (1.0 - beta.powi(i as i32 + 1))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ema_is_bias_corrected() {
        let e = ema(&[2.0, 2.0, 2.0], 0.9);
        assert!(e.iter().all(|v| (v - 2.0).abs() < 1e-12), "{e:?}");
        let e = ema(&[0.0, 10.0], 0.5);
        assert!((e[1] - 10.0 * 0.5 / 0.75).abs() < 1e-12);
    }
}
