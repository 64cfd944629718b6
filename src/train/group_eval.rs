//! Group metrics at an evaluation: per-image loss and correctness of each group (duplicated
//! originals, near-duplicate copies, a unique sample, dropped images, the test set), in eval
//! mode, then mean loss and accuracy per group and per class, the memorisation gap, and a
//! membership inference of each train group against the test images, by loss threshold and by
//! logit-margin threshold (the tie-free score).

use super::DeviceData;
use super::eval::{PerImage, per_image, per_image_adversarial};
use crate::data::{Groups, membership};
use crate::measures::Group;
use crate::nn::Net;
use crate::spec::AttackSpec;
use crate::store::{GroupMetrics, GroupStat};
use burn::prelude::*;

fn stat(p: &PerImage, classes: usize, test_loss: f64) -> GroupStat {
    let n = p.len().max(1) as f64;
    let loss = p.loss.iter().sum::<f64>() / n;
    let acc = p.correct.iter().filter(|&&c| c).count() as f64 / n;
    let mut cl = vec![0.0; classes];
    let mut ca = vec![0.0; classes];
    let mut cn = vec![0usize; classes];
    for i in 0..p.len() {
        let c = p.labels[i] as usize;
        if c < classes {
            cl[c] += p.loss[i];
            ca[c] += p.correct[i] as u8 as f64;
            cn[c] += 1;
        }
    }
    let per = |v: Vec<f64>| -> Vec<f64> {
        v.iter()
            .zip(&cn)
            .map(|(s, &k)| if k == 0 { f64::NAN } else { s / k as f64 })
            .collect()
    };
    GroupStat {
        images: p.len(),
        loss,
        acc,
        gap: test_loss - loss,
        per_class_loss: per(cl),
        per_class_acc: per(ca),
    }
}

/// Group statistics and membership of each train group against `test`.
pub fn metrics(
    test: &PerImage,
    train_groups: &[(Group, PerImage)],
    classes: usize,
) -> GroupMetrics {
    let mut out = GroupMetrics::default();
    let t = stat(test, classes, 0.0);
    let test_loss = t.loss;
    out.set_group(Group::Test, GroupStat { gap: 0.0, ..t });
    for &(group, ref p) in train_groups {
        if p.is_empty() {
            continue;
        }
        out.set_group(group, stat(p, classes, test_loss));
        if let Some(m) = membership(&p.loss, &test.loss) {
            out.set_membership(group, m);
        }
        // The margin: higher = more member-like, so its negation is the "loss" here.
        let neg = |v: &[f64]| v.iter().map(|x| -x).collect::<Vec<f64>>();
        if let Some(m) = membership(&neg(&p.margin), &neg(&test.margin)) {
            out.set_margin_membership(group, m);
        }
    }
    out
}

/// Clean group metrics of a model: every group of `groups` in `pool`, against `test_pass`
/// (the test set's per-image results, which the evaluation computes anyway).
pub fn clean_groups(
    model: &Net,
    pool: &DeviceData,
    groups: &Groups,
    test_pass: &PerImage,
    classes: usize,
) -> GroupMetrics {
    let passes: Vec<(Group, PerImage)> = groups
        .named()
        .into_iter()
        .map(|(name, idx)| (name, per_image(model, pool, Some(idx))))
        .collect();
    metrics(test_pass, &passes, classes)
}

/// Adversarial group metrics: `limit` images of each training group attacked, against the
/// attacked test images of the robust-accuracy pass (`adv_test`, reused).
#[allow(clippy::too_many_arguments)]
pub fn adversarial_groups(
    model: &Net,
    pool: &DeviceData,
    groups: &Groups,
    adv_test: &PerImage,
    attack: &AttackSpec,
    limit: usize,
    classes: usize,
    autodiff_device: &Device,
) -> GroupMetrics {
    let passes: Vec<(Group, PerImage)> = groups
        .named()
        .into_iter()
        .map(|(name, idx)| {
            (
                name,
                per_image_adversarial(
                    model,
                    pool,
                    idx,
                    attack,
                    limit,
                    autodiff_device,
                    &mut |_, _| {},
                ),
            )
        })
        .collect();
    metrics(adv_test, &passes, classes)
}
