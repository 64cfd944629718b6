//! Weight gradient of a 2D convolution as matrix products over im2col columns.
//!
//! dW[co, ci, i, j] = Σ_(b, y, x) dY[b, co, y, x] · X[b, g·Ci + ci, y·s + i·d − p, x·s + j·d − p]
//! (g: the group of `co`). burn-backend's generic `conv2d_weight_backward` computes this as a
//! convolution of X (batch and channels swapped) with dY as a kernel as large as the output image:
//! two transposing copies, and an im2col whose columns are whole images. Here each chunk of a few
//! images gets its columns built once — rows (ci, i, j), columns (b, y, x), contiguous writes
//! along x — and one GEMM per group with k = images × output positions; chunks run in parallel
//! and their partial gradients are summed. Same sums, in another order: results agree with the
//! generic path to rounding.

use alloc::vec;
use alloc::vec::Vec;
use burn_backend::DType;
use burn_std::{Bytes, Shape};

use crate::ops::conv_cols::{column_row, span};
use crate::{FlexTensor, Layout};

/// Images per chunk: their columns (Ci·K·K × images·Ho·Wo) stay within a core's L2 for the
/// layer sizes of small CNNs, and there are enough chunks for every core.
const CHUNK: usize = 8;

/// Element types the GEMM takes here.
pub trait GradScalar:
    bytemuck::Pod + Copy + Send + Sync + 'static + core::ops::Add<Output = Self>
{
    const ZERO: Self;
    const ONE: Self;
}

impl GradScalar for f32 {
    const ZERO: Self = 0.0;
    const ONE: Self = 1.0;
}

impl GradScalar for f64 {
    const ZERO: Self = 0.0;
    const ONE: Self = 1.0;
}

/// The weight gradient for `weight_shape` [Co, Ci/groups, Kh, Kw] from the input `x`
/// [B, Ci, H, W] and the output gradient [B, Co, Ho, Wo] (symmetric padding; the caller pads
/// asymmetric inputs first).
#[allow(clippy::too_many_arguments)]
pub fn conv2d_weight_grad<T: burn_backend::Element + GradScalar>(
    x: FlexTensor,
    output_grad: FlexTensor,
    weight_shape: [usize; 4],
    stride: [usize; 2],
    padding: [usize; 2],
    dilation: [usize; 2],
    groups: usize,
    dtype: DType,
) -> FlexTensor {
    let x = x.to_contiguous();
    let gy = output_grad.to_contiguous();
    let xs = x.layout().shape();
    let gs = gy.layout().shape();
    let (b, ci, h, w) = (xs[0], xs[1], xs[2], xs[3]);
    let (co, ho, wo) = (gs[1], gs[2], gs[3]);
    let [_, ci_g, kh, kw] = weight_shape;
    let co_g = co / groups.max(1);
    let l = ho * wo;
    let kk = ci_g * kh * kw;
    let x_data: &[T] = x.storage();
    let g_data: &[T] = gy.storage();

    // The partial gradient [Co, Ci/groups·Kh·Kw] of images b0..b1.
    let partial = |b0: usize, b1: usize| -> Vec<T> {
        let n = b1 - b0;
        let cols_len = n * l;
        let mut out = vec![T::ZERO; co * kk];
        // Neither is zeroed first: `column_row` writes every cell of its row (zeros included)
        // and the copy below every cell of `lhs`.
        let mut cols = crate::ops::mask::uninit_vec::<T>(kk * cols_len);
        let mut lhs = crate::ops::mask::uninit_vec::<T>(co_g * cols_len);
        for g in 0..groups {
            // Columns: row r = (ci, i, j) holds, for each image and output position, the input
            // pixel that weight (ci, i, j) multiplies there (0 in the padding).
            // The range of output positions inside the input is worked out once per row (`span`),
            // so the inner loop is a plain copy (stride 1) with zeros around it (`column_row`).
            for r in 0..kk {
                let (c, i, j) = (g * ci_g + r / (kh * kw), (r / kw) % kh, r % kw);
                let row = &mut cols[r * cols_len..(r + 1) * cols_len];
                let ys = span(i, stride[0], dilation[0], padding[0], h, ho);
                let xs = span(j, stride[1], dilation[1], padding[1], w, wo);
                for bi in 0..n {
                    let plane = &x_data[((b0 + bi) * ci + c) * h * w..][..h * w];
                    column_row(&mut row[bi * l..][..l], plane, w, wo, stride, ys, xs);
                }
            }
            // The group's output gradient as [Co/groups, images·Ho·Wo].
            for (oc, dst) in lhs.chunks_mut(cols_len).enumerate() {
                for bi in 0..n {
                    let src = &g_data[((b0 + bi) * co + g * co_g + oc) * l..][..l];
                    dst[bi * l..(bi + 1) * l].copy_from_slice(src);
                }
            }
            // out[g·Co/groups.., :] = lhs × colsᵀ
            unsafe {
                gemm::gemm(
                    co_g,
                    kk,
                    cols_len,
                    out[g * co_g * kk..].as_mut_ptr(),
                    1,
                    kk as isize,
                    false,
                    lhs.as_ptr(),
                    1,
                    cols_len as isize,
                    cols.as_ptr(),
                    cols_len as isize,
                    1,
                    T::ZERO,
                    T::ONE,
                    false,
                    false,
                    false,
                    gemm::Parallelism::None,
                );
            }
        }
        out
    };

    let chunks: Vec<(usize, usize)> = (0..b)
        .step_by(CHUNK)
        .map(|b0| (b0, (b0 + CHUNK).min(b)))
        .collect();
    // Partials are summed in chunk order whatever thread computed them: the same inputs give
    // the same bits on any number of threads.
    #[cfg(feature = "rayon")]
    let partials: Vec<Vec<T>> = {
        use rayon::prelude::*;
        chunks.par_iter().map(|&(b0, b1)| partial(b0, b1)).collect()
    };
    #[cfg(not(feature = "rayon"))]
    let partials: Vec<Vec<T>> = chunks.iter().map(|&(b0, b1)| partial(b0, b1)).collect();
    let mut grad = vec![T::ZERO; co * kk];
    for p in partials {
        for (a, v) in grad.iter_mut().zip(p) {
            *a = *a + v;
        }
    }

    FlexTensor::new(
        Bytes::from_elems(grad),
        Layout::contiguous(Shape::from(vec![co, ci_g, kh, kw])),
        dtype,
    )
}
