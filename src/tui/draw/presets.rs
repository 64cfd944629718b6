use super::common::{block, fg, st};
use crate::tui::App;
use crate::tui::presets::{FIELDS, Focus};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{List, ListItem, ListState, Paragraph, Wrap};

pub fn draw(f: &mut Frame, app: &App, area: Rect) {
    let ps = &app.presets;
    let [left, mid, right] = if area.width >= 140 {
        Layout::horizontal([
            Constraint::Length(24),
            Constraint::Length(46),
            Constraint::Min(40),
        ])
        .areas(area)
    } else {
        Layout::horizontal([
            Constraint::Length(22),
            Constraint::Length(40),
            Constraint::Min(16),
        ])
        .areas(area)
    };
    let items: Vec<ListItem> = ps
        .list
        .iter()
        .map(|p| ListItem::new(p.name.clone()))
        .collect();
    let mut state = ListState::default().with_selected(Some(ps.selected));
    let hl = if ps.focus == Focus::List {
        Style::default().fg(Color::Black).bg(Color::Cyan)
    } else {
        Style::default().add_modifier(Modifier::BOLD)
    };
    let list = List::new(items)
        .block(block(app, " presets "))
        .highlight_style(st(app, hl))
        .highlight_symbol(if app.opts.ascii { "> " } else { "▶ " });
    f.render_stateful_widget(list, left, &mut state);

    // The resolved preset and its editable fields.
    let mut lines: Vec<Line> = vec![];
    match &ps.resolved {
        Ok(p) => {
            lines.push(Line::from(Span::styled(
                p.name.clone(),
                st(app, Style::default().add_modifier(Modifier::BOLD)),
            )));
            lines.push(Line::from(Span::styled(
                p.description.clone(),
                fg(app, Color::DarkGray),
            )));
            lines.push(Line::from(format!(
                "data {} · model {} · {}",
                p.data.set.name(),
                p.training.model.name(),
                p.training.optimizer_label()
            )));
            lines.push(Line::from(format!(
                "eval attack {} · augment {}",
                p.attack.eval.attack.label(),
                p.training.augment.unwrap_or_default().label()
            )));
            lines.push(Line::from(""));
        }
        Err(e) => lines.push(Line::from(Span::styled(e.clone(), fg(app, Color::Red)))),
    }
    for (i, (key, label)) in FIELDS.iter().enumerate() {
        let selected = ps.focus == Focus::Fields && ps.field == i;
        let edited = ps
            .overrides
            .iter()
            .any(|o| o.starts_with(&format!("{key}=")));
        let value = match (&ps.editing, selected) {
            (Some(buf), true) => format!("{buf}▏"),
            _ => ps.field_value(i),
        };
        let style = if selected {
            Style::default().fg(Color::Black).bg(Color::Cyan)
        } else if edited {
            Style::default().fg(Color::Yellow)
        } else {
            Style::default()
        };
        lines.push(Line::from(vec![
            Span::raw(format!("{label:>13} ")),
            Span::styled(value, st(app, style)),
            Span::raw(if edited { " *" } else { "" }),
        ]));
    }
    lines.push(Line::from(format!("{:>13} {}", "device", ps.device)));
    if let Some(e) = &ps.edit_error {
        lines.push(Line::from(Span::styled(e.clone(), fg(app, Color::Red))));
    }
    if let Some(name) = &ps.saving {
        lines.push(Line::from(vec![
            Span::raw("save as: "),
            Span::styled(format!("{name}▏"), fg(app, Color::Yellow)),
            Span::raw("  (Enter saves, Esc cancels)"),
        ]));
    }
    let title = if ps.focus == Focus::Fields {
        " preset · fields (Enter edits) "
    } else {
        " preset (Enter launches) "
    };
    f.render_widget(
        Paragraph::new(lines)
            .block(block(app, title))
            .wrap(Wrap { trim: false }),
        mid,
    );
    draw_plan(f, app, right);
}

fn draw_plan(f: &mut Frame, app: &App, area: Rect) {
    let ps = &app.presets;
    let Some((plan, names)) = &ps.plan else {
        let msg = match &ps.resolved {
            Ok(p) => format!(
                "The plan is shown for the embedded data set.\nFor {}:\n  duplab data inspect --preset {}",
                p.data.set.name(),
                p.name
            ),
            Err(_) => String::new(),
        };
        f.render_widget(
            Paragraph::new(msg)
                .block(block(app, " duplication plan "))
                .wrap(Wrap { trim: true }),
            area,
        );
        return;
    };
    let max = plan.after.iter().copied().max().unwrap_or(1).max(1) as f64;
    let name_w = if area.width > 50 { 11 } else { 8 };
    let width = area.width.saturating_sub(name_w as u16 + 16) as f64;
    let (full, shade) = if app.opts.ascii {
        ("#", "+")
    } else {
        ("█", "▒")
    };
    let mut lines = vec![
        Line::from(format!(
            "{} → {} entries, {} copies, {} distinct",
            plan.before.iter().sum::<usize>(),
            plan.len(),
            plan.copies(),
            plan.distinct.iter().sum::<usize>()
        )),
        Line::from(vec![
            Span::raw(format!(
                "{:<name_w$} {:>5} {:>5}  ",
                "class", "orig", "after"
            )),
            Span::styled(format!("{full} originals "), fg(app, Color::Blue)),
            Span::styled(format!("{shade} copies"), fg(app, Color::Yellow)),
        ]),
    ];
    for c in 0..plan.before.len() {
        let orig = plan.distinct[c];
        let copies = plan.after[c] - orig;
        lines.push(Line::from(vec![
            Span::raw(format!(
                "{:<name_w$} {:>5} {:>5}  ",
                names[c].chars().take(name_w).collect::<String>(),
                plan.before[c],
                plan.after[c]
            )),
            Span::styled(
                full.repeat((orig as f64 / max * width).round() as usize),
                fg(app, Color::Blue),
            ),
            Span::styled(
                shade.repeat((copies as f64 / max * width).round() as usize),
                fg(app, Color::Yellow),
            ),
        ]));
    }
    f.render_widget(
        Paragraph::new(lines).block(block(app, " duplication plan (embedded data) ")),
        area,
    );
}
