//! The app's state and the one place it changes: `App::update`. Side effects (start a worker,
//! send it a control, delete a folder, read the store) are returned as `Effect`s for the loop to
//! carry out, so key handling is testable without a terminal or threads.

use super::Options;
use super::compare::CompareState;
use super::live::{LiveRun, LiveStatus};
use super::presets::{FIELDS, Focus, PresetsState};
use super::runs::{COLUMNS, RunsState};
use crate::backend::DeviceChoice;
use crate::spec::Preset;
use crate::store::RunStore;
use crate::train::{Control, TrainEvent};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Screen {
    Presets,
    Live,
    Runs,
    Compare,
}

impl Screen {
    pub const ALL: [Screen; 4] = [Screen::Presets, Screen::Live, Screen::Runs, Screen::Compare];
    pub fn title(self) -> &'static str {
        match self {
            Screen::Presets => "Presets",
            Screen::Live => "Live",
            Screen::Runs => "Runs",
            Screen::Compare => "Compare",
        }
    }
}

/// What can happen to the app.
#[derive(Debug, Clone)]
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
}

/// Work for the loop: the app never blocks or touches threads itself.
#[derive(Debug, Clone)]
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
    StopAll,
    Delete(String),
    RefreshRuns,
    LoadCompare(Vec<String>),
    OpenRun(String),
}

/// A question that needs an answer before anything happens.
#[derive(Debug, Clone, PartialEq)]
pub enum Dialog {
    QuitWhileTraining {
        running: usize,
    },
    StopRun {
        key: String,
    },
    DeleteRun {
        id: String,
    },
    /// Waiting for stopped trainers to write their checkpoints.
    Stopping,
}

pub struct App {
    pub store: RunStore,
    pub opts: Options,
    pub screen: Screen,
    pub presets: PresetsState,
    /// Runs trained by this process, and stored runs opened from the runs screen.
    pub live: Vec<LiveRun>,
    /// Worker keys of `live` entries this process trains (`None` for opened stored runs).
    pub live_keys: Vec<Option<String>>,
    pub live_selected: usize,
    pub smoothing: bool,
    pub runs: RunsState,
    pub compare: CompareState,
    pub dialog: Option<Dialog>,
    pub show_help: bool,
    pub message: Option<(String, bool)>,
    pub quit: bool,
    /// Leave as soon as every worker has stopped.
    pub quit_when_idle: bool,
    pub effects: Vec<Effect>,
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
            live: vec![],
            live_keys: vec![],
            live_selected: 0,
            smoothing: false,
            runs: RunsState::default(),
            compare: CompareState::default(),
            dialog: None,
            show_help: false,
            message: None,
            quit: false,
            quit_when_idle: false,
            effects: vec![RefreshRuns],
            ticks: 0,
            launched: 0,
        }
    }

    pub fn training(&self) -> usize {
        self.live
            .iter()
            .zip(&self.live_keys)
            .filter(|(r, k)| k.is_some() && r.status.is_active())
            .count()
    }

    fn say(&mut self, text: impl Into<String>, error: bool) {
        self.message = Some((text.into(), error));
    }

    fn set_screen(&mut self, s: Screen) {
        self.screen = s;
        if s == Screen::Runs {
            self.effects.push(RefreshRuns);
        }
    }

    /// The one place state changes. Returns whether the screen must be redrawn.
    pub fn update(&mut self, msg: Msg) -> bool {
        match msg {
            Msg::Resize => true,
            Msg::Tick => {
                self.ticks += 1;
                // The store is shared with other processes: re-read it every 2 s on the runs screen.
                if self.screen == Screen::Runs && self.ticks % 8 == 0 {
                    self.effects.push(RefreshRuns);
                }
                // A stored run another process is training: re-read it every second.
                if self.screen == Screen::Live
                    && self.ticks % 4 == 0
                    && let Some(r) = self.live.get(self.live_selected)
                    && self
                        .live_keys
                        .get(self.live_selected)
                        .is_some_and(|k| k.is_none())
                    && r.status == LiveStatus::Stored(crate::store::RunStatus::Running)
                {
                    self.effects.push(Effect::OpenRun(r.id.clone()));
                }
                if self.quit_when_idle && self.training() == 0 {
                    self.quit = true;
                }
                false
            }
            Msg::Terminate => {
                self.quit_when_idle = true;
                self.effects.push(Effect::StopAll);
                self.dialog = Some(Dialog::Stopping);
                true
            }
            Msg::Train { key, event } => self.on_train(&key, event),
            Msg::Key(k) => self.on_key(k),
        }
    }

    fn on_train(&mut self, key: &str, event: TrainEvent) -> bool {
        let Some(i) = self
            .live_keys
            .iter()
            .position(|k| k.as_deref() == Some(key))
        else {
            return false;
        };
        let changed = self.live[i].apply(&event);
        match &event {
            TrainEvent::Finished { run_id, .. } => {
                self.say(format!("run {run_id} finished"), false);
                self.effects.push(RefreshRuns);
            }
            TrainEvent::Failed { error, .. } => self.say(format!("run failed: {error}"), true),
            TrainEvent::Stopped { .. } => self.effects.push(RefreshRuns),
            TrainEvent::Started { .. } => self.effects.push(RefreshRuns),
            _ => {}
        }
        if self.quit_when_idle && self.training() == 0 {
            self.quit = true;
        }
        changed && (self.screen == Screen::Live || event.is_final())
    }

    fn request_quit(&mut self) {
        let running = self.training();
        if running > 0 {
            self.dialog = Some(Dialog::QuitWhileTraining { running });
        } else {
            self.quit = true;
        }
    }

    fn on_key(&mut self, k: KeyEvent) -> bool {
        let ctrl_c = k.modifiers.contains(KeyModifiers::CONTROL) && k.code == KeyCode::Char('c');
        if let Some(d) = self.dialog.clone() {
            return self.on_dialog(d, k, ctrl_c);
        }
        if ctrl_c {
            self.request_quit();
            return true;
        }
        if self.show_help {
            if matches!(
                k.code,
                KeyCode::Esc | KeyCode::Char('?') | KeyCode::Char('q')
            ) {
                self.show_help = false;
            }
            return true;
        }
        // Text entry owns the keyboard.
        if self.presets.editing.is_some() || self.presets.saving.is_some() {
            return self.on_preset_text(k);
        }
        if self.runs.filtering {
            return self.on_filter_text(k);
        }
        self.message = None;
        match k.code {
            KeyCode::Char('q') => {
                self.request_quit();
                return true;
            }
            KeyCode::Char('?') => {
                self.show_help = true;
                return true;
            }
            KeyCode::Char(c @ '1'..='4') => {
                self.set_screen(Screen::ALL[(c as u8 - b'1') as usize]);
                return true;
            }
            KeyCode::Tab => {
                let i = Screen::ALL
                    .iter()
                    .position(|s| *s == self.screen)
                    .unwrap_or(0);
                self.set_screen(Screen::ALL[(i + 1) % 4]);
                return true;
            }
            KeyCode::BackTab => {
                let i = Screen::ALL
                    .iter()
                    .position(|s| *s == self.screen)
                    .unwrap_or(0);
                self.set_screen(Screen::ALL[(i + 3) % 4]);
                return true;
            }
            _ => {}
        }
        match self.screen {
            Screen::Presets => self.on_presets_key(k),
            Screen::Live => self.on_live_key(k),
            Screen::Runs => self.on_runs_key(k),
            Screen::Compare => self.on_compare_key(k),
        }
    }

    fn on_dialog(&mut self, d: Dialog, k: KeyEvent, ctrl_c: bool) -> bool {
        let yes = matches!(
            k.code,
            KeyCode::Char('y') | KeyCode::Char('s') | KeyCode::Enter
        );
        let no = matches!(
            k.code,
            KeyCode::Esc | KeyCode::Char('n') | KeyCode::Char('c')
        ) && !ctrl_c;
        match d {
            Dialog::Stopping => {}
            Dialog::QuitWhileTraining { .. } => {
                if yes || ctrl_c {
                    self.effects.push(Effect::StopAll);
                    self.quit_when_idle = true;
                    self.dialog = Some(Dialog::Stopping);
                } else if no {
                    self.dialog = None;
                }
            }
            Dialog::StopRun { key } => {
                if yes {
                    self.effects.push(Effect::Control {
                        key,
                        control: Control::Stop,
                    });
                    self.dialog = None;
                } else if no {
                    self.dialog = None;
                }
            }
            Dialog::DeleteRun { id } => {
                if yes {
                    self.effects.push(Effect::Delete(id.clone()));
                    self.runs.marked.remove(&id);
                    self.dialog = None;
                } else if no {
                    self.dialog = None;
                }
            }
        }
        true
    }

    fn launch(&mut self) {
        let p = match &self.presets.resolved {
            Ok(p) => p.clone(),
            Err(e) => {
                self.say(format!("cannot launch: {e}"), true);
                return;
            }
        };
        self.launched += 1;
        let key = format!("worker-{}", self.launched);
        let seed = p.training.seeds[0];
        self.live.push(LiveRun::launching(&key, &p.name));
        self.live_keys.push(Some(key.clone()));
        self.live_selected = self.live.len() - 1;
        self.effects.push(Effect::Launch {
            key,
            preset: Box::new(p),
            seed,
            device: self.presets.device,
        });
        self.screen = Screen::Live;
    }

    fn on_presets_key(&mut self, k: KeyEvent) -> bool {
        let ps = &mut self.presets;
        match (ps.focus, k.code) {
            (_, KeyCode::Left | KeyCode::Char('h')) => ps.focus = Focus::List,
            (_, KeyCode::Right | KeyCode::Char('l')) => ps.focus = Focus::Fields,
            (Focus::List, KeyCode::Down | KeyCode::Char('j')) => ps.select(ps.selected + 1),
            (Focus::List, KeyCode::Up | KeyCode::Char('k')) => {
                ps.select(ps.selected.saturating_sub(1))
            }
            (Focus::List, KeyCode::Home | KeyCode::Char('g')) => ps.select(0),
            (Focus::List, KeyCode::End | KeyCode::Char('G')) => {
                ps.select(ps.list.len().saturating_sub(1))
            }
            (Focus::Fields, KeyCode::Down | KeyCode::Char('j')) => {
                ps.field = (ps.field + 1).min(FIELDS.len() - 1)
            }
            (Focus::Fields, KeyCode::Up | KeyCode::Char('k')) => {
                ps.field = ps.field.saturating_sub(1)
            }
            (Focus::Fields, KeyCode::Enter) => ps.start_edit(),
            (Focus::List, KeyCode::Enter) => self.launch(),
            (_, KeyCode::Char('d')) => {
                ps.device = match ps.device {
                    DeviceChoice::Auto => DeviceChoice::Cpu,
                    DeviceChoice::Cpu => DeviceChoice::Gpu,
                    DeviceChoice::Gpu => DeviceChoice::Auto,
                }
            }
            (_, KeyCode::Char('s')) => {
                ps.saving = Some(format!(
                    "{}-edited",
                    ps.source().map(|s| s.name.as_str()).unwrap_or("preset")
                ))
            }
            (_, KeyCode::Char('u')) => {
                ps.overrides.clear();
                ps.resolve();
            }
            _ => return false,
        }
        true
    }

    fn on_preset_text(&mut self, k: KeyEvent) -> bool {
        let ps = &mut self.presets;
        let buf = if ps.saving.is_some() {
            ps.saving.as_mut()
        } else {
            ps.editing.as_mut()
        };
        let Some(buf) = buf else { return false };
        match k.code {
            KeyCode::Char(c) => buf.push(c),
            KeyCode::Backspace => {
                buf.pop();
            }
            KeyCode::Esc => {
                ps.editing = None;
                ps.saving = None;
                ps.edit_error = None;
            }
            KeyCode::Enter if ps.saving.is_some() => {
                let name = ps.saving.take().unwrap_or_default();
                match PresetsState::save_dir().and_then(|dir| ps.save_as(&name, &dir)) {
                    Ok(path) => self.say(format!("saved {path}"), false),
                    Err(e) => self.say(e, true),
                }
                return true;
            }
            KeyCode::Enter => {
                ps.commit_edit();
            }
            _ => return false,
        }
        if ps.editing.is_some() {
            ps.check_edit();
        }
        true
    }

    fn on_live_key(&mut self, k: KeyEvent) -> bool {
        if self.live.is_empty() {
            return false;
        }
        let i = self.live_selected.min(self.live.len() - 1);
        match k.code {
            KeyCode::Left | KeyCode::Char('h') => self.live_selected = i.saturating_sub(1),
            KeyCode::Right | KeyCode::Char('l') => {
                self.live_selected = (i + 1).min(self.live.len() - 1)
            }
            KeyCode::Char('e') => self.smoothing = !self.smoothing,
            KeyCode::Char('p') => {
                let Some(key) = self.live_keys[i].clone() else {
                    return false;
                };
                let control = match self.live[i].status {
                    LiveStatus::Running => Control::Pause,
                    LiveStatus::Paused => Control::Resume,
                    _ => return false,
                };
                self.effects.push(Effect::Control { key, control });
            }
            KeyCode::Char('x') => {
                let Some(key) = self.live_keys[i].clone() else {
                    return false;
                };
                if self.live[i].status.is_active() {
                    self.dialog = Some(Dialog::StopRun { key });
                }
            }
            _ => return false,
        }
        true
    }

    fn on_filter_text(&mut self, k: KeyEvent) -> bool {
        match k.code {
            KeyCode::Char(c) => self.runs.filter.push(c),
            KeyCode::Backspace => {
                self.runs.filter.pop();
            }
            KeyCode::Enter => self.runs.filtering = false,
            KeyCode::Esc => {
                self.runs.filter.clear();
                self.runs.filtering = false;
            }
            _ => return false,
        }
        self.runs.selected = 0;
        true
    }

    fn on_runs_key(&mut self, k: KeyEvent) -> bool {
        let n = self.runs.visible().len();
        match k.code {
            KeyCode::Down | KeyCode::Char('j') => {
                self.runs.selected = (self.runs.selected + 1).min(n.saturating_sub(1))
            }
            KeyCode::Up | KeyCode::Char('k') => {
                self.runs.selected = self.runs.selected.saturating_sub(1)
            }
            KeyCode::Home | KeyCode::Char('g') => self.runs.selected = 0,
            KeyCode::End | KeyCode::Char('G') => self.runs.selected = n.saturating_sub(1),
            KeyCode::Char('/') => self.runs.filtering = true,
            KeyCode::Char('s') => self.runs.sort = (self.runs.sort + 1) % COLUMNS.len(),
            KeyCode::Char('S') => self.runs.descending = !self.runs.descending,
            KeyCode::Char(' ') => {
                if let Some(r) = self.runs.current() {
                    if !self.runs.marked.remove(&r.id) {
                        if self.runs.marked.len() >= 6 {
                            self.say("at most 6 runs can be compared", true);
                        } else {
                            self.runs.marked.insert(r.id);
                        }
                    }
                    self.runs.selected = (self.runs.selected + 1).min(n.saturating_sub(1));
                }
            }
            KeyCode::Enter => {
                if let Some(r) = self.runs.current() {
                    self.effects.push(Effect::OpenRun(r.id));
                }
            }
            KeyCode::Char('c') => {
                if (2..=6).contains(&self.runs.marked.len()) {
                    self.effects.push(Effect::LoadCompare(
                        self.runs.marked.iter().cloned().collect(),
                    ));
                    self.screen = Screen::Compare;
                } else {
                    self.say("mark 2 to 6 runs with space, then press c", true);
                }
            }
            KeyCode::Char('w') => {
                // The sweep of this run as a group: its first run of each point (up to six).
                let Some(sweep) = self.runs.current().and_then(|r| r.sweep) else {
                    self.say("this run is not part of a sweep", true);
                    return true;
                };
                let mut picked: Vec<(String, String)> = vec![];
                let mut rows: Vec<&crate::report::RunRow> = self
                    .runs
                    .rows
                    .iter()
                    .filter(|r| {
                        r.sweep.as_deref() == Some(sweep.as_str()) && r.status == "finished"
                    })
                    .collect();
                rows.sort_by(|a, b| a.seed.cmp(&b.seed).then(a.id.cmp(&b.id)));
                for r in rows {
                    let point = r.point.clone().unwrap_or_default();
                    if picked.len() < 6 && !picked.iter().any(|(p, _)| *p == point) {
                        picked.push((point, r.id.clone()));
                    }
                }
                if picked.len() < 2 {
                    self.say("fewer than 2 finished points in this sweep", true);
                    return true;
                }
                self.runs.marked = picked.iter().map(|p| p.1.clone()).collect();
                self.effects.push(Effect::LoadCompare(
                    picked.into_iter().map(|p| p.1).collect(),
                ));
                self.screen = Screen::Compare;
            }
            KeyCode::Char('D') => {
                if let Some(r) = self.runs.current() {
                    let ours = self
                        .live
                        .iter()
                        .zip(&self.live_keys)
                        .any(|(l, k)| l.id == r.id && k.is_some() && l.status.is_active());
                    if ours || r.status == "running" {
                        self.say("this run is training; stop it first", true);
                    } else {
                        self.dialog = Some(Dialog::DeleteRun { id: r.id });
                    }
                }
            }
            _ => return false,
        }
        self.runs.clamp();
        true
    }

    fn on_compare_key(&mut self, k: KeyEvent) -> bool {
        match k.code {
            KeyCode::Char('m') => self.compare.metric = self.compare.metric.next(),
            KeyCode::Char('d') => self.compare.diff_only = !self.compare.diff_only,
            KeyCode::Char('e') => self.smoothing = !self.smoothing,
            _ => return false,
        }
        true
    }

    /// Show a stored run on the live screen (read from its files).
    pub fn open_stored(&mut self, run: LiveRun) {
        if let Some(i) = self.live.iter().position(|l| l.id == run.id) {
            if self.live_keys[i].is_none() {
                self.live[i] = run;
            }
            self.live_selected = i;
        } else {
            self.live.push(run);
            self.live_keys.push(None);
            self.live_selected = self.live.len() - 1;
        }
        self.screen = Screen::Live;
    }

    pub fn set_message(&mut self, text: String, error: bool) {
        self.say(text, error);
    }
}

use Effect::RefreshRuns;

#[cfg(test)]
mod tests {
    use super::*;

    fn key(c: KeyCode) -> Msg {
        Msg::Key(KeyEvent::new(c, KeyModifiers::NONE))
    }

    fn app() -> App {
        App::new(RunStore::new("/nonexistent-store"), Options::default())
    }

    #[test]
    fn starts_on_presets_with_the_default_and_its_plan() {
        let a = app();
        assert_eq!(a.screen, Screen::Presets);
        assert_eq!(a.presets.source().unwrap().name, "default");
        assert!(a.presets.plan.is_some());
    }

    #[test]
    fn number_keys_and_tab_switch_screens() {
        let mut a = app();
        a.update(key(KeyCode::Char('3')));
        assert_eq!(a.screen, Screen::Runs);
        assert!(matches!(a.effects.last(), Some(Effect::RefreshRuns)));
        a.update(key(KeyCode::Tab));
        assert_eq!(a.screen, Screen::Compare);
        a.update(key(KeyCode::Tab));
        assert_eq!(a.screen, Screen::Presets);
    }

    #[test]
    fn enter_launches_the_selected_preset_on_the_live_screen() {
        let mut a = app();
        a.effects.clear();
        a.update(key(KeyCode::Char('d'))); // device auto → cpu
        a.update(key(KeyCode::Enter));
        assert_eq!(a.screen, Screen::Live);
        match a.effects.as_slice() {
            [Effect::Launch { preset, device, .. }] => {
                assert_eq!(preset.name, "default");
                assert_eq!(*device, DeviceChoice::Cpu);
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(a.training(), 1);
    }

    #[test]
    fn editing_a_field_validates_as_you_type() {
        let mut a = app();
        a.update(key(KeyCode::Char('l')));
        a.update(key(KeyCode::Down)); // rate
        a.update(key(KeyCode::Enter));
        assert_eq!(a.presets.editing.as_deref(), Some("0.0"));
        for _ in 0..3 {
            a.update(key(KeyCode::Backspace));
        }
        a.update(key(KeyCode::Char('5')));
        assert!(
            a.presets
                .edit_error
                .as_deref()
                .unwrap_or("")
                .contains("[0, 1]"),
            "{:?}",
            a.presets.edit_error
        );
        a.update(key(KeyCode::Backspace));
        for c in "0.3".chars() {
            a.update(key(KeyCode::Char(c)));
        }
        assert!(a.presets.edit_error.is_none());
        a.update(key(KeyCode::Enter));
        assert_eq!(
            a.presets.resolved.as_ref().unwrap().duplication.rate,
            Some(0.3)
        );
        let plan = &a.presets.plan.as_ref().unwrap().0;
        assert_eq!(plan.copies(), 3000);
    }

    #[test]
    fn quitting_while_training_asks_and_stops_with_checkpoint() {
        let mut a = app();
        a.update(key(KeyCode::Enter));
        a.effects.clear();
        a.update(key(KeyCode::Char('q')));
        assert_eq!(a.dialog, Some(Dialog::QuitWhileTraining { running: 1 }));
        a.update(key(KeyCode::Esc));
        assert!(a.dialog.is_none() && !a.quit);
        a.update(key(KeyCode::Char('q')));
        a.update(key(KeyCode::Char('y')));
        assert!(matches!(a.effects.as_slice(), [Effect::StopAll]));
        assert!(!a.quit, "waits for the checkpoint");
        let key_ = a.live_keys[0].clone().unwrap();
        a.update(Msg::Train {
            key: key_,
            event: TrainEvent::Stopped {
                run_id: "r".into(),
                step: 3,
            },
        });
        assert!(a.quit);
    }

    #[test]
    fn runs_screen_marks_filters_and_asks_before_delete() {
        let mut a = app();
        a.update(key(KeyCode::Char('3')));
        let row = |id: &str, preset: &str| crate::report::RunRow {
            id: id.into(),
            preset: preset.into(),
            data: "embedded".into(),
            duplication: "uniform 0%".into(),
            attack: "none".into(),
            model: "small-cnn".into(),
            seed: Some(0),
            status: "finished".into(),
            test_acc: Some(0.8),
            robust_acc: None,
            epochs_done: 1,
            steps_done: 1,
            total_steps: 1,
            duration_s: 1.0,
            started: String::new(),
            backend: "flex".into(),
            sweep: None,
            point: None,
        };
        a.runs.set_rows(vec![
            row("a", "default"),
            row("b", "default-skewed"),
            row("c", "mnist-lenet"),
        ]);
        a.update(key(KeyCode::Char(' ')));
        a.update(key(KeyCode::Char(' ')));
        assert_eq!(a.runs.marked.len(), 2);
        a.effects.clear();
        a.update(key(KeyCode::Char('c')));
        assert_eq!(a.screen, Screen::Compare);
        assert!(matches!(a.effects.as_slice(), [Effect::LoadCompare(ids)] if ids.len() == 2));
        a.update(key(KeyCode::Char('3')));
        a.update(key(KeyCode::Char('/')));
        for c in "mnist".chars() {
            a.update(key(KeyCode::Char(c)));
        }
        a.update(key(KeyCode::Enter));
        assert_eq!(a.runs.visible().len(), 1);
        a.update(key(KeyCode::Char('D')));
        assert_eq!(a.dialog, Some(Dialog::DeleteRun { id: "c".into() }));
        a.effects.clear();
        a.update(key(KeyCode::Char('y')));
        assert!(matches!(a.effects.as_slice(), [Effect::Delete(id)] if id == "c"));
    }

    #[test]
    fn help_opens_and_closes() {
        let mut a = app();
        a.update(key(KeyCode::Char('?')));
        assert!(a.show_help);
        a.update(key(KeyCode::Esc));
        assert!(!a.show_help && !a.quit);
    }
}
