//! Drawing: a pure function of the app's state. Layouts adapt to the width; below 80×24 a clear
//! "terminal too small" screen; `--ascii` and `NO_COLOR` change symbols and colours only.

mod card;
mod common;
mod compare;
pub mod data;
mod groups;
mod live;
mod membership;
mod presets;
mod runs;

pub use common::{CLEAN, ROBUST, RUN_COLORS, TRAIN};

use super::app::{App, Screen};
use super::dialog::Dialog;
use super::keys;
use common::{block, centered, st};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph, Wrap};

pub const MIN_W: u16 = 80;
pub const MIN_H: u16 = 24;

pub fn draw(f: &mut Frame, app: &App) {
    let area = f.area();
    if area.width < MIN_W || area.height < MIN_H {
        let msg = format!(
            "terminal too small: {}×{}\nduplab needs at least {MIN_W}×{MIN_H}.\n\nq quits",
            area.width, area.height
        );
        f.render_widget(Paragraph::new(msg).wrap(Wrap { trim: true }), area);
        return;
    }
    let [header, body, footer] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(1),
        Constraint::Length(1),
    ])
    .areas(area);
    draw_header(f, app, header);
    match app.screen {
        Screen::Presets => presets::draw(f, app, body),
        Screen::Live => live::draw(f, app, body),
        Screen::Runs => runs::draw(f, app, body),
        Screen::Compare => compare::draw(f, app, body),
        Screen::Data => data::draw(f, app, body),
        Screen::Membership => membership::draw(f, app, body),
    }
    draw_footer(f, app, footer);
    if app.show_help {
        draw_help(f, app);
    }
    if let Some(d) = &app.dialog {
        draw_dialog(f, app, d);
    }
    if app.opts.ascii {
        asciify(f.buffer_mut());
    }
}

/// `--ascii`: widgets that draw lines and dots themselves (chart axes, braille) end up as ASCII.
fn asciify(buf: &mut ratatui::buffer::Buffer) {
    for cell in buf.content.iter_mut() {
        let Some(c) = cell.symbol().chars().next() else {
            continue;
        };
        let r = match c {
            '─' | '━' | '═' => "-",
            '│' | '┃' | '║' => "|",
            '\u{2500}'..='\u{257F}' => "+",
            '\u{2800}' => " ",
            '\u{2801}'..='\u{28FF}' => "*",
            '█' | '▓' => "#",
            '▒' => "+",
            '░' => ".",
            '▶' => ">",
            '▏' => "_",
            '■' | '●' => "*",
            _ => continue,
        };
        cell.set_symbol(r);
    }
}

fn draw_header(f: &mut Frame, app: &App, area: ratatui::layout::Rect) {
    let mut spans = vec![Span::styled(
        " duplab ",
        st(
            app,
            Style::default()
                .fg(Color::Black)
                .bg(Color::Cyan)
                .add_modifier(Modifier::BOLD),
        ),
    )];
    for (i, s) in Screen::ALL.iter().enumerate() {
        let label = format!(" {} {} ", i + 1, s.title());
        if *s == app.screen {
            spans.push(Span::styled(
                label,
                st(
                    app,
                    Style::default().add_modifier(Modifier::BOLD | Modifier::REVERSED),
                ),
            ));
        } else {
            spans.push(Span::raw(label));
        }
    }
    // Runs on this lab's threads stop with it; runs in their own processes go on without it.
    let (here, elsewhere) = (app.training(), app.training_elsewhere());
    if here + elsewhere > 0 {
        let text = match (here, elsewhere) {
            (0, n) => format!("  ● {n} training (own process)"),
            (n, 0) => format!("  ● {n} training (in this lab)"),
            (n, m) => format!("  ● {} training ({n} in this lab)", n + m),
        };
        spans.push(Span::styled(
            text,
            st(app, Style::default().fg(Color::Green)),
        ));
    }
    spans.push(Span::styled(
        format!("  store {}", app.store.root.display()),
        st(app, Style::default().fg(Color::DarkGray)),
    ));
    f.render_widget(Paragraph::new(Line::from(spans)), area);
}

fn draw_footer(f: &mut Frame, app: &App, area: ratatui::layout::Rect) {
    let line = match &app.message {
        Some((m, err)) => Line::from(Span::styled(
            m.clone(),
            st(
                app,
                Style::default().fg(if *err { Color::Red } else { Color::Green }),
            ),
        )),
        None => {
            // The screen's keys in full, then the global ones by their first key and word.
            let mut items: Vec<String> = keys::for_screen(app.screen)
                .iter()
                .filter(|b| b.footer)
                .map(|b| format!("{} {}", b.label, b.help))
                .collect();
            items.extend(keys::GLOBAL.iter().filter(|b| b.footer).map(|b| {
                let word = b.help.split(' ').next().unwrap_or(b.help);
                format!("{} {word}", b.keys[0].name())
            }));
            Line::from(Span::styled(
                items.join(" · "),
                st(app, Style::default().fg(Color::DarkGray)),
            ))
        }
    };
    f.render_widget(Paragraph::new(line), area);
}

fn draw_help(f: &mut Frame, app: &App) {
    let k = keys::for_screen(app.screen);
    let mut lines = vec![Line::from(Span::styled(
        format!("{} screen", app.screen.title()),
        st(app, Style::default().add_modifier(Modifier::BOLD)),
    ))];
    lines.extend(
        k.iter()
            .map(|b| Line::from(format!("  {:<16} {}", b.label, b.help))),
    );
    lines.push(Line::from(""));
    lines.push(Line::from(Span::styled(
        "everywhere",
        st(app, Style::default().add_modifier(Modifier::BOLD)),
    )));
    lines.extend(
        keys::GLOBAL
            .iter()
            .map(|b| Line::from(format!("  {:<16} {}", b.label, b.help))),
    );
    let r = centered(f.area(), 80, lines.len() as u16 + 2);
    f.render_widget(Clear, r);
    f.render_widget(
        Paragraph::new(lines).block(block(app, " keys (Esc closes) ")),
        r,
    );
}

fn draw_dialog(f: &mut Frame, app: &App, d: &Dialog) {
    let text = d.text();
    let h = text.lines().count() as u16 + 2;
    let r = centered(f.area(), 62, h);
    f.render_widget(Clear, r);
    f.render_widget(
        Paragraph::new(text)
            .block(block(app, " confirm "))
            .wrap(Wrap { trim: false }),
        r,
    );
}
