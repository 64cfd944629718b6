//! `duplab sweep GRID`: every point of a grid as an ordinary run, `--jobs N` at a time.
//! Resumable: finished points are skipped, interrupted ones resumed from their checkpoint.
//! `--emit slurm` writes an sbatch array script instead (one task per point).

use super::exit::{EXIT_INTERRUPTED, failure, stop_flag};
use crate::backend::DeviceChoice;
use crate::report::pct_str;
use crate::spec::{Grid, load_grid};
use crate::store::{PointPlan, RunStore};
use crate::train::{Control, TrainEvent, TrainJob, WorkerHandle, spawn};
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
    /// Points trained at once (e.g. one per GPU).
    #[arg(long, default_value_t = 1)]
    pub jobs: usize,
    #[arg(long, value_enum, default_value = "auto")]
    pub device: DeviceChoice,
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
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum Emit {
    Slurm,
}

fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// An sbatch array script: task k runs `duplab train` for point k into a shared run store.
pub fn slurm_script(grid: &Grid, runs_dir: &Path) -> String {
    let points = grid.points();
    let mut s = String::new();
    s.push_str("#!/bin/bash\n");
    s.push_str(&format!(
        "# duplab sweep {}: {} runs ({}). Submit with: sbatch THIS_FILE\n",
        grid.name,
        points.len(),
        grid.description
    ));
    s.push_str(&format!("#SBATCH --job-name=duplab-{}\n", grid.name));
    s.push_str(&format!(
        "#SBATCH --array=0-{}\n",
        points.len().saturating_sub(1)
    ));
    s.push_str(
        "#SBATCH --gres=gpu:1\n#SBATCH --cpus-per-task=4\n#SBATCH --output=duplab-%A_%a.out\n",
    );
    s.push_str("set -euo pipefail\n");
    s.push_str("# The duplab binary, and the run store every task writes into (on a shared file system).\n");
    s.push_str("DUPLAB=\"${DUPLAB:-duplab}\"\n");
    s.push_str(&format!(
        "export DUPLAB_RUNS=\"${{DUPLAB_RUNS:-{}}}\"\n",
        runs_dir.display()
    ));
    s.push_str(
        "case \"${SLURM_ARRAY_TASK_ID:?run this with sbatch, or set SLURM_ARRAY_TASK_ID}\" in\n",
    );
    for (k, p) in points.iter().enumerate() {
        let mut args = vec!["--preset".to_string(), grid.base.clone()];
        for o in &p.overrides {
            args.push("--set".into());
            args.push(o.clone());
        }
        args.extend([
            "--seed".into(),
            p.seed.to_string(),
            "--sweep".into(),
            grid.name.clone(),
            "--point".into(),
            p.label.clone(),
        ]);
        let quoted: Vec<String> = args.iter().map(|a| shell_quote(a)).collect();
        s.push_str(&format!("  {k}) args=({}) ;;\n", quoted.join(" ")));
    }
    s.push_str("  *) echo \"no task ${SLURM_ARRAY_TASK_ID} in this sweep\" >&2; exit 2 ;;\nesac\n");
    s.push_str(
        "# A finished point is skipped and an interrupted one resumed: resubmitting is safe.\n",
    );
    s.push_str("exec \"$DUPLAB\" train --plain \"${args[@]}\"\n");
    s
}

pub fn run(store: &RunStore, a: SweepArgs) -> Result<i32> {
    let grid = load_grid(&a.grid)?;
    if let Some(Emit::Slurm) = a.emit {
        let root = std::fs::canonicalize(&store.root).unwrap_or_else(|_| {
            std::env::current_dir()
                .unwrap_or_default()
                .join(&store.root)
        });
        let script = slurm_script(&grid, &root);
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
        a.jobs.max(1)
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
    let (tx, rx) = channel();
    let mut queue = todo.into_iter();
    let mut active: HashMap<usize, WorkerHandle> = HashMap::new();
    let mut by_run: HashMap<String, usize> = HashMap::new();
    let mut failed = 0;
    let mut stopping = false;
    let total = points.len();
    let mut done = total
        - plans
            .iter()
            .filter(|p| !matches!(p, PointPlan::Skip(_)))
            .count();
    loop {
        while !stopping && active.len() < a.jobs.max(1) {
            let Some((i, resume)) = queue.next() else {
                break;
            };
            let p = &points[i];
            let preset = grid.preset(p)?;
            let job = TrainJob {
                preset,
                seed: p.seed,
                device: a.device,
                data_dir: a.data_dir.clone(),
                store: store.clone(),
                resume,
                prepared: None,
                sweep: Some(grid.name.clone()),
                point: Some(p.label.clone()),
            };
            // Tag events with the point index through a forwarding channel.
            let (wtx, wrx) = channel::<TrainEvent>();
            let fwd = tx.clone();
            std::thread::spawn(move || {
                for ev in wrx {
                    if fwd.send((i, ev)).is_err() {
                        break;
                    }
                }
            });
            active.insert(i, spawn(job, wtx));
        }
        if active.is_empty() {
            break;
        }
        if stop.load(Ordering::Relaxed) && !stopping {
            outln!(
                "stopping: checkpointing {} running point(s); re-run the sweep to continue",
                active.len()
            );
            for w in active.values() {
                w.send(Control::Stop);
            }
            stopping = true;
        }
        let (i, ev) = match rx.recv_timeout(Duration::from_millis(200)) {
            Ok(v) => v,
            Err(RecvTimeoutError::Timeout) => continue,
            Err(RecvTimeoutError::Disconnected) => break,
        };
        let p = &points[i];
        match &ev {
            TrainEvent::Started { run_id, .. } => {
                by_run.insert(run_id.clone(), i);
                outln!(
                    "[{}/{total}] start  {} seed {} → {run_id}",
                    done + 1,
                    p.label,
                    p.seed
                );
            }
            TrainEvent::Epoch { record, .. } => outln!(
                "         eval   {} seed {}: step {} test acc {:.2}%{}",
                p.label,
                p.seed,
                record.step,
                record.test_acc * 100.0,
                record
                    .robust
                    .as_ref()
                    .map(|r| format!(" robust {:.2}%", r.acc * 100.0))
                    .unwrap_or_default()
            ),
            TrainEvent::Finished { summary, .. } => {
                done += 1;
                outln!(
                    "[{done}/{total}] done   {} seed {}: clean {}%  robust {}%  {:.0} s",
                    p.label,
                    p.seed,
                    pct_str(summary.test_acc),
                    pct_str(summary.robust_acc),
                    summary.duration_s
                );
            }
            TrainEvent::Stopped { run_id, step } => outln!(
                "         stopped {} seed {} at step {step} ({run_id})",
                p.label,
                p.seed
            ),
            TrainEvent::Failed { error, .. } => {
                failed += 1;
                errln!("         FAILED {} seed {}: {error}", p.label, p.seed);
            }
            _ => {}
        }
        if ev.is_final()
            && let Some(w) = active.remove(&i)
        {
            w.join();
        }
    }
    if stopping {
        return Ok(EXIT_INTERRUPTED);
    }
    outln!(
        "sweep {} complete: {done}/{total} runs finished{}; report with: duplab report --sweep {}",
        grid.name,
        if failed > 0 {
            format!(", {failed} failed")
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
        std::fs::write(&path, slurm_script(&g, Path::new("/shared/runs"))).unwrap();
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
        std::fs::write(
            &stub,
            "#!/bin/sh\nfor a in \"$@\"; do printf '%s\\n' \"$a\"; done\n",
        )
        .unwrap();
        std::process::Command::new("chmod")
            .arg("+x")
            .arg(&stub)
            .status()
            .unwrap();
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
}
