//! Synthetic finished runs with fixed, plausible numbers: for snapshot tests (which need stable
//! values) and the TUI benchmark (which needs a store of 1,000 runs). Never mixed with real runs:
//! they are written only into temporary stores.

use crate::spec::find_preset;
use crate::store::{
    EpochRecord, MetricRecord, RobustRecord, RunConfig, RunStatus, RunStore, StepRecord, Summary,
};

/// A finished run with fixed, plausible numbers (a fixture: snapshots need stable values).
pub fn fixture_run(
    store: &RunStore,
    id: &str,
    overrides: &[&str],
    seed: u64,
    acc: f64,
    robust: Option<f64>,
) {
    let preset = find_preset(
        "default",
        &overrides.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
    )
    .unwrap();
    let dir = store.root.join(id);
    std::fs::create_dir_all(dir.join("checkpoints")).unwrap();
    let run = store.open(id).unwrap_or(crate::store::Run {
        id: id.into(),
        dir: dir.clone(),
    });
    let ds_names: Vec<String> = crate::data::FASHION_CLASSES
        .iter()
        .map(|s| s.to_string())
        .collect();
    let rate = preset.duplication.rate.unwrap_or(0.0);
    let after: Vec<usize> = (0..10).map(|_| 1000 + (rate * 1000.0) as usize).collect();
    run.write_config(&RunConfig {
        id: id.into(),
        preset,
        seed,
        backend: "flex".into(),
        device: "CPU (2 threads)".into(),
        version: "test".into(),
        created_at: 1_795_000_000 + seed,
        data_source: "embedded".into(),
        train_checksum: "0".into(),
        plan_before: vec![1000; 10],
        plan_after: after.clone(),
        plan_chosen: after.iter().map(|a| a - 1000).collect(),
        class_names: ds_names,
        total_steps: 400,
        steps_per_epoch: 79,
        params: 206_922,
        sweep: None,
        point: None,
    })
    .unwrap();
    let mut w = run.metrics_writer().unwrap();
    for s in 1..=20 {
        let step = s * 20;
        let p = step as f64 / 400.0;
        w.append(&MetricRecord::Step(StepRecord {
            step,
            epoch: step as f64 / 79.0,
            loss: 2.3 * (1.0 - p) + 0.4 * p + if s % 3 == 0 { 0.05 } else { 0.0 },
            acc: 0.1 + (acc - 0.1) * p.sqrt(),
            lr: 0.05,
            images_per_s: 1500.0,
            unique_seen: (step * 128).min(10_000),
            dup_seen: 0,
            elapsed_s: step as f64 * 0.09,
        }))
        .unwrap();
    }
    let per_class: Vec<f64> = (0..10)
        .map(|c| (acc - 0.15 + 0.03 * c as f64).min(0.99))
        .collect();
    for e in 1..=4 {
        let f = e as f64 / 4.0;
        let rob = robust.filter(|_| e == 4).map(|r| RobustRecord {
            attack: "pgd-10 L∞ ε=0.1".into(),
            acc: r,
            loss: 3.0,
            per_class_acc: (0..10)
                .map(|c| (r - 0.1 + 0.02 * c as f64).max(0.0))
                .collect(),
            images: 500,
        });
        w.append(&MetricRecord::Epoch(EpochRecord {
            epoch: e,
            step: e * 100,
            test_loss: 1.0 - 0.5 * f,
            test_acc: acc - 0.2 * (1.0 - f),
            per_class_acc: per_class.clone(),
            confusion: vec![vec![0; 10]; 10],
            train_loss: 0.5,
            train_acc: acc,
            robust: rob,
            elapsed_s: e as f64 * 9.0,
        }))
        .unwrap();
    }
    run.write_summary(&Summary {
        epochs_done: 4,
        steps_done: 400,
        total_steps: 400,
        test_acc: Some(acc),
        best_test_acc: Some(acc),
        robust_acc: robust,
        per_class_acc: per_class,
        duration_s: 36.0,
        train_size: after.iter().sum(),
        distinct_images: 10_000,
        finished_at: Some(1_795_000_100),
        ..Default::default()
    })
    .unwrap();
    run.set_status(RunStatus::Finished).unwrap();
}
