//! `duplab train`: one preset (one or all seeds) headless. A progress bar on a TTY, plain lines
//! otherwise (nohup, CI). Ctrl-C, SIGTERM and SIGHUP stop cleanly with a checkpoint (status
//! `interrupted`, resumable with `--resume`); a second Ctrl-C exits at once.

use super::TrainArgs;
use super::exit::{EXIT_INTERRUPTED, failure, stop_flag};
use super::sweep_child::PointEvent;
use crate::report::pct_str;
use crate::spec::find_preset;
use crate::store::{PointTake, RunStore};
use crate::train::{Control, TrainEvent, TrainJob, WorkerHandle, spawn};
use anyhow::Result;
use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{RecvTimeoutError, channel};
use std::time::{Duration, Instant};

pub fn run(store: &RunStore, args: TrainArgs) -> Result<i32> {
    let (preset, resume_seed) = match (&args.resume, &args.prepared) {
        (None, Some(id)) => match prepared_preset(store, id, &args.set) {
            Ok(p) => (p, None),
            Err(e) => {
                // The lab watches a folder it prepared: say there why nothing trains. A folder
                // that was started before (it has a config) is not the lab's to mark.
                if let Ok(run) = store.open(id)
                    && !run.dir.join(crate::store::layout::CONFIG).exists()
                {
                    let _ = run.mark_failed(&format!("{e:#}"));
                }
                return Err(failure(format!("{e:#}")));
            }
        },
        (Some(id), _) => match resumed_launch(store, id) {
            Ok((p, s)) => (p, Some(s)),
            Err(e) => return Err(failure(format!("{e:#}"))),
        },
        (None, None) => match find_preset(&args.preset, &args.set) {
            Ok(p) => (p, None),
            Err(e) => return Err(failure(e)),
        },
    };
    // A prepared folder's trainer takes the seed its launcher recorded, unless told another.
    let prepared_seed = args
        .prepared
        .as_ref()
        .filter(|_| args.resume.is_none() && args.seed.is_none())
        .and_then(|id| Some(store.open(id).ok()?.launch()?.seed));
    let resume_seed = resume_seed.or(prepared_seed);
    let seeds: Vec<u64> = match (resume_seed, args.seed, args.all_seeds) {
        (Some(s), _, _) => vec![s],
        (None, Some(s), _) => vec![s],
        (None, None, true) => preset.training.seeds.clone(),
        (None, None, false) => vec![preset.training.seeds[0]],
    };
    let stop = stop_flag();
    let mode = if args.events_json {
        Mode::Json
    } else if std::io::stderr().is_terminal() && !args.plain {
        Mode::Fancy
    } else {
        Mode::Plain
    };
    let mut code = 0;
    for seed in seeds {
        // A sweep task (e.g. a Slurm array task) skips a finished point and resumes an interrupted one.
        // The point is claimed before any data loads, so two tasks never train it twice.
        let mut resume = args.resume.clone();
        let mut prepared = args.prepared.clone();
        if let (Some(sweep), Some(point), None) = (&args.sweep, &args.point, &args.resume) {
            let skip = |id: &str| match mode {
                Mode::Json => PointEvent::Skipped { run_id: id.into() }.emit(),
                _ => {
                    outln!("{sweep} {point} seed {seed}: already done or running as {id}; skipped")
                }
            };
            match store.take_point(sweep, point, seed, &preset)? {
                PointTake::Skip(id) => {
                    skip(&id);
                    continue;
                }
                PointTake::Resume(id) => {
                    // Taken here, before the trainer starts: of two sweeps (or tasks) that both
                    // found the point interrupted, one resumes it and the other skips it.
                    match store.open(&id)?.take_lease() {
                        Ok(_) => resume = Some(id),
                        Err(crate::store::StoreError::Owned { .. }) => {
                            skip(&id);
                            continue;
                        }
                        Err(e) => return Err(e.into()),
                    }
                }
                PointTake::Start(run) => prepared = Some(run.id),
            }
        }
        let job = TrainJob {
            preset: preset.clone(),
            seed,
            // The command line's device, else the preset's.
            device: args.device.or(preset.training.device).unwrap_or_default(),
            data_dir: args.data_dir.clone(),
            store: store.clone(),
            resume,
            prepared,
            sweep: args.sweep.clone(),
            point: args.point.clone(),
        };
        code = watch(job, &stop, mode)?;
        if code != 0 {
            break;
        }
    }
    Ok(code)
}

/// The preset a launcher wrote into a run folder it prepared.
fn prepared_preset(
    store: &RunStore,
    id: &str,
    overrides: &[String],
) -> anyhow::Result<crate::spec::Preset> {
    let run = store.open(id)?;
    let path = run.preset_path();
    if !path.exists() {
        anyhow::bail!(
            "run {} has no preset.toml ({}): only a folder the lab prepared can be trained with --prepared",
            run.id,
            path.display()
        );
    }
    Ok(crate::spec::Preset::load(&path, overrides)?)
}

/// The preset and seed a resumed run trains with: its config's; or, for a run killed before it
/// wrote its config, what its launcher (the lab, a sweep) recorded in the folder.
fn resumed_launch(store: &RunStore, id: &str) -> anyhow::Result<(crate::spec::Preset, u64)> {
    let run = store.open(id)?;
    if let Some(c) = run.config()? {
        return Ok((c.preset, c.seed));
    }
    match run.launch() {
        Some(l) if run.preset_path().exists() => Ok((prepared_preset(store, id, &[])?, l.seed)),
        _ => anyhow::bail!(
            "run {id} has no config.json and no launch record (preset.toml and launch.json): it was stopped before it started training, so there is nothing to resume; start a new run"
        ),
    }
}

/// A Slurm task's log (`DUPLAB_TASK_LOG`, set by the emitted script) linked into its run folder,
/// once the run is known. A failure costs only the link: said, never fatal.
fn link_task_log(store: &RunStore, run_id: &str) {
    let Some(log) = std::env::var_os("DUPLAB_TASK_LOG").map(std::path::PathBuf::from) else {
        return;
    };
    if !log.exists() {
        return;
    }
    let job = crate::store::slurm_job().unwrap_or_else(|| "task".into());
    if let Err(e) = store.open(run_id).and_then(|r| r.link_task_log(&log, &job)) {
        errln!("warning: the task log was not linked into the run folder: {e}");
    }
}

/// How `duplab train` reports: a progress bar, plain lines, or JSON lines to a parent sweep.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Fancy,
    Plain,
    Json,
}

/// Run one job and report its events until it ends; returns the exit code.
pub fn watch(job: TrainJob, stop: &AtomicBool, mode: Mode) -> Result<i32> {
    let (tx, rx) = channel();
    let store = job.store.clone();
    let worker = spawn(job, tx);
    if mode == Mode::Json {
        return Ok(watch_json(&store, worker, rx, stop));
    }
    let mut stop_sent = false;
    let bar = if mode == Mode::Fancy {
        Some(ProgressBar::new(1))
    } else {
        None
    };
    if let Some(b) = &bar {
        b.set_style(
            ProgressStyle::with_template(
                "{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} steps  ETA {eta}  {msg}",
            )
            .expect("template is valid"),
        );
        b.enable_steady_tick(Duration::from_millis(200));
    }
    let say = |line: String| match &bar {
        Some(b) => b.println(line),
        None => outln!("{line}"),
    };
    let mut last_plain = Instant::now() - Duration::from_secs(60);
    let code = loop {
        let ev = match next_event(&rx, &worker, stop, &mut stop_sent, || {
            say("stopping: writing a checkpoint (press Ctrl-C again to quit at once)".into())
        }) {
            Ok(Some(ev)) => ev,
            Ok(None) => continue,
            Err(()) => break 1,
        };
        match ev {
            TrainEvent::Phase { phase, .. } => match &bar {
                Some(b) => b.set_message(phase.to_string()),
                None => outln!("{phase}"),
            },
            TrainEvent::Started {
                run_id,
                config,
                start_step,
            } => {
                let (total_steps, steps_per_epoch) = (config.total_steps, config.steps_per_epoch);
                let (backend, adapter) = (&config.backend, &config.device);
                link_task_log(&store, &run_id);
                // The run id alone on stdout's first line, so scripts can capture it.
                if bar.is_some() {
                    outln!("{run_id}");
                }
                say(format!(
                    "run {run_id}: {total_steps} steps ({steps_per_epoch} per epoch){} on {backend} ({adapter})",
                    if start_step > 0 {
                        format!(", resuming at step {start_step}")
                    } else {
                        String::new()
                    }
                ));
                if let Some(b) = &bar {
                    b.set_length(total_steps as u64);
                    b.set_position(start_step as u64);
                    b.reset_eta();
                }
            }
            TrainEvent::Step { record: r, .. } => {
                let msg = format!(
                    "epoch {:.2}  loss {:.4}  acc {:.1}%  {:.0} img/s",
                    r.epoch,
                    r.loss,
                    r.acc * 100.0,
                    r.images_per_s
                );
                match &bar {
                    Some(b) => {
                        b.set_position(r.step as u64);
                        b.set_message(msg);
                    }
                    None if last_plain.elapsed() >= Duration::from_secs(5) => {
                        last_plain = Instant::now();
                        outln!("step {}  {msg}", r.step);
                    }
                    None => {}
                }
            }
            TrainEvent::Epoch { record: e, .. } => say(format!(
                "eval {} (step {}): test acc {:.2}%  test loss {:.4}  train loss {:.4}{}  [{:.0} s]",
                e.evaluation,
                e.step,
                e.test_acc * 100.0,
                e.test_loss,
                e.train_loss,
                e.robust
                    .as_ref()
                    .map(|r| format!("  robust acc {:.2}% ({})", r.acc * 100.0, r.attack))
                    .unwrap_or_default(),
                e.elapsed_s
            )),
            TrainEvent::Overfit { record: o, .. } => say(format!(
                "overfit check (step {}): PGD {:.1}% / FGSM {:.1}% on {} training images{}",
                o.step,
                o.stat.pgd_acc * 100.0,
                o.stat.fgsm_acc * 100.0,
                o.stat.images,
                if o.stat.alarm {
                    "  ⚠ catastrophic overfitting"
                } else {
                    ""
                }
            )),
            TrainEvent::Finished { run_id, summary } => {
                if let Some(b) = &bar {
                    b.finish_and_clear();
                }
                outln!(
                    "finished {run_id}: clean acc {}%  robust acc {}%  in {:.1} s",
                    pct_str(summary.test_acc),
                    pct_str(summary.robust_acc),
                    summary.duration_s
                );
                break 0;
            }
            TrainEvent::Stopped { run_id, step } => {
                if let Some(b) = &bar {
                    b.finish_and_clear();
                }
                outln!(
                    "interrupted {run_id} at step {step}; continue with: duplab train --resume {run_id}"
                );
                break EXIT_INTERRUPTED;
            }
            TrainEvent::Failed { run_id, error } => {
                if let Some(b) = &bar {
                    b.finish_and_clear();
                }
                errln!(
                    "error: {}{error}",
                    run_id
                        .map(|r| format!("run {r} failed: "))
                        .unwrap_or_default()
                );
                break 1;
            }
            TrainEvent::Paused { .. }
            | TrainEvent::Resumed { .. }
            | TrainEvent::CheckpointSaved { .. }
            | TrainEvent::Robust { .. } => {}
        }
    };
    worker.join();
    Ok(code)
}

/// The worker's next event within 100 ms (`Ok(None)`: none yet; `Err`: the worker is gone),
/// after passing a stop request on to it once (`on_stop` says so to the user).
fn next_event(
    rx: &std::sync::mpsc::Receiver<TrainEvent>,
    worker: &WorkerHandle,
    stop: &AtomicBool,
    stop_sent: &mut bool,
    on_stop: impl FnOnce(),
) -> Result<Option<TrainEvent>, ()> {
    if stop.load(Ordering::Relaxed) && !*stop_sent {
        on_stop();
        worker.send(Control::Stop);
        *stop_sent = true;
    }
    match rx.recv_timeout(Duration::from_millis(100)) {
        Ok(ev) => Ok(Some(ev)),
        Err(RecvTimeoutError::Timeout) => Ok(None),
        Err(RecvTimeoutError::Disconnected) => Err(()),
    }
}

/// `watch` for a parent sweep: the events it shows, as JSON lines (see `sweep_child`).
fn watch_json(
    store: &RunStore,
    worker: WorkerHandle,
    rx: std::sync::mpsc::Receiver<TrainEvent>,
    stop: &AtomicBool,
) -> i32 {
    let mut stop_sent = false;
    let code = loop {
        let ev = match next_event(&rx, &worker, stop, &mut stop_sent, || {}) {
            Ok(Some(ev)) => ev,
            Ok(None) => continue,
            Err(()) => break 1,
        };
        let (out, code) = match ev {
            TrainEvent::Started {
                run_id, start_step, ..
            } => {
                link_task_log(store, &run_id);
                (PointEvent::Started { run_id, start_step }, None)
            }
            TrainEvent::Epoch { record, .. } => (
                PointEvent::Evaluated {
                    step: record.step,
                    test_acc: record.test_acc,
                    robust_acc: record.robust.as_ref().map(|r| r.acc),
                },
                None,
            ),
            TrainEvent::Finished { run_id, summary } => (
                PointEvent::Finished {
                    run_id,
                    test_acc: summary.test_acc,
                    robust_acc: summary.robust_acc,
                    duration_s: summary.duration_s,
                },
                Some(0),
            ),
            TrainEvent::Stopped { run_id, step } => {
                (PointEvent::Stopped { run_id, step }, Some(EXIT_INTERRUPTED))
            }
            TrainEvent::Failed { error, .. } => (PointEvent::Failed { error }, Some(1)),
            _ => continue,
        };
        out.emit();
        if let Some(c) = code {
            break c;
        }
    };
    worker.join();
    code
}
