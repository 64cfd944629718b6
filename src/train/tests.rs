//! burn tests on the CPU backend with tiny runs on the embedded data.

use super::*;
use crate::backend::DeviceChoice;
use crate::spec::find_preset;
use crate::store::{MetricRecord, RunStatus, RunStore};
use std::sync::mpsc::channel;

use crate::burn_serial;

fn tiny(extra: &[&str]) -> crate::spec::Preset {
    let mut set: Vec<String> = vec![
        "training.steps=12".into(),
        "training.eval_every=4".into(),
        "training.batch_size=32".into(),
        "attack.eval.kind=none".into(),
    ];
    set.extend(extra.iter().map(|s| s.to_string()));
    find_preset("default", &set).unwrap()
}

fn job(store: &RunStore, preset: crate::spec::Preset, device: DeviceChoice) -> TrainJob {
    TrainJob::new(preset, 3, device, store.clone())
}

/// Run a job on a worker to its end; returns its events.
fn run_to_end(job: TrainJob) -> Vec<TrainEvent> {
    let _serial = burn_serial();
    let (tx, rx) = channel();
    let w = spawn(job, tx);
    let events: Vec<TrainEvent> = rx.iter().collect();
    w.join();
    events
}

/// Start `job` on a worker and stop it at its first step record at or after `step`: the id of
/// the run it stopped (whose last event must say so).
fn stop_at(job: TrainJob, step: usize) -> String {
    let serial = burn_serial();
    let (tx, rx) = channel();
    let w = spawn(job, tx);
    let mut run_id = None;
    for ev in rx.iter() {
        if let TrainEvent::Step { run_id: id, record } = &ev
            && record.step >= step
            && run_id.is_none()
        {
            run_id = Some(id.clone());
            w.send(Control::Stop);
        }
        if ev.is_final() {
            assert!(matches!(ev, TrainEvent::Stopped { .. }), "{ev:?}");
        }
    }
    w.join();
    drop(serial);
    run_id.expect("the run reached the step")
}

/// The id of the run a job's events started.
fn started_id(events: &[TrainEvent]) -> String {
    events
        .iter()
        .find_map(|e| match e {
            TrainEvent::Started { run_id, .. } => Some(run_id.clone()),
            _ => None,
        })
        .expect("the job started a run")
}

fn epochs(events: &[TrainEvent]) -> Vec<(usize, f64, f64)> {
    events
        .iter()
        .filter_map(|e| match e {
            TrainEvent::Epoch { record, .. } => {
                Some((record.step, record.test_acc, record.test_loss))
            }
            _ => None,
        })
        .collect()
}

/// (step, test accuracy, test loss) of each evaluation, as the run's metrics file holds them.
fn file_epochs(run: &crate::store::Run) -> Vec<(usize, f64, f64)> {
    run.metrics()
        .unwrap()
        .into_iter()
        .filter_map(|m| match m {
            MetricRecord::Epoch(e) => Some((e.step, e.test_acc, e.test_loss)),
            _ => None,
        })
        .collect()
}

#[test]
fn same_seed_same_test_accuracy_on_cpu() {
    let dir = tempfile::tempdir().unwrap();
    let store = RunStore::new(dir.path());
    let a = run_to_end(job(&store, tiny(&[]), DeviceChoice::Cpu));
    let b = run_to_end(job(&store, tiny(&[]), DeviceChoice::Cpu));
    assert!(
        matches!(a.last(), Some(TrainEvent::Finished { .. })),
        "{:?}",
        a.last()
    );
    let (ea, eb) = (epochs(&a), epochs(&b));
    assert_eq!(ea.len(), 3);
    assert_eq!(ea, eb);
    // And the run folder is complete.
    let runs = store.runs().unwrap();
    assert_eq!(runs.len(), 2);
    let r = &runs[0];
    assert_eq!(r.status(), RunStatus::Finished);
    // safetensors: an 8-byte header length, a JSON header naming tensors as PyTorch would.
    let st = std::fs::read(r.dir.join("model.safetensors")).unwrap();
    let n = u64::from_le_bytes(st[..8].try_into().unwrap()) as usize;
    let header: serde_json::Value = serde_json::from_slice(&st[8..8 + n]).unwrap();
    for key in [
        "conv1.weight",
        "conv1.bias",
        "conv2.weight",
        "fc1.weight",
        "fc2.bias",
    ] {
        assert!(header.get(key).is_some(), "{key} missing from {header}");
    }
    assert_eq!(
        header["conv1.weight"]["shape"],
        serde_json::json!([16, 1, 3, 3])
    );
    assert!(super::checkpoint::model_path(&r).unwrap().exists());
    let cfg = r.require_config().unwrap();
    assert_eq!(cfg.backend, "flex");
    assert_eq!(cfg.total_steps, 12);
    let m = r.metrics().unwrap();
    assert_eq!(
        m.iter()
            .filter(|x| matches!(x, MetricRecord::Epoch(_)))
            .count(),
        3
    );
    assert!(r.summary().unwrap().unwrap().test_acc.unwrap() > 0.1);
}

/// Every part of a run that took place is timed, and the parts never add up to more than the
/// job's wall time (they are disjoint intervals inside it).
#[test]
fn the_time_split_covers_each_part_of_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let store = RunStore::new(dir.path());
    let p = tiny(&[
        "attack.eval.kind=pgd",
        "attack.eval.eps=0.1",
        "attack.eval.step=0.025",
        "attack.eval.steps=2",
        "attack.eval.limit=16",
        "attack.eval.group_limit=8",
    ]);
    let t0 = std::time::Instant::now();
    let events = run_to_end(job(&store, p, DeviceChoice::Cpu));
    let wall = t0.elapsed().as_secs_f64();
    let id = started_id(&events);
    let t = store
        .open(&id)
        .unwrap()
        .summary()
        .unwrap()
        .unwrap()
        .time_split
        .unwrap();
    for (part, s) in [
        ("prepare", t.prepare_s),
        ("steps", t.steps_s),
        ("test", t.test_s),
        ("robust", t.robust_s),
        ("groups", t.groups_s),
        ("saving", t.save_s),
    ] {
        assert!(s > 0.0, "{part} took place but was not timed: {t:?}");
    }
    assert_eq!(t.overfit_s, 0.0, "standard training has no overfit check");
    assert!(t.total() <= wall, "{} s of parts in {wall} s", t.total());
    // How the split reads is checked on fixed numbers: a real run's parts can be shorter than
    // the 0.05 s `describe` shows (its steps are, on a fast machine).
    let fixed = crate::store::TimeSplit {
        prepare_s: 1.0,
        steps_s: 3.0,
        save_s: 0.01,
        ..Default::default()
    };
    assert_eq!(
        fixed.describe(),
        "prepare 1.0 s (25 %) · steps 3.0 s (75 %)"
    );
}

#[test]
fn stopped_then_resumed_matches_uninterrupted() {
    let dir = tempfile::tempdir().unwrap();
    let store = RunStore::new(dir.path());
    let whole_events = run_to_end(job(&store, tiny(&[]), DeviceChoice::Cpu));
    let whole = epochs(&whole_events);
    let whole_id = started_id(&whole_events);

    // Stop mid-run: the stop lands between steps, wherever the trainer is.
    let id = stop_at(job(&store, tiny(&[]), DeviceChoice::Cpu), 5);
    let run = store.open(&id).unwrap();
    assert_eq!(run.status(), RunStatus::Interrupted);
    let first_split = run
        .summary()
        .unwrap()
        .unwrap()
        .time_split
        .expect("a stopped run says where its time went");

    // A later save that crashed half way (a kill between its renames) left tensor files the
    // manifest does not name, under this version's names and the old fixed ones: the resume
    // loads the checkpoint the manifest names, whole.
    let ck = run.checkpoints_dir();
    std::fs::write(ck.join("model-99999999.bpk"), b"half a save").unwrap();
    std::fs::write(ck.join("optim.bpk"), b"half a save").unwrap();
    let mut j = job(&store, tiny(&[]), DeviceChoice::Cpu);
    j.resume = Some(id.clone());
    let resumed = run_to_end(j);
    assert!(
        matches!(resumed.last(), Some(TrainEvent::Finished { .. })),
        "{:?}",
        resumed.last()
    );
    // The time split adds the second session to the first (each prepared once).
    let split = run.summary().unwrap().unwrap().time_split.unwrap();
    assert!(
        split.prepare_s > first_split.prepare_s,
        "{split:?} after {first_split:?}"
    );
    assert!(
        split.steps_s > first_split.steps_s,
        "{split:?} after {first_split:?}"
    );
    // The resumed run's metrics file holds every evaluation, equal to the uninterrupted run's.
    let recs = file_epochs(&run);
    // File against file: serde_json's default float parser may read a 17-digit number back one
    // unit in the last place off, so the files are compared with each other, and with the
    // events to within that.
    let whole_file = file_epochs(&store.open(&whole_id).unwrap());
    assert_eq!(recs, whole_file);
    assert_eq!(recs.len(), whole.len());
    for (r, w) in recs.iter().zip(&whole) {
        assert_eq!((r.0, r.1), (w.0, w.1));
        assert!(
            (r.2 - w.2).abs() <= 4.0 * f64::EPSILON * w.2.abs(),
            "{r:?} vs {w:?}"
        );
    }
}

/// Augmentation draws from the run's own generator by step: a run with crop and flip stopped
/// and resumed records exactly the metrics of an uninterrupted one, and they differ from the
/// same run without augmentation (it is applied).
#[test]
fn an_augmented_run_resumes_as_an_uninterrupted_one() {
    let dir = tempfile::tempdir().unwrap();
    let store = RunStore::new(dir.path());
    let preset = || tiny(&["training.augment={ crop = 2, flip = true }"]);
    let whole = started_id(&run_to_end(job(&store, preset(), DeviceChoice::Cpu)));
    let id = stop_at(job(&store, preset(), DeviceChoice::Cpu), 5);
    let mut j = job(&store, preset(), DeviceChoice::Cpu);
    j.resume = Some(id.clone());
    run_to_end(j);
    let plain = started_id(&run_to_end(job(&store, tiny(&[]), DeviceChoice::Cpu)));
    let evals = |id: &str| file_epochs(&store.open(id).unwrap());
    assert_eq!(evals(&whole), evals(&id));
    assert_ne!(evals(&whole), evals(&plain), "augmentation changed nothing");
    let c = store.open(&whole).unwrap().require_config().unwrap();
    assert_eq!(
        c.preset.training.augment,
        Some(crate::spec::AugmentSpec {
            crop: 2,
            flip: true
        })
    );
}

/// The reweighting control trains on the originals alone, drawn uniformly, with the chosen
/// images' loss weighted up instead of copied: no copies in the training set, the chosen images
/// still the duplicated group, and a training loss other than the same run's unweighted one.
#[test]
fn the_reweighting_control_weights_the_chosen_images_instead_of_copying_them() {
    let dir = tempfile::tempdir().unwrap();
    let store = RunStore::new(dir.path());
    let dup = ["duplication.rate=0.1", "duplication.copies=3"];
    let copied = started_id(&run_to_end(job(&store, tiny(&dup), DeviceChoice::Cpu)));
    let mut w = dup.to_vec();
    w.push("duplication.mode=weight");
    let weighted = started_id(&run_to_end(job(&store, tiny(&w), DeviceChoice::Cpu)));
    let plain = started_id(&run_to_end(job(&store, tiny(&[]), DeviceChoice::Cpu)));
    let summary = |id: &str| store.open(id).unwrap().summary().unwrap().unwrap();
    assert_eq!(summary(&copied).train_size, 10_000 + 3_000);
    assert_eq!(summary(&weighted).train_size, 10_000, "no copies");
    let groups = summary(&weighted).groups.expect("group metrics");
    assert_eq!(
        groups.groups["duplicated"].images,
        1_000,
        "{:?}",
        groups.groups.keys()
    );
    let losses = |id: &str| file_epochs(&store.open(id).unwrap());
    // The same originals in the same order as the plain run: only the weights differ.
    assert_ne!(losses(&weighted), losses(&plain));
}

/// The class-prior control by data: the copies' class counts reached with fresh images from the
/// reserve `data.train_per_class` leaves, every one distinct and none a duplicated group.
#[test]
fn the_fresh_image_control_trains_on_new_images_instead_of_copies() {
    let dir = tempfile::tempdir().unwrap();
    let store = RunStore::new(dir.path());
    let set = [
        "data.train_per_class=900",
        "duplication.rate=0.1",
        "duplication.mode=fresh",
    ];
    let id = started_id(&run_to_end(job(&store, tiny(&set), DeviceChoice::Cpu)));
    let run = store.open(&id).unwrap();
    let s = run.summary().unwrap().unwrap();
    assert_eq!(s.train_size, 9_000 + 900);
    assert_eq!(s.distinct_images, 9_900, "no image repeats");
    let groups = s.groups.expect("group metrics");
    assert!(!groups.groups.contains_key("duplicated"));
    let c = run.config().unwrap().unwrap();
    assert_eq!(c.plan_before, vec![900; 10]);
    assert_eq!(c.plan_after, vec![990; 10]);
    assert!(c.data_source.contains("first 900 training images a class"));
}

/// A reference model stopped and resumed trains on the same half of the pool and writes the
/// same reference scores as an uninterrupted one (its half and plan are rebuilt from the preset
/// and seed, never stored in the checkpoint).
#[test]
fn a_resumed_reference_model_writes_the_scores_of_an_uninterrupted_one() {
    let dir = tempfile::tempdir().unwrap();
    let store = RunStore::new(dir.path());
    let preset = || {
        tiny(&[
            "reference.models=8",
            "duplication.rate=0.02",
            "duplication.occurrences=[4, 8]",
        ])
    };
    let whole = started_id(&run_to_end(job(&store, preset(), DeviceChoice::Cpu)));
    let id = stop_at(job(&store, preset(), DeviceChoice::Cpu), 5);
    assert!(store.open(&id).unwrap().reference().unwrap().is_none());
    let mut j = job(&store, preset(), DeviceChoice::Cpu);
    j.resume = Some(id.clone());
    run_to_end(j);
    let a = store
        .open(&whole)
        .unwrap()
        .reference()
        .unwrap()
        .expect("scores");
    let b = store
        .open(&id)
        .unwrap()
        .reference()
        .unwrap()
        .expect("scores");
    assert_eq!((a.index, a.models, a.step), (3, 8, 12));
    assert_eq!(a.members, b.members);
    assert_eq!(a.occurrences, b.occurrences);
    assert_eq!(a.phi, b.phi, "the resumed model's margins differ");
    // About half the pool, and the plan's two levels among the members' occurrences.
    let members = a.member().iter().filter(|&&m| m).count();
    assert!((4_500..5_500).contains(&members), "{members}");
    let levels: std::collections::BTreeSet<u8> = a.occurrences.iter().copied().collect();
    assert_eq!(levels.into_iter().collect::<Vec<_>>(), vec![1, 4, 8]);
    // The run trained on its half: config.json's per-class counts are of the members.
    let c = store.open(&id).unwrap().require_config().unwrap();
    assert_eq!(c.plan_before.iter().sum::<usize>(), members);
}

/// The catastrophic-overfitting checks of a run stopped mid-way and resumed are exactly those of
/// an uninterrupted run: their history is in the checkpoint, their attacks seeded by the step,
/// and the checks after the checkpoint are cut with the trainer's other records.
#[test]
fn an_fgsm_run_stopped_and_resumed_checks_as_an_uninterrupted_one() {
    let dir = tempfile::tempdir().unwrap();
    let store = RunStore::new(dir.path());
    let preset = || {
        tiny(&[
            "attack.train.kind=fgsm-rs",
            "attack.train.eps=0.1",
            "attack.train.step=0.125",
            "training.overfit_every=2",
        ])
    };
    let checks = |id: &str| -> Vec<crate::store::OverfitRecord> {
        store
            .open(id)
            .unwrap()
            .metrics()
            .unwrap()
            .into_iter()
            .filter_map(|m| match m {
                MetricRecord::Overfit(o) => Some(o),
                _ => None,
            })
            .collect()
    };
    let whole = started_id(&run_to_end(job(&store, preset(), DeviceChoice::Cpu)));
    let id = stop_at(job(&store, preset(), DeviceChoice::Cpu), 5);
    assert_eq!(store.open(&id).unwrap().status(), RunStatus::Interrupted);
    let mut j = job(&store, preset(), DeviceChoice::Cpu);
    j.resume = Some(id.clone());
    let resumed = run_to_end(j);
    assert!(matches!(resumed.last(), Some(TrainEvent::Finished { .. })));
    let want = checks(&whole);
    assert_eq!(
        want.iter().map(|c| c.step).collect::<Vec<_>>(),
        [2, 4, 6, 8, 10, 12]
    );
    assert_eq!(checks(&id), want);
}

#[test]
fn an_error_inside_training_ends_as_a_failed_run() {
    let dir = tempfile::tempdir().unwrap();
    let store = RunStore::new(dir.path());
    // PreAct-ResNet-18 refuses 28×28 grey images. A new run fails before it exists (a run
    // appears in the store only whole, with its config): the error, and no folder.
    let preset = tiny(&["training.model=preact-resnet18"]);
    let ev = run_to_end(job(&store, preset.clone(), DeviceChoice::Cpu));
    match ev.last() {
        Some(TrainEvent::Failed {
            run_id: None,
            error,
        }) => assert!(error.contains("32×32"), "{error}"),
        other => panic!("{other:?}"),
    }
    assert!(store.runs().unwrap().is_empty(), "nothing half made");
    // A folder the lab prepared is the run's from the first moment: the failure is recorded in
    // it (status failed, the error in its summary).
    let run = store.create_with_id("20260101-000000-x-fa11ed").unwrap();
    run.write_preset(&preset).unwrap();
    let mut j = job(&store, preset, DeviceChoice::Cpu);
    j.prepared = Some(run.id.clone());
    let ev = run_to_end(j);
    match ev.last() {
        Some(TrainEvent::Failed {
            run_id: Some(_),
            error,
        }) => assert!(error.contains("32×32"), "{error}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(run.status(), RunStatus::Failed);
    assert!(
        run.summary()
            .unwrap()
            .unwrap()
            .error
            .unwrap()
            .contains("32×32")
    );
}

#[test]
fn missing_data_fails_before_any_run_folder() {
    let dir = tempfile::tempdir().unwrap();
    let store = RunStore::new(dir.path().join("runs"));
    let mut j = job(&store, tiny(&["data.set=cifar10"]), DeviceChoice::Cpu);
    j.data_dir = Some(dir.path().join("nowhere"));
    let ev = run_to_end(j);
    assert!(
        matches!(ev.last(), Some(TrainEvent::Failed { run_id: None, .. })),
        "{:?}",
        ev.last()
    );
    assert!(store.runs().unwrap().is_empty());
}

#[test]
fn fixed_step_budget_gives_duplicated_runs_the_same_steps() {
    let dir = tempfile::tempdir().unwrap();
    let store = RunStore::new(dir.path());
    let ev = run_to_end(job(
        &store,
        tiny(&["duplication.rate=0.5"]),
        DeviceChoice::Cpu,
    ));
    let Some(TrainEvent::Finished { summary, .. }) = ev.last() else {
        panic!("{:?}", ev.last())
    };
    assert_eq!(summary.steps_done, 12);
    assert_eq!(summary.train_size, 15_000);
    assert_eq!(summary.distinct_images, 10_000);
}

/// The step schedule under a step budget decays at the same steps whatever the duplication:
/// its epoch is the un-duplicated set's (otherwise a duplicated run decays later, the confound
/// the budget exists to remove).
#[test]
fn step_schedule_under_a_budget_ignores_duplication() {
    let lrs = |rate: &str| -> Vec<f64> {
        let dir = tempfile::tempdir().unwrap();
        let store = RunStore::new(dir.path());
        let ev = run_to_end(job(
            &store,
            // 10,000 clean images in batches of 1,000: an epoch is 10 steps; decay every epoch.
            tiny(&[
                rate,
                "training.batch_size=1000",
                "training.schedule=step",
                "training.step_every=1",
                "training.gamma=0.5",
                "training.eval_every=12",
                "training.group_every=0",
            ]),
            DeviceChoice::Cpu,
        ));
        ev.iter()
            .filter_map(|e| match e {
                TrainEvent::Step { record, .. } => Some(record.lr),
                _ => None,
            })
            .collect()
    };
    let clean = lrs("duplication.rate=0.0");
    assert_eq!(clean, lrs("duplication.rate=0.5"));
    // A record every step here (an epoch has fewer than 25 steps): record k has the lr of
    // step k − 1, in epoch (k − 1) / 10.
    assert_eq!(clean.len(), 12);
    assert_eq!((clean[0], clean[9], clean[10]), (0.05, 0.05, 0.025));
}

/// The wgpu path, on whatever adapter exists (software Vulkan in CI).
#[test]
fn wgpu_backend_trains_a_tiny_run() {
    let required = std::env::var("DUPLAB_TEST_WGPU").is_ok_and(|v| v == "1");
    if crate::backend::adapters().is_empty() {
        assert!(
            !required,
            "DUPLAB_TEST_WGPU=1 but no wgpu adapter was found (install libvulkan1 mesa-vulkan-drivers)"
        );
        eprintln!(
            "SKIPPED: no wgpu adapter (no Vulkan driver); set up software Vulkan to run this test"
        );
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let store = RunStore::new(dir.path());
    let ev = run_to_end(job(
        &store,
        tiny(&[
            "training.steps=3",
            "training.eval_every=3",
            "training.batch_size=16",
        ]),
        DeviceChoice::Gpu,
    ));
    match ev.last() {
        Some(TrainEvent::Finished { summary, .. }) => {
            assert!(summary.test_loss.unwrap().is_finite());
            // On the GPU path too: one upload a step, no readback inside the steps.
            let t = summary.transfers.expect("transfer counts");
            assert_eq!((t.steps, t.uploads, t.readbacks), (3, 3, 0));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        store.runs().unwrap()[0].require_config().unwrap().backend,
        "wgpu"
    );
}

/// A training step moves one buffer to the device (the batch's indices with the augmentation's
/// gather offsets) and reads nothing back, with augmentation, loss weights and an adversarial
/// attack all on: the summary counts what the steps did.
#[test]
fn a_training_step_uploads_once_and_reads_nothing_back() {
    let dir = tempfile::tempdir().unwrap();
    let store = RunStore::new(dir.path());
    let ev = run_to_end(job(
        &store,
        tiny(&[
            "training.augment.crop=2",
            "training.augment.flip=true",
            "duplication.rate=0.1",
            "duplication.mode=weight",
            "attack.train.kind=fgsm-rs",
            "attack.train.eps=0.1",
            "attack.train.step=0.125",
        ]),
        DeviceChoice::Cpu,
    ));
    let Some(TrainEvent::Finished { summary, .. }) = ev.last() else {
        panic!("{:?}", ev.last());
    };
    let t = summary.transfers.expect("transfer counts");
    assert_eq!((t.steps, t.uploads, t.readbacks), (12, 12, 0), "{t:?}");
}

#[test]
fn pause_then_resume_then_finish() {
    let dir = tempfile::tempdir().unwrap();
    let store = RunStore::new(dir.path());
    let _serial = burn_serial();
    let (tx, rx) = channel();
    let w = spawn(job(&store, tiny(&[]), DeviceChoice::Cpu), tx);
    let mut kinds = vec![];
    for ev in rx.iter() {
        match &ev {
            TrainEvent::Step { record, .. }
                if record.step >= 2
                    && !kinds.contains(&"paused")
                    && !kinds.contains(&"pause-sent") =>
            {
                w.send(Control::Pause);
                kinds.push("pause-sent");
            }
            TrainEvent::Paused { .. } => {
                kinds.push("paused");
                std::thread::sleep(std::time::Duration::from_millis(300));
                w.send(Control::Resume);
            }
            TrainEvent::Resumed { .. } => kinds.push("resumed"),
            TrainEvent::Finished { summary, .. } => {
                kinds.push("finished");
                assert_eq!(summary.steps_done, 12);
            }
            _ => {}
        }
    }
    w.join();
    assert_eq!(kinds, vec!["pause-sent", "paused", "resumed", "finished"]);
}

/// Heavy duplication is memorised first: after a short run, the duplicated originals have a
/// lower loss than the unique sample, and leak membership more (AUC against the test set).
#[test]
fn heavily_duplicated_images_end_with_lower_loss_than_unique_ones() {
    let dir = tempfile::tempdir().unwrap();
    let store = RunStore::new(dir.path());
    let ev = run_to_end(job(
        &store,
        tiny(&[
            "training.steps=150",
            "training.eval_every=150",
            "training.batch_size=64",
            "duplication.rate=0.01",
            "duplication.copies=20",
        ]),
        DeviceChoice::Cpu,
    ));
    let Some(TrainEvent::Finished { summary, .. }) = ev.last() else {
        panic!("{:?}", ev.last());
    };
    let g = summary
        .groups
        .as_ref()
        .expect("group metrics at the last evaluation");
    let dup = &g.groups["duplicated"];
    let uni = &g.groups["unique"];
    assert_eq!(dup.images, 100);
    assert_eq!(uni.images, crate::data::UNIQUE_SAMPLE);
    assert_eq!(g.groups["test"].images, 2000);
    assert!(
        dup.loss < 0.85 * uni.loss,
        "duplicated {:.4} vs unique {:.4}",
        dup.loss,
        uni.loss
    );
    assert!(dup.gap > uni.gap);
    let (md, mu) = (&g.membership["duplicated"], &g.membership["unique"]);
    assert!(
        md.auc > mu.auc,
        "AUC duplicated {} vs unique {}",
        md.auc,
        mu.auc
    );
    // The record in metrics.jsonl carries the same metrics under explicit names.
    let run = store.runs().unwrap().pop().unwrap();
    let last = run
        .metrics()
        .unwrap()
        .into_iter()
        .filter_map(|m| match m {
            MetricRecord::Epoch(e) => e.groups,
            _ => None,
        })
        .last()
        .unwrap();
    // The record read back from metrics.jsonl equals summary.json's (both parsed the same way;
    // serde_json's default parser may be one unit in the last place off the in-memory value).
    let on_disk = run
        .summary()
        .unwrap()
        .unwrap()
        .groups
        .expect("groups in summary.json");
    assert_eq!(last.groups["duplicated"], on_disk.groups["duplicated"]);
    let (a, b) = (&last.groups["duplicated"], dup);
    assert_eq!(
        (a.images, a.acc, &a.per_class_acc),
        (b.images, b.acc, &b.per_class_acc)
    );
    assert!((a.loss - b.loss).abs() <= 4.0 * f64::EPSILON * b.loss.abs());
    assert!(last.seconds > 0.0);
    // Leakage-aware accuracy: the embedded subset has 3 test images within 0.05 of a train image.
    let l = summary.leakage.expect("leaky/fair accuracy");
    assert_eq!((l.leaky, l.fair, l.threshold), (3, 1997, 0.05));
    assert!(l.leaky_acc.is_some() && l.fair_acc.is_some());
}

/// FGSM-RS training checks for catastrophic overfitting on its own step interval (PGD and FGSM
/// accuracy of 256 training images), each check its own record; standard training does not.
#[test]
fn fgsm_training_records_the_catastrophic_overfitting_check() {
    let dir = tempfile::tempdir().unwrap();
    let store = RunStore::new(dir.path());
    let p = tiny(&[
        "attack.train.kind=fgsm-rs",
        "attack.train.eps=0.1",
        "attack.train.step=0.125",
        "training.steps=8",
        "training.overfit_every=3",
    ]);
    let events = run_to_end(job(&store, p, DeviceChoice::Cpu));
    let checks: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            TrainEvent::Overfit { record, .. } => Some(*record),
            _ => None,
        })
        .collect();
    assert_eq!(
        checks.iter().map(|c| c.step).collect::<Vec<_>>(),
        [3, 6],
        "every 3 steps, not at the evaluations"
    );
    for c in &checks {
        let c = c.stat;
        assert_eq!(c.images, 256);
        assert!((0.0..=1.0).contains(&c.pgd_acc) && (0.0..=1.0).contains(&c.fgsm_acc));
        assert!(
            c.pgd_acc <= c.fgsm_acc + 0.05,
            "PGD is the stronger attack: {c:?}"
        );
    }
    // The records are in the metrics file, and the evaluations no longer carry the check.
    let id = events
        .iter()
        .find_map(|e| match e {
            TrainEvent::Started { run_id, .. } => Some(run_id.clone()),
            _ => None,
        })
        .unwrap();
    let recorded: Vec<_> = store
        .open(&id)
        .unwrap()
        .metrics()
        .unwrap()
        .into_iter()
        .filter_map(|m| match m {
            crate::store::MetricRecord::Overfit(o) => Some(o),
            crate::store::MetricRecord::Epoch(e) => {
                assert!(e.overfit.is_none());
                None
            }
            _ => None,
        })
        .collect();
    assert_eq!(recorded, checks);
    let events = run_to_end(job(&store, tiny(&["training.steps=4"]), DeviceChoice::Cpu));
    assert!(
        !events
            .iter()
            .any(|e| matches!(e, TrainEvent::Overfit { .. }))
    );
}

/// The error a job ended with (its last event).
fn failure(events: &[TrainEvent]) -> String {
    match events.last() {
        Some(TrainEvent::Failed { error, .. }) => error.clone(),
        other => panic!("the job did not fail: {other:?}"),
    }
}

/// A paused run still has its trainer: `--resume` must not start a second one on it.
#[test]
fn resuming_a_paused_run_whose_trainer_lives_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let store = RunStore::new(dir.path());
    // Owned by a trainer of this (live) process, held by a pause: its lease is renewed.
    let run = store.create("default").unwrap();
    run.set_status(RunStatus::Paused).unwrap();
    let _paused_trainer = run.start_heartbeat(1);
    let mut j = job(&store, tiny(&[]), DeviceChoice::Cpu);
    j.resume = Some(run.id.clone());
    let e = failure(&run_to_end(j));
    assert!(
        e.contains("paused") && e.contains(&std::process::id().to_string()),
        "{e}"
    );
    assert_eq!(
        run.status(),
        RunStatus::Paused,
        "the owner's run is left as it was"
    );
}

/// `--prepared` is for a folder the lab prepared and nobody started: on a finished run it is an
/// error that leaves the run finished (and in the reports).
#[test]
fn a_prepared_start_on_a_finished_run_leaves_it_finished() {
    let dir = tempfile::tempdir().unwrap();
    let store = RunStore::new(dir.path());
    let done = run_to_end(job(&store, tiny(&[]), DeviceChoice::Cpu));
    let id = started_id(&done);
    let run = store.open(&id).unwrap();
    assert_eq!(run.status(), RunStatus::Finished);
    let before = run.summary().unwrap().unwrap();
    let mut j = job(&store, tiny(&[]), DeviceChoice::Cpu);
    j.prepared = Some(id.clone());
    let e = failure(&run_to_end(j));
    assert!(e.contains("--resume") || e.contains("finished"), "{e}");
    assert_eq!(run.status(), RunStatus::Finished);
    assert_eq!(
        run.summary().unwrap().unwrap(),
        before,
        "its summary is untouched"
    );
}

/// A run deleted while its trainer is paused: the trainer notices and ends without writing
/// anything back (no half folder with checkpoints and a summary but no config).
#[test]
fn a_trainer_whose_folder_was_deleted_stops_and_writes_nothing() {
    let _serial = burn_serial();
    let dir = tempfile::tempdir().unwrap();
    let store = RunStore::new(dir.path());
    let (tx, rx) = channel();
    let w = spawn(
        job(&store, tiny(&["training.steps=400"]), DeviceChoice::Cpu),
        tx,
    );
    let timeout = std::time::Duration::from_secs(20);
    let mut folder = None;
    while let Ok(ev) = rx.recv_timeout(timeout) {
        match &ev {
            TrainEvent::Step { run_id, .. } if folder.is_none() => {
                w.send(Control::Pause);
                folder = Some(store.open(run_id).unwrap().dir);
            }
            TrainEvent::Paused { .. } => {
                std::fs::remove_dir_all(folder.as_ref().unwrap()).unwrap();
            }
            e if e.is_final() => break,
            _ => {}
        }
    }
    // A trainer still waiting (the folder went unnoticed) is told to stop, so the test ends.
    w.send(Control::Stop);
    w.join();
    let folder = folder.expect("training started");
    assert!(
        !folder.exists(),
        "the trainer re-created {}: {:?}",
        folder.display(),
        std::fs::read_dir(&folder).map(|d| d.count())
    );
}

/// `duplab eval` during training (or beside an evaluation card): the trainer then rewrites the
/// summary from what it held before; the evaluation must survive it.
#[test]
fn an_evaluation_survives_the_trainer_rewriting_the_summary() {
    let dir = tempfile::tempdir().unwrap();
    let store = RunStore::new(dir.path());
    let id = started_id(&run_to_end(job(&store, tiny(&[]), DeviceChoice::Cpu)));
    let run = store.open(&id).unwrap();
    // What a trainer holds in memory: the summary as it was before the evaluation.
    let stale = run.summary().unwrap().unwrap();
    let attack = crate::spec::AttackSpec {
        kind: crate::spec::AttackKind::Fgsm,
        eps: 0.1,
        ..Default::default()
    };
    {
        let _serial = burn_serial();
        eval_run(&run, &attack, 16, DeviceChoice::Cpu, None, &mut |_, _| {}).unwrap();
    }
    assert_eq!(run.summary().unwrap().unwrap().evaluations.len(), 1);
    run.write_summary(&stale).unwrap();
    let after = run.summary().unwrap().unwrap();
    assert_eq!(
        after.evaluations.len(),
        1,
        "the evaluation was lost to a stale summary"
    );
}

/// Case 1 of the crash-consistency issue: a run killed before its first checkpoint, resumed,
/// recorded its first steps twice (curves, CSV and TensorBoard showed them twice). It restarts
/// from step 0 with its metrics cut, and its file equals an uninterrupted run's.
#[test]
fn a_run_killed_before_its_first_checkpoint_resumes_without_recording_a_step_twice() {
    let dir = tempfile::tempdir().unwrap();
    let store = RunStore::new(dir.path());
    let whole_events = run_to_end(job(&store, tiny(&[]), DeviceChoice::Cpu));
    let whole = store.open(&started_id(&whole_events)).unwrap();
    // The same run again, then made to look killed before its first checkpoint: its steps are
    // in the metrics file, no checkpoint, the status still running, the trainer gone.
    let events = run_to_end(job(&store, tiny(&[]), DeviceChoice::Cpu));
    let id = started_id(&events);
    let run = store.open(&id).unwrap();
    std::fs::remove_dir_all(run.checkpoints_dir()).unwrap();
    std::fs::create_dir_all(run.checkpoints_dir()).unwrap();
    run.set_status(RunStatus::Interrupted).unwrap();
    let mut j = job(&store, tiny(&[]), DeviceChoice::Cpu);
    j.resume = Some(id.clone());
    let resumed = run_to_end(j);
    assert!(
        matches!(resumed.last(), Some(TrainEvent::Finished { .. })),
        "{:?}",
        resumed.last()
    );
    let steps: Vec<usize> = run
        .metrics()
        .unwrap()
        .iter()
        .filter_map(|r| match r {
            crate::store::MetricRecord::Step(s) => Some(s.step),
            _ => None,
        })
        .collect();
    let mut unique = steps.clone();
    unique.dedup();
    assert_eq!(steps, unique, "a step recorded twice: {steps:?}");
    assert_eq!(file_epochs(&run), file_epochs(&whole));
}

/// A device out of memory is said with the device, the model, the batch size and a smaller one.
#[test]
fn an_out_of_memory_failure_names_device_model_and_batch() {
    let dir = tempfile::tempdir().unwrap();
    let store = RunStore::new(dir.path());
    let j = job(
        &store,
        tiny(&["training.batch_size=256"]),
        DeviceChoice::GpuIndex(1),
    );
    let hint = super::trainer::out_of_memory_hint(
        "training panicked: Out of memory: failed to allocate a buffer of 2147483648 bytes",
        &j,
        "gpu:1 NVIDIA H200 (Vulkan, DiscreteGpu)",
    )
    .unwrap();
    assert!(
        hint.contains("device gpu:1 NVIDIA H200")
            && hint.contains("small-cnn")
            && hint.contains("batch size 256")
            && hint.contains("training.batch_size=128"),
        "{hint}"
    );
    assert_eq!(
        super::trainer::out_of_memory_hint("file not found", &j, "cpu"),
        None
    );
}
