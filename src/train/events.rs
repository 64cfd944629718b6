use crate::store::{
    EpochRecord, OverfitRecord, Phase, RobustRecord, RunConfig, StepRecord, Summary,
};

/// What a trainer reports. Every event names its run, so several workers can share one channel.
#[derive(Debug, Clone)]
pub enum TrainEvent {
    /// The run folder exists and training is about to start (at `start_step` when resumed).
    /// `config` is what `config.json` holds: backend, adapter, plan, class names, lengths.
    Started {
        run_id: String,
        config: Box<RunConfig>,
        start_step: usize,
    },
    /// Training-batch metrics, at a bounded rate.
    Step {
        run_id: String,
        record: StepRecord,
    },
    /// Test-set results (clean, and robust when due), per class.
    Epoch {
        run_id: String,
        record: EpochRecord,
    },
    /// A catastrophic-overfitting check (FGSM / FGSM-RS training).
    Overfit {
        run_id: String,
        record: OverfitRecord,
    },
    /// A robust evaluation of a finished run (`duplab eval`).
    Robust {
        run_id: String,
        record: RobustRecord,
    },
    CheckpointSaved {
        run_id: String,
        step: usize,
    },
    Paused {
        run_id: String,
    },
    Resumed {
        run_id: String,
    },
    /// Long work outside training steps (loading, evaluation), for progress display; the
    /// command line and the lab show its words (`Phase`'s `Display`).
    Phase {
        run_id: Option<String>,
        phase: Phase,
    },
    Finished {
        run_id: String,
        summary: Summary,
    },
    /// Stopped on request; a checkpoint was written, status `interrupted`; `--resume` continues.
    Stopped {
        run_id: String,
        step: usize,
    },
    Failed {
        run_id: Option<String>,
        error: String,
    },
}

impl TrainEvent {
    pub fn run_id(&self) -> Option<&str> {
        match self {
            TrainEvent::Started { run_id, .. }
            | TrainEvent::Step { run_id, .. }
            | TrainEvent::Epoch { run_id, .. }
            | TrainEvent::Overfit { run_id, .. }
            | TrainEvent::Robust { run_id, .. }
            | TrainEvent::CheckpointSaved { run_id, .. }
            | TrainEvent::Paused { run_id }
            | TrainEvent::Resumed { run_id }
            | TrainEvent::Finished { run_id, .. }
            | TrainEvent::Stopped { run_id, .. } => Some(run_id),
            TrainEvent::Phase { run_id, .. } | TrainEvent::Failed { run_id, .. } => {
                run_id.as_deref()
            }
        }
    }

    /// Whether the worker is done after this event.
    pub fn is_final(&self) -> bool {
        matches!(
            self,
            TrainEvent::Finished { .. } | TrainEvent::Stopped { .. } | TrainEvent::Failed { .. }
        )
    }
}

/// What a UI or signal handler asks of a running trainer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Control {
    Pause,
    Resume,
    /// Checkpoint and stop; the run is marked `interrupted` and can be resumed.
    Stop,
}
