//! Input gradient of a 2D convolution as one matrix product per image plus col2im.
//!
//! dX[b, g·Ci + c, y·s + i·d − p, x·s + j·d − p] += Σ_co W[g·Co + co, c, i, j] · dY[b, g·Co + co, y, x]
//! (g: a group, Ci and Co its input and output channels). burn-backend's generic
//! `conv2d_x_backward` computes this as a transposed convolution, which flex runs as a scatter
//! through the whole weight for every output position. Here each image gets its columns from one
//! GEMM — cols [Ci·Kh·Kw, Ho·Wo] = W_gᵀ × dY_g — and each column row is then added into dX where
//! it lands (col2im); for stride 1 those are contiguous runs. Images are independent and every
//! element of dX is summed in a fixed order, so the result does not depend on the number of
//! threads. Same sums as the transposed convolution in another order: equal to rounding.

use alloc::vec;
use burn_backend::DType;
use burn_std::{Bytes, Shape};

use crate::ops::conv_cols::span;
use crate::ops::conv_weight_grad::GradScalar;
use crate::{FlexTensor, Layout};

/// The gradient of the input `x_shape` [B, Ci, H, W] of a convolution by `weight`
/// [Co, Ci/groups, Kh, Kw] whose output gradient is `output_grad` [B, Co, Ho, Wo]. `padding` is
/// the padding at the start of each axis; padding at the end only shows in the output size.
#[allow(clippy::too_many_arguments)]
pub fn conv2d_x_grad<T: burn_backend::Element + GradScalar>(
    x_shape: [usize; 4],
    weight: FlexTensor,
    output_grad: FlexTensor,
    stride: [usize; 2],
    padding: [usize; 2],
    dilation: [usize; 2],
    groups: usize,
    dtype: DType,
) -> FlexTensor {
    let weight = weight.to_contiguous();
    let gy = output_grad.to_contiguous();
    let [b, ci, h, w] = x_shape;
    let ws = weight.layout().shape();
    let (co, ci_g, kh, kw) = (ws[0], ws[1], ws[2], ws[3]);
    let gs = gy.layout().shape();
    let (ho, wo) = (gs[2], gs[3]);
    let groups = groups.max(1);
    let co_g = co / groups;
    let l = ho * wo;
    let kk = ci_g * kh * kw;
    let w_data: &[T] = weight.storage();
    let g_data: &[T] = gy.storage();
    let plane_len = ci * h * w;
    let mut out = vec![T::ZERO; b * plane_len];

    // `cols` is one buffer per rayon job, reused image after image and never zeroed: the GEMM
    // overwrites it whole (read_dst false) before col2im reads it.
    let image = |cols: &mut [T], bi: usize, dx: &mut [T]| {
        for g in 0..groups {
            // cols = W_gᵀ [kk × Co] × dY_g [Co × l]
            unsafe {
                gemm::gemm(
                    kk,
                    l,
                    co_g,
                    cols.as_mut_ptr(),
                    1,
                    l as isize,
                    false,
                    w_data[g * co_g * kk..].as_ptr(),
                    kk as isize,
                    1,
                    g_data[(bi * co + g * co_g) * l..].as_ptr(),
                    1,
                    l as isize,
                    T::ZERO,
                    T::ONE,
                    false,
                    false,
                    false,
                    gemm::Parallelism::None,
                );
            }
            // col2im: row r = (c, i, j) of the columns adds into channel c, shifted by (i, j).
            for r in 0..kk {
                let (c, i, j) = (g * ci_g + r / (kh * kw), (r / kw) % kh, r % kw);
                let plane = &mut dx[c * h * w..][..h * w];
                let row = &cols[r * l..][..l];
                let (y0, y1, yoff) = span(i, stride[0], dilation[0], padding[0], h, ho);
                let (x0, x1, xoff) = span(j, stride[1], dilation[1], padding[1], w, wo);
                for y in y0..y1 {
                    let iy = ((y * stride[0]) as isize + yoff) as usize;
                    let src = &row[y * wo..][..wo];
                    let dst = &mut plane[iy * w..][..w];
                    if x1 == x0 {
                        // This kernel column never lands inside the input on this row.
                    } else if stride[1] == 1 {
                        let ix0 = (x0 as isize + xoff) as usize;
                        for (d, s) in dst[ix0..ix0 + (x1 - x0)].iter_mut().zip(&src[x0..x1]) {
                            *d = *d + *s;
                        }
                    } else {
                        for (xo, s) in src.iter().enumerate().take(x1).skip(x0) {
                            let ix = ((xo * stride[1]) as isize + xoff) as usize;
                            dst[ix] = dst[ix] + *s;
                        }
                    }
                }
            }
        }
    };

    if plane_len > 0 && l > 0 {
        #[cfg(feature = "rayon")]
        {
            use rayon::prelude::*;
            out.par_chunks_mut(plane_len).enumerate().for_each_init(
                || crate::ops::mask::uninit_vec::<T>(kk * l),
                |cols, (bi, dx)| image(&mut cols[..], bi, dx),
            );
        }
        #[cfg(not(feature = "rayon"))]
        {
            let mut cols = crate::ops::mask::uninit_vec::<T>(kk * l);
            for (bi, dx) in out.chunks_mut(plane_len).enumerate() {
                image(&mut cols, bi, dx);
            }
        }
    }

    FlexTensor::new(
        Bytes::from_elems(out),
        Layout::contiguous(Shape::from(vec![b, ci, h, w])),
        dtype,
    )
}
