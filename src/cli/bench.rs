//! `duplab bench`: training throughput (images/s, medians over repeats) for each model and
//! training mode on each available backend, with `--peer` against PyTorch run beside it in the
//! same process tree (repeats interleaved), plus the wall time of one epoch of the default preset.

use super::fail;
use crate::backend::{DeviceChoice, Selected, select};
use crate::data;
use crate::nn::{InputShape, Net};
use crate::spec::{AttackKind, AttackSpec, ModelKind, find_preset};
use crate::train::{DeviceData, optimizer, train_step};
use burn::nn::loss::CrossEntropyLossConfig;
use clap::Args;
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
    /// Run PyTorch beside duplab (bench/peer_torch.py, one long-lived process), repeats
    /// interleaved, on the same images, batch and attack steps; print both and the ratio.
    #[arg(long)]
    pub peer: bool,
    /// The Python that has PyTorch (default: python3).
    #[arg(long, default_value = "python3")]
    pub peer_python: std::path::PathBuf,
    /// Time the whole default job (`duplab train`) instead, end to end, beside its PyTorch twin
    /// with --peer (repeats interleaved; at most 3).
    #[arg(long)]
    pub job: bool,
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

/// One measured case: a model and optimiser that keep training across repeats, so repeats can
/// be interleaved with the peer's.
struct Case<'a> {
    model: Option<Net>,
    optim: burn::optim::ModuleOptimizer,
    ce: burn::nn::loss::CrossEntropyLoss,
    train: DeviceData,
    attack: AttackSpec,
    device: &'a burn::prelude::Device,
    batch_size: usize,
    batch: usize,
}

impl<'a> Case<'a> {
    fn new(
        sel: &'a Selected,
        kind: ModelKind,
        attack: &AttackSpec,
        ds: &data::DataSet,
        batch_size: usize,
    ) -> Result<Case<'a>, String> {
        let device = &sel.device;
        let inner = device.clone().inner();
        let shape = InputShape::of(ds);
        let preset = find_preset("default", &[]).map_err(|e| e.to_string())?;
        let mut c = Case {
            model: Some(Net::new(kind, &shape, device)?),
            optim: optimizer(&preset),
            ce: CrossEntropyLossConfig::new().init(device),
            train: DeviceData::upload(&ds.train, &inner),
            attack: attack.clone(),
            device,
            batch_size,
            batch: 0,
        };
        c.steps(2);
        Ok(c)
    }

    fn params(&self) -> usize {
        self.model
            .as_ref()
            .map_or(0, |m| burn::module::Module::num_params(m))
    }

    fn steps(&mut self, k: usize) {
        let n = self.train.len();
        let mut m = self
            .model
            .take()
            .expect("the model is back after every step");
        let mut last = None;
        for _ in 0..k {
            let idx: Vec<u32> = (0..self.batch_size)
                .map(|i| ((self.batch * self.batch_size + i) % n) as u32)
                .collect();
            self.batch += 1;
            let (x, y) = self.train.gather(&idx);
            let (m2, loss, _) = train_step(
                m,
                &mut self.optim,
                &self.ce,
                x,
                y,
                &self.attack,
                0.01,
                self.device,
            );
            m = m2;
            last = Some(loss);
        }
        // Reading the last loss waits for the device: the timing covers all the work.
        if let Some(l) = last {
            let _ = l.into_scalar::<f32>();
        }
        self.model = Some(m);
    }

    /// Images/s of `k` steps.
    fn repeat(&mut self, k: usize) -> f64 {
        let t0 = Instant::now();
        self.steps(k);
        (k * self.batch_size) as f64 / t0.elapsed().as_secs_f64()
    }
}

/// Synthetic 32×32 colour images (CIFAR-10's shape; CIFAR-10 itself is not on these machines).
fn synthetic_rgb32(n: usize) -> data::DataSet {
    let size = 3 * 32 * 32;
    let images: Vec<u8> = (0..n * size)
        .map(|i| ((i * 37 + (i / size) * 101) % 256) as u8)
        .collect();
    let split = data::Split {
        images,
        labels: (0..n).map(|i| (i % 10) as u8).collect(),
        channels: 3,
        height: 32,
        width: 32,
    };
    data::DataSet {
        name: "synthetic-rgb32".into(),
        source: "synthetic".into(),
        train: split.clone(),
        test: split,
        class_names: (0..10).map(|i| i.to_string()).collect(),
    }
}

pub fn run(a: BenchArgs) -> i32 {
    if a.tui {
        return super::bench_tui::run(a.repeats);
    }
    if a.dups {
        return bench_dups(&a);
    }
    let threads = rayon_threads();
    if a.job {
        let peer = if a.peer {
            match super::bench_peer::Peer::start(&a.peer_python, threads) {
                Ok(p) => Some(p),
                Err(e) => return fail(format!("--peer: {e}")),
            }
        } else {
            None
        };
        return super::bench_job::run(a.repeats.min(3), peer);
    }
    let embedded = data::load_embedded();
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
    let mut peer = if a.peer {
        match super::bench_peer::Peer::start(&a.peer_python, threads) {
            Ok(p) => Some(p),
            Err(e) => return fail(format!("--peer: {e}")),
        }
    } else {
        None
    };
    println!(
        "training throughput, batch {}, median of {} × {} steps, {threads} threads{}",
        a.batch,
        a.repeats,
        a.steps,
        match &peer {
            Some(p) => format!("; peer {} in the same run, repeats interleaved", p.version),
            None => "; no peer (--peer runs PyTorch beside it)".into(),
        }
    );
    println!(
        "{:<8} {:<16} {:<9} {:>10} {:>10} {:>10} {:>11} {:>7}",
        "backend", "model", "mode", "median/s", "min/s", "max/s", "PyTorch/s", "ratio"
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
                    "unknown model `{m}`; allowed: small-cnn, wide-cnn, lenet, preact-resnet18"
                ));
            };
            // PreAct-ResNet-18 trains on 32×32 colour images: synthetic ones, as CIFAR-10 is not here.
            let synthetic;
            let ds = if kind == ModelKind::PreactResnet18 {
                synthetic = synthetic_rgb32(1024);
                &synthetic
            } else {
                &embedded
            };
            if let Some(p) = peer.as_mut()
                && sel.backend == "flex"
                && let Err(e) = p.data(ds)
            {
                return fail(e);
            }
            for mode in &a.modes {
                let Some(attack) = mode_attack(mode) else {
                    return fail(format!(
                        "unknown mode `{mode}`; allowed: standard, fgsm-rs, pgd10"
                    ));
                };
                let mut case = match Case::new(&sel, kind, &attack, ds, a.batch) {
                    Ok(c) => c,
                    Err(e) => return fail(e),
                };
                let (mut rates, mut peer_rates) = (vec![], vec![]);
                for _ in 0..a.repeats {
                    rates.push(case.repeat(a.steps));
                    // The peer measures only against the CPU backend (it runs on the CPU).
                    if let Some(p) = peer.as_mut().filter(|_| sel.backend == "flex") {
                        match p.repeat(kind.name(), mode, a.batch, a.steps, &attack) {
                            Ok((r, params)) => {
                                if params != case.params() {
                                    return fail(format!(
                                        "the peer's {} has {params} parameters, duplab's {}: not the same model",
                                        kind.name(),
                                        case.params()
                                    ));
                                }
                                peer_rates.push(r);
                            }
                            Err(e) => return fail(e),
                        }
                    }
                }
                let med = median(&mut rates);
                let (peer_med, ratio) = if peer_rates.is_empty() {
                    ("-".to_string(), "-".to_string())
                } else {
                    let p = median(&mut peer_rates);
                    (format!("{p:.0}"), format!("{:.2}×", med / p))
                };
                println!(
                    "{:<8} {:<16} {:<9} {:>10.0} {:>10.0} {:>10.0} {:>11} {:>7}",
                    sel.backend,
                    kind.name(),
                    mode,
                    med,
                    rates.first().copied().unwrap_or(0.0),
                    rates.last().copied().unwrap_or(0.0),
                    peer_med,
                    ratio
                );
            }
        }
    }
    drop(peer);
    if !a.no_epoch {
        // One epoch of the default preset through the real trainer (data upload, evaluation and
        // checkpoint included), in a throw-away store.
        let preset = match find_preset(
            "default",
            &["training.epochs=1".into(), "attack.eval.kind=none".into()],
        ) {
            Ok(p) => p,
            Err(e) => return fail(e),
        };
        let device = if a.device == DeviceChoice::Auto {
            DeviceChoice::Cpu
        } else {
            a.device
        };
        let done = match super::bench_job::duplab_job(&preset, device) {
            Ok(d) => d,
            Err(e) => return fail(e),
        };
        let secs = done.seconds;
        println!(
            "one epoch of the default preset (10,000 images, small CNN, test evaluation and checkpoint): {secs:.1} s ({})",
            done.split.describe()
        );
    }
    0
}

/// The threads the CPU backend uses (rayon's pool: `RAYON_NUM_THREADS`, else every core).
fn rayon_threads() -> usize {
    std::env::var("RAYON_NUM_THREADS")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|&n: &usize| n > 0)
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
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
