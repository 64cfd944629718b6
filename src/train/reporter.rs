//! What a trainer tells the world, in one place: events on the channel, phases (mirrored into
//! the run folder's `phase` file for labs in other processes), metric records, and the summary
//! it keeps up to date and writes at checkpoints.

use super::TrainEvent;
use crate::store::{
    EpochRecord, MetricRecord, MetricsWriter, OverfitRecord, Phase, Run, StepRecord, Summary,
    TimeSplit,
};
use anyhow::Result;
use std::cell::Cell;
use std::sync::mpsc::Sender;
use std::time::{Duration, Instant};

/// Progress phases come many a second: the phase file takes one a second at most.
const PHASE_EVERY: Duration = Duration::from_secs(1);

/// Send a phase before a run folder exists (or of one being prepared), mirrored into its file.
pub fn send_phase(events: &Sender<TrainEvent>, run: Option<&Run>, phase: Phase) {
    if let Some(run) = run {
        let _ = run.set_phase(&phase.to_string());
    }
    let _ = events.send(TrainEvent::Phase {
        run_id: run.map(|r| r.id.clone()),
        phase,
    });
}

pub struct Reporter<'a> {
    events: &'a Sender<TrainEvent>,
    pub run: Run,
    metrics: MetricsWriter,
    /// What `summary.json` will say: updated at every record, written at checkpoints and the end.
    pub summary: Summary,
    /// When the phase file was last written with a progress phase.
    phase_written: Cell<Option<Instant>>,
}

impl<'a> Reporter<'a> {
    pub fn new(events: &'a Sender<TrainEvent>, run: Run, summary: Summary) -> Result<Reporter<'a>> {
        Ok(Reporter {
            events,
            metrics: run.metrics_writer()?,
            run,
            summary,
            phase_written: Cell::new(None),
        })
    }

    pub fn run_id(&self) -> String {
        self.run.id.clone()
    }

    pub fn send(&self, e: TrainEvent) {
        let _ = self.events.send(e);
    }

    /// A phase, on the channel and (progress at most once a second) in the phase file.
    pub fn phase(&self, phase: Phase) {
        let due = !phase.is_progress()
            || self
                .phase_written
                .get()
                .is_none_or(|t| t.elapsed() >= PHASE_EVERY);
        if due {
            if phase.is_progress() {
                self.phase_written.set(Some(Instant::now()));
            }
            let _ = self.run.set_phase(&phase.to_string());
        }
        self.send(TrainEvent::Phase {
            run_id: Some(self.run_id()),
            phase,
        });
    }

    /// Back to training steps: said in the phase file only (in-process watchers learn it from
    /// the step events themselves).
    pub fn training_phase(&self) {
        let _ = self.run.set_phase(&Phase::Training.to_string());
        self.phase_written.set(None);
    }

    /// Where this run's time went, earlier sessions' included: kept in the summary, so every
    /// summary written carries it.
    pub fn split(&mut self) -> &mut TimeSplit {
        self.summary.time_split.get_or_insert_default()
    }

    /// The training steps' host↔device crossings, earlier sessions' included (in the summary).
    pub fn transfers(&mut self) -> &mut crate::store::Transfers {
        self.summary.transfers.get_or_insert_default()
    }

    /// A step record: into the metrics file, the summary and the channel.
    pub fn step(&mut self, rec: StepRecord) -> Result<()> {
        self.summary.images_per_s = Some(rec.images_per_s);
        self.summary.train_loss = Some(rec.loss);
        self.metrics.append(&MetricRecord::Step(rec.clone()))?;
        self.send(TrainEvent::Step {
            run_id: self.run_id(),
            record: rec,
        });
        Ok(())
    }

    /// An evaluation's record: into the metrics file, the summary and the channel.
    pub fn evaluation(&mut self, rec: EpochRecord) -> Result<()> {
        self.metrics.append(&MetricRecord::Epoch(rec.clone()))?;
        super::trainer::update_summary(&mut self.summary, &rec, rec.robust.as_ref());
        self.summary.evaluations_done = rec.evaluation;
        self.summary.steps_done = rec.step;
        self.summary.duration_s = rec.elapsed_s;
        self.send(TrainEvent::Epoch {
            run_id: self.run_id(),
            record: rec,
        });
        Ok(())
    }

    /// A catastrophic-overfitting check: into the metrics file and the channel (the lab shows
    /// an alarm); an alarm also as the run's phase.
    pub fn overfit(&mut self, rec: OverfitRecord, best_before: f64) -> Result<()> {
        self.metrics.append(&MetricRecord::Overfit(rec))?;
        if rec.stat.alarm {
            self.phase(Phase::OverfitAlarm {
                what: format!("step {}: {}", rec.step, rec.stat.describe(best_before)),
            });
        }
        self.send(TrainEvent::Overfit {
            run_id: self.run_id(),
            record: rec,
        });
        Ok(())
    }

    pub fn write_summary(&self) -> Result<()> {
        Ok(self.run.write_summary(&self.summary)?)
    }
}
