use super::common::{bar, block, bounds, curve_points, fg, fmt_secs, marker, pct, st};
use super::{CLEAN, ROBUST, TRAIN};
use crate::tui::App;
use crate::tui::app::SidePanel;
use crate::tui::live::{LiveRun, LiveStatus};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Axis, Chart, Dataset, GraphType, LegendPosition, Paragraph, Wrap};

pub fn draw(f: &mut Frame, app: &App, area: Rect) {
    let Some(run) = app
        .live
        .runs
        .get(app.live.selected.min(app.live.runs.len().saturating_sub(1)))
    else {
        let msg = "No run yet. Pick a preset on the presets screen (1) and press Enter, or open a stored run from the runs screen (3).";
        f.render_widget(
            Paragraph::new(msg)
                .block(block(app, " live "))
                .wrap(Wrap { trim: true }),
            area,
        );
        return;
    };
    let [head, rest] = Layout::vertical([Constraint::Length(3), Constraint::Min(10)]).areas(area);
    draw_head(f, app, run, head);
    let (charts, side) = if rest.width >= 120 {
        let [a, b] = Layout::horizontal([Constraint::Percentage(62), Constraint::Percentage(38)])
            .areas(rest);
        (a, b)
    } else {
        let [a, b] =
            Layout::vertical([Constraint::Percentage(55), Constraint::Percentage(45)]).areas(rest);
        (a, b)
    };
    let [loss_area, acc_area] =
        Layout::vertical([Constraint::Percentage(50), Constraint::Percentage(50)]).areas(charts);
    draw_loss(f, app, run, loss_area);
    draw_accuracy(f, app, run, acc_area);
    match app.live.side {
        SidePanel::Classes => draw_classes(f, app, run, side),
        SidePanel::Groups => super::groups::draw(f, app, run, side),
        SidePanel::GroupsByClass => super::groups::draw_by_class(f, app, run, side),
        SidePanel::Card => super::card::draw(f, app, run, side),
    }
}

fn draw_head(f: &mut Frame, app: &App, run: &LiveRun, area: Rect) {
    let n = app.live.runs.len();
    let status_color = match run.status {
        LiveStatus::Running | LiveStatus::Starting => Color::Green,
        LiveStatus::Paused => Color::Yellow,
        LiveStatus::Failed(_) => Color::Red,
        _ => Color::Blue,
    };
    let last = run.last_step.as_ref();
    let step = run.step();
    let epoch = if run.steps_per_epoch > 0 {
        step as f64 / run.steps_per_epoch as f64
    } else {
        0.0
    };
    let l1 = Line::from(vec![
        Span::raw(format!("run {}/{n} ", app.live.selected.min(n - 1) + 1)),
        Span::styled(
            run.id.clone(),
            st(app, Style::default().add_modifier(Modifier::BOLD)),
        ),
        Span::raw(format!("  {}  ", run.preset)),
        Span::styled(run.status.label(), fg(app, status_color)),
        Span::raw(if app.smoothing {
            "  · smoothing on"
        } else {
            ""
        }),
        // The catastrophic-overfitting check fired (FGSM / FGSM-RS training): say so in red.
        // (Its own records; runs of earlier versions checked at evaluations.)
        match run
            .overfit
            .iter()
            .rev()
            .find(|o| o.stat.alarm)
            .map(|o| (o.step, o.stat))
            .or_else(|| {
                run.evals
                    .iter()
                    .rev()
                    .find_map(|e| e.overfit.filter(|o| o.alarm).map(|o| (e.step, o)))
            }) {
            Some((at, o)) => Span::styled(
                format!(
                    "  ⚠ catastrophic overfitting at step {at}: PGD {:.1} % / FGSM {:.1} % on training images",
                    o.pgd_acc * 100.0,
                    o.fgsm_acc * 100.0
                ),
                fg(app, Color::Red),
            ),
            None => Span::raw(""),
        },
    ]);
    let l2 = Line::from(format!(
        "step {step}/{}  epoch {epoch:.2}  {}  ETA {}  · {} on {}",
        run.total_steps,
        last.map(|s| format!("{:.0} img/s", s.images_per_s))
            .unwrap_or_else(|| "- img/s".into()),
        if run.status.is_active() {
            run.eta_s().map(fmt_secs).unwrap_or_else(|| "-".into())
        } else {
            "-".into()
        },
        if run.backend.is_empty() {
            "?"
        } else {
            &run.backend
        },
        if run.adapter.is_empty() {
            "?"
        } else {
            &run.adapter
        },
    ));
    let l3 = Line::from(Span::styled(run.phase.clone(), fg(app, Color::DarkGray)));
    f.render_widget(Paragraph::new(vec![l1, l2, l3]), area);
}

/// One series of a live chart.
pub(super) struct Series<'a> {
    pub name: &'static str,
    pub color: ratatui::style::Color,
    pub graph: GraphType,
    pub points: &'a [(f64, f64)],
}

/// A chart over the run's steps with a legend, the shape every live chart shares (the loss and
/// accuracy charts, and the memorisation panel's group losses).
#[allow(clippy::too_many_arguments)]
pub(super) fn step_chart(
    f: &mut Frame,
    app: &App,
    run: &LiveRun,
    area: Rect,
    title: &str,
    lines: &[Series],
    y: [f64; 2],
    y_labels: [String; 3],
    legend: LegendPosition,
) {
    let ds: Vec<Dataset> = lines
        .iter()
        .map(|l| {
            Dataset::default()
                .name(l.name)
                .marker(marker(app))
                .graph_type(l.graph)
                .style(fg(app, l.color))
                .data(l.points)
        })
        .collect();
    let chart = Chart::new(ds)
        .legend_position(Some(legend))
        .hidden_legend_constraints((Constraint::Ratio(1, 2), Constraint::Ratio(1, 2)))
        .block(block(app, title))
        .x_axis(
            Axis::default()
                .bounds([0.0, run.total_steps.max(1) as f64])
                .labels(["0".to_string(), run.total_steps.to_string()]),
        )
        .y_axis(Axis::default().bounds(y).labels(y_labels));
    f.render_widget(chart, area);
}

fn draw_loss(f: &mut Frame, app: &App, run: &LiveRun, area: Rect) {
    let train = curve_points(app, &run.loss, area.width);
    let test: Vec<(f64, f64)> = run
        .evals
        .iter()
        .map(|e| (e.step as f64, e.test_loss))
        .collect();
    let y = bounds(train.iter().chain(&test).map(|p| p.1));
    let lines = [
        Series {
            name: "train",
            color: TRAIN,
            graph: GraphType::Line,
            points: &train,
        },
        Series {
            name: "test",
            color: CLEAN,
            graph: GraphType::Line,
            points: &test,
        },
    ];
    let labels = [
        format!("{:.2}", y[0]),
        format!("{:.2}", (y[0] + y[1]) / 2.0),
        format!("{:.2}", y[1]),
    ];
    step_chart(
        f,
        app,
        run,
        area,
        " loss ",
        &lines,
        y,
        labels,
        LegendPosition::TopRight,
    );
}

fn draw_accuracy(f: &mut Frame, app: &App, run: &LiveRun, area: Rect) {
    let train = curve_points(app, &run.acc, area.width);
    let clean: Vec<(f64, f64)> = run
        .evals
        .iter()
        .map(|e| (e.step as f64, e.test_acc * 100.0))
        .collect();
    let robust: Vec<(f64, f64)> = run
        .evals
        .iter()
        .filter_map(|e| e.robust.as_ref().map(|r| (e.step as f64, r.acc * 100.0)))
        .collect();
    let lines = [
        Series {
            name: "train",
            color: TRAIN,
            graph: GraphType::Line,
            points: &train,
        },
        Series {
            name: "test clean",
            color: CLEAN,
            graph: GraphType::Line,
            points: &clean,
        },
        Series {
            name: "test robust",
            color: ROBUST,
            graph: GraphType::Scatter,
            points: &robust,
        },
    ];
    let labels = ["0".to_string(), "50".to_string(), "100".to_string()];
    step_chart(
        f,
        app,
        run,
        area,
        " accuracy % ",
        &lines,
        [0.0, 100.0],
        labels,
        LegendPosition::BottomRight,
    );
}

fn draw_classes(f: &mut Frame, app: &App, run: &LiveRun, area: Rect) {
    let last = run.evals.last();
    let robust = last.and_then(|e| e.robust.as_ref());
    let name_w = 11;
    let bw = ((area.width as usize).saturating_sub(name_w + 26) / 2).max(4);
    let mut lines = vec![Line::from(vec![
        Span::raw(format!("{:<name_w$} ", "class")),
        Span::styled(format!("{:<w$}", "clean %", w = bw + 6), fg(app, CLEAN)),
        Span::styled(format!("{:<w$}", "robust %", w = bw + 6), fg(app, ROBUST)),
        Span::raw("train n"),
    ])];
    let max_after = run.plan_after.iter().copied().max().unwrap_or(1).max(1);
    for (c, name) in run.class_names.iter().enumerate() {
        let acc = last.and_then(|e| e.per_class_acc.get(c).copied());
        let racc = robust.and_then(|r| r.per_class_acc.get(c).copied());
        let (a1, a2) = bar(app, acc.unwrap_or(0.0), bw);
        let (r1, r2) = bar(app, racc.unwrap_or(0.0), bw);
        let before = run.plan_before.get(c).copied().unwrap_or(0);
        let after = run.plan_after.get(c).copied().unwrap_or(0);
        let dup = after > before && after * 10 >= max_after;
        lines.push(Line::from(vec![
            Span::raw(format!(
                "{:<name_w$} ",
                name.chars().take(name_w).collect::<String>()
            )),
            Span::styled(a1, fg(app, CLEAN)),
            Span::styled(a2, fg(app, Color::DarkGray)),
            Span::raw(format!("{:>5} ", pct(acc))),
            Span::styled(r1, fg(app, ROBUST)),
            Span::styled(r2, fg(app, Color::DarkGray)),
            Span::raw(format!("{:>5} ", pct(racc))),
            Span::styled(
                if after > before {
                    format!("{before}→{after}")
                } else {
                    format!("{after}")
                },
                if dup {
                    fg(app, Color::Yellow)
                } else {
                    Style::default()
                },
            ),
        ]));
    }
    let s = run.last_step.as_ref();
    lines.push(Line::from(""));
    if let Some(s) = s {
        lines.push(Line::from(format!(
            "seen: {} distinct images, {} duplicate draws",
            s.unique_seen, s.dup_seen
        )));
    }
    if let Some(l) = last.and_then(|e| e.leakage).filter(|l| l.leaky > 0) {
        lines.push(Line::from(format!(
            "leaky test images (≤ {}): {} · clean {} vs fair {}",
            l.threshold,
            l.leaky,
            pct(l.leaky_acc),
            pct(l.fair_acc)
        )));
    }
    if let Some(e) = last {
        lines.push(Line::from(vec![
            Span::raw(format!("eval {} (step {}): ", e.evaluation, e.step)),
            Span::styled(format!("clean {:.2}%", e.test_acc * 100.0), fg(app, CLEAN)),
            Span::raw("  "),
            Span::styled(
                robust
                    .map(|r| format!("robust {:.2}% ({})", r.acc * 100.0, r.attack))
                    .unwrap_or_else(|| "robust -".into()),
                fg(app, ROBUST),
            ),
        ]));
    }
    f.render_widget(
        Paragraph::new(lines)
            .block(block(
                app,
                " per class (last evaluation) · training counts ",
            ))
            .wrap(Wrap { trim: false }),
        area,
    );
}
