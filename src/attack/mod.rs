//! Attacks on pixels in [0, 1]: FGSM, FGSM with random start ("fast" adversarial training),
//! and PGD under L∞ or L2, with restarts for evaluation.
//!
//! The model is attacked in **eval mode** (dropout off, batch norm on running statistics), for
//! every attack, in training and in evaluation: `attack_view` gives a copy of the model with its
//! training flags off and no parameter gradients, so the gradient is of the loss with respect to
//! the input only and the attack never updates (or pays for) the parameters.
//! After every step the image is projected onto the ε-ball around the clean image, then clipped
//! to [0, 1].

mod apgd;

use crate::nn::Net;
use crate::spec::{AttackKind, AttackSpec, Norm};
use burn::nn::loss::CrossEntropyLossConfig;
use burn::prelude::*;
use burn::tensor::Distribution;

/// The model as attacks see it: eval mode, on the autodiff device, parameters without gradients.
pub fn attack_view(model: &Net, autodiff_device: &Device) -> Net {
    model.valid().fork(autodiff_device)
}

/// Per-sample L2 norm of a batch, shaped N×1×1×1 for broadcasting.
pub(crate) fn l2_norm(t: Tensor<4>) -> Tensor<4> {
    let [n, ..] = t.dims();
    t.powf_scalar(2.0)
        .reshape([n as i64, -1])
        .sum_dim(1)
        .sqrt()
        .reshape([n, 1, 1, 1])
}

/// Project `adv` onto the ε-ball around `clean`, then clip to [0, 1].
pub fn project(adv: Tensor<4>, clean: &Tensor<4>, norm: Norm, eps: f64) -> Tensor<4> {
    let delta = adv - clean.clone();
    let delta = match norm {
        Norm::Linf => delta.clamp(-eps, eps),
        Norm::L2 => {
            let n = l2_norm(delta.clone());
            // factor = min(1, ε / ‖δ‖): shrink only what lies outside the ball.
            let factor = n.clamp_min(1e-12).recip().mul_scalar(eps).clamp_max(1.0);
            delta * factor
        }
    };
    (clean.clone() + delta).clamp(0.0, 1.0)
}

fn random_start(clean: &Tensor<4>, norm: Norm, eps: f64) -> Tensor<4> {
    let device = clean.device();
    let shape = clean.shape();
    let delta = match norm {
        Norm::Linf => Tensor::<4>::random(shape, Distribution::Uniform(-eps, eps), &device),
        Norm::L2 => {
            // Uniform in the ball: a uniform direction, radius ε·u^(1/d) (d = values per
            // image), so the volume, not the radius, is uniform.
            let dir = Tensor::<4>::random(shape, Distribution::Normal(0.0, 1.0), &device);
            let [n, c, h, w] = clean.dims();
            let d = (c * h * w) as f64;
            let r = Tensor::<4>::random([n, 1, 1, 1], Distribution::Uniform(0.0, 1.0), &device)
                .powf_scalar(1.0 / d)
                .mul_scalar(eps);
            dir.clone() / l2_norm(dir).clamp_min(1e-12) * r
        }
    };
    project(clean.clone() + delta, clean, norm, eps)
}

/// ∇ₓ of the summed cross-entropy at `x`, and the per-sample losses.
fn input_gradient(model: &Net, x: &Tensor<4>, y: &Tensor<1, Int>) -> (Tensor<4>, Tensor<1>) {
    let xg = x.clone().detach().autodiff().require_grad();
    let logits = model.forward(xg.clone());
    let per_sample = per_sample_loss(logits);
    let per_sample = per_sample.gather_targets(y);
    let loss = per_sample.clone().sum();
    let grads = loss.backward();
    let g = xg.grad(&grads).expect("the input requires a gradient");
    (g.without_autodiff(), per_sample.detach().without_autodiff())
}

/// Log-softmax of logits, so per-sample losses can be gathered by target.
struct LogProbs(Tensor<2>);

fn per_sample_loss(logits: Tensor<2>) -> LogProbs {
    LogProbs(burn::tensor::activation::log_softmax(logits, 1))
}

impl LogProbs {
    fn gather_targets(self, y: &Tensor<1, Int>) -> Tensor<1> {
        let [n, _] = self.0.dims();
        let y = y.clone().reshape([n, 1]);
        self.0.gather(1, y).reshape([n]).neg()
    }
}

fn step_direction(g: Tensor<4>, norm: Norm) -> Tensor<4> {
    match norm {
        Norm::Linf => g.sign(),
        Norm::L2 => g.clone() / l2_norm(g).clamp_min(1e-12),
    }
}

/// Which iterate an attack gives back per image. Training follows the last iterate (what PGD
/// adversarial training trains on); an evaluation keeps an iterate that fooled the model if any
/// did, as APGD and AutoAttack count robustness (an image is robust only if no point the attack
/// visited fools the model).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keep {
    Last,
    AnyFooling,
}

/// One run of the attack from one start.
fn run_once(
    model: &Net,
    clean: &Tensor<4>,
    y: &Tensor<1, Int>,
    spec: &AttackSpec,
    keep: Keep,
) -> Tensor<4> {
    let (start, steps, step) = match spec.kind {
        AttackKind::None => return clean.clone(),
        AttackKind::ApgdCe if spec.eps > 0.0 => {
            return apgd::apgd(model, clean, y, spec, &apgd::Loss::CrossEntropy);
        }
        AttackKind::ApgdT if spec.eps > 0.0 => return apgd::apgd_targeted(model, clean, y, spec),
        AttackKind::ApgdCe | AttackKind::ApgdT => return clean.clone(),
        AttackKind::Fgsm => (false, 1, spec.eps),
        AttackKind::FgsmRs => (true, 1, spec.step),
        AttackKind::Pgd => (spec.random_start, spec.steps, spec.step),
    };
    if spec.eps == 0.0 {
        return clean.clone();
    }
    let mut adv = if start {
        random_start(clean, spec.norm, spec.eps)
    } else {
        clean.clone()
    };
    // The first iterate that fooled each image, and whether one did (evaluations only).
    let mut fooling: Option<(Tensor<4>, Tensor<1, Bool>)> = None;
    for _ in 0..steps {
        let (g, fooled) = input_gradient_fooled(model, &adv, y, keep == Keep::AnyFooling);
        if let Some(now) = fooled {
            fooling = Some(match fooling {
                None => (adv.clone(), now),
                Some((x, any)) => {
                    let newly = now.clone().bool_and(any.clone().bool_not());
                    (
                        x.mask_where(expand(&newly, clean), adv.clone()),
                        any.bool_or(now),
                    )
                }
            });
        }
        adv = project(
            adv + step_direction(g, spec.norm).mul_scalar(step),
            clean,
            spec.norm,
            spec.eps,
        );
    }
    if let Some((x, any)) = fooling {
        // The last iterate where it fools the model, or where no iterate did; else the earlier
        // one that did.
        let (_, last) = loss_and_fooled(model, &adv, y);
        let earlier = any.bool_and(last.bool_not());
        adv = adv.mask_where(expand(&earlier, clean), x);
    }
    adv
}

/// A per-image mask broadcast over the images of `like`.
pub(crate) fn expand(mask: &Tensor<1, Bool>, like: &Tensor<4>) -> Tensor<4, Bool> {
    let [n, ..] = like.dims();
    mask.clone().reshape([n, 1, 1, 1]).expand(like.shape())
}

/// ∇ₓ of the summed cross-entropy at `x` and, when asked, which images the model misclassifies
/// there (from the same forward pass).
fn input_gradient_fooled(
    model: &Net,
    x: &Tensor<4>,
    y: &Tensor<1, Int>,
    want_fooled: bool,
) -> (Tensor<4>, Option<Tensor<1, Bool>>) {
    let xg = x.clone().detach().autodiff().require_grad();
    let logits = model.forward(xg.clone());
    let [n, _] = logits.dims();
    let fooled = want_fooled.then(|| {
        logits
            .clone()
            .detach()
            .without_autodiff()
            .argmax(1)
            .reshape([n])
            .not_equal(y.clone())
    });
    let loss = per_sample_loss(logits).gather_targets(y).sum();
    let grads = loss.backward();
    let g = xg.grad(&grads).expect("the input requires a gradient");
    (g.without_autodiff(), fooled)
}

/// Adversarial versions of `clean` (on a plain device) against `model` (from `attack_view`),
/// for training: each run's last iterate. With restarts, an image counts as robust only if *no*
/// restart fools the model: each sample keeps a restart that misclassifies it when any does,
/// and among equals the highest loss.
pub fn perturb(model: &Net, clean: &Tensor<4>, y: &Tensor<1, Int>, spec: &AttackSpec) -> Tensor<4> {
    perturb_keeping(model, clean, y, spec, Keep::Last)
}

/// `perturb` for an evaluation: an image is fooled if any iterate of any restart fools it.
pub fn perturb_eval(
    model: &Net,
    clean: &Tensor<4>,
    y: &Tensor<1, Int>,
    spec: &AttackSpec,
) -> Tensor<4> {
    perturb_keeping(model, clean, y, spec, Keep::AnyFooling)
}

fn perturb_keeping(
    model: &Net,
    clean: &Tensor<4>,
    y: &Tensor<1, Int>,
    spec: &AttackSpec,
    keep: Keep,
) -> Tensor<4> {
    let mut best = run_once(model, clean, y, spec, keep);
    if spec.restarts <= 1 || spec.kind == AttackKind::None || spec.kind == AttackKind::Fgsm {
        return best;
    }
    let (mut best_loss, mut best_fooled) = loss_and_fooled(model, &best, y);
    for _ in 1..spec.restarts {
        let cand = run_once(model, clean, y, spec, keep);
        let (loss, fooled) = loss_and_fooled(model, &cand, y);
        let better = better_restart(&best_loss, &best_fooled, &loss, &fooled);
        best = best.mask_where(expand(&better, clean), cand);
        best_loss = best_loss.mask_where(better.clone(), loss);
        best_fooled = best_fooled.bool_or(fooled);
    }
    best
}

/// Per-sample loss, and whether the model misclassifies the sample.
fn loss_and_fooled(model: &Net, x: &Tensor<4>, y: &Tensor<1, Int>) -> (Tensor<1>, Tensor<1, Bool>) {
    let logits = model.forward(x.clone().detach()).without_autodiff();
    let [n, _] = logits.dims();
    let fooled = logits.clone().argmax(1).reshape([n]).not_equal(y.clone());
    (per_sample_loss(logits).gather_targets(y), fooled)
}

/// Where a new restart replaces the kept one: it fools the model and the kept one does not, or
/// both agree on that and the new one has the higher loss.
fn better_restart(
    best_loss: &Tensor<1>,
    best_fooled: &Tensor<1, Bool>,
    loss: &Tensor<1>,
    fooled: &Tensor<1, Bool>,
) -> Tensor<1, Bool> {
    let newly = fooled.clone().bool_and(best_fooled.clone().bool_not());
    let same = fooled.clone().equal(best_fooled.clone());
    newly.bool_or(same.bool_and(loss.clone().greater(best_loss.clone())))
}

/// The fraction of the images whose cross-entropy input gradient is zero everywhere (a sign of
/// gradient masking: an attack that follows gradients cannot move them).
pub fn zero_gradient_fraction(model: &Net, x: &Tensor<4>, y: &Tensor<1, Int>) -> f64 {
    let (g, _) = input_gradient(model, x, y);
    let [n, ..] = g.dims();
    let max = g.abs().reshape([n as i64, -1]).max_dim(1).reshape([n]);
    let zero = crate::train::transfer::scalar_i64(max.equal_elem(0.0).int().sum());
    zero as f64 / n.max(1) as f64
}

/// Per-sample cross-entropy, no gradient.
pub fn sample_losses(model: &Net, x: &Tensor<4>, y: &Tensor<1, Int>) -> Tensor<1> {
    let logits = model.forward(x.clone().detach()).without_autodiff();
    per_sample_loss(logits).gather_targets(y)
}

/// Mean cross-entropy, for tests and reports.
pub fn mean_loss(model: &Net, x: &Tensor<4>, y: &Tensor<1, Int>) -> f64 {
    let logits = model.forward(x.clone().detach()).without_autodiff();
    let device = logits.device();
    crate::train::transfer::scalar_f32(
        CrossEntropyLossConfig::new()
            .init(&device)
            .forward(logits, y.clone()),
    ) as f64
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod restart_tests {
    use super::*;

    /// A restart that fools the model wins over one with a higher loss that does not; among
    /// equals the higher loss wins.
    #[test]
    fn a_fooling_restart_beats_a_higher_loss() {
        let dev = crate::backend::cpu_device();
        let f = |v: [f32; 4]| Tensor::<1>::from_floats(v, &dev);
        let b = |v: [bool; 4]| Tensor::<1, Bool>::from_bool(TensorData::from(v), &dev);
        let better = better_restart(
            &f([5.0, 1.0, 1.0, 1.0]),
            &b([false, true, false, true]),
            &f([1.0, 5.0, 2.0, 0.5]),
            &b([true, false, false, true]),
        );
        let got: Vec<bool> = better.into_data().iter::<bool>().collect();
        assert_eq!(got, vec![true, false, true, false]);
    }
}
