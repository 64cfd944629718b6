//! `duplab-dev job`: the whole default job (`duplab train`: the default preset's steps, a test
//! evaluation per epoch, group metrics, PGD on the test images at the end, checkpoints) timed end
//! to end through the real trainer, beside its PyTorch twin (`bench/peer_torch.py`'s `job`: the
//! same model, schedule, evaluations and PGD), repeats interleaved. A second duplab figure leaves
//! out what the twin does not do (group metrics), so the ratio compares like with like.

use crate::peer::Peer;
use duplab::backend::DeviceChoice;
use duplab::cli::bench::{duplab_job, median};
use duplab::cli::fail;
use duplab::spec::find_preset;

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
        let ds = duplab::data::load_embedded();
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
            None => ", no peer (--with-peer runs its PyTorch twin beside it)".into(),
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
