//! The real binary in a real terminal (tmux), driven as a person would: open the lab, pick a
//! preset, start a short run, wait until the runs table shows it finished, compare it with
//! another run, quit, and check the shell prompt works afterwards.

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

#[test]
fn lab_in_tmux_trains_compares_and_restores_the_terminal() {
    if Command::new("tmux").arg("-V").output().is_err() {
        assert!(
            std::env::var("CI").is_err(),
            "tmux is required in CI (.ci/run installs it)"
        );
        eprintln!("SKIPPED: tmux is not installed");
        return;
    }
    let bin = env!("CARGO_BIN_EXE_duplab");
    let dir = tempfile::tempdir().unwrap();
    let presets = dir.path().join("presets");
    std::fs::create_dir(&presets).unwrap();
    let default =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("presets/default.toml"))
            .unwrap();
    let tiny = default
        .replace("name = \"default\"", "name = \"zz-tiny\"")
        .replace("epochs = 5", "steps = 8\neval_every = 4")
        .replace("batch_size = 128", "batch_size = 32")
        .replace("limit = 500", "limit = 50");
    std::fs::write(presets.join("zz-tiny.toml"), tiny).unwrap();
    let runs = dir.path().join("runs");
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
