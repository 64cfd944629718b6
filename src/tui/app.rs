use super::Options;
use crate::data::{DataSet, Plan};
use crate::spec::{Preset, PresetSource, list_presets};
use crate::store::RunStore;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// Everything the screen shows. Changed only by `update`.
pub struct App {
    pub store: RunStore,
    pub opts: Options,
    pub presets: Vec<PresetSource>,
    pub selected: usize,
    /// The selected preset, resolved, or why it is invalid.
    pub resolved: Result<Preset, String>,
    /// The plan of the selected preset on the embedded data set (other sets load on demand).
    pub plan: Option<(Plan, Vec<String>)>,
    pub show_help: bool,
    pub quit: bool,
    embedded: Option<DataSet>,
}

/// What can happen to the app.
#[derive(Debug, Clone)]
pub enum Msg {
    Key(KeyEvent),
    Resize,
    Tick,
}

impl App {
    pub fn new(store: RunStore, opts: Options) -> App {
        let mut app = App {
            store,
            opts,
            presets: list_presets(),
            selected: 0,
            resolved: Err(String::new()),
            plan: None,
            show_help: false,
            quit: false,
            embedded: None,
        };
        if let Some(i) = app
            .presets
            .iter()
            .position(|p| p.name == crate::spec::DEFAULT_PRESET)
        {
            app.selected = i;
        }
        app.resolve();
        app
    }

    fn resolve(&mut self) {
        let Some(src) = self.presets.get(self.selected) else {
            return;
        };
        self.resolved =
            Preset::from_toml_str(&src.text, &src.origin, &[]).map_err(|e| e.to_string());
        self.plan = None;
        if let Ok(p) = &self.resolved
            && p.data.set == crate::spec::DataSetKind::Embedded
        {
            let ds = self.embedded.get_or_insert_with(crate::data::load_embedded);
            if let Ok(plan) =
                crate::data::make_plan(&p.duplication, &ds.train.labels, ds.num_classes())
            {
                self.plan = Some((plan, ds.class_names.clone()));
            }
        }
    }

    /// The one place state changes. Returns whether a redraw is needed.
    pub fn update(&mut self, msg: Msg) -> bool {
        match msg {
            Msg::Tick => false,
            Msg::Resize => true,
            Msg::Key(k) => {
                if k.modifiers.contains(KeyModifiers::CONTROL) && k.code == KeyCode::Char('c') {
                    self.quit = true;
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
                match k.code {
                    KeyCode::Char('q') | KeyCode::Esc => self.quit = true,
                    KeyCode::Char('?') => self.show_help = true,
                    KeyCode::Down | KeyCode::Char('j')
                        if self.selected + 1 < self.presets.len() =>
                    {
                        self.selected += 1;
                        self.resolve();
                    }
                    KeyCode::Up | KeyCode::Char('k') if self.selected > 0 => {
                        self.selected -= 1;
                        self.resolve();
                    }
                    KeyCode::Home | KeyCode::Char('g') => {
                        self.selected = 0;
                        self.resolve();
                    }
                    KeyCode::End | KeyCode::Char('G') => {
                        self.selected = self.presets.len().saturating_sub(1);
                        self.resolve();
                    }
                    _ => return false,
                }
                true
            }
        }
    }
}

/// Keys, defined once: the help overlay and the footer are drawn from this table.
pub const KEYS: &[(&str, &str)] = &[
    ("↑/k ↓/j", "move through presets"),
    ("g / G", "first / last preset"),
    ("?", "this help"),
    ("q / Esc / Ctrl-C", "quit"),
];

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
    fn starts_on_the_default_preset_with_its_plan() {
        let a = app();
        assert_eq!(a.presets[a.selected].name, "default");
        assert!(a.plan.is_some());
    }

    #[test]
    fn moves_and_quits() {
        let mut a = app();
        let start = a.selected;
        assert!(a.update(key(KeyCode::Char('j'))));
        assert_eq!(a.selected, start + 1);
        a.update(key(KeyCode::Char('g')));
        assert_eq!(a.selected, 0);
        assert!(
            !a.update(key(KeyCode::Char('k'))),
            "no move above the first"
        );
        a.update(key(KeyCode::Char('?')));
        assert!(a.show_help);
        a.update(key(KeyCode::Esc));
        assert!(!a.show_help && !a.quit);
        a.update(key(KeyCode::Char('q')));
        assert!(a.quit);
    }
}
