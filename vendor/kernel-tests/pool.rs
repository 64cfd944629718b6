//! The max-pool kernels patched in `vendor/burn-flex` (a 2×2/stride-2 kernel, and a fast path for
//! other windows that never leave the input) must give exactly what the unpatched general kernel
//! gives. The general kernel still
//! runs for ceil mode, so the same even-sized input pooled with `ceil_mode` on (same output shape,
//! general kernel) and off (fast path) must agree bit for bit — values and argmax indices, ties
//! and NaN included — and both must agree with a plain reference written here.

use burn::prelude::*;
use burn::tensor::module::max_pool2d_with_indices;
use burn::tensor::ops::MaxPoolOptions;

/// Deterministic values with many ties (a coarse grid) and a few NaN.
fn values(n: usize, seed: u64) -> Vec<f32> {
    let mut s = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    (0..n)
        .map(|i| {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            if i % 97 == 13 {
                f32::NAN
            } else {
                ((s >> 40) % 7) as f32 - 3.0
            }
        })
        .collect()
}

/// Max and first argmax of each k×k window with stride s (NaN wins, its last index kept).
fn reference(x: &[f32], [b, c, h, w]: [usize; 4], k: usize, s: usize) -> (Vec<f32>, Vec<i64>) {
    let (oh, ow) = ((h - k) / s + 1, (w - k) / s + 1);
    let (mut vals, mut idx) = (vec![], vec![]);
    for plane in 0..b * c {
        for i in 0..oh {
            for j in 0..ow {
                let (mut best, mut at) = (f32::NEG_INFINITY, -1i64);
                for di in 0..k {
                    for dj in 0..k {
                        let p = (i * s + di) * w + j * s + dj;
                        let v = x[plane * h * w + p];
                        if at < 0 || v > best || v.is_nan() {
                            best = v;
                            at = p as i64;
                        }
                    }
                }
                vals.push(best);
                idx.push(at);
            }
        }
    }
    (vals, idx)
}

fn pool(x: &Tensor<4>, k: usize, s: usize, ceil: bool) -> (Vec<f32>, Vec<i64>) {
    let opts = MaxPoolOptions::new([k, k])
        .with_stride([s, s])
        .with_ceil_mode(ceil);
    let (v, i) = max_pool2d_with_indices(x.clone(), opts);
    // flex writes the indices in the device's int dtype: the 2×2 kernel directly as i32, the
    // general kernel as i64 then cast. Either way the caller sees i32.
    assert_eq!(i.dtype(), burn::tensor::DType::I32, "pool indices dtype");
    (
        v.into_data().try_to_vec::<f32>().unwrap(),
        i.into_data().convert::<i64>().try_to_vec::<i64>().unwrap(),
    )
}

fn same_bits(a: &[f32], b: &[f32]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.to_bits() == y.to_bits())
}

#[test]
fn the_fast_max_pool_path_matches_the_general_kernel_and_a_reference() {
    let device = crate::backend::cpu_device();
    for (dims, k, s, seed) in [
        ([3, 4, 28, 28], 2, 2, 1),
        ([2, 3, 14, 14], 2, 2, 2),
        ([2, 2, 12, 12], 3, 3, 3),
        ([1, 5, 10, 10], 2, 1, 4),
        // Rows of 5 and 3 windows: the SSE2 row's overlapping last step, and the scalar loop
        // for rows narrower than four windows.
        ([2, 3, 10, 10], 2, 2, 5),
        ([2, 3, 6, 6], 2, 2, 6),
    ] {
        let n: usize = dims.iter().product();
        let data = values(n, seed);
        let x = Tensor::<4>::from_data(TensorData::new(data.clone(), dims), &device);
        let fast = pool(&x, k, s, false);
        let general = pool(&x, k, s, true);
        let reference = reference(&data, dims, k, s);
        assert!(
            same_bits(&fast.0, &general.0),
            "{dims:?} k{k} s{s}: values differ"
        );
        assert_eq!(fast.1, general.1, "{dims:?} k{k} s{s}: indices differ");
        assert!(
            same_bits(&fast.0, &reference.0),
            "{dims:?}: values differ from the reference"
        );
        assert_eq!(
            fast.1, reference.1,
            "{dims:?}: indices differ from the reference"
        );
    }
    // Rows of 8 windows (two whole SSE2 steps), with −0.0, ±∞ and NaN placed so that each of a
    // window's four cells, in each of the four lanes, holds one of them somewhere.
    let dims = [2, 3, 16, 16];
    let mut data = values(2 * 3 * 16 * 16, 8);
    let specials = [-0.0, 0.0, f32::INFINITY, f32::NEG_INFINITY, f32::NAN];
    for (i, v) in data.iter_mut().enumerate() {
        if i % 5 == 0 {
            *v = specials[(i / 5) % specials.len()];
        }
    }
    let x = Tensor::<4>::from_data(TensorData::new(data.clone(), dims), &device);
    let (fast, general, plain) = (
        pool(&x, 2, 2, false),
        pool(&x, 2, 2, true),
        reference(&data, dims, 2, 2),
    );
    assert!(same_bits(&fast.0, &general.0) && same_bits(&fast.0, &plain.0));
    assert!(fast.1 == general.1 && fast.1 == plain.1);
    // Odd sizes: floor mode drops the last row and column (the fast path), as the reference does.
    let dims = [2, 3, 7, 9];
    let data = values(2 * 3 * 7 * 9, 9);
    let x = Tensor::<4>::from_data(TensorData::new(data.clone(), dims), &device);
    let fast = pool(&x, 2, 2, false);
    let reference = reference(&data, dims, 2, 2);
    assert!(same_bits(&fast.0, &reference.0));
    assert_eq!(fast.1, reference.1);
}

/// The input gradient of a max pool over `x` (values from `values`), for the output gradient
/// `w` (with negative zeros and signs mixed in), through burn's autodiff: in floor mode from the
/// 2×2 kernel's (i32) indices, in ceil mode from the general kernel's. (A 2×2 backward that
/// writes every cell instead of zeroing and scattering was tried and measured 0.89–1.05×, so it
/// was not kept: docs/performance.md, round 4. This test holds any such kernel to the bits.)
fn pool_grad(data: &[f32], dims: [usize; 4], ceil: bool, w: &[f32]) -> Vec<f32> {
    let device = crate::backend::cpu_device();
    let x = Tensor::<4>::from_data(TensorData::new(data.to_vec(), dims), &device)
        .autodiff()
        .require_grad();
    let opts = MaxPoolOptions::new([2, 2])
        .with_stride([2, 2])
        .with_ceil_mode(ceil);
    let y = burn::tensor::module::max_pool2d(x.clone(), opts);
    let w = Tensor::<4>::from_data(TensorData::new(w.to_vec(), y.shape()), &device).autodiff();
    let grads = (y * w).sum().backward();
    x.grad(&grads)
        .expect("the input requires a gradient")
        .into_data()
        .try_to_vec::<f32>()
        .unwrap()
}

#[test]
fn the_2x2_pool_gradient_matches_the_general_kernel_and_a_reference() {
    for (dims, seed) in [
        ([3, 4, 28, 28], 11),
        ([2, 3, 14, 14], 12),
        ([2, 3, 7, 9], 13),
    ] {
        let n: usize = dims.iter().product();
        // Distinct values (no ties, no NaN) so that every window has one maximum.
        let data: Vec<f32> = values(n, seed)
            .iter()
            .enumerate()
            .map(|(i, v)| {
                if v.is_nan() {
                    i as f32
                } else {
                    v * 1000.0 + i as f32 * 1e-3
                }
            })
            .collect();
        let (oh, ow) = (dims[2] / 2, dims[3] / 2);
        let m = dims[0] * dims[1] * oh * ow;
        let w: Vec<f32> = (0..m)
            .map(|i| match i % 5 {
                0 => -0.0,
                1 => 0.0,
                k => (k as f32 - 2.5) * (1.0 + i as f32 * 1e-4),
            })
            .collect();
        let fast = pool_grad(&data, dims, false, &w);
        // Reference: 0 + w at each window's argmax, 0 elsewhere.
        let (_, idx) = reference(&data, dims, 2, 2);
        let plane = dims[2] * dims[3];
        let mut want = vec![0.0f32; n];
        for (o, &k) in idx.iter().enumerate() {
            let p = o / (oh * ow);
            want[p * plane + k as usize] += w[o];
        }
        assert!(
            same_bits(&fast, &want),
            "{dims:?}: gradient differs from the reference"
        );
        if dims[2] % 2 == 0 && dims[3] % 2 == 0 {
            let general = pool_grad(&data, dims, true, &w);
            assert!(
                same_bits(&fast, &general),
                "{dims:?}: gradient differs from the general kernel"
            );
        }
    }
}
