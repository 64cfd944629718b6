//! A sweep report as one value — its points, its comparison family and its evaluation cards —
//! written as `report.json` and read back, so that a report can be recomputed from the committed
//! file alone (`duplab report --from DIR`: the per-seed values are in it), and so that the
//! result tables of the README and the docs are generated from it, between markers, and checked
//! byte for byte by a test: prose and numbers cannot drift apart.

use super::render::{comparisons_markdown, delta_ci, markdown, mean_sd, p_str, pm};
use super::{Family, PointStats, evaluate, verdict};
use crate::report::{CardRow, cards_markdown};
use crate::spec::Declared;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SweepReport {
    /// "Sweep NAME", or "Selected runs".
    #[serde(default)]
    pub title: String,
    /// The sweep (grid) name, when the report is a sweep's.
    #[serde(default)]
    pub sweep: Option<String>,
    pub points: Vec<PointStats>,
    /// Absent in reports written before families were declared: recompute them.
    #[serde(default)]
    pub family: Option<Family>,
    #[serde(default)]
    pub cards: Vec<CardRow>,
}

impl SweepReport {
    /// The report of `points`: tested against the declared family (with its level), or, when
    /// none is given, against every comparison they allow.
    pub fn new(
        title: String,
        sweep: Option<String>,
        points: Vec<PointStats>,
        family: Option<(&[Declared], f64)>,
        cards: Vec<CardRow>,
    ) -> SweepReport {
        let family = Some(match family {
            Some((declared, alpha)) if !declared.is_empty() => {
                evaluate(&points, declared, alpha, true)
            }
            _ => evaluate(&points, &super::auto_family(&points), 0.05, false),
        });
        SweepReport {
            title,
            sweep,
            points,
            family,
            cards,
        }
    }

    /// `report.md`: the point tables, the comparison family, the cards.
    pub fn markdown(&self) -> String {
        markdown(&self.title, &self.points)
            + &self
                .family
                .as_ref()
                .map(comparisons_markdown)
                .unwrap_or_default()
            + &cards_markdown(&self.cards)
    }

    /// A `report.json`, read with a size cap (it is a file anyone may hand us); the error names
    /// the file.
    pub fn read(path: &std::path::Path) -> Result<SweepReport, String> {
        let bytes = crate::atomic::read_small(path, 256 << 20)
            .map_err(|e| format!("{}: {e}", path.display()))?;
        serde_json::from_slice(&bytes)
            .map_err(|e| format!("{}: not a duplab report: {e}", path.display()))
    }

    pub fn json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a report serialises")
    }

    /// The compact findings table the README and the docs embed: every test of the family, its
    /// effect with the interval, Holm's p, the MDE at α/m and the verdict (bold = significant).
    pub fn findings(&self) -> String {
        self.findings_of(&[])
    }

    /// The findings table restricted to the tests whose comparison (as the table names it,
    /// "standard, skewed − standard, none") contains one of `only` (all of them when empty):
    /// one claim's rows, with the family's Holm-corrected values and size.
    pub fn findings_of(&self, only: &[&str]) -> String {
        let Some(f) = &self.family else {
            return "(this report has no comparison family; recompute it with `duplab report --from`)\n".into();
        };
        let seeds: Vec<usize> = f.comparisons.iter().map(|c| c.stats.n).collect();
        let (lo, hi) = (
            seeds.iter().min().copied().unwrap_or(0),
            seeds.iter().max().copied().unwrap_or(0),
        );
        let seeds = if lo == hi {
            format!("{lo} seeds")
        } else {
            format!("{lo}–{hi} seeds")
        };
        let shown = |what: &str| {
            let name = short(what);
            only.is_empty() || only.iter().any(|o| part_names(o, &name))
        };
        let mut out = format!(
            "{}{}: {} tests, {}, Holm-corrected at α {}; MDE at Holm's first step (α/m = {:.4}), 80 % power. **Bold** = significant.\n\n\
             | comparison | metric | mean Δ [95 % CI] | p (Holm) | MDE (α/m) | verdict |\n\
             |---|---|---|---|---|---|\n",
            if only.is_empty() {
                ""
            } else {
                "Rows of the family. "
            },
            if f.declared {
                "Family declared in the grid file"
            } else {
                "No family declared (exploratory: every comparison the runs allow)"
            },
            f.size,
            seeds,
            f.alpha,
            f.alpha / f.size.max(1) as f64,
        );
        for c in f.comparisons.iter().filter(|c| shown(&c.what)) {
            let d = if c.scale == 100.0 { 2 } else { 4 };
            let bold = |t: String| {
                if c.significant { format!("**{t}**") } else { t }
            };
            out.push_str(&format!(
                "| {} | {} | {} | {} | {:.d$} | {} |\n",
                short(&c.what),
                c.metric,
                bold(delta_ci(c)),
                bold(p_str(c.stats.p_holm)),
                c.stats.mde_holm * c.scale,
                verdict(c.significant),
            ));
        }
        for m in f.missing.iter().filter(|m| shown(&m.what)) {
            out.push_str(&format!(
                "| {} | {} | - | - | - | no data: {} |\n",
                short(&m.what),
                m.metric,
                m.why
            ));
        }
        let rows = f.comparisons.iter().filter(|c| shown(&c.what)).count()
            + f.missing.iter().filter(|m| shown(&m.what)).count();
        let hits: Vec<String> = f
            .comparisons
            .iter()
            .filter(|c| c.significant && shown(&c.what))
            .map(|c| format!("{} ({})", short(&c.what), c.metric))
            .collect();
        out.push_str(&format!(
            "\nSignificant after the correction: {} of {}{}\n",
            hits.len(),
            if only.is_empty() {
                format!("{} tests", f.size)
            } else {
                format!("the {rows} tests shown ({} in the family)", f.size)
            },
            if hits.is_empty() {
                ".".to_string()
            } else {
                format!(": {}.", hits.join("; "))
            }
        ));
        out
    }

    /// The points as the docs show them: accuracy in %, mean ± sample std over seeds.
    pub fn points_table(&self) -> String {
        let mut out = String::from(
            "| point | copies | seeds | clean acc (%) | robust acc (%) |\n|---|---|---|---|---|\n",
        );
        for s in &self.points {
            out.push_str(&format!(
                "| {} | {:.1} % | {} | {} | {} |\n",
                short(&s.label),
                s.dup_fraction * 100.0,
                s.seeds.len(),
                pm(&s.clean),
                pm(&s.robust)
            ));
        }
        out
    }

    /// The group metrics at the last evaluation (points that recorded them): mean loss of the
    /// duplicated, unique and test images and the loss attack's membership AUC, mean ± std.
    pub fn groups_table(&self) -> String {
        let f = mean_sd;
        let mut out = String::from(
            "| point | loss duplicated | loss unique | loss test | AUC duplicated | AUC unique |\n|---|---|---|---|---|---|\n",
        );
        for s in self.points.iter().filter(|s| s.unique_loss.is_some()) {
            out.push_str(&format!(
                "| {} | {} | {} | {} | {} | {} |\n",
                short(&s.label),
                f(&s.dup_loss, 3),
                f(&s.unique_loss, 3),
                f(&s.test_loss, 3),
                f(&s.dup_auc, 3),
                f(&s.unique_auc, 3)
            ));
        }
        out
    }

    /// One of the views a docs block asks for: `findings` (the default), `findings: A; B` (the
    /// tests whose comparison contains A or B; `=A` for exactly A), `points`, `groups`.
    pub fn view(&self, name: &str) -> Result<String, String> {
        if let Some(only) = name.strip_prefix("findings:") {
            let only: Vec<&str> = only
                .split(';')
                .map(str::trim)
                .filter(|o| !o.is_empty())
                .collect();
            if only.is_empty() {
                return Err("`findings:` names no comparison; write `findings: TEXT; TEXT`".into());
            }
            // Each part must name a test of the family: a renamed point would otherwise leave
            // an empty table behind, and a claim without its evidence.
            if let Some(f) = &self.family {
                let names: Vec<String> = f
                    .comparisons
                    .iter()
                    .map(|c| short(&c.what))
                    .chain(f.missing.iter().map(|m| short(&m.what)))
                    .collect();
                if let Some(o) = only
                    .iter()
                    .find(|o| !names.iter().any(|n| part_names(o, n)))
                {
                    return Err(format!(
                        "`findings: {o}` names no comparison of the family (its tests are named like \"{}\")",
                        names.first().map(String::as_str).unwrap_or("-")
                    ));
                }
            }
            return Ok(self.findings_of(&only));
        }
        match name {
            "" | "findings" => Ok(self.findings()),
            "points" => Ok(self.points_table()),
            "groups" => Ok(self.groups_table()),
            other => Err(format!(
                "unknown view `{other}`; allowed: findings, findings: TEXT; TEXT, points, groups"
            )),
        }
    }
}

/// A comparison named by its points' axis values alone ("training=standard,duplication=none" →
/// "standard, none"), for the compact tables of the README and the docs.
fn short(what: &str) -> String {
    let mut out = String::new();
    let mut rest = what;
    // A point label is a run of `axis=value` joined by commas; everything else is kept.
    while let Some(eq) = rest.find('=') {
        let start = rest[..eq]
            .rfind(|c: char| !(c.is_alphanumeric() || c == '_' || c == '-' || c == '.'))
            .map_or(0, |i| {
                i + rest[i..].chars().next().map_or(1, char::len_utf8)
            });
        out.push_str(&rest[..start]);
        rest = &rest[eq + 1..];
        if out.ends_with(',') {
            out.push(' ');
        }
    }
    out.push_str(rest);
    out
}

/// The marker that opens a generated block: `<!-- duplab report: PATH [VIEW] -->`, PATH
/// relative to the repository root, VIEW one of `SweepReport::view`'s; the block ends at
/// `END_MARKER`.
pub const BEGIN_MARKER: &str = "<!-- duplab report: ";
pub const END_MARKER: &str = "<!-- end duplab report -->";

/// A report a generated block of the docs renders from: a sweep's `report.json` or a
/// membership study's `membership.json`.
pub trait BlockSource {
    fn block(&self, view: &str) -> Result<String, String>;
}

impl BlockSource for SweepReport {
    fn block(&self, view: &str) -> Result<String, String> {
        self.view(view)
    }
}

impl BlockSource for crate::report::membership::MembershipReport {
    fn block(&self, view: &str) -> Result<String, String> {
        self.view(view)
    }
}

/// The report a block names, by its file: `membership.json` is a membership report, any other
/// a sweep's `report.json`.
pub fn read_block_source(path: &std::path::Path) -> Result<Box<dyn BlockSource>, String> {
    if path.file_name().is_some_and(|n| n == "membership.json") {
        Ok(Box::new(crate::report::membership::MembershipReport::read(
            path,
        )?))
    } else {
        Ok(Box::new(SweepReport::read(path)?))
    }
}

/// `text` with every generated block re-rendered from the report its marker names (`load`
/// reads one); the text outside the blocks is kept byte for byte. Errors name the line.
pub fn render_blocks(
    text: &str,
    load: &dyn Fn(&str) -> Result<Box<dyn BlockSource>, String>,
) -> Result<String, String> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(BEGIN_MARKER) {
        let (before, from) = rest.split_at(at);
        out.push_str(before);
        // The marker's line in the file, for errors.
        let line = text[..text.len() - from.len()].lines().count() + 1;
        let header_end = from.find("-->").ok_or_else(|| {
            format!("line {line}: a `{BEGIN_MARKER}` marker is not closed by -->")
        })?;
        let spec = from[BEGIN_MARKER.len()..header_end].trim();
        let (path, view) = spec.split_once(' ').unwrap_or((spec, ""));
        let after_header = &from[header_end + 3..];
        let end = after_header
            .find(END_MARKER)
            .ok_or_else(|| format!("line {line}: the block for {path} has no `{END_MARKER}`"))?;
        let report = load(path).map_err(|e| format!("line {line}: {path}: {e}"))?;
        out.push_str(&from[..header_end + 3]);
        out.push_str("\n\n");
        out.push_str(
            &report
                .block(view.trim())
                .map_err(|e| format!("line {line}: {e}"))?,
        );
        out.push('\n');
        out.push_str(END_MARKER);
        rest = &after_header[end + END_MARKER.len()..];
    }
    out.push_str(rest);
    Ok(out)
}

/// Whether a `findings:` part names the comparison `name`: `=TEXT` exactly, any other TEXT as a
/// part of it.
fn part_names(part: &str, name: &str) -> bool {
    match part.strip_prefix('=') {
        Some(exact) => name == exact.trim(),
        None => name.contains(part),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::sweep::aggregate;
    use crate::report::sweep::aggregate::tests::sweep;

    fn report() -> SweepReport {
        SweepReport::new(
            "Sweep t".into(),
            Some("t".into()),
            aggregate(&sweep()),
            None,
            vec![],
        )
    }

    /// A declared test the runs have no data for is a row that says so, and counts in m.
    #[test]
    fn a_declared_test_without_data_is_listed_and_counted() {
        let family = vec![
            crate::spec::Declared {
                effect: crate::spec::EffectRef {
                    point: "dup".into(),
                    control: Some("base".into()),
                },
                minus: None,
                metrics: vec!["clean".into(), "robust".into()],
            },
            crate::spec::Declared {
                effect: crate::spec::EffectRef {
                    point: "gone".into(),
                    control: Some("base".into()),
                },
                minus: None,
                metrics: vec!["clean".into()],
            },
        ];
        let r = SweepReport::new(
            "Sweep t".into(),
            None,
            aggregate(&sweep()),
            Some((&family, 0.05)),
            vec![],
        );
        let f = r.family.as_ref().unwrap();
        assert_eq!((f.size, f.comparisons.len(), f.missing.len()), (3, 1, 2));
        // Holm over the 3 declared tests, though one was computed.
        let p = f.comparisons[0].stats;
        assert!((p.p_holm - 3.0 * p.p).abs() < 1e-12);
        let t = r.findings();
        assert!(
            t.contains("| dup − base | robust acc (points) | - | - | - | no data: 0 seed(s)"),
            "{t}"
        );
        assert!(t.contains("no data: no finished run of point gone"), "{t}");
        // One claim's rows: those whose comparison names it, with the family's size and Holm.
        let only = r.view("findings: gone").unwrap();
        assert!(
            only.starts_with("Rows of the family. Family declared"),
            "{only}"
        );
        assert!(
            only.contains("no data: no finished run of point gone"),
            "{only}"
        );
        assert!(!only.contains("| dup − base |"), "{only}");
        assert!(
            only.contains("0 of the 1 tests shown (3 in the family)"),
            "{only}"
        );
        // `=` names a comparison exactly.
        let err = r.view("findings: =gone").unwrap_err();
        assert!(
            err.contains("names no comparison of the family"),
            "an exact name must be whole: {err}"
        );
        assert!(
            r.view("findings: =gone − base")
                .unwrap()
                .contains("| gone − base |")
        );
        let both = r.view("findings: gone; dup − base").unwrap();
        assert!(both.contains("| dup − base | clean acc"), "{both}");
        assert!(
            r.view("findings: ;")
                .unwrap_err()
                .contains("names no comparison")
        );
    }

    #[test]
    fn a_report_reads_back_what_it_wrote() {
        let r = report();
        let back: SweepReport = serde_json::from_str(&r.json()).unwrap();
        assert_eq!(back.family, r.family);
        assert_eq!(back.markdown(), r.markdown());
    }

    #[test]
    fn blocks_are_regenerated_and_the_rest_is_kept() {
        let text = "# Title\n\nprose before\n\n<!-- duplab report: results/t/report.json -->\nstale table\n<!-- end duplab report -->\n\nprose after\n";
        let load = |p: &str| -> Result<Box<dyn BlockSource>, String> {
            assert_eq!(p, "results/t/report.json");
            Ok(Box::new(report()))
        };
        let out = render_blocks(text, &load).unwrap();
        assert!(out.starts_with(
            "# Title\n\nprose before\n\n<!-- duplab report: results/t/report.json -->\n\n"
        ));
        assert!(
            out.ends_with("<!-- end duplab report -->\n\nprose after\n"),
            "{out}"
        );
        assert!(!out.contains("stale table"));
        assert_eq!(
            short(
                "(training=fgsm-rs,duplication=10x4: duplicated − unique) − (training=standard,duplication=none)"
            ),
            "(fgsm-rs, 10x4: duplicated − unique) − (standard, none)"
        );
        assert!(out.contains("| dup − base | clean acc (points) | +2.00 [-0.48, +4.48] | 0.148 | 4.62 | no detectable effect |"), "{out}");
        // Rendering again changes nothing: what the docs test checks.
        assert_eq!(render_blocks(&out, &load).unwrap(), out);
        let points = render_blocks(
            "<!-- duplab report: results/t/report.json points -->\n<!-- end duplab report -->",
            &load,
        )
        .unwrap();
        assert!(
            points.contains("| dup | 16.7 % | 3 | 74.0 ± 3.0 | - |"),
            "{points}"
        );
        let bad = "<!-- duplab report: results/t/report.json nope -->\n<!-- end duplab report -->";
        assert!(
            render_blocks(bad, &load)
                .unwrap_err()
                .contains("unknown view")
        );
        let open = "<!-- duplab report: x.json -->\nno end";
        assert!(render_blocks(open, &load).unwrap_err().contains("line 1"));
    }
}
