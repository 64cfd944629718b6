//! Keys as data (gitui's key list): one table per screen binds keys to actions and says what each
//! does. Key handling looks actions up in these tables and the footer and help overlay are drawn
//! from them, so a hint can never differ from a binding (a test walks every table).

use super::app::Screen;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// Everything a key can ask for. Screens interpret the actions of their own table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    // everywhere
    Quit,
    Help,
    Close,
    GoPresets,
    GoLive,
    GoRuns,
    GoCompare,
    GoData,
    GoMembership,
    NextScreen,
    PrevScreen,
    // lists
    Up,
    Down,
    Top,
    Bottom,
    // presets
    FocusList,
    FocusFields,
    LaunchOrEdit,
    CycleDevice,
    SaveAs,
    UndoEdits,
    // live
    PrevRun,
    NextRun,
    PauseResume,
    StopRun,
    Smoothing,
    SidePanel,
    // runs
    Filter,
    Mark,
    Open,
    CompareMarked,
    CompareSweep,
    SortNext,
    SortReverse,
    Delete,
    // compare
    NextMetric,
    DiffOnly,
    // data
    NextPairSet,
    Wider,
    Narrower,
    NextClass,
    // membership
    NextPoint,
    Reload,
    // dialogs
    Yes,
    No,
}

/// A key a table binds: a code and whether Ctrl is held.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Key {
    pub code: KeyCode,
    pub ctrl: bool,
}

const fn k(c: char) -> Key {
    Key {
        code: KeyCode::Char(c),
        ctrl: false,
    }
}
const fn code(code: KeyCode) -> Key {
    Key { code, ctrl: false }
}
const fn ctrl(c: char) -> Key {
    Key {
        code: KeyCode::Char(c),
        ctrl: true,
    }
}

impl Key {
    pub fn matches(&self, e: &KeyEvent) -> bool {
        let ctrl = e.modifiers.contains(KeyModifiers::CONTROL);
        // Shifted letters arrive as upper-case chars (with or without SHIFT): compare the char.
        self.code == e.code && self.ctrl == ctrl
    }

    /// How the key is written in hints, e.g. `↑`, `j`, `Enter`, `Ctrl-C`.
    pub fn name(&self) -> String {
        let base = match self.code {
            KeyCode::Char(' ') => "space".to_string(),
            KeyCode::Char(c) if self.ctrl => c.to_ascii_uppercase().to_string(),
            KeyCode::Char(c) => c.to_string(),
            KeyCode::Up => "↑".into(),
            KeyCode::Down => "↓".into(),
            KeyCode::Left => "←".into(),
            KeyCode::Right => "→".into(),
            KeyCode::Enter => "Enter".into(),
            KeyCode::Esc => "Esc".into(),
            KeyCode::Tab => "Tab".into(),
            KeyCode::BackTab => "Shift-Tab".into(),
            KeyCode::Home => "Home".into(),
            KeyCode::End => "End".into(),
            other => format!("{other:?}"),
        };
        if self.ctrl {
            format!("Ctrl-{base}")
        } else {
            base
        }
    }
}

/// One row of a key table.
#[derive(Debug, Clone, Copy)]
pub struct Binding {
    pub action: Action,
    pub keys: &'static [Key],
    /// The keys as the footer and help write them (a test checks every key is named here).
    pub label: &'static str,
    pub help: &'static str,
    /// Shown in the footer (the help overlay shows every row).
    pub footer: bool,
}

const fn b(
    action: Action,
    keys: &'static [Key],
    label: &'static str,
    help: &'static str,
) -> Binding {
    Binding {
        action,
        keys,
        label,
        help,
        footer: true,
    }
}

/// Bindings that help lists but the footer leaves out (room is short there).
const fn quiet(
    action: Action,
    keys: &'static [Key],
    label: &'static str,
    help: &'static str,
) -> Binding {
    Binding {
        footer: false,
        ..b(action, keys, label, help)
    }
}

use Action::*;

pub const GLOBAL: &[Binding] = &[
    quiet(GoPresets, &[k('1')], "1", "presets screen"),
    quiet(GoLive, &[k('2')], "2", "live screen"),
    quiet(GoRuns, &[k('3')], "3", "runs screen"),
    quiet(GoCompare, &[k('4')], "4", "compare screen"),
    quiet(
        GoData,
        &[k('5')],
        "5",
        "data screen (duplicates the data set holds)",
    ),
    quiet(
        GoMembership,
        &[k('6')],
        "6",
        "membership screen (the selected run's sweep)",
    ),
    quiet(
        NextScreen,
        &[code(KeyCode::Tab)],
        "Tab",
        "next screen (Shift-Tab: previous)",
    ),
    quiet(
        PrevScreen,
        &[code(KeyCode::BackTab)],
        "Shift-Tab",
        "previous screen",
    ),
    b(Help, &[k('?')], "?", "help for this screen"),
    b(
        Quit,
        &[k('q'), ctrl('c')],
        "q / Ctrl-C",
        "quit (asks when training runs)",
    ),
    quiet(
        Close,
        &[code(KeyCode::Esc)],
        "Esc",
        "close a dialog or this help",
    ),
];

pub const PRESETS: &[Binding] = &[
    quiet(
        Down,
        &[code(KeyCode::Down), k('j')],
        "↓ / j",
        "next preset, or field",
    ),
    quiet(
        Up,
        &[code(KeyCode::Up), k('k')],
        "↑ / k",
        "previous preset, or field",
    ),
    quiet(
        Top,
        &[code(KeyCode::Home), k('g')],
        "Home / g",
        "first preset",
    ),
    quiet(
        Bottom,
        &[code(KeyCode::End), k('G')],
        "End / G",
        "last preset",
    ),
    b(
        FocusList,
        &[code(KeyCode::Left), k('h')],
        "← / h",
        "to the preset list",
    ),
    b(
        FocusFields,
        &[code(KeyCode::Right), k('l')],
        "→ / l",
        "to the fields",
    ),
    b(
        LaunchOrEdit,
        &[code(KeyCode::Enter)],
        "Enter",
        "launch a run (list) · edit (field)",
    ),
    b(
        CycleDevice,
        &[k('d')],
        "d",
        "device: auto → cpu → gpu → gpu:N",
    ),
    b(
        SaveAs,
        &[k('s')],
        "s",
        "save the edited preset under a new name",
    ),
    b(UndoEdits, &[k('u')], "u", "undo all edits of this preset"),
];

pub const LIVE: &[Binding] = &[
    b(
        PrevRun,
        &[code(KeyCode::Left), k('h')],
        "← / h",
        "previous run",
    ),
    b(
        NextRun,
        &[code(KeyCode::Right), k('l')],
        "→ / l",
        "next run",
    ),
    b(PauseResume, &[k('p')], "p", "pause / resume"),
    b(StopRun, &[k('x')], "x", "stop (asks; checkpoints)"),
    b(Smoothing, &[k('e')], "e", "smoothing (EMA) on/off"),
    b(
        SidePanel,
        &[k('g')],
        "g",
        "side panel: classes · memorisation · per class · card",
    ),
];

pub const RUNS: &[Binding] = &[
    quiet(Down, &[code(KeyCode::Down), k('j')], "↓ / j", "next run"),
    quiet(Up, &[code(KeyCode::Up), k('k')], "↑ / k", "previous run"),
    quiet(Top, &[code(KeyCode::Home), k('g')], "Home / g", "first run"),
    quiet(Bottom, &[code(KeyCode::End), k('G')], "End / G", "last run"),
    b(Filter, &[k('/')], "/", "filter (Enter keeps, Esc clears)"),
    b(Mark, &[k(' ')], "space", "mark for comparison"),
    b(Open, &[code(KeyCode::Enter)], "Enter", "open the run"),
    b(CompareMarked, &[k('c')], "c", "compare marked runs (2–6)"),
    b(
        CompareSweep,
        &[k('w')],
        "w",
        "compare this run's sweep (one run per point)",
    ),
    b(SortNext, &[k('s')], "s", "sort by the next column"),
    b(SortReverse, &[k('S')], "S", "reverse the sort"),
    b(Delete, &[k('D')], "D", "delete the run (asks)"),
];

pub const COMPARE: &[Binding] = &[
    b(
        NextMetric,
        &[k('m')],
        "m",
        "metric: test acc · robust acc · train loss",
    ),
    b(DiffOnly, &[k('d')], "d", "config: differences only / all"),
    b(Smoothing, &[k('e')], "e", "smoothing (EMA) on/off"),
];

pub const DATA: &[Binding] = &[
    quiet(Down, &[code(KeyCode::Down), k('j')], "↓ / j", "next pair"),
    quiet(Up, &[code(KeyCode::Up), k('k')], "↑ / k", "previous pair"),
    quiet(
        Top,
        &[code(KeyCode::Home), k('g')],
        "Home / g",
        "closest pair",
    ),
    quiet(
        Bottom,
        &[code(KeyCode::End), k('G')],
        "End / G",
        "farthest pair",
    ),
    b(
        NextPairSet,
        &[k('t')],
        "t",
        "pairs: test→train · train · test",
    ),
    b(Wider, &[k('+'), k('=')], "+ / =", "wider threshold"),
    b(Narrower, &[k('-')], "-", "narrower threshold"),
    b(NextClass, &[k('c')], "c", "class filter: all · each class"),
];

pub const MEMBERSHIP: &[Binding] = &[
    quiet(
        Down,
        &[code(KeyCode::Down), k('j')],
        "↓ / j",
        "next memorised image",
    ),
    quiet(
        Up,
        &[code(KeyCode::Up), k('k')],
        "↑ / k",
        "previous memorised image",
    ),
    quiet(
        Top,
        &[code(KeyCode::Home), k('g')],
        "Home / g",
        "most memorised",
    ),
    quiet(
        Bottom,
        &[code(KeyCode::End), k('G')],
        "End / G",
        "last listed",
    ),
    b(
        NextPoint,
        &[k('p')],
        "p",
        "next point (e.g. standard · FGSM-RS)",
    ),
    b(
        Reload,
        &[k('r')],
        "r",
        "analyse again (models finished since)",
    ),
];

/// Every dialog: `y` confirms; `n`, Esc and Enter cancel. Enter is the safe choice because every
/// dialog guards something that cannot be undone (a delete, a stop, quitting with runs).
pub const DIALOG: &[Binding] = &[
    b(Yes, &[k('y')], "y", "yes"),
    b(
        No,
        &[k('n'), code(KeyCode::Esc), code(KeyCode::Enter)],
        "n / Esc / Enter",
        "no (the safe choice)",
    ),
];

pub fn for_screen(s: Screen) -> &'static [Binding] {
    match s {
        Screen::Presets => PRESETS,
        Screen::Live => LIVE,
        Screen::Runs => RUNS,
        Screen::Compare => COMPARE,
        Screen::Data => DATA,
        Screen::Membership => MEMBERSHIP,
    }
}

/// The action a key asks for in a table, if any.
pub fn lookup(table: &[Binding], e: &KeyEvent) -> Option<Action> {
    table
        .iter()
        .find(|b| b.keys.iter().any(|k| k.matches(e)))
        .map(|b| b.action)
}

/// The key event a key of a table stands for (tests).
#[cfg(test)]
pub fn event(key: &Key) -> KeyEvent {
    let mods = if key.ctrl {
        KeyModifiers::CONTROL
    } else {
        KeyModifiers::NONE
    };
    KeyEvent::new(key.code, mods)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tables() -> Vec<(&'static str, &'static [Binding])> {
        vec![
            ("global", GLOBAL),
            ("presets", PRESETS),
            ("live", LIVE),
            ("runs", RUNS),
            ("compare", COMPARE),
            ("data", DATA),
            ("membership", MEMBERSHIP),
            ("dialog", DIALOG),
        ]
    }

    #[test]
    fn every_label_names_exactly_its_keys() {
        for (name, t) in tables() {
            for row in t {
                let named: Vec<String> = row.label.split(" / ").map(String::from).collect();
                let keys: Vec<String> = row.keys.iter().map(|k| k.name()).collect();
                assert_eq!(named, keys, "{name}: {:?}", row.action);
            }
        }
    }

    #[test]
    fn no_key_is_bound_twice_in_a_table_or_shadowed_by_a_global_one() {
        for (name, t) in tables() {
            let mut seen: Vec<Key> = vec![];
            for row in t {
                for key in row.keys {
                    assert!(!seen.contains(key), "{name}: {} bound twice", key.name());
                    seen.push(*key);
                    if name != "global" && name != "dialog" {
                        assert!(
                            lookup(GLOBAL, &event(key)).is_none(),
                            "{name}: {} is taken by a global key",
                            key.name()
                        );
                    }
                }
            }
        }
    }
}
