//! One training step, shared by the trainer and the benchmark: optional adversarial replacement
//! of the first part of the batch, forward, cross-entropy (weighted per image for the
//! reweighting controls), backward, optimiser step.

use crate::attack::{attack_view, perturb};
use crate::nn::Net;
use crate::spec::{AttackKind, AttackSpec};
use burn::nn::loss::CrossEntropyLoss;
use burn::optim::{GradientsParams, ModuleOptimizer};
use burn::prelude::*;
use burn::tensor::activation::log_softmax;

/// Returns the updated model, the batch's mean loss and its number of correct predictions, both
/// still on the device (reading them would force a sync).
#[allow(clippy::too_many_arguments)]
pub fn train_step(
    model: Net,
    optim: &mut ModuleOptimizer,
    ce: &CrossEntropyLoss,
    mut x: Tensor<4>,
    y: Tensor<1, Int>,
    attack: &AttackSpec,
    lr: f64,
    device: &Device,
    weights: Option<Tensor<1>>,
) -> (Net, Tensor<1>, Tensor<1, Int>) {
    let b = y.dims()[0];
    if attack.kind != AttackKind::None && attack.fraction > 0.0 {
        let k = ((attack.fraction * b as f64).round() as usize).clamp(1, b);
        let view = attack_view(&model, device);
        let xa = x.clone().slice(s![0..k]);
        let ya = y.clone().slice(s![0..k]);
        let adv = perturb(&view, &xa, &ya, attack);
        x = if k == b {
            adv
        } else {
            Tensor::cat(vec![adv, x.slice(s![k..b])], 0)
        };
    }
    let logits = model.forward(x);
    let loss = match weights {
        None => ce.forward(logits.clone(), y.clone()),
        // The weighted controls: each image's cross-entropy times its weight, averaged.
        Some(w) => {
            let nll = log_softmax(logits.clone(), 1)
                .gather(1, y.clone().reshape([b, 1]))
                .reshape([b])
                .neg();
            (nll * w).mean()
        }
    };
    let correct = logits
        .detach()
        .without_autodiff()
        .argmax(1)
        .reshape([b])
        .equal(y)
        .int()
        .sum();
    let grads = GradientsParams::from_grads(loss.backward(), &model);
    let model = optim.step(lr, model, grads);
    (model, loss.detach().without_autodiff(), correct)
}
