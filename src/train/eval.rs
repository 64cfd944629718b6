//! Evaluation, one image at a time: per-image loss, prediction and correctness of any images of
//! a split, clean or under an attack (batched on the device), and the tallies built from them —
//! loss, accuracy, per class, confusion matrix. The test pass, robust accuracy and the group
//! metrics all go through `per_image`.

use super::DeviceData;
use crate::attack::{attack_view, perturb_eval};
use crate::nn::Net;
use crate::spec::AttackSpec;
use burn::prelude::*;
use burn::tensor::activation::log_softmax;

#[derive(Debug, Clone, PartialEq)]
pub struct EvalResult {
    pub loss: f64,
    pub acc: f64,
    pub per_class_acc: Vec<f64>,
    /// confusion[true][predicted]
    pub confusion: Vec<Vec<u32>>,
    pub images: usize,
}

fn tally(preds: &[i64], labels: &[u8], classes: usize, loss_sum: f64) -> EvalResult {
    let mut confusion = vec![vec![0u32; classes]; classes];
    for (p, &l) in preds.iter().zip(labels) {
        confusion[l as usize][(*p as usize).min(classes - 1)] += 1;
    }
    let correct: u32 = (0..classes).map(|c| confusion[c][c]).sum();
    let per_class_acc = confusion
        .iter()
        .enumerate()
        .map(|(c, row)| {
            let n: u32 = row.iter().sum();
            if n == 0 {
                0.0
            } else {
                row[c] as f64 / n as f64
            }
        })
        .collect();
    let n = preds.len().max(1);
    EvalResult {
        loss: loss_sum / n as f64,
        acc: correct as f64 / n as f64,
        per_class_acc,
        confusion,
        images: preds.len(),
    }
}

/// Images per evaluation batch: the training batch. At 500 the activations of a batch (25 MB for
/// the small CNN's first layer) outgrow the caches: the default job's robust evaluation took
/// 2.5-2.7 s at 500 and 1.1-1.2 s at 128, with the same results (README, "The whole default
/// job").
const BATCH: usize = 128;

/// Per-image cross-entropy, logit margin and correctness, and the labels, of `data[idx]`.
#[derive(Debug, Clone, Default)]
pub struct PerImage {
    pub loss: Vec<f64>,
    /// The logit margin φ = z_y − log Σ_{j≠y} e^{z_j}, computed in f64 from the logits (LiRA's
    /// score): unlike the float32 loss it does not saturate at 0 for confident images, so it
    /// has no ties.
    pub margin: Vec<f64>,
    pub correct: Vec<bool>,
    pub preds: Vec<i64>,
    pub labels: Vec<u8>,
}

impl PerImage {
    fn push_batch(&mut self, logits: Tensor<2>, y: Tensor<1, Int>, labels: &[u8]) {
        let b = labels.len();
        let [_, k] = logits.dims();
        let z: Vec<f32> = super::transfer::read_f32(logits.clone());
        self.margin.extend(
            z.chunks(k.max(1))
                .zip(labels)
                .map(|(row, &l)| logit_margin(row, l as usize)),
        );
        let logp = log_softmax(logits.clone(), 1);
        let picked = logp.gather(1, y.reshape([b, 1])).reshape([b]);
        self.loss.extend(
            super::transfer::read_f32(picked)
                .iter()
                .map(|&v| -(v as f64)),
        );
        let pred: Vec<i64> = super::transfer::read_i64(logits.argmax(1).reshape([b]));
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

/// φ = z_y − log Σ_{j≠y} e^{z_j} of one row of logits, in f64 (a stable log-sum-exp).
pub fn logit_margin(z: &[f32], y: usize) -> f64 {
    let Some(&zy) = z.get(y) else {
        return f64::NAN;
    };
    let others = z
        .iter()
        .enumerate()
        .filter(|&(j, _)| j != y)
        .map(|(_, &v)| v as f64);
    let max = others.clone().fold(f64::NEG_INFINITY, f64::max);
    if max == f64::NEG_INFINITY {
        return f64::INFINITY;
    }
    let lse = max + others.map(|v| (v - max).exp()).sum::<f64>().ln();
    zy as f64 - lse
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
        let adv = perturb_eval(&view, &x, &y, attack);
        out.push_batch(view.forward(adv).without_autodiff(), y, &labels);
        progress(out.len(), n);
    }
    out
}

/// The clean or robust result of a per-image pass.
pub fn tally_per_image(p: &PerImage, classes: usize) -> EvalResult {
    tally(&p.preds, &p.labels, classes, p.loss.iter().sum())
}

/// Clean accuracy of `model` on the whole of `test` (eval mode, no autodiff).
pub fn evaluate_clean(model: &Net, test: &DeviceData, classes: usize) -> EvalResult {
    tally_per_image(&per_image(model, test, None), classes)
}

/// Accuracy under `attack` on the first `limit` test images (0 = all). `progress` is told how
/// many images are done, since this is the slow part of a robust run.
pub fn evaluate_robust(
    model: &Net,
    test: &DeviceData,
    classes: usize,
    attack: &AttackSpec,
    limit: usize,
    autodiff_device: &Device,
    progress: &mut dyn FnMut(usize, usize),
) -> EvalResult {
    let all: Vec<u32> = (0..test.len() as u32).collect();
    let p = per_image_adversarial(model, test, &all, attack, limit, autodiff_device, progress);
    tally_per_image(&p, classes)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Confident images all have a float32 loss of exactly 0 — a tie block the loss attack
    /// cannot order — while their margins stay apart (the tie-free score).
    #[test]
    fn the_margin_has_no_ties_where_the_float32_loss_does() {
        let device = crate::backend::cpu_device();
        let rows: [[f32; 3]; 3] = [[40.0, 0.0, 0.0], [60.0, 0.0, 0.0], [80.0, 0.0, 0.0]];
        let mut p = PerImage::default();
        let logits = Tensor::<2>::from_floats(rows, &device);
        let y = Tensor::<1, Int>::from_ints([0, 0, 0], &device);
        p.push_batch(logits, y, &[0, 0, 0]);
        assert_eq!(
            p.loss,
            vec![0.0, 0.0, 0.0],
            "float32 saturates: {:?}",
            p.loss
        );
        // φ = z_y − ln(e^0 + e^0) = z_y − ln 2.
        for (m, z) in p.margin.iter().zip([40.0, 60.0, 80.0]) {
            assert!((m - (z - 2f64.ln())).abs() < 1e-9, "{m}");
        }
        assert!(p.margin[0] < p.margin[1] && p.margin[1] < p.margin[2]);
        // A wrong label: the margin is negative.
        assert!(logit_margin(&[0.0, 5.0, 0.0], 0) < 0.0);
        assert!(logit_margin(&[1.0], 3).is_nan());
    }

    #[test]
    fn tally_counts_confusion_and_per_class() {
        let r = tally(&[0, 1, 1, 2], &[0, 1, 2, 2], 3, 2.0);
        assert_eq!(
            r.confusion,
            vec![vec![1, 0, 0], vec![0, 1, 0], vec![0, 1, 1]]
        );
        assert_eq!(r.acc, 0.75);
        assert_eq!(r.per_class_acc, vec![1.0, 1.0, 0.5]);
        assert_eq!(r.loss, 0.5);
    }
}
