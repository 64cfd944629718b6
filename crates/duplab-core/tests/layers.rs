//! The layers' arrows point down only (docs/architecture.md). The crate boundary keeps burn and the terminal out of these
//! layers; this test keeps the order among them: `spec` is the bottom, `data` and `store` sit on
//! `spec` alone, and only `report` may read all three.

use std::path::Path;

/// The crate-root modules a file's text names: `crate::X`, each name of `crate::{X, Y::…}`
/// (over several lines too), and `super::super::X` (from a layer's files, the crate root).
fn named_modules(text: &str) -> Vec<String> {
    let mut out = vec![];
    for prefix in ["crate::", "super::super::"] {
        let mut rest = text;
        while let Some(i) = rest.find(prefix) {
            rest = &rest[i + prefix.len()..];
            if let Some(list) = rest.strip_prefix('{') {
                let end = list.find('}').unwrap_or(list.len());
                for item in list[..end].split(',') {
                    let name: String = item
                        .trim()
                        .chars()
                        .take_while(|c| c.is_alphanumeric() || *c == '_')
                        .collect();
                    if !name.is_empty() {
                        out.push(name);
                    }
                }
            } else {
                out.push(
                    rest.chars()
                        .take_while(|c| c.is_alphanumeric() || *c == '_')
                        .collect(),
                );
            }
        }
    }
    out
}

/// Every forbidden layer a layer's files name, with the file.
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
                for m in named_modules(&text) {
                    if forbidden.contains(&m.as_str()) {
                        found.push(format!("{}: names crate::{m}", p.display()));
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
fn the_scan_sees_every_form_of_import() {
    // Guard against a scan that finds nothing because it reads the wrong folder.
    assert!(!uses("data", &["spec"]).is_empty());
    let text = "use crate::{\n    spec::Preset,\n    store::Run,\n};\nuse super::super::report::x;\nlet a = crate::data::load();";
    assert_eq!(named_modules(text), ["spec", "store", "data", "report"]);
}
