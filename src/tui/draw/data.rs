//! The Data screen: the duplicates a data set already holds, summarised, listed, and the chosen
//! pair drawn as two images side by side. An image is drawn in half blocks: each cell is `▀`
//! with the upper pixel as its foreground and the lower one as its background, so a 28×28 image
//! takes 28 columns and 14 rows at square pixels. Without colour (NO_COLOR, --no-color) or in
//! --ascii, a ramp of characters by brightness stands in.

use super::common::{block, fg, st};
use crate::data::{DataSet, Pair, PairSet, Split};
use crate::tui::App;
use crate::tui::data_view::{DataState, DataView};
use ratatui::Frame;
use ratatui::layout::{Alignment, Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row, Table, TableState, Wrap};

/// How an image is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageMode {
    /// `▀` cells, true colour (grey for one channel).
    HalfBlock,
    /// A brightness ramp of ASCII characters (two pixels a cell, averaged).
    Ascii,
}

const RAMP: &[u8] = b" .:-=+*#%@";

/// One pixel of a C×H×W image as a colour.
fn rgb(img: &[u8], c: usize, h: usize, w: usize, y: usize, x: usize) -> (u8, u8, u8) {
    if y >= h {
        return (0, 0, 0);
    }
    let at = |ch: usize| img[ch * h * w + y * w + x];
    if c >= 3 {
        (at(0), at(1), at(2))
    } else {
        let v = at(0);
        (v, v, v)
    }
}

fn luma((r, g, b): (u8, u8, u8)) -> f64 {
    0.299 * r as f64 + 0.587 * g as f64 + 0.114 * b as f64
}

/// The lines that draw one image: `scale` columns per pixel and `scale` pixels per half cell.
pub fn image_lines(
    img: &[u8],
    c: usize,
    h: usize,
    w: usize,
    scale: usize,
    mode: ImageMode,
) -> Vec<Line<'static>> {
    let k = scale.max(1);
    let rows = (h * k).div_ceil(2);
    (0..rows)
        .map(|r| {
            let (yu, yl) = ((2 * r) / k, (2 * r + 1) / k);
            let spans: Vec<Span> = (0..w * k)
                .map(|col| {
                    let x = col / k;
                    let (up, lo) = (rgb(img, c, h, w, yu, x), rgb(img, c, h, w, yl, x));
                    match mode {
                        ImageMode::HalfBlock => Span::styled(
                            "▀",
                            Style::default()
                                .fg(Color::Rgb(up.0, up.1, up.2))
                                .bg(Color::Rgb(lo.0, lo.1, lo.2)),
                        ),
                        ImageMode::Ascii => {
                            let v = (luma(up) + luma(lo)) / 2.0 / 255.0;
                            let i = ((v * (RAMP.len() - 1) as f64).round() as usize)
                                .min(RAMP.len() - 1);
                            Span::raw((RAMP[i] as char).to_string())
                        }
                    }
                })
                .collect();
            Line::from(spans)
        })
        .collect()
}

fn class_name(ds: &DataSet, label: u8) -> &str {
    ds.class_names
        .get(label as usize)
        .map(String::as_str)
        .unwrap_or("?")
}

pub fn draw(f: &mut Frame, app: &App, area: Rect) {
    let d = &app.data;
    let Some(v) = &d.view else {
        let text = match (&d.loading, &d.error) {
            (_, Some(e)) => Line::from(Span::styled(
                format!("cannot show the data set: {e}"),
                fg(app, Color::Red),
            )),
            (Some(p), _) => Line::from(format!("{p} …")),
            (None, None) => Line::from("no data set loaded"),
        };
        f.render_widget(
            Paragraph::new(text)
                .wrap(Wrap { trim: true })
                .block(block(app, "data")),
            area,
        );
        return;
    };
    let [summary, body] = Layout::vertical([Constraint::Length(4), Constraint::Min(3)]).areas(area);
    draw_summary(f, app, d, v, summary);
    let [list, pair] =
        Layout::horizontal([Constraint::Length(46), Constraint::Min(30)]).areas(body);
    let visible = d.visible();
    draw_list(f, app, d, v, &visible, list);
    draw_pair(f, app, d, v, visible.get(d.selected), pair);
}

fn draw_summary(f: &mut Frame, app: &App, d: &DataState, v: &DataView, area: Rect) {
    let t = d.threshold();
    let ds = &v.ds;
    let count = |set: PairSet| {
        let ps: Vec<&Pair> = v
            .pairs_of(set)
            .iter()
            .filter(|p| p.dist <= t + 1e-12)
            .collect();
        let exact = ps.iter().filter(|p| p.sq == 0).count();
        let (qa, qb) = set.splits(ds);
        let disagree = ps
            .iter()
            .filter(|p| qa.labels[p.a as usize] != qb.labels[p.b as usize])
            .count();
        format!(
            "{} {} ({exact} exact, {disagree} label≠)",
            set.label(),
            ps.len()
        )
    };
    let leaky = d.leaky();
    let test_n = match d.class {
        Some(c) => ds.test.labels.iter().filter(|&&l| l == c).count(),
        None => ds.test.len(),
    };
    let lines = vec![
        Line::from(vec![
            Span::styled(
                ds.name.clone(),
                st(app, Style::default().add_modifier(Modifier::BOLD)),
            ),
            Span::raw(format!(
                " · train {} · test {} · {}×{}×{} · searched ≤ {} in {:.1} s{}",
                ds.train.len(),
                ds.test.len(),
                ds.train.channels,
                ds.train.height,
                ds.train.width,
                v.searched,
                v.seconds,
                if v.cached { " (cached)" } else { "" }
            )),
        ]),
        Line::from(format!(
            "pairs ≤ {t} RMS: {} · {} · {}",
            count(PairSet::Train),
            count(PairSet::Test),
            count(PairSet::Cross)
        )),
        Line::from(Span::styled(
            format!(
                "leaky test images (a training image within {t}){}: {leaky} of {test_n} ({:.2}%)",
                d.class
                    .map(|c| format!(" of class {}", class_name(ds, c)))
                    .unwrap_or_default(),
                100.0 * leaky as f64 / test_n.max(1) as f64
            ),
            fg(
                app,
                if leaky > 0 {
                    Color::Yellow
                } else {
                    Color::Green
                },
            ),
        )),
        Line::from(Span::styled(
            format!(
                "showing {} pairs ≤ {t}, class {}",
                d.set.label(),
                d.class
                    .map(|c| class_name(ds, c).to_string())
                    .unwrap_or("all".into())
            ),
            fg(app, Color::DarkGray),
        )),
    ];
    f.render_widget(Paragraph::new(lines), area);
}

fn draw_list(f: &mut Frame, app: &App, d: &DataState, v: &DataView, visible: &[Pair], area: Rect) {
    let (qa, qb) = d.set.splits(&v.ds);
    let rows: Vec<Row> = visible
        .iter()
        .map(|p| {
            let (la, lb) = (qa.labels[p.a as usize], qb.labels[p.b as usize]);
            let agree = la == lb;
            Row::new(vec![
                Cell::from(p.a.to_string()),
                Cell::from(p.b.to_string()),
                Cell::from(if agree {
                    Span::raw(format!("{la}"))
                } else {
                    Span::styled(format!("{la}≠{lb}"), fg(app, Color::Yellow))
                }),
                Cell::from(if p.sq == 0 {
                    "exact".to_string()
                } else {
                    format!("{:.4}", p.dist)
                }),
            ])
        })
        .collect();
    let (wa, wb) = match d.set {
        PairSet::Cross => ("test", "train"),
        PairSet::Train => ("train", "train"),
        PairSet::Test => ("test", "test"),
    };
    let title = format!("{} pairs", visible.len());
    let table = Table::new(
        rows,
        [
            Constraint::Length(7),
            Constraint::Length(7),
            Constraint::Length(7),
            Constraint::Length(8),
        ],
    )
    .header(
        Row::new(vec![wa, wb, "label", "distance"])
            .style(st(app, Style::default().add_modifier(Modifier::BOLD))),
    )
    .row_highlight_style(st(app, Style::default().add_modifier(Modifier::REVERSED)))
    .block(block(app, &title));
    let mut state =
        TableState::default().with_selected((!visible.is_empty()).then_some(d.selected));
    f.render_stateful_widget(table, area, &mut state);
}

fn draw_pair(
    f: &mut Frame,
    app: &App,
    d: &DataState,
    v: &DataView,
    pair: Option<&Pair>,
    area: Rect,
) {
    let outer = block(app, "the pair, as images");
    let inner = outer.inner(area);
    f.render_widget(outer, area);
    let Some(p) = pair else {
        f.render_widget(
            Paragraph::new(format!(
                "no {} pairs within {} here",
                d.set.label(),
                d.threshold()
            )),
            inner,
        );
        return;
    };
    let (qa, qb) = d.set.splits(&v.ds);
    let (wa, wb) = match d.set {
        PairSet::Cross => ("test", "train"),
        PairSet::Train => ("train", "train"),
        PairSet::Test => ("test", "test"),
    };
    let (h, w) = (qa.height, qa.width);
    // The largest whole scale at which both images, a gap and three lines of text fit.
    let scale = ((inner.width as usize).saturating_sub(2) / (2 * w))
        .min((inner.height as usize).saturating_sub(4) * 2 / h)
        .max(1);
    let mode = if app.opts.ascii || !app.opts.color {
        ImageMode::Ascii
    } else {
        ImageMode::HalfBlock
    };
    let img_w = (w * scale) as u16;
    let img_h = (h * scale).div_ceil(2) as u16;
    let [titles, images, info] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(img_h),
        Constraint::Min(1),
    ])
    .areas(inner);
    let [left, _, right] = Layout::horizontal([
        Constraint::Length(img_w),
        Constraint::Length(2),
        Constraint::Length(img_w),
    ])
    .areas(images);
    let draw_one = |f: &mut Frame, s: &Split, i: u32, at: Rect| {
        let lines = image_lines(
            s.image(i as usize),
            s.channels,
            s.height,
            s.width,
            scale,
            mode,
        );
        f.render_widget(Paragraph::new(lines), at);
    };
    draw_one(f, qa, p.a, left);
    draw_one(f, qb, p.b, right);
    let [ta, _, tb] = Layout::horizontal([
        Constraint::Length(img_w.max(14)),
        Constraint::Length(2),
        Constraint::Min(10),
    ])
    .areas(titles);
    let (la, lb) = (qa.labels[p.a as usize], qb.labels[p.b as usize]);
    f.render_widget(Paragraph::new(format!("{wa} #{}", p.a)), ta);
    f.render_widget(Paragraph::new(format!("{wb} #{}", p.b)), tb);
    let verdict = if p.sq == 0 {
        Span::styled("identical pixels", fg(app, Color::Green))
    } else {
        Span::raw(format!(
            "RMS distance {:.4} (sum of squared u8 differences {})",
            p.dist, p.sq
        ))
    };
    let labels = if la == lb {
        Span::raw(format!("both labelled {}", class_name(&v.ds, la)))
    } else {
        Span::styled(
            format!(
                "labels differ: {} vs {} (label noise?)",
                class_name(&v.ds, la),
                class_name(&v.ds, lb)
            ),
            fg(app, Color::Yellow),
        )
    };
    f.render_widget(
        Paragraph::new(vec![Line::from(verdict), Line::from(labels)])
            .alignment(Alignment::Left)
            .wrap(Wrap { trim: true }),
        info,
    );
}
