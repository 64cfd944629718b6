use crate::store::{GroupMetrics, MetricRecord, Run, StoreError};

use crate::measures::Group;

/// `groups.G.loss`, `groups.G.acc`, `groups.G.gap` for every group, then
/// `membership.G.auc|tpr_at_1|tpr_at_10|advantage` for every train group; the same prefixed
/// `adv.` for adversarial inputs; then the logit-margin attack, `margin.G.auc|tpr_at_01|tpr_at_1`.
pub fn group_columns() -> Vec<String> {
    let mut cols = vec![];
    for prefix in ["", "adv."] {
        // Every group has columns (a run without one leaves its cells empty).
        for g in Group::ALL {
            for m in ["loss", "acc", "gap"] {
                cols.push(format!("{prefix}groups.{g}.{m}"));
            }
        }
        for g in Group::TRAIN {
            for m in ["auc", "tpr_at_1", "tpr_at_10", "advantage"] {
                cols.push(format!("{prefix}membership.{g}.{m}"));
            }
        }
    }
    for g in Group::TRAIN {
        for m in ["auc", "tpr_at_01", "tpr_at_1"] {
            cols.push(format!("margin.{g}.{m}"));
        }
    }
    cols
}

/// Values for `group_columns()` (empty where absent).
pub fn group_values(g: Option<&GroupMetrics>) -> Vec<String> {
    let f = |v: Option<f64>| v.map(|x| format!("{x:.6}")).unwrap_or_default();
    let mut out = vec![];
    for gm in [g, g.and_then(|g| g.adversarial.as_deref())] {
        for g in Group::ALL {
            let s = gm.and_then(|m| m.group(g));
            out.push(f(s.map(|s| s.loss)));
            out.push(f(s.map(|s| s.acc)));
            out.push(f(s.map(|s| s.gap)));
        }
        for g in Group::TRAIN {
            let m = gm.and_then(|m| m.membership_of(g));
            out.push(f(m.map(|m| m.auc)));
            out.push(f(m.map(|m| m.tpr_at_1)));
            out.push(f(m.map(|m| m.tpr_at_10)));
            out.push(f(m.map(|m| m.advantage)));
        }
    }
    for grp in Group::TRAIN {
        let m = g.and_then(|m| m.margin_membership_of(grp));
        out.push(f(m.map(|m| m.auc)));
        out.push(f(m.map(|m| m.tpr_at_01)));
        out.push(f(m.map(|m| m.tpr_at_1)));
    }
    out
}

/// Per-epoch results as CSV: one row per evaluation, per-class accuracies as columns.
pub fn export_csv(run: &Run) -> Result<String, StoreError> {
    let cfg = run.config()?;
    let names: Vec<String> = cfg.map(|c| c.class_names).unwrap_or_default();
    let mut out = String::from(
        "evaluation,step,train_loss,train_acc,test_loss,test_acc,robust_acc,elapsed_s",
    );
    for n in &names {
        out.push_str(&format!(",acc_{}", csv_name(n)));
    }
    for n in &names {
        out.push_str(&format!(",robust_acc_{}", csv_name(n)));
    }
    for c in group_columns() {
        out.push(',');
        out.push_str(&c);
    }
    out.push_str(",leaky_images,leaky_acc,fair_acc");
    out.push('\n');
    for rec in run.metrics()? {
        if let MetricRecord::Epoch(e) = rec {
            let robust = e.robust.as_ref();
            out.push_str(&format!(
                "{},{},{:.6},{:.6},{:.6},{:.6},{},{:.2}",
                e.evaluation,
                e.step,
                e.train_loss,
                e.train_acc,
                e.test_loss,
                e.test_acc,
                robust.map(|r| format!("{:.6}", r.acc)).unwrap_or_default(),
                e.elapsed_s
            ));
            for i in 0..names.len() {
                out.push_str(&format!(
                    ",{}",
                    e.per_class_acc
                        .get(i)
                        .map(|a| format!("{a:.6}"))
                        .unwrap_or_default()
                ));
            }
            for i in 0..names.len() {
                out.push_str(&format!(
                    ",{}",
                    robust
                        .and_then(|r| r.per_class_acc.get(i))
                        .map(|a| format!("{a:.6}"))
                        .unwrap_or_default()
                ));
            }
            for v in group_values(e.groups.as_ref()) {
                out.push(',');
                out.push_str(&v);
            }
            let l = e.leakage;
            let f = |v: Option<f64>| v.map(|x| format!("{x:.6}")).unwrap_or_default();
            out.push_str(&format!(
                ",{},{},{}",
                l.map(|l| l.leaky.to_string()).unwrap_or_default(),
                f(l.and_then(|l| l.leaky_acc)),
                f(l.and_then(|l| l.fair_acc))
            ));
            out.push('\n');
        }
    }
    Ok(out)
}

fn csv_name(n: &str) -> String {
    n.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect()
}

/// Everything about a run as one JSON document: config, summary, status and every metric record.
pub fn export_json(run: &Run) -> Result<String, StoreError> {
    let v = serde_json::json!({
        "id": run.id,
        "status": run.status().name(),
        "config": run.config()?,
        "summary": run.summary_or_default()?,
        "metrics": run.metrics()?,
    });
    Ok(serde_json::to_string_pretty(&v).expect("json values serialise"))
}
