//! `duplab bench`: training throughput (images/s, medians over repeats) for each model and
//! training mode on each available backend, against PyTorch's figures on the same 2-core
//! machine kind, plus the wall time of one epoch of the default preset.

use super::fail;
use crate::backend::{DeviceChoice, Selected, select};
use crate::data;
use crate::nn::{InputShape, Net};
use crate::spec::{AttackKind, AttackSpec, ModelKind, find_preset};
use crate::train::{DeviceData, TrainJob, optimizer, run_job, train_step};
use burn::nn::loss::CrossEntropyLossConfig;
use clap::Args;
use std::sync::mpsc::channel;
use std::time::Instant;

#[derive(Args, Debug)]
pub struct BenchArgs {
    /// Models to measure.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "small-cnn,wide-cnn,lenet"
    )]
    pub models: Vec<String>,
    /// Training modes: standard, fgsm-rs, pgd10.
    #[arg(long, value_delimiter = ',', default_value = "standard,fgsm-rs,pgd10")]
    pub modes: Vec<String>,
    /// Timed repeats per case (the median is reported).
    #[arg(long, default_value_t = 5)]
    pub repeats: usize,
    /// Training steps per repeat.
    #[arg(long, default_value_t = 10)]
    pub steps: usize,
    #[arg(long, default_value_t = 128)]
    pub batch: usize,
    /// Backends: auto = the CPU, plus wgpu when a real GPU is present.
    #[arg(long, value_enum, default_value = "auto")]
    pub device: DeviceChoice,
    /// Skip the one-epoch wall time of the default preset.
    #[arg(long)]
    pub no_epoch: bool,
    /// Measure the lab instead, on a synthetic store in a temporary folder (1,000 finished runs
    /// and one running run whose metrics.jsonl has 1,000,000 lines): key-to-frame latency, the
    /// first frame of that run's curves, the store worker's reads, and frame render time.
    #[arg(long)]
    pub tui: bool,
    /// Measure the duplicate finder instead: test→train and within-train on the data set in
    /// --data-dir (the embedded one without it), against a matrix-product brute force run beside
    /// it (test→train only; within-train it would take 36× longer).
    #[arg(long)]
    pub dups: bool,
    #[arg(long, env = "DUPLAB_DATA")]
    pub data_dir: Option<std::path::PathBuf>,
    /// RMS threshold for --dups.
    #[arg(long, default_value_t = 0.05)]
    pub threshold: f64,
}

/// PyTorch 2.15, 2 CPU threads, batch 128, 28×28 (standard, FGSM-RS, PGD-10), from
/// shared/reference-figures.md.
fn pytorch_reference(model: ModelKind, mode: &str) -> Option<f64> {
    let row = match model {
        ModelKind::SmallCnn => [6200.0, 2900.0, 530.0],
        ModelKind::WideCnn => [2500.0, 1400.0, 260.0],
        ModelKind::Lenet => [11300.0, 4600.0, 760.0],
        ModelKind::PreactResnet18 => return None,
    };
    match mode {
        "standard" => Some(row[0]),
        "fgsm-rs" => Some(row[1]),
        "pgd10" => Some(row[2]),
        _ => None,
    }
}

fn mode_attack(mode: &str) -> Option<AttackSpec> {
    Some(match mode {
        "standard" => AttackSpec::default(),
        "fgsm-rs" => AttackSpec {
            kind: AttackKind::FgsmRs,
            eps: 0.3,
            step: 0.375,
            ..Default::default()
        },
        "pgd10" => AttackSpec {
            kind: AttackKind::Pgd,
            eps: 0.3,
            step: 0.075,
            steps: 10,
            ..Default::default()
        },
        _ => return None,
    })
}

fn model_kind(name: &str) -> Option<ModelKind> {
    ModelKind::ALL.into_iter().find(|m| m.name() == name)
}

pub fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
    let n = v.len();
    if n == 0 {
        0.0
    } else if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// Images/s of `steps` training steps, `repeats` times, after a warm-up.
fn measure(
    sel: &Selected,
    kind: ModelKind,
    attack: &AttackSpec,
    ds: &data::DataSet,
    a: &BenchArgs,
) -> Result<Vec<f64>, String> {
    let device = &sel.device;
    let inner = device.clone().inner();
    let shape = InputShape::of(ds);
    let preset = find_preset("default", &[]).map_err(|e| e.to_string())?;
    let mut model = Net::new(kind, &shape, device)?;
    let mut optim = optimizer(&preset);
    let ce = CrossEntropyLossConfig::new().init(device);
    let train = DeviceData::upload(&ds.train, &inner);
    let n = train.len();
    let mut batch = 0usize;
    let mut next = |train: &DeviceData| {
        let idx: Vec<u32> = (0..a.batch)
            .map(|i| ((batch * a.batch + i) % n) as u32)
            .collect();
        batch += 1;
        train.gather(&idx)
    };
    let mut run_steps =
        |model: Net, optim: &mut burn::optim::ModuleOptimizer, steps: usize| -> Net {
            let mut m = model;
            let mut last = None;
            for _ in 0..steps {
                let (x, y) = next(&train);
                let (m2, loss, _) = train_step(m, optim, &ce, x, y, attack, 0.01, device);
                m = m2;
                last = Some(loss);
            }
            // Reading the last loss waits for the device: the timing covers all the work.
            if let Some(l) = last {
                let _ = l.into_scalar::<f32>();
            }
            m
        };
    model = run_steps(model, &mut optim, 2);
    let mut rates = vec![];
    for _ in 0..a.repeats {
        let t0 = Instant::now();
        model = run_steps(model, &mut optim, a.steps);
        rates.push((a.steps * a.batch) as f64 / t0.elapsed().as_secs_f64());
    }
    Ok(rates)
}

pub fn run(a: BenchArgs) -> i32 {
    if a.tui {
        return super::bench_tui::run(a.repeats);
    }
    if a.dups {
        return bench_dups(&a);
    }
    let ds = data::load_embedded();
    let mut backends = vec![];
    match a.device {
        DeviceChoice::Cpu => backends.push(select(DeviceChoice::Cpu)),
        DeviceChoice::Gpu => backends.push(select(DeviceChoice::Gpu)),
        DeviceChoice::Auto => {
            backends.push(select(DeviceChoice::Cpu));
            if let Ok(s) = select(DeviceChoice::Auto)
                && s.backend == "wgpu"
            {
                backends.push(Ok(s));
            }
        }
    }
    println!(
        "training throughput, batch {}, 28×28 (embedded Fashion-MNIST), median of {} × {} steps",
        a.batch, a.repeats, a.steps
    );
    println!(
        "{:<8} {:<11} {:<9} {:>10} {:>10} {:>10} {:>11}",
        "backend", "model", "mode", "median/s", "min/s", "max/s", "vs PyTorch"
    );
    for b in backends {
        let sel = match b {
            Ok(s) => s,
            Err(e) => return fail(e),
        };
        eprintln!("# {}", sel.label());
        for m in &a.models {
            let Some(kind) = model_kind(m) else {
                return fail(format!(
                    "unknown model `{m}`; allowed: small-cnn, wide-cnn, lenet"
                ));
            };
            for mode in &a.modes {
                let Some(attack) = mode_attack(mode) else {
                    return fail(format!(
                        "unknown mode `{mode}`; allowed: standard, fgsm-rs, pgd10"
                    ));
                };
                let mut rates = match measure(&sel, kind, &attack, &ds, &a) {
                    Ok(r) => r,
                    Err(e) => return fail(e),
                };
                let med = median(&mut rates);
                let ratio = pytorch_reference(kind, mode)
                    .filter(|_| sel.backend == "flex")
                    .map(|p| format!("{:.2}×", med / p))
                    .unwrap_or_else(|| "-".into());
                println!(
                    "{:<8} {:<11} {:<9} {:>10.0} {:>10.0} {:>10.0} {:>11}",
                    sel.backend,
                    kind.name(),
                    mode,
                    med,
                    rates.first().copied().unwrap_or(0.0),
                    rates.last().copied().unwrap_or(0.0),
                    ratio
                );
            }
        }
    }
    if !a.no_epoch {
        // One epoch of the default preset through the real trainer (data upload, evaluation and
        // checkpoint included), in a throw-away store.
        let Ok(tmp) = tempdir() else {
            return fail("cannot create a temporary run store");
        };
        let preset = match find_preset(
            "default",
            &["training.epochs=1".into(), "attack.eval.kind=none".into()],
        ) {
            Ok(p) => p,
            Err(e) => return fail(e),
        };
        let job = TrainJob {
            preset,
            seed: 0,
            device: if a.device == DeviceChoice::Auto {
                DeviceChoice::Cpu
            } else {
                a.device
            },
            data_dir: None,
            store: crate::store::RunStore::new(&tmp),
            resume: None,
            prepared: None,
            sweep: None,
            point: None,
        };
        let (tx, _rx) = channel();
        let (_ctl_tx, ctl_rx) = channel();
        let t0 = Instant::now();
        let mut slot = None;
        let r = run_job(&job, &tx, &ctl_rx, &mut slot);
        let secs = t0.elapsed().as_secs_f64();
        let _ = std::fs::remove_dir_all(&tmp);
        if let Err(e) = r {
            return fail(format!("{e:#}"));
        }
        println!(
            "one epoch of the default preset (10,000 images, small CNN, test evaluation and checkpoint): {secs:.1} s"
        );
    }
    0
}

fn tempdir() -> std::io::Result<std::path::PathBuf> {
    let p = std::env::temp_dir().join(format!("duplab-bench-{}", std::process::id()));
    std::fs::create_dir_all(&p)?;
    Ok(p)
}

/// The duplicate finder against the GEMM brute force, interleaved, medians of the repeats.
fn bench_dups(a: &BenchArgs) -> i32 {
    let ds = match super::dups_cmd::load(a.data_dir.as_deref(), None) {
        Ok(d) => d,
        Err(e) => return fail(e),
    };
    let reps = a.repeats.clamp(1, 3);
    println!(
        "duplicate finder on {} ({} train, {} test), threshold {}, median of {reps}:",
        ds.name,
        ds.train.len(),
        ds.test.len(),
        a.threshold
    );
    let (mut fast, mut slow) = (vec![], vec![]);
    let mut found = (0, 0);
    for _ in 0..reps {
        let t = Instant::now();
        let p = data::find_pairs(&ds.train, Some(&ds.test), a.threshold, &|_, _| {});
        fast.push(t.elapsed().as_secs_f64());
        let t = Instant::now();
        let g = data::gemm_brute_force(&ds.train, &ds.test, a.threshold);
        slow.push(t.elapsed().as_secs_f64());
        if p != g {
            return fail("the finder and the brute force disagree: a bug, please report it");
        }
        found = (p.len(), g.len());
    }
    let (f, g) = (median(&mut fast), median(&mut slow));
    println!(
        "  test→train ({} × {} pairs): finder {f:.2} s, GEMM brute force {g:.2} s: {:.1}× faster, the same {} pairs",
        ds.test.len(),
        ds.train.len(),
        g / f,
        found.0
    );
    let mut within = vec![];
    let mut n = 0;
    for _ in 0..reps {
        let t = Instant::now();
        n = data::find_pairs(&ds.train, None, a.threshold, &|_, _| {}).len();
        within.push(t.elapsed().as_secs_f64());
    }
    println!(
        "  within train ({} pairs): finder {:.2} s, {n} pairs",
        ds.train.len() * ds.train.len().saturating_sub(1) / 2,
        median(&mut within)
    );
    0
}
