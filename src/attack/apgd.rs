//! APGD (Croce & Hein 2020, "Reliable evaluation of adversarial robustness with an ensemble of
//! diverse parameter-free attacks"), as AutoAttack implements it: a step size that starts at 2ε
//! and halves at checkpoints where the loss stopped rising (too few increasing steps since the
//! last checkpoint, or no step-size change and no better loss), a restart from the best point
//! when it halves, and momentum 0.75. Two losses: cross-entropy (`apgd-ce`) and the targeted
//! difference-of-logits ratio over the top-k classes (`apgd-t`). L∞ and L2. The point kept per
//! image is one that fools the model, if any iterate did.

use super::{expand, l2_norm, project};
use crate::nn::Net;
use crate::spec::{AttackSpec, Norm};
use burn::prelude::*;
use burn::tensor::Distribution;

/// What APGD maximises.
#[derive(Clone)]
pub enum Loss {
    CrossEntropy,
    /// Targeted DLR towards these classes: −(z_y − z_t) / (z_π1 − (z_π3 + z_π4) / 2).
    DlrTargeted(Tensor<1, Int>),
}

fn per_sample(logits: Tensor<2>, y: &Tensor<1, Int>, loss: &Loss) -> Tensor<1> {
    let [n, k] = logits.dims();
    let pick = |l: &Tensor<2>, c: &Tensor<1, Int>| {
        l.clone().gather(1, c.clone().reshape([n, 1])).reshape([n])
    };
    match loss {
        Loss::CrossEntropy => {
            let lp = burn::tensor::activation::log_softmax(logits, 1);
            pick(&lp, y).neg()
        }
        Loss::DlrTargeted(t) => {
            let sorted = logits.clone().sort_descending(1);
            let col = |i: usize| sorted.clone().slice([0..n, i..i + 1]).reshape([n]);
            let denom = col(0) - (col(2.min(k - 1)) + col(3.min(k - 1))).mul_scalar(0.5);
            (pick(&logits, y) - pick(&logits, t))
                .neg()
                .div(denom.add_scalar(1e-12))
        }
    }
}

/// Per-sample loss, its input gradient, and whether each image is still classified right.
fn evaluate(
    model: &Net,
    x: &Tensor<4>,
    y: &Tensor<1, Int>,
    loss: &Loss,
) -> (Tensor<4>, Tensor<1>, Tensor<1, Bool>) {
    let xg = x.clone().detach().autodiff().require_grad();
    let logits = model.forward(xg.clone());
    let [n, _] = logits.dims();
    let correct = logits
        .clone()
        .detach()
        .without_autodiff()
        .argmax(1)
        .reshape([n])
        .equal(y.clone());
    let l = per_sample(logits, y, loss);
    let grads = l.clone().sum().backward();
    let g = xg.grad(&grads).expect("the input requires a gradient");
    (g.without_autodiff(), l.detach().without_autodiff(), correct)
}

/// The checkpoint schedule's three lengths for `n_iter` iterations — the first interval, the
/// shortest, and the decrease — exactly as AutoAttack computes them: `max(int(f · n_iter), 1)`
/// for f = 0.22, 0.06, 0.03 (a floor, not a ceiling: they differ at 20–25 iterations).
pub fn checkpoint_lengths(n_iter: usize) -> (usize, usize, usize) {
    let floor = |f: f64| ((f * n_iter as f64) as usize).max(1);
    (floor(0.22), floor(0.06), floor(0.03))
}

/// A random start inside the ball, as AutoAttack draws it: for L∞ a uniform direction scaled to
/// the ball's surface by its largest entry; for L2 a Gaussian direction scaled to the sphere.
fn start(clean: &Tensor<4>, norm: Norm, eps: f64) -> Tensor<4> {
    let device = clean.device();
    let [n, ..] = clean.dims();
    let dist = match norm {
        Norm::Linf => Distribution::Uniform(-1.0, 1.0),
        Norm::L2 => Distribution::Normal(0.0, 1.0),
    };
    let t = Tensor::<4>::random(clean.shape(), dist, &device);
    let scaled = match norm {
        Norm::Linf => {
            let m = t
                .clone()
                .abs()
                .reshape([n as i64, -1])
                .max_dim(1)
                .reshape([n, 1, 1, 1]);
            t / m.clamp_min(1e-12)
        }
        Norm::L2 => t.clone() / l2_norm(t).clamp_min(1e-12),
    };
    (clean.clone() + scaled.mul_scalar(eps)).clamp(0.0, 1.0)
}

/// One APGD run of `spec.steps` iterations from a random start. Returns, per image, an iterate
/// that fooled the model if one did, else the highest-loss iterate.
pub fn apgd(
    model: &Net,
    clean: &Tensor<4>,
    y: &Tensor<1, Int>,
    spec: &AttackSpec,
    loss: &Loss,
) -> Tensor<4> {
    let n_iter = spec.steps.max(1);
    let eps = spec.eps;
    let (mut k, k_min, k_decr) = checkpoint_lengths(n_iter);
    let [n, ..] = clean.dims();
    let device = clean.device();

    let mut x_adv = start(clean, spec.norm, eps);
    let (mut grad, mut loss_now, correct) = evaluate(model, &x_adv, y, loss);
    // Fooling points: the clean image stands in until an iterate fools the model.
    let mut x_fool = x_adv.clone();
    let mut fooled = correct.bool_not();
    let mut x_best = x_adv.clone();
    let mut grad_best = grad.clone();
    let mut loss_best = loss_now.clone();
    let mut step = Tensor::<1>::ones([n], &device).mul_scalar(2.0 * eps);
    let mut x_old = x_adv.clone();
    let mut history: Vec<Tensor<1>> = vec![loss_now.clone()];
    let mut since_check = 0;
    let mut best_at_check = loss_best.clone();
    let mut reduced_at_check = Tensor::<1, Int>::ones([n], &device).bool();

    let stepped = |x: &Tensor<4>, g: &Tensor<4>, s: &Tensor<1>| -> Tensor<4> {
        let s = s.clone().reshape([n, 1, 1, 1]);
        let dir = match spec.norm {
            Norm::Linf => g.clone().sign(),
            Norm::L2 => g.clone() / l2_norm(g.clone()).clamp_min(1e-12),
        };
        project(x.clone() + dir * s, clean, spec.norm, eps)
    };
    for i in 0..n_iter {
        let momentum = if i == 0 { 1.0 } else { 0.75 };
        let z = stepped(&x_adv, &grad, &step);
        let moved = x_adv.clone()
            + (z - x_adv.clone()).mul_scalar(momentum)
            + (x_adv.clone() - x_old.clone()).mul_scalar(1.0 - momentum);
        x_old = x_adv;
        x_adv = project(moved, clean, spec.norm, eps);
        let (g, l, correct) = evaluate(model, &x_adv, y, loss);
        (grad, loss_now) = (g, l);
        let newly = correct.bool_not().bool_and(fooled.clone().bool_not());
        x_fool = x_fool.mask_where(expand(&newly, &x_adv), x_adv.clone());
        fooled = fooled.bool_or(newly);
        let better = loss_now.clone().greater(loss_best.clone());
        x_best = x_best.mask_where(expand(&better, &x_adv), x_adv.clone());
        grad_best = grad_best.mask_where(expand(&better, &grad), grad.clone());
        loss_best = loss_best.mask_where(better, loss_now.clone());
        history.push(loss_now.clone());
        since_check += 1;
        if since_check == k {
            // Condition 1: at most 75 % of the last k steps raised the loss.
            let ups = (history.len() - k..history.len())
                .map(|j| history[j].clone().greater(history[j - 1].clone()).float())
                .reduce(|a, b| a + b)
                .expect("k ≥ 1");
            let oscillating = ups.lower_equal_elem(0.75 * k as f64);
            // Condition 2: the step was not reduced last time and the best loss did not improve.
            let stuck = reduced_at_check
                .clone()
                .bool_not()
                .bool_and(best_at_check.clone().greater_equal(loss_best.clone()));
            let reduce = oscillating.bool_or(stuck);
            reduced_at_check = reduce.clone();
            best_at_check = loss_best.clone();
            step = step
                .clone()
                .mask_where(reduce.clone(), step.mul_scalar(0.5));
            x_adv = x_adv.mask_where(expand(&reduce, &x_best), x_best.clone());
            grad = grad.mask_where(expand(&reduce, &grad_best), grad_best.clone());
            k = k.saturating_sub(k_decr).max(k_min);
            since_check = 0;
        }
    }
    // Where some iterate fooled the model, that one; elsewhere the highest-loss point.
    x_best.mask_where(expand(&fooled, &x_fool), x_fool)
}

/// APGD-T: targeted DLR towards each of the `targets` classes ranked highest on the clean image
/// after the first (AutoAttack's standard version: 9), each with the full budget. An image stays
/// robust only if no target run fools the model.
pub fn apgd_targeted(
    model: &Net,
    clean: &Tensor<4>,
    y: &Tensor<1, Int>,
    spec: &AttackSpec,
) -> Tensor<4> {
    let [n, ..] = clean.dims();
    let logits = model
        .forward(clean.clone().detach())
        .detach()
        .without_autodiff();
    let [_, classes] = logits.dims();
    let ranked = logits.argsort_descending(1);
    let mut best = clean.clone();
    let mut fooled = Tensor::<1, Int>::zeros([n], &clean.device()).bool();
    for r in 1..=spec.targets.min(classes - 1) {
        let target = ranked.clone().slice([0..n, r..r + 1]).reshape([n]);
        let adv = apgd(model, clean, y, spec, &Loss::DlrTargeted(target));
        let logits = model
            .forward(adv.clone().detach())
            .detach()
            .without_autodiff();
        let now = logits.argmax(1).reshape([n]).not_equal(y.clone());
        let newly = now.bool_and(fooled.clone().bool_not());
        best = best.mask_where(expand(&newly, &adv), adv);
        fooled = fooled.bool_or(newly);
    }
    best
}
