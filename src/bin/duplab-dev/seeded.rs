//! Seeded inputs for the op-level benchmarks: the project's rule is that nothing here draws from
//! burn's process-wide generator, so each benchmark's inputs are the same in every run.

use burn::prelude::*;

/// `n` values in [-scale/2, scale/2) from an xorshift generator seeded with `seed`.
pub fn values(n: usize, seed: u64, scale: f32) -> Vec<f32> {
    let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..n)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            ((s >> 40) as f32 / (1u64 << 24) as f32 - 0.5) * scale
        })
        .collect()
}

/// A tensor's data of `shape` filled by `values`.
pub fn data(shape: &[usize], seed: u64, scale: f32) -> TensorData {
    TensorData::new(values(shape.iter().product(), seed, scale), shape.to_vec())
}
