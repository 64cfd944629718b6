//! `kill -9` at random moments of a real `duplab train` — while it loads data, trains, evaluates
//! or writes a checkpoint — always leaves a store that lists and reads, and a run that resumes to
//! exactly the metrics of an uninterrupted one. 50 tries (`DUPLAB_CRASH_TRIES` changes it).

mod common;
use common::{duplab, metrics_without_time, text};
use std::path::Path;
use std::process::Command;
use std::time::Instant;

const ARGS: &[&str] = &[
    "train",
    "--set",
    "training.steps=30",
    "--set",
    "training.eval_every=5",
    "--set",
    "attack.eval.kind=none",
    "--device",
    "cpu",
    "--plain",
];

fn rows(runs: &Path) -> Vec<serde_json::Value> {
    let o = duplab(&["runs", "ls", "--json"], runs);
    assert!(o.status.success(), "runs ls after a kill: {}", text(&o));
    let t = String::from_utf8_lossy(&o.stdout);
    if t.trim().starts_with("no runs") {
        return vec![];
    }
    serde_json::from_str::<serde_json::Value>(&t)
        .unwrap_or_else(|e| panic!("{e}: {t}"))
        .as_array()
        .unwrap()
        .clone()
}

#[test]
fn kill_9_at_any_moment_leaves_a_run_that_resumes_to_the_same_metrics() {
    let tries: usize = std::env::var("DUPLAB_CRASH_TRIES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(50);
    let tmp = tempfile::tempdir().unwrap();
    // The uninterrupted run, and how long it takes.
    let reference = tmp.path().join("reference");
    let t0 = Instant::now();
    let o = duplab(ARGS, &reference);
    let whole = t0.elapsed();
    assert!(o.status.success(), "{}", text(&o));
    let r = rows(&reference);
    let expect = metrics_without_time(&reference.join(r[0]["id"].as_str().unwrap()));
    assert!(expect.len() > 6, "{expect:?}");
    // Our own generator: kill moments spread over the whole run and a little past it.
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % 10_000) as f64 / 10_000.0
    };
    let (mut before_run, mut mid_run, mut after_end) = (0, 0, 0);
    for k in 0..tries {
        let runs = tmp.path().join(format!("try-{k}"));
        let mut child = Command::new(env!("CARGO_BIN_EXE_duplab"))
            .args(ARGS)
            .env("DUPLAB_RUNS", &runs)
            .env_remove("DUPLAB_DATA")
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(whole.mul_f64(0.02 + next() * 1.0));
        unsafe {
            libc::kill(child.id() as i32, libc::SIGKILL);
        }
        let _ = child.wait();
        let found = rows(&runs);
        assert!(found.len() <= 1, "try {k}: one run at most: {found:?}");
        let Some(row) = found.first() else {
            // Killed before its run existed: nothing to resume, nothing half made.
            before_run += 1;
            continue;
        };
        let id = row["id"].as_str().unwrap().to_string();
        let o = duplab(&["runs", "show", &id], &runs);
        assert!(o.status.success(), "try {k}: runs show: {}", text(&o));
        let status = row["status"].as_str().unwrap();
        match status {
            "finished" => after_end += 1,
            "interrupted" => {
                mid_run += 1;
                let o = duplab(
                    &["train", "--resume", &id, "--device", "cpu", "--plain"],
                    &runs,
                );
                assert!(o.status.success(), "try {k}: resume: {}", text(&o));
            }
            other => panic!("try {k}: a killed run reads as {other}"),
        }
        let got = metrics_without_time(&runs.join(&id));
        assert_eq!(got.len(), expect.len(), "try {k} ({status}): {got:?}");
        for (i, (a, b)) in got.iter().zip(&expect).enumerate() {
            assert_eq!(a, b, "try {k} ({status}), record {i}");
        }
    }
    eprintln!(
        "{tries} kills: {before_run} before the run existed, {mid_run} mid-run (resumed), {after_end} after it finished"
    );
    assert!(
        mid_run >= tries / 2,
        "most kills land mid-run: {mid_run} of {tries}"
    );
}
