//! Synthetic runs with fixed, plausible numbers, written through the store's own functions: for
//! snapshot tests (which need stable values) and `duplab bench --tui` (a store of 1,000 runs, a
//! metrics file of a million lines). Never mixed with real runs: they are written only into
//! temporary stores, and their `version` says "synthetic".

use super::{
    EpochRecord, MetricRecord, RobustRecord, Run, RunConfig, RunStatus, RunStore, StepRecord,
    StoreError, Summary,
};
use crate::spec::{Preset, find_preset};

/// A finished run of the `default` preset (with `overrides`) and fixed numbers, its classes
/// named `class_names` (ten of them).
pub fn finished_run(
    store: &RunStore,
    id: &str,
    overrides: &[&str],
    class_names: &[&str],
    seed: u64,
    acc: f64,
    robust: Option<f64>,
) -> Result<Run, StoreError> {
    let preset = find_preset(
        "default",
        &overrides.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
    )
    .map_err(|e| StoreError::BadId(e.to_string()))?;
    let run = store.create_with_id(id)?;
    let names: Vec<String> = class_names.iter().map(|s| s.to_string()).collect();
    let cfg = config(id, preset, seed, names);
    let train_size = cfg.plan_after.iter().sum();
    run.write_config(&cfg)?;
    let mut w = run.metrics_writer()?;
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
        .map_err(|e| StoreError::Io(run.metrics_path(), e))?;
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
            evaluation: e,
            step: e * 100,
            test_loss: 1.0 - 0.5 * f,
            test_acc: acc - 0.2 * (1.0 - f),
            per_class_acc: per_class.clone(),
            confusion: vec![vec![0; 10]; 10],
            train_loss: 0.5,
            train_acc: acc,
            robust: rob,
            groups: None,
            leakage: None,
            overfit: None,
            elapsed_s: e as f64 * 9.0,
        }))
        .map_err(|e| StoreError::Io(run.metrics_path(), e))?;
    }
    run.write_summary(&Summary {
        evaluations_done: 4,
        steps_done: 400,
        total_steps: 400,
        test_acc: Some(acc),
        best_test_acc: Some(acc),
        robust_acc: robust,
        per_class_acc: per_class,
        duration_s: 36.0,
        train_size,
        distinct_images: 10_000,
        finished_at: Some(1_795_000_100),
        ..Default::default()
    })?;
    run.set_status(RunStatus::Finished)?;
    Ok(run)
}

/// Append `n` step records after step `from` (a long run's `metrics.jsonl`), buffered.
pub fn append_steps(run: &Run, from: usize, n: usize) -> Result<(), StoreError> {
    use std::io::Write;
    let path = run.metrics_path();
    let f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .map_err(|e| StoreError::Io(path.clone(), e))?;
    let mut w = std::io::BufWriter::with_capacity(1 << 20, f);
    for i in 0..n {
        let step = from + i + 1;
        let rec = MetricRecord::Step(StepRecord {
            step,
            epoch: step as f64 / 79.0,
            loss: 0.4 + 2.0 / (1.0 + step as f64 / 1000.0) + 0.01 * (i % 13) as f64,
            acc: 0.9 - 0.8 / (1.0 + step as f64 / 1000.0),
            lr: 0.05,
            images_per_s: 1500.0,
            unique_seen: 10_000,
            dup_seen: step * 128,
            elapsed_s: step as f64 * 0.09,
        });
        let mut line = serde_json::to_vec(&rec)
            .map_err(|e| StoreError::Io(path.clone(), std::io::Error::other(e)))?;
        line.push(b'\n');
        w.write_all(&line)
            .map_err(|e| StoreError::Io(path.clone(), e))?;
    }
    w.flush().map_err(|e| StoreError::Io(path.clone(), e))
}

/// The config of a synthetic run of `preset` (ten classes of 1,000 images, the duplication
/// plan's copies added).
pub fn config(id: &str, preset: Preset, seed: u64, class_names: Vec<String>) -> RunConfig {
    let rate = preset.duplication.rate.unwrap_or(0.0);
    let after: Vec<usize> = (0..10).map(|_| 1000 + (rate * 1000.0) as usize).collect();
    RunConfig {
        id: id.into(),
        preset,
        seed,
        backend: "flex".into(),
        device: "CPU (2 threads)".into(),
        version: "synthetic".into(),
        created_at: 1_795_000_000 + seed,
        data_source: "embedded".into(),
        train_checksum: "0".into(),
        plan_before: vec![1000; 10],
        plan_after: after.clone(),
        plan_chosen: after.iter().map(|a| a - 1000).collect(),
        class_names,
        total_steps: 400,
        steps_per_epoch: 79,
        params: 206_922,
        sweep: None,
        point: None,
        input_mean: vec![],
        input_std: vec![],
        dedup: None,
        data_checksums: None,
    }
}
