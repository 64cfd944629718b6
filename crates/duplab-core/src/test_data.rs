//! Test support: the real data sets in `../shared/data`, skipped when absent unless CI says
//! they must be there. Included by the plain crate's tests and by the binary's `tests/cli.rs`, so
//! the path is found from the workspace root (the folder holding `Cargo.lock`), not from whichever
//! crate's manifest includes it.

/// A real data set under `../shared/data/SET` for a test. When it is absent the test is skipped
/// with a message, unless `DUPLAB_TEST_DATA=1` (CI, which checked the files) says it must be
/// there: then the test fails loudly instead of passing by returning early.
pub fn shared_data(set: &str) -> Option<std::path::PathBuf> {
    let manifest = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let root = manifest
        .ancestors()
        .find(|d| d.join("Cargo.lock").exists())
        .unwrap_or(manifest);
    let p = root.join("../shared/data").join(set);
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

/// The peak resident memory of this process so far (`VmHWM`, kB): tests that hostile input is
/// refused without being read whole compare it before and after.
#[allow(dead_code)]
pub fn peak_rss_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .expect("/proc/self/status")
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM in /proc/self/status")
}
