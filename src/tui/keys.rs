//! Keys, defined once per screen: the footer and the help overlay are drawn from these tables.

use super::app::Screen;

pub const GLOBAL: &[(&str, &str)] = &[
    ("1-4 / Tab", "presets · live · runs · compare"),
    ("?", "help for this screen"),
    ("q / Ctrl-C", "quit (asks when training runs)"),
    ("Esc", "close a dialog or this help"),
];

pub const PRESETS: &[(&str, &str)] = &[
    ("↑↓ / j k", "choose a preset, or a field"),
    ("←→ / h l", "preset list ↔ fields"),
    ("Enter", "launch a run (list) · edit (field)"),
    ("d", "device: auto → cpu → gpu"),
    ("s", "save the edited preset under a new name"),
    ("u", "undo all edits of this preset"),
];

pub const LIVE: &[(&str, &str)] = &[
    ("← → / h l", "switch between runs"),
    ("p", "pause / resume"),
    ("x", "stop (asks; checkpoints)"),
    ("e", "smoothing (EMA) on/off"),
];

pub const RUNS: &[(&str, &str)] = &[
    ("↑↓ / j k", "move"),
    ("/", "filter (Enter keeps, Esc clears)"),
    ("space", "mark for comparison"),
    ("Enter", "open the run"),
    ("c", "compare marked runs (2–6)"),
    ("w", "compare this run's sweep (one run per point)"),
    ("s / S", "sort by next column / reverse"),
    ("D", "delete the run (asks)"),
];

pub const COMPARE: &[(&str, &str)] = &[
    ("m", "metric: test acc · robust acc · train loss"),
    ("d", "config: differences only / all"),
    ("e", "smoothing (EMA) on/off"),
];

pub fn for_screen(s: Screen) -> &'static [(&'static str, &'static str)] {
    match s {
        Screen::Presets => PRESETS,
        Screen::Live => LIVE,
        Screen::Runs => RUNS,
        Screen::Compare => COMPARE,
    }
}
