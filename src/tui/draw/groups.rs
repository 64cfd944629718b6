//! The live screen's memorisation panel: what duplication does to the duplicated images. Group
//! losses over the run (duplicated / copies / unique / dropped / test), and per group the
//! membership inference against the test images; or, per class, duplicated vs unique vs test.

use super::common::{block, bounds, fg};
use super::live::{Series, step_chart};
use crate::measures::Group;
use crate::tui::App;
use crate::tui::live::LiveRun;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Color;
use ratatui::text::{Line, Span};
use ratatui::widgets::{GraphType, LegendPosition, Paragraph, Wrap};

/// Each group's colour: duplicated images stand out, test is the clean-accuracy colour.
pub const GROUP_COLORS: [(Group, Color); 5] = [
    (Group::Duplicated, Color::Magenta),
    (Group::Copies, Color::LightMagenta),
    (Group::Unique, Color::Yellow),
    (Group::Dropped, Color::Gray),
    (Group::Test, super::CLEAN),
];

fn none_yet(f: &mut Frame, app: &App, area: Rect, title: &str) {
    f.render_widget(
        Paragraph::new(
            "No group metrics yet: they come with the first evaluation (training.group_every; \
             runs written before group metrics have none).",
        )
        .block(block(app, title))
        .wrap(Wrap { trim: true }),
        area,
    );
}

pub fn draw(f: &mut Frame, app: &App, run: &LiveRun, area: Rect) {
    let title = " memorisation: loss by group (g: next panel) ";
    let Some((step, last)) = run.last_groups() else {
        return none_yet(f, app, area, title);
    };
    let rows = last.groups.len() as u16 + 4;
    let [chart_area, table_area] =
        Layout::vertical([Constraint::Min(6), Constraint::Length(rows)]).areas(area);
    let series: Vec<(&'static str, Color, Vec<(f64, f64)>)> = GROUP_COLORS
        .iter()
        .map(|&(group, color)| {
            let pts = run
                .evals
                .iter()
                .filter_map(|e| {
                    let g = e.groups.as_ref()?.group(group)?;
                    Some((e.step as f64, g.loss))
                })
                .collect::<Vec<_>>();
            (group.name(), color, pts)
        })
        .filter(|s| !s.2.is_empty())
        .collect();
    let lines: Vec<Series> = series
        .iter()
        .map(|(name, color, pts)| Series {
            name,
            color: *color,
            graph: GraphType::Line,
            points: pts,
        })
        .collect();
    let y = bounds(series.iter().flat_map(|s| s.2.iter().map(|p| p.1)));
    let labels = [
        format!("{:.2}", y[0]),
        format!("{:.2}", (y[0] + y[1]) / 2.0),
        format!("{:.2}", y[1]),
    ];
    step_chart(
        f,
        app,
        run,
        chart_area,
        title,
        &lines,
        y,
        labels,
        LegendPosition::TopRight,
    );

    let mut lines = vec![Line::from(format!(
        "{:<10} {:>6} {:>7} {:>6} {:>6} {:>7}",
        "group", "n", "loss", "acc%", "AUC", "TPR@1%"
    ))];
    for &(group, color) in &GROUP_COLORS {
        let Some(s) = last.group(group) else {
            continue;
        };
        let m = last.membership_of(group);
        let name = group.name();
        lines.push(Line::from(vec![
            Span::styled(format!("{name:<10}"), fg(app, color)),
            Span::raw(format!(
                " {:>6} {:>7.4} {:>6.1} {:>6} {:>7}",
                s.images,
                s.loss,
                s.acc * 100.0,
                m.map(|m| format!("{:.3}", m.auc)).unwrap_or("-".into()),
                m.map(|m| format!("{:.1}", m.tpr_at_1 * 100.0))
                    .unwrap_or("-".into()),
            )),
        ]));
    }
    if !last.margin_membership.is_empty() {
        // The tie-free score (logit margin, f64): what the loss attack cannot order.
        let d = last.margin_membership_of(Group::Duplicated).map(|m| m.auc);
        let u = last.margin_membership_of(Group::Unique).map(|m| m.auc);
        lines.push(Line::from(format!(
            "margin AUC: duplicated {}  unique {}",
            d.map(|v| format!("{v:.3}")).unwrap_or("-".into()),
            u.map(|v| format!("{v:.3}")).unwrap_or("-".into()),
        )));
    }
    if let Some(a) = &last.adversarial {
        let d = a.membership_of(Group::Duplicated).map(|m| m.auc);
        let u = a.membership_of(Group::Unique).map(|m| m.auc);
        lines.push(Line::from(format!(
            "adversarial AUC: duplicated {}  unique {}",
            d.map(|v| format!("{v:.3}")).unwrap_or("-".into()),
            u.map(|v| format!("{v:.3}")).unwrap_or("-".into()),
        )));
    }
    f.render_widget(
        Paragraph::new(lines).block(block(
            app,
            &format!(" groups at step {step} (AUC: members vs test) "),
        )),
        table_area,
    );
}

pub fn draw_by_class(f: &mut Frame, app: &App, run: &LiveRun, area: Rect) {
    let title = " memorisation per class: loss (g: next panel) ";
    let Some((step, last)) = run.last_groups() else {
        return none_yet(f, app, area, title);
    };
    let shown: Vec<(&str, Color)> = GROUP_COLORS
        .iter()
        .filter(|(g, _)| last.group(*g).is_some())
        .map(|&(g, c)| (g.name(), c))
        .collect();
    let mut head = vec![Span::raw(format!("{:<11}", "class"))];
    for (n, c) in &shown {
        head.push(Span::styled(
            format!(" {:>9}", n.chars().take(9).collect::<String>()),
            fg(app, *c),
        ));
    }
    let mut lines = vec![Line::from(head)];
    for (c, name) in run.class_names.iter().enumerate() {
        let mut spans = vec![Span::raw(format!(
            "{:<11}",
            name.chars().take(11).collect::<String>()
        ))];
        for (n, _) in &shown {
            let v = last.groups[*n].per_class_loss.get(c).copied();
            spans.push(Span::raw(match v {
                Some(v) if v.is_finite() => format!(" {v:>9.4}"),
                _ => format!(" {:>9}", "-"),
            }));
        }
        lines.push(Line::from(spans));
    }
    f.render_widget(
        Paragraph::new(lines)
            .block(block(app, &format!(" {} · step {step} ", title.trim())))
            .wrap(Wrap { trim: false }),
        area,
    );
}
