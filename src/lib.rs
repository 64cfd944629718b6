//! duplab: a terminal lab for studying how duplicated training images change image classifiers,
//! and whether adversarial training makes it worse. See DESIGN.md for the layers:
//! `spec`, `data`, `store`, `report` are plain Rust; `nn`, `attack`, `train` use burn;
//! `tui` owns the terminal; `cli` wires commands together.

pub mod attack;
pub mod backend;
pub mod cli;
pub mod data;
pub mod nn;
pub mod report;
pub mod spec;
pub mod store;
pub mod train;
pub mod tui;

/// burn's CPU random generator is global to the process: every test that draws from it (model
/// initialisation, dropout, random starts, `Tensor::random`) holds this lock for its whole body,
/// so no other test draws in between and a seeded stream stays the same run to run.
#[cfg(test)]
static BURN_RNG: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Hold burn's process-wide random generator for the rest of the test (see `BURN_RNG`).
#[cfg(test)]
pub(crate) fn burn_serial() -> std::sync::MutexGuard<'static, ()> {
    BURN_RNG.lock().unwrap_or_else(|e| e.into_inner())
}

/// Real data sets for tests (shared with the integration tests, which include the same file).
#[cfg(test)]
mod test_data;
#[cfg(test)]
pub(crate) use test_data::shared_data;
