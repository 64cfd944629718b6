//! Checkpoints: model and optimiser state (burnpack files) plus the trainer's own position. A
//! checkpoint is one unit: its tensor files are named by their step (`model-00000120.bpk`) and
//! written whole (temporary name, fsync, rename); `state.json`, written last, is its manifest —
//! it names the files and the byte length of `metrics.jsonl` at that moment. A crash anywhere in a
//! save leaves the previous manifest and the files it names; the model of one step is never
//! paired with the optimiser of another. Files no manifest names are removed after the new one is
//! in place.

use crate::atomic::{self, Durability};
use crate::nn::Net;
use crate::store::{Run, layout};
use anyhow::{Context, Result};
use burn::module::Module;
use burn::optim::ModuleOptimizer;
use serde::{Deserialize, Serialize};

/// Where the trainer stands: enough to continue exactly where it stopped.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TrainerState {
    /// Steps completed.
    pub step: usize,
    /// Evaluation points completed.
    pub evals_done: usize,
    pub elapsed_s: f64,
    /// Sums over the current evaluation window (training loss × images, correct, images).
    pub window_loss: f64,
    pub window_correct: f64,
    pub window_count: usize,
    /// The same sums when the last step record was written (its baseline).
    pub record_loss: f64,
    pub record_correct: f64,
    pub record_count: usize,
    /// The checkpoint's files (`None` in checkpoints of earlier versions: `model.bpk` and
    /// `optim.bpk`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_file: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub optim_file: Option<String>,
    /// The length of `metrics.jsonl` when the checkpoint was taken: a resume cuts the file here,
    /// keeping every byte before it (lines of kinds this version does not know included).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metrics_bytes: Option<u64>,
    /// What the catastrophic-overfitting checks so far leave for the next (`train::overfit`).
    #[serde(default)]
    pub overfit: crate::store::OverfitHistory,
}

impl TrainerState {
    fn model_name(&self) -> &str {
        self.model_file
            .as_deref()
            .unwrap_or(layout::CHECKPOINT_MODEL)
    }
    fn optim_name(&self) -> &str {
        self.optim_file
            .as_deref()
            .unwrap_or(layout::CHECKPOINT_OPTIM)
    }
}

pub fn save(run: &Run, model: &Net, optim: &ModuleOptimizer, state: &TrainerState) -> Result<()> {
    // A run folder deleted under the trainer is not re-created (half a folder, no config).
    if !run.dir.is_dir() {
        anyhow::bail!("the run folder {} was deleted", run.dir.display());
    }
    let dir = run.checkpoints_dir();
    std::fs::create_dir_all(&dir)?;
    // Temporary files of a save that crashed or failed are as large as the model: none stays.
    atomic::remove_stale_temps(&dir);
    let saved = write(run, &dir, model, optim, state);
    if saved.is_err() {
        atomic::remove_stale_temps(&dir);
    }
    saved
}

fn write(
    run: &Run,
    dir: &std::path::Path,
    model: &Net,
    optim: &ModuleOptimizer,
    state: &TrainerState,
) -> Result<()> {
    let mut state = state.clone();
    state.model_file = Some(format!("model-{:08}.bpk", state.step));
    state.optim_file = Some(format!("optim-{:08}.bpk", state.step));
    state.metrics_bytes = Some(run.metrics_len());
    let model_path = dir.join(state.model_name());
    let tmp_model = atomic::temp_path(&model_path);
    // Sync batch norm's running statistics (burn keeps the last update aside until synced, and
    // saving reads them unsynced): a stop between evaluations must checkpoint what was trained.
    let _ = model.valid();
    model
        .clone()
        .save_file(&tmp_model)
        .map_err(|e| anyhow::anyhow!("saving the model checkpoint: {e:?}"))?;
    let optim_path = dir.join(state.optim_name());
    let tmp_optim = atomic::temp_path(&optim_path);
    optim
        .save(&tmp_optim)
        .map_err(|e| anyhow::anyhow!("saving the optimiser checkpoint: {e:?}"))?;
    // The manifest goes last: it names a step only once the tensors for that step are in place.
    atomic::commit(&tmp_model, &model_path, Durability::Sync)?;
    atomic::commit(&tmp_optim, &optim_path, Durability::Sync)?;
    atomic::write_atomic(
        &run.checkpoint_state_path(),
        &serde_json::to_vec_pretty(&state)?,
        Durability::Sync,
    )?;
    // The previous checkpoint's files, now that the new one is whole.
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let name = e.file_name().to_string_lossy().to_string();
            if name.ends_with(".bpk") && name != state.model_name() && name != state.optim_name() {
                let _ = std::fs::remove_file(e.path());
            }
        }
    }
    Ok(())
}

pub fn load_state(run: &Run) -> Result<Option<TrainerState>> {
    let p = run.checkpoint_state_path();
    if !p.exists() {
        return Ok(None);
    }
    let text = String::from_utf8_lossy(&crate::atomic::read_small(&p, 1 << 20)?).into_owned();
    Ok(Some(serde_json::from_str(&text).with_context(|| {
        format!("{} is not a trainer state", p.display())
    })?))
}

/// The model file of the run's last checkpoint (as its manifest names it; `model.bpk` for
/// checkpoints of earlier versions).
pub fn model_path(run: &Run) -> Result<std::path::PathBuf> {
    let state = load_state(run)?.unwrap_or_default();
    Ok(run.checkpoints_dir().join(state.model_name()))
}

/// The model and optimiser of the checkpoint `state` (its manifest) names.
pub fn load(
    run: &Run,
    state: &TrainerState,
    model: Net,
    optim: ModuleOptimizer,
) -> Result<(Net, ModuleOptimizer)> {
    let dir = run.checkpoints_dir();
    let (model_path, optim_path) = (dir.join(state.model_name()), dir.join(state.optim_name()));
    let model = model
        .try_load_file(&model_path)
        .map_err(|e| anyhow::anyhow!("loading {}: {e:?}", model_path.display()))?;
    let optim = optim
        .load(&optim_path)
        .map_err(|e| anyhow::anyhow!("loading {}: {e:?}", optim_path.display()))?;
    Ok((model, optim))
}
