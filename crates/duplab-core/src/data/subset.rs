//! How the embedded default was cut: the first `per_class` images of each class, in file order,
//! from the official Fashion-MNIST files, written back as gzip'd IDX. `duplab data make-subset`
//! runs exactly this; a test checks the embedded files equal a fresh cut from the real data.
//! `data.train_per_class` makes the same cut at load time and keeps the rest as the reserve the
//! fresh-image control draws from.

use super::{DataSet, Split};
use flate2::{Compression, write::GzEncoder};
use std::io::Write;
use std::path::Path;

pub fn balanced_subset(split: &Split, num_classes: usize, per_class: usize) -> Split {
    cut(split, num_classes, per_class).0
}

/// The first `per_class` images of each class in file order, and every other image (in order).
fn cut(split: &Split, num_classes: usize, per_class: usize) -> (Split, Split) {
    let empty = || Split {
        images: vec![],
        labels: vec![],
        channels: split.channels,
        height: split.height,
        width: split.width,
    };
    let (mut kept, mut rest) = (empty(), empty());
    let mut taken = vec![0usize; num_classes];
    for i in 0..split.len() {
        let c = split.labels[i] as usize;
        let out = if taken[c] < per_class {
            taken[c] += 1;
            &mut kept
        } else {
            &mut rest
        };
        out.images.extend_from_slice(split.image(i));
        out.labels.push(split.labels[i]);
    }
    (kept, rest)
}

/// `data.train_per_class`: the data set with its training split cut to the first `per_class`
/// images of each class, and the reserve (the training images left out). A class with fewer
/// images is an error that names it.
pub fn cut_train(ds: DataSet, per_class: usize) -> Result<(DataSet, Split), String> {
    let classes = ds.num_classes();
    let mut count = vec![0usize; classes];
    for &l in &ds.train.labels {
        count[l as usize] += 1;
    }
    if let Some(c) = (0..classes).find(|&c| count[c] < per_class) {
        return Err(format!(
            "is {per_class}, but class {c} ({}) has only {} training images in {}; allowed: at most {}",
            ds.class_names[c],
            count[c],
            ds.source,
            count.iter().min().copied().unwrap_or(0)
        ));
    }
    let (train, reserve) = cut(&ds.train, classes, per_class);
    let source = format!("{} (first {per_class} training images a class)", ds.source);
    Ok((
        DataSet {
            train,
            source,
            ..ds
        },
        reserve,
    ))
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
