//! LeNet-5 class CNN: conv 6 5×5 → pool → conv 16 5×5 → pool → 120 → 84 → classes.
//! 28×28 inputs get padding 2 on the first conv so both 28×28 and 32×32 reach 16×5×5.

use super::{InputShape, Normalize};
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::pool::{MaxPool2d, MaxPool2dConfig};
use burn::nn::{Linear, LinearConfig, PaddingConfig2d};
use burn::prelude::*;
use burn::tensor::activation::relu;

#[derive(Module, Debug)]
pub struct Lenet {
    norm: Normalize,
    conv1: Conv2d,
    conv2: Conv2d,
    pool: MaxPool2d,
    fc1: Linear,
    fc2: Linear,
    fc3: Linear,
}

impl Lenet {
    pub fn new(input: &InputShape, device: &Device) -> Result<Lenet, super::ShapeError> {
        let pad = match (input.height, input.width) {
            (28, 28) => 2,
            (32, 32) => 0,
            (h, w) => {
                return Err(super::ShapeError(format!(
                    "LeNet takes 28×28 or 32×32 images, not {h}×{w}"
                )));
            }
        };
        Ok(Lenet {
            norm: Normalize::new(&input.mean, &input.std),
            conv1: Conv2dConfig::new([input.channels, 6], [5, 5])
                .with_padding(PaddingConfig2d::Explicit(pad, pad, pad, pad))
                .init(device),
            conv2: Conv2dConfig::new([6, 16], [5, 5]).init(device),
            pool: MaxPool2dConfig::new([2, 2]).with_strides([2, 2]).init(),
            fc1: LinearConfig::new(16 * 5 * 5, 120).init(device),
            fc2: LinearConfig::new(120, 84).init(device),
            fc3: LinearConfig::new(84, input.classes).init(device),
        })
    }

    pub fn forward(&self, x: Tensor<4>) -> Tensor<2> {
        let x = self.norm.forward(x);
        // Pool, then ReLU: the same values and gradients as ReLU then pool (max and ReLU commute,
        // and a window whose maximum is ≤ 0 passes no gradient either way), with the ReLU and
        // its backward mask on a quarter of the elements.
        let x = relu(self.pool.forward(self.conv1.forward(x)));
        let x = relu(self.pool.forward(self.conv2.forward(x)));
        let x = x.flatten::<2>(1, 3);
        let x = relu(self.fc1.forward(x));
        let x = relu(self.fc2.forward(x));
        self.fc3.forward(x)
    }
}
