use super::common::{block, fg, fmt_secs, pct, st};
use crate::tui::App;
use crate::tui::runs::COLUMNS;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row, Table, TableState};

fn status_color(s: &str) -> Color {
    match s {
        "finished" => Color::Green,
        "running" => Color::Cyan,
        "failed" => Color::Red,
        s if s.starts_with("corrupt") => Color::Red,
        _ => Color::Yellow,
    }
}

pub fn draw(f: &mut Frame, app: &App, area: Rect) {
    let rs = &app.runs;
    let [top, table_area] =
        Layout::vertical([Constraint::Length(1), Constraint::Min(3)]).areas(area);
    let visible = rs.visible();
    let info = format!(
        "{} of {} runs · sorted by {} {} · {} marked{}",
        visible.len(),
        rs.rows.len(),
        COLUMNS[rs.sort],
        if rs.descending { "↓" } else { "↑" },
        rs.marked.len(),
        if rs.filtering || !rs.filter.is_empty() {
            format!(
                " · filter: {}{}",
                rs.filter,
                if rs.filtering { "▏" } else { "" }
            )
        } else {
            String::new()
        }
    );
    f.render_widget(
        Paragraph::new(Line::from(Span::styled(info, fg(app, Color::DarkGray)))),
        top,
    );
    let wide = area.width >= 130;
    let mut header: Vec<String> = vec![" ".into()];
    header.extend(COLUMNS.iter().enumerate().map(|(i, c)| {
        if i == rs.sort {
            format!("{c}{}", if rs.descending { "↓" } else { "↑" })
        } else {
            c.to_string()
        }
    }));
    let rows: Vec<Row> = visible
        .iter()
        .map(|r| {
            let mark = if rs.marked.contains(&r.id) { "*" } else { " " };
            Row::new(vec![
                Cell::from(mark),
                Cell::from(r.preset.clone()),
                Cell::from(r.data.clone()),
                Cell::from(r.duplication.clone()),
                Cell::from(r.attack.clone()),
                Cell::from(Span::styled(
                    r.status_text(),
                    fg(app, status_color(&r.status_text())),
                )),
                Cell::from(Span::styled(pct(r.test_acc), fg(app, super::CLEAN))),
                Cell::from(Span::styled(pct(r.robust_acc), fg(app, super::ROBUST))),
                Cell::from(fmt_secs(r.duration_s)),
                Cell::from(if wide {
                    r.started
                        .replace('T', " ")
                        .trim_end_matches('Z')
                        .to_string()
                } else {
                    r.started.get(5..16).unwrap_or("").replace('T', " ")
                }),
            ])
        })
        .collect();
    let widths = [
        Constraint::Length(1),
        Constraint::Min(14),
        Constraint::Length(13),
        Constraint::Min(14),
        Constraint::Min(10),
        Constraint::Length(11),
        Constraint::Length(6),
        Constraint::Length(7),
        Constraint::Length(6),
        Constraint::Length(if wide { 19 } else { 11 }),
    ];
    let table = Table::new(rows, widths)
        .header(Row::new(header).style(st(app, Style::default().add_modifier(Modifier::BOLD))))
        .block(block(app, " runs (refreshes as other processes write) "))
        .row_highlight_style(st(app, Style::default().add_modifier(Modifier::REVERSED)));
    let mut state = TableState::default().with_selected(if visible.is_empty() {
        None
    } else {
        Some(rs.selected)
    });
    f.render_stateful_widget(table, table_area, &mut state);
    if rs.rows.is_empty() {
        let msg = match &rs.error {
            Some(e) => e.clone(),
            None => format!(
                "No runs in {} yet. Launch one from the presets screen (1, Enter) or with `duplab train`.",
                app.store.root.display()
            ),
        };
        let inner = Rect {
            x: table_area.x + 2,
            y: table_area.y + 2,
            width: table_area.width.saturating_sub(4),
            height: 1,
        };
        f.render_widget(Paragraph::new(msg), inner);
    }
}
