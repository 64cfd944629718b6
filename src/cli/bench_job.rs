//! `duplab bench --job`: the whole default job (`duplab train`: the default preset's steps, a test
//! evaluation per epoch, group metrics, PGD on the test images at the end, checkpoints) timed end
//! to end through the real trainer, beside its PyTorch twin (`bench/peer_torch.py`'s `job`: the
//! same model, schedule, evaluations and PGD), repeats interleaved. A second duplab figure leaves
//! out what the twin does not do (group metrics), so the ratio compares like with like.

use super::bench::median;
use super::bench_peer::Peer;
use super::fail;
use crate::backend::DeviceChoice;
use crate::spec::{Preset, find_preset};
use crate::store::{RunStore, TimeSplit};
use crate::train::{TrainJob, run_job};
use std::sync::mpsc::channel;
use std::time::Instant;

/// One duplab job: wall time and where it went, clean and robust accuracy, steps, and the
/// run's input normalisation (the twin uses the same).
pub(super) struct Done {
    pub seconds: f64,
    pub split: TimeSplit,
    clean: f64,
    robust: f64,
    steps: usize,
    epochs: usize,
    mean: Vec<f32>,
    std: Vec<f32>,
}

/// Run `preset` (seed 0) through the real trainer in a throw-away store, timed end to end.
pub(super) fn duplab_job(preset: &Preset, device: DeviceChoice) -> Result<Done, String> {
    let tmp = std::env::temp_dir().join(format!(
        "duplab-bench-job-{}-{}",
        std::process::id(),
        crate::store::now()
    ));
    let store = RunStore::new(&tmp);
    let job = TrainJob {
        preset: preset.clone(),
        seed: 0,
        device,
        data_dir: None,
        store: store.clone(),
        resume: None,
        prepared: None,
        sweep: None,
        point: None,
    };
    let (tx, _rx) = channel();
    let (_ctl_tx, ctl_rx) = channel();
    let t0 = Instant::now();
    let r = run_job(&job, &tx, &ctl_rx);
    let seconds = t0.elapsed().as_secs_f64();
    let out = r.map_err(|e| e.to_string()).and_then(|run| {
        let s = run.summary_or_default().map_err(|e| e.to_string())?;
        let c = run.require_config().map_err(|e| e.to_string())?;
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

pub fn run(repeats: usize, mut peer: Option<Peer>) -> i32 {
    let full = match find_preset("default", &[]) {
        Ok(p) => p,
        Err(e) => return fail(e),
    };
    let bare = match find_preset("default", &["training.group_every=0".into()]) {
        Ok(p) => p,
        Err(e) => return fail(e),
    };
    if let Some(p) = peer.as_mut() {
        let ds = crate::data::load_embedded();
        if let Err(e) = p.data(&ds).and_then(|_| p.test(&ds)) {
            return fail(e);
        }
    }
    println!(
        "the default job (`duplab train`: {} on the embedded subset, evaluation each epoch, {} on {} test images at the end), {} repeats interleaved{}",
        full.training.model.name(),
        full.attack.eval.attack.label(),
        full.attack.eval.limit,
        repeats,
        match &peer {
            Some(p) => format!(", beside {}", p.version),
            None => ", no peer (--peer runs its PyTorch twin beside it)".into(),
        }
    );
    let (mut t_full, mut t_bare, mut t_peer) = (vec![], vec![], vec![]);
    for i in 0..repeats.max(1) {
        let f = match duplab_job(&full, DeviceChoice::Cpu) {
            Ok(d) => d,
            Err(e) => return fail(e),
        };
        println!(
            "  repeat {}: duplab {:.1} s ({} steps, clean {:.2} %, robust {:.2} %)",
            i + 1,
            f.seconds,
            f.steps,
            f.clean * 100.0,
            f.robust * 100.0
        );
        println!("            where it went: {}", f.split.describe());
        t_full.push(f.seconds);
        let b = match duplab_job(&bare, DeviceChoice::Cpu) {
            Ok(d) => d,
            Err(e) => return fail(e),
        };
        println!(
            "            duplab without group metrics {:.1} s (clean {:.2} %, robust {:.2} %)",
            b.seconds,
            b.clean * 100.0,
            b.robust * 100.0
        );
        t_bare.push(b.seconds);
        if let Some(p) = peer.as_mut() {
            match p.job(&full, f.epochs, &f.mean, &f.std) {
                Ok(j) => {
                    println!(
                        "            PyTorch {:.1} s ({} steps, clean {:.2} %, robust {:.2} %)",
                        j.seconds,
                        j.steps,
                        j.clean * 100.0,
                        j.robust * 100.0
                    );
                    if j.steps != f.steps {
                        return fail(format!(
                            "the twin trained {} steps, duplab {}: not the same job",
                            j.steps, f.steps
                        ));
                    }
                    println!("            where it went: {}", j.split.describe());
                    t_peer.push(j.seconds);
                }
                Err(e) => return fail(e),
            }
        }
    }
    let (f, b) = (median(&mut t_full), median(&mut t_bare));
    print!("median: duplab {f:.1} s, without group metrics {b:.1} s");
    if !t_peer.is_empty() {
        let p = median(&mut t_peer);
        print!(
            ", PyTorch {p:.1} s: duplab takes {:.2}× ({:.2}× without group metrics) the twin's time",
            f / p,
            b / p
        );
    }
    println!();
    0
}
