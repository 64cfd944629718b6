//! The training engine: a background worker that turns a preset into a trained model and a
//! complete run folder. It talks to the outside only through channels: `TrainEvent`s out,
//! `Control` in. It never draws.

mod augment;
mod batches;
pub mod card;
mod checkpoint;
mod control_source;
mod device_data;
mod eval;
mod eval_run;
mod evaluator;
mod events;
mod group_eval;
mod overfit;
pub mod pytorch;
mod reporter;
mod session;
mod setup;
mod step;
mod trainer;
pub mod transfer;
mod worker;

pub use device_data::DeviceData;
pub use eval::{EvalResult, PerImage, evaluate_clean, evaluate_robust, per_image};
pub use eval_run::{attack_key, eval_run, load_model, load_trained};
pub use events::{Control, TrainEvent};
pub use setup::JobError;
pub use step::train_step;
pub use trainer::{TrainJob, eval_points, optimizer, run_job};
pub use worker::{WorkerHandle, spawn};

#[cfg(test)]
mod attack_tests;
#[cfg(test)]
mod tests;
