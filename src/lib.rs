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

/// A real data set under `../shared/data/SET` for a test. When it is absent the test is skipped
/// with a message, unless `DUPLAB_TEST_DATA=1` (CI, which checked the files) says it must be
/// there: then the test fails loudly instead of passing by returning early.
#[cfg(test)]
pub(crate) fn shared_data(set: &str) -> Option<std::path::PathBuf> {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/data")
        .join(set);
    if p.exists() {
        return Some(p);
    }
    assert!(
        std::env::var("DUPLAB_TEST_DATA").map_or(true, |v| v != "1"),
        "DUPLAB_TEST_DATA=1 but {} is absent",
        p.display()
    );
    eprintln!("SKIPPED: {} is absent", p.display());
    None
}
