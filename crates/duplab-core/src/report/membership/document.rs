//! The membership report as Markdown, CSV, JSON and a log–log ROC chart. Wording is decided
//! here from the numbers (`Contrast::verdict`), never by hand.

use super::analysis::{BOOTSTRAP, Estimate, MembershipReport};
use super::attacks::Attack;
use crate::report::plot::{Marker, Series, chart_svg};

fn pct(v: f64) -> String {
    if v.is_finite() {
        format!("{:.2} %", v * 100.0)
    } else {
        "–".into()
    }
}

/// A TPR with its interval; a t-interval's lower end below 0 is shown as 0 (a rate).
fn est_pct(e: &Estimate) -> String {
    format!(
        "{} [{}, {}]",
        pct(e.mean),
        pct(e.lo.max(0.0)),
        pct(e.hi.min(1.0))
    )
}

fn est_auc(e: &Estimate) -> String {
    format!("{:.4} [{:.4}, {:.4}]", e.mean, e.lo, e.hi)
}

fn signed(metric: &str, v: f64) -> String {
    if metric == "auc" {
        format!("{v:+.4}")
    } else {
        format!("{:+.2} pp", v * 100.0)
    }
}

fn metric_name(metric: &str) -> &'static str {
    match metric {
        "tpr_01" => "TPR at 0.1 % FPR",
        "tpr_1" => "TPR at 1 % FPR",
        _ => "AUC",
    }
}

impl MembershipReport {
    pub fn json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a membership report serialises")
    }

    pub fn read(path: &std::path::Path) -> Result<MembershipReport, String> {
        let bytes = crate::atomic::read_small(path, 256 << 20)
            .map_err(|e| format!("{}: {e}", path.display()))?;
        serde_json::from_slice(&bytes).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// The findings, one line per contrast, worded from its Holm-corrected test.
    pub fn findings(&self) -> String {
        let mut s = String::new();
        let m = self.family_size.max(self.contrasts.len());
        s.push_str(&format!(
            "Attack: {}. Each line is a difference averaged over targets (within a point: two strata of the same targets; between points: the same model index, i.e. the same half of the pool and the same initial seed). Its 95 % interval and p-value come from a delete-one-model jackknife (each model index left out as target and as reference in turn, t with N − 1 degrees of freedom), because targets that share reference models are not independent; {m} tests in one family, Holm-corrected at α 0.05.\n\n",
            self.headline.name()
        ));
        for note in &self.notes {
            s.push_str(&format!("Not tested: {note}.\n\n"));
        }
        for c in &self.contrasts {
            let verdict = c.verdict();
            let text = format!(
                "{}: {} {} [{}, {}], {} jackknife replicates — {}",
                c.what,
                metric_name(&c.metric),
                signed(&c.metric, c.diff.mean),
                signed(&c.metric, c.diff.lo),
                signed(&c.metric, c.diff.hi),
                c.diff.n,
                verdict
            );
            // Within a point the stratum is in `what`; between points it is said first.
            let scope = if c.what.contains(&c.stratum) {
                format!("point {}, ", c.point)
            } else {
                format!("{}: ", c.stratum)
            };
            if verdict == "no detectable difference" {
                s.push_str(&format!(
                    "- {scope}{text} (p_Holm {:.3}; MDE {} at α/m)\n",
                    c.diff.p_holm,
                    signed(&c.metric, c.diff.mde_holm).trim_start_matches('+')
                ));
            } else {
                s.push_str(&format!(
                    "- **{scope}{text}** (p_Holm {:.2e})\n",
                    c.diff.p_holm
                ));
            }
        }
        s
    }

    pub fn markdown(&self) -> String {
        let mut s = format!(
            "# {}: membership inference on reference models\n\n",
            self.title
        );
        if let Some(a) = self.arms.first() {
            s.push_str(&format!(
                "{} point(s) of {} reference models; every finished model is the target in turn (leave-one-out) with the others as its references, as many IN as OUT for each image. Pool: {} images, each a member of half the models. Each point's section gives its non-members per target and the FPR resolution (1 / the fewest non-members of a target). Members per target and stratum are counted in the tables. Intervals in the tables: 95 % t-intervals across targets (the targets share reference models, so they are not independent: read them as approximate; the findings use a jackknife), and for the first target a 95 % image bootstrap ({BOOTSTRAP} Poisson replicates).\n\n",
                self.arms.len(),
                a.models,
                a.pool,
            ));
        }
        s.push_str("## Findings\n\n");
        s.push_str(&self.findings());
        for a in &self.arms {
            s.push_str(&format!(
                "\n## {}\n\n{} targets: runs {}. Non-members per target: {:.0} on average ({:.0} more left out as near-duplicates of a member, scored apart; {:.0} images unscored for want of references); FPR resolution 1 / {:.0} = {:.4} %.\n\n",
                a.label,
                a.targets.len(),
                a.runs.join(", "),
                a.non_members,
                a.shadowed,
                a.unscorable,
                1.0 / a.resolution,
                a.resolution * 100.0,
            ));
            s.push_str("| attack | stratum | members | TPR @ 0.1 % FPR | TPR @ 1 % FPR | AUC | first target (bootstrap) TPR @ 1 % |\n|---|---|---:|---|---|---|---|\n");
            for attack in Attack::ALL {
                for c in a.cells.iter().filter(|c| c.attack == attack) {
                    s.push_str(&format!(
                        "| {} | {} | {:.0} | {} | {} | {} | {} [{}, {}] |\n",
                        attack.name(),
                        c.stratum,
                        c.members,
                        est_pct(&c.tpr_01),
                        est_pct(&c.tpr_1),
                        est_auc(&c.auc),
                        pct(c.first[1]),
                        pct(c.first_lo[1]),
                        pct(c.first_hi[1]),
                    ));
                }
            }
            s.push_str("\nMemorisation (Feldman & Zhang on φ: mean φ of the models that trained on an image minus that of the models that did not), by stratum, mean ± standard error across images:\n\n| stratum | images | memorisation |\n|---|---:|---|\n");
            for m in &a.memorisation {
                s.push_str(&format!(
                    "| {} | {} | {:.3} ± {:.3} |\n",
                    m.stratum, m.images, m.mean, m.se
                ));
            }
            s.push_str("\nMost memorised images:\n\n| image | class | k | memorisation ± se |\n|---:|---:|---:|---|\n");
            for m in &a.top {
                s.push_str(&format!(
                    "| {} | {} | {} | {:.2} ± {:.2} |\n",
                    m.index, m.label, m.k, m.mem, m.se
                ));
            }
        }
        s
    }

    /// The headline attack by occurrences k, one row per point and stratum, beside the loss
    /// attack's TPR at 1 % FPR (the README's table).
    pub fn k_table(&self) -> String {
        let mut s = format!(
            "{}, mean over targets [95 % t-interval across targets]; the loss attack (the tie-free threshold on φ) beside it.\n\n| point | stratum | members / target | TPR @ 0.1 % FPR | TPR @ 1 % FPR | AUC | loss attack: TPR @ 1 % FPR |\n|---|---|---:|---|---|---|---|\n",
            self.headline.name()
        );
        for a in &self.arms {
            for st in &a.strata {
                let (Some(c), t) = (
                    a.cell(self.headline, &st.name),
                    a.cell(Attack::Threshold, &st.name),
                ) else {
                    continue;
                };
                s.push_str(&format!(
                    "| {} | {} | {:.0} | {} | {} | {} | {} |\n",
                    a.label,
                    st.name,
                    c.members,
                    est_pct(&c.tpr_01),
                    est_pct(&c.tpr_1),
                    est_auc(&c.auc),
                    t.map_or("–".into(), |t| est_pct(&t.tpr_1)),
                ));
            }
        }
        s
    }

    /// A view for a generated block of the docs: `findings` or `k`.
    pub fn view(&self, view: &str) -> Result<String, String> {
        match view {
            "" | "findings" => Ok(self.findings()),
            "k" => Ok(self.k_table()),
            other => Err(format!(
                "no view `{other}` of a membership report; allowed: findings, k"
            )),
        }
    }

    /// One row per point, attack and stratum.
    pub fn csv(&self) -> String {
        let mut s = String::from(
            "point,attack,stratum,members,targets,tpr_01,tpr_01_lo,tpr_01_hi,tpr_1,tpr_1_lo,tpr_1_hi,auc,auc_lo,auc_hi,non_members,resolution\n",
        );
        for a in &self.arms {
            for c in &a.cells {
                s.push_str(&format!(
                    "{},{},{},{:.1},{},{},{},{},{},{},{},{},{},{},{:.1},{}\n",
                    a.label,
                    c.attack.key(),
                    c.stratum,
                    c.members,
                    c.tpr_1.n,
                    c.tpr_01.mean,
                    c.tpr_01.lo,
                    c.tpr_01.hi,
                    c.tpr_1.mean,
                    c.tpr_1.lo,
                    c.tpr_1.hi,
                    c.auc.mean,
                    c.auc.lo,
                    c.auc.hi,
                    a.non_members,
                    a.resolution
                ));
            }
        }
        s
    }

    /// The headline attack's ROC per point and stratum, log10 TPR against log10 FPR.
    pub fn roc_svg(&self) -> String {
        const COLORS: [&str; 8] = [
            "#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf",
        ];
        let mut series = vec![];
        for (ai, a) in self.arms.iter().enumerate() {
            let strata: Vec<&str> = a
                .strata
                .iter()
                .filter(|s| s.k_min == s.k_max)
                .map(|s| s.name.as_str())
                .collect();
            for (si, st) in strata.iter().enumerate() {
                let Some(c) = a
                    .curves
                    .iter()
                    .find(|c| c.attack == self.headline && c.stratum == *st)
                else {
                    continue;
                };
                series.push(Series {
                    name: format!("{} {}", a.label, st),
                    color: COLORS[si % COLORS.len()],
                    dashed: ai % 2 == 1,
                    marker: if ai % 2 == 0 {
                        Marker::Circle
                    } else {
                        Marker::Diamond
                    },
                    connect: true,
                    points: c
                        .fpr
                        .iter()
                        .zip(&c.tpr)
                        .filter(|(_, t)| **t > 0.0)
                        .map(|(f, t)| (f.log10(), t.log10(), 0.0))
                        .collect(),
                });
            }
        }
        series.push(Series {
            name: "chance".into(),
            color: "#7f7f7f",
            dashed: true,
            marker: Marker::Circle,
            connect: true,
            points: self
                .arms
                .first()
                .and_then(|a| a.curves.first())
                .map(|c| c.fpr.iter().map(|f| (f.log10(), f.log10(), 0.0)).collect())
                .unwrap_or_default(),
        });
        chart_svg(
            &format!(
                "{}: ROC of {} (mean over targets)",
                self.title,
                self.headline.name()
            ),
            "log10 FPR",
            "log10 TPR",
            &series,
        )
    }
}
