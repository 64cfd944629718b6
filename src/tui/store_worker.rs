//! The store worker (gitui's async jobs): every read and delete in the run store happens on this
//! thread, never on the UI thread. Requests come in over a channel; answers go out as `Msg`s.
//! Runs opened on the live screen are *followed*: their `metrics.jsonl` is read from the last
//! byte offset, in bounded chunks, and only new lines are sent (`MetricsAppended`).

use super::app::{Effect, Msg};
use super::compare::CompareState;
use super::presets::PresetsState;
use crate::report::run_rows;
use crate::spec::Preset;
use crate::store::{ControlCommand, MetricsTail, Run, RunStatus, RunStore};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, channel};
use std::time::Duration;

#[derive(Debug, Clone, PartialEq)]
pub enum StoreRequest {
    LoadRuns,
    Open(String),
    LoadCompare(Vec<String>),
    Delete(String),
    Control(String, ControlCommand),
    SavePreset(Box<Preset>),
}

impl StoreRequest {
    /// The store work an effect asks for (`None` for trainer effects).
    pub fn of(e: Effect) -> Option<StoreRequest> {
        match e {
            Effect::Delete(id) => Some(StoreRequest::Delete(id)),
            Effect::LoadRuns => Some(StoreRequest::LoadRuns),
            Effect::LoadCompare(ids) => Some(StoreRequest::LoadCompare(ids)),
            Effect::OpenRun(id) => Some(StoreRequest::Open(id)),
            Effect::ControlRun { id, command } => Some(StoreRequest::Control(id, command)),
            Effect::SavePreset(p) => Some(StoreRequest::SavePreset(p)),
            Effect::Launch { .. }
            | Effect::Detach { .. }
            | Effect::LoadData { .. }
            | Effect::LoadMembership { .. }
            | Effect::Control { .. }
            | Effect::StopAll => None,
        }
    }
}

/// Bytes of `metrics.jsonl` parsed per message: a 228 MB file arrives in pieces, so the first
/// part of its curves shows while the rest is read, and each message stays cheap to apply.
pub const CHUNK: usize = 4 << 20;
/// How often followed runs are checked for new lines.
const POLL: Duration = Duration::from_millis(500);

struct Followed {
    id: String,
    tail: MetricsTail,
    /// What was last sent: a message goes out when any of it changes, even with no new lines
    /// (a run paused from elsewhere, a trainer that wrote its config or moved to a new phase).
    status: Option<RunStatus>,
    has_config: bool,
    phase: String,
}

pub struct StoreWorker {
    tx: Sender<StoreRequest>,
}

impl StoreWorker {
    pub fn spawn(store: RunStore, out: Sender<Msg>) -> StoreWorker {
        let (tx, rx) = channel();
        std::thread::Builder::new()
            .name("duplab-store".into())
            .spawn(move || serve(&store, &rx, &out))
            .expect("a thread can be started");
        StoreWorker { tx }
    }

    pub fn send(&self, r: StoreRequest) {
        let _ = self.tx.send(r);
    }
}

fn serve(store: &RunStore, rx: &Receiver<StoreRequest>, out: &Sender<Msg>) {
    let mut followed: Vec<Followed> = vec![];
    loop {
        // Wait for work; wake up to poll followed runs; drain what queued up meanwhile and
        // drop repeats (a burst of refreshes is one read).
        let wait = if followed.is_empty() {
            Duration::from_secs(3600)
        } else {
            POLL
        };
        let mut batch = vec![];
        match rx.recv_timeout(wait) {
            Ok(r) => batch.push(r),
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => return,
        }
        while let Ok(r) = rx.try_recv() {
            if !batch.contains(&r) {
                batch.push(r);
            }
        }
        for r in batch {
            if out.send(answer(store, r, &mut followed)).is_err() {
                return;
            }
        }
        if !follow(store, &mut followed, out) {
            return;
        }
    }
}

/// One request's answer; `Open` starts following the run.
fn answer(store: &RunStore, r: StoreRequest, followed: &mut Vec<Followed>) -> Msg {
    match r {
        StoreRequest::LoadRuns => Msg::RunsLoaded(run_rows(store).map_err(|e| e.to_string())),
        StoreRequest::LoadCompare(ids) => Msg::CompareLoaded(
            CompareState::load(store, &ids)
                .map(Box::new)
                .map_err(|e| format!("{e:#}")),
        ),
        StoreRequest::SavePreset(p) => Msg::PresetSaved(
            PresetsState::save_dir()
                .and_then(|dir| super::presets::write_preset(&p, &dir))
                .map_err(|e| format!("{e:#}")),
        ),
        StoreRequest::Delete(id) => Msg::Deleted {
            result: store.delete(&id).map_err(|e| e.to_string()),
            id,
        },
        StoreRequest::Control(id, command) => Msg::ControlSent {
            result: send_control(store, &id, command).map_err(|e| format!("{e:#}")),
            id,
            command,
        },
        StoreRequest::Open(id) => match store.open(&id) {
            Ok(run) => {
                followed.retain(|f| f.id != run.id);
                let config = run.config().ok().flatten().map(Box::new);
                let card = run
                    .summary()
                    .ok()
                    .flatten()
                    .and_then(|s| s.card)
                    .map(Box::new);
                followed.push(Followed {
                    id: run.id.clone(),
                    tail: MetricsTail::default(),
                    status: None,
                    has_config: config.is_some(),
                    phase: String::new(),
                });
                Msg::RunOpened {
                    id: run.id.clone(),
                    result: Ok((config, run.status(), card)),
                }
            }
            Err(e) => Msg::RunOpened {
                id,
                result: Err(e.to_string()),
            },
        },
    }
}

/// The worker's answers to one request, computed on the calling thread, with an opened run
/// read to its end (screenshots and tests, which want the whole answer at once).
pub fn answer_now(store: &RunStore, r: StoreRequest) -> Vec<Msg> {
    let (tx, rx) = channel();
    let mut followed = vec![];
    let _ = tx.send(answer(store, r, &mut followed));
    follow(store, &mut followed, &tx);
    drop(tx);
    rx.iter().collect()
}

/// Write a control command into a run's folder, if a trainer is there to read it.
fn send_control(store: &RunStore, id: &str, command: ControlCommand) -> anyhow::Result<()> {
    let run = store.open(id)?;
    let status = run.status();
    if !status.is_live() {
        anyhow::bail!("run {id} is not training (status {})", status.name());
    }
    Ok(run.send_control(command)?)
}

/// What a followed run's trainer says it is doing: its phase file while it trains, the error
/// of a failed run.
fn phase_of(run: &Run, status: RunStatus) -> String {
    match status {
        RunStatus::Running | RunStatus::Paused => run.phase(),
        RunStatus::Failed => run
            .summary()
            .ok()
            .flatten()
            .and_then(|s| s.error)
            .map(|e| format!("failed: {e}"))
            .unwrap_or_default(),
        RunStatus::Interrupted => format!(
            "interrupted; continue with duplab train --resume {}",
            run.id
        ),
        RunStatus::Finished => String::new(),
    }
}

/// New lines of every followed run, a chunk at a time until each is at its end. A run whose
/// trainer is done (any status but running or paused) is dropped once read to its end.
fn follow(store: &RunStore, followed: &mut Vec<Followed>, out: &Sender<Msg>) -> bool {
    let mut keep = vec![];
    for mut f in followed.drain(..) {
        let Ok(run) = store.open(&f.id) else { continue };
        let path = run.metrics_path();
        loop {
            let status = run.status();
            let config = if f.has_config {
                None
            } else {
                run.config().ok().flatten().map(Box::new)
            };
            f.has_config |= config.is_some();
            let phase = Some(phase_of(&run, status)).filter(|p| *p != f.phase);
            if let Some(p) = &phase {
                f.phase = p.clone();
            }
            let read = match f.tail.read(&path, CHUNK) {
                Ok(r) => r,
                // No metrics yet (a trainer still loading its data) is not an error.
                Err(_) => crate::store::TailRead {
                    records: vec![],
                    restarted: false,
                    at_end: true,
                },
            };
            let changed = f.status != Some(status) || config.is_some() || phase.is_some();
            if !read.records.is_empty() || read.restarted || changed {
                f.status = Some(status);
                let msg = Msg::MetricsAppended {
                    id: f.id.clone(),
                    records: read.records,
                    status,
                    from_start: read.restarted,
                    config,
                    phase,
                };
                if out.send(msg).is_err() {
                    return false;
                }
            }
            if read.at_end {
                if status.is_live() {
                    keep.push(f);
                }
                break;
            }
        }
    }
    *followed = keep;
    true
}
