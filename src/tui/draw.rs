use super::App;
use super::app::KEYS;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, List, ListItem, ListState, Paragraph, Wrap};

pub const MIN_W: u16 = 80;
pub const MIN_H: u16 = 24;

fn style(app: &App, s: Style) -> Style {
    if app.opts.color {
        s
    } else {
        Style::default().add_modifier(s.add_modifier)
    }
}

fn block<'a>(app: &App, title: &'a str) -> Block<'a> {
    let b = Block::default().borders(Borders::ALL).title(title);
    if app.opts.ascii {
        b.border_set(ratatui::symbols::border::Set {
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

/// Draw the whole screen from the app's state (no side effects).
pub fn draw(f: &mut Frame, app: &App) {
    let area = f.area();
    if area.width < MIN_W || area.height < MIN_H {
        let msg = format!(
            "terminal too small: {}×{} (need {MIN_W}×{MIN_H})\nq quits",
            area.width, area.height
        );
        f.render_widget(Paragraph::new(msg).wrap(Wrap { trim: true }), area);
        return;
    }
    let [body, footer] = Layout::vertical([Constraint::Min(1), Constraint::Length(1)]).areas(area);
    let [left, right] =
        Layout::horizontal([Constraint::Length(28), Constraint::Min(40)]).areas(body);

    let items: Vec<ListItem> = app
        .presets
        .iter()
        .map(|p| ListItem::new(p.name.clone()))
        .collect();
    let mut state = ListState::default().with_selected(Some(app.selected));
    let list = List::new(items)
        .block(block(app, " presets "))
        .highlight_style(style(
            app,
            Style::default()
                .fg(Color::Black)
                .bg(Color::Cyan)
                .add_modifier(Modifier::BOLD),
        ))
        .highlight_symbol(if app.opts.ascii { "> " } else { "▶ " });
    f.render_stateful_widget(list, left, &mut state);

    let [info, hist] = Layout::vertical([Constraint::Length(12), Constraint::Min(5)]).areas(right);
    let text: Vec<Line> = match &app.resolved {
        Ok(p) => vec![
            Line::from(Span::styled(
                p.name.clone(),
                style(app, Style::default().add_modifier(Modifier::BOLD)),
            )),
            Line::from(p.description.clone()),
            Line::from(""),
            Line::from(format!("data         {}", p.data.set.name())),
            Line::from(format!("model        {}", p.training.model.name())),
            Line::from(format!("duplication  {}", p.duplication.label())),
            Line::from(format!("train attack {}", p.attack.train.label())),
            Line::from(format!("eval attack  {}", p.attack.eval.attack.label())),
            Line::from(format!(
                "length       {}",
                match p.training.length() {
                    Ok(crate::spec::Length::Epochs(e)) => format!("{e} epochs"),
                    Ok(crate::spec::Length::Steps(s)) => format!("{s} steps (fixed budget)"),
                    Err(_) => "?".into(),
                }
            )),
            Line::from(format!("seeds        {:?}", p.training.seeds)),
        ],
        Err(e) => vec![Line::from(Span::styled(
            e.clone(),
            style(app, Style::default().fg(Color::Red)),
        ))],
    };
    f.render_widget(
        Paragraph::new(text)
            .block(block(app, " preset "))
            .wrap(Wrap { trim: false }),
        info,
    );
    draw_plan(f, app, hist);

    let keys: Vec<String> = KEYS.iter().map(|(k, v)| format!("{k} {v}")).collect();
    f.render_widget(
        Paragraph::new(keys.join("  ·  ")).style(style(app, Style::default().fg(Color::DarkGray))),
        footer,
    );

    if app.show_help {
        let w = 50.min(area.width - 4);
        let h = (KEYS.len() as u16 + 2).min(area.height - 2);
        let r = Rect {
            x: (area.width - w) / 2,
            y: (area.height - h) / 2,
            width: w,
            height: h,
        };
        let lines: Vec<Line> = KEYS
            .iter()
            .map(|(k, v)| Line::from(format!("{k:<18} {v}")))
            .collect();
        f.render_widget(Clear, r);
        f.render_widget(Paragraph::new(lines).block(block(app, " keys ")), r);
    }
}

fn draw_plan(f: &mut Frame, app: &App, area: Rect) {
    let Some((plan, names)) = &app.plan else {
        let msg = match &app.resolved {
            Ok(p) => format!(
                "duplication plan: shown for the embedded data set; for {} run\n  duplab data inspect --preset {}",
                p.data.set.name(),
                p.name
            ),
            Err(_) => String::new(),
        };
        f.render_widget(
            Paragraph::new(msg).block(block(app, " duplication plan ")),
            area,
        );
        return;
    };
    let max = plan.after.iter().copied().max().unwrap_or(1).max(1) as f64;
    let width = area.width.saturating_sub(34) as f64;
    let (full, shade) = if app.opts.ascii {
        ("#", "+")
    } else {
        ("█", "▒")
    };
    let mut lines = vec![Line::from(format!(
        "{:<12} {:>6} {:>6}  {full} originals {shade} copies",
        "class", "before", "after"
    ))];
    for c in 0..plan.before.len() {
        let orig = plan.distinct[c];
        let copies = plan.after[c] - orig;
        lines.push(Line::from(vec![
            Span::raw(format!(
                "{:<12} {:>6} {:>6}  ",
                names[c].chars().take(12).collect::<String>(),
                plan.before[c],
                plan.after[c]
            )),
            Span::styled(
                full.repeat((orig as f64 / max * width).round() as usize),
                style(app, Style::default().fg(Color::Blue)),
            ),
            Span::styled(
                shade.repeat((copies as f64 / max * width).round() as usize),
                style(app, Style::default().fg(Color::Yellow)),
            ),
        ]));
    }
    f.render_widget(
        Paragraph::new(lines).block(block(app, " duplication plan (embedded data) ")),
        area,
    );
}
