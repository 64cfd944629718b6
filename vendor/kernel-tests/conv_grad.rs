//! The convolution kernels patched in `vendor/burn-flex` against plain reference sums, for the
//! layer shapes of the models here and for stride, dilation, asymmetric padding and groups: the
//! forward pass (one GEMM per image over columns built from NCHW, for inputs with more than 4
//! channels or groups; fewer go to flex's own small-channel kernel, also checked), the weight
//! gradient (im2col columns and one GEMM per chunk of images instead of burn's generic
//! image-sized-kernel convolution) and the input gradient (one GEMM per image and col2im instead
//! of the generic transposed convolution). Only the order of the additions differs, so agreement
//! is to rounding.

use burn::prelude::*;
use burn::tensor::module::conv2d;
use burn::tensor::ops::ConvOptions;

fn values(n: usize, seed: u64) -> Vec<f32> {
    let mut s = seed.wrapping_mul(0x9E3779B97F4A7C15) | 1;
    (0..n)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            ((s >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
        })
        .collect()
}

/// One convolution: input and weight dims, stride, padding (begin, end) per axis, dilation, groups.
#[derive(Clone, Copy, Debug)]
struct Case {
    x: [usize; 4],
    w: [usize; 4],
    stride: [usize; 2],
    pad: [(usize, usize); 2],
    dilation: [usize; 2],
    groups: usize,
}

const fn case(
    x: [usize; 4],
    w: [usize; 4],
    stride: [usize; 2],
    pad: [(usize, usize); 2],
    dilation: [usize; 2],
    groups: usize,
) -> Case {
    Case {
        x,
        w,
        stride,
        pad,
        dilation,
        groups,
    }
}

/// Every multiply-add term of the convolution `c` with an output of `ho × wo`, as (input index,
/// weight index, output index) into the flat NCHW / OIHW / NCHW arrays. Input indices outside the
/// input read 0 and have no term: padding at either end, whatever its size, so only the leading
/// padding enters the index.
fn terms(c: &Case, [ho, wo]: [usize; 2], mut f: impl FnMut(usize, usize, usize)) {
    let ([b, ci, h, w], [co, ci_g, kh, kw]) = (c.x, c.w);
    let (s, d) = (c.stride, c.dilation);
    let p = [c.pad[0].0 as isize, c.pad[1].0 as isize];
    let co_g = co / c.groups;
    for bi in 0..b {
        for o in 0..co {
            let g = o / co_g;
            for cc in 0..ci_g {
                for i in 0..kh {
                    for j in 0..kw {
                        for y in 0..ho {
                            let iy = (y * s[0] + i * d[0]) as isize - p[0];
                            if iy < 0 || iy >= h as isize {
                                continue;
                            }
                            for xo in 0..wo {
                                let ix = (xo * s[1] + j * d[1]) as isize - p[1];
                                if ix < 0 || ix >= w as isize {
                                    continue;
                                }
                                f(
                                    ((bi * ci + g * ci_g + cc) * h + iy as usize) * w + ix as usize,
                                    ((o * ci_g + cc) * kh + i) * kw + j,
                                    ((bi * co + o) * ho + y) * wo + xo,
                                );
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Y[b, co, y, x] = bias[co] + Σ_(c, i, j) W[co, c, i, j] · X[b, g·ci_g + c, y·s + i·d − p, x·s + j·d − p].
fn reference_y(xv: &[f32], wv: &[f32], bv: &[f32], c: &Case, out_hw: [usize; 2]) -> Vec<f64> {
    let plane = out_hw[0] * out_hw[1];
    let mut out: Vec<f64> = (0..c.x[0] * c.w[0] * plane)
        .map(|k| bv[k / plane % c.w[0]] as f64)
        .collect();
    terms(c, out_hw, |xi, wi, yi| {
        out[yi] += wv[wi] as f64 * xv[xi] as f64
    });
    out
}

/// dX: each term's output gradient times its weight, added at its input index.
fn reference_x(wv: &[f32], r: &[f32], c: &Case, out_hw: [usize; 2]) -> Vec<f64> {
    let mut out = vec![0f64; c.x.iter().product()];
    terms(c, out_hw, |xi, wi, yi| {
        out[xi] += r[yi] as f64 * wv[wi] as f64
    });
    out
}

/// dbias: per output channel, the output gradient summed over images and positions.
fn reference_b(r: &[f32], c: &Case, out_hw: [usize; 2]) -> Vec<f64> {
    let plane = out_hw[0] * out_hw[1];
    let mut out = vec![0f64; c.w[0]];
    for (k, v) in r.iter().enumerate() {
        out[k / plane % c.w[0]] += *v as f64;
    }
    out
}

/// dW: each term's output gradient times its input, added at its weight index.
fn reference_w(xv: &[f32], r: &[f32], c: &Case, out_hw: [usize; 2]) -> Vec<f64> {
    let mut out = vec![0f64; c.w.iter().product()];
    terms(c, out_hw, |xi, wi, yi| {
        out[wi] += r[yi] as f64 * xv[xi] as f64
    });
    out
}

fn assert_close(got: &[f32], want: &[f64], what: &str) {
    assert_eq!(got.len(), want.len(), "{what}");
    let scale = want.iter().fold(1e-6f64, |m, v| m.max(v.abs()));
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(
            ((*g as f64) - w).abs() <= 1e-5 * scale + 1e-5,
            "{what} {i}: {g} vs {w}"
        );
    }
}

#[test]
fn the_patched_conv_kernels_match_reference_sums() {
    let device = crate::backend::cpu_device().autodiff();
    let same = [(1, 1), (1, 1)];
    // One case a line: a table reads better than rustfmt's one argument a line.
    #[rustfmt::skip]
    let cases = [
        case([20, 1, 28, 28], [16, 1, 3, 3], [1, 1], same, [1, 1], 1),
        case([9, 16, 14, 14], [32, 16, 3, 3], [1, 1], same, [1, 1], 1),
        case([3, 3, 32, 32], [6, 3, 5, 5], [1, 1], [(2, 2), (2, 2)], [1, 1], 1),
        case([4, 4, 11, 13], [6, 4, 3, 3], [2, 2], [(0, 1), (2, 0)], [1, 1], 1),
        case([2, 3, 12, 12], [4, 3, 3, 3], [1, 2], [(2, 2), (1, 1)], [2, 1], 1),
        case([3, 4, 10, 10], [6, 2, 3, 3], [1, 1], same, [1, 1], 2),
        case([2, 6, 11, 13], [8, 6, 3, 3], [2, 2], [(0, 1), (2, 0)], [1, 1], 1),
        case([2, 5, 12, 12], [7, 5, 3, 3], [1, 2], [(2, 2), (1, 1)], [2, 1], 1),
        case([2, 8, 9, 9], [4, 8, 5, 5], [1, 1], [(2, 2), (2, 2)], [1, 1], 1),
        // Padding wider than the input: kernel taps that never land inside it.
        case([1, 6, 1, 2], [3, 6, 3, 3], [1, 1], [(3, 3), (3, 3)], [3, 3], 1),
    ];
    for (k, c) in cases.iter().enumerate() {
        let xv = values(c.x.iter().product(), 2 * k as u64 + 1);
        let wv = values(c.w.iter().product(), 2 * k as u64 + 2);
        let x = Tensor::<4>::from_data(TensorData::new(xv.clone(), c.x), &device).require_grad();
        let weight =
            Tensor::<4>::from_data(TensorData::new(wv.clone(), c.w), &device).require_grad();
        let bv = values(c.w[0], 50 + k as u64);
        let bias =
            Tensor::<1>::from_data(TensorData::new(bv.clone(), [c.w[0]]), &device).require_grad();
        let opts = ConvOptions::new_with_padding(c.stride, c.pad, c.dilation, c.groups);
        let y = conv2d(x.clone(), weight.clone(), Some(bias.clone()), opts);
        let [_, _, ho, wo] = y.dims();
        let got_y = y.clone().into_data().try_to_vec::<f32>().unwrap();
        let want = reference_y(&xv, &wv, &bv, c, [ho, wo]);
        assert_close(&got_y, &want, &format!("{c:?}: output"));
        let rv = values(y.dims().iter().product(), 100 + k as u64);
        let r = Tensor::<4>::from_data(TensorData::new(rv.clone(), y.dims()), &device);
        let grads = (y * r).sum().backward();
        let grad = |t: &Tensor<4>| {
            t.grad(&grads)
                .expect("a gradient")
                .into_data()
                .try_to_vec::<f32>()
                .unwrap()
        };
        let want = reference_w(&xv, &rv, c, [ho, wo]);
        assert_close(&grad(&weight), &want, &format!("{c:?}: weight gradient"));
        let want = reference_x(&wv, &rv, c, [ho, wo]);
        assert_close(&grad(&x), &want, &format!("{c:?}: input gradient"));
        let want = reference_b(&rv, c, [ho, wo]);
        let got = bias
            .grad(&grads)
            .expect("a bias gradient")
            .into_data()
            .try_to_vec::<f32>()
            .unwrap();
        assert_close(&got, &want, &format!("{c:?}: bias gradient"));
    }
}
