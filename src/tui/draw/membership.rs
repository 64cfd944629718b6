//! The Membership screen: for one point of a reference-model sweep, the headline attack's TPR at
//! 0.1 % and 1 % FPR and AUC by occurrences k (beside the threshold attack), the findings worded
//! from their tests (a verdict in green or red, "no detectable difference" plain), the ROC on
//! log–log axes, and the most memorised images, the selected one drawn as the Data screen draws.

use super::common::{block, fg, marker, st};
use super::data::{ImageMode, image_lines};
use crate::report::membership::{ArmReport, Attack, Contrast};
use crate::tui::App;
use crate::tui::membership::MembershipView;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{
    Axis, Cell, Chart, Dataset, GraphType, Paragraph, Row, Table, TableState, Wrap,
};

/// One colour per occurrence level in the ROC (k = 1, 2, 4, 8, 16, …).
const LEVELS: [Color; 6] = [
    Color::Gray,
    Color::Cyan,
    Color::Green,
    Color::Yellow,
    Color::Magenta,
    Color::LightRed,
];

fn pct(v: f64) -> String {
    if v.is_finite() {
        format!("{:.2}%", v * 100.0)
    } else {
        "–".into()
    }
}

pub fn draw(f: &mut Frame, app: &App, area: Rect) {
    let m = &app.membership;
    let Some(v) = &m.view else {
        let text = match (&m.loading, &m.error) {
            (Some(p), _) => Line::from(format!("{p} …")),
            (_, Some(e)) => Line::from(Span::styled(e.clone(), fg(app, Color::Red))),
            (None, None) => Line::from("no reference-model sweep analysed"),
        };
        f.render_widget(
            Paragraph::new(text)
                .wrap(Wrap { trim: true })
                .block(block(app, "membership")),
            area,
        );
        return;
    };
    let Some(arm) = v.report.arms.get(m.arm) else {
        return;
    };
    let [top, bottom] =
        Layout::vertical([Constraint::Percentage(55), Constraint::Min(8)]).areas(area);
    let [table, roc] = Layout::horizontal([Constraint::Length(81), Constraint::Min(30)]).areas(top);
    draw_table(f, app, v, arm, table);
    draw_roc(f, app, v, arm, roc);
    let [list, image] =
        Layout::horizontal([Constraint::Length(52), Constraint::Min(30)]).areas(bottom);
    draw_memorised(f, app, v, arm, list);
    draw_image(f, app, v, arm, image);
}

fn verdict_style(app: &App, c: &Contrast) -> Style {
    match c.verdict() {
        "higher" => fg(app, Color::Red).add_modifier(Modifier::BOLD),
        "lower" => fg(app, Color::Green).add_modifier(Modifier::BOLD),
        _ => Style::default(),
    }
}

fn draw_table(f: &mut Frame, app: &App, v: &MembershipView, arm: &ArmReport, area: Rect) {
    let head = v.report.headline;
    let title = format!(
        "{} · {} ({}/{}) · {} targets · FPR step 1/{:.0}",
        v.sweep,
        arm.label,
        app.membership.arm + 1,
        v.report.arms.len(),
        arm.targets.len(),
        1.0 / arm.resolution
    );
    let outer = block(app, &title);
    let inner = outer.inner(area);
    f.render_widget(outer, area);
    let rows: Vec<Row> = arm
        .strata
        .iter()
        .filter_map(|st| {
            let c = arm.cell(head, &st.name)?;
            let t = arm.cell(Attack::Threshold, &st.name);
            Some(Row::new(vec![
                Cell::from(st.name.clone()),
                Cell::from(format!("{:.0}", c.members)),
                Cell::from(format!(
                    "{} [{}, {}]",
                    pct(c.tpr_01.mean),
                    pct(c.tpr_01.lo.max(0.0)),
                    pct(c.tpr_01.hi)
                )),
                Cell::from(pct(c.tpr_1.mean)),
                Cell::from(format!("{:.3}", c.auc.mean)),
                Cell::from(t.map_or("–".into(), |t| pct(t.tpr_1.mean))),
            ]))
        })
        .collect();
    let n = rows.len() as u16;
    let [tab, findings] =
        Layout::vertical([Constraint::Length(n + 2), Constraint::Min(1)]).areas(inner);
    let header = Row::new(vec![
        "stratum",
        "members",
        "TPR@0.1% [95% CI]",
        "TPR@1%",
        "AUC",
        "loss@1%",
    ])
    .style(st(app, Style::default().add_modifier(Modifier::BOLD)));
    f.render_widget(
        Table::new(
            rows,
            [
                Constraint::Length(20),
                Constraint::Length(7),
                Constraint::Length(24),
                Constraint::Length(7),
                Constraint::Length(6),
                Constraint::Length(7),
            ],
        )
        .header(header)
        .column_spacing(1),
        tab,
    );
    let mut lines = vec![Line::from(format!(
        "{} (loss@1%: the threshold attack); findings, Holm over {} tests:",
        head.name(),
        v.report.contrasts.len()
    ))];
    for c in v
        .report
        .contrasts
        .iter()
        .filter(|c| c.point == arm.label && c.metric == "tpr_1")
    {
        lines.push(Line::from(vec![
            Span::raw(format!(
                "{}: TPR@1% {:+.2} pp [{:+.2}, {:+.2}] — ",
                c.what,
                c.diff.mean * 100.0,
                c.diff.lo * 100.0,
                c.diff.hi * 100.0
            )),
            Span::styled(c.verdict(), verdict_style(app, c)),
        ]));
    }
    f.render_widget(Paragraph::new(lines).wrap(Wrap { trim: true }), findings);
}

fn draw_roc(f: &mut Frame, app: &App, v: &MembershipView, arm: &ArmReport, area: Rect) {
    let lo = arm.resolution.log10().floor();
    let data: Vec<(String, Color, Vec<(f64, f64)>)> = arm
        .strata
        .iter()
        .filter(|s| s.k_min == s.k_max)
        .enumerate()
        .filter_map(|(i, s)| {
            let c = arm
                .curves
                .iter()
                .find(|c| c.attack == v.report.headline && c.stratum == s.name)?;
            let pts = c
                .fpr
                .iter()
                .zip(&c.tpr)
                .filter(|(_, t)| **t > 0.0)
                .map(|(f, t)| (f.log10(), t.log10().max(lo)))
                .collect();
            Some((s.name.clone(), LEVELS[i % LEVELS.len()], pts))
        })
        .collect();
    let chance: Vec<(f64, f64)> = vec![(lo, lo), (0.0, 0.0)];
    let mut sets: Vec<Dataset> = vec![
        Dataset::default()
            .name("chance")
            .marker(marker(app))
            .graph_type(GraphType::Line)
            .style(fg(app, Color::DarkGray))
            .data(&chance),
    ];
    for (name, color, pts) in &data {
        sets.push(
            Dataset::default()
                .name(name.clone())
                .marker(marker(app))
                .graph_type(GraphType::Line)
                .style(fg(app, *color))
                .data(pts),
        );
    }
    let labels = |a: f64| {
        (a as i32..=0)
            .map(|e| format!("1e{e}"))
            .collect::<Vec<String>>()
    };
    let chart = Chart::new(sets)
        .legend_position(Some(ratatui::widgets::LegendPosition::BottomRight))
        .hidden_legend_constraints((Constraint::Ratio(1, 2), Constraint::Ratio(1, 2)))
        .block(block(app, "ROC, log–log (TPR against FPR)"))
        .x_axis(Axis::default().bounds([lo, 0.0]).labels(labels(lo)))
        .y_axis(Axis::default().bounds([lo, 0.0]).labels(labels(lo)));
    f.render_widget(chart, area);
}

fn draw_memorised(f: &mut Frame, app: &App, v: &MembershipView, arm: &ArmReport, area: Rect) {
    let rows: Vec<Row> = arm
        .top
        .iter()
        .enumerate()
        .map(|(i, m)| {
            Row::new(vec![
                format!("{}", i + 1),
                format!("#{}", m.index),
                v.class_names
                    .get(m.label as usize)
                    .cloned()
                    .unwrap_or_else(|| m.label.to_string()),
                format!("{}", m.k),
                format!("{:.2} ± {:.2}", m.mem, m.se),
            ])
        })
        .collect();
    let header = Row::new(vec!["", "image", "class", "k", "memorisation"])
        .style(st(app, Style::default().add_modifier(Modifier::BOLD)));
    let mut state = TableState::default().with_selected(Some(app.membership.selected));
    let table = Table::new(
        rows,
        [
            Constraint::Length(3),
            Constraint::Length(7),
            Constraint::Length(12),
            Constraint::Length(3),
            Constraint::Length(14),
        ],
    )
    .header(header)
    .row_highlight_style(st(app, Style::default().add_modifier(Modifier::REVERSED)))
    .block(block(app, "most memorised (φ IN − φ OUT, Feldman & Zhang)"));
    f.render_stateful_widget(table, area, &mut state);
}

fn draw_image(f: &mut Frame, app: &App, v: &MembershipView, arm: &ArmReport, area: Rect) {
    let outer = block(app, "the image, as trained on");
    let inner = outer.inner(area);
    f.render_widget(outer, area);
    let Some(m) = arm.top.get(app.membership.selected) else {
        return;
    };
    let Some(pool) = &v.pool else {
        let why = v
            .pool_error
            .as_deref()
            .unwrap_or("the data set was not found");
        f.render_widget(
            Paragraph::new(format!("image #{}: not shown ({why})", m.index))
                .wrap(Wrap { trim: true }),
            inner,
        );
        return;
    };
    let (h, w) = (pool.height, pool.width);
    let scale = ((inner.width as usize) / w)
        .min((inner.height as usize).saturating_sub(2) * 2 / h)
        .max(1);
    let mode = if app.opts.ascii || !app.opts.color {
        ImageMode::Ascii
    } else {
        ImageMode::HalfBlock
    };
    let [img, caption] = Layout::vertical([
        Constraint::Length((h * scale).div_ceil(2) as u16),
        Constraint::Min(1),
    ])
    .areas(inner);
    if (m.index as usize) < pool.len() {
        let lines = image_lines(
            pool.image(m.index as usize),
            pool.channels,
            h,
            w,
            scale,
            mode,
        );
        f.render_widget(Paragraph::new(lines), img);
    }
    f.render_widget(
        Paragraph::new(format!(
            "train #{} · occurs {}× when a member · memorisation {:.2} ± {:.2}",
            m.index, m.k, m.mem, m.se
        ))
        .wrap(Wrap { trim: true }),
        caption,
    );
}
