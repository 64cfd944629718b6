//! `duplab runs stop|pause|resume RUN_ID`: the lab's pause, resume and stop keys from a shell.
//! The command goes into the run folder's control file (see `store::ControlCommand`), so it
//! reaches the trainer wherever it runs: a detached trainer the lab started, `duplab train` in
//! another terminal, a sweep task. Then it waits until the run's status shows the trainer acted.

use super::exit::failure;
use crate::store::{ControlCommand, RunStatus, RunStore};
use anyhow::Result;
use std::time::{Duration, Instant};

pub fn run(store: &RunStore, id: &str, command: ControlCommand, wait: u64) -> Result<i32> {
    let run = store.open(id)?;
    let status = run.status();
    if !status.is_live() {
        return Err(failure(format!(
            "run {} is not training (status {}){}",
            run.id,
            status.name(),
            if status == RunStatus::Interrupted {
                format!("; continue it with: duplab train --resume {}", run.id)
            } else {
                String::new()
            }
        )));
    }
    let done = |s: RunStatus| match command {
        ControlCommand::Pause => s == RunStatus::Paused || !s.is_live(),
        ControlCommand::Resume => s != RunStatus::Paused,
        ControlCommand::Stop => !s.is_live(),
    };
    if done(status) && command != ControlCommand::Stop {
        println!("run {} is already {}", run.id, status.name());
        return Ok(0);
    }
    run.send_control(command)?;
    if wait == 0 {
        println!("asked run {} to {}", run.id, command.word());
        return Ok(0);
    }
    eprintln!(
        "asked run {} to {}; waiting for its trainer (it acts between steps)…",
        run.id,
        command.word()
    );
    let t0 = Instant::now();
    while t0.elapsed() < Duration::from_secs(wait) {
        let s = run.status();
        if done(s) {
            let step = run.summary().ok().flatten().map_or(0, |s| s.steps_done);
            match s {
                RunStatus::Interrupted => println!(
                    "run {} stopped at step {step} with a checkpoint; continue with: duplab train --resume {}",
                    run.id, run.id
                ),
                s => println!("run {} is {}", run.id, s.name()),
            }
            return Ok(0);
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    Err(failure(format!(
        "run {} has not answered within {wait} s (still {}); the command stays in its folder and is carried out at its next step",
        run.id,
        run.status().name()
    )))
}
