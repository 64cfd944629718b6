//! Checkpoints: model and optimiser state (burnpack files) plus the trainer's own position, each
//! written to a temporary name and renamed, so a crash mid-save leaves the previous checkpoint.

use crate::nn::Net;
use crate::store::Run;
use anyhow::{Context, Result};
use burn::module::Module;
use burn::optim::ModuleOptimizer;
use serde::{Deserialize, Serialize};
use std::path::Path;

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
}

fn rename_into_place(tmp: &Path, dest: &Path) -> Result<()> {
    std::fs::rename(tmp, dest)
        .with_context(|| format!("cannot move {} to {}", tmp.display(), dest.display()))
}

pub fn save(run: &Run, model: &Net, optim: &ModuleOptimizer, state: &TrainerState) -> Result<()> {
    let dir = run.checkpoints_dir();
    std::fs::create_dir_all(&dir)?;
    let tmp_model = dir.join("model.bpk.tmp");
    // Sync batch norm's running statistics (burn keeps the last update aside until synced, and
    // saving reads them unsynced): a stop between evaluations must checkpoint what was trained.
    let _ = model.valid();
    model
        .clone()
        .save_file(&tmp_model)
        .map_err(|e| anyhow::anyhow!("saving the model checkpoint: {e:?}"))?;
    let tmp_optim = dir.join("optim.bpk.tmp");
    optim
        .save(&tmp_optim)
        .map_err(|e| anyhow::anyhow!("saving the optimiser checkpoint: {e:?}"))?;
    // The state file goes last: it names a step only once the tensors for that step are in place.
    rename_into_place(&tmp_model, &dir.join("model.bpk"))?;
    rename_into_place(&tmp_optim, &dir.join("optim.bpk"))?;
    crate::store::write_atomic(&dir.join("state.json"), &serde_json::to_vec_pretty(state)?)?;
    Ok(())
}

pub fn load_state(run: &Run) -> Result<Option<TrainerState>> {
    let p = run.checkpoints_dir().join("state.json");
    if !p.exists() {
        return Ok(None);
    }
    let text = std::fs::read_to_string(&p)?;
    Ok(Some(serde_json::from_str(&text).with_context(|| {
        format!("{} is not a trainer state", p.display())
    })?))
}

pub fn load(run: &Run, model: Net, optim: ModuleOptimizer) -> Result<(Net, ModuleOptimizer)> {
    let dir = run.checkpoints_dir();
    let model = model
        .try_load_file(dir.join("model.bpk"))
        .map_err(|e| anyhow::anyhow!("loading {}: {e:?}", dir.join("model.bpk").display()))?;
    let optim = optim
        .load(dir.join("optim.bpk"))
        .map_err(|e| anyhow::anyhow!("loading {}: {e:?}", dir.join("optim.bpk").display()))?;
    Ok((model, optim))
}
