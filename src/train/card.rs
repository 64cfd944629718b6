//! The evaluation card (`duplab eval RUN --card`): a ladder of attacks from weak to strong — FGSM,
//! PGD with restarts, APGD-CE, APGD-T — on the same test images, each recorded in the run like any
//! `duplab eval`, plus sanity probes in the spirit of AutoAttack's checks. A flag means the
//! robust accuracy should not be trusted as it stands: a stronger attack left more accuracy than a
//! weaker one, a large ε does not bring accuracy near 0, random noise does as well as the
//! gradient attacks, or many inputs have zero gradients (signs of gradient masking).

use super::eval::{evaluate_robust, per_image, per_image_adversarial, tally_per_image};
use super::eval_run::{attack_key, load_trained};
use super::trainer::robust_record;
use crate::attack::{attack_view, zero_gradient_fraction};
use crate::backend::DeviceChoice;
use crate::spec::{AttackKind, AttackSpec, Norm};
use crate::store::{CardStat, MetricRecord, Run};
use anyhow::Result;
use burn::prelude::*;
use burn::tensor::Distribution;
use std::path::Path;

/// The ladder at `eps` / `norm`: (name, attack), weakest first.
pub fn ladder(
    eps: f64,
    norm: Norm,
    steps: usize,
    restarts: usize,
    targets: usize,
) -> Vec<AttackSpec> {
    let base = AttackSpec {
        norm,
        eps,
        steps,
        restarts: 1,
        targets,
        ..AttackSpec::default()
    };
    vec![
        AttackSpec {
            kind: AttackKind::Fgsm,
            steps: 1,
            ..base.clone()
        },
        AttackSpec {
            kind: AttackKind::Pgd,
            // Madry et al.'s step: 2.5 ε over the iterations.
            step: 2.5 * eps / steps as f64,
            restarts,
            ..base.clone()
        },
        AttackSpec {
            kind: AttackKind::ApgdCe,
            ..base.clone()
        },
        AttackSpec {
            kind: AttackKind::ApgdT,
            ..base
        },
    ]
}

/// The flags of a card, from its numbers (weakest attack first in `rows`).
pub fn flags(
    clean: f64,
    rows: &[(String, f64)],
    noise: f64,
    large_eps: (f64, f64),
    zero_grad: f64,
) -> Vec<String> {
    let mut out = vec![];
    for i in 1..rows.len() {
        let (weakest_before, acc_before) = rows[..i]
            .iter()
            .min_by(|a, b| a.1.total_cmp(&b.1))
            .map(|(n, a)| (n.as_str(), *a))
            .unwrap_or(("", 1.0));
        if rows[i].1 > acc_before + 0.005 {
            out.push(format!(
                "{} left {:.1} % but the weaker {} left {:.1} %",
                rows[i].0,
                rows[i].1 * 100.0,
                weakest_before,
                acc_before * 100.0
            ));
        }
    }
    if large_eps.1 > 0.05 {
        out.push(format!(
            "accuracy under ε {} is {:.1} %, not near 0",
            large_eps.0,
            large_eps.1 * 100.0
        ));
    }
    let best = rows.iter().map(|r| r.1).fold(1.0, f64::min);
    if best < clean - 0.01 && noise <= best + 0.005 {
        out.push(format!(
            "random noise at ε leaves {:.1} %, as little as the gradient attacks ({:.1} %)",
            noise * 100.0,
            best * 100.0
        ));
    }
    if zero_grad > 0.01 {
        out.push(format!(
            "{:.1} % of the inputs have an all-zero gradient",
            zero_grad * 100.0
        ));
    }
    out
}

/// Run the card on `limit` test images (0 = all) and record it in the run.
#[allow(clippy::too_many_arguments)]
pub fn eval_card(
    run: &Run,
    eps: f64,
    norm: Norm,
    steps: usize,
    restarts: usize,
    targets: usize,
    limit: usize,
    choice: DeviceChoice,
    data_dir: Option<&Path>,
    say: &mut dyn FnMut(String),
) -> Result<CardStat> {
    let (model, test, classes, device) = load_trained(run, choice, data_dir)?;
    let n = if limit == 0 {
        test.len()
    } else {
        limit.min(test.len())
    };
    // Clean accuracy on the same images the ladder attacks (the first `n`).
    let idx: Vec<u32> = (0..n as u32).collect();
    let clean_pass = per_image(&model, &test, Some(&idx));
    let clean = tally_per_image(&clean_pass, classes).acc;
    let mut rows: Vec<(String, f64)> = vec![];
    // Which images each rung left classified right: the ladder's per-image worst case.
    let mut survived: Vec<Vec<bool>> = vec![];
    for spec in ladder(eps, norm, steps, restarts, targets) {
        say(format!("{} on {n} images …", spec.eval_label()));
        let p = per_image_adversarial(&model, &test, &idx, &spec, n, &device, &mut |_, _| {});
        let r = tally_per_image(&p, classes);
        survived.push(p.correct);
        let rec = robust_record(&r, &spec.eval_label());
        run.metrics_writer()?
            .append(&MetricRecord::Eval(rec.clone()))?;
        run.write_eval(&attack_key(&spec, rec.images), &rec)?;
        say(format!("  {:.2} %", rec.acc * 100.0));
        rows.push((spec.eval_label(), rec.acc));
    }
    // Probes: random noise at ε, a large ε, zero gradients.
    let view = attack_view(&model, &device);
    let (mut noise_right, mut zero) = (0usize, 0.0f64);
    for start in (0..n).step_by(100) {
        let end = (start + 100).min(n);
        let (x, y) = test.range(start, end);
        let x = x.to_device(&device);
        let y = y.to_device(&device);
        let dims = x.dims();
        let delta = match norm {
            Norm::Linf => Tensor::<4>::random(dims, Distribution::Uniform(-1.0, 1.0), &device)
                .sign()
                .mul_scalar(eps),
            Norm::L2 => {
                let d = Tensor::<4>::random(dims, Distribution::Normal(0.0, 1.0), &device);
                let norm2 = d
                    .clone()
                    .powf_scalar(2.0)
                    .reshape([dims[0] as i64, -1])
                    .sum_dim(1)
                    .sqrt()
                    .reshape([dims[0], 1, 1, 1]);
                d / norm2.clamp_min(1e-12) * eps
            }
        };
        let noisy = (x.clone() + delta).clamp(0.0, 1.0);
        let pred = view
            .forward(noisy.detach())
            .argmax(1)
            .reshape([end - start]);
        noise_right += super::transfer::scalar_i64(pred.equal(y.clone()).int().sum()) as usize;
        zero += zero_gradient_fraction(&view, &x, &y) * (end - start) as f64;
    }
    let large = match norm {
        Norm::Linf => 0.5,
        Norm::L2 => 10.0,
    };
    let large_spec = AttackSpec {
        kind: AttackKind::Pgd,
        norm,
        eps: large,
        step: large / 4.0,
        steps: 20,
        ..AttackSpec::default()
    };
    say(format!("{} on {n} images …", large_spec.eval_label()));
    let large_acc = evaluate_robust(
        &model,
        &test,
        classes,
        &large_spec,
        n,
        &device,
        &mut |_, _| {},
    )
    .acc;
    let noise = noise_right as f64 / n.max(1) as f64;
    let zero_grad = zero / n.max(1) as f64;
    let card = CardStat {
        eps,
        norm: format!("{norm:?}"),
        images: n,
        clean_acc: clean,
        attacks: rows.clone(),
        noise_acc: noise,
        large_eps: large,
        large_eps_acc: large_acc,
        zero_grad_fraction: zero_grad,
        flags: flags(clean, &rows, noise, (large, large_acc), zero_grad),
        ensemble_acc: Some(crate::report::ensemble_accuracy(
            &clean_pass.correct,
            &survived,
        )),
    };
    run.write_card(&card)?;
    Ok(card)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(v: &[f64]) -> Vec<(String, f64)> {
        ["fgsm", "pgd", "apgd-ce", "apgd-t"]
            .iter()
            .zip(v)
            .map(|(n, a)| (n.to_string(), *a))
            .collect()
    }

    #[test]
    fn a_healthy_card_has_no_flags_and_each_defect_raises_one() {
        assert!(flags(0.9, &rows(&[0.5, 0.3, 0.29, 0.28]), 0.85, (0.5, 0.0), 0.0).is_empty());
        let f = flags(0.9, &rows(&[0.5, 0.3, 0.35, 0.28]), 0.85, (0.5, 0.0), 0.0);
        assert_eq!(f.len(), 1);
        assert!(f[0].starts_with("apgd-ce left 35.0 %"), "{f:?}");
        let f = flags(0.9, &rows(&[0.5, 0.3, 0.29, 0.28]), 0.85, (0.5, 0.4), 0.0);
        assert!(f[0].contains("not near 0"), "{f:?}");
        let f = flags(0.9, &rows(&[0.5, 0.3, 0.29, 0.28]), 0.28, (0.5, 0.0), 0.0);
        assert!(f[0].contains("random noise"), "{f:?}");
        let f = flags(0.9, &rows(&[0.5, 0.3, 0.29, 0.28]), 0.85, (0.5, 0.0), 0.2);
        assert!(f[0].contains("all-zero gradient"), "{f:?}");
    }

    #[test]
    fn the_ladder_goes_from_fgsm_to_apgd_t() {
        let l = ladder(0.3, Norm::Linf, 50, 5, 9);
        let labels: Vec<String> = l.iter().map(|a| a.label()).collect();
        assert_eq!(
            labels,
            vec![
                "fgsm L∞ ε=0.3",
                "pgd-50 L∞ ε=0.3",
                "apgd-ce-50 L∞ ε=0.3",
                "apgd-t-50 L∞ ε=0.3 (9 targets)"
            ]
        );
        assert_eq!(l[1].restarts, 5);
        assert!((l[1].step - 0.015).abs() < 1e-12);
        for a in &l {
            a.validate().unwrap();
        }
    }
}
