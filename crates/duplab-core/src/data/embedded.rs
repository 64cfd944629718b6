//! The default data set, compiled into the binary: a class-balanced subset of Fashion-MNIST
//! (1,000 train and 200 test images per class). MIT, © 2017 Zalando SE; see data/README.md.

use super::idx::{parse_idx_images, parse_idx_labels};
use super::{DataSet, FASHION_CLASSES, Split};
use flate2::read::GzDecoder;
use std::io::Read;
use std::path::Path;

pub const TRAIN_PER_CLASS: usize = 1000;
pub const TEST_PER_CLASS: usize = 200;

const TRAIN_IMAGES: &[u8] =
    include_bytes!("../../../../data/fashion-mnist-mini/train-images-idx3-ubyte.gz");
const TRAIN_LABELS: &[u8] =
    include_bytes!("../../../../data/fashion-mnist-mini/train-labels-idx1-ubyte.gz");
const TEST_IMAGES: &[u8] =
    include_bytes!("../../../../data/fashion-mnist-mini/t10k-images-idx3-ubyte.gz");
const TEST_LABELS: &[u8] =
    include_bytes!("../../../../data/fashion-mnist-mini/t10k-labels-idx1-ubyte.gz");

fn gunzip(b: &[u8]) -> Vec<u8> {
    let mut out = vec![];
    GzDecoder::new(b)
        .read_to_end(&mut out)
        .expect("embedded data is valid gzip (checked by tests)");
    out
}

fn split(images: &[u8], labels: &[u8], what: &str) -> Split {
    let p = Path::new(what);
    let (images, _, h, w) =
        parse_idx_images(&gunzip(images), p).expect("embedded images are valid IDX");
    let labels = parse_idx_labels(&gunzip(labels), p, 10).expect("embedded labels are valid IDX");
    Split {
        images,
        labels,
        channels: 1,
        height: h,
        width: w,
    }
}

pub fn load_embedded() -> DataSet {
    DataSet {
        name: "embedded".into(),
        source: "embedded (Fashion-MNIST subset, 1,000 train + 200 test per class)".into(),
        train: split(TRAIN_IMAGES, TRAIN_LABELS, "<embedded>/train"),
        test: split(TEST_IMAGES, TEST_LABELS, "<embedded>/t10k"),
        class_names: FASHION_CLASSES.iter().map(|s| s.to_string()).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_is_class_balanced() {
        let d = load_embedded();
        assert_eq!(d.train.class_counts(10), vec![TRAIN_PER_CLASS; 10]);
        assert_eq!(d.test.class_counts(10), vec![TEST_PER_CLASS; 10]);
        assert_eq!(
            (d.train.height, d.train.width, d.train.channels),
            (28, 28, 1)
        );
    }

    #[test]
    fn embedded_equals_a_fresh_cut_of_the_real_files() {
        let Some(dir) = crate::shared_data("fashion-mnist") else {
            return;
        };
        let (train, test) = crate::data::read_mnist_like(&dir, 10).unwrap();
        let d = load_embedded();
        assert_eq!(
            crate::data::balanced_subset(&train, 10, TRAIN_PER_CLASS),
            d.train
        );
        assert_eq!(
            crate::data::balanced_subset(&test, 10, TEST_PER_CLASS),
            d.test
        );
        // data.train_per_class makes the same cut, and keeps the rest as the fresh reserve.
        let full = crate::data::DataSet {
            name: "fashion-mnist".into(),
            source: dir.display().to_string(),
            train,
            test,
            class_names: d.class_names.clone(),
        };
        let (cut, reserve) = crate::data::cut_train(full, TRAIN_PER_CLASS).unwrap();
        assert_eq!(cut.train, d.train);
        assert_eq!(reserve.class_counts(10), vec![6_000 - TRAIN_PER_CLASS; 10]);
    }

    #[test]
    fn a_cut_larger_than_a_class_names_the_class() {
        let e = crate::data::cut_train(load_embedded(), TRAIN_PER_CLASS + 1).unwrap_err();
        assert!(
            e.contains("class 0 (T-shirt/top) has only 1000 training images"),
            "{e}"
        );
    }
}
