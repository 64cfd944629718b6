//! The presets screen's state: the list, inline edits of a few fields (validated as you type),
//! and the resolved preset with its duplication plan.

use super::app::{App, Effect, Screen};
use super::keys::Action;
use super::reply::{Ask, Reply};
use crate::backend::DeviceChoice;
use crate::data::{DataSet, Plan};
use crate::spec::{DataSetKind, DataSpec, Preset, PresetSource, list_presets};
use crossterm::event::{KeyCode, KeyEvent};

/// The fields a user edits most, with the preset key each one sets.
pub const FIELDS: &[(&str, &str)] = &[
    ("duplication.profile", "profile"),
    ("duplication.rate", "rate"),
    ("duplication.copies", "copies"),
    ("duplication.mode", "mode"),
    ("duplication.keep_size", "keep size"),
    ("data.train_per_class", "per class"),
    ("attack.train.kind", "train attack"),
    ("attack.train.eps", "ε"),
    ("attack.train.steps", "attack steps"),
    ("training.epochs", "epochs"),
    ("training.steps", "step budget"),
    ("training.seeds", "seeds"),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Focus {
    List,
    Fields,
}

pub struct PresetsState {
    pub list: Vec<PresetSource>,
    pub selected: usize,
    pub focus: Focus,
    pub field: usize,
    /// The text being typed into the selected field.
    pub editing: Option<String>,
    /// Why the text being typed is not (yet) valid.
    pub edit_error: Option<String>,
    /// Edits of the selected preset, as `key=value`.
    pub overrides: Vec<String>,
    pub device: DeviceChoice,
    pub resolved: Result<Preset, String>,
    pub plan: Option<(Plan, Vec<String>)>,
    /// Name typed for "save as".
    pub saving: Option<String>,
    embedded: Option<DataSet>,
    /// wgpu adapters the device key cycles through (gpu:0 …), counted on a thread of its own
    /// at start (enumerating them can take a second); 1 until it answers.
    adapters: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    /// Adapters a running run of the store trains on (the app sets it from the runs table).
    pub busy: std::collections::BTreeSet<usize>,
}

fn show_value(v: &toml::Value) -> String {
    match v {
        toml::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

impl PresetsState {
    pub fn new() -> PresetsState {
        let list = list_presets();
        let selected = list
            .iter()
            .position(|p| p.name == crate::spec::DEFAULT_PRESET)
            .unwrap_or(0);
        let mut s = PresetsState {
            list,
            selected,
            focus: Focus::List,
            field: 0,
            editing: None,
            edit_error: None,
            overrides: vec![],
            device: DeviceChoice::Auto,
            resolved: Err(String::new()),
            plan: None,
            saving: None,
            embedded: None,
            adapters: std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(1)),
            busy: Default::default(),
        };
        // Not in unit tests: the Vulkan loader must not be entered from several test threads.
        #[cfg(not(test))]
        {
            let count = s.adapters.clone();
            std::thread::spawn(move || {
                let n = crate::backend::adapters().len();
                count.store(n.max(1), std::sync::atomic::Ordering::Relaxed);
            });
        }
        s.resolve();
        s.take_preset_device();
        s
    }

    /// A preset that names its device brings it along (`d` still cycles from there); one that
    /// names none leaves the choice as it was.
    fn take_preset_device(&mut self) {
        if let Ok(p) = &self.resolved
            && let Some(d) = p.training.device
        {
            self.device = d;
        }
    }

    pub fn source(&self) -> Option<&PresetSource> {
        self.list.get(self.selected)
    }

    fn try_resolve(&self, overrides: &[String]) -> Result<Preset, String> {
        let src = self.source().ok_or("no presets")?;
        Preset::from_toml_str(&src.text, &src.origin, overrides).map_err(|e| e.to_string())
    }

    pub fn resolve(&mut self) {
        self.resolved = self.try_resolve(&self.overrides);
        self.plan = None;
        if let Ok(p) = &self.resolved
            && p.data.set == DataSetKind::Embedded
        {
            let ds = self.embedded.get_or_insert_with(crate::data::load_embedded);
            // data.train_per_class cuts the set; the images it leaves are the fresh reserve.
            let cut = p
                .data
                .train_per_class
                .and_then(|n| crate::data::cut_train(ds.clone(), n).ok());
            let (labels, reserve) = match &cut {
                Some((c, r)) => (&c.train.labels, Some(r.labels.as_slice())),
                None => (&ds.train.labels, None),
            };
            if let Ok(plan) = crate::data::make_plan_with(
                &p.duplication,
                labels,
                reserve,
                ds.num_classes(),
                p.training.seeds.first().copied().unwrap_or(0),
            ) {
                self.plan = Some((plan, ds.class_names.clone()));
            }
        }
    }

    pub fn select(&mut self, i: usize) {
        if i < self.list.len() && i != self.selected {
            self.selected = i;
            self.overrides.clear();
            self.resolve();
            self.take_preset_device();
        }
    }

    /// The current value of field `i` in the resolved preset.
    pub fn field_value(&self, i: usize) -> String {
        let Ok(p) = &self.resolved else {
            return String::new();
        };
        let Ok(v) = toml::Value::try_from(p) else {
            return String::new();
        };
        let mut cur = &v;
        for part in FIELDS[i].0.split('.') {
            match cur.get(part) {
                Some(x) => cur = x,
                None => return "-".into(),
            }
        }
        show_value(cur)
    }

    pub fn start_edit(&mut self) {
        let v = self.field_value(self.field);
        self.editing = Some(if v == "-" { String::new() } else { v });
        self.edit_error = None;
    }

    /// Validate the typed text as you type.
    pub fn check_edit(&mut self) {
        let Some(text) = &self.editing else { return };
        let mut ov = self.overrides.clone();
        ov.push(format!("{}={}", FIELDS[self.field].0, text));
        self.edit_error = self.try_resolve(&ov).err();
    }

    /// Keep the typed value if it is valid.
    pub fn commit_edit(&mut self) -> bool {
        self.check_edit();
        if self.edit_error.is_some() {
            return false;
        }
        if let Some(text) = self.editing.take() {
            let key = FIELDS[self.field].0;
            self.overrides
                .retain(|o| !o.starts_with(&format!("{key}=")));
            self.overrides.push(format!("{key}={text}"));
            self.resolve();
        }
        true
    }

    /// Where "save as" writes: `./presets` when it exists, else the user's preset folder.
    pub fn save_dir() -> anyhow::Result<std::path::PathBuf> {
        if std::path::Path::new("presets").is_dir() {
            Ok(std::path::PathBuf::from("presets"))
        } else {
            crate::spec::preset_dirs()
                .pop()
                .ok_or_else(|| anyhow::anyhow!("no preset folder"))
        }
    }

    /// The data set the Data screen shows: the selected preset's (the embedded set while the
    /// preset does not resolve).
    pub fn data_spec(&self) -> DataSpec {
        self.resolved
            .as_ref()
            .map(|p| p.data.clone())
            .unwrap_or_else(|_| DataSpec {
                set: DataSetKind::Embedded,
                leak_threshold: 0.05,
                path: None,
                size: None,
                channels: None,
                split: None,
                bad_images: None,
                train_per_class: None,
            })
    }

    /// The resolved preset renamed `name`, for "save as" (`Effect::SavePreset` writes it).
    pub fn to_save(&self, name: &str) -> Result<Preset, String> {
        if name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err("a preset name uses letters, digits, - and _".into());
        }
        let mut p = self.resolved.clone()?;
        p.name = name.to_string();
        Ok(p)
    }

    /// A preset was saved: list it and select it; its edits now live in the file.
    pub fn saved(&mut self, saved: Saved) {
        self.list = saved.list;
        if let Some(i) = self.list.iter().position(|s| s.name == saved.name) {
            self.selected = i;
        }
        self.overrides.clear();
        self.resolve();
    }
}

/// What saving a preset did: its name, its file, and the preset list as it reads afterwards.
#[derive(Debug, Clone)]
pub struct Saved {
    pub name: String,
    pub path: String,
    pub list: Vec<PresetSource>,
}

/// Write `p` as `<dir>/<name>.toml`, never over an existing file and never half (the store
/// worker's side of `Effect::SavePreset`): the text goes to a temporary file first, which is
/// then linked under the name, an operation that fails if the name exists.
pub fn write_preset(p: &Preset, dir: &std::path::Path) -> anyhow::Result<Saved> {
    use crate::atomic::{Durability, temp_path, write_atomic};
    use anyhow::Context;
    std::fs::create_dir_all(dir).with_context(|| dir.display().to_string())?;
    let path = dir.join(format!("{}.toml", p.name));
    let text = p.to_toml();
    let tmp = temp_path(&path);
    write_atomic(&tmp, text.as_bytes(), Durability::Sync)?;
    let linked = std::fs::hard_link(&tmp, &path);
    let _ = std::fs::remove_file(&tmp);
    linked.map_err(|e| match e.kind() {
        std::io::ErrorKind::AlreadyExists => {
            anyhow::anyhow!("{} exists; choose another name", path.display())
        }
        _ => anyhow::anyhow!("{}: {e}", path.display()),
    })?;
    let mut list = list_presets();
    // A folder outside the search path (a test's): keep the new preset listed anyway.
    if !list.iter().any(|s| s.name == p.name) {
        list.push(PresetSource {
            name: p.name.clone(),
            origin: path.display().to_string(),
            text,
        });
    }
    Ok(Saved {
        name: p.name.clone(),
        path: path.display().to_string(),
        list,
    })
}

impl Default for PresetsState {
    fn default() -> Self {
        Self::new()
    }
}

/// The presets screen's keys.
impl PresetsState {
    pub fn update(&mut self, a: Action) -> Reply {
        match (self.focus, a) {
            (_, Action::FocusList) => self.focus = Focus::List,
            (_, Action::FocusFields) => self.focus = Focus::Fields,
            (Focus::List, Action::Down) => self.select(self.selected + 1),
            (Focus::List, Action::Up) => self.select(self.selected.saturating_sub(1)),
            (Focus::List, Action::Top) => self.select(0),
            (Focus::List, Action::Bottom) => self.select(self.list.len().saturating_sub(1)),
            (Focus::Fields, Action::Down) => self.field = (self.field + 1).min(FIELDS.len() - 1),
            (Focus::Fields, Action::Up) => self.field = self.field.saturating_sub(1),
            (Focus::Fields, Action::Top) => self.field = 0,
            (Focus::Fields, Action::Bottom) => self.field = FIELDS.len() - 1,
            (Focus::Fields, Action::LaunchOrEdit) => self.start_edit(),
            (Focus::List, Action::LaunchOrEdit) => return Reply::ask(Ask::Launch),
            (_, Action::CycleDevice) => {
                let busy = &self.busy;
                self.device = self.device.next_free(
                    self.adapters.load(std::sync::atomic::Ordering::Relaxed),
                    &|i| busy.contains(&i),
                )
            }
            (_, Action::SaveAs) => {
                self.saving = Some(format!(
                    "{}-edited",
                    self.source().map(|s| s.name.as_str()).unwrap_or("preset")
                ))
            }
            (_, Action::UndoEdits) => {
                self.overrides.clear();
                self.resolve();
            }
            _ => return Reply::ignored(),
        }
        Reply::done()
    }

    /// Typing into a field or the "save as" name.
    pub fn on_text(&mut self, k: KeyEvent) -> Reply {
        let buf = if self.saving.is_some() {
            self.saving.as_mut()
        } else {
            self.editing.as_mut()
        };
        let Some(buf) = buf else {
            return Reply::ignored();
        };
        match k.code {
            KeyCode::Char(c) => buf.push(c),
            KeyCode::Backspace => {
                buf.pop();
            }
            KeyCode::Esc => {
                self.editing = None;
                self.saving = None;
                self.edit_error = None;
            }
            KeyCode::Enter if self.saving.is_some() => {
                let name = self.saving.take().unwrap_or_default();
                return match self.to_save(&name) {
                    Ok(p) => Reply::ask(Ask::Effect(Effect::SavePreset(Box::new(p)))),
                    Err(e) => Reply::error(e),
                };
            }
            KeyCode::Enter => {
                self.commit_edit();
            }
            _ => return Reply::ignored(),
        }
        if self.editing.is_some() {
            self.check_edit();
        }
        Reply::done()
    }
}

impl App {
    /// Enter on the list: train the resolved preset (with its inline edits) in a trainer
    /// process of its own (or, with `--in-process`, on a worker thread of this lab).
    pub(super) fn launch(&mut self) {
        let p = match &self.presets.resolved {
            Ok(p) => p.clone(),
            Err(e) => {
                self.say(format!("cannot launch: {e}"), true);
                return;
            }
        };
        let seed = p.training.seeds[0];
        let device = self.presets.device;
        if self.opts.in_process {
            let key = self.next_worker(&p.name);
            self.push(Effect::Launch {
                key,
                preset: Box::new(p),
                seed,
                device,
            });
        } else {
            // The lab names the run, so it can follow the folder before the trainer writes to it.
            let id = crate::store::new_run_id(&p.name);
            self.add_detached(&id, &p.name);
            self.push(Effect::Detach {
                id,
                preset: Box::new(p),
                seed,
                device,
            });
        }
        self.screen = Screen::Live;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn save_as_writes_the_edited_preset_and_selects_it() {
        let dir = tempfile::tempdir().unwrap();
        let mut ps = PresetsState::new();
        ps.field = 1; // rate
        ps.editing = Some("0.2".into());
        assert!(ps.commit_edit());
        assert!(ps.to_save("bad name").is_err());
        let saved = write_preset(&ps.to_save("my-study").unwrap(), dir.path()).unwrap();
        let path = saved.path.clone();
        ps.saved(saved);
        let saved = Preset::load(std::path::Path::new(&path), &[]).unwrap();
        assert_eq!(
            (saved.name.as_str(), saved.duplication.rate),
            ("my-study", Some(0.2))
        );
        assert_eq!(ps.source().unwrap().name, "my-study");
        assert!(
            ps.overrides.is_empty(),
            "the edits now live in the saved preset"
        );
        assert!(
            write_preset(&ps.to_save("my-study").unwrap(), dir.path())
                .unwrap_err()
                .to_string()
                .contains("exists")
        );
    }
}
