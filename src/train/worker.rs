//! The background worker (gitui style): training runs on its own thread and reports back through
//! a channel; the caller never waits on it. An error or a panic inside training ends as a run with
//! status `failed` and a `Failed` event, never a hung caller.

use super::setup::panic_error;
use super::trainer::{RunLost, TrainJob, run_job};
use super::{Control, TrainEvent};
use crate::store::Run;
use std::panic::AssertUnwindSafe;
use std::sync::mpsc::{Sender, channel};
use std::thread::JoinHandle;

pub struct WorkerHandle {
    control: Sender<Control>,
    pub thread: JoinHandle<()>,
}

impl WorkerHandle {
    pub fn send(&self, c: Control) {
        let _ = self.control.send(c);
    }
    pub fn join(self) {
        let _ = self.thread.join();
    }
}

/// Start `job` on a new thread; its events go to `events`.
pub fn spawn(job: TrainJob, events: Sender<TrainEvent>) -> WorkerHandle {
    let (control, control_rx) = channel();
    let thread = std::thread::Builder::new()
        .name(format!("trainer-{}", job.preset.name))
        .spawn(move || {
            // `run_job` turns a panic inside the job into an error with its run folder; this
            // guard is for one outside it.
            let outcome =
                std::panic::catch_unwind(AssertUnwindSafe(|| run_job(&job, &events, &control_rx)));
            let (run, error): (Option<Run>, String) = match outcome {
                Ok(Ok(_)) => return,
                // A run this trainer no longer owns is not its to mark.
                Ok(Err(e)) if e.error.downcast_ref::<RunLost>().is_some() => (None, e.to_string()),
                Ok(Err(e)) => (e.run.clone(), e.to_string()),
                Err(p) => (None, panic_error(p.as_ref()).to_string()),
            };
            if let Some(run) = &run {
                let _ = run.mark_failed(&error);
            }
            let _ = events.send(TrainEvent::Failed {
                run_id: run.map(|r| r.id),
                error,
            });
        })
        .expect("the OS can start a thread");
    WorkerHandle { control, thread }
}
