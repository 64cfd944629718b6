//! Attack invariants on an untrained model (the projection must hold for any model).

use super::*;
use crate::nn::InputShape;
use crate::spec::{AttackKind, AttackSpec, ModelKind, Norm};

/// The model and a batch, with burn's generator held until the guard (first) is dropped.
fn setup() -> (
    std::sync::MutexGuard<'static, ()>,
    Net,
    Device,
    Tensor<4>,
    Tensor<1, Int>,
) {
    let serial = crate::burn_serial();
    let ad = crate::backend::cpu_device().autodiff();
    let inner = ad.clone().inner();
    ad.seed(7);
    let shape = InputShape::grey28(0.3, 0.3);
    let model = Net::new(ModelKind::SmallCnn, &shape, &ad).unwrap();
    let x = Tensor::<4>::random([16, 1, 28, 28], Distribution::Uniform(0.0, 1.0), &inner);
    let y = Tensor::<1, Int>::from_ints([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5], &inner);
    (serial, attack_view(&model, &ad), ad, x, y)
}

fn spec(kind: AttackKind, norm: Norm, eps: f64) -> AttackSpec {
    AttackSpec {
        kind,
        norm,
        eps,
        step: eps / 4.0,
        steps: 5,
        random_start: true,
        restarts: 1,
        fraction: 1.0,
        warmup: 0.0,
        targets: 2,
    }
}

fn max_abs(t: Tensor<4>) -> f32 {
    t.abs().max().into_scalar::<f32>()
}

#[test]
fn every_attack_stays_in_the_linf_ball_and_in_pixel_range() {
    let (_serial, m, _, x, y) = setup();
    for kind in [
        AttackKind::Fgsm,
        AttackKind::FgsmRs,
        AttackKind::Pgd,
        AttackKind::ApgdCe,
        AttackKind::ApgdT,
    ] {
        let mut s = spec(kind, Norm::Linf, 0.1);
        s.step = 0.125; // FGSM-RS's α > ε: the projection must still hold
        let adv = perturb(&m, &x, &y, &s);
        assert!(max_abs(adv.clone() - x.clone()) <= 0.1 + 1e-6, "{kind:?}");
        assert!(
            adv.clone().min().into_scalar::<f32>() >= 0.0
                && adv.clone().max().into_scalar::<f32>() <= 1.0,
            "{kind:?}"
        );
        assert!(max_abs(adv - x.clone()) > 0.05, "{kind:?} moved the images");
    }
}

#[test]
fn l2_attacks_stay_in_the_l2_ball_and_in_pixel_range() {
    let (_serial, m, _, x, y) = setup();
    for kind in [
        AttackKind::Fgsm,
        AttackKind::FgsmRs,
        AttackKind::Pgd,
        AttackKind::ApgdCe,
        AttackKind::ApgdT,
    ] {
        let s = spec(kind, Norm::L2, 1.5);
        let adv = perturb(&m, &x, &y, &s);
        let d = (adv.clone() - x.clone())
            .powf_scalar(2.0)
            .reshape([16, 784])
            .sum_dim(1)
            .sqrt();
        let worst = d.clone().max().into_scalar::<f32>();
        assert!(worst <= 1.5 + 1e-4, "{kind:?}: {worst}");
        assert!(worst > 0.5, "{kind:?} moved the images: {worst}");
        assert!(
            adv.clone().min().into_scalar::<f32>() >= 0.0 && adv.max().into_scalar::<f32>() <= 1.0
        );
    }
}

#[test]
fn zero_eps_leaves_images_unchanged() {
    let (_serial, m, _, x, y) = setup();
    for kind in [
        AttackKind::Fgsm,
        AttackKind::FgsmRs,
        AttackKind::Pgd,
        AttackKind::ApgdCe,
        AttackKind::ApgdT,
    ] {
        for norm in [Norm::Linf, Norm::L2] {
            let mut s = spec(kind, norm, 0.0);
            s.step = 0.01;
            let adv = perturb(&m, &x, &y, &s);
            assert_eq!(max_abs(adv - x.clone()), 0.0, "{kind:?} {norm:?}");
        }
    }
}

#[test]
fn same_seed_same_adversarial_images() {
    let (_serial, m, ad, x, y) = setup();
    let s = spec(AttackKind::Pgd, Norm::Linf, 0.1);
    ad.seed(11);
    let a = perturb(&m, &x, &y, &s);
    ad.seed(11);
    let b = perturb(&m, &x, &y, &s);
    ad.seed(12);
    let c = perturb(&m, &x, &y, &s);
    assert_eq!(max_abs(a.clone() - b), 0.0);
    assert!(max_abs(a - c) > 0.0, "another seed, another random start");
}

#[test]
fn attacks_do_not_touch_the_parameters() {
    let _serial = crate::burn_serial();
    let ad = crate::backend::cpu_device().autodiff();
    let inner = ad.clone().inner();
    let shape = InputShape::grey28(0.3, 0.3);
    let model = Net::new(ModelKind::Lenet, &shape, &ad).unwrap();
    let probe = Tensor::<4>::random([4, 1, 28, 28], Distribution::Uniform(0.0, 1.0), &inner);
    let before = model.valid().forward(probe.clone());
    let y = Tensor::<1, Int>::from_ints([1, 2, 3, 4], &inner);
    let _ = perturb(
        &attack_view(&model, &ad),
        &probe,
        &y,
        &spec(AttackKind::Pgd, Norm::Linf, 0.3),
    );
    let after = model.valid().forward(probe);
    assert_eq!((before - after).abs().max().into_scalar::<f32>(), 0.0);
}

#[test]
fn projection_clips_to_ball_then_pixel_range() {
    let inner = crate::backend::cpu_device();
    let clean = Tensor::<4>::from_floats([[[[0.0, 0.5, 1.0]]]], &inner);
    let adv = Tensor::<4>::from_floats([[[[-0.5, 0.9, 0.7]]]], &inner);
    let p = project(adv, &clean, Norm::Linf, 0.2);
    let v: Vec<f32> = p.into_data().iter::<f32>().collect();
    assert_eq!(v, vec![0.0, 0.7, 0.8]);
}

/// APGD's checkpoint lengths are AutoAttack's `max(int(f · n_iter), 1)`, f = 0.22, 0.06, 0.03
/// (values from Python's own arithmetic); a ceiling gave (5, 2, 1) at 20 iterations.
#[test]
fn apgd_checkpoints_follow_autoattack() {
    for (n, want) in [
        (10, (2, 1, 1)),
        (20, (4, 1, 1)),
        (25, (5, 1, 1)),
        (50, (11, 3, 1)),
        (100, (22, 6, 3)),
    ] {
        assert_eq!(apgd::checkpoint_lengths(n), want, "{n} iterations");
    }
}

/// An evaluation counts an image as fooled when any PGD iterate fooled it (as APGD and
/// AutoAttack count); training keeps the last iterate. Checked against the iterates themselves,
/// stepped here by hand from the same random start: with a step of 3ε the iterates jump between
/// corners of the ball, so some images are fooled on the way but not at the end (the last-iterate
/// count an evaluation used before is lower, and fails the equality below).
#[test]
fn an_evaluation_counts_an_image_fooled_at_any_pgd_iterate() {
    let (_serial, m, ad, x, _) = setup();
    // Labels the model gets right on the clean images, so that every image starts unfooled.
    let y = m
        .forward(x.clone())
        .without_autodiff()
        .argmax(1)
        .reshape([16]);
    let mut s = spec(AttackKind::Pgd, Norm::Linf, 0.02);
    s.step = 0.06;
    s.steps = 6;
    let fooled = |a: &Tensor<4>| -> Vec<bool> {
        loss_and_fooled(&m, a, &y)
            .1
            .into_data()
            .iter::<bool>()
            .collect()
    };
    ad.seed(11);
    let last = perturb(&m, &x, &y, &s);
    ad.seed(11);
    let mut adv = random_start(&x, s.norm, s.eps);
    let mut any = fooled(&adv);
    for _ in 0..s.steps {
        let (g, _) = input_gradient(&m, &adv, &y);
        adv = project(
            adv + step_direction(g, s.norm).mul_scalar(s.step),
            &x,
            s.norm,
            s.eps,
        );
        for (a, f) in any.iter_mut().zip(fooled(&adv)) {
            *a |= f;
        }
    }
    assert_eq!(
        max_abs(adv - last.clone()),
        0.0,
        "the hand-stepped run is PGD's"
    );
    ad.seed(11);
    let eval = perturb_eval(&m, &x, &y, &s);
    assert_eq!(fooled(&eval), any, "fooled at any iterate");
    let count = |v: &[bool]| v.iter().filter(|&&b| b).count();
    assert!(
        count(&any) > count(&fooled(&last)),
        "this setting must fool some image only on the way ({} vs {})",
        count(&any),
        count(&fooled(&last))
    );
    assert!(max_abs(eval - x.clone()) <= 0.02 + 1e-6);
}
