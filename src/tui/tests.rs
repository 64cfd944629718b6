//! Screens rendered into `TestBackend` from fixture runs: insta snapshots of the text, and the
//! colours that carry meaning (clean vs robust).

use super::screenshot::{render, text};
use super::*;
use crate::store::synthetic::finished_run;
use crossterm::event::{KeyCode, KeyEvent};
use ratatui::style::Color;

fn fixture_run(
    store: &RunStore,
    id: &str,
    overrides: &[&str],
    seed: u64,
    acc: f64,
    robust: Option<f64>,
) {
    let names = crate::data::FASHION_CLASSES;
    finished_run(store, id, overrides, &names, seed, acc, robust).unwrap();
}

fn press(a: &mut App, c: KeyCode) {
    a.update(Msg::Key(KeyEvent::from(c)));
    settle(a);
}

pub(super) fn fixture_store() -> (tempfile::TempDir, RunStore) {
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
    app_with(store, Options::default())
}

/// A settled app on the store, built as the lab builds itself: through messages.
fn app_with(store: &RunStore, opts: Options) -> App {
    let mut a = App::new(store.clone(), opts);
    settle(&mut a);
    a
}

fn open(a: &mut App, id: &str) {
    a.update(Msg::Open(id.into()));
    settle(a);
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
    press(&mut a, KeyCode::Char('3'));
    // Mark the oldest run (the list is newest first).
    press(&mut a, KeyCode::End);
    press(&mut a, KeyCode::Char(' '));
    press(&mut a, KeyCode::Home);
    insta::assert_snapshot!("runs", shot(&a, 120, 20));
}

#[test]
fn live_screen_of_a_stored_run() {
    let (_d, store) = fixture_store();
    let mut a = app_on(&store);
    open(&mut a, "20261118-110000-default-aaaaaa");
    insta::assert_snapshot!("live", shot(&a, 120, 36));
}

#[test]
fn compare_screen_groups_seeds_and_diffs_configs() {
    let (_d, store) = fixture_store();
    let mut a = app_on(&store);
    let ids: Vec<String> = store.runs().unwrap().into_iter().map(|r| r.id).collect();
    a.update(Msg::Compare(ids));
    settle(&mut a);
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
    press(&mut a, KeyCode::Char('3'));
    press(&mut a, KeyCode::Char('?'));
    let t = text(&render(&a, 100, 40));
    for b in keys::RUNS.iter().chain(keys::GLOBAL) {
        assert!(
            t.contains(b.label) && t.contains(b.help),
            "help lacks {}:\n{t}",
            b.label
        );
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
    open(&mut a, "20261118-110000-default-aaaaaa");
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
    let mut a = app_with(
        &store,
        Options {
            color: false,
            ..Options::default()
        },
    );
    open(&mut a, "20261118-110000-default-aaaaaa");
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
    let mut a = app_with(
        &store,
        Options {
            ascii: true,
            ..Options::default()
        },
    );
    open(&mut a, "20261118-110000-default-aaaaaa");
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

#[test]
fn data_screen_lists_the_embedded_sets_pairs_and_draws_them_in_colour() {
    let (_d, store) = fixture_store();
    let mut a = app_on(&store);
    press(&mut a, KeyCode::Char('5'));
    let v = a
        .data
        .view
        .clone()
        .expect("the embedded set and its pairs are loaded");
    // The search's time and whether it came from the cache vary by machine: left out.
    let stable: Vec<String> = shot(&a, 120, 36)
        .lines()
        .map(|l| match l.find(" in ") {
            Some(i) if l.contains("searched ≤") => format!("{} in [time]", &l[..i]),
            _ => l.to_string(),
        })
        .collect();
    insta::assert_snapshot!("data", stable.join("\n"));
    // The selected pair (test→train, closest first) is drawn cell by cell: `▀` with the upper
    // pixel as foreground and the lower one as background, in grey.
    let p = a.data.visible()[0];
    let img = v.ds.test.image(p.a as usize);
    let buf = render(&a, 120, 36);
    // The left image's top-left cell: find the first `▀` of the screen.
    let (x0, y0) = (0..36u16)
        .flat_map(|y| (0..120u16).map(move |x| (x, y)))
        .find(|&(x, y)| buf[(x, y)].symbol() == "▀")
        .expect("an image is drawn");
    for (dx, dy) in [(0u16, 0u16), (13, 5), (27, 13)] {
        let cell = &buf[(x0 + dx, y0 + dy)];
        let (up, lo) = (
            img[(2 * dy as usize) * 28 + dx as usize],
            img[(2 * dy as usize + 1) * 28 + dx as usize],
        );
        assert_eq!(cell.symbol(), "▀");
        assert_eq!(
            cell.fg,
            Color::Rgb(up, up, up),
            "upper pixel at ({dx}, {})",
            2 * dy
        );
        assert_eq!(
            cell.bg,
            Color::Rgb(lo, lo, lo),
            "lower pixel at ({dx}, {})",
            2 * dy + 1
        );
    }
    // The class filter and the pair set change what is listed.
    press(&mut a, KeyCode::Char('t'));
    assert_eq!(a.data.set, crate::data::PairSet::Train);
    let all = a.data.visible().len();
    press(&mut a, KeyCode::Char('c'));
    assert!(a.data.visible().len() <= all);
    press(&mut a, KeyCode::Char('-'));
    assert_eq!(a.data.threshold(), 0.02);
}

#[test]
fn images_without_colour_fall_back_to_a_brightness_ramp() {
    use super::draw::data::{ImageMode, image_lines};
    // 2×4 grey image: black, white / mid, mid / white, black / dark, light.
    let img = [0u8, 255, 128, 128, 255, 0, 40, 200];
    let half = image_lines(&img, 1, 4, 2, 1, ImageMode::HalfBlock);
    assert_eq!(half.len(), 2);
    let s = &half[0].spans[0];
    assert_eq!(s.content, "▀");
    assert_eq!(s.style.fg, Some(Color::Rgb(0, 0, 0)));
    assert_eq!(s.style.bg, Some(Color::Rgb(128, 128, 128)));
    let ascii = image_lines(&img, 1, 4, 2, 1, ImageMode::Ascii);
    let text: Vec<String> = ascii
        .iter()
        .map(|l| l.spans.iter().map(|s| s.content.to_string()).collect())
        .collect();
    assert_eq!(text, vec![":#", "+="]);
    assert!(
        ascii
            .iter()
            .flat_map(|l| &l.spans)
            .all(|s| s.style.fg.is_none())
    );
    // Scale 2: each pixel two columns wide and one cell tall.
    let big = image_lines(&img, 1, 4, 2, 2, ImageMode::HalfBlock);
    assert_eq!((big.len(), big[0].spans.len()), (4, 4));
    assert_eq!(big[0].spans[0].style.bg, Some(Color::Rgb(0, 0, 0)));
    // With NO_COLOR the Data screen has no colour at all.
    let (_d, store) = fixture_store();
    let mut a = app_with(
        &store,
        Options {
            color: false,
            ..Options::default()
        },
    );
    press(&mut a, KeyCode::Char('5'));
    let buf = render(&a, 120, 36);
    assert!(
        buf.content
            .iter()
            .all(|c| c.fg == Color::Reset && c.bg == Color::Reset)
    );
    assert!(!text_of(&buf).contains('▀'));
}

fn text_of(b: &ratatui::buffer::Buffer) -> String {
    text(b)
}

#[test]
fn config_diff_values_are_never_cut() {
    let (_d, store) = fixture_store();
    for (id, kind) in [
        ("20261118-110300-default-dddddd", "fgsm-rs"),
        ("20261118-110400-default-eeeeee", "pgd"),
    ] {
        fixture_run(
            &store,
            id,
            &[
                &format!("attack.train.kind={kind}"),
                "attack.train.eps=0.1",
                "attack.train.step=0.125",
                "attack.train.steps=3",
                "duplication.profile=linear",
                "duplication.rate_max=0.5",
                "duplication.rate_min=0.0",
            ],
            0,
            0.8,
            Some(0.3),
        );
    }
    let ids: Vec<String> = store.runs().unwrap().into_iter().map(|r| r.id).collect();
    let mut a = app_on(&store);
    a.update(Msg::Compare(ids));
    settle(&mut a);
    let diff = a.compare.diff();
    assert!(diff.iter().any(|(_, v)| v.iter().any(|x| x == "fgsm-rs")));
    // Wide enough for columns, and so narrow that the values must wrap: every value whole.
    for (w, h) in [(200u16, 60u16), (100, 60)] {
        let text = shot(&a, w, h);
        for (k, vals) in &diff {
            for v in vals {
                assert!(
                    text.contains(v.as_str()),
                    "{w} columns: {k} = {v} is cut:\n{text}"
                );
            }
        }
    }
}

#[test]
fn compare_pairs_seed_groups_by_seed_with_a_t_interval() {
    let dir = tempfile::tempdir().unwrap();
    let store = RunStore::new(dir.path().join("runs"));
    // Control: 86, 85, 84 %; treated: 87, 87, 85 % for seeds 0, 1, 2 → differences 1, 2, 1 points.
    for (i, (seed, a, b)) in [(0u64, 0.86, 0.87), (1, 0.85, 0.87), (2, 0.84, 0.85)]
        .into_iter()
        .enumerate()
    {
        fixture_run(
            &store,
            &format!("20261118-11000{i}-default-aaaaa{i}"),
            &[],
            seed,
            a,
            Some(0.2),
        );
        fixture_run(
            &store,
            &format!("20261118-11010{i}-default-bbbbb{i}"),
            &["duplication.rate=0.3"],
            seed,
            b,
            Some(0.2),
        );
    }
    let ids: Vec<String> = store.runs().unwrap().into_iter().map(|r| r.id).collect();
    let mut a = app_on(&store);
    a.update(Msg::Compare(ids));
    settle(&mut a);
    assert_eq!(a.compare.groups.len(), 2);
    let p = a.compare.paired[0].clean.expect("three pairs");
    // mean 4/3, sd 1/√3, se 1/3, t(0.975, 2) = 4.303: CI 4/3 ± 1.434; t = 4, p = 0.057.
    assert_eq!(p.n, 3);
    assert!((p.mean - 4.0 / 3.0).abs() < 1e-9, "{p:?}");
    assert!((p.lo - (4.0 / 3.0 - 4.303 / 3.0)).abs() < 2e-3, "{p:?}");
    assert!((p.p - 0.0572).abs() < 1e-3, "{p:?}");
    let robust = a.compare.paired[0].robust.unwrap();
    assert_eq!(robust.mean, 0.0, "equal robust accuracy");
    let text = shot(&a, 140, 44);
    assert!(
        text.contains("paired by seed vs the first seed group"),
        "{text}"
    );
    assert!(
        text.contains("clean +1.33 [-0.10, +2.77] p=0.057"),
        "{text}"
    );
}

/// A stored run's last evaluation record, for a test to change and append again.
fn last_evaluation(run: &crate::store::Run) -> crate::store::EpochRecord {
    run.metrics()
        .unwrap()
        .into_iter()
        .rev()
        .find_map(|m| match m {
            crate::store::MetricRecord::Epoch(e) => Some(e),
            _ => None,
        })
        .expect("the fixture run has evaluations")
}

#[test]
fn a_catastrophic_overfitting_alarm_is_shown_in_red_on_the_live_screen() {
    // The check's own record (this version), and the evaluation record's field (runs of
    // earlier versions): both show the alarm.
    for own_record in [true, false] {
        let (_d, store) = fixture_store();
        let id = "20261118-110000-default-aaaaaa";
        let run = store.open(id).unwrap();
        let mut last = last_evaluation(&run);
        last.step += 1;
        let stat = crate::store::OverfitStat {
            images: 256,
            pgd_acc: 0.02,
            fgsm_acc: 0.81,
            alarm: true,
        };
        let rec = if own_record {
            crate::store::MetricRecord::Overfit(crate::store::OverfitRecord {
                step: last.step,
                stat,
            })
        } else {
            last.overfit = Some(stat);
            crate::store::MetricRecord::Epoch(last)
        };
        run.metrics_writer().unwrap().append(&rec).unwrap();
        let mut a = app_on(&store);
        open(&mut a, id);
        let buf = render(&a, 160, 36);
        let text = text(&buf);
        let line = text
            .lines()
            .find(|l| l.contains("⚠ catastrophic overfitting"))
            .unwrap_or_else(|| panic!("no alarm ({own_record}):\n{text}"));
        assert!(line.contains("PGD 2.0 % / FGSM 81.0 %"), "{line}");
        let y = text.lines().position(|l| l.contains("⚠")).unwrap() as u16;
        let x = (0..160u16).find(|&x| buf[(x, y)].symbol() == "⚠").unwrap();
        assert_eq!(buf[(x, y)].fg, Color::Red, "the alarm is red");
    }
}

/// The memorisation panel shows the tie-free margin attack's AUC beside the loss attack's.
#[test]
fn the_memorisation_panel_shows_the_margin_attack() {
    use crate::measures::{Group, Membership};
    let (_d, store) = fixture_store();
    let id = "20261118-110000-default-aaaaaa";
    let run = store.open(id).unwrap();
    let mut last = last_evaluation(&run);
    last.step += 1;
    let mut g = crate::store::GroupMetrics::default();
    for (group, loss) in [
        (Group::Duplicated, 0.1),
        (Group::Unique, 0.3),
        (Group::Test, 0.4),
    ] {
        g.set_group(
            group,
            crate::store::GroupStat {
                images: 100,
                loss,
                acc: 0.9,
                gap: 0.4 - loss,
                per_class_loss: vec![],
                per_class_acc: vec![],
            },
        );
    }
    let m = |auc| Membership {
        auc,
        members: 100,
        non_members: 100,
        ..Default::default()
    };
    g.set_membership(Group::Duplicated, m(0.55));
    g.set_membership(Group::Unique, m(0.51));
    g.set_margin_membership(Group::Duplicated, m(0.612));
    g.set_margin_membership(Group::Unique, m(0.523));
    last.groups = Some(g);
    run.metrics_writer()
        .unwrap()
        .append(&crate::store::MetricRecord::Epoch(last))
        .unwrap();
    let mut a = app_on(&store);
    open(&mut a, id);
    press(&mut a, KeyCode::Char('g'));
    let text = text(&render(&a, 160, 36));
    assert!(
        text.contains("margin AUC: duplicated 0.612  unique 0.523"),
        "{text}"
    );
}

#[test]
fn the_card_panel_shows_the_ladder_and_its_flags_in_red() {
    let (_d, store) = fixture_store();
    let id = "20261118-110000-default-aaaaaa";
    let run = store.open(id).unwrap();
    let mut a = app_on(&store);
    open(&mut a, id);
    for _ in 0..3 {
        press(&mut a, KeyCode::Char('g'));
    }
    let before = shot(&a, 160, 36);
    assert!(before.contains("No evaluation card yet"), "{before}");
    assert!(
        before.contains(id) && before.contains("--card`"),
        "{before}"
    );

    let mut s = run.summary_or_default().unwrap();
    s.card = Some(crate::store::CardStat {
        eps: 0.1,
        norm: "Linf".into(),
        images: 200,
        clean_acc: 0.805,
        attacks: vec![
            ("fgsm L∞ ε=0.1".into(), 0.76),
            ("pgd-20 L∞ ε=0.1".into(), 0.78),
            ("apgd-ce-20 L∞ ε=0.1".into(), 0.705),
        ],
        noise_acc: 0.79,
        large_eps: 0.5,
        large_eps_acc: 0.0,
        zero_grad_fraction: 0.0,
        flags: vec!["pgd-20 L∞ ε=0.1 left 78.0 % but the weaker fgsm L∞ ε=0.1 left 76.0 %".into()],
        ensemble_acc: None,
    });
    run.write_summary(&s).unwrap();
    // Opening the run again reads the card.
    open(&mut a, id);
    let buf = render(&a, 160, 36);
    let text = text(&buf);
    for want in [
        "evaluation card",
        "200 test images · Linf ε=0.1",
        "apgd-ce-20 L∞ ε=0.1",
        "70.5",
        "worst case 70.5 %",
        "probes: noise 79.0 % · ε 0.5 0.0 % · zero grad 0.0 %",
    ] {
        assert!(text.contains(want), "{want:?} missing:\n{text}");
    }
    let y = text
        .lines()
        .position(|l| l.contains("⚠ pgd-20"))
        .unwrap_or_else(|| panic!("no flag:\n{text}")) as u16;
    let x = (0..160u16).find(|&x| buf[(x, y)].symbol() == "⚠").unwrap();
    assert_eq!(buf[(x, y)].fg, Color::Red, "a flag is red");
}
