//! The reference study's two CNNs: 3×3 convs with padding 1, ReLU, 2×2 max-pool, twice; then a
//! hidden fully-connected layer with dropout 0.5. Small: 16 → 32 → 128. Wide: 32 → 64 → 256.

use super::{InputShape, Normalize};
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::pool::{MaxPool2d, MaxPool2dConfig};
use burn::nn::{Dropout, DropoutConfig, Linear, LinearConfig, PaddingConfig2d};
use burn::prelude::*;
use burn::tensor::activation::relu;

#[derive(Debug, Clone, Copy)]
pub enum CnnWidth {
    Small,
    Wide,
}

#[derive(Module, Debug)]
pub struct Cnn {
    norm: Normalize,
    conv1: Conv2d,
    conv2: Conv2d,
    pool: MaxPool2d,
    fc1: Linear,
    dropout: Dropout,
    fc2: Linear,
}

impl CnnWidth {
    /// Channels of the two convolutions and width of the hidden layer.
    pub const fn dims(self) -> (usize, usize, usize) {
        match self {
            CnnWidth::Small => (16, 32, 128),
            CnnWidth::Wide => (32, 64, 256),
        }
    }
}

impl Cnn {
    pub fn new(width: CnnWidth, input: &InputShape, device: &Device) -> Cnn {
        let (c1, c2, hidden) = width.dims();
        let conv = |i, o| {
            Conv2dConfig::new([i, o], [3, 3])
                .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
                .init(device)
        };
        let flat = c2 * (input.height / 4) * (input.width / 4);
        Cnn {
            norm: Normalize::new(&input.mean, &input.std),
            conv1: conv(input.channels, c1),
            conv2: conv(c1, c2),
            pool: MaxPool2dConfig::new([2, 2]).with_strides([2, 2]).init(),
            fc1: LinearConfig::new(flat, hidden).init(device),
            dropout: DropoutConfig::new(0.5).init(),
            fc2: LinearConfig::new(hidden, input.classes).init(device),
        }
    }

    pub fn forward(&self, x: Tensor<4>) -> Tensor<2> {
        let x = self.norm.forward(x);
        // Pool, then ReLU: the same values and gradients as ReLU then pool (max and ReLU commute,
        // and a window whose maximum is ≤ 0 passes no gradient either way), with the ReLU and
        // its backward mask on a quarter of the elements.
        let x = relu(self.pool.forward(self.conv1.forward(x)));
        let x = relu(self.pool.forward(self.conv2.forward(x)));
        let x = x.flatten::<2>(1, 3);
        let x = self.dropout.forward(relu(self.fc1.forward(x)));
        self.fc2.forward(x)
    }
}
