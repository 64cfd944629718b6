use crate::tui::App;
use ratatui::layout::Rect;
use ratatui::style::{Color, Style};
use ratatui::symbols;
use ratatui::widgets::{Block, Borders};

/// Colours that carry meaning, everywhere: clean accuracy, robust accuracy, training metrics.
pub const CLEAN: Color = Color::Cyan;
pub const ROBUST: Color = Color::Magenta;
pub const TRAIN: Color = Color::Yellow;
/// Distinct colours for up to six compared runs.
pub const RUN_COLORS: [Color; 6] = [
    Color::Cyan,
    Color::Magenta,
    Color::Yellow,
    Color::Green,
    Color::LightRed,
    Color::LightBlue,
];

/// A style, without colour under NO_COLOR / --no-color (modifiers stay).
pub fn st(app: &App, s: Style) -> Style {
    if app.opts.color {
        s
    } else {
        let mut plain = Style::default();
        plain.add_modifier = s.add_modifier;
        plain
    }
}

pub fn fg(app: &App, c: Color) -> Style {
    st(app, Style::default().fg(c))
}

pub fn block<'a>(app: &App, title: &'a str) -> Block<'a> {
    let b = Block::default().borders(Borders::ALL).title(title);
    if app.opts.ascii {
        b.border_set(symbols::border::Set {
            top_left: "+",
            top_right: "+",
            bottom_left: "+",
            bottom_right: "+",
            vertical_left: "|",
            vertical_right: "|",
            horizontal_top: "-",
            horizontal_bottom: "-",
        })
    } else {
        b
    }
}

pub fn marker(app: &App) -> symbols::Marker {
    if app.opts.ascii {
        symbols::Marker::Dot
    } else {
        symbols::Marker::Braille
    }
}

pub fn bar_chars(app: &App) -> (&'static str, &'static str) {
    if app.opts.ascii {
        ("#", ".")
    } else {
        ("█", "░")
    }
}

pub fn centered(area: Rect, w: u16, h: u16) -> Rect {
    let w = w.min(area.width.saturating_sub(2));
    let h = h.min(area.height.saturating_sub(2));
    Rect {
        x: area.x + (area.width - w) / 2,
        y: area.y + (area.height - h) / 2,
        width: w,
        height: h,
    }
}

/// A horizontal bar of `frac` (0..1) in `width` cells.
pub fn bar(app: &App, frac: f64, width: usize) -> (String, String) {
    let (full, empty) = bar_chars(app);
    let n = ((frac.clamp(0.0, 1.0)) * width as f64).round() as usize;
    (full.repeat(n), empty.repeat(width - n))
}

pub fn pct(v: Option<f64>) -> String {
    v.map(|x| format!("{:.1}", x * 100.0))
        .unwrap_or_else(|| "-".into())
}

pub fn fmt_secs(s: f64) -> String {
    let s = s.max(0.0).round() as u64;
    if s >= 3600 {
        format!("{}h{:02}m", s / 3600, s / 60 % 60)
    } else {
        format!("{}m{:02}s", s / 60, s % 60)
    }
}

/// Axis bounds with a little room, never empty.
pub fn bounds(values: impl Iterator<Item = f64>) -> [f64; 2] {
    let (mut lo, mut hi) = (f64::MAX, f64::MIN);
    for v in values {
        if v.is_finite() {
            lo = lo.min(v);
            hi = hi.max(v);
        }
    }
    if lo > hi {
        return [0.0, 1.0];
    }
    if (hi - lo).abs() < 1e-9 {
        return [lo - 0.5, hi + 0.5];
    }
    let pad = (hi - lo) * 0.05;
    [lo - pad, hi + pad]
}

/// A curve as a chart draws it in `cols` columns: the envelope (each column's low and high, so
/// spikes show), or with smoothing on, the EMA of the bucket means thinned to the width.
pub fn curve_points(app: &App, curve: &crate::tui::curve::Curve, cols: u16) -> Vec<(f64, f64)> {
    let max = 2 * cols.max(1) as usize;
    if !app.smoothing || curve.len() < 3 {
        return curve.points(max);
    }
    let means = curve.means();
    let ys = crate::tui::ema(&means.iter().map(|p| p.1).collect::<Vec<_>>(), 0.9);
    let step = means.len().div_ceil(max).max(1);
    means
        .iter()
        .zip(ys)
        .enumerate()
        .filter(|(i, _)| i % step == 0 || *i + 1 == means.len())
        .map(|(_, (p, y))| (p.0, y))
        .collect()
}
