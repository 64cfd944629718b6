//! The Membership screen on a store of reference models (their scores written by the test): the
//! table by k, the verdict coloured by the test's outcome, the ROC, and the most memorised image
//! drawn from the embedded pool.

use super::screenshot::{render, text};
use super::*;
use crate::data::rng::Rng;
use crate::store::synthetic::finished_run;
use crate::store::{REFERENCE_FORMAT, ReferenceScores};
use crossterm::event::{KeyCode, KeyEvent};
use ratatui::style::{Color, Modifier};

const MODELS: usize = 8;

/// Eight reference models of sweep `refs` on the embedded pool: margins N(0, 1) per model, plus 3
/// for a member that occurs 16 times (1 % of the pool).
fn reference_store() -> (tempfile::TempDir, RunStore) {
    let dir = tempfile::tempdir().unwrap();
    let store = RunStore::new(dir.path().join("runs"));
    let ds = crate::data::load_embedded();
    let n = ds.train.len();
    let occurrences: Vec<u8> = (0..n).map(|i| if i % 100 == 0 { 16 } else { 1 }).collect();
    let mut r = Rng::new(5);
    for m in 0..MODELS {
        let id = format!("20261206-10000{m}-default-aaaaa{m}");
        let run = finished_run(
            &store,
            &id,
            &["reference.models=8"],
            &crate::data::FASHION_CLASSES,
            m as u64,
            0.85,
            None,
        )
        .unwrap();
        let mut c = run.require_config().unwrap();
        c.sweep = Some("refs".into());
        c.point = Some("training=standard".into());
        c.train_checksum = crate::data::checksum(&ds.train.images);
        run.write_config(&c).unwrap();
        let member = crate::data::reference_members(0, MODELS, m, n);
        let phi = (0..n)
            .map(|i| {
                let noise = (r.unit() + r.unit() + r.unit() - 1.5) * 2.0;
                noise
                    + if member[i] && occurrences[i] == 16 {
                        3.0
                    } else {
                        0.0
                    }
            })
            .collect();
        run.write_reference(&ReferenceScores {
            format: REFERENCE_FORMAT,
            models: MODELS,
            index: m,
            seed: 0,
            pool_checksum: c.train_checksum.clone(),
            labels: ds.train.labels.clone(),
            occurrences: occurrences.clone(),
            members: member.iter().map(|&b| if b { '1' } else { '0' }).collect(),
            shadowed: vec![],
            threshold: 0.05,
            phi,
            step: 100,
        })
        .unwrap();
    }
    (dir, store)
}

fn press(a: &mut App, c: KeyCode) {
    a.update(Msg::Key(KeyEvent::from(c)));
    settle(a);
}

#[test]
fn the_membership_screen_shows_tpr_by_k_the_verdict_and_the_memorised_image() {
    let (_d, store) = reference_store();
    let mut a = App::new(store.clone(), Options::default());
    settle(&mut a);
    // The sweep of the run selected on the Runs screen.
    press(&mut a, KeyCode::Char('3'));
    press(&mut a, KeyCode::Char('6'));
    let v = a.membership.view.clone().expect("the sweep is analysed");
    assert!(v.pool.is_some(), "{:?}", v.pool_error);
    let shot = text(&render(&a, 120, 40)).replace(&store.root.display().to_string(), "[store]");
    insta::assert_snapshot!("membership", shot);
    // Without a run of a sweep selected, the screen says what to do.
    let mut none = crate::tui::membership::MembershipState::default();
    assert!(none.want(None).is_none());
    assert!(none.error.unwrap().contains("Runs screen"));
    // The planted k = 16 members leak: the verdict is the test's, drawn red and bold.
    let buf = render(&a, 120, 40);
    let (x, y) = (0..40u16)
        .flat_map(|y| (0..120u16).map(move |x| (x, y)))
        .find(|&(x, y)| {
            (0..6).all(|i| x + i < 120)
                && (0..6u16)
                    .map(|i| buf[(x + i, y)].symbol())
                    .collect::<String>()
                    == "higher"
        })
        .expect("a verdict is shown");
    assert_eq!(buf[(x, y)].fg, Color::Red);
    assert!(buf[(x, y)].modifier.contains(Modifier::BOLD));
    // The most memorised images are the planted ones, and the selected one is drawn.
    let arm = &v.report.arms[0];
    assert!(arm.top.iter().take(5).all(|m| m.k == 16), "{:?}", arm.top);
    assert!(buf.content.iter().any(|c| c.symbol() == "▀"));
    press(&mut a, KeyCode::Char('j'));
    assert_eq!(a.membership.selected, 1);
    press(&mut a, KeyCode::Char('p'));
    assert_eq!((a.membership.arm, a.membership.selected), (0, 0));
}
