//! duplab's plain layers: presets and specs (`spec`), data sets and duplication plans (`data`),
//! the run store (`store`) and reports (`report`). This crate depends on neither burn nor the
//! terminal (ratatui, crossterm): the compiler keeps the central rule of docs/architecture.md, so these layers stay
//! plain Rust, unit-tested in seconds. The `duplab` binary re-exports them under the same names.

pub mod atomic;
pub mod data;
pub mod measures;
pub mod report;
pub mod spec;
pub mod store;

/// Real data sets for tests (shared with the binary's integration tests, which include the same file).
#[cfg(test)]
mod test_data;
#[cfg(test)]
pub(crate) use test_data::shared_data;
