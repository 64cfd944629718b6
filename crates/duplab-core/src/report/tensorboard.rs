//! TensorBoard event files: a run's scalars (training loss, accuracy and learning rate; test
//! and robust accuracy and loss, per class; leaky/fair accuracy; group losses and membership
//! AUC; later robust evaluations) as `events.out.tfevents.*`, so a run opens where many
//! researchers already look.
//!
//! The format is small and stable, so it is written here rather than through a protobuf stack:
//! TFRecord framing (length, masked CRC-32C of the length, data, masked CRC-32C of the data)
//! around `Event` messages (`wall_time` = 1, `step` = 2, `file_version` = 3, `summary` = 5),
//! each summary holding one `Value` (`tag` = 1, `simple_value` = 2). What TensorBoard's own reader
//! read from a file written here is committed beside that file (`tests/fixtures/tensorboard/`), and
//! a test checks that this writer still produces exactly that file.

use crate::store::{MetricRecord, Run, StoreError};
use std::path::{Path, PathBuf};

/// One scalar point.
#[derive(Debug, Clone, PartialEq)]
pub struct Scalar {
    pub tag: String,
    pub step: i64,
    pub wall_time: f64,
    pub value: f32,
}

/// Every scalar of a run, in the order of its metrics file.
pub fn scalars(run: &Run) -> Result<Vec<Scalar>, StoreError> {
    let cfg = run.require_config()?;
    let t0 = cfg.created_at as f64;
    let names = &cfg.class_names;
    let mut out = vec![];
    let mut push = |tag: String, step: usize, elapsed: f64, v: f64| {
        if v.is_finite() {
            out.push(Scalar {
                tag,
                step: step as i64,
                wall_time: t0 + elapsed,
                value: v as f32,
            });
        }
    };
    let mut last = (0usize, 0f64);
    for r in run.metrics()? {
        match r {
            MetricRecord::Step(s) => {
                last = (s.step, s.elapsed_s);
                push("train/loss".into(), s.step, s.elapsed_s, s.loss);
                push("train/accuracy".into(), s.step, s.elapsed_s, s.acc);
                push("train/learning_rate".into(), s.step, s.elapsed_s, s.lr);
                push(
                    "train/images_per_s".into(),
                    s.step,
                    s.elapsed_s,
                    s.images_per_s,
                );
            }
            MetricRecord::Epoch(e) => {
                let (st, t) = (e.step, e.elapsed_s);
                last = (st, t);
                push("test/loss".into(), st, t, e.test_loss);
                push("test/accuracy".into(), st, t, e.test_acc);
                for (i, a) in e.per_class_acc.iter().enumerate() {
                    push(format!("test_class/{}", class(names, i)), st, t, *a);
                }
                if let Some(r) = &e.robust {
                    push("robust/accuracy".into(), st, t, r.acc);
                    push("robust/loss".into(), st, t, r.loss);
                    for (i, a) in r.per_class_acc.iter().enumerate() {
                        push(format!("robust_class/{}", class(names, i)), st, t, *a);
                    }
                }
                if let Some(l) = &e.leakage {
                    if let Some(a) = l.leaky_acc {
                        push("test/accuracy_leaky".into(), st, t, a);
                    }
                    if let Some(a) = l.fair_acc {
                        push("test/accuracy_fair".into(), st, t, a);
                    }
                }
                if let Some(g) = &e.groups {
                    for (name, s) in &g.groups {
                        push(format!("groups/{name}/loss"), st, t, s.loss);
                        push(format!("groups/{name}/accuracy"), st, t, s.acc);
                    }
                    for (name, m) in &g.membership {
                        push(format!("membership/{name}/auc"), st, t, m.auc);
                        push(format!("membership/{name}/tpr_at_1pct"), st, t, m.tpr_at_1);
                    }
                }
            }
            // A robust evaluation run later on the final weights: at the last step.
            MetricRecord::Eval(r) => {
                push(format!("eval/{}/accuracy", r.attack), last.0, last.1, r.acc);
            }
            // The catastrophic-overfitting check, at its step (its time: the last record's).
            MetricRecord::Overfit(o) => {
                push(
                    "overfit/pgd_accuracy".into(),
                    o.step,
                    last.1,
                    o.stat.pgd_acc,
                );
                push(
                    "overfit/fgsm_accuracy".into(),
                    o.step,
                    last.1,
                    o.stat.fgsm_acc,
                );
            }
            MetricRecord::Unknown => {}
        }
    }
    Ok(out)
}

fn class(names: &[String], i: usize) -> String {
    names.get(i).cloned().unwrap_or_else(|| i.to_string())
}

/// CRC-32C (Castagnoli), bitwise by table.
fn crc32c(data: &[u8]) -> u32 {
    static TABLE: std::sync::OnceLock<[u32; 256]> = std::sync::OnceLock::new();
    let table = TABLE.get_or_init(|| {
        let mut t = [0u32; 256];
        for (i, e) in t.iter_mut().enumerate() {
            let mut c = i as u32;
            for _ in 0..8 {
                c = if c & 1 != 0 {
                    0x82f6_3b78 ^ (c >> 1)
                } else {
                    c >> 1
                };
            }
            *e = c;
        }
        t
    });
    let mut crc = !0u32;
    for &b in data {
        crc = table[((crc ^ b as u32) & 0xff) as usize] ^ (crc >> 8);
    }
    !crc
}

/// TFRecord's masked CRC.
fn masked(data: &[u8]) -> u32 {
    let c = crc32c(data);
    (c.rotate_right(15)).wrapping_add(0xa282_ead8)
}

fn varint(mut v: u64, out: &mut Vec<u8>) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn field_bytes(field: u32, bytes: &[u8], out: &mut Vec<u8>) {
    varint(((field << 3) | 2) as u64, out);
    varint(bytes.len() as u64, out);
    out.extend_from_slice(bytes);
}

fn event(wall_time: f64, step: i64, body: impl FnOnce(&mut Vec<u8>)) -> Vec<u8> {
    let mut e = vec![0x09];
    e.extend_from_slice(&wall_time.to_le_bytes());
    if step != 0 {
        e.push(0x10);
        varint(step as u64, &mut e);
    }
    body(&mut e);
    e
}

fn record(data: &[u8], out: &mut Vec<u8>) {
    let len = (data.len() as u64).to_le_bytes();
    out.extend_from_slice(&len);
    out.extend_from_slice(&masked(&len).to_le_bytes());
    out.extend_from_slice(data);
    out.extend_from_slice(&masked(data).to_le_bytes());
}

/// The bytes of an event file holding `scalars`, its first event stamped `start`.
pub fn event_file(start: f64, scalars: &[Scalar]) -> Vec<u8> {
    let mut out = vec![];
    record(
        &event(start, 0, |e| field_bytes(3, b"brain.Event:2", e)),
        &mut out,
    );
    for s in scalars {
        let mut value = vec![];
        field_bytes(1, s.tag.as_bytes(), &mut value);
        value.push(0x15);
        value.extend_from_slice(&s.value.to_le_bytes());
        let mut summary = vec![];
        field_bytes(1, &value, &mut summary);
        record(
            &event(s.wall_time, s.step, |e| field_bytes(5, &summary, e)),
            &mut out,
        );
    }
    out
}

/// Write the run's event file into `dir` (a TensorBoard log folder); returns its path.
pub fn export(run: &Run, dir: &Path) -> Result<PathBuf, StoreError> {
    let cfg = run.require_config()?;
    let s = scalars(run)?;
    std::fs::create_dir_all(dir).map_err(|e| StoreError::Io(dir.to_path_buf(), e))?;
    let path = dir.join(format!("events.out.tfevents.{}.duplab", cfg.created_at));
    crate::atomic::write_atomic(
        &path,
        &event_file(cfg.created_at as f64, &s),
        crate::atomic::Durability::Rename,
    )?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{RobustRecord, RunStore};

    /// A finished run with robust evaluations and a later `duplab eval`, all values fixed.
    fn fixture_run(store: &RunStore) -> Run {
        let id = "20261118-110000-default-aaaaaa";
        crate::store::synthetic::finished_run(
            store,
            id,
            &[],
            &crate::data::FASHION_CLASSES,
            0,
            0.86,
            Some(0.2),
        )
        .unwrap();
        let run = store.open(id).unwrap();
        let mut w = run.metrics_writer().unwrap();
        w.append(&MetricRecord::Eval(RobustRecord {
            attack: "pgd-20 L∞ ε=0.1".into(),
            acc: 0.125,
            loss: 2.5,
            per_class_acc: vec![],
            images: 500,
        }))
        .unwrap();
        run
    }

    fn fixture_dir() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/tensorboard")
    }

    /// The committed event file is the one TensorBoard's reader read (`python/check_tensorboard.py`
    /// wrote what it read into `read_by_tensorboard.json`): this writer must still produce it, byte
    /// for byte, and what TensorBoard read must be the run's scalars.
    #[test]
    fn tensorboard_read_what_this_writer_writes() {
        let dir = tempfile::tempdir().unwrap();
        let store = RunStore::new(dir.path());
        let run = fixture_run(&store);
        let path = export(&run, &dir.path().join("tb")).unwrap();
        let ours = std::fs::read(&path).unwrap();
        let name = path.file_name().unwrap();
        let committed = std::fs::read(fixture_dir().join(name))
            .expect("the committed event file (cargo test write_tensorboard_fixture -- --ignored)");
        assert!(
            ours == committed,
            "the writer's output changed: re-check it with python/check_tensorboard.py"
        );
        let text = std::fs::read_to_string(fixture_dir().join("read_by_tensorboard.json")).unwrap();
        let read: serde_json::Value = serde_json::from_str(&text).unwrap();
        let tags = read["scalars"].as_object().unwrap();
        let s = scalars(&run).unwrap();
        let mut n = 0;
        for (tag, points) in tags {
            for p in points.as_array().unwrap() {
                let (step, value) = (p[0].as_i64().unwrap(), p[1].as_f64().unwrap() as f32);
                assert!(
                    s.iter()
                        .any(|x| x.tag == *tag && x.step == step && x.value == value),
                    "TensorBoard read {tag} = {value} at step {step}, which the run does not hold"
                );
                n += 1;
            }
        }
        assert_eq!(n, s.len(), "TensorBoard read every scalar");
        for t in [
            "train/loss",
            "test/accuracy",
            "robust/accuracy",
            "test_class/Trouser",
            "eval/pgd-20 L∞ ε=0.1/accuracy",
        ] {
            assert!(tags.contains_key(t), "{t}");
        }
    }

    #[test]
    #[ignore]
    fn write_tensorboard_fixture() {
        let dir = tempfile::tempdir().unwrap();
        let store = RunStore::new(dir.path());
        let run = fixture_run(&store);
        export(&run, &fixture_dir()).unwrap();
    }

    #[test]
    fn crc32c_matches_the_published_check_value() {
        // The CRC-32C of "123456789" (RFC 3720's check value).
        assert_eq!(crc32c(b"123456789"), 0xe306_9283);
    }
}
