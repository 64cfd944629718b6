//! The loop: terminal events on a thread, trainer events forwarded from workers, SIGTERM/SIGHUP
//! from a handler thread, all into one channel. Effects from `App::update` are carried out here.
//! Redraws happen only when the state says something changed, at most ~30 a second.

use super::app::{App, Effect, Msg};
use super::compare::CompareState;
use super::live::LiveRun;
use super::{Options, draw};
use crate::report::run_rows;
use crate::store::RunStore;
use crate::train::{Control, TrainJob, WorkerHandle, spawn};
use crossterm::event::{self as ct, Event, KeyEventKind};
use std::collections::HashMap;
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, channel};
use std::time::{Duration, Instant};

fn spawn_terminal_events(tx: Sender<Msg>) {
    std::thread::spawn(move || {
        let mut last_tick = Instant::now();
        loop {
            let msg = match ct::poll(Duration::from_millis(250)) {
                Ok(true) => match ct::read() {
                    Ok(Event::Key(k)) if k.kind != KeyEventKind::Release => Some(Msg::Key(k)),
                    Ok(Event::Resize(..)) => Some(Msg::Resize),
                    // With --mouse: the wheel moves through lists like the arrow keys.
                    Ok(Event::Mouse(m)) => match m.kind {
                        ct::MouseEventKind::ScrollDown => {
                            Some(Msg::Key(ct::KeyEvent::from(ct::KeyCode::Down)))
                        }
                        ct::MouseEventKind::ScrollUp => {
                            Some(Msg::Key(ct::KeyEvent::from(ct::KeyCode::Up)))
                        }
                        _ => None,
                    },
                    Ok(_) => None,
                    Err(_) => return,
                },
                Ok(false) => None,
                Err(_) => return,
            };
            if let Some(m) = msg
                && tx.send(m).is_err()
            {
                return;
            }
            if last_tick.elapsed() >= Duration::from_millis(250) {
                last_tick = Instant::now();
                if tx.send(Msg::Tick).is_err() {
                    return;
                }
            }
        }
    });
}

fn spawn_signals(tx: Sender<Msg>) {
    use signal_hook::consts::{SIGHUP, SIGTERM};
    if let Ok(mut signals) = signal_hook::iterator::Signals::new([SIGTERM, SIGHUP]) {
        std::thread::spawn(move || {
            for _ in signals.forever() {
                if tx.send(Msg::Terminate).is_err() {
                    return;
                }
            }
        });
    }
}

struct Workers {
    handles: HashMap<String, WorkerHandle>,
    tx: Sender<Msg>,
    data_dir: Option<std::path::PathBuf>,
}

impl Workers {
    fn launch(&mut self, key: String, job: TrainJob) {
        let (wtx, wrx) = channel();
        let fwd = self.tx.clone();
        let k = key.clone();
        std::thread::spawn(move || {
            for event in wrx {
                if fwd
                    .send(Msg::Train {
                        key: k.clone(),
                        event,
                    })
                    .is_err()
                {
                    return;
                }
            }
        });
        self.handles.insert(key, spawn(job, wtx));
    }

    fn stop_all(&self) {
        for w in self.handles.values() {
            w.send(Control::Resume);
            w.send(Control::Stop);
        }
    }
}

fn apply_effects(app: &mut App, workers: &mut Workers, store: &RunStore) -> bool {
    let data_dir = workers.data_dir.clone();
    let mut dirty = false;
    for e in std::mem::take(&mut app.effects) {
        dirty = true;
        match e {
            Effect::Launch {
                key,
                preset,
                seed,
                device,
            } => {
                let job = TrainJob {
                    preset: *preset,
                    seed,
                    device,
                    data_dir: data_dir.clone(),
                    store: store.clone(),
                    resume: None,
                    sweep: None,
                    point: None,
                };
                workers.launch(key, job);
            }
            Effect::Control { key, control } => {
                if let Some(w) = workers.handles.get(&key) {
                    w.send(control);
                }
            }
            Effect::StopAll => workers.stop_all(),
            Effect::Delete(id) => match store.delete(&id) {
                Ok(()) => {
                    app.set_message(format!("deleted {id}"), false);
                    app.effects.push(Effect::RefreshRuns);
                }
                Err(e) => app.set_message(e.to_string(), true),
            },
            Effect::RefreshRuns => match run_rows(store) {
                Ok(rows) => {
                    app.runs.error = None;
                    app.runs.set_rows(rows);
                }
                Err(e) => app.runs.error = Some(e.to_string()),
            },
            Effect::LoadCompare(ids) => match CompareState::load(store, &ids) {
                Ok(c) => app.compare = c,
                Err(e) => app.set_message(e, true),
            },
            Effect::OpenRun(id) => match store.open(&id) {
                Ok(run) => app.open_stored(LiveRun::from_store(&run)),
                Err(e) => app.set_message(e.to_string(), true),
            },
        }
    }
    // Effects may queue effects (a delete refreshes the table).
    if !app.effects.is_empty() {
        apply_effects(app, workers, store);
    }
    dirty
}

fn main_loop(
    terminal: &mut ratatui::DefaultTerminal,
    app: &mut App,
    rx: &Receiver<Msg>,
    workers: &mut Workers,
    store: &RunStore,
) -> std::io::Result<()> {
    apply_effects(app, workers, store);
    terminal.draw(|f| draw(f, app))?;
    let frame = Duration::from_millis(33);
    let mut last_draw = Instant::now();
    let mut dirty = false;
    // Graphics drivers may print to stderr while a worker looks for a GPU: repaint the whole
    // screen once the worker has started, so no stray text stays on it.
    let mut repaint = false;
    let take = |app: &mut App, m: Msg, repaint: &mut bool| -> bool {
        if let Msg::Train {
            event: crate::train::TrainEvent::Started { .. },
            ..
        } = &m
        {
            *repaint = true;
        }
        app.update(m)
    };
    while !app.quit {
        match rx.recv_timeout(frame) {
            Ok(m) => dirty |= take(app, m, &mut repaint),
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => break,
        }
        while let Ok(m) = rx.try_recv() {
            dirty |= take(app, m, &mut repaint);
        }
        dirty |= apply_effects(app, workers, store);
        if repaint {
            terminal.clear()?;
            repaint = false;
            dirty = true;
        }
        if dirty && !app.quit && last_draw.elapsed() >= frame {
            terminal.draw(|f| draw(f, app))?;
            last_draw = Instant::now();
            dirty = false;
        }
    }
    Ok(())
}

pub fn run(store: &RunStore, opts: Options, data_dir: Option<std::path::PathBuf>) -> i32 {
    let (tx, rx) = channel();
    let mut app = App::new(store.clone(), opts);
    let mut workers = Workers {
        handles: HashMap::new(),
        tx: tx.clone(),
        data_dir,
    };
    // ratatui::init restores the terminal on panic too.
    let mut terminal = ratatui::init();
    if opts.mouse {
        let _ = crossterm::execute!(std::io::stdout(), crossterm::event::EnableMouseCapture);
    }
    spawn_terminal_events(tx.clone());
    spawn_signals(tx.clone());
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        main_loop(&mut terminal, &mut app, &rx, &mut workers, store)
    }));
    if opts.mouse {
        let _ = crossterm::execute!(std::io::stdout(), crossterm::event::DisableMouseCapture);
    }
    ratatui::restore();
    // Whatever ended the loop, no training is lost: stop every worker with a checkpoint.
    if !workers.handles.is_empty() {
        workers.stop_all();
        for (_, w) in workers.handles.drain() {
            w.join();
        }
    }
    match result {
        Ok(Ok(())) => 0,
        Ok(Err(e)) => crate::cli::fail(e),
        Err(p) => std::panic::resume_unwind(p),
    }
}
