//! The command line: `duplab` opens the TUI; subcommands run headless for scripts and sweeps.

// A terminal that went away (a closed window, a dropped link) makes println! panic, which would
// end the process before its stop path writes the checkpoint: write and ignore the error instead.
macro_rules! outln {
    ($($t:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($t)*);
    }};
}
macro_rules! errln {
    ($($t:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($t)*);
    }};
}

pub mod bench;
mod control_cmd;
mod exit;
pub use exit::{EXIT_INTERRUPTED, exit_code, fail};
mod data_cmd;
mod data_get;
mod device_slots;
mod doctor_cmd;
pub mod dups_cmd;
pub mod eval_cmd;
mod membership_cmd;
mod presets_cmd;
mod report_cmd;
mod runs_cmd;
pub mod screenshots_cmd;
pub mod sweep_child;
pub mod sweep_cmd;
mod train_cmd;

use crate::backend::DeviceChoice;
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

#[derive(Parser, Debug)]
#[command(name = "duplab", version, about = "A terminal lab for duplicated training data and robust image classifiers", long_about = None)]
pub struct Cli {
    /// Run store folder (default ./runs).
    #[arg(long, global = true, env = "DUPLAB_RUNS")]
    pub runs_dir: Option<PathBuf>,
    /// No colour (also honoured: NO_COLOR).
    #[arg(long, global = true)]
    pub no_color: bool,
    /// ASCII drawing, for fonts without braille or box characters.
    #[arg(long, global = true)]
    pub ascii: bool,
    /// Capture the mouse (off by default: it breaks copy and tmux).
    #[arg(long, global = true)]
    pub mouse: bool,
    /// Lab: train launched runs on threads of the lab, which stop (with a checkpoint) when it
    /// closes. By default each run gets a trainer process of its own that outlives the lab.
    #[arg(long)]
    pub in_process: bool,
    /// Where the lab finds full data sets (runs launched from the TUI).
    #[arg(long, env = "DUPLAB_DATA")]
    pub data_dir: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// List presets, or show one resolved (with model parameter count).
    Presets {
        name: Option<String>,
        /// Override a field: --set duplication.rate=0.3
        #[arg(long = "set", value_name = "KEY=VALUE")]
        set: Vec<String>,
    },
    /// Data sets: inspect sizes, class counts, checksums and duplication plans.
    Data {
        #[command(subcommand)]
        command: DataCommand,
    },
    /// Browse the run store.
    Runs {
        #[command(subcommand)]
        command: RunsCommand,
    },
    /// Train a preset headless (progress bar on a TTY, plain lines otherwise).
    Train(TrainArgs),
    /// Robust accuracy of a finished run's final weights, written into that run.
    Eval(eval_cmd::EvalArgs),
    /// Every point of a grid as a run (resumable; --jobs N at once; --emit slurm for clusters).
    Sweep(sweep_cmd::SweepArgs),
    /// Mean ± std over seeds per point, skewed-class accuracy, plots: Markdown, CSV, JSON, SVG, PNG.
    Report(report_cmd::ReportArgs),
    /// Membership inference on a sweep's reference models: LiRA, RMIA and the threshold attack
    /// at low FPR by occurrences k, and memorisation per image (Markdown, CSV, JSON, ROC chart).
    Membership(membership_cmd::MembershipArgs),
    /// Training throughput (images/s) per model and backend, and one epoch of the default preset.
    Bench(bench::BenchArgs),
    /// Render every TUI screen from the runs in the store into SVG and PNG files.
    Screenshots(screenshots_cmd::ScreenshotsArgs),
    /// The GPU driver stack: Vulkan loader, ICD files, adapters (as --device gpu:N numbers
    /// them), which one auto takes, the kernel cache, known headless fixes, a timed step each.
    Doctor(doctor_cmd::DoctorArgs),
}

#[derive(Subcommand, Debug)]
pub enum DataCommand {
    /// Sizes, per-class counts and checksums; with --preset, its duplication plan as a histogram.
    Inspect {
        /// Folder with the data files (IDX or CIFAR-10 binary).
        #[arg(long, env = "DUPLAB_DATA")]
        data_dir: Option<PathBuf>,
        #[arg(long)]
        preset: Option<String>,
        #[arg(long = "set", value_name = "KEY=VALUE")]
        set: Vec<String>,
    },
    /// Exact and near-duplicate pairs within train, within test, and test→train (leakage), by
    /// RMS pixel distance in [0, 1] units; exact for the metric.
    Dups {
        /// Folder with the data files (IDX or CIFAR-10 binary).
        #[arg(long, env = "DUPLAB_DATA")]
        data_dir: Option<PathBuf>,
        /// Search this preset's data set.
        #[arg(long)]
        preset: Option<String>,
        /// Largest RMS distance listed (0 = exact duplicates only).
        #[arg(long, default_value_t = 0.05)]
        threshold: f64,
        /// Which pairs: train, test, cross (each test image against the training set), all.
        #[arg(long, value_enum, default_value = "all")]
        pairs: dups_cmd::PairScope,
        /// Every pair as JSON on stdout.
        #[arg(long, conflicts_with = "csv")]
        json: bool,
        /// Every pair as CSV on stdout.
        #[arg(long)]
        csv: bool,
        /// How many closest pairs the text report lists.
        #[arg(long, default_value_t = 20)]
        limit: usize,
    },
    /// Download a data set into the user data folder (where every command looks), verified
    /// against the checksums duplab ships or the publisher's; resumes a partial download.
    Get {
        set: data_get::GetSet,
        /// Another root folder than the user data folder.
        #[arg(long)]
        dir: Option<PathBuf>,
        /// A site that keeps its own copy of the files (same names), e.g. an internal mirror.
        #[arg(long)]
        mirror: Option<String>,
    },
    /// Cut the embedded default subset from the official Fashion-MNIST files.
    MakeSubset {
        #[arg(long)]
        data_dir: PathBuf,
        #[arg(long)]
        out: PathBuf,
    },
}

#[derive(Subcommand, Debug)]
pub enum RunsCommand {
    /// Every run, oldest first.
    Ls {
        #[arg(long)]
        json: bool,
    },
    /// One run: config, summary, per-class results.
    Show { id: String },
    /// Per-evaluation metrics as CSV, or the whole run as JSON, on stdout; or, with
    /// --pytorch DIR, the final weights in PyTorch's layout with the module definitions.
    Export {
        id: String,
        #[arg(long, conflicts_with = "json")]
        csv: bool,
        #[arg(long)]
        json: bool,
        /// Write DIR/model.safetensors (PyTorch layout, normalisation included) and
        /// DIR/duplab_model.py, from the run's last checkpoint (runs of any version).
        #[arg(long, value_name = "DIR", conflicts_with_all = ["csv", "json"])]
        pytorch: Option<PathBuf>,
        /// Write a TensorBoard event file of the run's scalars into DIR
        /// (then: tensorboard --logdir DIR).
        #[arg(long, value_name = "DIR", conflicts_with_all = ["csv", "json", "pytorch"])]
        tensorboard: Option<PathBuf>,
        /// Where the run's data set is (older runs recompute their normalisation from it).
        #[arg(long, env = "DUPLAB_DATA")]
        data_dir: Option<PathBuf>,
    },
    /// Ask a training run to stop with a checkpoint (status `interrupted`, resumable), wherever
    /// its trainer runs; waits until it has.
    Stop {
        id: String,
        /// Seconds to wait for the checkpoint (0: ask and return).
        #[arg(long, default_value_t = 120)]
        wait: u64,
    },
    /// Hold a training run between steps (its process stays, the device memory too).
    Pause {
        id: String,
        #[arg(long, default_value_t = 60)]
        wait: u64,
    },
    /// Let a paused run train on.
    Resume {
        id: String,
        #[arg(long, default_value_t = 60)]
        wait: u64,
    },
    /// Give up a run whose owner is gone for good (a node that died, a container that was
    /// replaced): the run reads as interrupted and can be resumed. A trainer that still lives is
    /// fenced off: it stops within a heartbeat and writes no checkpoint, summary or status.
    Release {
        id: String,
        /// Release it even though its owner may still live (its heartbeat is fresh, or it is
        /// a live process of this machine).
        #[arg(long)]
        force: bool,
    },
    /// Delete a run folder.
    Rm {
        id: String,
        /// Delete without asking.
        #[arg(long)]
        yes: bool,
    },
}

#[derive(Args, Debug, Clone)]
pub struct TrainArgs {
    /// Preset name (or a path to a .toml file).
    #[arg(long, default_value = crate::spec::DEFAULT_PRESET)]
    pub preset: String,
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
    /// Seed (default: the preset's first seed). Several with --seeds.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Train every seed of the preset's `training.seeds`, one after another.
    #[arg(long, conflicts_with = "seed")]
    pub all_seeds: bool,
    /// auto (the allocated or first real GPU, else the CPU), gpu (the best adapter, even a
    /// software one), gpu:N (adapter N as `duplab doctor` lists them), cpu. Default: the
    /// preset's training.device, else auto.
    #[arg(long)]
    pub device: Option<DeviceChoice>,
    #[arg(long, env = "DUPLAB_DATA")]
    pub data_dir: Option<PathBuf>,
    /// Continue an interrupted run from its last checkpoint, with the preset it started with
    /// (`--set` cannot change a run half way: start a new one).
    #[arg(long, value_name = "RUN_ID", conflicts_with_all = ["seed", "all_seeds", "set"])]
    pub resume: Option<String>,
    /// Train the run folder the lab prepared under this id, from the `preset.toml` it wrote
    /// there (how the lab starts a detached trainer).
    #[arg(long, value_name = "RUN_ID", conflicts_with_all = ["resume", "all_seeds", "sweep"])]
    pub prepared: Option<String>,
    /// Plain progress lines even on a TTY.
    #[arg(long)]
    pub plain: bool,
    /// Tag the run as part of a sweep.
    #[arg(long, hide = true)]
    pub sweep: Option<String>,
    /// The sweep point this run is (with --sweep).
    #[arg(long, hide = true)]
    pub point: Option<String>,
    /// Report to a parent sweep in JSON lines on stdout instead of progress text.
    #[arg(long, hide = true)]
    pub events_json: bool,
}

pub fn main() -> i32 {
    let cli = Cli::parse();
    let store = crate::store::RunStore::resolve(cli.runs_dir.as_deref());
    match cli.command {
        None => match crate::tui::run(
            &store,
            crate::tui::Options::from_cli(cli.no_color, cli.ascii, cli.mouse, cli.in_process),
            cli.data_dir,
        ) {
            Ok(()) => 0,
            Err(crate::tui::LabError::NotATerminal(help)) => {
                eprintln!("{help}");
                exit::EXIT_NOT_A_TERMINAL
            }
            Err(e) => fail(e),
        },
        Some(command) => exit::exit_code(match command {
            Command::Presets { name, set } => presets_cmd::run(name.as_deref(), &set),
            Command::Data { command } => data_cmd::run(command),
            Command::Runs { command } => runs_cmd::run(&store, command),
            Command::Train(args) => train_cmd::run(&store, args),
            Command::Eval(args) => eval_cmd::run(&store, args),
            Command::Sweep(args) => sweep_cmd::run(&store, args),
            Command::Report(args) => report_cmd::run(&store, args),
            Command::Membership(args) => membership_cmd::run(&store, args),
            Command::Bench(args) => bench::run(args),
            Command::Screenshots(args) => screenshots_cmd::run(&store, args),
            Command::Doctor(args) => doctor_cmd::run(args),
        }),
    }
}
