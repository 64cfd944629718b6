//! A run as the dashboard shows it: built from a worker's events, or read back from the store.

use crate::store::{EpochRecord, MetricRecord, Run, RunStatus, StepRecord};
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
    pub fn is_active(&self) -> bool {
        matches!(
            self,
            LiveStatus::Starting | LiveStatus::Running | LiveStatus::Paused
        )
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
    pub steps: Vec<StepRecord>,
    pub epochs: Vec<EpochRecord>,
    pub plan_before: Vec<usize>,
    pub plan_after: Vec<usize>,
    pub class_names: Vec<String>,
    pub status: LiveStatus,
    pub phase: String,
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
            steps: vec![],
            epochs: vec![],
            plan_before: vec![],
            plan_after: vec![],
            class_names: vec![],
            status: LiveStatus::Starting,
            phase: "starting".into(),
        }
    }

    /// A stored run, as far as its files tell.
    pub fn from_store(run: &Run) -> LiveRun {
        let cfg = run.config().ok();
        let mut r = LiveRun::launching(
            &run.id,
            &cfg.as_ref()
                .map(|c| c.preset.name.clone())
                .unwrap_or_default(),
        );
        if let Some(c) = &cfg {
            r.backend = c.backend.clone();
            r.adapter = c.device.clone();
            r.total_steps = c.total_steps;
            r.steps_per_epoch = c.steps_per_epoch;
            r.plan_before = c.plan_before.clone();
            r.plan_after = c.plan_after.clone();
            r.class_names = c.class_names.clone();
        }
        for m in run.metrics().unwrap_or_default() {
            match m {
                MetricRecord::Step(s) => r.steps.push(s),
                MetricRecord::Epoch(e) => r.epochs.push(e),
                _ => {}
            }
        }
        r.status = LiveStatus::Stored(run.status());
        r.phase = String::new();
        r
    }

    pub fn step(&self) -> usize {
        self.steps.last().map(|s| s.step).unwrap_or(0)
    }

    /// Seconds left, from the recent images/s.
    pub fn eta_s(&self) -> Option<f64> {
        let last = self.steps.last()?;
        let per_step = last.elapsed_s / last.step.max(1) as f64;
        Some(per_step * (self.total_steps.saturating_sub(last.step)) as f64)
    }

    /// Apply a worker event. Returns whether anything visible changed.
    pub fn apply(&mut self, ev: &TrainEvent) -> bool {
        match ev {
            TrainEvent::Started {
                run_id,
                backend,
                adapter,
                total_steps,
                steps_per_epoch,
                plan_before,
                plan_after,
                class_names,
                ..
            } => {
                self.id = run_id.clone();
                self.backend = backend.clone();
                self.adapter = adapter.clone();
                self.total_steps = *total_steps;
                self.steps_per_epoch = *steps_per_epoch;
                self.plan_before = plan_before.clone();
                self.plan_after = plan_after.clone();
                self.class_names = class_names.clone();
                self.status = LiveStatus::Running;
            }
            TrainEvent::Step { record, .. } => {
                self.steps.push(record.clone());
                self.phase = "training".into();
            }
            TrainEvent::Epoch { record, .. } => self.epochs.push(record.clone()),
            TrainEvent::Phase { what, .. } => self.phase = what.clone(),
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
