//! duplab: a terminal lab for studying how duplicated training images change image classifiers,
//! and whether adversarial training makes it worse. See docs/architecture.md for the layers:
//! `spec`, `data`, `store`, `report` are plain Rust and live in the `duplab-core` crate
//! (`crates/duplab-core`), which cannot reach burn or the terminal; they are re-exported here
//! under the same names. `nn`, `attack`, `train` use burn; `tui` owns the terminal; `cli` wires
//! commands together.

pub use duplab_core::{atomic, data, measures, report, spec, store};

pub mod attack;
pub mod backend;
pub mod cli;
pub mod nn;
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
