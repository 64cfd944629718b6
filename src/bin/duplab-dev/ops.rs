//! `duplab-dev ops`: a CNN's training step taken apart, op by op, on the CPU backend's
//! primitives at the step's own shapes (batch 128, 28×28×1): how many milliseconds each kernel
//! takes and its share of their sum. The profile cannot say this (gemm's microkernels run on
//! rayon's workers and lose their callers); this tells which kernel a change should go after.
//! Rounds take turns through all ops; medians and min–max per op.

use burn::backend::Flex;
use burn::backend::flex::{FlexDevice, FlexTensor};
use burn::backend::ops::{ActivationOps, FloatTensorOps, ModuleOps};
use burn::tensor::IntDType;
use burn::tensor::ops::ConvOptions;
use duplab::cli::bench::median_range;
use std::time::Instant;

fn tensor(shape: &[usize], seed: u64) -> FlexTensor {
    Flex::float_from_data(crate::seeded::data(shape, seed, 1.0), &FlexDevice)
}

type Op = Box<dyn FnMut()>;

/// The models' pool: 2×2 windows, stride 2, with i32 indices as burn asks for them in training.
fn pool_2x2(x: FlexTensor) -> burn::backend::ops::MaxPool2dWithIndices<Flex> {
    Flex::max_pool2d_with_indices(x, [2, 2], [2, 2], [0, 0], [1, 1], false, IntDType::I32)
}

/// A named op: `f` runs it once, its result dropped (after `black_box`, so it is computed).
fn op<T>(name: impl Into<String>, mut f: impl FnMut() -> T + 'static) -> (String, Op) {
    (
        name.into(),
        Box::new(move || {
            std::hint::black_box(f());
        }),
    )
}

/// One op of the step: its name and a closure that runs it once on fixed inputs.
fn ops(c1: usize, c2: usize, hidden: usize, batch: usize) -> Vec<(String, Op)> {
    let conv = || ConvOptions::new([1, 1], [1, 1], [1, 1], 1);
    let mut v: Vec<(String, Op)> = vec![];
    // The two conv layers: input, weight, bias, output gradient.
    for (layer, (ci, co, side)) in [(1, c1, 28), (c1, c2, 14)].into_iter().enumerate() {
        let l = layer + 1;
        let x = tensor(&[batch, ci, side, side], 10 + l as u64);
        let w = tensor(&[co, ci, 3, 3], 20 + l as u64);
        let b = tensor(&[co], 30 + l as u64);
        let g = tensor(&[batch, co, side, side], 40 + l as u64);
        let (x1, w1, b1) = (x.clone(), w.clone(), b.clone());
        v.push(op(format!("conv{l} forward"), move || {
            Flex::conv2d(x1.clone(), w1.clone(), Some(b1.clone()), conv())
        }));
        let (x1, w1, g1) = (x.clone(), w.clone(), g.clone());
        v.push(op(format!("conv{l} weight gradient"), move || {
            Flex::conv2d_weight_backward(x1.clone(), w1.clone(), g1.clone(), conv())
        }));
        let (x1, b1, g1) = (x.clone(), b.clone(), g.clone());
        v.push(op(format!("conv{l} bias gradient"), move || {
            Flex::conv2d_bias_backward(x1.clone(), b1.clone(), g1.clone())
        }));
        // The first layer's input is the image: standard training needs no gradient for it.
        if l == 2 {
            let (x1, w1, g1) = (x.clone(), w.clone(), g.clone());
            v.push(op(format!("conv{l} input gradient"), move || {
                Flex::conv2d_x_backward(x1.clone(), w1.clone(), g1.clone(), conv())
            }));
        }
        // 2×2 max-pool of the conv's output, its backward, and the ReLU after it.
        let pooled = pool_2x2(g.clone());
        let gp = tensor(&[batch, co, side / 2, side / 2], 50 + l as u64);
        let g1 = g.clone();
        v.push(op(format!("pool{l} forward"), move || pool_2x2(g1.clone())));
        let (g1, gp1, idx) = (g.clone(), gp.clone(), pooled.indices.clone());
        v.push(op(format!("pool{l} backward"), move || {
            Flex::max_pool2d_with_indices_backward(
                g1.clone(),
                [2, 2],
                [2, 2],
                [0, 0],
                [1, 1],
                false,
                gp1.clone(),
                idx.clone(),
            )
        }));
        let p1 = pooled.output.clone();
        v.push(op(format!("relu{l} forward"), move || {
            Flex::relu(p1.clone())
        }));
        let (p1, gp1) = (pooled.output.clone(), gp.clone());
        v.push(op(format!("relu{l} backward"), move || {
            Flex::relu_backward(p1.clone(), gp1.clone())
        }));
    }
    // The hidden layer: forward, and both gradients of its matrix product.
    let flat = c2 * 7 * 7;
    let (x, w, b) = (
        tensor(&[batch, flat], 60),
        tensor(&[flat, hidden], 61),
        tensor(&[hidden], 62),
    );
    let g = tensor(&[batch, hidden], 63);
    let (x1, w1, b1) = (x.clone(), w.clone(), b.clone());
    v.push(op("fc1 forward", move || {
        Flex::linear(x1.clone(), w1.clone(), Some(b1.clone()))
    }));
    let (x1, g1) = (x.clone(), g.clone());
    v.push(op("fc1 weight gradient", move || {
        Flex::float_matmul(Flex::float_transpose(x1.clone()), g1.clone())
    }));
    let (w1, g1) = (w.clone(), g.clone());
    v.push(op("fc1 input gradient", move || {
        Flex::float_matmul(g1.clone(), Flex::float_transpose(w1.clone()))
    }));
    v
}

pub fn run(wide: bool, rounds: usize, only: Option<&str>) -> i32 {
    use duplab::nn::CnnWidth;
    let (width, name) = if wide {
        (CnnWidth::Wide, "wide CNN")
    } else {
        (CnnWidth::Small, "small CNN")
    };
    let (c1, c2, hidden) = width.dims();
    const BATCH: usize = 128;
    const CALLS: usize = 5;
    let mut ops = ops(c1, c2, hidden, BATCH);
    if let Some(part) = only {
        ops.retain(|(name, _)| name.contains(part));
        if ops.is_empty() {
            return duplab::cli::fail(format!("no op's name contains {part:?}"));
        }
    }
    let mut times: Vec<Vec<f64>> = vec![vec![]; ops.len()];
    // One warm-up round (buffers first touched, rayon's threads woken), then the timed rounds.
    for round in 0..=rounds.max(1) {
        for (i, (_, op)) in ops.iter_mut().enumerate() {
            let t = Instant::now();
            for _ in 0..CALLS {
                op();
            }
            if round > 0 {
                times[i].push(t.elapsed().as_secs_f64() * 1e3 / CALLS as f64);
            }
        }
    }
    let spreads: Vec<(f64, f64, f64)> = times.iter_mut().map(|t| median_range(t)).collect();
    let total: f64 = spreads.iter().map(|s| s.0).sum();
    println!(
        "the {name}'s standard training step op by op on flex, batch {BATCH}, {} rounds of {CALLS} calls: ms a call, median (min–max), share of the sum",
        rounds.max(1)
    );
    for ((label, _), (m, lo, hi)) in ops.iter().zip(spreads) {
        println!(
            "  {label:<24} {m:>7.3} ({lo:.3}–{hi:.3})  {:>5.1} %",
            m / total * 100.0
        );
    }
    println!(
        "  {:<24} {total:>7.3} ms (the step's other ops: loss, optimiser, dropout, the last layer, autodiff's bookkeeping)",
        "sum"
    );
    0
}
