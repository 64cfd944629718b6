//! The loop: terminal events on a thread, trainer events forwarded from workers, SIGTERM/SIGHUP
//! from a handler thread and the store worker's answers, all into one channel. Effects from
//! `App::update` are carried out by an `Executor`, whose work ends on other threads; what it
//! produces comes back as messages. Redraws happen only when the state says something changed,
//! at most ~30 a second.

use super::app::{App, Effect, Msg};
use super::store_worker::{StoreRequest, StoreWorker};
use super::{Options, draw};
use crate::store::RunStore;
use crate::train::{Control, TrainJob, WorkerHandle, spawn};
use crossterm::event::{self as ct, Event, KeyEventKind};
use std::collections::HashMap;
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, channel};
use std::time::{Duration, Instant};

/// What the terminal's input side says after a wait.
#[derive(Debug, PartialEq)]
enum Input {
    /// Bytes are waiting (keys, mouse, an answer from the terminal).
    Ready,
    /// Nothing came within the wait.
    Idle,
    /// The terminal is gone: a closed window, a dropped link, a killed tmux pane.
    HungUp,
}

/// Waits up to `wait` for input on `fd` (stdin, which `tui::run` checked is a terminal, and the
/// descriptor crossterm reads).
///
/// The lab waits here rather than inside crossterm: crossterm 0.29's reader retries a read that
/// fails with EIO or returns 0 without sleeping, so once the terminal is gone it spins forever
/// inside `event::poll`, holding its reader lock. A lab waiting there would burn a core, never
/// hear the hangup, and any other call that takes that lock would hang.
fn wait_input(fd: i32, wait: Duration) -> Input {
    let mut p = libc::pollfd {
        fd,
        events: libc::POLLIN,
        revents: 0,
    };
    let ms = wait.as_millis().min(i32::MAX as u128) as i32;
    // SAFETY: one valid pollfd that outlives the call.
    let n = unsafe { libc::poll(&mut p, 1, ms) };
    if n < 0 {
        return match std::io::Error::last_os_error().kind() {
            std::io::ErrorKind::Interrupted => Input::Idle,
            _ => Input::HungUp,
        };
    }
    // A hung-up terminal also reports POLLIN: the hangup bits decide first.
    if p.revents & (libc::POLLHUP | libc::POLLERR | libc::POLLNVAL) != 0 {
        Input::HungUp
    } else if p.revents & libc::POLLIN != 0 {
        Input::Ready
    } else {
        Input::Idle
    }
}

/// Terminal events on their own thread. crossterm is asked only when bytes are waiting, with a
/// zero timeout, so it takes what is buffered and returns; resizes come from SIGWINCH on the
/// signal thread. A hangup is a `Terminate`, as SIGHUP is: a lab whose hangup signal went
/// elsewhere (a wrapper shell that ignores it) still stops its trainers and leaves.
fn spawn_terminal_events(tx: Sender<Msg>) {
    std::thread::spawn(move || {
        let mut last_tick = Instant::now();
        loop {
            match wait_input(libc::STDIN_FILENO, Duration::from_millis(250)) {
                Input::HungUp => {
                    let _ = tx.send(Msg::Terminate);
                    return;
                }
                Input::Ready => {
                    while let Ok(true) = ct::poll(Duration::ZERO) {
                        let Ok(event) = ct::read() else {
                            let _ = tx.send(Msg::Terminate);
                            return;
                        };
                        if let Some(m) = message(event)
                            && tx.send(m).is_err()
                        {
                            return;
                        }
                    }
                }
                Input::Idle => {}
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

/// The lab's message for a terminal event, if it has one.
fn message(event: Event) -> Option<Msg> {
    match event {
        Event::Key(k) if k.kind != KeyEventKind::Release => Some(Msg::Key(k)),
        Event::Resize(..) => Some(Msg::Resize),
        // With --mouse: the wheel moves through lists like the arrow keys.
        Event::Mouse(m) => match m.kind {
            ct::MouseEventKind::ScrollDown => Some(Msg::Key(ct::KeyEvent::from(ct::KeyCode::Down))),
            ct::MouseEventKind::ScrollUp => Some(Msg::Key(ct::KeyEvent::from(ct::KeyCode::Up))),
            _ => None,
        },
        _ => None,
    }
}

/// SIGTERM and SIGHUP stop the lab's trainers with a checkpoint; SIGWINCH redraws.
fn spawn_signals(tx: Sender<Msg>) {
    use signal_hook::consts::{SIGHUP, SIGTERM, SIGWINCH};
    if let Ok(mut signals) = signal_hook::iterator::Signals::new([SIGTERM, SIGHUP, SIGWINCH]) {
        std::thread::spawn(move || {
            for sig in signals.forever() {
                let m = if sig == SIGWINCH {
                    Msg::Resize
                } else {
                    Msg::Terminate
                };
                if tx.send(m).is_err() {
                    return;
                }
            }
        });
    }
}

/// Carries out effects: trainers on worker threads, store work on the store worker. Nothing
/// here waits on training or on the disk.
pub struct Executor {
    workers: HashMap<String, WorkerHandle>,
    store_worker: StoreWorker,
    tx: Sender<Msg>,
    store: RunStore,
    data_dir: Option<std::path::PathBuf>,
}

impl Executor {
    pub fn new(
        store: &RunStore,
        data_dir: Option<std::path::PathBuf>,
        tx: Sender<Msg>,
    ) -> Executor {
        Executor {
            workers: HashMap::new(),
            store_worker: StoreWorker::spawn(store.clone(), tx.clone()),
            tx,
            store: store.clone(),
            data_dir,
        }
    }

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
        self.workers.insert(key, spawn(job, wtx));
    }

    fn stop_all(&self) {
        for w in self.workers.values() {
            w.send(Control::Resume);
            w.send(Control::Stop);
        }
    }

    /// Stop every trainer with a checkpoint and wait for them (the lab is closing).
    pub fn shutdown(&mut self) {
        self.stop_all();
        for (_, w) in self.workers.drain() {
            w.join();
        }
    }

    pub fn run(&mut self, effects: Vec<Effect>) {
        for e in effects {
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
                        data_dir: self.data_dir.clone(),
                        store: self.store.clone(),
                        resume: None,
                        prepared: None,
                        sweep: None,
                        point: None,
                    };
                    self.launch(key, job);
                }
                Effect::Detach {
                    id,
                    preset,
                    seed,
                    device,
                } => {
                    // Creating the folder and forking happen off the UI thread; the answer
                    // comes back as a message.
                    let (store, data_dir, tx) =
                        (self.store.clone(), self.data_dir.clone(), self.tx.clone());
                    std::thread::spawn(move || {
                        let result = super::detach::detach(
                            &store,
                            &id,
                            &preset,
                            seed,
                            device,
                            data_dir.as_deref(),
                        )
                        .map_err(|e| format!("{e:#}"));
                        let _ = tx.send(Msg::Detached { id, result });
                    });
                }
                Effect::LoadData { spec, threshold } => {
                    let (data_dir, tx) = (self.data_dir.clone(), self.tx.clone());
                    std::thread::spawn(move || {
                        let say = |p: String| {
                            let _ = tx.send(Msg::DataProgress(p));
                        };
                        let r = super::data_view::load_view(
                            &spec,
                            data_dir.as_deref(),
                            threshold,
                            &say,
                        );
                        // Messages carry the text the status line shows.
                        let r = r.map(std::sync::Arc::new).map_err(|e| format!("{e:#}"));
                        let _ = tx.send(Msg::DataLoaded(r));
                    });
                }
                Effect::LoadMembership { sweep } => {
                    let (store, data_dir, tx) =
                        (self.store.clone(), self.data_dir.clone(), self.tx.clone());
                    std::thread::spawn(move || {
                        let say = |p: String| {
                            let _ = tx.send(Msg::MembershipProgress(p));
                        };
                        let r =
                            super::membership::load_view(&store, &sweep, data_dir.as_deref(), &say);
                        let _ = tx.send(Msg::MembershipLoaded {
                            sweep,
                            result: r.map(std::sync::Arc::new),
                        });
                    });
                }
                Effect::Control { key, control } => {
                    if let Some(w) = self.workers.get(&key) {
                        w.send(control);
                    }
                }
                Effect::StopAll => self.stop_all(),
                store => {
                    if let Some(r) = StoreRequest::of(store) {
                        self.store_worker.send(r);
                    }
                }
            }
        }
    }
}

/// Everything the lab is, without a terminal: the app, what carries out its effects, and the
/// channel every message arrives on. The terminal loop and `duplab bench --tui` both drive it.
pub struct Lab {
    pub app: App,
    pub exec: Executor,
    pub rx: Receiver<Msg>,
    pub tx: Sender<Msg>,
}

impl Lab {
    pub fn new(store: &RunStore, opts: Options, data_dir: Option<std::path::PathBuf>) -> Lab {
        let (tx, rx) = channel();
        let mut app = App::new(store.clone(), opts);
        let mut exec = Executor::new(store, data_dir, tx.clone());
        exec.run(app.take_effects());
        Lab { app, exec, rx, tx }
    }

    /// Apply one message and carry out what it asked for. Returns whether to redraw.
    pub fn handle(&mut self, m: Msg) -> bool {
        let dirty = self.app.update(m);
        let effects = self.app.take_effects();
        let more = !effects.is_empty();
        self.exec.run(effects);
        dirty || more
    }

    /// Every message waiting now, without blocking. Returns whether to redraw.
    pub fn drain(&mut self) -> bool {
        let mut dirty = false;
        while let Ok(m) = self.rx.try_recv() {
            dirty |= self.handle(m);
        }
        dirty
    }
}

fn main_loop(terminal: &mut ratatui::DefaultTerminal, lab: &mut Lab) -> std::io::Result<()> {
    terminal.draw(|f| draw(f, &lab.app))?;
    let frame = Duration::from_millis(33);
    let mut last_draw = Instant::now();
    let mut dirty = false;
    while !lab.app.should_quit() {
        let m = match lab.rx.recv_timeout(frame) {
            Ok(m) => Some(m),
            Err(RecvTimeoutError::Timeout) => None,
            Err(RecvTimeoutError::Disconnected) => break,
        };
        // Graphics drivers may print to stderr while a worker looks for a GPU: repaint the
        // whole screen once the worker has started, so no stray text stays on it.
        let repaint = matches!(
            &m,
            Some(Msg::Train {
                event: crate::train::TrainEvent::Started { .. },
                ..
            })
        );
        if let Some(m) = m {
            dirty |= lab.handle(m);
        }
        dirty |= lab.drain();
        if repaint {
            // Not `terminal.clear()`: it asks the terminal where the cursor is and waits for
            // the answer on crossterm's reader lock, which hangs if the terminal has just gone
            // (and fails after 2 s on a slow link). A resize to the same area clears the screen
            // and the back buffer without asking.
            let size = terminal.size()?;
            terminal.resize(ratatui::layout::Rect::new(0, 0, size.width, size.height))?;
            dirty = true;
        }
        if dirty && !lab.app.should_quit() && last_draw.elapsed() >= frame {
            terminal.draw(|f| draw(f, &lab.app))?;
            last_draw = Instant::now();
            dirty = false;
        }
    }
    Ok(())
}

pub fn run(
    store: &RunStore,
    opts: Options,
    data_dir: Option<std::path::PathBuf>,
) -> std::io::Result<()> {
    let mut lab = Lab::new(store, opts, data_dir);
    // ratatui::init restores the terminal on panic too.
    let mut terminal = ratatui::init();
    if opts.mouse {
        let _ = crossterm::execute!(std::io::stdout(), crossterm::event::EnableMouseCapture);
    }
    spawn_terminal_events(lab.tx.clone());
    spawn_signals(lab.tx.clone());
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        main_loop(&mut terminal, &mut lab)
    }));
    // Whatever ended the loop, no training is lost: stop every in-process worker with a
    // checkpoint, first. When the terminal is gone (a closed window, a dropped link), anything
    // written to it fails, and a failed write in a restore would otherwise end the process
    // before the trainers' stop path ran.
    lab.exec.shutdown();
    let _ = std::panic::catch_unwind(|| {
        if opts.mouse {
            let _ = crossterm::execute!(std::io::stdout(), crossterm::event::DisableMouseCapture);
        }
        ratatui::restore();
    });
    if let Some(line) = lab.app.farewell() {
        use std::io::Write;
        let _ = writeln!(std::io::stderr(), "{line}");
    }
    match result {
        Ok(r) => r,
        Err(p) => std::panic::resume_unwind(p),
    }
}

#[cfg(test)]
mod tests {
    use super::{Input, wait_input};
    use std::time::Duration;

    /// A pipe stands in for the terminal: poll reports a closed writer as POLLHUP, as it does a
    /// hung-up terminal.
    #[test]
    fn wait_input_tells_idle_ready_and_hung_up_apart() {
        let mut fds = [0i32; 2];
        // SAFETY: a two-element array for pipe(2) to fill.
        assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
        let [r, w] = fds;
        assert_eq!(wait_input(r, Duration::from_millis(10)), Input::Idle);
        // SAFETY: writes one byte from a live buffer to the pipe's open write end.
        assert_eq!(unsafe { libc::write(w, b"q".as_ptr().cast(), 1) }, 1);
        assert_eq!(wait_input(r, Duration::from_millis(10)), Input::Ready);
        // SAFETY: closes the write end this test opened, once.
        unsafe { libc::close(w) };
        // Unread bytes do not hide the hangup.
        assert_eq!(wait_input(r, Duration::from_millis(10)), Input::HungUp);
        // SAFETY: closes the read end this test opened, once.
        unsafe { libc::close(r) };
    }
}
