//! `metrics.jsonl`: one JSON object a line, appended and flushed a record at a time, so a reader
//! (the TUI, another process) sees progress live and a crash loses at most the line being written.

use serde::{Deserialize, Serialize};
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::Path;

/// Training-batch metrics, at a bounded rate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepRecord {
    pub step: usize,
    pub epoch: f64,
    pub loss: f64,
    pub acc: f64,
    pub lr: f64,
    pub images_per_s: f64,
    /// Distinct original images seen so far, and copies (duplicates) seen so far.
    pub unique_seen: usize,
    pub dup_seen: usize,
    pub elapsed_s: f64,
}

/// Robust accuracy under the evaluation attack.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RobustRecord {
    pub attack: String,
    pub acc: f64,
    pub loss: f64,
    pub per_class_acc: Vec<f64>,
    pub images: usize,
}

/// Test-set results at the end of an epoch (or evaluation point of a step budget).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpochRecord {
    pub epoch: usize,
    pub step: usize,
    pub test_loss: f64,
    pub test_acc: f64,
    pub per_class_acc: Vec<f64>,
    /// confusion[true][predicted]
    pub confusion: Vec<Vec<u32>>,
    pub train_loss: f64,
    pub train_acc: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub robust: Option<RobustRecord>,
    pub elapsed_s: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum MetricRecord {
    Step(StepRecord),
    Epoch(EpochRecord),
    /// A robust evaluation run later on a finished run (`duplab eval`).
    Eval(RobustRecord),
    /// Anything a newer version writes that this one does not know.
    #[serde(other)]
    Unknown,
}

pub struct MetricsWriter {
    file: File,
}

impl MetricsWriter {
    pub fn open(path: &Path) -> std::io::Result<MetricsWriter> {
        let mut file = OpenOptions::new().create(true).append(true).open(path)?;
        // A previous writer that died mid-line left a fragment: end it so our record starts clean
        // (the reader skips the broken line).
        let len = file.metadata()?.len();
        if len > 0 {
            let bytes = std::fs::read(path)?;
            if bytes.last() != Some(&b'\n') {
                file.write_all(b"\n")?;
            }
        }
        Ok(MetricsWriter { file })
    }

    pub fn append(&mut self, rec: &MetricRecord) -> std::io::Result<()> {
        let mut line = serde_json::to_vec(rec).map_err(std::io::Error::other)?;
        line.push(b'\n');
        // One write per record: with O_APPEND a whole line lands at once.
        self.file.write_all(&line)?;
        self.file.flush()
    }
}

/// Read every complete, parseable record. A truncated last line or an unparseable one (a crash
/// mid-write) is skipped, never an error.
pub fn read_metrics(path: &Path) -> std::io::Result<Vec<MetricRecord>> {
    let f = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(vec![]),
        Err(e) => return Err(e),
    };
    let mut out = vec![];
    for line in BufReader::new(f).split(b'\n') {
        let line = line?;
        if line.iter().all(|b| b.is_ascii_whitespace()) {
            continue;
        }
        if let Ok(rec) = serde_json::from_slice::<MetricRecord>(&line) {
            if rec != MetricRecord::Unknown {
                out.push(rec);
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(i: usize) -> MetricRecord {
        MetricRecord::Step(StepRecord {
            step: i,
            epoch: 0.1,
            loss: 1.0,
            acc: 0.5,
            lr: 0.1,
            images_per_s: 100.0,
            unique_seen: i,
            dup_seen: 0,
            elapsed_s: 1.0,
        })
    }

    #[test]
    fn truncated_last_line_and_unknown_kinds_are_tolerated() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("metrics.jsonl");
        let mut w = MetricsWriter::open(&p).unwrap();
        w.append(&step(1)).unwrap();
        w.append(&step(2)).unwrap();
        drop(w);
        let mut text = std::fs::read_to_string(&p).unwrap();
        text.push_str("{\"kind\":\"hologram\",\"x\":1}\n{\"kind\":\"step\",\"step\":3,\"lo");
        std::fs::write(&p, text).unwrap();
        assert_eq!(read_metrics(&p).unwrap(), vec![step(1), step(2)]);
        // A new writer after a crash starts on a fresh line.
        let mut w = MetricsWriter::open(&p).unwrap();
        w.append(&step(4)).unwrap();
        assert_eq!(read_metrics(&p).unwrap(), vec![step(1), step(2), step(4)]);
    }

    #[test]
    fn unknown_fields_are_ignored() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("m.jsonl");
        let mut v = serde_json::to_value(step(7)).unwrap();
        v["from_the_future"] = serde_json::json!(42);
        std::fs::write(&p, format!("{v}\n")).unwrap();
        assert_eq!(read_metrics(&p).unwrap(), vec![step(7)]);
    }
}
