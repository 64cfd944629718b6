//! Screens rendered off-terminal: into ratatui's `TestBackend`, then as SVG (one monospace text
//! cell per character, its colours kept) and PNG. Used by `duplab screenshots`, the snapshot
//! tests and the render benchmark.

use super::{App, draw};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use ratatui::style::{Color, Modifier};

pub fn render(app: &App, width: u16, height: u16) -> Buffer {
    let mut t =
        Terminal::new(TestBackend::new(width, height)).expect("a test backend always opens");
    t.draw(|f| draw(f, app))
        .expect("drawing into memory cannot fail");
    t.backend().buffer().clone()
}

/// The buffer's text, one line per row (trailing spaces trimmed), for snapshots.
pub fn text(buf: &Buffer) -> String {
    let mut out = String::new();
    for y in 0..buf.area.height {
        let mut line = String::new();
        for x in 0..buf.area.width {
            line.push_str(buf[(x, y)].symbol());
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

fn rgb(c: Color, default: &str) -> String {
    let s = match c {
        Color::Reset => return default.to_string(),
        Color::Black => "#1e1e1e",
        Color::Red => "#cd3131",
        Color::Green => "#0dbc79",
        Color::Yellow => "#c9b800",
        Color::Blue => "#2472c8",
        Color::Magenta => "#bc3fbc",
        Color::Cyan => "#11a8cd",
        Color::Gray => "#cccccc",
        Color::DarkGray => "#767676",
        Color::LightRed => "#f14c4c",
        Color::LightGreen => "#23d18b",
        Color::LightYellow => "#f5f543",
        Color::LightBlue => "#3b8eea",
        Color::LightMagenta => "#d670d6",
        Color::LightCyan => "#29b8db",
        Color::White => "#e5e5e5",
        Color::Rgb(r, g, b) => return format!("#{r:02x}{g:02x}{b:02x}"),
        Color::Indexed(_) => return default.to_string(),
    };
    s.to_string()
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The buffer as an SVG of a dark terminal (8.4 × 17 px cells, DejaVu Sans Mono).
pub fn svg(buf: &Buffer) -> String {
    let (cw, ch) = (8.4, 17.0);
    let (w, h) = (buf.area.width as f64 * cw, buf.area.height as f64 * ch);
    let (fg0, bg0) = ("#d4d4d4", "#1e1e1e");
    let mut s = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\" font-family=\"DejaVu Sans Mono, monospace\" font-size=\"14\">\n<rect width=\"100%\" height=\"100%\" fill=\"{bg0}\"/>\n"
    );
    for y in 0..buf.area.height {
        for x in 0..buf.area.width {
            let cell = &buf[(x, y)];
            let reversed = cell.modifier.contains(Modifier::REVERSED);
            let (mut fg, mut bg) = (rgb(cell.fg, fg0), rgb(cell.bg, bg0));
            if reversed {
                std::mem::swap(&mut fg, &mut bg);
            }
            let (px, py) = (x as f64 * cw, y as f64 * ch);
            if bg != bg0 {
                s.push_str(&format!("<rect x=\"{px:.1}\" y=\"{py:.1}\" width=\"{:.1}\" height=\"{ch}\" fill=\"{bg}\"/>", cw + 0.2));
            }
            let sym = cell.symbol();
            if sym.trim().is_empty() {
                continue;
            }
            let bold = if cell.modifier.contains(Modifier::BOLD) {
                " font-weight=\"bold\""
            } else {
                ""
            };
            s.push_str(&format!(
                "<text x=\"{px:.1}\" y=\"{:.1}\" fill=\"{fg}\"{bold}>{}</text>",
                py + ch - 4.0,
                esc(sym)
            ));
        }
        s.push('\n');
    }
    s.push_str("</svg>\n");
    s
}
