//! Launching a run in a trainer process of its own: the same `duplab train` the shell runs, in a
//! new session (so a hang-up of the lab's terminal never reaches it), with its output in the run
//! folder's `train.log`. The lab creates the folder under the id it chose with the resolved
//! preset, inline edits included, as `preset.toml` and the seed in `launch.json`; the trainer reads
//! them from there.

use crate::backend::DeviceChoice;
use crate::spec::Preset;
use crate::store::RunStore;
use anyhow::{Context, Result};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};

/// Start the trainer; returns its process id. The child is reaped by a thread of this process
/// while the lab lives (an unreaped child would look alive to `Run::status`); after the lab
/// exits, the system's init adopts it.
pub fn detach(
    store: &RunStore,
    id: &str,
    preset: &Preset,
    seed: u64,
    device: DeviceChoice,
    data_dir: Option<&Path>,
) -> Result<u32> {
    // The folder appears with its preset and launch record in it: a trainer killed before it wrote the
    // config leaves a run that `duplab train --resume` continues as it was launched.
    let run = store.create_staged_with_id(id, |r| {
        r.write_preset(preset)?;
        r.write_launch(&crate::store::Launch::seeded(seed))
    })?;
    let started = (|| -> Result<u32> {
        let log = std::fs::File::create(run.log_path())
            .with_context(|| format!("creating {}", run.log_path().display()))?;
        let exe = std::env::current_exe().context("finding the duplab binary")?;
        let root = std::path::absolute(&store.root).unwrap_or_else(|_| store.root.clone());
        let device = device.to_string();
        let mut cmd = Command::new(&exe);
        cmd.arg("--runs-dir")
            .arg(&root)
            .args(["train", "--plain", "--prepared", id])
            .args(["--seed", &seed.to_string(), "--device", &device]);
        if let Some(d) = data_dir {
            cmd.arg("--data-dir").arg(d);
        }
        cmd.stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log);
        // SAFETY: setsid is async-signal-safe and touches nothing of the parent's.
        unsafe {
            cmd.pre_exec(|| {
                if libc::setsid() < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let mut child = cmd
            .spawn()
            .with_context(|| format!("starting {}", exe.display()))?;
        let pid = child.id();
        // Until the trainer marks itself, the folder names it (not the lab) as its owner.
        run.set_owner(pid)?;
        std::thread::Builder::new()
            .name(format!("reap-{pid}"))
            .spawn(move || {
                let _ = child.wait();
            })?;
        Ok(pid)
    })();
    if let Err(e) = &started {
        let _ = run.mark_failed(&format!("the lab could not start its trainer: {e:#}"));
    }
    started
}
