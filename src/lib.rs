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
