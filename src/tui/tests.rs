//! Screens rendered into `TestBackend` from fixture runs: insta snapshots of the text, and the
//! colours that carry meaning (clean vs robust).

use super::fixture::fixture_run;
use super::screenshot::{render, text};
use super::*;
use ratatui::style::Color;

fn fixture_store() -> (tempfile::TempDir, RunStore) {
    let dir = tempfile::tempdir().unwrap();
    let store = RunStore::new(dir.path().join("runs"));
    fixture_run(
        &store,
        "20261118-110000-default-aaaaaa",
        &[],
        0,
        0.86,
        Some(0.2),
    );
    fixture_run(
        &store,
        "20261118-110100-default-bbbbbb",
        &[],
        1,
        0.85,
        Some(0.21),
    );
    fixture_run(
        &store,
        "20261118-110200-default-cccccc",
        &["duplication.rate=0.3"],
        0,
        0.87,
        Some(0.18),
    );
    (dir, store)
}

/// Screen text with the temporary store path replaced, so snapshots are stable.
fn shot(a: &App, w: u16, h: u16) -> String {
    text(&render(a, w, h)).replace(&a.store.root.display().to_string(), "[store]")
}

fn app_on(store: &RunStore) -> App {
    let mut a = App::new(store.clone(), Options::default());
    a.effects.clear();
    a.runs.set_rows(crate::report::run_rows(store).unwrap());
    a
}

#[test]
fn presets_screen() {
    let (_d, store) = fixture_store();
    let a = app_on(&store);
    insta::assert_snapshot!("presets", shot(&a, 120, 32));
}

#[test]
fn runs_screen_with_marks() {
    let (_d, store) = fixture_store();
    let mut a = app_on(&store);
    a.screen = Screen::Runs;
    a.runs
        .marked
        .insert("20261118-110000-default-aaaaaa".into());
    insta::assert_snapshot!("runs", shot(&a, 120, 20));
}

#[test]
fn live_screen_of_a_stored_run() {
    let (_d, store) = fixture_store();
    let mut a = app_on(&store);
    a.open_stored(LiveRun::from_store(&store.open("aaaaaa").unwrap()));
    insta::assert_snapshot!("live", shot(&a, 120, 36));
}

#[test]
fn compare_screen_groups_seeds_and_diffs_configs() {
    let (_d, store) = fixture_store();
    let mut a = app_on(&store);
    a.screen = Screen::Compare;
    let ids: Vec<String> = store.runs().unwrap().into_iter().map(|r| r.id).collect();
    a.compare = screenshot_compare(&store, &ids).unwrap();
    assert_eq!(
        a.compare.groups.len(),
        1,
        "the two seeds of `default` form a group"
    );
    let diff = a.compare.diff();
    assert!(
        diff.iter().any(|(k, _)| k == "duplication.rate"),
        "{diff:?}"
    );
    assert!(diff.iter().any(|(k, _)| k == "seed"));
    insta::assert_snapshot!("compare", shot(&a, 140, 40));
}

#[test]
fn help_overlay_lists_this_screens_keys() {
    let (_d, store) = fixture_store();
    let mut a = app_on(&store);
    a.screen = Screen::Runs;
    a.show_help = true;
    let t = text(&render(&a, 100, 30));
    for (k, _) in keys::RUNS {
        assert!(t.contains(k), "help lacks {k}:\n{t}");
    }
}

#[test]
fn too_small_terminal_says_so() {
    let (_d, store) = fixture_store();
    let a = app_on(&store);
    let t = text(&render(&a, 60, 20));
    assert!(
        t.contains("terminal too small: 60×20") && t.contains("80×24"),
        "{t}"
    );
}

#[test]
fn clean_and_robust_have_their_own_colours_and_no_color_removes_them() {
    let (_d, store) = fixture_store();
    let mut a = app_on(&store);
    a.open_stored(LiveRun::from_store(&store.open("aaaaaa").unwrap()));
    let buf = render(&a, 120, 36);
    let find = |word: &str| -> Color {
        for y in 0..buf.area.height {
            let row: String = (0..buf.area.width)
                .map(|x| buf[(x, y)].symbol().to_string())
                .collect();
            if let Some(i) = row.find(word) {
                let x = row[..i].chars().count() as u16;
                return buf[(x, y)].fg;
            }
        }
        panic!("{word} not on screen");
    };
    assert_eq!(find("clean %"), CLEAN);
    assert_eq!(find("robust %"), ROBUST);
    assert_ne!(CLEAN, ROBUST);
    a.opts.color = false;
    let buf = render(&a, 120, 36);
    assert!(
        buf.content
            .iter()
            .all(|c| c.fg == Color::Reset && c.bg == Color::Reset),
        "NO_COLOR leaves no colour"
    );
}

#[test]
fn ascii_mode_draws_no_braille_or_box_characters() {
    let (_d, store) = fixture_store();
    let mut a = app_on(&store);
    a.opts.ascii = true;
    a.open_stored(LiveRun::from_store(&store.open("aaaaaa").unwrap()));
    let t = text(&render(&a, 120, 36));
    assert!(
        !t.chars().any(|c| ('\u{2800}'..='\u{28FF}').contains(&c)
            || ('\u{2500}'..='\u{257F}').contains(&c)
            || c == '█'),
        "{t}"
    );
}

#[test]
fn screenshots_render_to_svg() {
    let (_d, store) = fixture_store();
    let a = app_on(&store);
    let s = screenshot::svg(&render(&a, 100, 30));
    assert!(
        s.starts_with("<svg") && s.matches("<text").count() > 500,
        "one text element per drawn cell"
    );
    assert!(
        crate::report::svg_to_png_bytes(&s)
            .unwrap()
            .starts_with(b"\x89PNG")
    );
}
