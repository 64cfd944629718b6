//! A sweep point trained by a child process: `duplab sweep --jobs N` starts one `duplab train`
//! per point (the same command a Slurm task runs), because burn's random generator is
//! process-wide: trainers side by side in one process would draw from one stream and no run
//! would be reproducible. The child reports to its sweep in JSON lines on stdout (`PointEvent`);
//! its errors go to stderr as usual.

use crate::backend::DeviceChoice;
use crate::spec::{Grid, Point as GridPoint};
use crate::store::RunStore;
use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use std::io::{BufRead, BufReader};
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::Sender;

/// What a child trainer tells its sweep.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum PointEvent {
    /// Another process trains (or trained) the point: this one did nothing.
    Skipped {
        run_id: String,
    },
    Started {
        run_id: String,
        start_step: usize,
    },
    Evaluated {
        step: usize,
        test_acc: f64,
        robust_acc: Option<f64>,
    },
    Finished {
        run_id: String,
        test_acc: Option<f64>,
        robust_acc: Option<f64>,
        duration_s: f64,
    },
    Stopped {
        run_id: String,
        step: usize,
    },
    Failed {
        error: String,
    },
    /// Sent by the sweep's reader, not the child: the child's exit code (`None`: a signal).
    Exited {
        code: Option<i32>,
    },
}

impl PointEvent {
    /// One JSON line on stdout (the child's side).
    pub fn emit(&self) {
        use std::io::Write as _;
        let line = serde_json::to_string(self).expect("an event serialises");
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{line}");
        let _ = out.flush();
    }
}

/// A running child trainer.
pub struct PointChild {
    child: Child,
}

impl PointChild {
    /// Start `duplab train` for one point; its events reach `events` tagged with `index`, and
    /// an `Exited` event ends them.
    pub fn start(
        store: &RunStore,
        grid: &Grid,
        p: &GridPoint,
        device: Option<DeviceChoice>,
        data_dir: Option<&PathBuf>,
        index: usize,
        events: Sender<(usize, PointEvent)>,
    ) -> Result<PointChild> {
        let exe = std::env::current_exe().context("finding the duplab binary")?;
        let mut cmd = Command::new(&exe);
        cmd.args(train_args(grid, p, device, data_dir))
            .arg("--events-json")
            .env("DUPLAB_RUNS", &store.root)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        // SAFETY: setpgid and prctl are async-signal-safe and touch nothing of the parent's.
        unsafe {
            cmd.pre_exec(|| {
                // Its own process group: a Ctrl-C at the terminal reaches the sweep alone, which
                // forwards one TERM (a second signal would make the child quit without a
                // checkpoint).
                if libc::setpgid(0, 0) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                // A sweep that dies (kill -9) stops its children with a checkpoint.
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM);
                Ok(())
            });
        }
        let mut child = cmd
            .spawn()
            .with_context(|| format!("starting {}", exe.display()))?;
        let out = child.stdout.take().expect("stdout is piped");
        std::thread::Builder::new()
            .name(format!("point-{index}"))
            .spawn(move || {
                for line in BufReader::new(out).lines() {
                    let Ok(line) = line else { break };
                    // Anything else on stdout is not ours to interpret.
                    if let Ok(ev) = serde_json::from_str::<PointEvent>(&line)
                        && events.send((index, ev)).is_err()
                    {
                        return;
                    }
                }
                // The child's exit is reaped by `finish`; this tells the sweep to do it.
                let _ = events.send((index, PointEvent::Exited { code: None }));
            })
            .context("starting a reader thread")?;
        Ok(PointChild { child })
    }

    /// Ask the child to stop with a checkpoint.
    pub fn stop(&self) {
        // SAFETY: a signal to our own child.
        unsafe {
            libc::kill(self.child.id() as i32, libc::SIGTERM);
        }
    }

    /// Wait for the child and give its exit code (`None`: killed by a signal).
    pub fn finish(mut self) -> Option<i32> {
        self.child.wait().ok().and_then(|s| s.code())
    }
}

/// The arguments of `duplab train` for one point: the same for a sweep's child and a Slurm task.
/// `--device` only when the sweep was given one or placed the point on a card: otherwise the
/// point's preset (its `training.device`, a grid override included) decides.
pub fn train_args(
    grid: &Grid,
    p: &GridPoint,
    device: Option<DeviceChoice>,
    data_dir: Option<&PathBuf>,
) -> Vec<String> {
    let mut args = vec!["train".to_string(), "--plain".into()];
    if let Some(d) = device {
        args.extend(["--device".into(), d.to_string()]);
    }
    args.extend(["--preset".into(), grid.base.clone()]);
    if let Some(d) = data_dir {
        args.extend(["--data-dir".into(), d.display().to_string()]);
    }
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
    args
}
