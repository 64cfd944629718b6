//! The Membership screen's state: a reference-model sweep's attacks — TPR by occurrences k, the
//! log–log ROC, and the most memorised images drawn as the Data screen draws pairs. The analysis
//! (seconds on a full pool) runs on a loader thread and arrives as one message.

use super::app::Effect;
use super::keys::Action;
use super::reply::{Ask, Reply};
use crate::data::{self, Split};
use crate::report::membership::{MembershipReport, analyse, load_arms};
use crate::store::RunStore;
use std::path::Path;
use std::sync::Arc;

/// What the loader found: the report, and the pool's images (for the memorised images) when
/// the data set could be loaded.
#[derive(Debug)]
pub struct MembershipView {
    pub sweep: String,
    pub report: MembershipReport,
    pub pool: Option<Split>,
    pub class_names: Vec<String>,
    /// Why the images are not shown, when they are not.
    pub pool_error: Option<String>,
    pub seconds: f64,
}

/// Analyse `sweep`'s reference models and load their pool. `progress` hears what is done.
pub fn load_view(
    store: &RunStore,
    sweep: &str,
    data_dir: Option<&Path>,
    progress: &(dyn Fn(String) + Sync),
) -> Result<MembershipView, String> {
    let t0 = std::time::Instant::now();
    progress(format!("reading the reference models of sweep {sweep}"));
    let (arms, _) = load_arms(store, sweep, None)?;
    progress(format!(
        "attacking {} point(s): every model the target of the others",
        arms.len()
    ));
    let report = analyse(&format!("Sweep {sweep}"), &arms);
    // The images come from the data set of the sweep's first run.
    let spec = arms
        .first()
        .and_then(|a| a.runs.first())
        .and_then(|id| store.open(id).ok())
        .and_then(|r| r.config().ok().flatten());
    let (mut pool, mut class_names, mut pool_error) = (None, vec![], None);
    if let Some(c) = spec {
        class_names = c.class_names.clone();
        progress(format!(
            "loading {} for the images",
            c.preset.data.set.name()
        ));
        match data::load_spec(&c.preset.data, data_dir, &|_, _| {}) {
            Ok((ds, _)) if data::checksum(&ds.train.images) == c.train_checksum => {
                pool = Some(ds.train)
            }
            Ok(_) => pool_error = Some("the data set found differs from the one trained on".into()),
            Err(e) => pool_error = Some(format!("{e}")),
        }
    }
    Ok(MembershipView {
        sweep: sweep.to_string(),
        report,
        pool,
        class_names,
        pool_error,
        seconds: t0.elapsed().as_secs_f64(),
    })
}

#[derive(Debug, Default)]
pub struct MembershipState {
    pub view: Option<Arc<MembershipView>>,
    pub loading: Option<String>,
    pub error: Option<String>,
    /// The sweep asked for last (to ask only once).
    pub requested: Option<String>,
    /// The point shown (an index into the report's arms).
    pub arm: usize,
    /// The memorised image selected.
    pub selected: usize,
}

impl MembershipState {
    /// The effect that loads `sweep`, unless it is loaded or asked for.
    pub fn want(&mut self, sweep: Option<String>) -> Option<Effect> {
        let Some(sweep) = sweep else {
            if self.view.is_none() {
                self.error = Some(
                    "select a run of a reference-model sweep on the Runs screen (3), then come back (6)"
                        .into(),
                );
            }
            return None;
        };
        if self.requested.as_deref() == Some(sweep.as_str()) {
            return None;
        }
        self.requested = Some(sweep.clone());
        self.loading = Some(format!("analysing sweep {sweep}"));
        self.error = None;
        Some(Effect::LoadMembership { sweep })
    }

    /// A loader's answer for `sweep`; one for a sweep asked for before the last is dropped.
    pub fn loaded(&mut self, sweep: &str, r: Result<Arc<MembershipView>, String>) {
        if self.requested.as_deref() != Some(sweep) {
            return;
        }
        self.loading = None;
        match r {
            Ok(v) => {
                self.view = Some(v);
                self.arm = 0;
                self.selected = 0;
            }
            Err(e) => {
                self.error = Some(e);
                self.requested = None;
            }
        }
    }

    pub fn update(&mut self, a: Action) -> Reply {
        let Some(v) = &self.view else {
            return Reply::ignored();
        };
        let arms = v.report.arms.len();
        let n = v.report.arms.get(self.arm).map_or(0, |a| a.top.len());
        match a {
            Action::Down => self.selected = (self.selected + 1).min(n.saturating_sub(1)),
            Action::Up => self.selected = self.selected.saturating_sub(1),
            Action::Top => self.selected = 0,
            Action::Bottom => self.selected = n.saturating_sub(1),
            Action::NextPoint if arms > 0 => {
                self.arm = (self.arm + 1) % arms;
                self.selected = 0;
            }
            Action::Reload => {
                let sweep = v.sweep.clone();
                self.requested = None;
                return match self.want(Some(sweep)) {
                    Some(e) => Reply::ask(Ask::Effect(e)),
                    None => Reply::done(),
                };
            }
            _ => return Reply::ignored(),
        }
        Reply::done()
    }
}
