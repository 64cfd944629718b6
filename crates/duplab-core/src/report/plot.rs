//! Small SVG charts written by hand (no plotting dependency): lines with markers and error bars.

use super::sweep::PointStats;

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Marker {
    Circle,
    Diamond,
}

#[derive(Debug, Clone)]
pub struct Series {
    pub name: String,
    pub color: &'static str,
    pub dashed: bool,
    pub marker: Marker,
    /// Join the points with a line (sorted by x).
    pub connect: bool,
    /// (x, y, ± error)
    pub points: Vec<(f64, f64, f64)>,
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// A chart with axes from the data's range, ticks, a legend on the right.
/// A round tick step (1, 2 or 5 × a power of ten) giving about `n` ticks over `range`, and the
/// decimals its labels need.
pub fn nice_step(range: f64, n: usize) -> (f64, usize) {
    let raw = (range / n.max(1) as f64).max(1e-12);
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * mag)
        .find(|s| *s >= raw * (1.0 - 1e-9))
        .unwrap_or(10.0 * mag);
    let dec = (-step.log10().floor()).max(0.0) as usize;
    (step, dec)
}

pub fn chart_svg(title: &str, xlabel: &str, ylabel: &str, series: &[Series]) -> String {
    let (w, h) = (920.0, 480.0);
    let (l, r, t, b) = (70.0, 300.0, 40.0, 60.0);
    let pts = series.iter().flat_map(|s| s.points.iter());
    let (mut x0, mut x1, mut y0, mut y1) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
    for &(x, y, e) in pts {
        x0 = x0.min(x);
        x1 = x1.max(x);
        y0 = y0.min(y - e);
        y1 = y1.max(y + e);
    }
    if x0 > x1 {
        (x0, x1, y0, y1) = (0.0, 1.0, 0.0, 1.0);
    }
    if (x1 - x0).abs() < 1e-9 {
        x1 = x0 + 1.0;
    }
    let pad = ((y1 - y0) * 0.08).max(0.01);
    let (y0, y1) = ((y0 - pad).max(0.0), (y1 + pad).min(100.0));
    let px = |x: f64| l + (x - x0) / (x1 - x0) * (w - l - r);
    let py = |y: f64| h - b - (y - y0) / (y1 - y0).max(1e-9) * (h - t - b);
    let mut s = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\" font-family=\"DejaVu Sans, sans-serif\" font-size=\"13\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n<text x=\"{}\" y=\"24\" font-size=\"16\" font-weight=\"bold\">{}</text>\n",
        l,
        esc(title)
    );
    // Axes and ticks.
    s.push_str(&format!(
        "<line x1=\"{l}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"black\"/>\n",
        h - b,
        w - r,
        h - b
    ));
    s.push_str(&format!(
        "<line x1=\"{l}\" y1=\"{t}\" x2=\"{l}\" y2=\"{}\" stroke=\"black\"/>\n",
        h - b
    ));
    // y ticks at round values (1-2-5 steps); x ticks at the x values actually run.
    let (ystep, ydec) = nice_step(y1 - y0, 5);
    let mut yv = (y0 / ystep).ceil() * ystep;
    while yv <= y1 + 1e-9 {
        s.push_str(&format!("<line x1=\"{0}\" y1=\"{1}\" x2=\"{2}\" y2=\"{1}\" stroke=\"#ddd\"/><text x=\"{3}\" y=\"{4}\" text-anchor=\"end\">{5:.6$}</text>\n", l, py(yv), w - r, l - 6.0, py(yv) + 4.0, yv, ydec));
        yv += ystep;
    }
    let mut xs: Vec<f64> = series
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.0))
        .collect();
    xs.sort_by(f64::total_cmp);
    xs.dedup_by(|a, b| (*a - *b).abs() < 1e-9);
    if xs.len() > 12 || xs.is_empty() {
        let (xstep, _) = nice_step(x1 - x0, 5);
        xs = (0..)
            .map(|k| (x0 / xstep).ceil() * xstep + k as f64 * xstep)
            .take_while(|v| *v <= x1 + 1e-9)
            .collect();
    }
    for xv in xs {
        let label = if (xv - xv.round()).abs() < 1e-9 {
            format!("{xv:.0}")
        } else {
            format!("{xv:.1}")
        };
        s.push_str(&format!("<line x1=\"{0}\" y1=\"{1}\" x2=\"{0}\" y2=\"{2}\" stroke=\"black\"/><text x=\"{0}\" y=\"{3}\" text-anchor=\"middle\">{4}</text>\n", px(xv), h - b, h - b + 5.0, h - b + 20.0, label));
    }
    s.push_str(&format!(
        "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>\n",
        (l + w - r) / 2.0,
        h - 15.0,
        esc(xlabel)
    ));
    s.push_str(&format!(
        "<text transform=\"translate(18 {}) rotate(-90)\" text-anchor=\"middle\">{}</text>\n",
        (t + h - b) / 2.0,
        esc(ylabel)
    ));
    for (i, se) in series.iter().enumerate() {
        let dash = if se.dashed {
            " stroke-dasharray=\"6 4\""
        } else {
            ""
        };
        let mut p = se.points.clone();
        p.sort_by(|a, b| a.0.partial_cmp(&b.0).unwrap_or(std::cmp::Ordering::Equal));
        if se.connect && p.len() > 1 {
            let d: Vec<String> = p
                .iter()
                .map(|&(x, y, _)| format!("{:.1},{:.1}", px(x), py(y)))
                .collect();
            s.push_str(&format!(
                "<polyline fill=\"none\" stroke=\"{}\" stroke-width=\"2\"{dash} points=\"{}\"/>\n",
                se.color,
                d.join(" ")
            ));
        }
        for &(x, y, e) in &p {
            let (cx, cy) = (px(x), py(y));
            if e > 0.0 {
                s.push_str(&format!(
                    "<line x1=\"{cx:.1}\" y1=\"{:.1}\" x2=\"{cx:.1}\" y2=\"{:.1}\" stroke=\"{}\"/><line x1=\"{:.1}\" y1=\"{:.1}\" x2=\"{:.1}\" y2=\"{:.1}\" stroke=\"{}\"/><line x1=\"{:.1}\" y1=\"{:.1}\" x2=\"{:.1}\" y2=\"{:.1}\" stroke=\"{}\"/>\n",
                    py(y - e), py(y + e), se.color, cx - 4.0, py(y - e), cx + 4.0, py(y - e), se.color, cx - 4.0, py(y + e), cx + 4.0, py(y + e), se.color
                ));
            }
            s.push_str(&marker(se.marker, cx, cy, se.color));
        }
        let ly = t + 10.0 + i as f64 * 22.0;
        let lx = w - r + 15.0;
        s.push_str(&format!("<line x1=\"{lx}\" y1=\"{ly}\" x2=\"{}\" y2=\"{ly}\" stroke=\"{}\" stroke-width=\"2\"{dash}/>", lx + 28.0, se.color));
        s.push_str(&marker(se.marker, lx + 14.0, ly, se.color));
        s.push_str(&format!(
            "<text x=\"{}\" y=\"{}\">{}</text>\n",
            lx + 36.0,
            ly + 4.0,
            esc(&se.name)
        ));
    }
    s.push_str("</svg>\n");
    s
}

fn marker(m: Marker, x: f64, y: f64, color: &str) -> String {
    match m {
        Marker::Circle => format!("<circle cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"4\" fill=\"{color}\"/>"),
        Marker::Diamond => format!(
            "<path d=\"M{x:.1},{:.1} L{:.1},{y:.1} L{x:.1},{:.1} L{:.1},{y:.1} Z\" fill=\"{color}\"/>",
            y - 6.0,
            x + 6.0,
            y + 6.0,
            x - 6.0
        ),
    }
}

/// Accuracy against the duplicated fraction: standard vs robust training, clean (solid) and robust
/// (dashed) accuracy, uniform points joined, class-skewed points as diamonds; error bars ± std.
pub fn study_chart(title: &str, stats: &[PointStats]) -> String {
    let mut series = vec![];
    let colors = [("standard", "#1f77b4"), ("adversarial", "#d62728")];
    for (robust_training, (mode, color)) in [false, true].iter().zip(colors) {
        for skewed in [false, true] {
            for robust_metric in [false, true] {
                let pts: Vec<(f64, f64, f64)> = stats
                    .iter()
                    .filter(|s| {
                        s.robust_training == *robust_training
                            && (!s.over_classes.is_empty()) == skewed
                    })
                    .filter_map(|s| {
                        let m = if robust_metric { s.robust } else { s.clean }?;
                        Some((s.dup_fraction * 100.0, m.mean * 100.0, m.std * 100.0))
                    })
                    .collect();
                if pts.is_empty() {
                    continue;
                }
                series.push(Series {
                    name: format!(
                        "{mode}, {} acc{}",
                        if robust_metric { "robust" } else { "clean" },
                        if skewed { ", skewed" } else { "" }
                    ),
                    color,
                    dashed: robust_metric,
                    marker: if skewed {
                        Marker::Diamond
                    } else {
                        Marker::Circle
                    },
                    connect: !skewed,
                    points: pts,
                });
            }
        }
    }
    chart_svg(
        title,
        "duplicated share of the training set (%)",
        "test accuracy (%)",
        &series,
    )
}

/// Membership AUC against the duplicated share: duplicated images (solid) and unique images
/// (dashed), standard vs adversarial training; error bars ± std over seeds. 0.5 = no leakage.
pub fn membership_chart(title: &str, stats: &[PointStats]) -> String {
    let mut series = vec![];
    let colors = [("standard", "#1f77b4"), ("adversarial", "#d62728")];
    for (robust_training, (mode, color)) in [false, true].iter().zip(colors) {
        for dup in [true, false] {
            let pts: Vec<(f64, f64, f64)> = stats
                .iter()
                .filter(|s| s.robust_training == *robust_training && s.over_classes.is_empty())
                .filter_map(|s| {
                    let m = if dup { s.dup_auc } else { s.unique_auc }?;
                    Some((s.dup_fraction * 100.0, m.mean, m.std))
                })
                .collect();
            if pts.is_empty() {
                continue;
            }
            series.push(Series {
                name: format!(
                    "{mode}, {} images",
                    if dup { "duplicated" } else { "unique" }
                ),
                color,
                dashed: !dup,
                marker: Marker::Circle,
                connect: true,
                points: pts,
            });
        }
    }
    chart_svg(
        title,
        "duplicated share of the training set (%)",
        "membership AUC vs test images",
        &series,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_round() {
        assert_eq!(nice_step(0.1, 5), (0.02, 2));
        assert_eq!(nice_step(43.0, 5), (10.0, 0));
        assert_eq!(nice_step(2.4, 5), (0.5, 1));
    }

    #[test]
    fn chart_is_well_formed_svg_with_every_series_in_the_legend() {
        let s = chart_svg(
            "t <1>",
            "x",
            "y",
            &[
                Series {
                    name: "a".into(),
                    color: "red",
                    dashed: false,
                    marker: Marker::Circle,
                    connect: true,
                    points: vec![(0.0, 80.0, 1.0), (30.0, 78.0, 2.0)],
                },
                Series {
                    name: "b".into(),
                    color: "blue",
                    dashed: true,
                    marker: Marker::Diamond,
                    connect: false,
                    points: vec![(20.0, 70.0, 0.0)],
                },
            ],
        );
        assert!(s.starts_with("<svg") && s.trim_end().ends_with("</svg>"));
        assert!(s.contains("t &lt;1&gt;") && s.contains(">a</text>") && s.contains(">b</text>"));
        assert_eq!(s.matches("<polyline").count(), 1);
        assert!(s.contains("stroke-dasharray"));
        assert!(crate::report::svg_to_png_bytes(&s).is_ok());
    }
}
