//! `duplab bench`: training throughput of the models on the user's own device (images/s,
//! medians over repeats) for each model and training mode on each available backend, plus the
//! wall time of one epoch of the default preset. The developer benchmarks (PyTorch beside it,
//! the whole job beside its twin, the lab's latency, the duplicate finder) are a binary of their
//! own, `duplab-dev` (src/bin/duplab-dev), which measures a peer through `Beside`.

use super::exit::failure;
use crate::backend::{DeviceChoice, Selected, select};
use crate::data;
use crate::nn::{InputShape, Net};
use crate::spec::{AttackKind, AttackSpec, ModelKind, Preset, find_preset};
use crate::store::{RunStore, TimeSplit};
use crate::train::{DeviceData, TrainJob, optimizer, run_job, train_step};
use anyhow::Result;
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
    /// auto (the allocated or first real GPU, else the CPU), gpu (the best adapter, even a
    /// software one), gpu:N (adapter N as `duplab doctor` lists them), cpu.
    #[arg(long, default_value = "auto")]
    pub device: DeviceChoice,
    /// Skip the one-epoch wall time of the default preset.
    #[arg(long)]
    pub no_epoch: bool,
}

/// Something measured beside duplab, repeat by repeat, on the same images (the developer
/// benchmark's PyTorch peer): its repeats interleave with duplab's, so both see the machine in
/// the same state.
pub trait Beside {
    /// What it is (printed in the table's title).
    fn label(&self) -> String;
    /// The images of the next cases.
    fn data(&mut self, ds: &data::DataSet) -> Result<()>;
    /// One timed repeat of a case: images/s and its model's parameter count.
    fn repeat(
        &mut self,
        model: &str,
        mode: &str,
        batch: usize,
        steps: usize,
        attack: &AttackSpec,
    ) -> Result<(f64, usize)>;
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

/// Median, minimum and maximum of `v` (sorted in place; zeros when empty).
pub fn median_range(v: &mut [f64]) -> (f64, f64, f64) {
    let m = median(v);
    (
        m,
        v.first().copied().unwrap_or(0.0),
        v.last().copied().unwrap_or(0.0),
    )
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
    ) -> Result<Case<'a>> {
        let device = &sel.device;
        let inner = device.clone().inner();
        let shape = InputShape::of(ds);
        let preset = find_preset("default", &[])?;
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
                None,
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

/// Images/s of a few training steps of the small CNN on the embedded data, batch 64, on
/// `device` (after two warm-up steps): the doctor's quick check of each adapter.
pub fn quick_rate(device: DeviceChoice) -> Result<f64> {
    let sel = select(device)?;
    let ds = data::load_embedded();
    let mut case = Case::new(&sel, ModelKind::SmallCnn, &AttackSpec::default(), &ds, 64)?;
    Ok(case.repeat(5))
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

pub fn run(a: BenchArgs) -> Result<i32> {
    throughput(&a, None)
}

/// The throughput table, with `peer` measured beside each CPU case when given.
pub fn throughput(a: &BenchArgs, mut peer: Option<&mut dyn Beside>) -> Result<i32> {
    let threads = rayon_threads();
    let embedded = data::load_embedded();
    let mut backends = vec![];
    match a.device {
        d @ (DeviceChoice::Cpu | DeviceChoice::Gpu | DeviceChoice::GpuIndex(_)) => {
            backends.push(select(d))
        }
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
        "training throughput, batch {}, median of {} × {} steps, {threads} threads{}",
        a.batch,
        a.repeats,
        a.steps,
        match &peer {
            Some(p) => format!("; {} in the same run, repeats interleaved", p.label()),
            None => String::new(),
        }
    );
    // The peer's columns only when there is a peer.
    let with_peer = peer.is_some();
    let peer_cols = |p: &str, r: &str| {
        if with_peer {
            format!(" {p:>11} {r:>7}")
        } else {
            String::new()
        }
    };
    println!(
        "{:<8} {:<16} {:<9} {:>10} {:>10} {:>10}{}",
        "backend",
        "model",
        "mode",
        "median/s",
        "min/s",
        "max/s",
        peer_cols("PyTorch/s", "ratio")
    );
    for b in backends {
        let sel = b.map_err(failure)?;
        eprintln!("# {}", sel.label());
        for m in &a.models {
            let Some(kind) = model_kind(m) else {
                return Err(failure(format!(
                    "unknown model `{m}`; allowed: small-cnn, wide-cnn, lenet, preact-resnet18"
                )));
            };
            // PreAct-ResNet-18 trains on 32×32 colour images: synthetic ones, as CIFAR-10 is not here.
            let synthetic;
            let ds = if kind == ModelKind::PreactResnet18 {
                synthetic = synthetic_rgb32(1024);
                &synthetic
            } else {
                &embedded
            };
            if let Some(p) = peer.as_deref_mut()
                && sel.backend == "flex"
                && let Err(e) = p.data(ds)
            {
                return Err(e);
            }
            for mode in &a.modes {
                let Some(attack) = mode_attack(mode) else {
                    return Err(failure(format!(
                        "unknown mode `{mode}`; allowed: standard, fgsm-rs, pgd10"
                    )));
                };
                let mut case = Case::new(&sel, kind, &attack, ds, a.batch)?;
                let (mut rates, mut peer_rates) = (vec![], vec![]);
                for _ in 0..a.repeats {
                    rates.push(case.repeat(a.steps));
                    // The peer measures only against the CPU backend (it runs on the CPU).
                    if let Some(p) = peer.as_deref_mut().filter(|_| sel.backend == "flex") {
                        let (r, params) = p.repeat(kind.name(), mode, a.batch, a.steps, &attack)?;
                        if params != case.params() {
                            return Err(failure(format!(
                                "the peer's {} has {params} parameters, duplab's {}: not the same model",
                                kind.name(),
                                case.params()
                            )));
                        }
                        peer_rates.push(r);
                    }
                }
                let (med, lo, hi) = median_range(&mut rates);
                let (peer_med, ratio) = if peer_rates.is_empty() {
                    ("-".to_string(), "-".to_string())
                } else {
                    let p = median(&mut peer_rates);
                    (format!("{p:.0}"), format!("{:.2}×", med / p))
                };
                println!(
                    "{:<8} {:<16} {:<9} {:>10.0} {:>10.0} {:>10.0}{}",
                    sel.backend,
                    kind.name(),
                    mode,
                    med,
                    lo,
                    hi,
                    peer_cols(&peer_med, &ratio)
                );
            }
        }
    }
    if !a.no_epoch {
        // One epoch of the default preset through the real trainer (data upload, evaluation and
        // checkpoint included), in a throw-away store.
        let preset = find_preset(
            "default",
            &["training.epochs=1".into(), "attack.eval.kind=none".into()],
        )?;
        let device = if a.device == DeviceChoice::Auto {
            DeviceChoice::Cpu
        } else {
            a.device
        };
        let done = duplab_job(&preset, device)?;
        let secs = done.seconds;
        println!(
            "one epoch of the default preset (10,000 images, small CNN, test evaluation and checkpoint): {secs:.1} s ({})",
            done.split.describe()
        );
    }
    Ok(0)
}

/// The threads the CPU backend uses (rayon's pool: `RAYON_NUM_THREADS`, else every core).
pub fn rayon_threads() -> usize {
    std::env::var("RAYON_NUM_THREADS")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|&n: &usize| n > 0)
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

/// One duplab job: wall time and where it went, clean and robust accuracy, steps, and the
/// run's input normalisation (the twin uses the same).
pub struct Done {
    pub seconds: f64,
    pub split: TimeSplit,
    pub clean: f64,
    pub robust: f64,
    pub steps: usize,
    pub epochs: usize,
    pub mean: Vec<f32>,
    pub std: Vec<f32>,
}

/// Run `preset` (seed 0) through the real trainer in a throw-away store, timed end to end.
pub fn duplab_job(preset: &Preset, device: DeviceChoice) -> Result<Done> {
    let tmp = std::env::temp_dir().join(format!(
        "duplab-bench-job-{}-{}",
        std::process::id(),
        crate::store::now()
    ));
    let store = RunStore::new(&tmp);
    let job = TrainJob::new(preset.clone(), 0, device, store.clone());
    let (tx, _rx) = channel();
    let (_ctl_tx, ctl_rx) = channel();
    let t0 = Instant::now();
    let r = run_job(&job, &tx, &ctl_rx);
    let seconds = t0.elapsed().as_secs_f64();
    let out = r.map_err(anyhow::Error::from).and_then(|run| {
        let s = run.summary_or_default()?;
        let c = run.require_config()?;
        Ok(Done {
            seconds,
            split: s.time_split.clone().unwrap_or_default(),
            clean: s.test_acc.unwrap_or(0.0),
            robust: s.robust_acc.unwrap_or(0.0),
            steps: c.total_steps,
            epochs: c.total_steps / c.steps_per_epoch.max(1),
            mean: c.input_mean,
            std: c.input_std,
        })
    });
    let _ = std::fs::remove_dir_all(&tmp);
    out
}
