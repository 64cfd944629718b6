use burn::prelude::*;

/// (x − mean) / std per channel. Not trainable, not recorded: it is a property of the data set,
/// kept in the run's config.
#[derive(Module, Debug)]
pub struct Normalize {
    #[module(skip)]
    pub mean: Vec<f32>,
    #[module(skip)]
    pub std: Vec<f32>,
}

impl Normalize {
    pub fn new(mean: &[f32], std: &[f32]) -> Normalize {
        Normalize {
            mean: mean.to_vec(),
            std: std.to_vec(),
        }
    }

    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        if self.mean.len() == 1 {
            // One channel: two scalar ops, no extra tensors.
            return x.sub_scalar(self.mean[0]).div_scalar(self.std[0]);
        }
        // Several channels: the constants are filled on the device (no host data crosses on
        // each forward pass: an attack makes ten of them a step), then broadcast.
        let c = self.mean.len();
        let device = x.device();
        let column = |v: &dyn Fn(usize) -> f32| {
            Tensor::cat(
                (0..c)
                    .map(|k| Tensor::<4>::full([1, 1, 1, 1], v(k), &device))
                    .collect(),
                1,
            )
        };
        let mean = column(&|k| self.mean[k]);
        let inv = column(&|k| 1.0 / self.std[k]);
        (x - mean) * inv
    }
}
