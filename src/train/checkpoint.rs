//! Checkpoints: model and optimiser state (burnpack files) plus the trainer's own position, each
//! written to a temporary name, fsynced and renamed (`atomic::commit`), so a crash mid-save leaves
//! the previous file of each.

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
    let model_path = dir.join(layout::CHECKPOINT_MODEL);
    let tmp_model = atomic::temp_path(&model_path);
    // Sync batch norm's running statistics (burn keeps the last update aside until synced, and
    // saving reads them unsynced): a stop between evaluations must checkpoint what was trained.
    let _ = model.valid();
    model
        .clone()
        .save_file(&tmp_model)
        .map_err(|e| anyhow::anyhow!("saving the model checkpoint: {e:?}"))?;
    let optim_path = dir.join(layout::CHECKPOINT_OPTIM);
    let tmp_optim = atomic::temp_path(&optim_path);
    optim
        .save(&tmp_optim)
        .map_err(|e| anyhow::anyhow!("saving the optimiser checkpoint: {e:?}"))?;
    // The state file goes last: it names a step only once the tensors for that step are in place.
    atomic::commit(&tmp_model, &model_path, Durability::Sync)?;
    atomic::commit(&tmp_optim, &optim_path, Durability::Sync)?;
    atomic::write_atomic(
        &run.checkpoint_state_path(),
        &serde_json::to_vec_pretty(state)?,
        Durability::Sync,
    )?;
    Ok(())
}

pub fn load_state(run: &Run) -> Result<Option<TrainerState>> {
    let p = run.checkpoint_state_path();
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
        .try_load_file(dir.join(layout::CHECKPOINT_MODEL))
        .map_err(|e| {
            anyhow::anyhow!(
                "loading {}: {e:?}",
                dir.join(layout::CHECKPOINT_MODEL).display()
            )
        })?;
    let optim = optim
        .load(dir.join(layout::CHECKPOINT_OPTIM))
        .map_err(|e| {
            anyhow::anyhow!(
                "loading {}: {e:?}",
                dir.join(layout::CHECKPOINT_OPTIM).display()
            )
        })?;
    Ok((model, optim))
}
