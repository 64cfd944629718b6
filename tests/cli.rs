//! The real binary, driven as a script would.

mod common;
use common::{duplab, metrics_without_time, text, train_args};
use std::path::Path;
use std::process::Command;

/// A grid of tiny runs (6 steps on the embedded set): two duplication points, `seeds` a TOML list.
fn tiny_grid(dir: &Path, name: &str, seeds: &str) -> std::path::PathBuf {
    let grid = dir.join("g.toml");
    std::fs::write(
        &grid,
        format!(
            r#"
name = "{name}"
base = "default"
seeds = {seeds}
[set]
"training.steps" = 6
"training.eval_every" = 3
"training.batch_size" = 16
"attack.eval.kind" = "none"
[[axes]]
name = "dup"
values = [{{ label = "0", set = {{ "duplication.rate" = 0.0 }} }}, {{ label = "30", set = {{ "duplication.rate" = 0.3 }} }}]
"#
        ),
    )
    .unwrap();
    grid
}

#[path = "../crates/duplab-core/src/test_data.rs"]
mod test_data;
use test_data::shared_data as shared;

#[test]
fn inspect_real_mnist_prints_published_counts() {
    let Some(dir) = shared("mnist") else { return };
    let tmp = tempfile::tempdir().unwrap();
    let o = duplab(
        &["data", "inspect", "--data-dir", dir.to_str().unwrap()],
        tmp.path(),
    );
    let t = text(&o);
    assert!(o.status.success(), "{t}");
    assert!(
        t.contains("train      60,000 images") && t.contains("test       10,000 images"),
        "{t}"
    );
    assert!(
        t.lines()
            .any(|l| l.trim_start().starts_with("1  1 ") && l.contains("6,742")),
        "{t}"
    );
    assert!(
        t.lines()
            .any(|l| l.trim_start().starts_with("5  5 ") && l.trim_end().ends_with("892")),
        "{t}"
    );
}

#[test]
fn inspect_real_fashion_mnist_is_balanced() {
    let Some(dir) = shared("fashion-mnist") else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let o = duplab(
        &["data", "inspect", "--data-dir", dir.to_str().unwrap()],
        tmp.path(),
    );
    let t = text(&o);
    assert!(o.status.success(), "{t}");
    assert_eq!(
        t.lines()
            .filter(|l| l.contains("6,000") && l.contains("1,000"))
            .count(),
        10,
        "{t}"
    );
    assert!(t.contains("Ankle boot"), "{t}");
}

#[test]
fn truncated_real_file_is_one_paragraph_and_nonzero() {
    let Some(dir) = shared("mnist") else { return };
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("mnist");
    std::fs::create_dir(&data).unwrap();
    for f in std::fs::read_dir(&dir).unwrap() {
        let f = f.unwrap().path();
        std::fs::copy(&f, data.join(f.file_name().unwrap())).unwrap();
    }
    let p = data.join("train-images-idx3-ubyte.gz");
    let bytes = std::fs::read(&p).unwrap();
    std::fs::write(&p, &bytes[..bytes.len() / 2]).unwrap();
    let o = duplab(
        &["data", "inspect", "--data-dir", data.to_str().unwrap()],
        tmp.path(),
    );
    let err = String::from_utf8_lossy(&o.stderr).to_string();
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.starts_with("error: ")
            && err.contains("train-images-idx3-ubyte.gz")
            && err.contains("gzip"),
        "{err}"
    );
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "one paragraph: {err}");
}

#[test]
fn bad_preset_field_names_file_field_and_allowed_values() {
    let tmp = tempfile::tempdir().unwrap();
    let p = tmp.path().join("bad.toml");
    let text_in =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("presets/default.toml"))
            .unwrap();
    std::fs::write(
        &p,
        text_in.replace("model = \"small-cnn\"", "model = \"transformer\""),
    )
    .unwrap();
    let o = duplab(&["presets", p.to_str().unwrap()], tmp.path());
    let err = String::from_utf8_lossy(&o.stderr).to_string();
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains("bad.toml")
            && err.contains("transformer")
            && err.contains("small-cnn")
            && err.contains("lenet"),
        "{err}"
    );
    assert!(!err.contains("panicked"), "{err}");

    let o = duplab(
        &["presets", "default", "--set", "duplication.rate=2"],
        tmp.path(),
    );
    let err = String::from_utf8_lossy(&o.stderr).to_string();
    assert_eq!(o.status.code(), Some(1));
    assert!(
        err.contains("duplication.rate") && err.contains("[0, 1]"),
        "{err}"
    );
}

#[test]
fn skewed_preset_plan_histogram_matches_the_plan() {
    let tmp = tempfile::tempdir().unwrap();
    let o = duplab(
        &["data", "inspect", "--preset", "default-skewed"],
        tmp.path(),
    );
    let t = text(&o);
    assert!(o.status.success(), "{t}");
    // 60 % of classes 0 and 1 (1,000 images each) are copied once; the others are not.
    let row = |c: usize| {
        t.lines()
            .find(|l| l.trim_start().starts_with(&format!("{c}  ")) && l.contains('%'))
            .unwrap()
            .to_string()
    };
    let cols = |l: String| l.split_whitespace().map(String::from).collect::<Vec<_>>();
    let r0 = cols(row(0));
    assert!(
        r0.contains(&"600".to_string()) && r0.contains(&"1600".to_string()),
        "{t}"
    );
    let r5 = cols(row(5));
    assert!(
        r5.contains(&"0".to_string()) && r5.iter().filter(|c| *c == "1000").count() == 2,
        "{t}"
    );
    assert!(t.contains("10,000 → 11,200"), "{t}");
}

#[test]
fn presets_list_and_show_with_parameter_count() {
    let tmp = tempfile::tempdir().unwrap();
    let o = duplab(&["presets"], tmp.path());
    let t = text(&o);
    assert!(
        o.status.success() && t.contains("default-skewed") && t.contains("cifar10-pgd-60"),
        "{t}"
    );
    let o = duplab(&["presets", "mnist-lenet"], tmp.path());
    let t = text(&o);
    assert!(t.contains("61706 parameters"), "{t}");
}

#[test]
fn runs_commands_on_an_empty_store_and_bad_ids() {
    let tmp = tempfile::tempdir().unwrap();
    let o = duplab(&["runs", "ls"], tmp.path());
    assert!(
        o.status.success() && text(&o).contains("no runs"),
        "{}",
        text(&o)
    );
    let o = duplab(&["runs", "ls", "--json"], tmp.path());
    assert_eq!(String::from_utf8_lossy(&o.stdout).trim(), "[]");
    let o = duplab(&["runs", "show", "../etc"], tmp.path());
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o).contains("not a run id"), "{}", text(&o));
}

#[test]
fn no_tty_names_the_headless_commands() {
    let tmp = tempfile::tempdir().unwrap();
    let o = duplab(&[], tmp.path());
    let t = text(&o);
    assert_eq!(o.status.code(), Some(2), "{t}");
    assert!(
        t.contains("not a terminal") && t.contains("duplab train"),
        "{t}"
    );
}

#[test]
fn headless_train_writes_a_complete_run_and_exports_it() {
    let tmp = tempfile::tempdir().unwrap();
    let o = duplab(
        &train_args(
            "default",
            &[
                "training.steps=6",
                "training.eval_every=3",
                "attack.eval.limit=64",
            ],
        ),
        tmp.path(),
    );
    let t = text(&o);
    assert!(o.status.success(), "{t}");
    assert!(t.contains("finished") && t.contains("robust acc"), "{t}");
    let o = duplab(&["runs", "ls", "--json"], tmp.path());
    let rows: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let row = &rows[0];
    assert_eq!(row["status"], "finished");
    assert!(
        row["robust_acc"].is_number() && row["test_acc"].is_number(),
        "{row}"
    );
    let id = row["id"].as_str().unwrap();
    let o = duplab(&["runs", "export", id, "--csv"], tmp.path());
    let csv = String::from_utf8_lossy(&o.stdout).to_string();
    assert!(csv.starts_with("evaluation,step,train_loss"), "{csv}");
    assert_eq!(csv.lines().count(), 3, "header + 2 evaluations: {csv}");
    // TensorBoard and PyTorch exports of the same run.
    let tb = tmp.path().join("tb");
    let o = duplab(
        &["runs", "export", id, "--tensorboard", tb.to_str().unwrap()],
        tmp.path(),
    );
    assert!(o.status.success(), "{}", text(&o));
    let files: Vec<_> = std::fs::read_dir(&tb).unwrap().collect();
    assert_eq!(files.len(), 1);
    let pt = tmp.path().join("pt");
    let o = duplab(
        &["runs", "export", id, "--pytorch", pt.to_str().unwrap()],
        tmp.path(),
    );
    assert!(o.status.success(), "{}", text(&o));
    assert!(pt.join("model.safetensors").exists() && pt.join("duplab_model.py").exists());
    let o = duplab(&["runs", "stop", id], tmp.path());
    assert!(
        !o.status.success() && text(&o).contains("is not training (status finished)"),
        "{}",
        text(&o)
    );
    let o = duplab(&["runs", "show", &id[id.len() - 6..]], tmp.path());
    assert!(text(&o).contains("T-shirt/top"), "{}", text(&o));
    // A later robust evaluation of the finished run, written into it.
    let o = duplab(
        &[
            "eval", id, "--attack", "fgsm", "--eps", "0.2", "--limit", "32", "--device", "cpu",
        ],
        tmp.path(),
    );
    let t = text(&o);
    assert!(o.status.success(), "{t}");
    assert!(
        t.contains("robust acc") && t.contains("fgsm L∞ ε=0.2") && t.contains("32 images"),
        "{t}"
    );
    // APGD-CE (Croce & Hein 2020) through the same command.
    let o = duplab(
        &[
            "eval", id, "--attack", "apgd-ce", "--eps", "0.1", "--steps", "5", "--limit", "16",
            "--device", "cpu",
        ],
        tmp.path(),
    );
    assert!(
        o.status.success() && text(&o).contains("apgd-ce-5 L∞ ε=0.1"),
        "{}",
        text(&o)
    );
    // The evaluation card: the ladder, the probes, the flags; kept in the run.
    let o = duplab(
        &[
            "eval",
            id,
            "--card",
            "--eps",
            "0.1",
            "--steps",
            "3",
            "--restarts",
            "1",
            "--targets",
            "2",
            "--limit",
            "16",
            "--device",
            "cpu",
        ],
        tmp.path(),
    );
    let t = text(&o);
    assert!(o.status.success(), "{t}");
    for want in [
        "fgsm L∞ ε=0.1",
        "pgd-3 L∞ ε=0.1",
        "apgd-ce-3 L∞ ε=0.1",
        "apgd-t-3 L∞ ε=0.1 (2 targets)",
        "probes",
        "flag",
    ] {
        assert!(t.contains(want), "{want}: {t}");
    }
    let o = duplab(&["runs", "show", id], tmp.path());
    assert!(
        text(&o).contains("card       16 test images"),
        "{}",
        text(&o)
    );
    // A second evaluation under another attack is added beside the first, keyed by its attack;
    // neither overwrites the training-time robust accuracy.
    let before = duplab(&["runs", "show", id], tmp.path());
    let o = duplab(
        &[
            "eval", id, "--attack", "pgd", "--eps", "0.1", "--steps", "3", "--step", "0.05",
            "--limit", "16", "--device", "cpu",
        ],
        tmp.path(),
    );
    assert!(o.status.success(), "{}", text(&o));
    let o = duplab(&["runs", "show", id], tmp.path());
    let t = text(&o);
    assert!(
        t.contains("under fgsm L∞ ε=0.2 (any iterate) · step") && t.contains("· 32 images"),
        "{t}"
    );
    assert!(
        t.contains("under pgd-3 L∞ ε=0.1 (any iterate) · step 0.05") && t.contains("· 16 images"),
        "{t}"
    );
    let line = |s: &str| {
        s.lines()
            .find(|l| l.starts_with("robust acc"))
            .unwrap_or_default()
            .to_string()
    };
    assert_eq!(
        line(&t),
        line(&text(&before)),
        "the training-time robust accuracy stays"
    );
    let o = duplab(&["runs", "export", id, "--json"], tmp.path());
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(
        v["metrics"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["kind"] == "eval"),
        "{v}"
    );
}

#[test]
fn sweep_interrupted_then_rerun_finishes_without_redoing_points() {
    use std::io::{BufRead, BufReader};
    let tmp = tempfile::tempdir().unwrap();
    let grid = tiny_grid(tmp.path(), "tiny-sweep", "[0, 1]");
    let runs = tmp.path().join("runs");
    let mut child = Command::new(env!("CARGO_BIN_EXE_duplab"))
        .args(["sweep", grid.to_str().unwrap(), "--device", "cpu"])
        .env("DUPLAB_RUNS", &runs)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut seen = String::new();
    loop {
        let mut line = String::new();
        assert!(
            out.read_line(&mut line).unwrap() > 0,
            "sweep ended early:\n{seen}"
        );
        seen.push_str(&line);
        if line.contains("done ") {
            break;
        }
    }
    // Ctrl-C after the first point finished.
    unsafe {
        libc::kill(child.id() as i32, libc::SIGINT);
    }
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut out, &mut rest).unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130), "{seen}{rest}");
    // The run folders (the store's `.claims` folder is not a run).
    let first: Vec<String> = std::fs::read_dir(&runs)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .filter(|n| !n.starts_with('.'))
        .collect();

    let o = Command::new(env!("CARGO_BIN_EXE_duplab"))
        .args(["sweep", grid.to_str().unwrap(), "--device", "cpu"])
        .env("DUPLAB_RUNS", &runs)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    let t = text(&o);
    assert!(o.status.success(), "{t}");
    assert!(
        !t.contains("0 done"),
        "finished points are counted as done: {t}"
    );
    assert!(t.contains("complete: 4/4"), "{t}");
    // One run per point and seed: nothing redone, the interrupted one resumed in place.
    let o = duplab(&["runs", "ls", "--json"], &runs);
    let rows: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let rows = rows.as_array().unwrap();
    assert_eq!(rows.len(), 4, "{rows:?}");
    assert!(rows.iter().all(|r| r["status"] == "finished"), "{rows:?}");
    for id in first {
        assert!(
            rows.iter().any(|r| r["id"] == id.as_str()),
            "run {id} of the first attempt was kept"
        );
    }
}

#[test]
fn a_prepared_folder_trains_the_preset_written_into_it() {
    use duplab::store::{RunStatus, RunStore};
    let tmp = tempfile::tempdir().unwrap();
    let store = RunStore::new(tmp.path());
    // What the lab does on Enter: a folder under its chosen id, the resolved preset with the
    // user's unsaved edits in it.
    let edits = [
        "training.steps=4".to_string(),
        "training.eval_every=2".to_string(),
        "duplication.rate=0.3".to_string(),
        "attack.eval.limit=16".to_string(),
    ];
    let preset = duplab::spec::find_preset("default", &edits).unwrap();
    let id = "20260101-000000-default-abc123";
    let run = store.create_with_id(id).unwrap();
    run.write_preset(&preset).unwrap();
    let o = duplab(
        &[
            "train",
            "--prepared",
            id,
            "--seed",
            "3",
            "--device",
            "cpu",
            "--plain",
        ],
        tmp.path(),
    );
    assert!(o.status.success(), "{}", text(&o));
    let run = store.open(id).unwrap();
    assert_eq!(run.status(), RunStatus::Finished);
    let config = run.require_config().unwrap();
    assert_eq!(config.seed, 3);
    assert_eq!(config.preset, preset, "nothing the user edited is lost");
    assert_eq!(store.runs().unwrap().len(), 1, "no second folder");
    // Started twice: refused, the finished run untouched.
    let o = duplab(&["train", "--prepared", id, "--device", "cpu"], tmp.path());
    assert!(
        !o.status.success() && text(&o).contains("was started before"),
        "{}",
        text(&o)
    );
    // A folder without a preset: a clear error, and the folder says why nothing trains.
    let bare = store
        .create_with_id("20260101-000001-default-def456")
        .unwrap();
    let o = duplab(
        &["train", "--prepared", &bare.id, "--device", "cpu"],
        tmp.path(),
    );
    assert!(
        !o.status.success() && text(&o).contains("has no preset.toml"),
        "{}",
        text(&o)
    );
    assert_eq!(bare.status(), RunStatus::Failed);
    assert!(
        bare.summary()
            .unwrap()
            .unwrap()
            .error
            .unwrap()
            .contains("has no preset.toml")
    );
}

/// The second gap of the crash-consistency work: a folder the lab prepared whose trainer was
/// killed before it wrote `config.json` could not be resumed ("no config.json"), since the seed
/// the lab chose lived only on the trainer's command line. The lab now records it in the folder,
/// and `--resume` continues such a run as it was launched.
#[test]
fn a_lab_run_killed_before_its_config_resumes_as_launched() {
    use duplab::store::{RunStatus, RunStore};
    let tmp = tempfile::tempdir().unwrap();
    let store = RunStore::new(tmp.path());
    let edits = [
        "training.steps=4".to_string(),
        "training.eval_every=2".to_string(),
        "attack.eval.kind=none".to_string(),
    ];
    let preset = duplab::spec::find_preset("default", &edits).unwrap();
    // What the lab leaves when its trainer dies before the config: the folder with preset and
    // seed, owned by a process that is gone.
    let id = "20260101-000000-default-0dead0";
    let run = store
        .create_staged_with_id(id, |r| {
            r.write_preset(&preset)?;
            r.write_launch(&duplab::store::Launch::seeded(5))
        })
        .unwrap();
    let mut gone = Command::new("true").spawn().unwrap();
    gone.wait().unwrap();
    run.set_owner(gone.id()).unwrap();
    assert_eq!(run.status(), RunStatus::Interrupted);
    let o = duplab(
        &["train", "--resume", id, "--device", "cpu", "--plain"],
        tmp.path(),
    );
    assert!(o.status.success(), "{}", text(&o));
    let config = run.require_config().unwrap();
    assert_eq!(config.seed, 5, "the seed the lab chose");
    assert_eq!(config.preset, preset);
    assert_eq!(run.status(), RunStatus::Finished);
    // `--prepared` without `--seed` takes the recorded seed too.
    let id = "20260101-000001-default-0dead1";
    store
        .create_staged_with_id(id, |r| {
            r.write_preset(&preset)?;
            r.write_launch(&duplab::store::Launch::seeded(7))
        })
        .unwrap();
    let o = duplab(
        &["train", "--prepared", id, "--device", "cpu", "--plain"],
        tmp.path(),
    );
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(store.open(id).unwrap().require_config().unwrap().seed, 7);
    // A sweep's point killed before its config: resumed by hand, it stays the sweep's point
    // (its launch record names them), and a second resume by hand keeps them in the config.
    let duplab::store::PointTake::Start(point) = store.take_point("g", "p", 2, &preset).unwrap()
    else {
        panic!("a new point starts");
    };
    point.set_owner(gone.id()).unwrap();
    let o = duplab(
        &["train", "--resume", &point.id, "--device", "cpu", "--plain"],
        tmp.path(),
    );
    assert!(o.status.success(), "{}", text(&o));
    let c = point.require_config().unwrap();
    assert_eq!(
        (c.seed, c.sweep.as_deref(), c.point.as_deref()),
        (2, Some("g"), Some("p"))
    );
    std::fs::write(point.dir.join("status"), "interrupted\n").unwrap();
    let o = duplab(
        &["train", "--resume", &point.id, "--device", "cpu", "--plain"],
        tmp.path(),
    );
    assert!(o.status.success(), "{}", text(&o));
    let c = point.require_config().unwrap();
    assert_eq!(
        (c.sweep.as_deref(), c.point.as_deref()),
        (Some("g"), Some("p"))
    );
    // Killed before the lab wrote anything of it: nothing to resume, said so.
    let bare = store
        .create_with_id("20260101-000002-default-0dead2")
        .unwrap();
    bare.set_owner(gone.id()).unwrap();
    let o = duplab(
        &["train", "--resume", &bare.id, "--device", "cpu"],
        tmp.path(),
    );
    assert!(
        !o.status.success() && text(&o).contains("nothing to resume"),
        "{}",
        text(&o)
    );
}

#[test]
fn dedup_removes_the_training_sets_own_near_duplicates_and_records_them() {
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("cache");
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_duplab"))
            .args(args)
            .env("DUPLAB_RUNS", tmp.path().join("runs"))
            .env("DUPLAB_CACHE", &cache)
            .env_remove("DUPLAB_DATA")
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .unwrap()
    };
    let o = run(&[
        "train",
        "--set",
        "duplication.dedup=true",
        "--set",
        "training.steps=2",
        "--set",
        "training.eval_every=2",
        "--set",
        "attack.eval.limit=8",
        "--device",
        "cpu",
        "--plain",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    // The embedded subset holds 7 pairs within 0.05 in 5 groups: 6 images go.
    let o = run(&["runs", "ls", "--json"]);
    let rows: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let id = rows[0]["id"].as_str().unwrap().to_string();
    let o = run(&["runs", "show", &id]);
    let t = text(&o);
    assert!(
        t.contains("dedup      6 near-duplicates removed (≤ 0.05: 7 pairs, 5 groups), 9994 training images left; per class [0, 1, 3, 2, 0, 0, 0, 0, 0, 0]"),
        "{t}"
    );
    assert!(
        cache.join("pairs").read_dir().unwrap().count() >= 1,
        "the pairs are cached for the next run"
    );
    let o = run(&[
        "train",
        "--set",
        "duplication.dedup_threshold=1.5",
        "--device",
        "cpu",
    ]);
    assert!(
        !o.status.success()
            && text(&o).contains("duplication.dedup_threshold")
            && text(&o).contains("allowed: an RMS pixel distance in [0, 1]"),
        "{}",
        text(&o)
    );
}

#[test]
fn an_image_folder_is_inspected_trained_and_searched_for_duplicates() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("pics");
    // Two classes of 12×12 grey PNGs, 6 train + 2 test each; one training image copied exactly.
    for (c, name) in [(0u8, "circle"), (1, "square")] {
        for i in 0..8u8 {
            let split = if i < 6 { "train" } else { "test" };
            let dir = root.join(split).join(name);
            std::fs::create_dir_all(&dir).unwrap();
            let img = image::GrayImage::from_fn(12, 12, |x, y| {
                image::Luma([((x * 17 + y * 5) as u8)
                    .wrapping_mul(c + 1)
                    .wrapping_add(i * 29)])
            });
            img.save(dir.join(format!("{i}.png"))).unwrap();
        }
    }
    std::fs::copy(
        root.join("train/circle/0.png"),
        root.join("train/circle/0-copy.png"),
    )
    .unwrap();
    let preset = tmp.path().join("pics.toml");
    let default =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("presets/default.toml"))
            .unwrap();
    let p = default
        .replace("name = \"default\"", "name = \"pics\"")
        .replace(
            "set = \"embedded\"",
            &format!(
                "set = \"folder\"\npath = \"{}\"\nsize = [28, 28]",
                root.display()
            ),
        );
    assert!(
        p.contains("set = \"folder\""),
        "the default preset names its data set:\n{p}"
    );
    std::fs::write(&preset, p).unwrap();
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_duplab"))
            .args(args)
            .env("DUPLAB_RUNS", tmp.path().join("runs"))
            .env("DUPLAB_CACHE", tmp.path().join("cache"))
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .unwrap()
    };
    let o = run(&["data", "inspect", "--preset", preset.to_str().unwrap()]);
    let t = text(&o);
    assert!(o.status.success(), "{t}");
    assert!(
        t.contains("circle") && t.contains("square") && t.contains("1×28×28"),
        "{t}"
    );
    let o = run(&[
        "data",
        "dups",
        "--preset",
        preset.to_str().unwrap(),
        "--pairs",
        "train",
        "--json",
    ]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect(&text(&o));
    assert_eq!(v["scopes"][0]["exact"], 1, "the copied image: {v}");
    let o = run(&[
        "train",
        "--preset",
        preset.to_str().unwrap(),
        "--set",
        "training.steps=2",
        "--set",
        "training.eval_every=2",
        "--set",
        "attack.eval.limit=4",
        "--device",
        "cpu",
        "--plain",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("finished"), "{}", text(&o));
    // Without a size, images of two sizes are refused with the two files named.
    image::GrayImage::new(9, 9)
        .save(root.join("train/square/odd.png"))
        .unwrap();
    let o = run(&["data", "inspect", "--data-dir", root.to_str().unwrap()]);
    assert!(
        !o.status.success() && text(&o).contains("data.size"),
        "{}",
        text(&o)
    );
}

/// Two sweeps of one grid at once (two shells, or a resubmitted job): every point is trained
/// once, by whichever sweep claimed it first; the other skips it.
#[test]
fn two_sweeps_of_one_grid_at_once_train_each_point_once() {
    let tmp = tempfile::tempdir().unwrap();
    let grid = tiny_grid(tmp.path(), "twice", "[0]");
    let runs = tmp.path().join("runs");
    let start = || {
        Command::new(env!("CARGO_BIN_EXE_duplab"))
            .args(["sweep", grid.to_str().unwrap(), "--device", "cpu"])
            .env("DUPLAB_RUNS", &runs)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (a, b) = (start(), start());
    let (a, b) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
    assert!(a.status.success(), "{}", text(&a));
    assert!(b.status.success(), "{}", text(&b));
    let o = duplab(&["runs", "ls", "--json"], &runs);
    let rows: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let rows = rows.as_array().unwrap();
    assert_eq!(
        rows.len(),
        2,
        "one run per point: {rows:?}\n{}\n{}",
        text(&a),
        text(&b)
    );
    assert!(rows.iter().all(|r| r["status"] == "finished"), "{rows:?}");
}

/// Case 7 of the ownership issue: `--jobs 2` ran points as threads of one process, which share
/// burn's process-wide random generator. Each point is now a child process: the metrics of a
/// sweep with two at a time equal those of one at a time.
#[test]
fn a_sweep_with_two_jobs_writes_the_same_metrics_as_with_one() {
    let tmp = tempfile::tempdir().unwrap();
    let grid = tiny_grid(tmp.path(), "jobs", "[0]");
    let mut by_point = vec![];
    for jobs in ["1", "2"] {
        let runs = tmp.path().join(format!("runs-{jobs}"));
        let o = duplab(
            &[
                "sweep",
                grid.to_str().unwrap(),
                "--device",
                "cpu",
                "--jobs",
                jobs,
            ],
            &runs,
        );
        assert!(o.status.success(), "{}", text(&o));
        let o = duplab(&["runs", "ls", "--json"], &runs);
        let rows: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        let mut m: Vec<(String, Vec<serde_json::Value>)> = rows
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                let dir = runs.join(r["id"].as_str().unwrap());
                (
                    r["point"].as_str().unwrap().to_string(),
                    metrics_without_time(&dir),
                )
            })
            .collect();
        m.sort_by(|a, b| a.0.cmp(&b.0));
        assert_eq!(m.len(), 2, "{rows:?}");
        assert!(m.iter().all(|(_, v)| v.len() > 2), "{m:?}");
        by_point.push(m);
    }
    for ((p, one), (_, two)) in by_point[0].iter().zip(&by_point[1]) {
        for (k, (a, b)) in one.iter().zip(two).enumerate() {
            assert_eq!(
                a, b,
                "point {p}, record {k}: --jobs 2 trained other numbers than --jobs 1"
            );
        }
        assert_eq!(one.len(), two.len(), "point {p}");
    }
}

/// Case 2 of the ownership issue: a run whose owner is named on another host (a shared store on
/// a cluster) counted as live forever, and so did a pid reused on this host: `runs ls` said
/// running, `--resume` refused. With leases, a foreign owner whose heartbeat is older than the
/// expiry, or a pid whose start time is not the recorded one, is gone: the run is interrupted
/// and resumes; a live owner is released only by hand, with --force.
#[test]
fn a_dead_owner_on_another_host_or_a_reused_pid_does_not_hold_a_run() {
    let tmp = tempfile::tempdir().unwrap();
    let o = duplab(
        &[
            "train",
            "--set",
            "training.steps=6",
            "--set",
            "training.eval_every=3",
            "--set",
            "attack.eval.kind=none",
            "--device",
            "cpu",
            "--plain",
        ],
        tmp.path(),
    );
    assert!(o.status.success(), "{}", text(&o));
    let o = duplab(&["runs", "ls", "--json"], tmp.path());
    let rows: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let id = rows[0]["id"].as_str().unwrap().to_string();
    let dir = tmp.path().join(&id);
    let status = |runs: &Path| -> String {
        let o = duplab(&["runs", "ls", "--json"], runs);
        let rows: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        rows[0]["status"].as_str().unwrap().to_string()
    };
    let here = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .unwrap()
        .trim()
        .to_string();
    // What a trainer killed on node7 leaves behind, ten minutes ago; in the run's latest epoch.
    let owned_by = |pid: u32, host: &str, extra: &str, age_s: u64| {
        let epoch = std::fs::read_dir(dir.join("owners")).unwrap().count();
        std::fs::write(dir.join("status"), "running\n").unwrap();
        std::fs::write(dir.join("pid"), format!("{pid} {host}\n")).unwrap();
        let lease = dir.join("lease");
        std::fs::write(
            &lease,
            format!(
                r#"{{"epoch":{epoch},"host":"{host}","pid":{pid},"beat":41,"every_s":0.2{extra}}}"#
            ),
        )
        .unwrap();
        let t = std::time::SystemTime::now() - std::time::Duration::from_secs(age_s);
        std::fs::File::options()
            .write(true)
            .open(&lease)
            .unwrap()
            .set_modified(t)
            .unwrap();
    };
    owned_by(4242, "node7", "", 600);
    assert_eq!(status(tmp.path()), "interrupted", "a dead node's run");
    let o = duplab(&["runs", "show", &id], tmp.path());
    assert!(text(&o).contains("no heartbeat"), "{}", text(&o));
    let o = duplab(
        &["train", "--resume", &id, "--device", "cpu", "--plain"],
        tmp.path(),
    );
    assert!(o.status.success(), "resumed: {}", text(&o));
    assert_eq!(status(tmp.path()), "finished");
    // Fresh (written just now) on another host: live, refused with its owner named.
    owned_by(4242, "node7", "", 0);
    assert_eq!(status(tmp.path()), "running");
    let o = duplab(&["train", "--resume", &id, "--device", "cpu"], tmp.path());
    assert!(
        !o.status.success() && text(&o).contains("process 4242 on node7"),
        "{}",
        text(&o)
    );
    // A pid of this host that now names another process (its start time differs).
    let mut other = Command::new("sleep").arg("30").spawn().unwrap();
    owned_by(other.id(), &here, r#","start":1"#, 0);
    assert_eq!(
        status(tmp.path()),
        "interrupted",
        "a reused pid is not the trainer"
    );
    // The same process as the owner, start time and all: live; released only by force.
    let stat = std::fs::read_to_string(format!("/proc/{}/stat", other.id())).unwrap();
    let start = stat
        .rsplit_once(')')
        .unwrap()
        .1
        .split_whitespace()
        .nth(19)
        .unwrap()
        .to_string();
    owned_by(other.id(), &here, &format!(r#","start":{start}"#), 0);
    assert_eq!(status(tmp.path()), "running");
    let o = duplab(&["runs", "release", &id], tmp.path());
    assert!(
        !o.status.success() && text(&o).contains("--force"),
        "{}",
        text(&o)
    );
    let o = duplab(&["runs", "release", &id, "--force"], tmp.path());
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(status(tmp.path()), "interrupted");
    other.kill().unwrap();
    other.wait().unwrap();
}

/// Two classes of 12×12 grey PNGs under `root` (train and test), drawn from `seed`.
fn write_pics(root: &Path, seed: u8) {
    for (c, name) in [(0u8, "circle"), (1, "square")] {
        for i in 0..8u8 {
            let split = if i < 6 { "train" } else { "test" };
            let dir = root.join(split).join(name);
            std::fs::create_dir_all(&dir).unwrap();
            let img = image::GrayImage::from_fn(12, 12, |x, y| {
                image::Luma([((x * 17 + y * 5) as u8)
                    .wrapping_mul(c + 1)
                    .wrapping_add(i * 29)
                    .wrapping_add(seed)])
            });
            img.save(dir.join(format!("{i}.png"))).unwrap();
        }
    }
}

/// Case 3 of the crash-consistency issue: `--resume` trusted the data. A relative `data.path`
/// resumed from another working directory trained the rest of the run on other images and
/// rewrote `config.json`. Now it is refused, naming both and the part that differs (the labels
/// and the test split are compared too), and the run is left as it was; `--set` with `--resume`
/// is an error rather than ignored.
#[test]
fn a_resume_on_other_data_is_refused_and_loses_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    write_pics(&a.join("pics"), 0);
    write_pics(&b.join("pics"), 101);
    let default =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("presets/default.toml"))
            .unwrap();
    let preset = tmp.path().join("pics.toml");
    std::fs::write(
        &preset,
        default
            .replace("name = \"default\"", "name = \"pics\"")
            .replace(
                "set = \"embedded\"",
                "set = \"folder\"\npath = \"pics\"\nsize = [28, 28]",
            ),
    )
    .unwrap();
    let runs = tmp.path().join("runs");
    let run_in = |cwd: &Path, args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_duplab"))
            .args(args)
            .env("DUPLAB_RUNS", &runs)
            .env("DUPLAB_CACHE", tmp.path().join("cache"))
            .current_dir(cwd)
            .output()
            .unwrap()
    };
    let o = run_in(
        &a,
        &train_args(
            preset.to_str().unwrap(),
            &[
                "training.steps=6",
                "training.eval_every=3",
                "attack.eval.kind=none",
            ],
        ),
    );
    assert!(o.status.success(), "{}", text(&o));
    let id = std::fs::read_dir(&runs)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().to_string())
        .find(|n| !n.starts_with('.'))
        .unwrap();
    let dir = runs.join(&id);
    std::fs::write(dir.join("status"), "interrupted\n").unwrap();
    let config = std::fs::read(dir.join("config.json")).unwrap();
    let o = run_in(
        &b,
        &["train", "--resume", &id, "--device", "cpu", "--plain"],
    );
    let t = text(&o);
    assert!(!o.status.success(), "resumed on other data: {t}");
    assert!(
        t.contains("other data") && t.contains("training images"),
        "{t}"
    );
    // The same training images with another test split: the evaluations would measure other
    // images, so this too is other data.
    let c = tmp.path().join("c");
    for (from, split) in [(&a, "train"), (&b, "test")] {
        for class in ["circle", "square"] {
            let to = c.join("pics").join(split).join(class);
            std::fs::create_dir_all(&to).unwrap();
            for f in std::fs::read_dir(from.join("pics").join(split).join(class)).unwrap() {
                let f = f.unwrap();
                std::fs::copy(f.path(), to.join(f.file_name())).unwrap();
            }
        }
    }
    let o = run_in(
        &c,
        &["train", "--resume", &id, "--device", "cpu", "--plain"],
    );
    let t = text(&o);
    assert!(!o.status.success(), "resumed on another test split: {t}");
    assert!(t.contains("other data") && t.contains("test images"), "{t}");
    assert_eq!(
        std::fs::read(dir.join("config.json")).unwrap(),
        config,
        "the evidence is kept"
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("status")).unwrap().trim(),
        "interrupted"
    );
    let o = run_in(
        &a,
        &[
            "train",
            "--resume",
            &id,
            "--set",
            "training.steps=9",
            "--device",
            "cpu",
        ],
    );
    assert!(
        !o.status.success() && text(&o).contains("--set"),
        "{}",
        text(&o)
    );
    let o = run_in(
        &a,
        &["train", "--resume", &id, "--device", "cpu", "--plain"],
    );
    assert!(
        o.status.success(),
        "the run's own data resumes it: {}",
        text(&o)
    );
}

/// Case 4 of the crash-consistency issue: `nohup duplab train` still stopped at logout (the
/// SIGHUP it inherited ignored was replaced by a stop). Started with SIGHUP ignored, it trains on
/// through one and finishes.
#[test]
fn an_inherited_ignored_sighup_stays_ignored() {
    use std::io::{BufRead, BufReader};
    use std::os::unix::process::CommandExt;
    let tmp = tempfile::tempdir().unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_duplab"));
    cmd.args([
        "train",
        "--set",
        "training.steps=400",
        "--set",
        "training.eval_every=200",
        "--set",
        "attack.eval.kind=none",
        "--device",
        "cpu",
        "--plain",
    ])
    .env("DUPLAB_RUNS", tmp.path())
    .current_dir(env!("CARGO_MANIFEST_DIR"))
    .stdout(std::process::Stdio::piped())
    .stderr(std::process::Stdio::null());
    // SAFETY: signal() is async-signal-safe; what `nohup` does before it execs.
    unsafe {
        cmd.pre_exec(|| {
            libc::signal(libc::SIGHUP, libc::SIG_IGN);
            Ok(())
        });
    }
    let mut child = cmd.spawn().unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut seen = String::new();
    while !seen.contains("steps (") {
        let mut line = String::new();
        assert!(out.read_line(&mut line).unwrap() > 0, "ended early: {seen}");
        seen.push_str(&line);
    }
    unsafe {
        libc::kill(child.id() as i32, libc::SIGHUP);
    }
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut out, &mut rest).unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0), "{seen}{rest}");
    assert!(rest.contains("finished"), "{seen}{rest}");
}

/// Case 4 of the crash-consistency issue: TERM then HUP quit at once, without a checkpoint,
/// leaving `running` on disk. Only a second Ctrl-C quits at once now: the run checkpoints and
/// reads `interrupted`, resumable.
#[test]
fn term_then_hup_still_checkpoints() {
    use std::io::{BufRead, BufReader};
    let tmp = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_duplab"))
        .args([
            "train",
            "--set",
            "training.steps=4000",
            "--set",
            "training.eval_every=2000",
            "--set",
            "attack.eval.kind=none",
            "--device",
            "cpu",
            "--plain",
        ])
        .env("DUPLAB_RUNS", tmp.path())
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut seen = String::new();
    while !seen.contains("steps (") {
        let mut line = String::new();
        assert!(out.read_line(&mut line).unwrap() > 0, "ended early: {seen}");
        seen.push_str(&line);
    }
    unsafe {
        libc::kill(child.id() as i32, libc::SIGTERM);
        libc::kill(child.id() as i32, libc::SIGHUP);
    }
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut out, &mut rest).unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130), "{seen}{rest}");
    assert!(
        rest.contains("interrupted"),
        "stopped with a checkpoint: {seen}{rest}"
    );
    let o = duplab(&["runs", "ls", "--json"], tmp.path());
    let rows: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(rows[0]["status"], "interrupted", "{rows}");
    let dir = tmp.path().join(rows[0]["id"].as_str().unwrap());
    assert!(
        dir.join("checkpoints/state.json").exists(),
        "a checkpoint to resume from"
    );
}

/// The catastrophic-overfitting alarm, on the preset that overfits on purpose: its checks run
/// every 50 steps (not only at evaluations), the alarm fires, and with `training.stop_on_overfit`
/// the run ends at the first alarm, between evaluations — evaluated (robust accuracy included),
/// checkpointed and finished there, its summary saying why. Before, the check ran only at
/// evaluations (the first could never fire) and a single image fewer under FGSM suppressed it.
#[test]
fn a_run_that_overfits_catastrophically_raises_the_alarm() {
    use duplab::store::{MetricRecord, RunStatus, RunStore};
    let tmp = tempfile::tempdir().unwrap();
    let o = duplab(
        &train_args(
            "default-overfit",
            &[
                "training.stop_on_overfit=true",
                // One evaluation, at the end: the alarm falls between evaluations.
                "training.eval_every=400",
                "attack.eval.limit=64",
            ],
        ),
        tmp.path(),
    );
    let t = text(&o);
    assert!(o.status.success(), "{t}");
    assert!(t.contains("⚠ catastrophic overfitting"), "{t}");
    let store = RunStore::new(tmp.path());
    let run = store.runs().unwrap().pop().unwrap();
    assert_eq!(run.status(), RunStatus::Finished);
    let metrics = run.metrics().unwrap();
    let checks: Vec<_> = metrics
        .iter()
        .filter_map(|m| match m {
            MetricRecord::Overfit(o) => Some(*o),
            _ => None,
        })
        .collect();
    assert!(checks.iter().all(|c| c.step % 50 == 0), "{checks:?}");
    let alarm = checks.last().unwrap();
    assert!(
        alarm.stat.alarm,
        "the run ended at its first alarm: {checks:?}"
    );
    assert_eq!(
        checks.iter().filter(|c| c.stat.alarm).count(),
        1,
        "{checks:?}"
    );
    assert!(alarm.step < 400, "ended early, at step {}", alarm.step);
    // Evaluated at the alarm's step, and the summary says why it ended.
    let last_eval = metrics
        .iter()
        .filter_map(|m| match m {
            MetricRecord::Epoch(e) => Some(e.step),
            _ => None,
        })
        .last();
    assert_eq!(last_eval, Some(alarm.step));
    let summary = run.summary().unwrap().unwrap();
    assert!(
        summary
            .early_stop
            .as_deref()
            .is_some_and(|w| w.contains("catastrophic overfitting")),
        "{:?}",
        summary.early_stop
    );
    assert_eq!(summary.steps_done, alarm.step);
    assert!(
        summary.robust_acc.is_some(),
        "the early end is the final evaluation: robust accuracy measured"
    );
}

/// The doctor lists this machine's adapters as `--device gpu:N` numbers them, says what `auto`
/// takes, and shows none of the drivers' headless noise; an adapter number out of range is an
/// error that lists the adapters.
#[test]
fn doctor_numbers_the_adapters_and_a_wrong_number_lists_them() {
    let tmp = tempfile::tempdir().unwrap();
    // As on a headless server: no runtime folder, so the drivers would complain.
    let headless = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_duplab"))
            .args(args)
            .env("DUPLAB_RUNS", tmp.path())
            .env_remove("XDG_RUNTIME_DIR")
            .output()
            .unwrap()
    };
    let o = headless(&["doctor", "--no-bench"]);
    let out = String::from_utf8_lossy(&o.stdout).to_string();
    let err = String::from_utf8_lossy(&o.stderr).to_string();
    assert_eq!(o.status.code(), Some(0), "{err}");
    for part in [
        "Vulkan loader",
        "ICD files",
        "adapters",
        "--device auto",
        "kernel cache",
        "known fixes",
    ] {
        assert!(out.contains(part), "{part}: {out}");
    }
    assert!(!err.contains("XDG_RUNTIME_DIR"), "{err}");
    let o = headless(&[
        "train", "--preset", "default", "--device", "gpu:99", "--plain",
    ]);
    let err = text(&o);
    assert_ne!(o.status.code(), Some(0));
    assert!(!err.contains("XDG_RUNTIME_DIR"), "{err}");
    assert!(
        err.contains("--device gpu:99: this machine has") && err.contains("gpu:0"),
        "{err}"
    );
    // A preset's training.device applies when the command line names none, and yields to it.
    let args = [
        "train",
        "--preset",
        "default",
        "--set",
        "training.device=gpu:99",
        "--plain",
    ];
    let o = duplab(&args, tmp.path());
    let err = text(&o);
    assert!(err.contains("--device gpu:99: this machine has"), "{err}");
    // train_args ends with --device cpu, which must win over the preset's gpu:99.
    let small = [
        "training.device=gpu:99",
        "training.steps=2",
        "training.eval_every=2",
        "attack.eval.kind=none",
    ];
    let o = duplab(&train_args("default", &small), tmp.path());
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let o = duplab(
        &["presets", "default", "--set", "training.device=tpu"],
        tmp.path(),
    );
    let err = text(&o);
    assert!(
        err.contains("training.device") && err.contains("gpu:N"),
        "{err}"
    );
    let o = duplab(&["train", "--device", "tpu"], tmp.path());
    let err = text(&o);
    assert!(err.contains("allowed: auto, gpu, gpu:N"), "{err}");
}

/// A sweep given no `--device` leaves each point's device to its preset: a grid whose points say
/// `training.device = "gpu:99"` fails with that adapter named (it used to pass `--device auto`
/// to every point, which silently trained them on the CPU). With `--device cpu` the sweep's
/// choice wins and the points train.
#[test]
fn a_sweep_without_device_trains_each_point_where_its_preset_says() {
    let tmp = tempfile::tempdir().unwrap();
    let grid = tiny_grid(tmp.path(), "device", "[0]");
    let text_of = std::fs::read_to_string(&grid).unwrap();
    std::fs::write(
        &grid,
        text_of.replace("[set]\n", "[set]\n\"training.device\" = \"gpu:99\"\n"),
    )
    .unwrap();
    let runs = tmp.path().join("runs");
    let o = duplab(&["sweep", grid.to_str().unwrap(), "--jobs", "1"], &runs);
    let out = text(&o);
    assert_ne!(o.status.code(), Some(0), "{out}");
    assert!(
        out.contains("gpu:99: this machine has"),
        "the preset's device reached the point: {out}"
    );
    let runs = tmp.path().join("runs-cpu");
    let o = duplab(&["sweep", grid.to_str().unwrap(), "--device", "cpu"], &runs);
    assert!(o.status.success(), "{}", text(&o));
}
