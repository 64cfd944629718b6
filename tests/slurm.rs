//! The emitted sbatch array on a real Slurm (one node, no GPU gres; `.ci/slurm-up.sh` brings one
//! up as root in seconds). Required where `DUPLAB_TEST_SLURM=1` (CI sets it once the cluster is
//! up): there it fails rather than skips.

mod common;
use common::{duplab, text};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

fn slurm_required() -> bool {
    std::env::var("DUPLAB_TEST_SLURM").is_ok_and(|v| v == "1")
}

/// Whether a Slurm controller answers here; `false` (with a note) when it is absent and not
/// required.
fn slurm_here() -> bool {
    let up = Command::new("scontrol")
        .arg("ping")
        .output()
        .is_ok_and(|o| o.status.success() && String::from_utf8_lossy(&o.stdout).contains("UP"));
    if !up {
        assert!(
            !slurm_required(),
            "DUPLAB_TEST_SLURM=1 but no Slurm controller answers (run .ci/slurm-up.sh as root)"
        );
        eprintln!("SKIPPED: no Slurm controller here (set DUPLAB_TEST_SLURM=1 to require one)");
    }
    up
}

/// A grid of `steps`-step CPU runs on the embedded set: two duplication points × `seeds`.
fn grid(dir: &Path, name: &str, seeds: &str, steps: usize, axis: bool) -> PathBuf {
    let path = dir.join(format!("{name}.toml"));
    let values = if axis {
        r#"[{ label = "0", set = { "duplication.rate" = 0.0 } }, { label = "30", set = { "duplication.rate" = 0.3 } }]"#
    } else {
        r#"[{ label = "0", set = { "duplication.rate" = 0.0 } }]"#
    };
    std::fs::write(
        &path,
        format!(
            r#"
name = "{name}"
base = "default"
seeds = {seeds}
[set]
"training.steps" = {steps}
"training.eval_every" = {eval}
"training.batch_size" = 16
"attack.eval.kind" = "none"
[[axes]]
name = "dup"
values = {values}
"#,
            eval = (steps / 10).max(3)
        ),
    )
    .unwrap();
    path
}

/// Emit the sweep's script and submit it; returns the job id.
fn submit(script: &Path, runs: &Path, dir: &Path) -> String {
    let o = Command::new("sbatch")
        .arg("--parsable")
        .arg(script)
        .env("DUPLAB", env!("CARGO_BIN_EXE_duplab"))
        .env("DUPLAB_RUNS", runs)
        .env_remove("DUPLAB_DATA")
        .current_dir(dir)
        .output()
        .expect("sbatch runs");
    assert!(o.status.success(), "sbatch: {}", text(&o));
    String::from_utf8_lossy(&o.stdout)
        .trim()
        .split(';')
        .next()
        .unwrap()
        .to_string()
}

fn emit(grid: &Path, runs: &Path, dir: &Path, name: &str) -> PathBuf {
    let script = dir.join(format!("{name}.sbatch"));
    let o = duplab(
        &[
            "sweep",
            grid.to_str().unwrap(),
            "--device",
            "cpu",
            "--emit",
            "slurm",
            "--out",
            script.to_str().unwrap(),
        ],
        runs,
    );
    assert!(o.status.success(), "{}", text(&o));
    script
}

/// Whether any task of `job` is still queued or running.
fn queued(job: &str) -> bool {
    let o = Command::new("squeue")
        .args(["-h", "-j", job, "-o", "%i %T"])
        .output()
        .expect("squeue runs");
    !String::from_utf8_lossy(&o.stdout).trim().is_empty()
}

fn wait_for(jobs: &[&str], limit: Duration) {
    let t = Instant::now();
    while jobs.iter().any(|j| queued(j)) {
        assert!(
            t.elapsed() < limit,
            "jobs {jobs:?} still queued after {limit:?}"
        );
        std::thread::sleep(Duration::from_millis(500));
    }
}

fn rows(runs: &Path) -> Vec<serde_json::Value> {
    let o = duplab(&["runs", "ls", "--json"], runs);
    assert!(o.status.success(), "{}", text(&o));
    serde_json::from_slice::<serde_json::Value>(&o.stdout)
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
}

fn logs(dir: &Path) -> String {
    let mut all = String::new();
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            all.push_str(&format!("--- {}\n", e.path().display()));
            all.push_str(&std::fs::read_to_string(e.path()).unwrap_or_default());
        }
    }
    all
}

/// A 4-point array submitted twice at once, then once more after it ended: every point trained
/// exactly once, finished, with its job id and its task log in its run folder.
#[test]
fn an_array_submitted_twice_at_once_and_again_trains_every_point_once() {
    if !slurm_here() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let runs = tmp.path().join("runs");
    let g = grid(tmp.path(), "slurm-twice", "[0, 1]", 6, true);
    let script = emit(&g, &runs, tmp.path(), "twice");
    let (a, b) = (
        submit(&script, &runs, tmp.path()),
        submit(&script, &runs, tmp.path()),
    );
    wait_for(&[&a, &b], Duration::from_secs(600));
    let third = submit(&script, &runs, tmp.path());
    wait_for(&[&third], Duration::from_secs(300));
    let rows = rows(&runs);
    let why = || format!("{rows:#?}\n{}", logs(&runs.join(".slurm")));
    assert_eq!(rows.len(), 4, "one run per point and seed: {}", why());
    let mut keys: Vec<(String, u64)> = rows
        .iter()
        .map(|r| {
            (
                r["point"].as_str().unwrap_or("?").to_string(),
                r["seed"].as_u64().unwrap_or(99),
            )
        })
        .collect();
    keys.sort();
    keys.dedup();
    assert_eq!(keys.len(), 4, "each point once: {}", why());
    for r in &rows {
        assert_eq!(r["status"], "finished", "{}", why());
        let job = r["job"].as_str().unwrap_or_default();
        assert!(
            job.starts_with(&format!("{a}_")) || job.starts_with(&format!("{b}_")),
            "the job id of the task that trained it: {}",
            why()
        );
        let dir = runs.join(r["id"].as_str().unwrap());
        let log = std::fs::read_dir(&dir)
            .unwrap()
            .flatten()
            .find(|e| e.file_name().to_string_lossy().starts_with("task-"))
            .unwrap_or_else(|| panic!("no task log in {}: {}", dir.display(), why()));
        let text = std::fs::read_to_string(log.path()).unwrap();
        assert!(text.contains("finished"), "the task's own log: {text}");
    }
    let o = duplab(&["runs", "ls"], &runs);
    assert!(
        text(&o).contains("JOB"),
        "runs ls shows the job: {}",
        text(&o)
    );
}

/// A task cancelled mid-run (scancel) leaves its run interrupted with its checkpoint; the
/// array submitted again resumes that run in place and finishes it.
#[test]
fn a_cancelled_task_is_resumed_by_a_resubmission() {
    if !slurm_here() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let runs = tmp.path().join("runs");
    let g = grid(tmp.path(), "slurm-cancel", "[0]", 4000, false);
    let script = emit(&g, &runs, tmp.path(), "cancel");
    let job = submit(&script, &runs, tmp.path());
    // Wait for its first checkpoint.
    let t = Instant::now();
    let run_dir = loop {
        assert!(
            t.elapsed() < Duration::from_secs(300),
            "no checkpoint: {}",
            logs(&runs.join(".slurm"))
        );
        let found = std::fs::read_dir(&runs).ok().and_then(|rd| {
            rd.flatten()
                .map(|e| e.path())
                .find(|p| p.join("checkpoints").join("state.json").exists())
        });
        if let Some(d) = found {
            break d;
        }
        assert!(
            queued(&job),
            "the task ended early: {}",
            logs(&runs.join(".slurm"))
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    let o = Command::new("scancel").arg(&job).output().unwrap();
    assert!(o.status.success(), "{}", text(&o));
    wait_for(&[&job], Duration::from_secs(120));
    let id = run_dir.file_name().unwrap().to_string_lossy().to_string();
    let before = rows(&runs);
    assert_eq!(before.len(), 1, "{before:?}");
    assert_eq!(
        before[0]["status"], "interrupted",
        "a cancelled task leaves its run resumable: {before:?}"
    );
    let again = submit(&script, &runs, tmp.path());
    wait_for(&[&again], Duration::from_secs(600));
    let after = rows(&runs);
    assert_eq!(
        after.len(),
        1,
        "resumed in place, not started anew: {after:?}"
    );
    assert_eq!(after[0]["id"], id.as_str());
    assert_eq!(
        after[0]["status"],
        "finished",
        "{after:?}\n{}",
        logs(&runs.join(".slurm"))
    );
    assert_eq!(after[0]["steps_done"], 4000, "{after:?}");
}
