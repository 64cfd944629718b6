//! Group metrics at an evaluation: per-image loss and correctness of each group (duplicated
//! originals, near-duplicate copies, a unique sample, dropped images, the test set), in eval
//! mode, then mean loss and accuracy per group and per class, the memorisation gap, and a
//! loss-threshold membership inference of each train group against the test images.

use super::DeviceData;
use crate::attack::{attack_view, perturb};
use crate::data::{Groups, membership};
use crate::nn::Net;
use crate::spec::AttackSpec;
use crate::store::{GroupMetrics, GroupStat, MembershipStat};
use burn::prelude::*;
use burn::tensor::activation::log_softmax;

const BATCH: usize = 500;

/// Per-image cross-entropy and correctness, and the labels, of `data[idx]`.
#[derive(Debug, Clone, Default)]
pub struct PerImage {
    pub loss: Vec<f64>,
    pub correct: Vec<bool>,
    pub preds: Vec<i64>,
    pub labels: Vec<u8>,
}

impl PerImage {
    fn push_batch(&mut self, logits: Tensor<2>, y: Tensor<1, Int>, labels: &[u8]) {
        let b = labels.len();
        let logp = log_softmax(logits.clone(), 1);
        let picked = logp.gather(1, y.reshape([b, 1])).reshape([b]);
        self.loss
            .extend(picked.into_data().iter::<f32>().map(|v| -(v as f64)));
        let pred: Vec<i64> = logits
            .argmax(1)
            .reshape([b])
            .into_data()
            .iter::<i64>()
            .collect();
        self.correct
            .extend(pred.iter().zip(labels).map(|(&p, &l)| p == l as i64));
        self.preds.extend(pred);
        self.labels.extend_from_slice(labels);
    }

    pub fn len(&self) -> usize {
        self.loss.len()
    }

    pub fn is_empty(&self) -> bool {
        self.loss.is_empty()
    }
}

/// Clean per-image results of the images `idx` of `data` (all of them when `idx` is `None`).
pub fn per_image(model: &Net, data: &DeviceData, idx: Option<&[u32]>) -> PerImage {
    let m = model.valid();
    let all: Vec<u32>;
    let idx = match idx {
        Some(i) => i,
        None => {
            all = (0..data.len() as u32).collect();
            &all
        }
    };
    let mut out = PerImage::default();
    for chunk in idx.chunks(BATCH) {
        let (x, y) = data.gather(chunk);
        let labels: Vec<u8> = chunk
            .iter()
            .map(|&i| data.host_labels[i as usize])
            .collect();
        out.push_batch(m.forward(x), y, &labels);
    }
    out
}

/// The same on adversarial versions of the first `limit` images of `idx` (0 = all).
/// `progress` is told how many images are done (the attack is the slow part).
pub fn per_image_adversarial(
    model: &Net,
    data: &DeviceData,
    idx: &[u32],
    attack: &AttackSpec,
    limit: usize,
    autodiff_device: &Device,
    progress: &mut dyn FnMut(usize, usize),
) -> PerImage {
    let view = attack_view(model, autodiff_device);
    let n = if limit == 0 {
        idx.len()
    } else {
        limit.min(idx.len())
    };
    let mut out = PerImage::default();
    for chunk in idx[..n].chunks(BATCH) {
        let (x, y) = data.gather(chunk);
        let labels: Vec<u8> = chunk
            .iter()
            .map(|&i| data.host_labels[i as usize])
            .collect();
        let adv = perturb(&view, &x, &y, attack);
        out.push_batch(view.forward(adv).without_autodiff(), y, &labels);
        progress(out.len(), n);
    }
    out
}

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
pub fn metrics(test: &PerImage, train_groups: &[(&str, PerImage)], classes: usize) -> GroupMetrics {
    let mut out = GroupMetrics::default();
    let t = stat(test, classes, 0.0);
    let test_loss = t.loss;
    out.groups
        .insert("test".into(), GroupStat { gap: 0.0, ..t });
    for (name, p) in train_groups {
        if p.is_empty() {
            continue;
        }
        out.groups
            .insert(name.to_string(), stat(p, classes, test_loss));
        if let Some(m) = membership(&p.loss, &test.loss) {
            out.membership.insert(
                name.to_string(),
                MembershipStat {
                    auc: m.auc,
                    tpr_at_1: m.tpr_at_1,
                    tpr_at_10: m.tpr_at_10,
                    advantage: m.advantage,
                    members: m.members,
                    non_members: m.non_members,
                },
            );
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
    let passes: Vec<(&str, PerImage)> = groups
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
    let passes: Vec<(&str, PerImage)> = groups
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
