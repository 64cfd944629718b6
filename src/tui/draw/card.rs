//! The live screen's evaluation-card panel: each attack of the ladder as a bar (robust accuracy
//! on the card's images), the probes, and the sanity flags in red — or, without a card, the
//! command that makes one.

use super::common::{bar, block, fg};
use super::{CLEAN, ROBUST};
use crate::tui::App;
use crate::tui::live::LiveRun;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

pub fn draw(f: &mut Frame, app: &App, run: &LiveRun, area: Rect) {
    let title = " evaluation card (g: next panel) ";
    let Some(c) = &run.card else {
        f.render_widget(
            Paragraph::new(format!(
                "No evaluation card yet. Make one with `duplab eval {} --card` (FGSM, PGD with \
                 restarts, APGD-CE, APGD-T and sanity probes on the same test images), then open \
                 the run again.",
                run.id
            ))
            .block(block(app, title))
            .wrap(Wrap { trim: true }),
            area,
        );
        return;
    };
    // Label column, then a bar as wide as what is left after the percentage.
    let label_w = c
        .attacks
        .iter()
        .map(|a| a.0.chars().count())
        .max()
        .unwrap_or(5)
        .clamp(5, 30);
    let bar_w = (area.width as usize).saturating_sub(label_w + 12).max(4);
    let row = |name: &str, acc: f64, color: Color| {
        let (full, empty) = bar(app, acc, bar_w);
        Line::from(vec![
            Span::raw(format!(
                "{:<label_w$} ",
                name.chars().take(label_w).collect::<String>()
            )),
            Span::styled(full, fg(app, color)),
            Span::styled(empty, fg(app, Color::DarkGray)),
            Span::raw(format!(" {:>5.1}", acc * 100.0)),
        ])
    };
    let mut lines = vec![
        Line::from(format!("{} test images · {} ε={}", c.images, c.norm, c.eps)),
        row("clean", c.clean_acc, CLEAN),
    ];
    for (name, acc) in &c.attacks {
        lines.push(row(name, *acc, ROBUST));
    }
    if let Some(w) = crate::report::worst_case(c) {
        lines.push(Line::from(Span::styled(
            format!("worst case {:.1} %", w * 100.0),
            Style::default().add_modifier(Modifier::BOLD),
        )));
    }
    lines.push(Line::from(format!(
        "probes: noise {:.1} % · ε {} {:.1} % · zero grad {:.1} %",
        c.noise_acc * 100.0,
        c.large_eps,
        c.large_eps_acc * 100.0,
        c.zero_grad_fraction * 100.0
    )));
    if c.flags.is_empty() {
        lines.push(Line::from(Span::styled(
            "flags: none",
            fg(app, Color::Green),
        )));
    }
    for flag in &c.flags {
        lines.push(Line::from(Span::styled(
            format!("⚠ {flag}"),
            fg(app, Color::Red).add_modifier(Modifier::BOLD),
        )));
    }
    f.render_widget(
        Paragraph::new(lines)
            .block(block(app, title))
            .wrap(Wrap { trim: false }),
        area,
    );
}
