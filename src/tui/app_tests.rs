//! `App::update` without a terminal: keys in, state and effects out.

use super::*;
use crate::tui::keys::{Binding, DIALOG, GLOBAL, event, for_screen};
use crossterm::event::{KeyCode, KeyModifiers};

fn key(c: KeyCode) -> Msg {
    Msg::Key(KeyEvent::new(c, KeyModifiers::NONE))
}

/// An app that trains on its own threads (`--in-process`): launches are worker keys.
fn app() -> App {
    let mut a = App::new(
        RunStore::new("/nonexistent-store"),
        Options {
            in_process: true,
            ..Options::default()
        },
    );
    a.effects.clear();
    a
}

/// An app as started by default: launches are trainer processes of their own.
fn app_detached() -> App {
    let mut a = App::new(RunStore::new("/nonexistent-store"), Options::default());
    a.effects.clear();
    a
}

fn row(id: &str, preset: &str) -> RunRow {
    RunRow {
        id: id.into(),
        preset: preset.into(),
        data: "embedded".into(),
        duplication: "uniform 0%".into(),
        attack: "none".into(),
        model: "small-cnn".into(),
        seed: Some(0),
        status: "finished".into(),
        corrupt: None,
        test_acc: Some(0.8),
        robust_acc: None,
        evaluations_done: 1,
        steps_done: 1,
        total_steps: 1,
        duration_s: 1.0,
        started: String::new(),
        backend: "flex".into(),
        device: "Intel Xeon (2 threads)".into(),
        sweep: None,
        point: None,
        job: None,
    }
}

/// An app on `screen` where every key of that screen has something to act on: a run in the
/// store list, a stored run and a trained one on the live screen.
fn app_on(screen: Screen) -> App {
    let mut a = app();
    a.update(Msg::RunsLoaded(Ok(vec![
        row("a", "default"),
        row("b", "x"),
    ])));
    a.update(key(KeyCode::Enter)); // launch: a trained run on the live screen
    let k = a.live.runs[0].worker.clone().unwrap();
    a.update(Msg::Train {
        key: k,
        event: TrainEvent::Paused { run_id: "r".into() },
    });
    a.set_screen(screen);
    a.effects.clear();
    a
}

#[test]
fn every_key_of_every_table_reaches_its_action() {
    for screen in Screen::ALL {
        let tables: [(&str, &[Binding]); 2] = [("screen", for_screen(screen)), ("global", GLOBAL)];
        for (which, table) in tables {
            for b in table {
                for k in b.keys {
                    let mut a = app_on(screen);
                    a.update(Msg::Key(event(k)));
                    assert_eq!(
                        a.last_action,
                        Some(b.action),
                        "{screen:?} ({which}): key {} should do {:?}",
                        k.name(),
                        b.action
                    );
                }
            }
        }
    }
}

#[test]
fn every_dialog_key_reaches_its_answer() {
    for b in DIALOG {
        for k in b.keys {
            let mut a = app_on(Screen::Runs);
            a.update(key(KeyCode::Char('D')));
            assert!(matches!(a.dialog, Some(Dialog::DeleteRun { .. })));
            a.update(Msg::Key(event(k)));
            assert_eq!(a.last_action, Some(b.action), "key {}", k.name());
        }
    }
}

#[test]
fn starts_on_presets_with_the_default_and_its_plan() {
    let a = App::new(RunStore::new("/nonexistent-store"), Options::default());
    assert_eq!(a.screen, Screen::Presets);
    assert_eq!(a.presets.source().unwrap().name, "default");
    assert!(a.presets.plan.is_some());
    assert_eq!(
        a.effects,
        vec![Effect::LoadRuns],
        "the store is read off the UI thread"
    );
}

#[test]
fn number_keys_and_tab_switch_screens() {
    let mut a = app();
    a.update(key(KeyCode::Char('3')));
    assert_eq!(a.screen, Screen::Runs);
    assert!(matches!(a.effects.last(), Some(Effect::LoadRuns)));
    a.update(key(KeyCode::Tab));
    assert_eq!(a.screen, Screen::Compare);
    a.update(key(KeyCode::Tab));
    assert_eq!(a.screen, Screen::Data);
    assert!(
        matches!(a.effects.last(), Some(Effect::LoadData { threshold, .. }) if *threshold == 0.05),
        "the data screen asks for its pairs"
    );
    a.update(key(KeyCode::Tab));
    assert_eq!(a.screen, Screen::Membership);
    a.update(key(KeyCode::Tab));
    assert_eq!(a.screen, Screen::Presets);
    a.update(key(KeyCode::BackTab));
    assert_eq!(a.screen, Screen::Membership);
    a.update(key(KeyCode::BackTab));
    assert_eq!(a.screen, Screen::Data);
    a.effects.clear();
    a.update(key(KeyCode::Char('5')));
    assert!(a.effects.is_empty(), "asked once");
}

#[test]
fn enter_launches_the_selected_preset_on_the_live_screen() {
    let mut a = app();
    a.update(key(KeyCode::Char('d'))); // device auto → cpu
    a.update(key(KeyCode::Enter));
    assert_eq!(a.screen, Screen::Live);
    match a.effects.as_slice() {
        [Effect::Launch { preset, device, .. }] => {
            assert_eq!(preset.name, "default");
            assert_eq!(*device, DeviceChoice::Cpu);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(a.training(), 1);
}

#[test]
fn editing_a_field_validates_as_you_type() {
    let mut a = app();
    a.update(key(KeyCode::Char('l')));
    a.update(key(KeyCode::Down)); // rate
    a.update(key(KeyCode::Enter));
    assert_eq!(a.presets.editing.as_deref(), Some("0.0"));
    for _ in 0..3 {
        a.update(key(KeyCode::Backspace));
    }
    a.update(key(KeyCode::Char('5')));
    assert!(
        a.presets
            .edit_error
            .as_deref()
            .unwrap_or("")
            .contains("[0, 1]"),
        "{:?}",
        a.presets.edit_error
    );
    a.update(key(KeyCode::Backspace));
    for c in "0.3".chars() {
        a.update(key(KeyCode::Char(c)));
    }
    assert!(a.presets.edit_error.is_none());
    // Typing `q` or a digit into a field is text, not a command.
    assert_eq!(a.screen, Screen::Presets);
    a.update(key(KeyCode::Enter));
    assert_eq!(
        a.presets.resolved.as_ref().unwrap().duplication.rate,
        Some(0.3)
    );
    let plan = &a.presets.plan.as_ref().unwrap().0;
    assert_eq!(plan.copies(), 3000);
}

#[test]
fn quitting_while_training_asks_and_enter_is_the_safe_answer() {
    let mut a = app();
    a.update(key(KeyCode::Enter));
    a.effects.clear();
    a.update(key(KeyCode::Char('q')));
    assert_eq!(a.dialog, Some(Dialog::QuitWhileTraining { running: 1 }));
    a.update(key(KeyCode::Enter));
    assert!(a.dialog.is_none() && !a.quit, "Enter keeps training");
    a.update(key(KeyCode::Char('q')));
    a.update(key(KeyCode::Esc));
    assert!(a.dialog.is_none() && !a.quit);
    a.update(key(KeyCode::Char('q')));
    a.update(key(KeyCode::Char('s')));
    assert!(
        a.dialog.is_some() && a.effects.is_empty(),
        "only y/n/Esc/Enter answer"
    );
    a.update(key(KeyCode::Char('y')));
    assert!(matches!(a.effects.as_slice(), [Effect::StopAll]));
    assert!(!a.quit, "waits for the checkpoint");
    let key_ = a.live.runs[0].worker.clone().unwrap();
    a.update(Msg::Train {
        key: key_,
        event: TrainEvent::Stopped {
            run_id: "r".into(),
            step: 3,
        },
    });
    assert!(a.quit);
}

#[test]
fn runs_screen_marks_filters_and_asks_before_delete() {
    let mut a = app();
    a.update(key(KeyCode::Char('3')));
    a.update(Msg::RunsLoaded(Ok(vec![
        row("a", "default"),
        row("b", "default-skewed"),
        row("c", "mnist-lenet"),
    ])));
    a.update(key(KeyCode::Char(' ')));
    a.update(key(KeyCode::Char(' ')));
    assert_eq!(a.runs.marked.len(), 2);
    a.effects.clear();
    a.update(key(KeyCode::Char('c')));
    assert_eq!(a.screen, Screen::Compare);
    assert!(matches!(a.effects.as_slice(), [Effect::LoadCompare(ids)] if ids.len() == 2));
    a.update(key(KeyCode::Char('3')));
    a.update(key(KeyCode::Char('/')));
    for c in "mnist".chars() {
        a.update(key(KeyCode::Char(c)));
    }
    a.update(key(KeyCode::Enter));
    assert_eq!(a.runs.visible().len(), 1);
    a.update(key(KeyCode::Char('D')));
    assert_eq!(a.dialog, Some(Dialog::DeleteRun { id: "c".into() }));
    a.effects.clear();
    // `s` is not an answer (the dialog offers y/n); Enter is the safe one.
    a.update(key(KeyCode::Char('s')));
    assert!(a.dialog.is_some() && a.effects.is_empty());
    a.update(key(KeyCode::Enter));
    assert!(
        a.dialog.is_none() && a.effects.is_empty(),
        "Enter does not delete"
    );
    a.update(key(KeyCode::Char('D')));
    a.update(key(KeyCode::Char('y')));
    assert!(matches!(a.effects.as_slice(), [Effect::Delete(id)] if id == "c"));
    a.update(Msg::Deleted {
        id: "c".into(),
        result: Ok(()),
    });
    assert_eq!(a.message, Some(("deleted c".into(), false)));
}

#[test]
fn stop_dialog_enter_keeps_the_run_training() {
    let mut a = app_on(Screen::Live);
    a.update(key(KeyCode::Char('x')));
    assert!(matches!(a.dialog, Some(Dialog::StopRun { .. })));
    a.update(key(KeyCode::Enter));
    assert!(a.dialog.is_none() && a.effects.is_empty());
    a.update(key(KeyCode::Char('x')));
    a.update(key(KeyCode::Char('y')));
    assert!(matches!(
        a.effects.as_slice(),
        [Effect::Control {
            control: Control::Stop,
            ..
        }]
    ));
}

#[test]
fn an_opened_run_follows_its_appended_metrics() {
    let mut a = app();
    a.update(Msg::RunOpened {
        id: "r1".into(),
        result: Ok((None, RunStatus::Running, None)),
    });
    assert_eq!(a.screen, Screen::Live);
    let step = |i: usize| {
        MetricRecord::Step(crate::store::StepRecord {
            step: i,
            epoch: 0.0,
            loss: 1.0,
            acc: 0.5,
            lr: 0.1,
            images_per_s: 1.0,
            unique_seen: 0,
            dup_seen: 0,
            elapsed_s: 1.0,
        })
    };
    a.update(Msg::MetricsAppended {
        id: "r1".into(),
        records: (1..=3).map(step).collect(),
        status: RunStatus::Running,
        from_start: false,
        config: None,
        phase: None,
    });
    a.update(Msg::MetricsAppended {
        id: "r1".into(),
        records: vec![step(4)],
        status: RunStatus::Finished,
        from_start: false,
        config: None,
        phase: None,
    });
    assert_eq!(a.live.runs[0].step(), 4);
    assert_eq!(a.live.runs[0].loss.len(), 4);
    assert_eq!(
        a.live.runs[0].status,
        crate::tui::LiveStatus::Stored(RunStatus::Finished)
    );
    // A resumed run truncated its file: what follows replaces what was shown.
    a.update(Msg::MetricsAppended {
        id: "r1".into(),
        records: vec![step(1)],
        status: RunStatus::Running,
        from_start: true,
        config: None,
        phase: None,
    });
    assert_eq!(a.live.runs[0].loss.len(), 1);
}

#[test]
fn help_opens_and_closes() {
    let mut a = app();
    a.update(key(KeyCode::Char('?')));
    assert!(a.show_help);
    a.update(key(KeyCode::Esc));
    assert!(!a.show_help && !a.quit);
}

#[test]
fn a_detached_launch_is_followed_from_its_folder_and_steered_through_it() {
    let mut a = app_detached();
    a.update(key(KeyCode::Enter));
    let id = match a.take_effects().as_slice() {
        [Effect::Detach { id, preset, .. }] => {
            assert_eq!(preset.name, "default");
            id.clone()
        }
        other => panic!("{other:?}"),
    };
    assert!(id.contains("-default-"), "{id}");
    assert_eq!(a.screen, Screen::Live);
    assert_eq!(
        a.live.runs[0].worker, None,
        "no worker of this lab trains it"
    );
    assert_eq!(a.live.runs.len(), 1);
    assert_eq!(a.live.runs[0].preset, "default");
    a.update(Msg::Detached {
        id: id.clone(),
        result: Ok(4242),
    });
    assert_eq!(a.take_effects(), vec![Effect::OpenRun(id.clone())]);
    // The trainer has not written its config yet: the preset name stays.
    a.update(Msg::RunOpened {
        id: id.clone(),
        result: Ok((None, RunStatus::Running, None)),
    });
    assert_eq!(a.live.runs.len(), 1);
    assert_eq!(a.live.runs[0].preset, "default");
    let (_d, store) = crate::tui::tests::fixture_store();
    let config = store.runs().unwrap()[0].require_config().unwrap();
    a.update(Msg::MetricsAppended {
        id: id.clone(),
        records: vec![],
        status: RunStatus::Running,
        from_start: false,
        config: Some(Box::new(config.clone())),
        phase: Some("evaluating on the test set".into()),
    });
    assert_eq!(a.live.runs[0].total_steps, config.total_steps);
    assert_eq!(a.live.runs[0].phase, "evaluating on the test set");
    // Pause, resume and stop go into the run folder's control file.
    a.update(key(KeyCode::Char('p')));
    assert_eq!(
        a.take_effects(),
        vec![Effect::ControlRun {
            id: id.clone(),
            command: ControlCommand::Pause
        }]
    );
    a.update(Msg::MetricsAppended {
        id: id.clone(),
        records: vec![],
        status: RunStatus::Paused,
        from_start: false,
        config: None,
        phase: None,
    });
    a.update(key(KeyCode::Char('p')));
    assert_eq!(
        a.take_effects(),
        vec![Effect::ControlRun {
            id: id.clone(),
            command: ControlCommand::Resume
        }]
    );
    a.update(key(KeyCode::Char('x')));
    a.update(key(KeyCode::Char('y')));
    assert_eq!(
        a.take_effects(),
        vec![Effect::ControlRun {
            id: id.clone(),
            command: ControlCommand::Stop
        }]
    );
    // Quitting asks nothing: the run goes on without the lab, and the lab says so.
    a.update(key(KeyCode::Char('q')));
    assert!(a.quit && a.dialog.is_none());
    assert_eq!(
        a.farewell().as_deref(),
        Some(
            "1 run keeps training without the lab: duplab runs ls; open the lab again to watch it"
        )
    );
}

#[test]
fn a_lab_started_again_reattaches_to_every_training_run() {
    let mut a = app_detached();
    let mut running = row("r-running", "default");
    running.status = "running".into();
    let mut paused = row("r-paused", "default");
    paused.status = "paused".into();
    a.update(Msg::RunsLoaded(Ok(vec![
        row("done", "default"),
        running.clone(),
        paused.clone(),
    ])));
    assert_eq!(
        a.take_effects(),
        vec![
            Effect::OpenRun("r-running".into()),
            Effect::OpenRun("r-paused".into())
        ]
    );
    assert_eq!(a.screen, Screen::Live, "the first listing brings them up");
    for (id, st) in [
        ("r-running", RunStatus::Running),
        ("r-paused", RunStatus::Paused),
    ] {
        a.update(Msg::RunOpened {
            id: id.into(),
            result: Ok((None, st, None)),
        });
    }
    assert_eq!(a.live.runs.len(), 2);
    assert_eq!(a.training_elsewhere(), 2);
    // Listed again: nothing opens twice. A run started meanwhile joins without moving the user.
    a.update(key(KeyCode::Char('3')));
    a.take_effects();
    let mut later = row("r-later", "x");
    later.status = "running".into();
    a.update(Msg::RunsLoaded(Ok(vec![running, paused, later])));
    assert_eq!(a.take_effects(), vec![Effect::OpenRun("r-later".into())]);
    a.update(Msg::RunOpened {
        id: "r-later".into(),
        result: Ok((None, RunStatus::Running, None)),
    });
    assert_eq!(a.screen, Screen::Runs);
    assert_eq!(a.live.runs.len(), 3);
    assert_eq!(a.live.selected, 0, "the selection stays");
}

#[test]
fn a_failed_trainer_start_says_why() {
    let mut a = app_detached();
    a.update(key(KeyCode::Enter));
    let id = match a.take_effects().as_slice() {
        [Effect::Detach { id, .. }] => id.clone(),
        other => panic!("{other:?}"),
    };
    a.update(Msg::Detached {
        id,
        result: Err("no such file".into()),
    });
    assert!(matches!(
        a.live.runs[0].status,
        crate::tui::LiveStatus::Failed(_)
    ));
    assert_eq!(a.farewell(), None);
    assert!(
        a.message
            .as_ref()
            .is_some_and(|(m, err)| *err && m.contains("no such file"))
    );
}

/// "Save as" never writes from `update`: it asks for `Effect::SavePreset` (the store worker
/// writes the file), and the answer, `Msg::PresetSaved`, lists and selects the new preset.
#[test]
fn save_as_asks_the_worker_to_write_and_selects_what_it_saved() {
    let mut a = app();
    a.update(key(KeyCode::Char('s')));
    let typed = a.presets.saving.clone().expect("save-as prompt open");
    for _ in 0..typed.chars().count() {
        a.update(key(KeyCode::Backspace));
    }
    for c in "mine".chars() {
        a.update(key(KeyCode::Char(c)));
    }
    a.update(key(KeyCode::Enter));
    let effects = a.take_effects();
    let Some(Effect::SavePreset(p)) = effects.iter().find(|e| matches!(e, Effect::SavePreset(_)))
    else {
        panic!("no SavePreset among {effects:?}");
    };
    assert_eq!(p.name, "mine");
    let dir = tempfile::tempdir().unwrap();
    let saved = crate::tui::presets::write_preset(p, dir.path()).unwrap();
    assert!(std::path::Path::new(&saved.path).exists());
    a.update(Msg::PresetSaved(Ok(saved)));
    assert_eq!(a.presets.source().unwrap().name, "mine");
    assert!(a.message.as_ref().unwrap().0.starts_with("saved "));
}

/// The device key passes over the cards live runs hold: a paused trainer keeps its GPU memory,
/// so its card counts as taken, and a finished run's does not.
#[test]
fn cards_of_running_and_paused_runs_count_as_busy() {
    let mut a = app();
    let on = |id: &str, status: &str, card: usize| RunRow {
        status: status.into(),
        device: format!("gpu:{card} NVIDIA H100 (Vulkan, DiscreteGpu)"),
        ..row(id, "default")
    };
    a.update(Msg::RunsLoaded(Ok(vec![
        on("p", "paused", 0),
        on("r", "running", 1),
        on("f", "finished", 2),
    ])));
    a.set_screen(Screen::Presets);
    a.update(key(KeyCode::Down));
    assert_eq!(a.presets.busy, [0, 1].into_iter().collect());
}
