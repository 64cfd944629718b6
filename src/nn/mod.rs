//! Models. Inputs are pixels in [0, 1], N×C×H×W; each model normalises with the data set's
//! per-channel mean and std inside `forward`, so attacks work in pixel space.

mod cnn;
/// The patched convolution kernels against reference sums; the tests live beside the patch
/// they test (vendor/burn-flex-0.22.1.patch).
#[cfg(test)]
#[path = "../../vendor/kernel-tests/conv_grad.rs"]
mod conv_grad_tests;
mod lenet;
mod normalize;
/// The patched max-pool kernels against the general one and a reference (beside the patch too).
#[cfg(test)]
#[path = "../../vendor/kernel-tests/pool.rs"]
mod pool_kernel_tests;
mod resnet;

pub use cnn::{Cnn, CnnWidth};
pub use lenet::Lenet;
pub use normalize::Normalize;
pub use resnet::PreActResNet18;

use crate::spec::ModelKind;
use burn::prelude::*;

/// The input a model is built for.
#[derive(Debug, Clone, PartialEq)]
pub struct InputShape {
    pub channels: usize,
    pub height: usize,
    pub width: usize,
    pub classes: usize,
    pub mean: Vec<f32>,
    pub std: Vec<f32>,
}

impl InputShape {
    /// The shape of a data set's images, normalised with its train split's statistics.
    pub fn of(ds: &crate::data::DataSet) -> InputShape {
        let (mean, std) = ds.channel_stats();
        InputShape {
            channels: ds.train.channels,
            height: ds.train.height,
            width: ds.train.width,
            classes: ds.num_classes(),
            mean,
            std,
        }
    }

    /// 28×28 grey, 10 classes, with given statistics (tests, parameter counts).
    pub fn grey28(mean: f32, std: f32) -> InputShape {
        InputShape {
            channels: 1,
            height: 28,
            width: 28,
            classes: 10,
            mean: vec![mean],
            std: vec![std],
        }
    }
}

/// A model that cannot be built for an input shape (which shapes it takes, and which it got).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{0}")]
pub struct ShapeError(pub String);

/// Every model of the lab, as one module type so the trainer is written once.
#[derive(Module, Debug)]
pub enum Net {
    SmallCnn(Cnn),
    WideCnn(Cnn),
    Lenet(Lenet),
    PreActResNet18(PreActResNet18),
}

impl Net {
    pub fn new(kind: ModelKind, input: &InputShape, device: &Device) -> Result<Net, ShapeError> {
        Ok(match kind {
            ModelKind::SmallCnn => Net::SmallCnn(Cnn::new(CnnWidth::Small, input, device)),
            ModelKind::WideCnn => Net::WideCnn(Cnn::new(CnnWidth::Wide, input, device)),
            ModelKind::Lenet => Net::Lenet(Lenet::new(input, device)?),
            ModelKind::PreactResnet18 => Net::PreActResNet18(PreActResNet18::new(input, device)?),
        })
    }

    /// Logits, N×classes.
    pub fn forward(&self, x: Tensor<4>) -> Tensor<2> {
        match self {
            Net::SmallCnn(m) | Net::WideCnn(m) => m.forward(x),
            Net::Lenet(m) => m.forward(x),
            Net::PreActResNet18(m) => m.forward(x),
        }
    }
}

/// Parameter count of a model for an input shape, without training anything.
pub fn param_count(kind: ModelKind, input: &InputShape) -> Result<usize, ShapeError> {
    let device = crate::backend::cpu_device();
    Ok(Net::new(kind, input, &device)?.num_params())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grey28() -> InputShape {
        InputShape::grey28(0.5, 0.25)
    }
    fn rgb32() -> InputShape {
        InputShape {
            channels: 3,
            height: 32,
            width: 32,
            classes: 10,
            mean: vec![0.5; 3],
            std: vec![0.25; 3],
        }
    }

    #[test]
    fn parameter_counts_match_the_architectures() {
        let _serial = crate::burn_serial(); // initialisation draws from burn\'s generator
        // small CNN on 28×28: conv 1→16 (160) + conv 16→32 (4,640) + fc 1568→128 (200,832) + fc 128→10 (1,290)
        assert_eq!(
            param_count(ModelKind::SmallCnn, &grey28()).unwrap(),
            206_922
        );
        // wide CNN: conv 1→32 (320) + 32→64 (18,496) + fc 3136→256 (803,072) + 256→10 (2,570)
        assert_eq!(param_count(ModelKind::WideCnn, &grey28()).unwrap(), 824_458);
        // LeNet-5: 156 + 2,416 + 48,120 + 10,164 + 850
        assert_eq!(param_count(ModelKind::Lenet, &grey28()).unwrap(), 61_706);
        // PreAct-ResNet-18 on CIFAR-10 with the final BN (Wong et al. 2020): 11,172,170 trainable
        // (kuangliu's 11,171,146 + 1,024 for the final BN), plus 7,808 batch-norm running
        // statistics, which burn's `num_params` counts too.
        assert_eq!(
            param_count(ModelKind::PreactResnet18, &rgb32()).unwrap(),
            11_172_170 + 7_808
        );
    }

    #[test]
    fn every_model_maps_a_batch_to_logits() {
        let _serial = crate::burn_serial(); // initialisation draws from burn\'s generator
        let device = crate::backend::cpu_device();
        for (kind, shape) in [
            (ModelKind::SmallCnn, grey28()),
            (ModelKind::WideCnn, rgb32()),
            (ModelKind::Lenet, grey28()),
            (ModelKind::Lenet, rgb32()),
        ] {
            let net = Net::new(kind, &shape, &device).unwrap();
            let x = Tensor::<4>::zeros([2, shape.channels, shape.height, shape.width], &device);
            assert_eq!(net.forward(x).dims(), [2, 10], "{kind:?}");
        }
    }

    #[test]
    fn resnet_rejects_grey_input_with_a_message() {
        let _serial = crate::burn_serial(); // initialisation draws from burn\'s generator
        let device = crate::backend::cpu_device();
        let e = Net::new(ModelKind::PreactResnet18, &grey28(), &device).unwrap_err();
        assert!(e.to_string().contains("32×32"), "{e}");
    }
}
