//! Test-set evaluation: clean (loss, accuracy, per class, confusion matrix) and robust (under an
//! attack, on the first `limit` test images).

use super::DeviceData;
use crate::attack::{attack_view, perturb};
use crate::nn::Net;
use crate::spec::AttackSpec;
use burn::nn::loss::CrossEntropyLossConfig;
use burn::prelude::*;

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

const EVAL_BATCH: usize = 500;

/// Run `logits_of` over the first `n` test images in batches and tally the predictions.
fn eval_batches(
    test: &DeviceData,
    n: usize,
    classes: usize,
    mut logits_of: impl FnMut(Tensor<4>, &Tensor<1, Int>) -> Tensor<2>,
    progress: &mut dyn FnMut(usize, usize),
) -> EvalResult {
    let mut preds = Vec::with_capacity(n);
    let mut loss_sum = 0.0;
    let ce = CrossEntropyLossConfig::new().init(&test.images.device());
    for start in (0..n).step_by(EVAL_BATCH) {
        let end = (start + EVAL_BATCH).min(n);
        let (x, y) = test.range(start, end);
        let logits = logits_of(x, &y).without_autodiff();
        loss_sum +=
            ce.forward(logits.clone(), y).into_scalar::<f32>() as f64 * (end - start) as f64;
        preds.extend(logits.argmax(1).into_data().iter::<i64>());
        progress(end, n);
    }
    tally(&preds, &test.host_labels[..n], classes, loss_sum)
}

/// The clean result of a per-image pass (the test pass group metrics reuse).
pub fn tally_per_image(p: &super::group_eval::PerImage, classes: usize) -> EvalResult {
    tally(&p.preds, &p.labels, classes, p.loss.iter().sum())
}

/// Clean accuracy of `model` (any mode; evaluated in eval mode without autodiff).
pub fn evaluate_clean(model: &Net, test: &DeviceData, classes: usize) -> EvalResult {
    let m = model.valid();
    eval_batches(
        test,
        test.len(),
        classes,
        |x, _| m.forward(x),
        &mut |_, _| {},
    )
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
    let view = attack_view(model, autodiff_device);
    let n = if limit == 0 {
        test.len()
    } else {
        limit.min(test.len())
    };
    eval_batches(
        test,
        n,
        classes,
        |x, y| view.forward(perturb(&view, &x, y, attack)),
        progress,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

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
