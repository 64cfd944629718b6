//! The benchmark's peer: `bench/peer_torch.py`, one long-lived Python process that trains the
//! same models on the same images in PyTorch, driven case by case over stdin/stdout (one JSON
//! object a line), so its repeats interleave with duplab's and both see the same machine state.

use duplab::data::{DataSet, Split};
use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

pub struct Peer {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
    pub version: String,
    tmp: PathBuf,
}

impl Peer {
    /// Start the peer with `python`; `None` with the reason when PyTorch cannot be imported.
    pub fn start(python: &Path, script: &Path, threads: usize) -> Result<Peer, String> {
        let probe = Command::new(python)
            .args(["-c", "import torch"])
            .output()
            .map_err(|e| format!("{}: {e}", python.display()))?;
        if !probe.status.success() {
            return Err(format!(
                "{} cannot import torch ({}); install PyTorch in a virtual environment and pass --python PATH",
                python.display(),
                String::from_utf8_lossy(&probe.stderr)
                    .lines()
                    .last()
                    .unwrap_or("")
            ));
        }
        let mut child = Command::new(python)
            .arg(&script)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| format!("starting {}: {e}", script.display()))?;
        let stdin = child.stdin.take().ok_or("no stdin")?;
        let stdout = BufReader::new(child.stdout.take().ok_or("no stdout")?);
        let tmp = std::env::temp_dir().join(format!("duplab-peer-{}", std::process::id()));
        std::fs::create_dir_all(&tmp).map_err(|e| e.to_string())?;
        let mut p = Peer {
            child,
            stdin,
            stdout,
            version: String::new(),
            tmp,
        };
        let hello = p.ask(&json!({"cmd": "hello", "threads": threads}))?;
        p.version = format!(
            "PyTorch {} ({} threads)",
            hello["torch"].as_str().unwrap_or("?"),
            hello["threads"]
        );
        Ok(p)
    }

    fn ask(&mut self, v: &Value) -> Result<Value, String> {
        writeln!(self.stdin, "{v}").map_err(|e| format!("the peer: {e}"))?;
        self.stdin.flush().map_err(|e| format!("the peer: {e}"))?;
        let mut line = String::new();
        self.stdout
            .read_line(&mut line)
            .map_err(|e| format!("the peer: {e}"))?;
        if line.is_empty() {
            return Err("the peer exited (see its error above)".into());
        }
        let out: Value =
            serde_json::from_str(&line).map_err(|e| format!("the peer said {line:?}: {e}"))?;
        if let Some(e) = out.get("error") {
            return Err(format!("the peer: {e}"));
        }
        Ok(out)
    }

    /// Hand the peer the training images duplab trains on (raw u8 files).
    pub fn data(&mut self, ds: &DataSet) -> Result<(), String> {
        self.send_split("data", "train", &ds.train)
    }

    /// Hand the peer the test split too (the job case evaluates on it).
    pub fn test(&mut self, ds: &DataSet) -> Result<(), String> {
        self.send_split("test", "test", &ds.test)
    }

    /// Write `split` as raw u8 image and label files and tell the peer to read them (`cmd`).
    fn send_split(&mut self, cmd: &str, name: &str, split: &Split) -> Result<(), String> {
        let i = self.tmp.join(format!("{name}-images.u8"));
        let l = self.tmp.join(format!("{name}-labels.u8"));
        std::fs::write(&i, &split.images).map_err(|e| e.to_string())?;
        std::fs::write(&l, &split.labels).map_err(|e| e.to_string())?;
        self.ask(&json!({"cmd": cmd, "images": i, "labels": l,
            "shape": [split.len(), split.channels, split.height, split.width]}))?;
        Ok(())
    }

    /// duplab's default job written in PyTorch (after `data` and `test`): its wall time in
    /// seconds, final clean accuracy and robust accuracy.
    pub fn job(
        &mut self,
        preset: &duplab::spec::Preset,
        epochs: usize,
        mean: &[f32],
        std: &[f32],
    ) -> Result<PeerJob, String> {
        let t = &preset.training;
        let e = &preset.attack.eval;
        let out = self.ask(&json!({"cmd": "job", "model": t.model.name(), "epochs": epochs,
            "batch": t.batch_size, "lr": t.lr, "momentum": t.momentum,
            "weight_decay": t.weight_decay, "mean": mean, "std": std, "eval_eps": e.attack.eps,
            "eval_step": e.attack.step, "eval_steps": e.attack.steps, "eval_limit": e.limit, "seed": 0}))?;
        let part = |k: &str| out["split"][k].as_f64().unwrap_or(0.0);
        Ok(PeerJob {
            split: duplab::store::TimeSplit {
                prepare_s: part("prepare_s"),
                steps_s: part("steps_s"),
                test_s: part("test_s"),
                robust_s: part("robust_s"),
                ..Default::default()
            },
            seconds: out["seconds"].as_f64().unwrap_or(0.0),
            steps: out["steps"].as_u64().unwrap_or(0) as usize,
            clean: out["clean"].as_f64().unwrap_or(0.0),
            robust: out["robust"].as_f64().unwrap_or(0.0),
        })
    }

    /// One timed repeat of a case: images/s and the peer model's parameter count.
    #[allow(clippy::too_many_arguments)]
    pub fn repeat(
        &mut self,
        model: &str,
        mode: &str,
        batch: usize,
        steps: usize,
        attack: &duplab::spec::AttackSpec,
    ) -> Result<(f64, usize), String> {
        let out = self.ask(
            &json!({"cmd": "case", "model": model, "mode": mode, "batch": batch,
            "steps": steps, "warmup": 2, "lr": 0.01, "momentum": 0.9, "weight_decay": 5e-4,
            "eps": attack.eps, "step": attack.step, "attack_steps": attack.steps}),
        )?;
        Ok((
            out["rate"].as_f64().unwrap_or(0.0),
            out["params"].as_u64().unwrap_or(0) as usize,
        ))
    }
}

/// What the peer's job measured.
#[derive(Debug, Clone)]
pub struct PeerJob {
    pub seconds: f64,
    /// Where its time went (the twin has no group metrics, overfit check or checkpoints).
    pub split: duplab::store::TimeSplit,
    pub steps: usize,
    pub clean: f64,
    pub robust: f64,
}

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.tmp);
    }
}

impl duplab::cli::bench::Beside for Peer {
    fn label(&self) -> String {
        format!("peer {}", self.version)
    }
    fn data(&mut self, ds: &DataSet) -> anyhow::Result<()> {
        Peer::data(self, ds).map_err(anyhow::Error::msg)
    }
    fn repeat(
        &mut self,
        model: &str,
        mode: &str,
        batch: usize,
        steps: usize,
        attack: &duplab::spec::AttackSpec,
    ) -> anyhow::Result<(f64, usize)> {
        Peer::repeat(self, model, mode, batch, steps, attack).map_err(anyhow::Error::msg)
    }
}
