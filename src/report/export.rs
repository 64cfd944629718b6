use crate::store::{MetricRecord, Run, StoreError};

/// Per-epoch results as CSV: one row per evaluation, per-class accuracies as columns.
pub fn export_csv(run: &Run) -> Result<String, StoreError> {
    let cfg = run.config().ok();
    let names: Vec<String> = cfg.map(|c| c.class_names).unwrap_or_default();
    let mut out =
        String::from("epoch,step,train_loss,train_acc,test_loss,test_acc,robust_acc,elapsed_s");
    for n in &names {
        out.push_str(&format!(",acc_{}", csv_name(n)));
    }
    for n in &names {
        out.push_str(&format!(",robust_acc_{}", csv_name(n)));
    }
    out.push('\n');
    for rec in run.metrics()? {
        if let MetricRecord::Epoch(e) = rec {
            let robust = e.robust.as_ref();
            out.push_str(&format!(
                "{},{},{:.6},{:.6},{:.6},{:.6},{},{:.2}",
                e.epoch,
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
        "config": run.config().ok(),
        "summary": run.summary(),
        "metrics": run.metrics()?,
    });
    Ok(serde_json::to_string_pretty(&v).expect("json values serialise"))
}
