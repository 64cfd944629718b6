//! Membership inference on real reference models (the embedded data, the CPU): a canary that
//! occurs 16 times is found at 0.1 % FPR far above the unique images, and with membership claims
//! that are not the models' own (images the target did not train on called members) every
//! attack is at chance.

mod common;
use common::{duplab, text};
use std::path::Path;

const MODELS: usize = 8;

fn grid(dir: &Path) -> std::path::PathBuf {
    let seeds: Vec<String> = (0..MODELS).map(|s| s.to_string()).collect();
    let text = format!(
        r#"name = "canary"
base = "default"
seeds = [{}]

[set]
"reference.models" = {MODELS}
"duplication.rate" = 0.01
"duplication.occurrences" = [16]
"training.steps" = 300
"training.eval_every" = 300
"attack.eval.kind" = "none"

[[axes]]
name = "training"
values = [{{ label = "standard", set = {{ "attack.train.kind" = "none" }} }}]
"#,
        seeds.join(", ")
    );
    let p = dir.join("canary.toml");
    std::fs::write(&p, text).unwrap();
    p
}

fn analyse(runs: &Path, out: &Path) -> serde_json::Value {
    let o = duplab(
        &[
            "membership",
            "--sweep",
            "canary",
            "--out",
            out.to_str().unwrap(),
            "--json",
        ],
        runs,
    );
    assert!(o.status.success(), "{}", text(&o));
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&o)))
}

/// (TPR at 0.1 %, TPR at 1 %, AUC) of an attack on a stratum, mean over targets.
fn cell(report: &serde_json::Value, attack: &str, stratum: &str) -> (f64, f64, f64) {
    let c = report["arms"][0]["cells"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["attack"] == attack && c["stratum"] == stratum)
        .unwrap_or_else(|| panic!("no cell {attack} {stratum}"));
    let m = |k: &str| c[k]["mean"].as_f64().unwrap();
    (m("tpr_01"), m("tpr_1"), m("auc"))
}

#[test]
fn a_planted_canary_is_found_at_low_fpr_and_false_members_score_at_chance() {
    let dir = tempfile::tempdir().unwrap();
    let runs = dir.path().join("runs");
    let g = grid(dir.path());
    let o = duplab(&["sweep", g.to_str().unwrap(), "--device", "cpu"], &runs);
    assert!(o.status.success(), "{}", text(&o));

    let out = dir.path().join("results");
    let report = analyse(&runs, &out);
    for f in [
        "membership.md",
        "membership.csv",
        "membership.json",
        "roc.svg",
    ] {
        assert!(out.join(f).is_file(), "{f}");
    }
    // 100 canaries (1 % of each class, 16 occurrences each) against ~5,000 unique members.
    let (k16_01, k16_1, k16_auc) = cell(&report, "lira-online-fixed", "k=16");
    let (k1_01, _, k1_auc) = cell(&report, "lira-online-fixed", "k=1 (unique)");
    // (Measured: 3.8 % against 0.12 % at 0.1 % FPR, AUC 0.65 against 0.51.)
    assert!(
        k16_01 > 0.02 && k16_01 > 5.0 * k1_01,
        "TPR at 0.1 % FPR: k=16 {k16_01}, unique {k1_01}"
    );
    assert!(
        k16_1 > 0.04 && k16_auc > k1_auc + 0.08,
        "{k16_1} {k16_auc} {k1_auc}"
    );
    // The verdict comes from the test: the canaries leak more than the unique images.
    let md = std::fs::read_to_string(out.join("membership.md")).unwrap();
    assert!(
        md.contains("k=16 − k=1 (unique): TPR at 0.1 % FPR +") && md.contains("— higher**"),
        "{md}"
    );

    // Every model's membership claims replaced by another model's: the images called members
    // are ones the target may never have seen, independently of what it trained on.
    let dirs: Vec<_> = std::fs::read_dir(&runs)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("reference.json").is_file())
        .collect();
    assert_eq!(dirs.len(), MODELS);
    let read = |p: &Path| -> serde_json::Value {
        serde_json::from_slice(&std::fs::read(p.join("reference.json")).unwrap()).unwrap()
    };
    let originals: Vec<serde_json::Value> = dirs.iter().map(|d| read(d)).collect();
    for (i, d) in dirs.iter().enumerate() {
        let mut r = originals[i].clone();
        r["members"] = originals[(i + 1) % MODELS]["members"].clone();
        r["shadowed"] = serde_json::json!([]);
        std::fs::write(d.join("reference.json"), r.to_string()).unwrap();
    }
    let null = analyse(&runs, &dir.path().join("null"));
    for attack in [
        "threshold",
        "lira-online-fixed",
        "lira-offline-fixed",
        "rmia",
    ] {
        let (_, tpr1, auc) = cell(&null, attack, "all");
        assert!((auc - 0.5).abs() < 0.03, "{attack}: AUC {auc}");
        assert!(tpr1 < 0.03, "{attack}: TPR at 1 % FPR {tpr1}");
    }
}
