//! What the binary's integration tests share: running the real binary on a store, its output as
//! text, and a run's metrics without the fields that measure time.
#![allow(dead_code)]

use std::path::Path;
use std::process::{Command, Output};

/// `duplab ARGS` on the run store `runs`, from the repository root, without a data folder.
pub fn duplab(args: &[&str], runs: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_duplab"))
        .args(args)
        .env("DUPLAB_RUNS", runs)
        .env_remove("DUPLAB_DATA")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("the binary runs")
}

/// `duplab train --preset PRESET --set S… --device cpu --plain`: the arguments of a small
/// headless run on the CPU.
pub fn train_args<'a>(preset: &'a str, sets: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec!["train", "--preset", preset];
    for s in sets {
        args.extend(["--set", s]);
    }
    args.extend(["--device", "cpu", "--plain"]);
    args
}

/// stdout then stderr, for messages.
pub fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// What a run's metrics say, without the fields that measure time: two runs of one point and
/// seed (side by side, or interrupted and resumed) must agree on every one of these.
pub fn metrics_without_time(run_dir: &Path) -> Vec<serde_json::Value> {
    fn strip(v: &mut serde_json::Value) {
        match v {
            serde_json::Value::Object(m) => {
                m.retain(|k, _| {
                    !(k.ends_with("_s")
                        || k == "seconds"
                        || k.contains("per_s")
                        || k.contains("time")
                        || k.ends_with("_at"))
                });
                m.values_mut().for_each(strip);
            }
            serde_json::Value::Array(a) => a.iter_mut().for_each(strip),
            _ => {}
        }
    }
    std::fs::read_to_string(run_dir.join("metrics.jsonl"))
        .unwrap()
        .lines()
        .map(|l| {
            let mut v: serde_json::Value =
                serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: a broken line {l:?}"));
            strip(&mut v);
            v
        })
        .collect()
}
