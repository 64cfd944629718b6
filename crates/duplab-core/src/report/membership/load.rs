//! A sweep's finished reference models, read from the run store and grouped by point.

use super::analysis::{Arm, arm_of};
use crate::store::{ReferenceScores, RunStore};
use std::collections::BTreeMap;

/// The arms of `sweep` (only `point`, when given) and how many of its runs have no reference
/// scores yet (unfinished, or no reference models). Errors name the store, sweep or file.
pub fn load_arms(
    store: &RunStore,
    sweep: &str,
    point: Option<&str>,
) -> Result<(Vec<Arm>, usize), String> {
    let mut by_point: BTreeMap<String, Vec<(String, ReferenceScores)>> = BTreeMap::new();
    let mut pending = 0;
    let mut any = false;
    for r in store.runs().map_err(|e| e.to_string())? {
        let Some(config) = r.config().ok().flatten() else {
            continue;
        };
        if config.sweep.as_deref() != Some(sweep) {
            continue;
        }
        any = true;
        let label = config.point.unwrap_or_default();
        if point.is_some_and(|p| p != label) {
            continue;
        }
        match r.reference().map_err(|e| e.to_string())? {
            Some(scores) => by_point
                .entry(label)
                .or_default()
                .push((r.id.clone(), scores)),
            None => pending += 1,
        }
    }
    if !any {
        return Err(format!(
            "no runs of sweep `{sweep}` in {}",
            store.root.display()
        ));
    }
    if by_point.is_empty() {
        return Err(format!(
            "sweep `{sweep}`{} has no finished reference model ({pending} run(s) without reference scores: not finished, or their preset has no [reference])",
            point.map(|p| format!(" point `{p}`")).unwrap_or_default()
        ));
    }
    let arms = by_point
        .into_iter()
        .map(|(label, models)| arm_of(&label, models))
        .collect::<Result<Vec<Arm>, String>>()?;
    Ok((arms, pending))
}
