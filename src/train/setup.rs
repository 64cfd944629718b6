//! A run's setup, before its first step: load the data (dedup it when the preset says so),
//! build the plan, pick the device, create, take over or resume the run folder, write its
//! config, build model and optimiser (from the checkpoint when resuming), upload the data, and
//! find the groups and the leaky test images the evaluations split by.

use super::batches::Batches;
use super::checkpoint::{self, TrainerState};
use super::reporter::send_phase;
use super::trainer::{TrainJob, eval_points, optimizer};
use super::{DeviceData, TrainEvent};
use crate::backend::select;
use crate::data;
use crate::nn::{InputShape, Net};
use crate::spec::Length;
use crate::store::{
    DataChecksums, Heartbeat, Phase, Run, RunConfig, RunStatus, StoreError, Summary,
};
use anyhow::{Result, anyhow, bail};
use burn::module::Module;
use burn::optim::ModuleOptimizer;
use burn::prelude::*;
use std::panic::AssertUnwindSafe;
use std::sync::mpsc::Sender;
use std::time::Instant;

/// A failed job, with the run folder it had by then (so the caller can mark it `failed`).
#[derive(Debug)]
pub struct JobError {
    pub run: Option<Run>,
    pub error: anyhow::Error,
}

impl std::fmt::Display for JobError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:#}", self.error)
    }
}

impl std::error::Error for JobError {}

/// How long the run is and when it evaluates.
pub struct Schedule {
    pub total_steps: usize,
    pub steps_per_epoch: usize,
    /// Steps of an epoch as the learning-rate schedule counts them (see `schedule_epoch`).
    pub schedule_epoch: usize,
    /// Steps after which the test set is evaluated.
    pub points: Vec<usize>,
    /// A step record every this many steps.
    pub emit_every: usize,
}

/// The epoch length the step schedule decays by: the run's own epochs when it is measured in
/// epochs; under a fixed step budget, the *un-duplicated* set's, so that duplicated and clean
/// runs decay at the same steps (the budget's whole point).
pub fn schedule_epoch(
    length: Length,
    steps_per_epoch: usize,
    clean_len: usize,
    batch: usize,
) -> usize {
    match length {
        Length::Epochs(_) => steps_per_epoch,
        Length::Steps(_) => clean_len.div_ceil(batch.max(1)),
    }
}

/// What the trainer's loop starts from.
pub struct Setup {
    pub run: Run,
    /// The run's lease, renewed while the trainer owns the run.
    pub heartbeat: Heartbeat,
    pub state: TrainerState,
    pub schedule: Schedule,
    pub model: Net,
    pub optim: ModuleOptimizer,
    pub device: Device,
    /// The training pool (the train split, then near-duplicate copies) and the test split.
    pub train: DeviceData,
    pub test: DeviceData,
    pub batches: Batches,
    pub classes: usize,
    /// Which pool images are duplicated, copies, unique (a sample) or dropped.
    pub groups: data::Groups,
    /// Whether each test image is leaky (a training image within the data's leak threshold).
    pub leaky: Vec<bool>,
    pub summary: Summary,
    /// The model's input (shape and normalisation) and the class names, for the final weights.
    pub input: InputShape,
    pub class_names: Vec<String>,
    /// A reference model's half of the pool and the plan's occurrences (`[reference]` presets).
    pub reference: Option<Reference>,
    /// SHA-256 of the train split's images (the pool).
    pub pool_checksum: String,
    /// The weighted controls' loss weight of every pool image (`duplication.mode = "weight"` or
    /// `"class-weight"`); `None` otherwise.
    pub weights: Option<Vec<f32>>,
}

/// What a reference model records at its end besides the margins (`store::ReferenceScores`).
pub struct Reference {
    pub index: usize,
    /// Occurrences of each pool image in the full plan (k when it is a member).
    pub occurrences: Vec<u8>,
    pub member: Vec<bool>,
    pub shadowed: Vec<u32>,
    pub labels: Vec<u8>,
}

impl JobError {
    /// Run `f`, a part of the job on `run`; its error or panic becomes a `JobError` on `run`.
    pub fn guard<T>(run: Option<&Run>, f: impl FnOnce() -> Result<T>) -> Result<T, JobError> {
        caught(f).map_err(|error| JobError {
            run: run.cloned(),
            error,
        })
    }
}

/// `f`'s result, a panic inside it turned into an error.
fn caught<T>(f: impl FnOnce() -> Result<T>) -> Result<T> {
    std::panic::catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|p| Err(panic_error(p.as_ref())))
}

/// A panic's payload as an error.
pub fn panic_error(p: &(dyn std::any::Any + Send)) -> anyhow::Error {
    let what = if let Some(s) = p.downcast_ref::<&str>() {
        s.to_string()
    } else if let Some(s) = p.downcast_ref::<String>() {
        s.clone()
    } else {
        "panic with a non-text payload".into()
    };
    anyhow!("training panicked: {what}")
}

/// Set the job up. A failure (an error or a panic) carries the run folder it had by then.
pub fn prepare(job: &TrainJob, events: &Sender<TrainEvent>) -> Result<Setup, JobError> {
    // The run folder is known only part way through: `prepare_into` records it as it goes.
    let mut run = None;
    // The run this job took for a resume, until `prepare_into` records it in `run`.
    let mut taken = None;
    let result = caught(|| prepare_into(job, events, &mut run, &mut taken));
    if result.is_err()
        && run.is_none()
        && let Some(r) = taken
    {
        // A resume that failed before it touched the run (its data did not load, say) leaves
        // it as it was, interrupted, and gives it back for the next taker.
        let _ = r.release_lease(true);
    }
    result.map_err(|error| JobError { run, error })
}

fn prepare_into(
    job: &TrainJob,
    events: &Sender<TrainEvent>,
    run_slot: &mut Option<Run>,
    taken: &mut Option<Run>,
) -> Result<Setup> {
    let preparing = Instant::now();
    let preset = &job.preset;
    let t = &preset.training;
    // A folder being resumed, or one a launcher prepared, is taken before any data loads (one
    // owner at a time, see store::lease), so that two trainers never load and train it both. A
    // prepared folder is ours from the first moment, so that whatever fails from here on is
    // recorded in it (status failed, the error in its summary); a resumed run only once its data
    // loaded (a resume with the wrong data folder leaves it interrupted, not failed).
    let owned = take_run(job)?;
    if job.resume.is_some() {
        *taken = owned.as_ref().map(|(r, _)| r.clone());
    }
    let prepared = owned
        .as_ref()
        .filter(|_| job.resume.is_none())
        .map(|(r, _)| r.clone());
    if let Some(run) = &prepared {
        *run_slot = Some(run.clone());
    }
    let say = |p: Phase| send_phase(events, prepared.as_ref(), p);
    say(Phase::LoadingData {
        set: preset.data.set.name().to_string(),
    });
    let decoding = |done: usize, total: usize| say(Phase::DecodingFolder { done, total });
    let (ds, skipped) = data::load_spec(&preset.data, job.data_dir.as_deref(), &decoding)?;
    if let Some(first) = skipped.first() {
        say(Phase::SkippedImages {
            count: skipped.len(),
            first: first.clone(),
        });
    }
    // data.train_per_class: the first n images of each class; the rest is the fresh-image reserve.
    let (ds, reserve) = match preset.data.train_per_class {
        None => (ds, None),
        Some(n) => {
            let (ds, reserve) = data::cut_train(ds, n)
                .map_err(|m| anyhow!("preset {}: data.train_per_class {m}", preset.name))?;
            (ds, Some(reserve))
        }
    };
    // The dedup control: the training set without its own near-duplicates, before the plan.
    let (ds, dedup) = if preset.duplication.dedup {
        let threshold = preset.duplication.dedup_threshold;
        say(Phase::Dedup { threshold });
        let (out, d) = data::deduplicate(&ds, threshold, data::cache_dir().as_deref(), &|_, _| {});
        let stat = d.stat(out.train.len());
        (out, Some(stat))
    } else {
        (ds, None)
    };
    let classes = ds.num_classes();
    let plan = data::make_plan_with(
        &preset.duplication,
        &ds.train.labels,
        reserve.as_ref().map(|r| r.labels.as_slice()),
        classes,
        job.seed,
    )
    .map_err(|e| anyhow!("preset {}: {}", preset.name, e.within("duplication")))?;
    // A reference model trains on its half of the pool, with the plan every model shares.
    let (plan, reference) = match &preset.reference {
        None => (plan, None),
        Some(r) => {
            let index = r
                .model_of(job.seed)
                .map_err(|why| anyhow!("preset {}: {why}", preset.name))?;
            let member = data::reference_members(r.seed, r.models, index, ds.train.len());
            let part = plan.restrict(&member, &ds.train.labels);
            let refs = Reference {
                index,
                occurrences: plan.occurrences(ds.train.len()),
                member,
                shadowed: vec![],
                labels: ds.train.labels.clone(),
            };
            (part, Some(refs))
        }
    };
    let (pool, indices) = plan.materialise(&ds.train, reserve.as_ref());
    // The un-duplicated set's size, which a fixed step budget decays by.
    let clean_len = ds.train.len();
    // Fresh images are training images like the others: the groups and the leakage search see
    // them as part of the training split.
    let mut ds = ds;
    if !plan.fresh.is_empty() {
        ds.train = pool.clone();
    }
    // The weighted controls: each pool image's loss weight (1 where the plan sets none).
    let weights = (!plan.weights.is_empty()).then(|| {
        let mut w = vec![1.0f32; pool.len()];
        for (&i, &x) in plan.indices.iter().zip(&plan.weights) {
            w[i as usize] = x;
        }
        w
    });
    let selected = select(job.device)?;
    let device = selected.device.clone();
    let inner = device.clone().inner();
    let shape = InputShape::of(&ds);

    let length = t
        .length()
        .map_err(|e| anyhow!("preset {}: {}", preset.name, e.within("training")))?;
    let steps_per_epoch = indices.len().div_ceil(t.batch_size);
    let total_steps = match length {
        Length::Epochs(e) => e * steps_per_epoch,
        Length::Steps(s) => s,
    };
    let schedule = Schedule {
        total_steps,
        steps_per_epoch,
        schedule_epoch: schedule_epoch(length, steps_per_epoch, clean_len, t.batch_size),
        points: eval_points(length, steps_per_epoch, total_steps, t.eval_every),
        emit_every: (steps_per_epoch / 25).max(1),
    };

    // `stop_on_overfit` must be able to fire: FGSM / FGSM-RS training, and two checks at least
    // (an alarm compares a check with the ones before it).
    if t.stop_on_overfit {
        match super::overfit::OverfitCheck::of(preset, schedule.schedule_epoch, classes) {
            None => bail!(
                "preset {}: training.stop_on_overfit applies to FGSM and FGSM-RS training only (this run trains with {}); remove it",
                preset.name,
                preset.attack.train.label()
            ),
            Some(c) if total_steps / c.every < 2 => bail!(
                "preset {}: training.stop_on_overfit is set, but at one catastrophic-overfitting check every {} steps only {} check(s) fit in {} steps, and an alarm needs two; set training.overfit_every to {} or less",
                preset.name,
                c.every,
                total_steps / c.every,
                total_steps,
                (total_steps / 2).max(1)
            ),
            _ => {}
        }
    }
    // A resumed run trains on the data it started with, or not at all: another data folder,
    // working directory or relative path would train the rest of it on other images (and the
    // new config would erase the evidence).
    let train_checksum = data::checksum(&ds.train.images);
    let data_checksums = DataChecksums {
        train_labels: data::checksum(&ds.train.labels),
        test_images: data::checksum(&ds.test.images),
        test_labels: data::checksum(&ds.test.labels),
    };
    if job.resume.is_some()
        && let Some((run, _)) = &owned
        && let Ok(Some(old)) = run.config()
        && let Some(part) = old.data_differs(&train_checksum, &data_checksums)
    {
        bail!(
            "run {} was trained on other data: its {part} differ from those it started on ({}), this resume loaded {}; resume it with the data it started on (--data-dir), or start a new run",
            run.id,
            old.data_source,
            ds.source,
        );
    }
    // A run being resumed or prepared is open; a new one is born below, whole.
    let (existing, state) = open_run(job, owned)?;
    if let Some((run, _)) = &existing {
        *run_slot = Some(run.clone());
    }

    device.seed(job.seed);
    let mut model = Net::new(t.model, &shape, &device)?;
    let mut optim = optimizer(preset);
    if state.step > 0
        && let Some((run, _)) = &existing
    {
        (model, optim) = checkpoint::load(run, &state, model, optim)?;
        // Records written after the checkpoint (a crash after it) are dropped, so the metrics
        // stream reads as one uninterrupted run: cut at the byte the checkpoint recorded (every
        // line before it kept as it is), or, for a checkpoint of an earlier version, by step.
        match state.metrics_bytes {
            Some(at) => run.cut_metrics(at)?,
            None => run.truncate_metrics(state.step)?,
        }
    } else if job.resume.is_some()
        && let Some((run, _)) = &existing
    {
        // Killed before its first checkpoint: it starts again from step 0, so nothing it
        // recorded stands.
        run.cut_metrics(0)?;
    }
    let resumed: (Option<String>, Option<String>) = match (&job.resume, &existing) {
        (Some(_), Some((run, _))) => match run.config().ok().flatten() {
            Some(c) => (c.sweep, c.point),
            None => run.launch().map_or((None, None), |l| (l.sweep, l.point)),
        },
        _ => (None, None),
    };
    let pool_checksum = train_checksum.clone();
    let mut config = RunConfig {
        id: existing
            .as_ref()
            .map_or_else(String::new, |(r, _)| r.id.clone()),
        preset: preset.clone(),
        seed: job.seed,
        backend: selected.backend.clone(),
        device: selected.adapter.clone(),
        version: env!("CARGO_PKG_VERSION").to_string(),
        created_at: match (&job.resume, &existing) {
            (Some(_), Some((run, _))) => run.started_at(),
            _ => crate::store::now(),
        },
        // A resume on the same images (checked above) from another place keeps the source the
        // run started from: config.json stays the record of where its data came from.
        data_source: match (&job.resume, &existing) {
            (Some(_), Some((run, _))) => run
                .config()
                .ok()
                .flatten()
                .map_or_else(|| ds.source.clone(), |c| c.data_source),
            _ => ds.source.clone(),
        },
        train_checksum,
        data_checksums: Some(data_checksums),
        plan_before: plan.before.clone(),
        plan_after: plan.after.clone(),
        plan_chosen: plan.chosen.clone(),
        class_names: ds.class_names.clone(),
        total_steps,
        steps_per_epoch,
        params: model.num_params(),
        // A resume by hand (`--resume ID`, no sweep arguments) keeps the sweep and point the
        // run was trained for: from its config, or its launch record when it had no config.
        sweep: job.sweep.clone().or_else(|| resumed.0.clone()),
        point: job.point.clone().or_else(|| resumed.1.clone()),
        input_mean: shape.mean.clone(),
        input_std: shape.std.clone(),
        dedup,
    };
    let (run, heartbeat) = match existing {
        Some((run, heartbeat)) => {
            run.write_config(&config)?;
            (run, heartbeat)
        }
        None => {
            // A new run appears in the store only with its config in it (staged under a hidden
            // name, then renamed): a kill at any moment leaves no run that cannot be resumed.
            let run = job.store.create_staged(&preset.name, |r| {
                r.write_config(&RunConfig {
                    id: r.id.clone(),
                    ..config.clone()
                })
            })?;
            config.id = run.id.clone();
            let heartbeat = run.start_heartbeat(1);
            (run, heartbeat)
        }
    };
    *run_slot = Some(run.clone());
    let _ = events.send(TrainEvent::Started {
        run_id: run.id.clone(),
        config: Box::new(config),
        start_step: state.step,
    });

    send_phase(events, Some(&run), Phase::Uploading);
    let train = DeviceData::upload(&pool, &inner);
    let test = DeviceData::upload(&ds.test, &inner);
    let mut summary = Summary {
        total_steps,
        train_size: indices.len(),
        distinct_images: plan.distinct.iter().sum(),
        ..run.summary_or_default()?
    };
    // Replay the batches of completed steps so a resumed run counts what it has seen right.
    let mut batches = Batches::new(&indices, plan.originals, pool.len(), t.batch_size, job.seed);
    for s in 0..state.step {
        batches.draw(s);
    }
    let mut groups = data::groups(&plan, ds.train.len(), data::UNIQUE_SAMPLE, job.seed);
    let mut reference = reference;
    if let Some(r) = &mut reference {
        // Half the pool is left out of a reference model: the dropped group (non-members from
        // the training distribution) is a seeded sample of it, like the unique group.
        if groups.dropped.len() > data::UNIQUE_SAMPLE {
            data::rng::Rng::derive(job.seed, "dropped-sample", 0).shuffle(&mut groups.dropped);
            groups.dropped.truncate(data::UNIQUE_SAMPLE);
            groups.dropped.sort_unstable();
        }
        send_phase(events, Some(&run), Phase::PoolSearch);
        let (pairs, _) = data::pairs_in(
            &ds,
            data::PairSet::Train,
            preset.data.leak_threshold,
            data::cache_dir().as_deref(),
            &|_, _| {},
        );
        r.shadowed = data::shadowed(&r.member, &pairs);
    }
    send_phase(events, Some(&run), Phase::LeakageSearch);
    let leakage = data::leaky_test_images(&ds, preset.data.leak_threshold);
    let mut leaky = vec![false; ds.test.len()];
    for &i in &leakage.leaky {
        leaky[i as usize] = true;
    }
    summary.time_split.get_or_insert_default().prepare_s += preparing.elapsed().as_secs_f64();
    Ok(Setup {
        run,
        heartbeat,
        state,
        schedule,
        model,
        optim,
        device,
        train,
        test,
        batches,
        classes,
        groups,
        leaky,
        summary,
        input: shape,
        class_names: ds.class_names,
        reference,
        pool_checksum,
        weights,
    })
}

/// The run folder being resumed or prepared, taken for this process with its lease's epoch; a
/// new run is created later, once the data is known.
fn take_run(job: &TrainJob) -> Result<Option<(Run, Heartbeat)>> {
    let (id, resuming) = match (&job.resume, &job.prepared) {
        (Some(id), _) => (id, true),
        (None, Some(id)) => (id, false),
        (None, None) => return Ok(None),
    };
    let run = job.store.open(id)?;
    if resuming && run.status() == RunStatus::Finished {
        bail!("run {} is already finished; nothing to resume", run.id);
    }
    // Only a folder the lab prepared and nobody started: any other is refused before it is
    // touched (a finished run stays finished, and in the reports).
    if !resuming && run.dir.join(crate::store::layout::CONFIG).exists() {
        bail!(
            "run {id} was started before (it is {}); continue an interrupted run with: duplab train --resume {id}",
            run.status().name()
        );
    }
    let epoch = run.take_lease().map_err(|e| match e {
        StoreError::Owned { id, owner } => anyhow!(
            "run {id} is {} and owned by {owner}; stop it first (duplab runs stop {id}), or if that process is gone for good: duplab runs release {id} --force",
            run.status().name()
        ),
        e => e.into(),
    })?;
    if resuming {
        // The stop that ended it last time is not a command for this run; cleared now, before
        // the data loads, so that a stop sent while it loads is obeyed.
        run.clear_control()?;
    }
    let heartbeat = run.start_heartbeat(epoch);
    Ok(Some((run, heartbeat)))
}

/// The run folder being resumed (already taken) with where its trainer stands, or the one a
/// launcher prepared (already taken); `None` for a new run, created once its config is known.
fn open_run(
    job: &TrainJob,
    owned: Option<(Run, Heartbeat)>,
) -> Result<(Option<(Run, Heartbeat)>, TrainerState)> {
    match owned {
        Some((run, heartbeat)) if job.resume.is_some() => {
            run.set_status(RunStatus::Running)?;
            let state = checkpoint::load_state(&run)?.unwrap_or_default();
            Ok((Some((run, heartbeat)), state))
        }
        other => Ok((other, TrainerState::default())),
    }
}
