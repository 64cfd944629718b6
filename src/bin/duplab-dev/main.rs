//! `duplab-dev`: the developers' benchmarks, kept out of the `duplab` a user installs. Each is a
//! subcommand (no flags that override each other):
//!
//! - `peer`: training throughput beside PyTorch (`bench/peer_torch.py`, one long-lived process,
//!   repeats interleaved, same images, batch, optimiser and attack steps), with the ratio;
//! - `job`: the whole default job (`duplab train`) end to end, beside its PyTorch twin with
//!   `--python`;
//! - `lab`: the lab's latency on a synthetic store (1,000 runs, a million-line metrics file);
//! - `finder`: the duplicate finder against a GEMM brute force;
//! - `dispatch`: burn's dynamic device dispatch against direct backend calls, per op;
//! - `ops`: a CNN's training step op by op on the CPU backend (which kernel to go after).
//!
//! Run from the clone: `cargo run --bin duplab-dev -- SUBCOMMAND --help` (docs/performance.md says
//! what each measures and the figures it gave).

mod dispatch;
mod finder;
mod job;
mod lab;
mod ops;
mod peer;
mod seeded;

use clap::{Parser, Subcommand};
use duplab::cli::bench::{BenchArgs, rayon_threads, throughput};
use duplab::cli::exit_code;
use std::path::PathBuf;

#[derive(Parser, Debug)]
#[command(name = "duplab-dev", about = "duplab's developer benchmarks")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// The PyTorch peer: which Python, and the script it runs.
#[derive(clap::Args, Debug)]
struct PeerArgs {
    /// The Python that has PyTorch.
    #[arg(long, default_value = "python3")]
    python: PathBuf,
    /// The peer script (the clone's `bench/peer_torch.py` by default).
    #[arg(long, default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/bench/peer_torch.py"))]
    script: PathBuf,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Training throughput (images/s) beside PyTorch, repeats interleaved, with the ratio.
    Peer {
        #[command(flatten)]
        bench: BenchArgs,
        #[command(flatten)]
        peer: PeerArgs,
    },
    /// The whole default job end to end (and without group metrics), beside its PyTorch twin
    /// when `--with-peer` is given.
    Job {
        /// Timed repeats (at most 3).
        #[arg(long, default_value_t = 3)]
        repeats: usize,
        /// Run the PyTorch twin beside it.
        #[arg(long)]
        with_peer: bool,
        #[command(flatten)]
        peer: PeerArgs,
    },
    /// The lab's key-to-frame latency and first frames on a synthetic store.
    Lab {
        #[arg(long, default_value_t = 5)]
        repeats: usize,
    },
    /// The duplicate finder against a matrix-product brute force (test→train), and within train.
    Finder {
        /// A data set folder (the embedded set without it).
        #[arg(long, env = "DUPLAB_DATA")]
        data_dir: Option<PathBuf>,
        /// RMS distance threshold.
        #[arg(long, default_value_t = 0.05)]
        threshold: f64,
        #[arg(long, default_value_t = 3)]
        repeats: usize,
    },
    /// burn's dynamic device dispatch against direct calls on the CPU backend: the small CNN's
    /// forward (batch 128 and 1) and a chain of tiny adds, rounds taking turns.
    Dispatch {
        #[arg(long, default_value_t = 5)]
        rounds: usize,
    },
    /// A CNN's standard training step op by op on the CPU backend, at the step's shapes:
    /// milliseconds per kernel and its share.
    Ops {
        /// The wide CNN instead of the small one.
        #[arg(long)]
        wide: bool,
        /// Only the ops whose name contains this (e.g. `conv2`, `pool`, `gradient`).
        #[arg(long)]
        only: Option<String>,
        #[arg(long, default_value_t = 5)]
        rounds: usize,
    },
}

fn start_peer(p: &PeerArgs) -> Result<peer::Peer, String> {
    peer::Peer::start(&p.python, &p.script, rayon_threads())
}

fn main() {
    // As duplab itself does: freed activations stay in the heap for the next op.
    duplab::backend::keep_freed_memory();
    let code = match Cli::parse().command {
        Command::Peer { bench, peer } => match start_peer(&peer) {
            Ok(mut p) => exit_code(throughput(&bench, Some(&mut p))),
            Err(e) => duplab::cli::fail(format!("the peer: {e}")),
        },
        Command::Job {
            repeats,
            with_peer,
            peer,
        } => {
            let p = if with_peer {
                match start_peer(&peer) {
                    Ok(p) => Some(p),
                    Err(e) => std::process::exit(duplab::cli::fail(format!("the peer: {e}"))),
                }
            } else {
                None
            };
            job::run(repeats.min(3), p)
        }
        Command::Lab { repeats } => lab::run(repeats),
        Command::Finder {
            data_dir,
            threshold,
            repeats,
        } => finder::run(data_dir.as_deref(), threshold, repeats),
        Command::Dispatch { rounds } => dispatch::run(rounds),
        Command::Ops { wide, rounds, only } => ops::run(wide, rounds, only.as_deref()),
    };
    std::process::exit(code);
}
