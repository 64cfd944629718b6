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

/// burn's CPU random generator is global to the process: tests that must be reproducible take
/// this lock so they do not draw from it at the same time.
#[cfg(test)]
pub(crate) static BURN_RNG: std::sync::Mutex<()> = std::sync::Mutex::new(());
