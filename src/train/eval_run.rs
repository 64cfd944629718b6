//! Robust evaluation of a finished (or interrupted) run from its last checkpoint.

use super::DeviceData;
use super::eval::{evaluate_clean, evaluate_robust};
use super::trainer::robust_record;
use crate::backend::{DeviceChoice, select};
use crate::data;
use crate::nn::{InputShape, Net};
use crate::spec::AttackSpec;
use crate::store::{MetricRecord, RobustRecord, Run};
use anyhow::{Result, anyhow};
use burn::prelude::*;
use std::path::Path;

/// The input a run's model was trained on: its normalisation from the config (runs written
/// before it was recorded: recomputed from the training set, deduplicated as the run was).
fn input_of(cfg: &crate::store::RunConfig, ds: &data::DataSet) -> InputShape {
    if !cfg.input_mean.is_empty() && cfg.input_mean.len() == cfg.input_std.len() {
        return InputShape {
            channels: ds.train.channels,
            height: ds.train.height,
            width: ds.train.width,
            classes: ds.num_classes(),
            mean: cfg.input_mean.clone(),
            std: cfg.input_std.clone(),
        };
    }
    match &cfg.dedup {
        Some(d) => InputShape::of(
            &data::deduplicate(ds, d.threshold, data::cache_dir().as_deref(), &|_, _| {}).0,
        ),
        None => InputShape::of(ds),
    }
}

/// The model of `cfg` with the weights of the run's last checkpoint, and its input.
fn from_checkpoint(
    run: &Run,
    cfg: &crate::store::RunConfig,
    ds: &data::DataSet,
    device: &Device,
) -> Result<(Net, InputShape)> {
    let shape = input_of(cfg, ds);
    let model = Net::new(cfg.preset.training.model, &shape, device)?;
    let mut path = super::checkpoint::model_path(run)?;
    if !path.exists() {
        // A checkpoint landed between reading its manifest and opening the file: the new
        // manifest names the new file.
        path = super::checkpoint::model_path(run)?;
    }
    if !path.exists() {
        return Err(anyhow!(
            "run {} has no checkpoint ({} is missing)",
            run.id,
            path.display()
        ));
    }
    let model = model
        .try_load_file(&path)
        .map_err(|e| anyhow!("loading {}: {e:?}", path.display()))?;
    Ok((model, shape))
}

/// The run's model from its last checkpoint, with the input it was trained on (for export).
pub fn load_model(
    run: &Run,
    device: &Device,
    data_dir: Option<&Path>,
) -> Result<(Net, InputShape)> {
    let cfg = run.require_config()?;
    let (ds, _) = data::load_spec(&cfg.preset.data, data_dir, &|_, _| {})?;
    from_checkpoint(run, &cfg, &ds, device)
}

/// Load the run's model from its checkpoint and its data set's test split.
pub fn load_trained(
    run: &Run,
    choice: DeviceChoice,
    data_dir: Option<&Path>,
) -> Result<(Net, DeviceData, usize, Device)> {
    let cfg = run.require_config()?;
    let (ds, _) = data::load_spec(&cfg.preset.data, data_dir, &|_, _| {})?;
    let selected = select(choice)?;
    let (model, _) = from_checkpoint(run, &cfg, &ds, &selected.device)?;
    // Random starts draw from the run's seed: evaluating a run twice gives the same figures.
    selected.device.seed(cfg.seed);
    let test = DeviceData::upload(&ds.test, &selected.device.clone().inner());
    Ok((model, test, ds.num_classes(), selected.device))
}

/// Evaluate `run` under `attack` on `limit` test images (0 = all); record it in the run.
pub fn eval_run(
    run: &Run,
    attack: &AttackSpec,
    limit: usize,
    choice: DeviceChoice,
    data_dir: Option<&Path>,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<(f64, RobustRecord)> {
    let (model, test, classes, device) = load_trained(run, choice, data_dir)?;
    let clean = evaluate_clean(&model, &test, classes);
    let r = evaluate_robust(&model, &test, classes, attack, limit, &device, progress);
    let rec = robust_record(&r, &attack.eval_label());
    run.metrics_writer()?
        .append(&MetricRecord::Eval(rec.clone()))?;
    // Its own file: the trainer, or another evaluation, rewriting the summary loses nothing.
    run.write_eval(&attack_key(attack, rec.images), &rec)?;
    Ok((clean.acc, rec))
}

/// What identifies an evaluation attack: kind, norm, ε, steps, step size, restarts and the
/// number of images. Two evaluations with the same key measured the same thing.
pub fn attack_key(a: &AttackSpec, images: usize) -> String {
    format!(
        "{} · step {} · {} restart(s) · {images} images",
        a.eval_label(),
        a.step,
        a.restarts.max(1)
    )
}
