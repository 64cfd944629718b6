//! `duplab sweep GRID`: every point of a grid as an ordinary run, `--jobs N` at a time, each
//! trained by a child `duplab train` (see `sweep_child`).
//! Resumable: finished points are skipped, interrupted ones resumed from their checkpoint.
//! `--emit slurm` writes an sbatch array script instead (one task per point).

use super::device_slots::DeviceSlots;
use super::exit::{EXIT_INTERRUPTED, failure, stop_flag};
use super::sweep_child::{PointChild, PointEvent, train_args};
use crate::backend::DeviceChoice;
use crate::report::pct_str;
use crate::spec::{Grid, load_grid};
use crate::store::{PointPlan, RunStore};
use anyhow::Result;
use clap::Args;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::mpsc::{RecvTimeoutError, channel};
use std::time::Duration;

#[derive(Args, Debug)]
pub struct SweepArgs {
    /// Grid name (in presets/) or path to a grid .toml.
    pub grid: String,
    /// Points trained at once (default 1, or one per device of --devices).
    #[arg(long)]
    pub jobs: Option<usize>,
    /// Adapters (as `duplab doctor` numbers them) to place running points on, one point a card:
    /// `--devices 0,1,2,3` trains four points at once, each on its own GPU.
    #[arg(long, value_delimiter = ',', conflicts_with = "emit")]
    pub devices: Option<Vec<usize>>,
    /// Every point's device, over the preset's `training.device`: auto (the allocated or first
    /// real GPU, else the CPU), gpu (the best adapter, even a software one), gpu:N (adapter N as
    /// `duplab doctor` lists them), cpu. Without it, each point trains where its preset says
    /// (auto when the preset says nothing).
    #[arg(long)]
    pub device: Option<DeviceChoice>,
    #[arg(long, env = "DUPLAB_DATA")]
    pub data_dir: Option<PathBuf>,
    /// Write a job script instead of running: `slurm` (an sbatch array).
    #[arg(long, value_enum)]
    pub emit: Option<Emit>,
    /// Where to write the emitted script (default: stdout).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// List the points and what would happen to each, then exit.
    #[arg(long)]
    pub dry_run: bool,
    #[command(flatten)]
    pub slurm: SlurmOptions,
}

/// What an emitted Slurm script asks for. GPUs default to 1 a task, none with `--device cpu`.
#[derive(Args, Debug, Clone, Default)]
pub struct SlurmOptions {
    /// Slurm partition (`#SBATCH --partition`).
    #[arg(long = "slurm-partition", value_name = "NAME")]
    pub partition: Option<String>,
    /// Slurm account to charge (`#SBATCH --account`).
    #[arg(long = "slurm-account", value_name = "NAME")]
    pub account: Option<String>,
    /// Time limit of a task (`#SBATCH --time`, e.g. 04:00:00); a task gets USR1 two minutes
    /// before it, checkpoints and asks Slurm to requeue the task.
    #[arg(long = "slurm-time", value_name = "LIMIT")]
    pub time: Option<String>,
    /// Memory of a task (`#SBATCH --mem`, e.g. 16G).
    #[arg(long = "slurm-mem", value_name = "SIZE")]
    pub mem: Option<String>,
    /// CPUs of a task.
    #[arg(long = "slurm-cpus", value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub cpus: Option<u64>,
    /// GPUs of a task (default 1; 0 with --device cpu).
    #[arg(long = "slurm-gpus", value_name = "N")]
    pub gpus: Option<usize>,
    /// At most this many tasks of the array at once (`--array=0-K%N`).
    #[arg(long = "slurm-max-running", value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub max_running: Option<u64>,
    /// Your own lines for every task, inserted after the generated `#SBATCH` lines and before
    /// the task runs: more directives (`#SBATCH --qos=…`, `--constraint=…`) and setup such as
    /// `module load …`. Your file, so it is pasted as it is.
    #[arg(long = "slurm-template", value_name = "FILE")]
    pub template: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum Emit {
    Slurm,
}

/// The store's folder of Slurm task logs.
pub const SLURM_LOGS: &str = ".slurm";

fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// Text for a `#` comment line: control characters (a newline would end the comment and start a
/// command) become spaces.
fn comment_safe(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// A value for an `#SBATCH` line, which the shell never quotes: only characters that cannot end
/// the line or the option, else an error naming the option.
fn sbatch_value(option: &str, v: &str) -> Result<String> {
    let ok = !v.is_empty()
        && v.chars()
            .all(|c| c.is_ascii_alphanumeric() || "._:,-+=@%/".contains(c));
    if ok {
        Ok(v.to_string())
    } else {
        Err(failure(format!(
            "--slurm-{option} `{}`: allowed are letters, digits and . _ : , - + = @ % /",
            v.escape_debug()
        )))
    }
}

/// The user's template: a text file of at most 64 KiB.
fn read_template(path: &Path) -> Result<String> {
    use std::io::Read;
    let f = std::fs::File::open(path)
        .map_err(|e| failure(format!("--slurm-template {}: {e}", path.display())))?;
    let mut text = String::new();
    f.take(64 * 1024 + 1)
        .read_to_string(&mut text)
        .map_err(|e| {
            failure(format!(
                "--slurm-template {}: {e} (a text file is expected)",
                path.display()
            ))
        })?;
    if text.len() > 64 * 1024 {
        return Err(failure(format!(
            "--slurm-template {}: larger than 64 KiB; a template holds directives and setup lines",
            path.display()
        )));
    }
    Ok(text)
}

/// An sbatch array script: task k runs `duplab train` for point k into a shared run store, with
/// the device and data folder of the sweep. Everything taken from the grid or the command line
/// is quoted for the shell, or refused where Slurm reads it unquoted.
pub fn slurm_script(
    grid: &Grid,
    runs_dir: &Path,
    device: Option<DeviceChoice>,
    data_dir: Option<&Path>,
    o: &SlurmOptions,
) -> Result<String> {
    let points = grid.points();
    let mut s = String::new();
    s.push_str("#!/bin/bash\n");
    s.push_str(&format!(
        "# duplab sweep {}: {} runs ({}). Submit with: sbatch THIS_FILE\n",
        comment_safe(&grid.name),
        points.len(),
        comment_safe(&grid.description)
    ));
    let job: String = grid
        .name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._-".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    s.push_str(&format!("#SBATCH --job-name=duplab-{job}\n"));
    let throttle = o.max_running.map(|n| format!("%{n}")).unwrap_or_default();
    s.push_str(&format!(
        "#SBATCH --array=0-{}{throttle}\n",
        points.len().saturating_sub(1)
    ));
    // A task asks for no GPU when every point trains on the CPU: by --device, else by its
    // preset with the grid's overrides (`training.device`). A point whose preset does not
    // resolve counts as a GPU one; it fails with its own error when it runs.
    let on_cpu = match device {
        Some(d) => d == DeviceChoice::Cpu,
        None => points.iter().all(|p| {
            grid.preset(p).ok().and_then(|q| q.training.device) == Some(DeviceChoice::Cpu)
        }),
    };
    let gpus = o.gpus.unwrap_or(if on_cpu { 0 } else { 1 });
    if gpus > 0 {
        s.push_str(&format!("#SBATCH --gres=gpu:{gpus}\n"));
    }
    if let Some(c) = o.cpus {
        s.push_str(&format!("#SBATCH --cpus-per-task={c}\n"));
    }
    for (option, name, v) in [
        ("partition", "partition", &o.partition),
        ("account", "account", &o.account),
        ("time", "time", &o.time),
        ("mem", "mem", &o.mem),
    ] {
        if let Some(v) = v {
            s.push_str(&format!("#SBATCH --{name}={}\n", sbatch_value(option, v)?));
        }
    }
    // Two minutes before the time limit the task's shell gets USR1: `duplab train` checkpoints
    // and ends `interrupted`, and the task requeues itself, so the point resumes. A TERM
    // (`scancel`, a preemption) also checkpoints, but requeues nothing: a cancel stays a cancel.
    s.push_str("#SBATCH --signal=B:USR1@120\n#SBATCH --requeue\n");
    // Each task's log goes into the run store (`.slurm/`), and the task links it into its run
    // folder once it knows the run (`task-JOB.log`); a store path Slurm cannot read unquoted
    // keeps the log in the submission folder.
    let logs = runs_dir.join(SLURM_LOGS);
    let logs_safe = sbatch_value("output", &logs.display().to_string()).is_ok()
        && !logs.display().to_string().contains('%');
    if logs_safe {
        s.push_str(&format!("#SBATCH --output={}/%A_%a.out\n", logs.display()));
    } else {
        s.push_str("#SBATCH --output=duplab-%A_%a.out\n");
    }
    if let Some(t) = &o.template {
        let text = read_template(t)?;
        s.push_str(&format!(
            "# From {}:\n",
            comment_safe(&t.display().to_string())
        ));
        s.push_str(&text);
        if !text.ends_with('\n') {
            s.push('\n');
        }
    }
    s.push_str("set -euo pipefail\n");
    s.push_str("# The duplab binary, and the run store every task writes into (on a shared file system).\n");
    s.push_str("DUPLAB=\"${DUPLAB:-duplab}\"\n");
    s.push_str(&format!(
        "if [ -z \"${{DUPLAB_RUNS:-}}\" ]; then DUPLAB_RUNS={}; fi\nexport DUPLAB_RUNS\n",
        shell_quote(&runs_dir.display().to_string())
    ));
    if logs_safe {
        s.push_str(&format!(
            "export DUPLAB_TASK_LOG={}/\"${{SLURM_ARRAY_JOB_ID:-0}}_${{SLURM_ARRAY_TASK_ID:-0}}.out\"\n",
            shell_quote(&logs.display().to_string())
        ));
    }
    s.push_str(
        "case \"${SLURM_ARRAY_TASK_ID:?run this with sbatch, or set SLURM_ARRAY_TASK_ID}\" in\n",
    );
    for (k, p) in points.iter().enumerate() {
        // `train --plain` is written out below; the rest is the point's.
        let args = &train_args(grid, p, device, data_dir.map(Path::to_path_buf).as_ref())[2..];
        let quoted: Vec<String> = args.iter().map(|a| shell_quote(a)).collect();
        s.push_str(&format!("  {k}) args=({}) ;;\n", quoted.join(" ")));
    }
    s.push_str("  *) echo \"no task ${SLURM_ARRAY_TASK_ID} in this sweep\" >&2; exit 2 ;;\nesac\n");
    s.push_str(
        "# A finished point is skipped and an interrupted one resumed: resubmitting is safe.\n",
    );
    // duplab runs as a child so that the signals Slurm sends the task's shell reach it: it
    // checkpoints and exits 130; after the time-limit warning (USR1) the task asks to be
    // requeued, so the point resumes instead of ending TIMEOUT.
    s.push_str(concat!(
        "set +e\n",
        "requeue=0\n",
        "\"$DUPLAB\" train --plain \"${args[@]}\" &\n",
        "child=$!\n",
        "trap 'requeue=1; kill -TERM \"$child\" 2>/dev/null' USR1\n",
        "trap 'kill -TERM \"$child\" 2>/dev/null' TERM\n",
        "wait \"$child\"; code=$?\n",
        "# A signal interrupts wait: wait again until the checkpoint is written.\n",
        "while kill -0 \"$child\" 2>/dev/null; do wait \"$child\"; code=$?; done\n",
        "if [ \"$requeue\" = 1 ] && [ \"$code\" -eq 130 ] && [ -n \"${SLURM_ARRAY_JOB_ID:-}\" ]; then\n",
        "  scontrol requeue \"${SLURM_ARRAY_JOB_ID}_${SLURM_ARRAY_TASK_ID}\" || true\n",
        "fi\n",
        "exit \"$code\"\n",
    ));
    Ok(s)
}

pub fn run(store: &RunStore, a: SweepArgs) -> Result<i32> {
    let grid = load_grid(&a.grid)?;
    let mut slots = DeviceSlots::new(a.device, a.devices.clone(), a.jobs).map_err(failure)?;
    if let Some(d) = &a.devices
        && !a.dry_run
    {
        super::device_slots::check_devices(d, &crate::backend::adapters()).map_err(failure)?;
    }
    if let Some(Emit::Slurm) = a.emit {
        let root = std::fs::canonicalize(&store.root).unwrap_or_else(|_| {
            std::env::current_dir()
                .unwrap_or_default()
                .join(&store.root)
        });
        // The data folder as every task sees it: absolute.
        let data_dir = a
            .data_dir
            .as_ref()
            .map(|d| std::fs::canonicalize(d).unwrap_or_else(|_| d.clone()));
        let script = slurm_script(&grid, &root, a.device, data_dir.as_deref(), &a.slurm)?;
        // Slurm opens each task's log before the task runs: its folder must exist.
        let logs = root.join(SLURM_LOGS);
        std::fs::create_dir_all(&logs).map_err(|e| failure(format!("{}: {e}", logs.display())))?;
        return match &a.out {
            Some(p) => match std::fs::write(p, script) {
                Ok(()) => {
                    outln!(
                        "wrote {} ({} array tasks); submit with: sbatch {}",
                        p.display(),
                        grid.points().len(),
                        p.display()
                    );
                    Ok(0)
                }
                Err(e) => Err(failure(format!("{}: {e}", p.display()))),
            },
            None => {
                print!("{script}");
                Ok(0)
            }
        };
    }
    let points = grid.points();
    let plans: Vec<PointPlan> = points
        .iter()
        .map(|p| store.plan_point(&grid.name, &p.label, p.seed))
        .collect();
    let todo: Vec<(usize, Option<String>)> = plans
        .iter()
        .enumerate()
        .filter_map(|(i, pl)| match pl {
            PointPlan::Skip(_) => None,
            PointPlan::Resume(id) => Some((i, Some(id.clone()))),
            PointPlan::Start => Some((i, None)),
        })
        .collect();
    outln!(
        "sweep {}: {} runs, {} done, {} to resume, {} to start; {} at a time",
        grid.name,
        points.len(),
        points.len() - todo.len(),
        todo.iter().filter(|t| t.1.is_some()).count(),
        todo.iter().filter(|t| t.1.is_none()).count(),
        slots.jobs
    );
    if a.dry_run {
        for (p, pl) in points.iter().zip(&plans) {
            let what = match pl {
                PointPlan::Skip(id) => format!("done or running: {id}"),
                PointPlan::Resume(id) => format!("resume {id}"),
                PointPlan::Start => "start".into(),
            };
            outln!("  {:<50} seed {:<3} {what}", p.label, p.seed);
        }
        return Ok(0);
    }
    let stop = stop_flag();
    let (tx, rx) = channel::<(usize, PointEvent)>();
    let mut queue = todo.into_iter();
    let mut active: HashMap<usize, (PointChild, Option<DeviceChoice>)> = HashMap::new();
    let mut failed = 0;
    // Points another process claimed while this sweep ran: not finished by this one.
    let mut taken = 0;
    let mut stopping = false;
    let total = points.len();
    let mut done = total
        - plans
            .iter()
            .filter(|p| !matches!(p, PointPlan::Skip(_)))
            .count();
    // What each child said before it exited: whether it reported its own end.
    let mut ended: HashMap<usize, bool> = HashMap::new();
    loop {
        // No new child once a stop is asked for (it would get the TERM before it can take it).
        while !stopping && !stop.load(Ordering::Relaxed) && active.len() < slots.jobs {
            let device = slots.take();
            let Some((i, _)) = queue.next() else {
                slots.give_back(device);
                break;
            };
            // The child claims (or resumes) the point itself, before it loads any data, exactly
            // as a Slurm task does.
            let child = PointChild::start(
                store,
                &grid,
                &points[i],
                device,
                a.data_dir.as_ref(),
                i,
                tx.clone(),
            )?;
            ended.insert(i, false);
            active.insert(i, (child, device));
        }
        if stop.load(Ordering::Relaxed) && !stopping {
            outln!(
                "stopping: checkpointing {} running point(s); re-run the sweep to continue",
                active.len()
            );
            for (c, _) in active.values() {
                c.stop();
            }
            stopping = true;
        }
        if active.is_empty() {
            break;
        }
        let (i, ev) = match rx.recv_timeout(Duration::from_millis(200)) {
            Ok(v) => v,
            Err(RecvTimeoutError::Timeout) => continue,
            Err(RecvTimeoutError::Disconnected) => break,
        };
        let p = &points[i];
        match &ev {
            PointEvent::Skipped { run_id } => {
                outln!(
                    "{} seed {}: taken by another process as {run_id}; skipped",
                    p.label,
                    p.seed
                );
                taken += 1;
            }
            PointEvent::Started { run_id, start_step } => outln!(
                "[{}/{total}] start  {} seed {} → {run_id}{}",
                done + 1,
                p.label,
                p.seed,
                if *start_step > 0 {
                    format!(" (resuming at step {start_step})")
                } else {
                    String::new()
                }
            ),
            PointEvent::Evaluated {
                step,
                test_acc,
                robust_acc,
            } => outln!(
                "         eval   {} seed {}: step {step} test acc {:.2}%{}",
                p.label,
                p.seed,
                test_acc * 100.0,
                robust_acc
                    .map(|r| format!(" robust {:.2}%", r * 100.0))
                    .unwrap_or_default()
            ),
            PointEvent::Finished {
                test_acc,
                robust_acc,
                duration_s,
                ..
            } => {
                done += 1;
                outln!(
                    "[{done}/{total}] done   {} seed {}: clean {}%  robust {}%  {:.0} s",
                    p.label,
                    p.seed,
                    pct_str(*test_acc),
                    pct_str(*robust_acc),
                    duration_s
                );
            }
            PointEvent::Stopped { run_id, step } => outln!(
                "         stopped {} seed {} at step {step} ({run_id})",
                p.label,
                p.seed
            ),
            PointEvent::Failed { error } => {
                failed += 1;
                errln!("         FAILED {} seed {}: {error}", p.label, p.seed);
            }
            PointEvent::Exited { .. } => {}
        }
        if !matches!(
            ev,
            PointEvent::Exited { .. } | PointEvent::Started { .. } | PointEvent::Evaluated { .. }
        ) {
            ended.insert(i, true);
        }
        if matches!(ev, PointEvent::Exited { .. })
            && let Some((c, device)) = active.remove(&i)
        {
            slots.give_back(device);
            let code = c.finish();
            // A child that died without saying so (killed, out of memory) failed its point; one
            // the sweep's own stop reached before it could checkpoint did not.
            if !ended.get(&i).copied().unwrap_or(false) && !stopping {
                failed += 1;
                errln!(
                    "         FAILED {} seed {}: its trainer ended without a result ({})",
                    p.label,
                    p.seed,
                    code.map_or_else(|| "killed by a signal".into(), |c| format!("exit code {c}"))
                );
            }
        }
    }
    if stopping {
        return Ok(EXIT_INTERRUPTED);
    }
    outln!(
        "sweep {} complete: {done}/{total} runs finished{}{}; report with: duplab report --sweep {}",
        grid.name,
        if failed > 0 {
            format!(", {failed} failed")
        } else {
            String::new()
        },
        if taken > 0 {
            format!(", {taken} trained by another process")
        } else {
            String::new()
        },
        grid.name
    );
    Ok(if failed > 0 { 1 } else { 0 })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Write a shell stand-in (for duplab, for scontrol) and make it executable.
    fn stand_in(path: impl AsRef<Path>, script: impl AsRef<str>) {
        let (path, script) = (path.as_ref(), script.as_ref());
        use std::os::unix::fs::PermissionsExt;
        std::fs::write(path, script).unwrap();
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }

    #[test]
    fn builtin_grids_load_and_expand() {
        for (name, _) in crate::spec::BUILTIN_GRIDS {
            let g = load_grid(name).unwrap_or_else(|e| panic!("{e}"));
            assert!(g.points().len() >= 2, "{name}");
            assert!(g.seeds.len() >= 3, "{name}: at least 3 seeds");
        }
    }

    #[test]
    fn slurm_script_is_valid_bash_and_each_task_runs_its_point() {
        let g = load_grid("study-default").unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sweep.sbatch");
        // No --device: each task trains where its point's preset says (no --device passed on).
        let script = slurm_script(
            &g,
            Path::new("/shared/runs"),
            None,
            None,
            &SlurmOptions::default(),
        )
        .unwrap();
        std::fs::write(&path, script).unwrap();
        let syntax = std::process::Command::new("bash")
            .arg("-n")
            .arg(&path)
            .output()
            .unwrap();
        assert!(
            syntax.status.success(),
            "{}",
            String::from_utf8_lossy(&syntax.stderr)
        );
        // A stand-in for duplab that prints its arguments one per line.
        let stub = dir.path().join("duplab-stub");
        stand_in(
            &stub,
            "#!/bin/sh\nfor a in \"$@\"; do printf '%s\\n' \"$a\"; done\n",
        );
        for (k, p) in g.points().iter().enumerate() {
            let out = std::process::Command::new("bash")
                .arg(&path)
                .env("DUPLAB", &stub)
                .env("SLURM_ARRAY_TASK_ID", k.to_string())
                .env_remove("DUPLAB_RUNS")
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            let args: Vec<String> = String::from_utf8_lossy(&out.stdout)
                .lines()
                .map(String::from)
                .collect();
            let mut expect = vec![
                "train".to_string(),
                "--plain".into(),
                "--preset".into(),
                g.base.clone(),
            ];
            for o in &p.overrides {
                expect.push("--set".into());
                expect.push(o.clone());
            }
            expect.extend([
                "--seed".into(),
                p.seed.to_string(),
                "--sweep".into(),
                g.name.clone(),
                "--point".into(),
                p.label.clone(),
            ]);
            assert_eq!(args, expect, "task {k}");
        }
        let out = std::process::Command::new("bash")
            .arg(&path)
            .env("SLURM_ARRAY_TASK_ID", "9999")
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2));
    }

    /// A grid's name and description, the run store's path and the data folder reach the
    /// script; none of them may run as a command, and a CPU sweep asks for no GPU and passes its
    /// device and data folder to every task.
    #[test]
    fn nothing_from_the_grid_or_the_paths_runs_as_a_command() {
        let dir = tempfile::tempdir().unwrap();
        let mark = dir.path().join("pwned");
        let touch = format!("touch {}", mark.display());
        let mut g = load_grid("study-default").unwrap();
        g.name = format!("x\n{touch}");
        g.description = format!("y\n{touch}");
        let runs = dir.path().join(format!("runs$({touch})\"'"));
        let data = dir.path().join(format!("data`{touch}`"));
        let o = SlurmOptions::default();
        let script = slurm_script(&g, &runs, Some(DeviceChoice::Cpu), Some(&data), &o).unwrap();
        assert!(
            !script.contains("--gres"),
            "a CPU sweep asks for no GPU:\n{script}"
        );
        let path = dir.path().join("sweep.sbatch");
        std::fs::write(&path, &script).unwrap();
        let stub = dir.path().join("duplab-stub");
        stand_in(
            &stub,
            "#!/bin/sh\nprintf '%s\\0' \"$DUPLAB_RUNS\"; for a in \"$@\"; do printf '%s\\0' \"$a\"; done\n",
        );
        let out = std::process::Command::new("bash")
            .arg(&path)
            .env("DUPLAB", &stub)
            .env("SLURM_ARRAY_TASK_ID", "0")
            .env_remove("DUPLAB_RUNS")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            !mark.exists(),
            "the script ran a command from the grid or a path:\n{script}"
        );
        // NUL-separated: an argument may hold a newline.
        let lines: Vec<String> = String::from_utf8_lossy(&out.stdout)
            .split('\0')
            .map(String::from)
            .collect();
        assert_eq!(
            lines[0],
            runs.display().to_string(),
            "the run store, byte for byte"
        );
        let args = &lines[1..];
        let at = |flag: &str| {
            args.iter()
                .position(|a| a == flag)
                .map(|i| args[i + 1].clone())
        };
        assert_eq!(at("--device").as_deref(), Some("cpu"));
        assert_eq!(at("--data-dir"), Some(data.display().to_string()));
        assert_eq!(
            at("--sweep"),
            Some(g.name.clone()),
            "the sweep id itself is kept whole"
        );
        // Options Slurm reads unquoted are refused, not pasted.
        let bad = SlurmOptions {
            partition: Some(format!("gpu\n{touch}")),
            ..SlurmOptions::default()
        };
        let e = slurm_script(&g, &runs, Some(DeviceChoice::Cpu), None, &bad).unwrap_err();
        assert!(e.to_string().contains("--slurm-partition"), "{e}");
        let good = SlurmOptions {
            partition: Some("gpu".into()),
            time: Some("04:00:00".into()),
            gpus: Some(2),
            max_running: Some(3),
            ..SlurmOptions::default()
        };
        let template = dir.path().join("site.sh");
        std::fs::write(&template, "#SBATCH --qos=long\nmodule load vulkan\n").unwrap();
        let good = SlurmOptions {
            template: Some(template),
            ..good
        };
        let s = slurm_script(&g, &runs, Some(DeviceChoice::Gpu), None, &good).unwrap();
        let at = |l: &str| s.find(l).unwrap_or_else(|| panic!("{l} in:\n{s}"));
        assert!(
            at("#SBATCH --requeue") < at("#SBATCH --qos=long")
                && at("module load vulkan") < at("set -euo pipefail"),
            "the template follows the generated directives and precedes the task:\n{s}"
        );
        for line in [
            "#SBATCH --partition=gpu",
            "#SBATCH --time=04:00:00",
            "#SBATCH --gres=gpu:2",
            "%3\n",
            "#SBATCH --requeue",
        ] {
            assert!(s.contains(line), "{line} in:\n{s}");
        }
    }

    /// Without --device, a task asks for a GPU unless every point's preset (the grid's overrides
    /// included) says `training.device = "cpu"`.
    #[test]
    fn without_device_the_points_presets_decide_whether_tasks_ask_for_a_gpu() {
        let grid = |set: &str, axis: &str| {
            let text = format!(
                "name = \"g\"\nbase = \"default\"\nseeds = [0]\n[set]\n{set}\n[[axes]]\nname = \"a\"\nvalues = [{{ label = \"x\", set = {{ {axis} }} }}, {{ label = \"y\", set = {{ \"training.lr\" = 0.01 }} }}]\n"
            );
            crate::spec::Grid::from_toml_str(&text, "test").unwrap()
        };
        let runs = Path::new("/shared/runs");
        let o = SlurmOptions::default();
        let cpu = "\"training.device\" = \"cpu\"";
        let all_cpu = grid(cpu, "\"training.lr\" = 0.02");
        let s = slurm_script(&all_cpu, runs, None, None, &o).unwrap();
        assert!(!s.contains("--gres"), "every point on the CPU:\n{s}");
        let one_gpu = grid(cpu, "\"training.device\" = \"gpu:0\"");
        let s = slurm_script(&one_gpu, runs, None, None, &o).unwrap();
        assert!(
            s.contains("#SBATCH --gres=gpu:1"),
            "one point on a GPU:\n{s}"
        );
        let s = slurm_script(&all_cpu, runs, Some(DeviceChoice::Gpu), None, &o).unwrap();
        assert!(s.contains("#SBATCH --gres=gpu:1"), "--device wins:\n{s}");
    }

    /// The warning Slurm sends before a time limit (USR1, to the task's shell) reaches duplab
    /// (its child) as a TERM: it checkpoints and exits 130, and the task asks to be requeued. A
    /// TERM (`scancel`) checkpoints the same way but requeues nothing: once it did, and a
    /// cancelled task came back by itself.
    #[test]
    fn a_time_limit_requeues_the_task_and_a_cancel_does_not() {
        for (signal, requeued) in [(libc::SIGUSR1, true), (libc::SIGTERM, false)] {
            let dir = tempfile::tempdir().unwrap();
            let g = load_grid("study-default").unwrap();
            let o = SlurmOptions::default();
            let script = slurm_script(&g, dir.path(), Some(DeviceChoice::Cpu), None, &o).unwrap();
            let path = dir.path().join("sweep.sbatch");
            std::fs::write(&path, &script).unwrap();
            let mark = dir.path().join("got-term");
            let stub = dir.path().join("duplab-stub");
            stand_in(
                &stub,
                format!(
                    "#!/bin/bash\ntrap 'touch {}; exit 130' TERM\nwhile true; do sleep 0.05; done\n",
                    mark.display()
                ),
            );
            // A stand-in `scontrol` that records what it was asked.
            let bin = dir.path().join("bin");
            std::fs::create_dir_all(&bin).unwrap();
            let asked = dir.path().join("scontrol-args");
            stand_in(
                bin.join("scontrol"),
                format!("#!/bin/sh\necho \"$@\" > {}\n", asked.display()),
            );
            let path_var = format!(
                "{}:{}",
                bin.display(),
                std::env::var("PATH").unwrap_or_default()
            );
            let mut task = std::process::Command::new("bash")
                .arg(&path)
                .env("DUPLAB", &stub)
                .env("PATH", path_var)
                .env("SLURM_ARRAY_TASK_ID", "0")
                .env("SLURM_ARRAY_JOB_ID", "77")
                .spawn()
                .unwrap();
            std::thread::sleep(std::time::Duration::from_millis(500));
            unsafe {
                libc::kill(task.id() as i32, signal);
            }
            let status = task.wait().unwrap();
            assert!(
                mark.exists(),
                "signal {signal}: the TERM did not reach duplab"
            );
            assert_eq!(status.code(), Some(130));
            let requeue = std::fs::read_to_string(&asked).unwrap_or_default();
            if requeued {
                assert_eq!(
                    requeue.trim(),
                    "requeue 77_0",
                    "a time limit requeues the task"
                );
            } else {
                assert_eq!(requeue, "", "a cancel requeues nothing");
            }
        }
    }
}
