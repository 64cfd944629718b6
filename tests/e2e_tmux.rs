//! The real binary in a real terminal (tmux), driven as a person would: open the lab, pick a
//! preset, start a short run, wait until the runs table shows it finished, compare it with
//! another run, quit, and check the shell prompt works afterwards. Then the terminal is closed
//! the hard way (its tmux session killed, so the pty goes away): a run in its own process trains
//! on and a lab started again shows it; a run on the lab's own thread is checkpointed.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

fn tmux(args: &[&str]) -> String {
    // UTF-8 whatever the caller's locale: the lab draws box characters and arrows.
    let o = Command::new("tmux")
        .arg("-u")
        .args(args)
        .env("LANG", "C.UTF-8")
        .output()
        .expect("tmux runs");
    String::from_utf8_lossy(&o.stdout).to_string()
}

struct Session(String);

impl Drop for Session {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["kill-session", "-t", &self.0])
            .output();
    }
}

fn screen(s: &Session) -> String {
    tmux(&["capture-pane", "-p", "-t", &s.0])
}

fn keys(s: &Session, k: &[&str]) {
    let mut args = vec!["send-keys", "-t", &s.0];
    args.extend_from_slice(k);
    tmux(&args);
    std::thread::sleep(Duration::from_millis(400));
}

fn wait_for(s: &Session, what: &str, secs: u64, pred: impl Fn(&str) -> bool) -> String {
    let t0 = Instant::now();
    loop {
        let sc = screen(s);
        if pred(&sc) {
            return sc;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(secs),
            "timed out waiting for {what}; screen:\n{sc}"
        );
        std::thread::sleep(Duration::from_millis(500));
    }
}

fn have_tmux() -> bool {
    if Command::new("tmux").arg("-V").output().is_err() {
        assert!(
            std::env::var("CI").is_err(),
            "tmux is required in CI (.ci/run installs it)"
        );
        eprintln!("SKIPPED: tmux is not installed");
        return false;
    }
    true
}

/// A copy of the default preset under `name`, training `steps` small steps.
fn tiny_preset(presets: &Path, name: &str, steps: usize, eval_every: usize) {
    let default =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("presets/default.toml"))
            .unwrap();
    let tiny = default
        .replace("name = \"default\"", &format!("name = \"{name}\""))
        .replace(
            "epochs = 5",
            &format!("steps = {steps}\neval_every = {eval_every}"),
        )
        .replace("batch_size = 128", "batch_size = 32")
        .replace("limit = 500", "limit = 50");
    std::fs::write(presets.join(format!("{name}.toml")), tiny).unwrap();
}

/// Ends every trainer process the store's runs name, whatever happened in the test.
struct Trainers(std::path::PathBuf);

impl Trainers {
    fn pids(&self) -> Vec<i32> {
        std::fs::read_dir(&self.0)
            .map(|rd| {
                rd.filter_map(|e| e.ok())
                    .filter_map(|e| std::fs::read_to_string(e.path().join("lease")).ok())
                    .filter_map(|t| {
                        let lease: serde_json::Value = serde_json::from_str(&t).ok()?;
                        // A trainer that ended gave its run up: nothing to kill.
                        if lease["ended"] == true {
                            return None;
                        }
                        Some(lease["pid"].as_i64()? as i32)
                    })
                    .collect()
            })
            .unwrap_or_default()
    }
}

impl Drop for Trainers {
    fn drop(&mut self) {
        for pid in self.pids() {
            kill9(pid);
        }
    }
}

/// Ends one process when the test ends, however it ends.
struct Killed(i32);

impl Drop for Killed {
    fn drop(&mut self) {
        kill9(self.0);
    }
}

fn kill9(pid: i32) {
    if pid > 1 && pid != std::process::id() as i32 {
        let _ = Command::new("kill").args(["-9", &pid.to_string()]).output();
    }
}

fn alive(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| Some(s.rsplit_once(')')?.1.split_whitespace().next()? != "Z"))
        .unwrap_or(false)
}

/// The single run folder whose id contains `preset`.
fn run_dir(runs: &Path, preset: &str) -> std::path::PathBuf {
    let found: Vec<_> = std::fs::read_dir(runs)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().contains(preset))
        .map(|e| e.path())
        .collect();
    assert_eq!(found.len(), 1, "{found:?}");
    found[0].clone()
}

fn status(dir: &Path) -> String {
    std::fs::read_to_string(dir.join("status"))
        .unwrap_or_default()
        .trim()
        .to_string()
}

fn wait_until(what: &str, secs: u64, pred: impl Fn() -> bool) {
    wait_until_saying(secs, pred, || format!("timed out waiting for {what}"));
}

/// `wait_until`, whose failure message is made when it fails (to say what was seen then).
fn wait_until_saying(secs: u64, pred: impl Fn() -> bool, failure: impl Fn() -> String) {
    let t0 = Instant::now();
    while !pred() {
        assert!(t0.elapsed() < Duration::from_secs(secs), "{}", failure());
        std::thread::sleep(Duration::from_millis(300));
    }
}

/// A lab started as the tmux session's own command (no shell between), so that killing the
/// session takes its terminal away as a dropped link does.
fn lab_session(name: &str, dir: &Path, args: &str) -> Session {
    lab_session_under(
        name,
        dir,
        &format!("exec {} {args}", env!("CARGO_BIN_EXE_duplab")),
    )
}

/// A session whose command is `lab` (a shell line) in `dir`, with the test's presets and runs.
fn lab_session_under(name: &str, dir: &Path, lab: &str) -> Session {
    let s = Session(format!("duplab-{name}-{}", std::process::id()));
    let cmd = format!(
        "cd {d} && export DUPLAB_PRESETS={d}/presets DUPLAB_RUNS={d}/runs && {lab}",
        d = dir.display(),
    );
    tmux(&[
        "new-session",
        "-d",
        "-s",
        &s.0,
        "-x",
        "120",
        "-y",
        "40",
        &cmd,
    ]);
    s
}

#[test]
fn lab_in_tmux_trains_compares_and_restores_the_terminal() {
    if !have_tmux() {
        return;
    }
    let bin = env!("CARGO_BIN_EXE_duplab");
    let dir = tempfile::tempdir().unwrap();
    let presets = dir.path().join("presets");
    std::fs::create_dir(&presets).unwrap();
    tiny_preset(&presets, "zz-tiny", 8, 4);
    let runs = dir.path().join("runs");
    let _trainers = Trainers(runs.clone());
    // Another run to compare with, trained headless first.
    let o = Command::new(bin)
        .args([
            "train", "--preset", "zz-tiny", "--device", "cpu", "--seed", "1",
        ])
        .env("DUPLAB_PRESETS", &presets)
        .env("DUPLAB_RUNS", &runs)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));

    let s = Session(format!("duplab-e2e-{}", std::process::id()));
    tmux(&[
        "new-session",
        "-d",
        "-s",
        &s.0,
        "-x",
        "120",
        "-y",
        "40",
        "bash --norc --noprofile",
    ]);
    std::thread::sleep(Duration::from_millis(500));
    let cmd = format!(
        "cd {} && DUPLAB_PRESETS={} DUPLAB_RUNS={} {bin}",
        dir.path().display(),
        presets.display(),
        runs.display()
    );
    keys(&s, &[&cmd, "Enter"]);
    wait_for(&s, "the presets screen", 20, |sc| {
        sc.contains("duplication plan")
    });
    // The last preset is ours; device cpu; Enter launches.
    keys(&s, &["G"]);
    wait_for(&s, "zz-tiny selected", 5, |sc| sc.contains("▶ zz-tiny"));
    keys(&s, &["d"]);
    keys(&s, &["Enter"]);
    wait_for(&s, "the live screen", 20, |sc| {
        sc.contains("run 1/1") && sc.contains("zz-tiny")
    });
    keys(&s, &["3"]);
    let sc = wait_for(&s, "two finished runs in the table", 180, |sc| {
        sc.matches("finished").count() >= 2
    });
    assert!(sc.contains("zz-tiny"), "{sc}");
    keys(&s, &["g", "Space", "Space", "c"]);
    let sc = wait_for(&s, "the compare screen", 10, |sc| {
        sc.contains("summary (Δ vs the first run")
    });
    assert!(
        sc.contains("seeds"),
        "runs differing only by seed are grouped:\n{sc}"
    );
    keys(&s, &["q"]);
    wait_for(&s, "the lab to quit", 10, |sc| !sc.contains("4 Compare"));
    keys(&s, &["echo prompt-$((20+22))", "Enter"]);
    wait_for(&s, "a usable prompt", 10, |sc| sc.contains("prompt-42"));
}

#[test]
fn detached_runs_outlive_the_terminal_and_a_new_lab_reattaches() {
    if !have_tmux() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let presets = dir.path().join("presets");
    std::fs::create_dir(&presets).unwrap();
    // Sorted last, so `G` picks it; long enough to outlive the first lab.
    tiny_preset(&presets, "zz-long", 600, 200);
    tiny_preset(&presets, "zz-hold", 100_000, 50_000);
    let runs = dir.path().join("runs");
    let trainers = Trainers(runs.clone());

    let a = lab_session("detach-a", dir.path(), "");
    wait_for(&a, "the presets screen", 20, |sc| {
        sc.contains("duplication plan")
    });
    keys(&a, &["G"]);
    wait_for(&a, "zz-long selected", 5, |sc| sc.contains("▶ zz-long"));
    keys(&a, &["d", "Enter"]);
    wait_for(&a, "the run training", 60, |sc| {
        sc.contains("zz-long") && sc.contains("running") && sc.contains("training")
    });
    let long = run_dir(&runs, "zz-long");
    assert!(long.join("preset.toml").exists() && long.join("train.log").exists());
    let pids = trainers.pids();
    assert_eq!(pids.len(), 1);
    // The terminal goes away. The trainer, in a session of its own, does not notice.
    drop(a);
    std::thread::sleep(Duration::from_secs(1));
    assert!(alive(pids[0]), "the trainer outlives the lab's terminal");
    assert_eq!(status(&long), "running");

    // A lab started again shows the run live, then finished.
    let b = lab_session("detach-b", dir.path(), "");
    let id = long.file_name().unwrap().to_string_lossy().to_string();
    wait_for(&b, "the run re-attached live", 30, |sc| {
        sc.contains(&id) && sc.contains("running") && sc.contains("1 run is training")
    });
    wait_for(&b, "the run finished", 180, |sc| {
        sc.contains(&id) && sc.contains("finished")
    });
    assert_eq!(status(&long), "finished");
    assert!(long.join("model.safetensors").exists());

    // Pause, resume and stop a detached run from the lab.
    keys(&b, &["1", "G", "k"]);
    wait_for(&b, "zz-hold selected", 5, |sc| sc.contains("▶ zz-hold"));
    keys(&b, &["d", "Enter"]);
    wait_for(&b, "the second run training", 60, |sc| {
        sc.contains("zz-hold") && sc.contains("running") && sc.contains("training")
    });
    let hold = run_dir(&runs, "zz-hold");
    keys(&b, &["p"]);
    wait_for(&b, "paused", 20, |sc| sc.contains("zz-hold  paused"));
    assert_eq!(status(&hold), "paused");
    keys(&b, &["p"]);
    wait_for(&b, "running again", 20, |sc| {
        sc.contains("zz-hold  running")
    });
    keys(&b, &["x", "y"]);
    wait_for(&b, "stopped", 30, |sc| sc.contains("zz-hold  interrupted"));
    assert_eq!(status(&hold), "interrupted");
    assert!(hold.join("checkpoints/state.json").exists());
    // Nothing trains: quit asks nothing.
    keys(&b, &["q"]);
    wait_until("the lab to quit", 10, || {
        !tmux(&["list-sessions"]).contains(&b.0)
    });
}

#[test]
fn an_in_process_run_is_checkpointed_when_its_terminal_disappears() {
    if !have_tmux() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let presets = dir.path().join("presets");
    std::fs::create_dir(&presets).unwrap();
    tiny_preset(&presets, "zz-hold", 100_000, 50_000);
    let runs = dir.path().join("runs");
    let _trainers = Trainers(runs.clone());
    let s = lab_session("inproc", dir.path(), "--in-process");
    wait_for(&s, "the presets screen", 20, |sc| {
        sc.contains("duplication plan")
    });
    keys(&s, &["G", "d", "Enter"]);
    wait_for(&s, "the run training", 60, |sc| {
        sc.contains("zz-hold") && sc.contains("training") && sc.contains("in this lab")
    });
    let hold = run_dir(&runs, "zz-hold");
    // Wait for a step record, so there is training to lose.
    wait_until("a step record", 30, || {
        std::fs::read_to_string(hold.join("metrics.jsonl")).is_ok_and(|m| m.contains("\"step\""))
    });
    let lab: i32 = tmux(&["display", "-p", "-t", &s.0, "#{pane_pid}"])
        .trim()
        .parse()
        .unwrap();
    let _lab = Killed(lab);
    drop(s);
    // Say what was seen: a lab still alive with the run `running` is a lab that did not hear
    // the hangup (or hung on the way out); `failed` has its error in the summary.
    wait_until_saying(
        60,
        || status(&hold) == "interrupted",
        || {
            format!(
                "timed out waiting for the run's stop path: status {:?}, lab alive {}, summary {:?}",
                status(&hold),
                alive(lab),
                std::fs::read_to_string(hold.join("summary.json")).ok(),
            )
        },
    );
    let state = std::fs::read_to_string(hold.join("checkpoints/state.json")).unwrap();
    let step: usize = serde_json::from_str::<serde_json::Value>(&state).unwrap()["step"]
        .as_u64()
        .unwrap() as usize;
    let last_record = std::fs::read_to_string(hold.join("metrics.jsonl"))
        .unwrap()
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|v| v["step"].as_u64())
        .max()
        .unwrap() as usize;
    assert!(
        step >= last_record && step > 0,
        "checkpoint at step {step}, last record at {last_record}: the stop path wrote it"
    );
}

#[test]
fn a_lab_leaves_when_its_terminal_hangs_up_without_a_signal() {
    if !have_tmux() {
        return;
    }
    // A shell that ignores SIGHUP stands between the terminal and the lab, as under a
    // `trap "" HUP` wrapper: the kernel's hangup signal goes to that shell alone, so the lab must
    // notice the dead terminal itself (crossterm alone would read it in a busy loop forever).
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("presets")).unwrap();
    let bin = env!("CARGO_BIN_EXE_duplab");
    let s = lab_session_under(
        "nohup",
        dir.path(),
        &format!("trap '' HUP; {bin} --in-process; exit 0"),
    );
    wait_for(&s, "the presets screen", 20, |sc| {
        sc.contains("duplication plan")
    });
    let shell: i32 = tmux(&["display", "-p", "-t", &s.0, "#{pane_pid}"])
        .trim()
        .parse()
        .unwrap();
    let lab: i32 = std::fs::read_to_string(format!("/proc/{shell}/task/{shell}/children"))
        .unwrap()
        .split_whitespace()
        .next()
        .expect("the lab runs under the shell")
        .parse()
        .unwrap();
    // Whatever the outcome, no lab is left behind.
    let _lab = Killed(lab);
    drop(s);
    wait_until("the lab to leave its hung-up terminal", 15, || !alive(lab));
}
