//! DESIGN's arrows point down only. The crate boundary keeps burn and the terminal out of these
//! layers; this test keeps the order among them: `spec` is the bottom, `data` and `store` sit on
//! `spec` alone, and only `report` may read all three.

use std::path::Path;

/// Every `crate::LAYER` a layer's files name, with the file and line, for the layers it must not use.
fn uses(layer: &str, forbidden: &[&str]) -> Vec<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("src")
        .join(layer);
    let mut found = Vec::new();
    let mut stack = vec![dir];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "rs") {
                let text = std::fs::read_to_string(&p).unwrap();
                for (i, line) in text.lines().enumerate() {
                    for f in forbidden {
                        if line.contains(&format!("crate::{f}")) {
                            found.push(format!("{}:{}: {}", p.display(), i + 1, line.trim()));
                        }
                    }
                }
            }
        }
    }
    found
}

#[test]
fn layers_only_reach_down() {
    let mut bad = uses("spec", &["data", "store", "report"]);
    bad.extend(uses("data", &["store", "report"]));
    bad.extend(uses("store", &["data", "report"]));
    assert!(
        bad.is_empty(),
        "a layer reaches up or sideways:\n{}",
        bad.join("\n")
    );
}

#[test]
fn the_scan_sees_a_layers_own_imports() {
    // Guard against a scan that finds nothing because it reads the wrong folder.
    assert!(!uses("data", &["spec"]).is_empty());
}
