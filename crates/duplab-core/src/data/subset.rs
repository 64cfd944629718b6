//! How the embedded default was cut: the first `per_class` images of each class, in file order,
//! from the official Fashion-MNIST files, written back as gzip'd IDX. `duplab data make-subset`
//! runs exactly this; a test checks the embedded files equal a fresh cut from the real data.

use super::Split;
use flate2::{Compression, write::GzEncoder};
use std::io::Write;
use std::path::Path;

pub fn balanced_subset(split: &Split, num_classes: usize, per_class: usize) -> Split {
    let mut taken = vec![0usize; num_classes];
    let mut out = Split {
        images: vec![],
        labels: vec![],
        channels: split.channels,
        height: split.height,
        width: split.width,
    };
    for i in 0..split.len() {
        let c = split.labels[i] as usize;
        if taken[c] < per_class {
            taken[c] += 1;
            out.images.extend_from_slice(split.image(i));
            out.labels.push(split.labels[i]);
        }
    }
    out
}

/// Write a split as `{prefix}-images-idx3-ubyte.gz` and `{prefix}-labels-idx1-ubyte.gz`.
/// gzip with a zero mtime, so the bytes are reproducible.
pub fn write_idx_gz(split: &Split, dir: &Path, prefix: &str) -> std::io::Result<()> {
    assert_eq!(split.channels, 1, "IDX files here hold grey images");
    let mut img = vec![0, 0, 8, 3];
    for x in [split.len(), split.height, split.width] {
        img.extend_from_slice(&(x as u32).to_be_bytes());
    }
    img.extend_from_slice(&split.images);
    let mut lab = vec![0, 0, 8, 1];
    lab.extend_from_slice(&(split.len() as u32).to_be_bytes());
    lab.extend_from_slice(&split.labels);
    for (name, bytes) in [
        (format!("{prefix}-images-idx3-ubyte.gz"), img),
        (format!("{prefix}-labels-idx1-ubyte.gz"), lab),
    ] {
        let mut enc = GzEncoder::new(vec![], Compression::best());
        enc.write_all(&bytes)?;
        std::fs::write(dir.join(name), enc.finish()?)?;
    }
    Ok(())
}
