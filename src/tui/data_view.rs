//! The Data screen's state: the duplicate pairs a data set already holds (within train, within
//! test, test→train), browsable and drawn as images. The search runs on a loader thread (through
//! the finder's per-data-set cache, so a second visit is instant) and arrives as one message;
//! the threshold and class filters then work on what it found.

use super::app::Effect;
use super::keys::Action;
use super::reply::{Ask, Reply};
use crate::data::{self, DataSet, Pair, PairSet};
use crate::spec::DataSpec;
use std::path::Path;
use std::sync::Arc;

/// Thresholds the screen offers (RMS pixel distance in [0, 1]); `+` / `-` step through them.
pub const THRESHOLDS: [f64; 5] = [0.0, 0.01, 0.02, 0.05, 0.1];
/// Where the screen starts: the finder's default.
const START: usize = 3;

/// What the loader found: the data set (its images are drawn) and its pairs per pair set.
#[derive(Debug)]
pub struct DataView {
    pub spec: DataSpec,
    pub ds: DataSet,
    /// The threshold searched; shown thresholds at or under it filter these pairs.
    pub searched: f64,
    pub pairs: [Vec<Pair>; 3],
    /// Whether every pair set came from the cache.
    pub cached: bool,
    pub seconds: f64,
}

impl DataView {
    pub fn pairs_of(&self, set: PairSet) -> &[Pair] {
        &self.pairs[PairSet::ALL.iter().position(|s| *s == set).unwrap_or(0)]
    }
}

/// Load a data set and its pairs within `threshold` (cached per data set). `progress` hears
/// what is being done.
pub fn load_view(
    spec: &DataSpec,
    data_dir: Option<&Path>,
    threshold: f64,
    progress: &(dyn Fn(String) + Sync),
) -> anyhow::Result<DataView> {
    let t0 = std::time::Instant::now();
    progress(format!("loading {}", spec.set.name()));
    let decoding = |done: usize, total: usize| {
        progress(crate::store::Phase::DecodingFolder { done, total }.to_string())
    };
    let (ds, skipped) = data::load_spec(spec, data_dir, &decoding)?;
    if !skipped.is_empty() {
        progress(format!("skipped {} unreadable image(s)", skipped.len()));
    }
    let mut cached = true;
    let mut found: Vec<Vec<Pair>> = vec![];
    for set in PairSet::ALL {
        let report = |done: usize, total: usize| {
            // A tenth at a time: enough to see it move, few messages.
            if total > 0 && (done * 10 / total) != ((done.saturating_sub(1)) * 10 / total) {
                progress(format!(
                    "searching {} pairs ≤ {threshold}: {done}/{total} images",
                    set.label()
                ));
            }
        };
        let (p, c) = data::pairs(&ds, set, threshold, &report);
        cached &= c;
        found.push(p);
    }
    let [train, test, cross]: [Vec<Pair>; 3] = found
        .try_into()
        .map_err(|_| anyhow::anyhow!("three pair sets"))?;
    Ok(DataView {
        spec: spec.clone(),
        ds,
        searched: threshold,
        pairs: [train, test, cross],
        cached,
        seconds: t0.elapsed().as_secs_f64(),
    })
}

#[derive(Debug)]
pub struct DataState {
    pub view: Option<Arc<DataView>>,
    /// What the loader is doing, while it works.
    pub loading: Option<String>,
    pub error: Option<String>,
    /// The data set and threshold asked for last (to ask only once).
    pub requested: Option<(DataSpec, f64)>,
    pub set: PairSet,
    pub threshold: usize,
    /// Only pairs with an image of this class.
    pub class: Option<u8>,
    pub selected: usize,
}

impl Default for DataState {
    fn default() -> Self {
        DataState {
            view: None,
            loading: None,
            error: None,
            requested: None,
            set: PairSet::Cross,
            threshold: START,
            class: None,
            selected: 0,
        }
    }
}

impl DataState {
    pub fn threshold(&self) -> f64 {
        THRESHOLDS[self.threshold]
    }

    /// The pairs shown: of the chosen set, within the threshold, with the chosen class.
    pub fn visible(&self) -> Vec<Pair> {
        let Some(v) = &self.view else { return vec![] };
        let (qa, qb) = self.set.splits(&v.ds);
        let t = self.threshold();
        v.pairs_of(self.set)
            .iter()
            .filter(|p| p.dist <= t + 1e-12)
            .filter(|p| {
                self.class
                    .is_none_or(|c| qa.labels[p.a as usize] == c || qb.labels[p.b as usize] == c)
            })
            .copied()
            .collect()
    }

    /// Test images with a training image within the threshold (leaky), of the chosen class.
    pub fn leaky(&self) -> usize {
        let Some(v) = &self.view else { return 0 };
        let t = self.threshold();
        let mut seen = std::collections::HashSet::new();
        for p in v.pairs_of(PairSet::Cross) {
            if p.dist <= t + 1e-12
                && self
                    .class
                    .is_none_or(|c| v.ds.test.labels[p.a as usize] == c)
            {
                seen.insert(p.a);
            }
        }
        seen.len()
    }
}

/// The Data screen's keys.
impl DataState {
    /// What to ask the loader for, so the screen shows `spec` at its threshold: nothing when it
    /// has that or has asked for it.
    pub fn want(&mut self, spec: DataSpec) -> Option<Effect> {
        let t = self.threshold();
        let have = self
            .view
            .as_ref()
            .is_some_and(|v| v.spec == spec && v.searched >= t);
        let asked = self
            .requested
            .as_ref()
            .is_some_and(|(k, th)| *k == spec && *th >= t);
        if have || asked {
            return None;
        }
        // Search at least as far as the finder's default, so stepping down needs no new search.
        let threshold = t.max(THRESHOLDS[START]);
        self.requested = Some((spec.clone(), threshold));
        self.loading = Some(format!("loading {}", spec.set.name()));
        self.error = None;
        Some(Effect::LoadData {
            spec: Box::new(spec),
            threshold,
        })
    }

    /// `spec`: the data set the screen shows (the selected preset's).
    pub fn update(&mut self, a: Action, spec: DataSpec) -> Reply {
        let n = self.visible().len();
        let mut reply = Reply::done();
        match a {
            Action::Down => self.selected = (self.selected + 1).min(n.saturating_sub(1)),
            Action::Up => self.selected = self.selected.saturating_sub(1),
            Action::Top => self.selected = 0,
            Action::Bottom => self.selected = n.saturating_sub(1),
            Action::NextPairSet => {
                let i = PairSet::ALL
                    .iter()
                    .position(|s| *s == self.set)
                    .unwrap_or(0);
                self.set = PairSet::ALL[(i + 1) % PairSet::ALL.len()];
                self.selected = 0;
            }
            Action::Wider => {
                self.threshold = (self.threshold + 1).min(THRESHOLDS.len() - 1);
                if let Some(e) = self.want(spec) {
                    reply = reply.and(Ask::Effect(e));
                }
            }
            Action::Narrower => {
                self.threshold = self.threshold.saturating_sub(1);
                self.selected = 0;
            }
            Action::NextClass => {
                let classes = self.view.as_ref().map_or(0, |v| v.ds.num_classes()) as u8;
                self.class = match self.class {
                    None if classes > 0 => Some(0),
                    Some(c) if c + 1 < classes => Some(c + 1),
                    _ => None,
                };
                self.selected = 0;
            }
            _ => return Reply::ignored(),
        }
        let n = self.visible().len();
        self.selected = self.selected.min(n.saturating_sub(1));
        reply
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two train images of one class, two of another.
    fn four(ds: &DataSet) -> [u32; 4] {
        let l = &ds.train.labels;
        let of = |c: u8| -> Vec<u32> {
            (0..l.len() as u32)
                .filter(|&i| l[i as usize] == c)
                .take(2)
                .collect()
        };
        let (x, y) = (of(0), of(3));
        [x[0], x[1], y[0], y[1]]
    }

    fn view() -> DataView {
        let ds = crate::data::load_embedded();
        let [a, b, c, d] = four(&ds);
        let p = |a: u32, b: u32, dist: f64| Pair { a, b, sq: 1, dist };
        DataView {
            spec: crate::spec::find_preset("default", &[]).unwrap().data,
            searched: 0.05,
            // Train pairs of class 0 and class 3; one cross pair.
            pairs: [
                vec![p(a, b, 0.0), p(c, d, 0.03)],
                vec![],
                vec![p(5, 7, 0.015)],
            ],
            cached: false,
            seconds: 0.0,
            ds,
        }
    }

    #[test]
    fn filters_by_pair_set_threshold_and_class() {
        let mut s = DataState {
            view: Some(Arc::new(view())),
            set: PairSet::Train,
            ..DataState::default()
        };
        assert_eq!(s.visible().len(), 2);
        s.threshold = 2; // 0.02
        assert_eq!(s.visible().len(), 1);
        s.threshold = 3;
        s.class = Some(3);
        assert_eq!(s.visible().len(), 1);
        assert_eq!(s.visible()[0].a, four(&s.view.as_ref().unwrap().ds)[2]);
        s.class = None;
        s.set = PairSet::Cross;
        assert_eq!(s.leaky(), 1);
        s.threshold = 1; // 0.01: the cross pair is at 0.015
        assert_eq!(s.leaky(), 0);
    }
}
