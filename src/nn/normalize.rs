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
        // Several channels: per-channel scalar ops on slices, so no constant crosses from the
        // host on every forward pass (an attack makes ten of them a step).
        let [b, c, h, w] = x.dims();
        let channels: Vec<Tensor<4>> = (0..c)
            .map(|k| {
                x.clone()
                    .slice(s![0..b, k..k + 1, 0..h, 0..w])
                    .sub_scalar(self.mean[k])
                    .div_scalar(self.std[k])
            })
            .collect();
        Tensor::cat(channels, 1)
    }
}
