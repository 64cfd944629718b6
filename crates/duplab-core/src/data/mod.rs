//! Data sets: readers for real formats, the embedded default, discovery of full sets on disk,
//! and duplication plans. Plain Rust; batching into tensors lives with the trainer.

mod bounded;
pub mod cache;
mod cifar;
mod dataset;
mod dedup;
mod discover;
mod dups;
mod embedded;
mod error;
mod folder;
mod fresh;
mod groups;
mod idx;
mod leakage;
mod membership;
mod pair_cache;
pub mod plan;
pub mod reference;
pub mod rng;
mod subset;

pub use bounded::{MAX_FILE_BYTES, read_capped, regular_file};
pub use cache::cache_dir;
pub use cifar::read_cifar10;
pub use dataset::{DataSet, Split, checksum};
pub use dedup::{Dedup, components, deduplicate, without};
pub use discover::{candidate_dirs, guess_kind, load, load_from_dir, load_spec};
#[cfg(any(test, feature = "dev"))]
pub use dups::gemm_brute_force;
pub use dups::{Pair, brute_force, find_pairs, rms};
pub use embedded::{TEST_PER_CLASS, TRAIN_PER_CLASS, load_embedded};
pub use error::{DataError, terminal_safe};
pub use folder::{FolderOptions, FolderReport, load_folder};
pub use fresh::make_plan_with;
pub use groups::{Groups, UNIQUE_SAMPLE, groups};
pub use idx::{read_idx_images, read_idx_labels, read_mnist_like};
pub use leakage::{Leakage, leaky_test_images, leaky_test_images_in};
pub use membership::{Membership, membership};
pub use pair_cache::{PairSet, pairs, pairs_in};
pub use plan::{Jitter, Plan, apply_jitter, make_plan};
pub use reference::{reference_members, shadowed};
pub use subset::{balanced_subset, cut_train, write_idx_gz};

pub const FASHION_CLASSES: [&str; 10] = [
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
];
pub const MNIST_CLASSES: [&str; 10] = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"];
pub const CIFAR10_CLASSES: [&str; 10] = [
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
];
