//! The app's state and the one place it changes: `App::update`. Side effects (start a worker,
//! send it a control, read or delete in the store) are returned as `Effect`s for the loop to
//! carry out, and what they produce comes back as `Msg`s, so key handling is testable without a
//! terminal, threads or disk. Each screen's key handling lives beside its state (`presets.rs`,
//! `live.rs`, `runs.rs`, `compare.rs`, `dialog.rs`); keys are looked up in `keys.rs`' tables.

use super::Options;
use super::compare::CompareState;
use super::data_view::{DataState, DataView};
use super::dialog::Dialog;
use super::keys::{self, Action};
use super::live::{LiveRun, LiveState};
use super::membership::{MembershipState, MembershipView};
use super::presets::PresetsState;
use super::reply::{Ask, Reply};
use super::runs::RunsState;
use crate::backend::DeviceChoice;
use crate::report::RunRow;
use crate::spec::DataSpec;
use crate::spec::Preset;
use crate::store::{CardStat, ControlCommand, MetricRecord, RunConfig, RunStatus, RunStore};
use crate::train::{Control, TrainEvent};
use crossterm::event::KeyEvent;
use std::collections::HashSet;
use std::sync::Arc;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Screen {
    Presets,
    Live,
    Runs,
    Compare,
    Data,
    Membership,
}

impl Screen {
    pub const ALL: [Screen; 6] = [
        Screen::Presets,
        Screen::Live,
        Screen::Runs,
        Screen::Compare,
        Screen::Data,
        Screen::Membership,
    ];
    pub fn title(self) -> &'static str {
        match self {
            Screen::Presets => "Presets",
            Screen::Live => "Live",
            Screen::Runs => "Runs",
            Screen::Compare => "Compare",
            Screen::Data => "Data",
            Screen::Membership => "Membership",
        }
    }
}

/// The live screen's side panel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SidePanel {
    /// Per-class clean and robust accuracy, training counts.
    #[default]
    Classes,
    /// Group losses over the run and membership inference per group.
    Groups,
    /// Group losses per class (duplicated vs unique vs test).
    GroupsByClass,
    /// The evaluation card (`duplab eval --card`): the attack ladder and its sanity flags.
    Card,
}

impl SidePanel {
    pub fn next(self) -> SidePanel {
        match self {
            SidePanel::Classes => SidePanel::Groups,
            SidePanel::Groups => SidePanel::GroupsByClass,
            SidePanel::GroupsByClass => SidePanel::Card,
            SidePanel::Card => SidePanel::Classes,
        }
    }
}

/// What can happen to the app: keys, time, trainers' events, and the store worker's answers.
#[derive(Debug)]
pub enum Msg {
    Key(KeyEvent),
    Resize,
    /// A quarter second passed (store refresh, ETA).
    Tick,
    /// An event from a trainer; `key` names the worker that sent it.
    Train {
        key: String,
        event: TrainEvent,
    },
    /// SIGTERM or SIGHUP: stop trainers with a checkpoint and leave.
    Terminate,
    /// Requests from outside the keyboard (the screenshots command, tests, the benchmark): open a
    /// stored run on the live screen; mark runs and compare them.
    Open(String),
    Compare(Vec<String>),
    /// The store's runs, as the runs screen lists them.
    RunsLoaded(Result<Vec<RunRow>, String>),
    /// A stored run opened: its config, status and evaluation card. Its metrics follow as
    /// `MetricsAppended`.
    RunOpened {
        id: String,
        result: Result<(Option<Box<RunConfig>>, RunStatus, Option<Box<CardStat>>), String>,
    },
    /// New complete lines of a followed run's `metrics.jsonl` (read from the last offset), and
    /// its status as the store says now.
    MetricsAppended {
        id: String,
        records: Vec<MetricRecord>,
        status: RunStatus,
        /// The file shrank (a resumed run truncated it): these records replace what was shown.
        from_start: bool,
        /// The run's config, once it appears (a trainer in another process writes it late).
        config: Option<Box<RunConfig>>,
        /// What the trainer says it is doing (its `phase` file, or a failed run's error).
        phase: Option<String>,
    },
    /// A trainer process was started for a run the lab prepared (or could not be).
    Detached {
        id: String,
        result: Result<u32, String>,
    },
    /// What the Data screen's loader is doing.
    DataProgress(String),
    /// The Data screen's data set and its duplicate pairs (or why not).
    DataLoaded(Result<Arc<DataView>, String>),
    /// What the membership loader is doing, and what it found (the Membership screen).
    MembershipProgress(String),
    MembershipLoaded {
        sweep: String,
        result: Result<Arc<MembershipView>, String>,
    },
    /// A control command was written into a run's folder (or could not be).
    ControlSent {
        id: String,
        command: ControlCommand,
        result: Result<(), String>,
    },
    CompareLoaded(Result<Box<CompareState>, String>),
    Deleted {
        id: String,
        result: Result<(), String>,
    },
    /// A preset was saved ("save as" on the presets screen): its name, its file and the
    /// preset list as it reads now; or why not.
    PresetSaved(Result<super::presets::Saved, String>),
}

/// Work for the loop: the app never blocks, touches threads or reads the disk itself.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    Launch {
        key: String,
        preset: Box<Preset>,
        seed: u64,
        device: DeviceChoice,
    },
    Control {
        key: String,
        control: Control,
    },
    /// Create the run folder `id`, write the preset into it and start a trainer process for it.
    Detach {
        id: String,
        preset: Box<Preset>,
        seed: u64,
        device: DeviceChoice,
    },
    /// Attack a reference-model sweep and load its pool (the Membership screen), on a loader
    /// thread.
    LoadMembership {
        sweep: String,
    },
    /// Load a data set and search its duplicate pairs (the Data screen), on a loader thread.
    LoadData {
        spec: Box<DataSpec>,
        threshold: f64,
    },
    /// Ask the trainer of a run, in whatever process, through the control file in its folder.
    ControlRun {
        id: String,
        command: ControlCommand,
    },
    StopAll,
    /// Store work, done by the store worker; answers come back as messages.
    Delete(String),
    LoadRuns,
    LoadCompare(Vec<String>),
    /// Read a stored run and keep following its `metrics.jsonl` while it grows.
    OpenRun(String),
    /// Write a preset (already renamed) as a new file in the preset folder.
    SavePreset(Box<Preset>),
}

pub struct App {
    pub(super) store: RunStore,
    pub(super) opts: Options,
    pub(super) screen: Screen,
    pub(super) presets: PresetsState,
    /// Runs trained by this process (`LiveRun::worker` names the worker), and stored runs
    /// opened from the runs screen.
    pub(super) live: LiveState,
    /// Curves smoothed (EMA), on the live and the compare screen.
    pub(super) smoothing: bool,
    pub(super) runs: RunsState,
    pub(super) compare: CompareState,
    pub(super) data: DataState,
    pub(super) membership: MembershipState,
    pub(super) dialog: Option<Dialog>,
    pub(super) show_help: bool,
    pub(super) message: Option<(String, bool)>,
    pub(super) quit: bool,
    /// Leave as soon as every worker has stopped.
    pub(super) quit_when_idle: bool,
    /// Runs other processes train, opened without leaving the current screen.
    quiet_opens: HashSet<String>,
    /// Whether the store's runs were listed once (the first listing re-attaches).
    listed_once: bool,
    effects: Vec<Effect>,
    /// The action the last key asked for (tests check keys reach their actions through it).
    pub(super) last_action: Option<Action>,
    ticks: u64,
    launched: u64,
}

impl App {
    pub fn new(store: RunStore, opts: Options) -> App {
        App {
            store,
            opts,
            screen: Screen::Presets,
            presets: PresetsState::new(),
            live: LiveState::default(),
            smoothing: false,
            runs: RunsState::default(),
            compare: CompareState::default(),
            data: DataState::default(),
            membership: MembershipState::default(),
            dialog: None,
            show_help: false,
            message: None,
            quit: false,
            quit_when_idle: false,
            quiet_opens: HashSet::new(),
            listed_once: false,
            effects: vec![Effect::LoadRuns],
            last_action: None,
            ticks: 0,
            launched: 0,
        }
    }

    /// The effects `update` asked for since the last call, for the loop to carry out.
    pub fn take_effects(&mut self) -> Vec<Effect> {
        std::mem::take(&mut self.effects)
    }

    pub(super) fn push(&mut self, e: Effect) {
        self.effects.push(e);
    }

    pub fn should_quit(&self) -> bool {
        self.quit
    }

    pub fn store(&self) -> &RunStore {
        &self.store
    }

    /// Training-loss points shown for a run on the live screen (0 when it is not open).
    pub fn live_points(&self, id: &str) -> usize {
        self.live
            .runs
            .iter()
            .find(|r| r.id == id)
            .map_or(0, |r| r.loss.len())
    }

    /// Rows the runs screen has from the store.
    pub fn runs_listed(&self) -> usize {
        self.runs.rows.len()
    }

    /// Runs this process trains that have not ended.
    pub fn training(&self) -> usize {
        self.live
            .runs
            .iter()
            .filter(|r| r.worker.is_some() && r.status.is_active())
            .count()
    }

    pub(super) fn say(&mut self, text: impl Into<String>, error: bool) {
        self.message = Some((text.into(), error));
    }

    pub(super) fn set_screen(&mut self, s: Screen) {
        self.screen = s;
        if s == Screen::Runs {
            self.effects.push(Effect::LoadRuns);
        }
        if s == Screen::Data {
            self.want_data();
        }
        if s == Screen::Membership {
            let sweep = self.runs.current().and_then(|r| r.sweep);
            if let Some(e) = self.membership.want(sweep) {
                self.push(e);
            }
        }
    }

    /// The one place state changes. Returns whether the screen must be redrawn.
    pub fn update(&mut self, msg: Msg) -> bool {
        match msg {
            Msg::Resize => true,
            Msg::Tick => {
                self.ticks += 1;
                // The store is shared with other processes: re-read it every 2 s on the runs
                // screen (on the store worker; the answer comes back as `RunsLoaded`).
                // Elsewhere every 10 s, to see runs that started training meanwhile.
                let every = if self.screen == Screen::Runs { 8 } else { 40 };
                if self.ticks % every == 0 {
                    self.effects.push(Effect::LoadRuns);
                }
                if self.quit_when_idle && self.training() == 0 {
                    self.quit = true;
                }
                false
            }
            Msg::Terminate => {
                // Runs in their own processes are not this signal's business: only the lab's
                // own workers stop (with a checkpoint) before it leaves.
                if self.training() == 0 {
                    self.quit = true;
                    return false;
                }
                self.quit_when_idle = true;
                self.effects.push(Effect::StopAll);
                self.dialog = Some(Dialog::Stopping);
                true
            }
            Msg::Train { key, event } => self.on_train(&key, event),
            Msg::Key(k) => self.on_key(k),
            Msg::Open(id) => {
                self.effects.push(Effect::OpenRun(id));
                false
            }
            Msg::Compare(ids) => {
                self.runs.marked = ids.iter().cloned().collect();
                self.effects.push(Effect::LoadCompare(ids));
                self.screen = Screen::Compare;
                true
            }
            Msg::RunsLoaded(Ok(rows)) => {
                self.runs.error = None;
                let attached = self.attach(&rows);
                self.runs.set_rows(rows);
                self.screen == Screen::Runs || attached
            }
            Msg::RunsLoaded(Err(e)) => {
                self.runs.error = Some(e);
                self.screen == Screen::Runs
            }
            Msg::RunOpened { id, result } => match result {
                Ok((config, status, card)) => {
                    let mut run = LiveRun::stored(&id, config.as_deref(), status);
                    run.card = card.map(|c| *c);
                    if self.quiet_opens.remove(&id) {
                        let _ = self.add_stored(run);
                    } else {
                        // A detached launch knows its preset before the trainer wrote a config.
                        if let Some(old) = self.live.runs.iter().find(|l| l.id == id)
                            && run.preset.is_empty()
                        {
                            run.preset = old.preset.clone();
                            run.phase = old.phase.clone();
                        }
                        self.open_stored(run);
                    }
                    true
                }
                Err(e) => {
                    self.say(e, true);
                    true
                }
            },
            Msg::MetricsAppended {
                id,
                records,
                status,
                from_start,
                config,
                phase,
            } => {
                let shown = self.on_metrics(&id, &records, status, from_start);
                let Some(run) = self.live.runs.iter_mut().find(|r| r.id == id) else {
                    return shown;
                };
                if let Some(c) = config {
                    run.set_config(&c);
                }
                if let Some(p) = phase {
                    run.phase = p;
                }
                shown
            }
            Msg::Detached { id, result } => {
                match result {
                    Ok(pid) => {
                        self.say(
                            format!("run {id} trains in process {pid}; it keeps training when the lab closes"),
                            false,
                        );
                        self.effects.push(Effect::OpenRun(id));
                    }
                    Err(e) => {
                        if let Some(run) = self.live.runs.iter_mut().find(|r| r.id == id) {
                            run.status = super::live::LiveStatus::Failed(e.clone());
                            run.phase = format!("failed: {e}");
                        }
                        self.say(format!("could not start run {id}: {e}"), true);
                    }
                }
                true
            }
            Msg::DataProgress(p) => {
                if self.data.loading.is_some() {
                    self.data.loading = Some(p);
                }
                self.screen == Screen::Data
            }
            Msg::MembershipProgress(p) => {
                if self.membership.loading.is_some() {
                    self.membership.loading = Some(p);
                }
                self.screen == Screen::Membership
            }
            Msg::MembershipLoaded { sweep, result } => {
                self.membership.loaded(&sweep, result);
                self.screen == Screen::Membership
            }
            Msg::DataLoaded(r) => {
                self.data.loading = None;
                match r {
                    Ok(v) => {
                        self.data.view = Some(v);
                        self.data.selected = 0;
                    }
                    Err(e) => {
                        self.data.error = Some(e);
                        // Asking again (re-entering the screen) retries.
                        self.data.requested = None;
                    }
                }
                self.screen == Screen::Data
            }
            Msg::ControlSent {
                id,
                command,
                result,
            } => {
                match result {
                    Ok(()) => self.say(
                        format!(
                            "asked run {id} to {}; its trainer acts between steps",
                            command.word()
                        ),
                        false,
                    ),
                    Err(e) => self.say(e, true),
                }
                true
            }
            Msg::CompareLoaded(Ok(c)) => {
                let keep = (self.compare.metric, self.compare.diff_only);
                self.compare = *c;
                (self.compare.metric, self.compare.diff_only) = keep;
                self.screen == Screen::Compare
            }
            Msg::CompareLoaded(Err(e)) => {
                self.say(e, true);
                true
            }
            Msg::Deleted { id, result } => {
                match result {
                    Ok(()) => {
                        self.say(format!("deleted {id}"), false);
                        self.effects.push(Effect::LoadRuns);
                    }
                    Err(e) => self.say(e, true),
                }
                true
            }
            Msg::PresetSaved(result) => {
                match result {
                    Ok(saved) => {
                        self.say(format!("saved {}", saved.path), false);
                        self.presets.saved(saved);
                    }
                    Err(e) => self.say(e, true),
                }
                true
            }
        }
    }

    fn on_train(&mut self, key: &str, event: TrainEvent) -> bool {
        let Some(i) = self
            .live
            .runs
            .iter()
            .position(|r| r.worker.as_deref() == Some(key))
        else {
            return false;
        };
        let changed = self.live.runs[i].apply(&event);
        match &event {
            TrainEvent::Finished { run_id, .. } => {
                self.say(format!("run {run_id} finished"), false);
                self.effects.push(Effect::LoadRuns);
            }
            TrainEvent::Failed { error, .. } => self.say(format!("run failed: {error}"), true),
            TrainEvent::Stopped { .. } | TrainEvent::Started { .. } => {
                self.effects.push(Effect::LoadRuns)
            }
            _ => {}
        }
        if self.quit_when_idle && self.training() == 0 {
            self.quit = true;
        }
        changed && (self.screen == Screen::Live || event.is_final())
    }

    /// New lines of a stored run this lab follows.
    fn on_metrics(
        &mut self,
        id: &str,
        records: &[MetricRecord],
        status: RunStatus,
        from_start: bool,
    ) -> bool {
        let Some(i) = self
            .live
            .runs
            .iter()
            .position(|r| r.worker.is_none() && r.id == id)
        else {
            return false;
        };
        let run = &mut self.live.runs[i];
        if from_start {
            run.clear_metrics();
        }
        run.append(records);
        run.status = super::live::LiveStatus::Stored(status);
        self.screen == Screen::Live && i == self.live.selected
    }

    /// Quit asks only when it would stop something: runs on this lab's own threads. Runs in
    /// trainer processes of their own go on, and the lab says so as it leaves (`farewell`).
    pub(super) fn request_quit(&mut self) {
        let running = self.training();
        if running > 0 {
            self.dialog = Some(Dialog::QuitWhileTraining { running });
        } else {
            self.quit = true;
        }
    }

    /// Runs other processes train that this lab shows (its detached launches, re-attached runs).
    pub fn training_elsewhere(&self) -> usize {
        self.live
            .runs
            .iter()
            .filter(|r| r.worker.is_none() && r.status.is_active())
            .count()
    }

    /// The line the lab prints as it closes, when runs keep training without it.
    pub fn farewell(&self) -> Option<String> {
        match self.training_elsewhere() {
            0 => None,
            n => Some(format!(
                "{n} run{} keep{} training without the lab: duplab runs ls; open the lab again to watch{}",
                if n == 1 { "" } else { "s" },
                if n == 1 { "s" } else { "" },
                if n == 1 { " it" } else { " them" },
            )),
        }
    }

    /// Open every run that a trainer process trains and the lab does not show yet. At the
    /// first listing (a lab started again) the live screen comes up with them; later ones join
    /// it without moving the user. Returns whether anything was opened.
    fn attach(&mut self, rows: &[RunRow]) -> bool {
        let first = !self.listed_once;
        self.listed_once = true;
        let new: Vec<String> = rows
            .iter()
            .filter(|r| r.is_live())
            .filter(|r| !self.live.runs.iter().any(|l| l.id == r.id))
            .filter(|r| !self.quiet_opens.contains(&r.id))
            .map(|r| r.id.clone())
            .collect();
        for id in &new {
            self.quiet_opens.insert(id.clone());
            self.effects.push(Effect::OpenRun(id.clone()));
        }
        if first && !new.is_empty() {
            self.screen = Screen::Live;
            self.say(
                format!(
                    "{} run{} training: shown live from {}",
                    new.len(),
                    if new.len() == 1 { " is" } else { "s are" },
                    self.store.root.display()
                ),
                false,
            );
        }
        !new.is_empty()
    }

    fn on_key(&mut self, k: KeyEvent) -> bool {
        self.last_action = None;
        if let Some(d) = self.dialog.clone() {
            return self.on_dialog(d, &k);
        }
        let global = keys::lookup(keys::GLOBAL, &k);
        if self.show_help {
            if matches!(global, Some(Action::Close | Action::Help | Action::Quit)) {
                self.last_action = global;
                self.show_help = false;
            }
            return true;
        }
        // Text entry owns the keyboard (Ctrl-C still quits).
        let ctrl_c = global == Some(Action::Quit) && k.code != crossterm::event::KeyCode::Char('q');
        if !ctrl_c {
            if self.presets.editing.is_some() || self.presets.saving.is_some() {
                let reply = self.presets.on_text(k);
                return self.apply(reply);
            }
            if self.runs.filtering {
                return self.runs.on_filter_text(k);
            }
        }
        self.message = None;
        if let Some(a) = global {
            self.last_action = Some(a);
            let n = Screen::ALL.len();
            let i = Screen::ALL
                .iter()
                .position(|s| *s == self.screen)
                .unwrap_or(0);
            match a {
                Action::Quit => self.request_quit(),
                Action::Help => self.show_help = true,
                Action::GoPresets => self.set_screen(Screen::Presets),
                Action::GoLive => self.set_screen(Screen::Live),
                Action::GoRuns => self.set_screen(Screen::Runs),
                Action::GoCompare => self.set_screen(Screen::Compare),
                Action::GoData => self.set_screen(Screen::Data),
                Action::GoMembership => self.set_screen(Screen::Membership),
                Action::NextScreen => self.set_screen(Screen::ALL[(i + 1) % n]),
                Action::PrevScreen => self.set_screen(Screen::ALL[(i + n - 1) % n]),
                _ => return false,
            }
            return true;
        }
        let Some(a) = keys::lookup(keys::for_screen(self.screen), &k) else {
            return false;
        };
        self.last_action = Some(a);
        let reply = match self.screen {
            Screen::Presets => {
                // The device key passes over the cards live runs hold (a paused trainer keeps
                // its GPU memory).
                self.presets.busy = self
                    .runs
                    .rows
                    .iter()
                    .filter(|r| r.is_live())
                    .filter_map(|r| DeviceChoice::index_in(&r.device))
                    .collect();
                self.presets.update(a)
            }
            Screen::Live => self.live.update(a),
            Screen::Runs => {
                let live = &self.live.runs;
                self.runs.update(a, |id| {
                    live.iter()
                        .any(|l| l.id == id && l.worker.is_some() && l.status.is_active())
                })
            }
            Screen::Compare => self.compare.update(a),
            Screen::Data => self.data.update(a, self.presets.data_spec()),
            Screen::Membership => self.membership.update(a),
        };
        self.apply(reply)
    }

    /// Carry out what a screen's update asked for; whether to redraw.
    pub(super) fn apply(&mut self, reply: Reply) -> bool {
        for ask in reply.asks {
            match ask {
                Ask::Effect(e) => self.push(e),
                Ask::Say(text, error) => self.say(text, error),
                Ask::Dialog(d) => self.dialog = Some(d),
                Ask::Screen(s) => self.screen = s,
                Ask::Launch => self.launch(),
                Ask::ToggleSmoothing => self.smoothing = !self.smoothing,
            }
        }
        reply.handled
    }

    /// Ask the loader for what the Data screen needs, unless it has it or has been asked.
    pub(super) fn want_data(&mut self) {
        if let Some(e) = self.data.want(self.presets.data_spec()) {
            self.push(e);
        }
    }

    /// Show a stored run on the live screen (its records arrive from the store worker).
    pub(super) fn open_stored(&mut self, run: LiveRun) {
        self.live.selected = self.add_stored(run);
        self.screen = Screen::Live;
    }

    /// A stored run on the live screen (replacing its older entry, unless this lab trains it),
    /// without selecting it or changing screen. Returns its place.
    fn add_stored(&mut self, run: LiveRun) -> usize {
        match self.live.runs.iter().position(|l| l.id == run.id) {
            Some(i) => {
                if self.live.runs[i].worker.is_none() {
                    self.live.runs[i] = run;
                }
                i
            }
            None => {
                self.live.runs.push(run);
                self.live.runs.len() - 1
            }
        }
    }

    /// The live entry of a run the lab launches in a trainer process (followed from its folder
    /// once the process has started).
    pub(super) fn add_detached(&mut self, id: &str, preset: &str) {
        let mut run = LiveRun::launching(id, preset);
        run.phase = "starting its trainer process".into();
        self.live.runs.push(run);
        self.live.selected = self.live.runs.len() - 1;
    }

    /// A new worker key, and the live entry that waits for its events.
    pub(super) fn next_worker(&mut self, preset: &str) -> String {
        self.launched += 1;
        let key = format!("worker-{}", self.launched);
        let mut run = LiveRun::launching(&key, preset);
        run.worker = Some(key.clone());
        self.live.runs.push(run);
        self.live.selected = self.live.runs.len() - 1;
        key
    }
}

#[cfg(test)]
#[path = "app_tests.rs"]
mod tests;
