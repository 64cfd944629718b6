//! Screens rendered into `TestBackend` from fixture runs: insta snapshots of the text, and the
//! colours that carry meaning (clean vs robust).

use super::screenshot::{render, text};
use super::*;
use crate::spec::find_preset;
use crate::store::{
    EpochRecord, MetricRecord, RobustRecord, RunConfig, RunStatus, StepRecord, Summary,
};
use ratatui::style::Color;

/// A finished run with fixed, plausible numbers (a fixture: snapshots need stable values).
pub fn fixture_run(
    store: &RunStore,
    id: &str,
    overrides: &[&str],
    seed: u64,
    acc: f64,
    robust: Option<f64>,
) {
    let preset = find_preset(
        "default",
        &overrides.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
    )
    .unwrap();
    let dir = store.root.join(id);
    std::fs::create_dir_all(dir.join("checkpoints")).unwrap();
    let run = store.open(id).unwrap_or(crate::store::Run {
        id: id.into(),
        dir: dir.clone(),
    });
    let ds_names: Vec<String> = crate::data::FASHION_CLASSES
        .iter()
        .map(|s| s.to_string())
        .collect();
    let rate = preset.duplication.rate.unwrap_or(0.0);
    let after: Vec<usize> = (0..10).map(|_| 1000 + (rate * 1000.0) as usize).collect();
    run.write_config(&RunConfig {
        id: id.into(),
        preset,
        seed,
        backend: "flex".into(),
        device: "CPU (2 threads)".into(),
        version: "test".into(),
        created_at: 1_795_000_000 + seed,
        data_source: "embedded".into(),
        train_checksum: "0".into(),
        plan_before: vec![1000; 10],
        plan_after: after.clone(),
        plan_chosen: after.iter().map(|a| a - 1000).collect(),
        class_names: ds_names,
        total_steps: 400,
        steps_per_epoch: 79,
        params: 206_922,
        sweep: None,
        point: None,
    })
    .unwrap();
    let mut w = run.metrics_writer().unwrap();
    for s in 1..=20 {
        let step = s * 20;
        let p = step as f64 / 400.0;
        w.append(&MetricRecord::Step(StepRecord {
            step,
            epoch: step as f64 / 79.0,
            loss: 2.3 * (1.0 - p) + 0.4 * p + if s % 3 == 0 { 0.05 } else { 0.0 },
            acc: 0.1 + (acc - 0.1) * p.sqrt(),
            lr: 0.05,
            images_per_s: 1500.0,
            unique_seen: (step * 128).min(10_000),
            dup_seen: 0,
            elapsed_s: step as f64 * 0.09,
        }))
        .unwrap();
    }
    let per_class: Vec<f64> = (0..10)
        .map(|c| (acc - 0.15 + 0.03 * c as f64).min(0.99))
        .collect();
    for e in 1..=4 {
        let f = e as f64 / 4.0;
        let rob = robust.filter(|_| e == 4).map(|r| RobustRecord {
            attack: "pgd-10 L∞ ε=0.1".into(),
            acc: r,
            loss: 3.0,
            per_class_acc: (0..10)
                .map(|c| (r - 0.1 + 0.02 * c as f64).max(0.0))
                .collect(),
            images: 500,
        });
        w.append(&MetricRecord::Epoch(EpochRecord {
            epoch: e,
            step: e * 100,
            test_loss: 1.0 - 0.5 * f,
            test_acc: acc - 0.2 * (1.0 - f),
            per_class_acc: per_class.clone(),
            confusion: vec![vec![0; 10]; 10],
            train_loss: 0.5,
            train_acc: acc,
            robust: rob,
            elapsed_s: e as f64 * 9.0,
        }))
        .unwrap();
    }
    run.write_summary(&Summary {
        epochs_done: 4,
        steps_done: 400,
        total_steps: 400,
        test_acc: Some(acc),
        best_test_acc: Some(acc),
        robust_acc: robust,
        per_class_acc: per_class,
        duration_s: 36.0,
        train_size: after.iter().sum(),
        distinct_images: 10_000,
        finished_at: Some(1_795_000_100),
        ..Default::default()
    })
    .unwrap();
    run.set_status(RunStatus::Finished).unwrap();
}

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
