//! 2D convolution forward as one matrix product per image over column-major im2col columns.
//!
//! Y[b, g·Co + co, y, x] = Σ_(c, i, j) W[g·Co + co, c, i, j] · X[b, g·Ci + c, y·s + i·d − p, x·s + j·d − p]
//! (+ bias). flex's general path (`conv3d_impl`) first copies the whole batch to NHWC on one
//! thread, builds im2col tiles as [positions, Ci·Kh·Kw] and hands them to a GEMM that packs them
//! transposed (strided reads), then scatters the result back to NCHW. Here each image gets its
//! columns built straight from NCHW — rows (c, i, j), columns the output positions, contiguous
//! copies along x for stride 1 — and one GEMM per group writes the image's output rows in place:
//! W [Co, Ci·Kh·Kw] is used as stored, the columns are packed along their rows. Images run in
//! parallel and each output is one GEMM sum, so the result does not depend on the number of
//! threads. Same sums as the general path in another order: equal to rounding.

use alloc::vec;
use burn_backend::DType;
use burn_backend::ops::ConvOptions;
use burn_backend::ops::conv::calculate_conv_output_size;
use burn_std::{Bytes, Shape};

use crate::ops::conv_weight_grad::GradScalar;
use crate::{FlexTensor, Layout};

/// Element types with a column-GEMM forward convolution: f32 and f64 (f16 keeps the general path).
pub trait ColsConv: Sized {
    /// The convolution of a 2D-in-3D input (depth 1, kernel depth 1), or `None` to use the
    /// general path.
    fn conv2d_cols(
        _x: &FlexTensor,
        _weight: &FlexTensor,
        _bias: Option<&FlexTensor>,
        _options: &ConvOptions<3>,
        _dtype: DType,
    ) -> Option<FlexTensor> {
        None
    }
}

impl ColsConv for burn_std::f16 {}

impl ColsConv for f32 {
    fn conv2d_cols(
        x: &FlexTensor,
        weight: &FlexTensor,
        bias: Option<&FlexTensor>,
        options: &ConvOptions<3>,
        dtype: DType,
    ) -> Option<FlexTensor> {
        conv2d_cols::<f32>(x, weight, bias, options, dtype)
    }
}

impl ColsConv for f64 {
    fn conv2d_cols(
        x: &FlexTensor,
        weight: &FlexTensor,
        bias: Option<&FlexTensor>,
        options: &ConvOptions<3>,
        dtype: DType,
    ) -> Option<FlexTensor> {
        conv2d_cols::<f64>(x, weight, bias, options, dtype)
    }
}

/// Where kernel row or column `k` lands along an axis of `size` inputs: the first and one past
/// the last of `n_out` output positions whose input index o·s + k·d − p lies inside, and the
/// index's offset k·d − p.
pub(crate) fn span(
    k: usize,
    s: usize,
    d: usize,
    p: usize,
    size: usize,
    n_out: usize,
) -> (usize, usize, isize) {
    let off = (k * d) as isize - p as isize;
    let lo = if off >= 0 {
        0
    } else {
        ((-off) as usize).div_ceil(s)
    };
    let room = size as isize - off;
    let hi = if room > 0 {
        (room as usize).div_ceil(s).min(n_out)
    } else {
        0
    };
    (lo.min(hi), hi, off)
}

/// One image's part of an im2col row: for kernel tap (i, j) of one input `plane` (width `w`),
/// the input pixel under it at each of the `dst.len() / wo` × `wo` output positions, 0 where it
/// falls in the padding. `ys` and `xs` are the tap's spans (`span`) along each axis.
pub(crate) fn column_row<T: Copy + GradScalar>(
    dst: &mut [T],
    plane: &[T],
    w: usize,
    wo: usize,
    s: [usize; 2],
    (y0, y1, yoff): (usize, usize, isize),
    (x0, x1, xoff): (usize, usize, isize),
) {
    dst[..y0 * wo].fill(T::ZERO);
    dst[y1 * wo..].fill(T::ZERO);
    for y in y0..y1 {
        let iy = ((y * s[0]) as isize + yoff) as usize;
        let src = &plane[iy * w..][..w];
        let out = &mut dst[y * wo..][..wo];
        out[..x0].fill(T::ZERO);
        out[x1..].fill(T::ZERO);
        if x1 == x0 {
            // This kernel column never lands inside the input on this row.
        } else if s[1] == 1 {
            let ix0 = (x0 as isize + xoff) as usize;
            out[x0..x1].copy_from_slice(&src[ix0..ix0 + (x1 - x0)]);
        } else {
            for (xo, v) in out.iter_mut().enumerate().take(x1).skip(x0) {
                *v = src[((xo * s[1]) as isize + xoff) as usize];
            }
        }
    }
}

fn conv2d_cols<T: burn_backend::Element + GradScalar>(
    x: &FlexTensor,
    weight: &FlexTensor,
    bias: Option<&FlexTensor>,
    options: &ConvOptions<3>,
    dtype: DType,
) -> Option<FlexTensor> {
    let xs = x.layout().shape();
    let ws = weight.layout().shape();
    let pad = options.padding_begin();
    if xs[2] != 1 || ws[2] != 1 || options.stride[0] != 1 || pad[0] != 0 || options.dilation[0] != 1
    {
        return None;
    }
    let x = x.to_contiguous();
    let weight = weight.to_contiguous();
    let bias = bias.map(|b| b.to_contiguous());
    let (b, ci, h, w) = (xs[0], xs[1], xs[3], xs[4]);
    let (co, ci_g, kh, kw) = (ws[0], ws[1], ws[3], ws[4]);
    let (s, d, p) = (
        [options.stride[1], options.stride[2]],
        [options.dilation[1], options.dilation[2]],
        [pad[1], pad[2]],
    );
    let ho = calculate_conv_output_size(kh, s[0], p[0], d[0], h);
    let wo = calculate_conv_output_size(kw, s[1], p[1], d[1], w);
    let groups = options.groups.max(1);
    let co_g = co / groups;
    let l = ho * wo;
    let kk = ci_g * kh * kw;
    let x_data: &[T] = x.storage();
    let w_data: &[T] = weight.storage();
    let bias_data: Option<&[T]> = bias.as_ref().map(|b| b.storage());
    // Every element is written by the GEMM below (it does not read `dst`), so the buffer is not
    // zeroed first: that memset was ~1 % of a small CNN's training step.
    let mut out = crate::ops::mask::uninit_vec::<T>(b * co * l);

    // `cols` is scratch that `column_row` overwrites whole for every image, so one buffer serves
    // all the images a worker takes (allocated and zeroed once per rayon job, not per image).
    let image = |cols: &mut [T], bi: usize, y_img: &mut [T]| {
        for g in 0..groups {
            // Columns: row r = (c, i, j) holds, for each output position, the input pixel that
            // weight (c, i, j) multiplies there (0 in the padding).
            for r in 0..kk {
                let (c, i, j) = (g * ci_g + r / (kh * kw), (r / kw) % kh, r % kw);
                let plane = &x_data[(bi * ci + c) * h * w..][..h * w];
                let ys = span(i, s[0], d[0], p[0], h, ho);
                let xs = span(j, s[1], d[1], p[1], w, wo);
                column_row(&mut cols[r * l..][..l], plane, w, wo, s, ys, xs);
            }
            // Y_g [Co × l] = W_g [Co × kk] × cols [kk × l], written in place.
            let y_g = &mut y_img[g * co_g * l..][..co_g * l];
            unsafe {
                gemm::gemm(
                    co_g,
                    l,
                    kk,
                    y_g.as_mut_ptr(),
                    1,
                    l as isize,
                    false,
                    w_data[g * co_g * kk..].as_ptr(),
                    1,
                    kk as isize,
                    cols.as_ptr(),
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
            if let Some(bias) = bias_data {
                for (oc, row) in y_g.chunks_mut(l).enumerate() {
                    let v = bias[g * co_g + oc];
                    for y in row {
                        *y = *y + v;
                    }
                }
            }
        }
    };

    if co * l > 0 {
        #[cfg(feature = "rayon")]
        {
            use rayon::prelude::*;
            out.par_chunks_mut(co * l).enumerate().for_each_init(
                || vec![T::ZERO; kk * l],
                |cols, (bi, y_img)| image(&mut cols[..], bi, y_img),
            );
        }
        #[cfg(not(feature = "rayon"))]
        {
            let mut cols = vec![T::ZERO; kk * l];
            for (bi, y_img) in out.chunks_mut(co * l).enumerate() {
                image(&mut cols, bi, y_img);
            }
        }
    }

    Some(FlexTensor::new(
        Bytes::from_elems(out),
        Layout::contiguous(Shape::from(vec![b, co, 1, ho, wo])),
        dtype,
    ))
}
