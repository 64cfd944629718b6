use super::RUN_COLORS;
use super::common::{bar, block, bounds, curve_points, fg, marker, pct, st};
use crate::tui::App;
use crate::tui::compare::Metric;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{
    Axis, Cell, Chart, Dataset, GraphType, LegendPosition, Paragraph, Row, Table, Wrap,
};

pub fn draw(f: &mut Frame, app: &App, area: Rect) {
    let cs = &app.compare;
    if cs.runs.len() < 2 {
        let msg = "Mark 2 to 6 runs on the runs screen (3) with space, then press c.";
        f.render_widget(
            Paragraph::new(msg)
                .block(block(app, " compare "))
                .wrap(Wrap { trim: true }),
            area,
        );
        return;
    }
    let [top, bottom] =
        Layout::vertical([Constraint::Percentage(50), Constraint::Percentage(50)]).areas(area);
    let [chart_area, classes_area] =
        Layout::horizontal([Constraint::Percentage(55), Constraint::Percentage(45)]).areas(top);
    let [summary_area, diff_area] =
        Layout::horizontal([Constraint::Percentage(55), Constraint::Percentage(45)]).areas(bottom);
    draw_curves(f, app, chart_area);
    draw_classes(f, app, classes_area);
    draw_summary(f, app, summary_area);
    draw_diff(f, app, diff_area);
}

fn color(i: usize) -> Color {
    RUN_COLORS[i % RUN_COLORS.len()]
}

fn short(id: &str) -> String {
    id.rsplit('-').next().unwrap_or(id).to_string()
}

fn draw_curves(f: &mut Frame, app: &App, area: Rect) {
    let cs = &app.compare;
    let data: Vec<Vec<(f64, f64)>> = cs
        .runs
        .iter()
        .map(|r| {
            let raw: Vec<(f64, f64)> = match cs.metric {
                Metric::TestAcc => r
                    .run
                    .evals
                    .iter()
                    .map(|e| (e.step as f64, e.test_acc * 100.0))
                    .collect(),
                Metric::RobustAcc => r
                    .run
                    .evals
                    .iter()
                    .filter_map(|e| e.robust.as_ref().map(|x| (e.step as f64, x.acc * 100.0)))
                    .collect(),
                Metric::TrainLoss => curve_points(app, &r.run.loss, area.width),
            };
            raw
        })
        .collect();
    let names: Vec<String> = cs
        .runs
        .iter()
        .map(|r| {
            format!(
                "{} {}",
                short(&r.row.id),
                r.row.point.clone().unwrap_or_else(|| r.row.preset.clone())
            )
        })
        .collect();
    let ds: Vec<Dataset> = data
        .iter()
        .enumerate()
        .map(|(i, d)| {
            Dataset::default()
                .name(names[i].clone())
                .marker(marker(app))
                .graph_type(GraphType::Line)
                .style(fg(app, color(i)))
                .data(d)
        })
        .collect();
    let x = bounds(data.iter().flatten().map(|p| p.0));
    let y = bounds(data.iter().flatten().map(|p| p.1));
    let chart = Chart::new(ds)
        .legend_position(Some(LegendPosition::BottomRight))
        .hidden_legend_constraints((Constraint::Ratio(3, 4), Constraint::Ratio(3, 4)))
        .block(block(app, " curves (m: metric) "))
        .x_axis(
            Axis::default()
                .title("step")
                .bounds([0.0, x[1]])
                .labels(["0".to_string(), format!("{:.0}", x[1])]),
        )
        .y_axis(
            Axis::default()
                .title(cs.metric.label())
                .bounds(y)
                .labels([format!("{:.1}", y[0]), format!("{:.1}", y[1])]),
        );
    f.render_widget(chart, area);
}

fn draw_classes(f: &mut Frame, app: &App, area: Rect) {
    let cs = &app.compare;
    let robust = cs.metric == Metric::RobustAcc;
    let names = cs
        .runs
        .iter()
        .find(|r| !r.run.class_names.is_empty())
        .map(|r| r.run.class_names.clone())
        .unwrap_or_default();
    let bw = (area.width as usize).saturating_sub(20).max(4);
    let mut lines = vec![];
    for (c, name) in names.iter().enumerate() {
        for (i, r) in cs.runs.iter().enumerate() {
            let last = r.run.evals.last();
            let acc = if robust {
                last.and_then(|e| e.robust.as_ref())
                    .and_then(|x| x.per_class_acc.get(c).copied())
            } else {
                last.and_then(|e| e.per_class_acc.get(c).copied())
            };
            let (b1, _) = bar(app, acc.unwrap_or(0.0), bw);
            let label = if i == 0 {
                name.chars().take(10).collect::<String>()
            } else {
                String::new()
            };
            lines.push(Line::from(vec![
                Span::raw(format!("{label:<10} ")),
                Span::styled(b1, fg(app, color(i))),
                Span::raw(format!(" {}", pct(acc))),
            ]));
        }
    }
    let title = if robust {
        " per class, robust accuracy (grouped by run) "
    } else {
        " per class, clean accuracy (grouped by run) "
    };
    f.render_widget(Paragraph::new(lines).block(block(app, title)), area);
}

fn delta(v: Option<f64>, base: Option<f64>) -> String {
    match (v, base) {
        (Some(a), Some(b)) => format!("{:+.1}", (a - b) * 100.0),
        _ => "".into(),
    }
}

fn draw_summary(f: &mut Frame, app: &App, area: Rect) {
    let cs = &app.compare;
    let base = &cs.runs[0].row;
    // Group columns only when some run recorded group metrics (older runs have none).
    let groups = cs
        .runs
        .iter()
        .any(|r| r.dup_loss().is_some() || r.dup_auc().is_some());
    let mut rows: Vec<Row> = cs
        .runs
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let row = &r.row;
            Row::new(
                vec![
                    Cell::from(Span::styled(
                        format!("■ {}", short(&row.id)),
                        fg(app, color(i)),
                    )),
                    Cell::from(
                        row.point
                            .as_deref()
                            .map(point_values)
                            .unwrap_or_else(|| row.preset.clone()),
                    ),
                    Cell::from(row.seed.map(|s| s.to_string()).unwrap_or_default()),
                    Cell::from(format!(
                        "{} {}",
                        pct(row.test_acc),
                        if i == 0 {
                            "base".into()
                        } else {
                            delta(row.test_acc, base.test_acc)
                        }
                    )),
                    Cell::from(format!(
                        "{} {}",
                        pct(row.robust_acc),
                        if i == 0 {
                            String::new()
                        } else {
                            delta(row.robust_acc, base.robust_acc)
                        }
                    )),
                ]
                .into_iter()
                .chain(
                    groups
                        .then(|| {
                            [
                                Cell::from(num(r.dup_loss(), cs.runs[0].dup_loss(), i == 0, 3)),
                                Cell::from(num(r.dup_auc(), cs.runs[0].dup_auc(), i == 0, 3)),
                            ]
                        })
                        .into_iter()
                        .flatten(),
                )
                .collect::<Vec<_>>(),
            )
        })
        .collect();
    for g in &cs.groups {
        let members: Vec<String> = g
            .members
            .iter()
            .map(|&i| short(&cs.runs[i].row.id))
            .collect();
        rows.push(Row::new(
            vec![
                Cell::from(Span::styled(
                    "seeds",
                    st(app, Style::default().add_modifier(Modifier::BOLD)),
                )),
                Cell::from(members.join(",")),
                Cell::from(format!("n={}", g.members.len())),
                Cell::from(g.clean.map(|m| m.to_string()).unwrap_or_default()),
                Cell::from(g.robust.map(|m| m.to_string()).unwrap_or_default()),
                Cell::from(
                    g.dup_loss
                        .map(|m| format!("{:.3}±{:.3}", m.mean, m.std))
                        .unwrap_or_default(),
                ),
                Cell::from(
                    g.dup_auc
                        .map(|m| format!("{:.3}±{:.3}", m.mean, m.std))
                        .unwrap_or_default(),
                ),
            ]
            .into_iter()
            .take(if groups { 7 } else { 5 })
            .collect::<Vec<_>>(),
        ));
    }
    let mut widths = vec![
        Constraint::Length(9),
        Constraint::Min(12),
        Constraint::Length(5),
        Constraint::Length(13),
        Constraint::Length(13),
    ];
    let mut header = vec!["run", "preset / point", "seed", "clean Δ", "robust Δ"];
    if groups {
        widths.extend([Constraint::Length(13), Constraint::Length(13)]);
        header.extend(["dup loss Δ", "dup AUC Δ"]);
    }
    let t = Table::new(rows, widths)
        .header(Row::new(header).style(st(app, Style::default().add_modifier(Modifier::BOLD))));
    let outer = block(
        app,
        " summary (Δ vs the first run; seed groups as mean ± std) ",
    );
    let inner = outer.inner(area);
    f.render_widget(outer, area);
    let lines = paired_lines(app);
    // Rows the paired lines take once wrapped to the area's width.
    let w = inner.width.max(1) as usize;
    let rows: usize = lines.iter().map(|l| l.width().max(1).div_ceil(w)).sum();
    let [table_area, paired_area] =
        Layout::vertical([Constraint::Min(2), Constraint::Length(rows as u16)]).areas(inner);
    f.render_widget(t, table_area);
    f.render_widget(
        Paragraph::new(lines).wrap(Wrap { trim: false }),
        paired_area,
    );
}

/// Each seed group against the first, paired by seed: mean difference in points, 95 % CI,
/// Holm-corrected p, and the smallest effect these seeds could detect at Holm's first step.
fn paired_lines(app: &App) -> Vec<Line<'static>> {
    let cs = &app.compare;
    if cs.paired.is_empty() {
        return vec![];
    }
    let fmt = |what: &str, p: &Option<crate::report::Paired>| match p {
        Some(p) => format!(
            "{what} {:+.2} [{:+.2}, {:+.2}] p={:.3} (Holm {:.3}), MDE {:.2}",
            p.mean, p.lo, p.hi, p.p, p.p_holm, p.mde_holm
        ),
        None => format!("{what} -"),
    };
    let mut out = vec![Line::from(Span::styled(
        "paired by seed vs the first seed group (points, 95 % CI; Holm across these; MDE at α/m, power 0.8):",
        st(app, Style::default().add_modifier(Modifier::BOLD)),
    ))];
    for r in &cs.paired {
        let g = &cs.groups[r.group];
        let n = r.clean.map(|p| p.n).or(r.robust.map(|p| p.n)).unwrap_or(0);
        let first = g.members.first().copied().unwrap_or(0);
        out.push(Line::from(vec![
            Span::styled(
                format!("■ {} (n={n}) ", short(&cs.runs[first].row.id)),
                fg(app, color(first)),
            ),
            Span::raw(fmt("clean", &r.clean)),
        ]));
        out.push(Line::from(format!("  {}", fmt("robust", &r.robust))));
    }
    out
}

/// A sweep point's values without their axis names (`training=fgsm-rs,duplication=10x4` →
/// `fgsm-rs · 10x4`): the column has room for the values, and the legend names the axes.
fn point_values(point: &str) -> String {
    point
        .split(',')
        .map(|kv| kv.split_once('=').map_or(kv, |(_, v)| v))
        .collect::<Vec<_>>()
        .join(" · ")
}

/// A value and, after the first run, its change against the first run's.
fn num(v: Option<f64>, base: Option<f64>, first: bool, d: usize) -> String {
    match (v, base) {
        (None, _) => "-".into(),
        (Some(v), _) if first => format!("{v:.d$}"),
        (Some(v), Some(b)) => format!("{v:.d$} {:+.d$}", v - b),
        (Some(v), None) => format!("{v:.d$}"),
    }
}

fn draw_diff(f: &mut Frame, app: &App, area: Rect) {
    let cs = &app.compare;
    let diff = cs.diff();
    let title = if cs.diff_only {
        " config: differences only (d: all) "
    } else {
        " config: all fields (d: differences) "
    };
    let inner = (area.width as usize).saturating_sub(2);
    let key_w = diff
        .iter()
        .map(|(k, _)| k.chars().count())
        .max()
        .unwrap_or(0)
        + 1;
    // Each run's column as wide as its longest value: nothing is cut.
    let col_w: Vec<usize> = (0..cs.runs.len())
        .map(|i| {
            diff.iter()
                .map(|(_, v)| v.get(i).map_or(0, |x| x.chars().count()))
                .max()
                .unwrap_or(0)
                + 1
        })
        .collect();
    if key_w + col_w.iter().sum::<usize>() <= inner {
        let mut widths = vec![Constraint::Length(key_w as u16)];
        widths.extend(col_w.iter().map(|&w| Constraint::Length(w as u16)));
        let rows: Vec<Row> = diff
            .iter()
            .map(|(k, vals)| {
                let mut cells = vec![Cell::from(k.clone())];
                cells.extend(
                    vals.iter()
                        .enumerate()
                        .map(|(i, v)| Cell::from(Span::styled(v.clone(), fg(app, color(i))))),
                );
                Row::new(cells)
            })
            .collect();
        f.render_widget(Table::new(rows, widths).block(block(app, title)), area);
        return;
    }
    // Too wide for columns: each field on its line, its values after it in the runs' colours,
    // wrapped rather than cut.
    let lines: Vec<Line> = diff
        .iter()
        .map(|(k, vals)| {
            let mut spans = vec![Span::styled(
                format!("{k}:"),
                st(app, Style::default().add_modifier(Modifier::BOLD)),
            )];
            for (i, v) in vals.iter().enumerate() {
                spans.push(Span::raw(" "));
                spans.push(Span::styled(format!("■ {v}"), fg(app, color(i))));
            }
            Line::from(spans)
        })
        .collect();
    f.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .block(block(app, title)),
        area,
    );
}
