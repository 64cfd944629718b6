use super::transfer::{upload_f32, upload_i64};
use crate::data::Split;
use burn::prelude::*;

/// A split uploaded once to the device: pixels in [0, 1] and labels. Batches are gathered by
/// index on the device, so only the indices cross from host to device each step.
#[derive(Debug, Clone)]
pub struct DeviceData {
    pub images: Tensor<4>,
    pub labels: Tensor<1, Int>,
    pub host_labels: Vec<u8>,
}

impl DeviceData {
    pub fn upload(split: &Split, device: &Device) -> DeviceData {
        let px: Vec<f32> = split.images.iter().map(|&p| p as f32 / 255.0).collect();
        let images = upload_f32(
            px,
            [split.len(), split.channels, split.height, split.width],
            device,
        );
        let lab: Vec<i64> = split.labels.iter().map(|&l| l as i64).collect();
        let labels = upload_i64(lab, [split.len()], device);
        DeviceData {
            images,
            labels,
            host_labels: split.labels.clone(),
        }
    }

    pub fn len(&self) -> usize {
        self.host_labels.len()
    }

    pub fn is_empty(&self) -> bool {
        self.host_labels.is_empty()
    }

    /// Images and labels at `idx` (one upload: the indices).
    pub fn gather(&self, idx: &[u32]) -> (Tensor<4>, Tensor<1, Int>) {
        let device = self.images.device();
        let ix: Vec<i64> = idx.iter().map(|&i| i as i64).collect();
        self.gather_on(upload_i64(ix, [idx.len()], &device))
    }

    /// Images and labels at indices already on the device.
    pub fn gather_on(&self, ix: Tensor<1, Int>) -> (Tensor<4>, Tensor<1, Int>) {
        (
            self.images.clone().select(0, ix.clone()),
            self.labels.clone().select(0, ix),
        )
    }

    /// A contiguous range (evaluation).
    pub fn range(&self, start: usize, end: usize) -> (Tensor<4>, Tensor<1, Int>) {
        (
            self.images.clone().slice(s![start..end]),
            self.labels.clone().slice(s![start..end]),
        )
    }
}
