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
        let c = self.mean.len();
        let device = x.device();
        let mean = Tensor::<1>::from_floats(self.mean.as_slice(), &device).reshape([1, c, 1, 1]);
        let inv: Vec<f32> = self.std.iter().map(|s| 1.0 / s).collect();
        let inv = Tensor::<1>::from_floats(inv.as_slice(), &device).reshape([1, c, 1, 1]);
        (x - mean) * inv
    }
}
