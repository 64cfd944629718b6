//! `metrics.jsonl`: one JSON object a line, appended and flushed a record at a time, so a reader
//! (the TUI, another process) sees progress live and a crash loses at most the line being written.

use crate::measures::Group;
pub use crate::measures::{LeakageStat, Membership};
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
    #[serde(deserialize_with = "nan::vec")]
    pub per_class_acc: Vec<f64>,
    pub images: usize,
}

/// One group's results at an evaluation (docs/architecture.md, "the instrument"). A class (or a group)
/// without images has NaN loss and accuracy, which JSON writes as `null` and reads back as NaN.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct GroupStat {
    pub images: usize,
    /// Mean cross-entropy and accuracy, in eval mode.
    #[serde(deserialize_with = "nan::f64")]
    pub loss: f64,
    #[serde(deserialize_with = "nan::f64")]
    pub acc: f64,
    /// Memorisation gap: test loss − this group's loss.
    #[serde(deserialize_with = "nan::f64")]
    pub gap: f64,
    #[serde(deserialize_with = "nan::vec")]
    pub per_class_loss: Vec<f64>,
    #[serde(deserialize_with = "nan::vec")]
    pub per_class_acc: Vec<f64>,
}

/// JSON has no NaN: serde_json writes it as `null`. These read `null` back as NaN, so a record
/// with an empty class stays readable (before, one such value made a whole summary unreadable).
pub(crate) mod nan {
    use serde::{Deserialize, Deserializer};

    pub fn f64<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
        Ok(Option::<f64>::deserialize(d)?.unwrap_or(f64::NAN))
    }

    pub fn vec<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<f64>, D::Error> {
        Ok(Vec::<Option<f64>>::deserialize(d)?
            .into_iter()
            .map(|v| v.unwrap_or(f64::NAN))
            .collect())
    }
}

/// Group metrics of one evaluation: `groups.duplicated.loss`, `membership.duplicated.auc`, …
/// (`test` is a group too: the non-members every membership figure is measured against).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct GroupMetrics {
    pub groups: std::collections::BTreeMap<String, GroupStat>,
    pub membership: std::collections::BTreeMap<String, Membership>,
    /// The same attack on the logit margin φ = z_y − log Σ_{j≠y} e^{z_j} (f64; higher = more
    /// member-like) instead of the loss: no ties where the float32 loss of confident images is
    /// exactly 0 (absent in runs written before).
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub margin_membership: std::collections::BTreeMap<String, Membership>,
    /// The same on adversarial inputs (the evaluation attack, on its image limit per group),
    /// at the evaluations where the robust attack runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub adversarial: Option<Box<GroupMetrics>>,
    /// Wall time these metrics took (their share of the run's time is their cost).
    #[serde(default)]
    pub seconds: f64,
}

impl GroupMetrics {
    /// The statistics of group `g`, if this evaluation measured it.
    pub fn group(&self, g: Group) -> Option<&GroupStat> {
        self.groups.get(g.name())
    }

    /// The membership inference of group `g` against the test images, if measured.
    pub fn membership_of(&self, g: Group) -> Option<&Membership> {
        self.membership.get(g.name())
    }

    pub fn set_group(&mut self, g: Group, s: GroupStat) {
        self.groups.insert(g.name().to_string(), s);
    }

    pub fn set_membership(&mut self, g: Group, m: Membership) {
        self.membership.insert(g.name().to_string(), m);
    }

    /// The margin attack of group `g` against the test images, if measured.
    pub fn margin_membership_of(&self, g: Group) -> Option<&Membership> {
        self.margin_membership.get(g.name())
    }

    pub fn set_margin_membership(&mut self, g: Group, m: Membership) {
        self.margin_membership.insert(g.name().to_string(), m);
    }
}

/// The catastrophic-overfitting check of FGSM / FGSM-RS training (Wong et al. 2020): accuracy
/// of a fixed batch of training images under PGD and under FGSM at the training ε.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct OverfitStat {
    pub images: usize,
    pub pgd_acc: f64,
    pub fgsm_acc: f64,
    /// PGD accuracy collapsed while FGSM accuracy held or climbed.
    pub alarm: bool,
}

/// What the checks before this one leave for the next: the best PGD accuracy so far and the
/// last FGSM accuracy (kept in the checkpoint, so a resumed run judges as an uninterrupted one).
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct OverfitHistory {
    pub best_pgd: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_fgsm: Option<f64>,
}

impl OverfitHistory {
    pub fn push(&mut self, s: &OverfitStat) {
        self.best_pgd = self.best_pgd.max(s.pgd_acc);
        self.last_fgsm = Some(s.fgsm_acc);
    }
}

impl OverfitStat {
    /// Whether `pgd_acc`, `fgsm_acc` is a collapse after the checks summed up in `before`: PGD
    /// accuracy below 30 % of its best so far (which was at least 10 %) while FGSM accuracy did
    /// not fall from the previous check by more than `tolerance` (a fraction: 0.02 lets 5 of
    /// 256 images go, where any single image used to hide the alarm). The signature Wong et al.
    /// describe: the model stops being robust to multi-step attacks within an epoch, and becomes
    /// *more* accurate on FGSM examples.
    pub fn collapsed(before: &OverfitHistory, pgd_acc: f64, fgsm_acc: f64, tolerance: f64) -> bool {
        before.best_pgd >= 0.1
            && pgd_acc < 0.3 * before.best_pgd
            && before.last_fgsm.is_some_and(|f| fgsm_acc >= f - tolerance)
    }

    pub fn describe(&self, before_best: f64) -> String {
        format!(
            "catastrophic overfitting: PGD accuracy on {} training images fell to {:.1} % (best {:.1} %) while FGSM accuracy is {:.1} %",
            self.images,
            self.pgd_acc * 100.0,
            before_best * 100.0,
            self.fgsm_acc * 100.0
        )
    }
}

/// A catastrophic-overfitting check between evaluations (`training.overfit_every`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct OverfitRecord {
    pub step: usize,
    #[serde(flatten)]
    pub stat: OverfitStat,
}

/// Test-set results at an evaluation point (the end of an epoch, or a point of a step budget).
/// The record kind stays `epoch` in `metrics.jsonl` so older files read the same.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpochRecord {
    /// Which evaluation this is (1-based). Under a step budget it counts evaluation points, not
    /// epochs; runs written before the rename call it `epoch`.
    #[serde(alias = "epoch")]
    pub evaluation: usize,
    pub step: usize,
    pub test_loss: f64,
    pub test_acc: f64,
    #[serde(deserialize_with = "nan::vec")]
    pub per_class_acc: Vec<f64>,
    /// confusion[true][predicted]
    pub confusion: Vec<Vec<u32>>,
    pub train_loss: f64,
    pub train_acc: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub robust: Option<RobustRecord>,
    /// Loss, accuracy and membership inference per group (absent in runs written before, and
    /// at evaluations the preset's `training.group_every` skips).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub groups: Option<GroupMetrics>,
    /// Clean test accuracy on leaky and fair test images (absent in runs written before).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub leakage: Option<LeakageStat>,
    /// The catastrophic-overfitting check (FGSM / FGSM-RS training only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub overfit: Option<OverfitStat>,
    pub elapsed_s: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum MetricRecord {
    Step(StepRecord),
    Epoch(EpochRecord),
    /// A robust evaluation run later on a finished run (`duplab eval`).
    Eval(RobustRecord),
    /// A catastrophic-overfitting check of FGSM / FGSM-RS training.
    Overfit(OverfitRecord),
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
            // Only the last byte: the file may be large.
            use std::io::{Read, Seek, SeekFrom};
            let mut last = [0u8; 1];
            let mut r = File::open(path)?;
            r.seek(SeekFrom::Start(len - 1))?;
            r.read_exact(&mut last)?;
            if last[0] != b'\n' {
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

/// Reads a growing `metrics.jsonl` from where it last stopped: only complete new lines are
/// parsed, a half-written last line waits for its end, and a file that shrank (a resumed run
/// truncated it) is read again from the start. Memory and work per call are bounded by `max`.
#[derive(Debug, Default, Clone)]
pub struct MetricsTail {
    offset: u64,
    /// Inside a line longer than a read's `max`: how far the search for its end has got.
    skipping: Option<u64>,
}

impl MetricsTail {
    /// Records in the next at most `max` bytes of complete lines, and whether the reader has
    /// reached the end of the file as it is now. `restarted` is set when the file shrank.
    pub fn read(&mut self, path: &Path, max: usize) -> std::io::Result<TailRead> {
        use std::io::{Read, Seek, SeekFrom};
        let mut f = match File::open(path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(TailRead::default_at_end());
            }
            Err(e) => return Err(e),
        };
        let len = f.metadata()?.len();
        let mut restarted = false;
        if len < self.offset {
            self.offset = 0;
            self.skipping = None;
            restarted = true;
        }
        if let Some(from) = self.skipping {
            // A line longer than any record (a hostile or broken writer): its end is searched
            // for in bounded chunks, from where the last search stopped, and the line skipped.
            match find_newline(&mut f, from, len)? {
                Some(end) => {
                    self.offset = end + 1;
                    self.skipping = None;
                }
                None => {
                    self.skipping = Some(len);
                    return Ok(TailRead::default_at_end());
                }
            }
        }
        let left = len - self.offset;
        let want = (left as usize).min(max.max(1));
        let mut buf = vec![0u8; want];
        f.seek(SeekFrom::Start(self.offset))?;
        f.read_exact(&mut buf)?;
        // Only whole lines: the rest waits for the writer (or for the next call).
        let whole = buf.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
        if whole == 0 && (want as u64) < left {
            // One line longer than `max`: no record is that long, so it is skipped (searched for
            // its end in bounded chunks), never read whole.
            self.skipping = Some(self.offset + want as u64);
            return self.read(path, max).map(|mut r| {
                r.restarted |= restarted;
                r
            });
        }
        let records = parse_lines(&buf[..whole]);
        self.offset += whole as u64;
        Ok(TailRead {
            records,
            // Read to the end of the file as it was (what is left is a line being written).
            at_end: want as u64 >= left || buf.len() as u64 >= left,
            restarted,
        })
    }
}

/// The offset of the first `\n` in `f` between `from` and `to`, read 64 KiB at a time.
fn find_newline(f: &mut File, from: u64, to: u64) -> std::io::Result<Option<u64>> {
    use std::io::{Read, Seek, SeekFrom};
    let mut at = from;
    let mut chunk = vec![0u8; 64 * 1024];
    f.seek(SeekFrom::Start(from))?;
    while at < to {
        let n = ((to - at) as usize).min(chunk.len());
        f.read_exact(&mut chunk[..n])?;
        if let Some(i) = chunk[..n].iter().position(|&b| b == b'\n') {
            return Ok(Some(at + i as u64));
        }
        at += n as u64;
    }
    Ok(None)
}

#[derive(Debug, Default)]
pub struct TailRead {
    pub records: Vec<MetricRecord>,
    /// Nothing complete is left to read for now.
    pub at_end: bool,
    pub restarted: bool,
}

impl TailRead {
    fn default_at_end() -> TailRead {
        TailRead {
            at_end: true,
            ..Default::default()
        }
    }
}

/// Complete lines to records; broken or unknown ones are skipped.
fn parse_lines(bytes: &[u8]) -> Vec<MetricRecord> {
    bytes
        .split(|&b| b == b'\n')
        .filter(|l| !l.iter().all(|b| b.is_ascii_whitespace()))
        .filter_map(|l| serde_json::from_slice::<MetricRecord>(l).ok())
        .filter(|r| *r != MetricRecord::Unknown)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_class_written_as_null_reads_back_as_nan() {
        // A class-skewed plan copies no image of some classes: their duplicated loss is NaN.
        let g = GroupStat {
            images: 3,
            loss: 0.5,
            acc: 1.0,
            gap: f64::NAN,
            per_class_loss: vec![0.5, f64::NAN],
            per_class_acc: vec![1.0, f64::NAN],
        };
        let json = serde_json::to_string(&g).unwrap();
        assert!(json.contains("null"), "{json}");
        let back: GroupStat = serde_json::from_str(&json).unwrap();
        assert_eq!(back.per_class_loss[0], 0.5);
        assert!(back.per_class_loss[1].is_nan() && back.per_class_acc[1].is_nan());
        assert!(back.gap.is_nan());
        let mut s = crate::store::Summary {
            test_acc: Some(0.87),
            per_class_acc: vec![0.9, f64::NAN],
            ..Default::default()
        };
        let mut groups = GroupMetrics::default();
        groups.set_group(Group::Duplicated, g);
        s.groups = Some(groups);
        let back: crate::store::Summary =
            serde_json::from_str(&serde_json::to_string(&s).unwrap()).unwrap();
        assert_eq!(back.test_acc, Some(0.87), "the summary stays readable");
        assert!(back.per_class_acc[1].is_nan());
    }

    /// A group a newer version measures (here `leaky-train`) is kept when this version reads
    /// and rewrites the file, and the known ones are found through `Group`.
    #[test]
    fn a_group_this_version_does_not_know_survives_a_rewrite() {
        let json = r#"{"groups":{"duplicated":{"images":2,"loss":0.1,"acc":1.0,"gap":0.4,"per_class_loss":[],"per_class_acc":[]},"leaky-train":{"images":5,"loss":0.3,"acc":0.8,"gap":0.2,"per_class_loss":[],"per_class_acc":[]}},"membership":{"leaky-train":{"auc":0.6,"tpr_at_1":0.0,"tpr_at_10":0.1,"advantage":0.1,"members":5,"non_members":9}}}"#;
        let g: GroupMetrics = serde_json::from_str(json).unwrap();
        assert_eq!(g.group(Group::Duplicated).map(|s| s.images), Some(2));
        let again: GroupMetrics =
            serde_json::from_str(&serde_json::to_string(&g).unwrap()).unwrap();
        assert_eq!(again.groups["leaky-train"].images, 5);
        assert_eq!(again.membership["leaky-train"].members, 5);
        assert_eq!(again, g);
    }

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

    /// Case 5 of the crash-consistency issue: the metrics tail read a never-ending line whole
    /// on every poll (1 GiB resident for a 1 GiB line). It is now skipped in bounded chunks, and
    /// the records after it are read.
    #[test]
    fn a_never_ending_line_is_skipped_without_reading_it_whole() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("metrics.jsonl");
        let rec = r#"{"kind":"step","step":1,"epoch":0.1,"loss":2.0,"acc":0.1,"lr":0.1,"images_per_s":1.0,"unique_seen":16,"dup_seen":0,"elapsed_s":0.5}"#;
        std::fs::write(&p, format!("{rec}\n")).unwrap();
        // 1 GiB of zeros with no line end (sparse: no disk is used).
        let f = std::fs::OpenOptions::new().append(true).open(&p).unwrap();
        f.set_len(rec.len() as u64 + 1 + (1 << 30)).unwrap();
        let before = crate::test_data::peak_rss_kb();
        let mut tail = MetricsTail::default();
        let first = tail.read(&p, 4 << 20).unwrap();
        assert_eq!(first.records.len(), 1);
        let second = tail.read(&p, 4 << 20).unwrap();
        assert!(second.records.is_empty() && second.at_end);
        // The line ends at last; the record after it is read.
        let mut w = std::fs::OpenOptions::new().append(true).open(&p).unwrap();
        std::io::Write::write_all(
            &mut w,
            format!("\n{}\n", rec.replace("\"step\":1", "\"step\":2")).as_bytes(),
        )
        .unwrap();
        let third = tail.read(&p, 4 << 20).unwrap();
        assert!(
            matches!(third.records.as_slice(), [MetricRecord::Step(s)] if s.step == 2),
            "{:?}",
            third.records
        );
        let grown_mb = crate::test_data::peak_rss_kb().saturating_sub(before) / 1024;
        // Other tests of this binary run alongside and raise the peak too: the old reader took
        // 1 GiB here, so 500 MB still tells them apart.
        assert!(grown_mb < 500, "the tail took {grown_mb} MB more");
    }

    #[test]
    fn tail_reads_only_new_whole_lines_in_bounded_chunks() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("metrics.jsonl");
        let mut w = MetricsWriter::open(&p).unwrap();
        for i in 1..=100 {
            w.append(&step(i)).unwrap();
        }
        let mut tail = MetricsTail::default();
        let mut got = vec![];
        loop {
            let r = tail.read(&p, 1000).unwrap();
            assert!(r.records.len() <= 10, "bounded by max bytes");
            got.extend(r.records);
            if r.at_end {
                break;
            }
        }
        assert_eq!(got, (1..=100).map(step).collect::<Vec<_>>());
        // A half-written line waits; its end brings it.
        use std::io::Write;
        let line = serde_json::to_string(&step(101)).unwrap();
        let (a, b) = line.split_at(20);
        let mut f = OpenOptions::new().append(true).open(&p).unwrap();
        f.write_all(a.as_bytes()).unwrap();
        let r = tail.read(&p, 1 << 20).unwrap();
        assert!(r.records.is_empty() && r.at_end);
        f.write_all(format!("{b}\n").as_bytes()).unwrap();
        assert_eq!(tail.read(&p, 1 << 20).unwrap().records, vec![step(101)]);
        // A truncated (resumed) file is read again from its start.
        std::fs::write(
            &p,
            format!("{}\n", serde_json::to_string(&step(1)).unwrap()),
        )
        .unwrap();
        let r = tail.read(&p, 1 << 20).unwrap();
        assert!(r.restarted);
        assert_eq!(r.records, vec![step(1)]);
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

#[cfg(test)]
mod overfit_tests {
    use super::{OverfitHistory, OverfitRecord, OverfitStat};

    fn s(pgd: f64, fgsm: f64) -> OverfitStat {
        OverfitStat {
            images: 256,
            pgd_acc: pgd,
            fgsm_acc: fgsm,
            alarm: false,
        }
    }

    fn history(checks: &[OverfitStat]) -> OverfitHistory {
        let mut h = OverfitHistory::default();
        for c in checks {
            h.push(c);
        }
        h
    }

    #[test]
    fn collapse_is_pgd_falling_below_a_third_of_its_best_while_fgsm_holds() {
        let h = history(&[s(0.30, 0.45), s(0.42, 0.55)]);
        // Wong et al.'s signature: PGD to ~0 within an epoch, FGSM up.
        assert!(OverfitStat::collapsed(&h, 0.02, 0.80, 0.02));
        // FGSM falling too is a model getting worse, not this failure.
        assert!(!OverfitStat::collapsed(&h, 0.02, 0.40, 0.02));
        // A dip, not a collapse (above 30 % of the best).
        assert!(!OverfitStat::collapsed(&h, 0.20, 0.60, 0.02));
        // No history, or a best that was never robust: nothing to collapse from.
        assert!(!OverfitStat::collapsed(&history(&[]), 0.0, 0.9, 0.02));
        assert!(!OverfitStat::collapsed(
            &history(&[s(0.05, 0.2)]),
            0.0,
            0.9,
            0.02
        ));
    }

    /// One image of 256 less under FGSM no longer hides a collapse (it did with no tolerance);
    /// a drop beyond the tolerance still does.
    #[test]
    fn fgsm_may_drop_within_the_tolerance() {
        let h = history(&[s(0.40, 0.55)]);
        assert!(OverfitStat::collapsed(&h, 0.01, 0.55 - 1.0 / 256.0, 0.02));
        assert!(!OverfitStat::collapsed(&h, 0.01, 0.55 - 1.0 / 256.0, 0.0));
        assert!(!OverfitStat::collapsed(&h, 0.01, 0.50, 0.02));
    }

    #[test]
    fn a_check_is_its_own_record_kind() {
        let r = super::MetricRecord::Overfit(OverfitRecord {
            step: 40,
            stat: s(0.1, 0.5),
        });
        let line = serde_json::to_string(&r).unwrap();
        assert!(
            line.starts_with("{\"kind\":\"overfit\",\"step\":40,"),
            "{line}"
        );
        assert_eq!(
            serde_json::from_str::<super::MetricRecord>(&line).unwrap(),
            r
        );
    }
}
