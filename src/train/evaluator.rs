//! An evaluation point: the clean pass over the test set, the robust pass when due, group
//! metrics when due and the leaky/fair split (the catastrophic-overfitting check runs on its own
//! interval: `overfit.rs`). The evaluator owns what only evaluations use (the test split, the
//! groups, the leaky mask) and returns the record; the session writes it.

use super::DeviceData;
use super::eval::{per_image, per_image_adversarial, tally_per_image};
use super::group_eval::{adversarial_groups, clean_groups};
use super::reporter::Reporter;
use super::trainer::robust_record;
use crate::data;
use crate::nn::Net;
use crate::spec::{AttackKind, Preset};
use crate::store::{EpochRecord, LeakageStat, Phase};
use burn::prelude::*;
use std::time::Instant;

pub struct Evaluator {
    pub test: DeviceData,
    classes: usize,
    groups: data::Groups,
    leaky: Vec<bool>,
    leak_threshold: f64,
}

/// Where the run stands at this evaluation.
pub struct Point {
    pub step: usize,
    pub total_steps: usize,
    /// 1-based: this evaluation's number.
    pub evaluation: usize,
    /// Training loss and accuracy over the window since the last evaluation.
    pub train_loss: f64,
    pub train_acc: f64,
    pub elapsed_s: f64,
    /// The run ends here early (`training.stop_on_overfit`): the final evaluation, robust
    /// accuracy and group metrics included.
    pub ends_early: bool,
}

/// What an evaluation found.
pub struct Evaluation {
    pub record: EpochRecord,
}

impl Evaluator {
    pub fn new(
        test: DeviceData,
        classes: usize,
        groups: data::Groups,
        leaky: Vec<bool>,
        leak_threshold: f64,
    ) -> Evaluator {
        Evaluator {
            test,
            classes,
            groups,
            leaky,
            leak_threshold,
        }
    }

    /// Test-set loss, accuracy and per-class results; robust accuracy, groups when due.
    /// `pool` is the training pool the groups index; its time split goes to `report`.
    pub fn evaluate(
        &mut self,
        model: &Net,
        pool: &DeviceData,
        device: &Device,
        preset: &Preset,
        at: Point,
        report: &mut Reporter,
    ) -> Evaluation {
        report.phase(Phase::TestSet);
        // One per-image pass over the test set gives the clean result and the test group.
        let t0 = Instant::now();
        let test_pass = per_image(model, &self.test, None);
        report.split().test_s += t0.elapsed().as_secs_f64();
        let clean = tally_per_image(&test_pass, self.classes);
        let eval_attack = &preset.attack.eval;
        let last = at.step == at.total_steps || at.ends_early;
        let every = preset.training.group_every;
        let groups_due = every > 0 && (last || at.evaluation % every == 0);
        let robust_due = eval_attack.attack.kind != AttackKind::None
            && (last || (eval_attack.every > 0 && at.evaluation % eval_attack.every == 0));
        // The robust pass keeps its per-image results: the adversarial test group reuses them.
        let adv_test = robust_due.then(|| {
            let label = eval_attack.attack.eval_label();
            let mut progress = |done: usize, total: usize| {
                report.phase(Phase::Robust {
                    attack: label.clone(),
                    done,
                    total,
                })
            };
            let all: Vec<u32> = (0..self.test.len() as u32).collect();
            let t0 = Instant::now();
            let pass = per_image_adversarial(
                model,
                &self.test,
                &all,
                &eval_attack.attack,
                eval_attack.limit,
                device,
                &mut progress,
            );
            report.split().robust_s += t0.elapsed().as_secs_f64();
            pass
        });
        let robust = adv_test.as_ref().map(|p| {
            robust_record(
                &tally_per_image(p, self.classes),
                &eval_attack.attack.eval_label(),
            )
        });
        let groups = groups_due.then(|| {
            report.phase(Phase::Groups);
            let t0 = Instant::now();
            let mut g = clean_groups(model, pool, &self.groups, &test_pass, self.classes);
            if let Some(adv_test) = adv_test.as_ref().filter(|_| eval_attack.group_limit > 0) {
                g.adversarial = Some(Box::new(adversarial_groups(
                    model,
                    pool,
                    &self.groups,
                    adv_test,
                    &eval_attack.attack,
                    eval_attack.group_limit,
                    self.classes,
                    device,
                )));
            }
            g.seconds = t0.elapsed().as_secs_f64();
            report.split().groups_s += g.seconds;
            g
        });
        let leakage = Some(LeakageStat::split(
            self.leak_threshold,
            &test_pass.correct,
            &self.leaky,
        ));
        Evaluation {
            record: EpochRecord {
                evaluation: at.evaluation,
                step: at.step,
                test_loss: clean.loss,
                test_acc: clean.acc,
                per_class_acc: clean.per_class_acc.clone(),
                confusion: clean.confusion.clone(),
                train_loss: at.train_loss,
                train_acc: at.train_acc,
                robust,
                groups,
                leakage,
                // Checked on its own interval now (`train::overfit`); read in older runs.
                overfit: None,
                elapsed_s: at.elapsed_s,
            },
        }
    }
}
