//! The result tables of the README and the docs are generated from the committed reports
//! (`duplab report --docs FILE`): this test renders every block again from the report.json it
//! names and requires the file to be unchanged, byte for byte. A number, a bold or a verdict
//! edited by hand, or a report recomputed without updating the docs, fails here.

use duplab::report::membership::MembershipReport;
use duplab::report::{BEGIN_MARKER, BlockSource, SweepReport, read_block_source, render_blocks};
use std::path::Path;

fn load(p: &str) -> Result<SweepReport, String> {
    SweepReport::read(&Path::new(env!("CARGO_MANIFEST_DIR")).join(p))
}

#[test]
fn the_docs_result_tables_are_the_committed_reports() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = vec![root.join("README.md")];
    for e in std::fs::read_dir(root.join("docs")).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "md") {
            files.push(p);
        }
    }
    let mut blocks = 0;
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        blocks += text.matches(BEGIN_MARKER).count();
        let source = |p: &str| -> Result<Box<dyn BlockSource>, String> {
            read_block_source(&Path::new(env!("CARGO_MANIFEST_DIR")).join(p))
        };
        let again =
            render_blocks(&text, &source).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        if again != text {
            let line = text
                .lines()
                .zip(again.lines())
                .position(|(a, b)| a != b)
                .map_or(text.lines().count(), |i| i + 1);
            panic!(
                "{} line {line}: a generated table differs from its report; run `duplab report --docs {}`",
                f.display(),
                f.strip_prefix(root).unwrap().display()
            );
        }
    }
    assert!(
        blocks >= 4,
        "the README and docs/results.md hold the studies' tables ({blocks} blocks)"
    );
}

/// The committed reports are what their grids' declared families give today: a family edited in
/// `presets/study-*.toml`, or a verdict or p edited in a report.json, fails here.
#[test]
fn the_committed_reports_test_what_their_grids_declare() {
    for name in ["study-default", "study-memorisation"] {
        let committed = load(&format!("results/{name}/report.json")).unwrap();
        let grid = duplab::spec::load_grid(name).unwrap();
        assert!(!grid.family.is_empty(), "{name} declares its family");
        let again = SweepReport::new(
            committed.title.clone(),
            committed.sweep.clone(),
            committed.points.clone(),
            Some((grid.family.as_slice(), grid.alpha)),
            committed.cards.clone(),
        );
        assert_eq!(
            again.family, committed.family,
            "results/{name}: run `duplab report --from results/{name}`"
        );
        let md = std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("results/{name}/report.md")),
        )
        .unwrap();
        assert_eq!(md, again.markdown(), "results/{name}/report.md");
    }
}

/// A committed membership study's Markdown is what its membership.json renders today: the
/// findings' bold and verdicts are the code's, from the numbers in the JSON.
#[test]
fn the_committed_membership_report_is_its_json_rendered() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("results/study-membership");
    let report = MembershipReport::read(&dir.join("membership.json")).unwrap();
    let md = std::fs::read_to_string(dir.join("membership.md")).unwrap();
    assert_eq!(
        md,
        report.markdown(),
        "results/study-membership/membership.md"
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("membership.csv")).unwrap(),
        report.csv()
    );
    assert!(report.arms.len() >= 2 && report.arms.iter().all(|a| a.targets.len() >= 16));
}
