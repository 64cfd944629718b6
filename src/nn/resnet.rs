//! PreAct-ResNet-18 (He et al. 2016, identity mappings) for 32×32 colour images, as used in
//! adversarial-training work (Wong et al. 2020; Rice et al. 2020).

use super::{InputShape, Normalize};
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::{BatchNorm, BatchNormConfig, Linear, LinearConfig, PaddingConfig2d};
use burn::prelude::*;
use burn::tensor::activation::relu;

fn conv3(i: usize, o: usize, stride: usize, device: &Device) -> Conv2d {
    Conv2dConfig::new([i, o], [3, 3])
        .with_stride([stride, stride])
        .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
        .with_bias(false)
        .init(device)
}

#[derive(Module, Debug)]
pub struct PreActBlock {
    bn1: BatchNorm,
    conv1: Conv2d,
    bn2: BatchNorm,
    conv2: Conv2d,
    shortcut: Option<Conv2d>,
}

impl PreActBlock {
    fn new(i: usize, o: usize, stride: usize, device: &Device) -> PreActBlock {
        PreActBlock {
            bn1: BatchNormConfig::new(i).init(device),
            conv1: conv3(i, o, stride, device),
            bn2: BatchNormConfig::new(o).init(device),
            conv2: conv3(o, o, 1, device),
            shortcut: (stride != 1 || i != o).then(|| {
                Conv2dConfig::new([i, o], [1, 1])
                    .with_stride([stride, stride])
                    .with_bias(false)
                    .init(device)
            }),
        }
    }

    fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let out = relu(self.bn1.forward(x.clone()));
        let short = match &self.shortcut {
            Some(s) => s.forward(out.clone()),
            None => x,
        };
        let out = self.conv1.forward(out);
        let out = self.conv2.forward(relu(self.bn2.forward(out)));
        out + short
    }
}

#[derive(Module, Debug)]
pub struct PreActResNet18 {
    norm: Normalize,
    conv1: Conv2d,
    blocks: Vec<PreActBlock>,
    bn: BatchNorm,
    fc: Linear,
}

impl PreActResNet18 {
    pub fn new(input: &InputShape, device: &Device) -> Result<PreActResNet18, super::ShapeError> {
        if (input.channels, input.height, input.width) != (3, 32, 32) {
            return Err(super::ShapeError(format!(
                "PreAct-ResNet-18 is built for 32×32 colour images (CIFAR-10), not {}×{}×{}",
                input.channels, input.height, input.width
            )));
        }
        let mut blocks = vec![];
        let mut i = 64;
        for (o, stride) in [(64, 1), (128, 2), (256, 2), (512, 2)] {
            blocks.push(PreActBlock::new(i, o, stride, device));
            blocks.push(PreActBlock::new(o, o, 1, device));
            i = o;
        }
        Ok(PreActResNet18 {
            norm: Normalize::new(&input.mean, &input.std),
            conv1: conv3(3, 64, 1, device),
            blocks,
            bn: BatchNormConfig::new(512).init(device),
            fc: LinearConfig::new(512, input.classes).init(device),
        })
    }

    pub fn forward(&self, x: Tensor<4>) -> Tensor<2> {
        let mut x = self.conv1.forward(self.norm.forward(x));
        for b in &self.blocks {
            x = b.forward(x);
        }
        let x = relu(self.bn.forward(x));
        let [n, c, _, _] = x.dims();
        // 4×4 average pool to 1×1.
        let x = x.mean_dim(3).mean_dim(2).reshape([n, c]);
        self.fc.forward(x)
    }
}
