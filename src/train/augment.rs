//! Augmentation of a training batch on the device: each image shifted by its own offset (the
//! random crop of a zero-padded image back to its size) and mirrored or not. The offsets and
//! flips come from the run's own generator, derived from (seed, "augment", step) on the host, so
//! a resumed run sees exactly the inputs an uninterrupted one does; on the device the batch is
//! padded once and read through two gathers (rows, then columns), no pixel leaves the device.

use crate::data::rng::Rng;
use crate::spec::AugmentSpec;
use burn::prelude::*;
use burn::tensor::ops::PadMode;

/// One batch's draws: the shift (dy, dx) in −crop…+crop and the flip of each image.
#[derive(Debug, Clone, PartialEq)]
pub struct Draws {
    pub dy: Vec<i64>,
    pub dx: Vec<i64>,
    pub flip: Vec<bool>,
}

/// The draws of step `step` for a batch of `n` images.
pub fn draws(spec: &AugmentSpec, seed: u64, step: usize, n: usize) -> Draws {
    let mut r = Rng::derive(seed, "augment", step as u64);
    let p = spec.crop as i64;
    let mut d = Draws {
        dy: Vec::with_capacity(n),
        dx: Vec::with_capacity(n),
        flip: Vec::with_capacity(n),
    };
    for _ in 0..n {
        d.dy.push(r.below(2 * p as u64 + 1) as i64 - p);
        d.dx.push(r.below(2 * p as u64 + 1) as i64 - p);
        d.flip.push(spec.flip && r.below(2) == 1);
    }
    d
}

/// The gather indices of `d` for a batch of `b` images of `h`×`w`: the rows (b·h) and columns
/// (b·w) each image is read at in the padded batch. They travel to the device in the step's one
/// upload, after the batch's indices (`Session::train_step`).
pub fn offsets(d: &Draws, b: usize, h: usize, w: usize, crop: usize) -> (Vec<i64>, Vec<i64>) {
    let p = crop as i64;
    let rows: Vec<i64> = (0..b)
        .flat_map(|i| (0..h as i64).map(move |y| y + p + d.dy[i]))
        .collect();
    let cols: Vec<i64> = (0..b)
        .flat_map(|i| {
            (0..w as i64).map(move |x| {
                let x = if d.flip[i] { w as i64 - 1 - x } else { x };
                x + p + d.dx[i]
            })
        })
        .collect();
    (rows, cols)
}

/// `x` [B, C, H, W] with image b read at (y + dy_b, x' + dx_b), x' = W − 1 − x when flipped:
/// zero where that falls outside the image. `rows` and `cols` are `offsets` on the device.
pub fn apply_on(
    x: Tensor<4>,
    rows: Tensor<1, Int>,
    cols: Tensor<1, Int>,
    crop: usize,
) -> Tensor<4> {
    let [b, c, h, w] = x.dims();
    let p = crop;
    let padded = if p > 0 {
        x.pad((p, p, p, p), PadMode::Constant(0.0))
    } else {
        x
    };
    let wp = w + 2 * p;
    let rows = rows.reshape([b, 1, h, 1]).expand([b, c, h, wp]);
    let cols = cols.reshape([b, 1, 1, w]).expand([b, c, h, w]);
    padded.gather(2, rows).gather(3, cols)
}

/// `apply_on` with its own upload of the offsets (tests; the trainer shares one upload).
#[cfg(test)]
pub fn apply(x: Tensor<4>, d: &Draws, crop: usize) -> Tensor<4> {
    let [b, _, h, w] = x.dims();
    let device = x.device();
    let (rows, cols) = offsets(d, b, h, w, crop);
    let rows = super::transfer::upload_i64(rows, [b * h], &device);
    let cols = super::transfer::upload_i64(cols, [b * w], &device);
    apply_on(x, rows, cols, crop)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two 1×3×3 images: the first shifted down-right by one (its top row and left column
    /// zero), the second mirrored and shifted up by one.
    #[test]
    fn shifts_and_flips_read_the_right_pixels_with_zero_fill() {
        let _serial = crate::burn_serial();
        let device = crate::backend::cpu_device();
        let img: Vec<f32> = (1..=9).map(|v| v as f32).collect();
        let data: Vec<f32> = img.iter().chain(img.iter()).copied().collect();
        let x = Tensor::<4>::from_data(TensorData::new(data, [2, 1, 3, 3]), &device);
        let d = Draws {
            dy: vec![-1, 1],
            dx: vec![-1, 0],
            flip: vec![false, true],
        };
        let out: Vec<f32> = apply(x, &d, 1).into_data().iter::<f32>().collect();
        // out(y, x) = img(y + dy, x + dx): dy = dx = −1 moves the image down-right.
        assert_eq!(&out[..9], &[0., 0., 0., 0., 1., 2., 0., 4., 5.]);
        // Mirrored rows (3 2 1 / 6 5 4 / 9 8 7), read one row lower: up by one, zero at the end.
        assert_eq!(&out[9..], &[6., 5., 4., 9., 8., 7., 0., 0., 0.]);
    }

    #[test]
    fn draws_are_a_function_of_seed_and_step_within_the_crop() {
        let spec = AugmentSpec {
            crop: 2,
            flip: true,
        };
        let a = draws(&spec, 7, 3, 500);
        assert_eq!(a, draws(&spec, 7, 3, 500));
        assert_ne!(a, draws(&spec, 7, 4, 500));
        assert!(a.dy.iter().chain(&a.dx).all(|v| (-2..=2).contains(v)));
        let flips = a.flip.iter().filter(|&&f| f).count();
        assert!((200..300).contains(&flips), "{flips}");
        let none = draws(
            &AugmentSpec {
                crop: 0,
                flip: false,
            },
            7,
            3,
            50,
        );
        assert!(none.dy.iter().chain(&none.dx).all(|&v| v == 0) && none.flip.iter().all(|f| !f));
    }
}
