//! What a sweep report needs of one run, read from its folder once: the rest of the report is
//! pure functions of these facts (`aggregate`) and of their aggregates (`render`).

use crate::store::{Run, RunStatus, Summary};

/// One finished run, as the report sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct RunFacts {
    pub id: String,
    pub seed: u64,
    /// The point the run belongs to: its sweep point, or preset + duplication + attack.
    pub point: String,
    pub training: String,
    pub duplication: String,
    pub robust_training: bool,
    /// Per-class training counts before and after duplication.
    pub plan_before: Vec<usize>,
    pub plan_after: Vec<usize>,
    pub summary: Summary,
}

impl RunFacts {
    /// The facts of a finished run; `None` for a run not finished or whose files cannot be read
    /// (`runs ls` names such a run as corrupt).
    pub fn load(run: &Run) -> Option<RunFacts> {
        if run.status() != RunStatus::Finished {
            return None;
        }
        let (Ok(Some(c)), Ok(summary)) = (run.config(), run.summary()) else {
            return None;
        };
        let p = &c.preset;
        Some(RunFacts {
            id: run.id.clone(),
            seed: c.seed,
            point: c.point.clone().unwrap_or_else(|| {
                format!(
                    "{} {} {}",
                    p.name,
                    p.duplication.label(),
                    p.attack.train.label()
                )
            }),
            training: p.attack.train.label(),
            duplication: p.duplication.label(),
            robust_training: p.attack.train.kind != crate::spec::AttackKind::None,
            plan_before: c.plan_before.clone(),
            plan_after: c.plan_after.clone(),
            summary: summary.unwrap_or_default(),
        })
    }
}

/// The facts of every finished, readable run, in the order given.
pub fn load(runs: &[Run]) -> Vec<RunFacts> {
    runs.iter().filter_map(RunFacts::load).collect()
}
