//! Where full data sets are found: `--data-dir`, `$DUPLAB_DATA`, the user data folder, and
//! Debian's `/usr/share/datasets/fashion-mnist` (package `dataset-fashion-mnist`).

use super::{
    CIFAR10_CLASSES, DataError, DataSet, FASHION_CLASSES, MNIST_CLASSES, load_embedded,
    read_cifar10, read_mnist_like,
};
use crate::spec::DataSetKind;
use std::path::{Path, PathBuf};

/// Folders searched for `kind`, in order. A folder counts if it holds the files itself or has a
/// sub-folder named after the set (`mnist/`, `fashion-mnist/`, `cifar-10-batches-bin/`).
pub fn candidate_dirs(kind: DataSetKind, data_dir: Option<&Path>) -> Vec<PathBuf> {
    let mut roots: Vec<PathBuf> = vec![];
    if let Some(d) = data_dir {
        roots.push(d.to_path_buf());
    }
    if let Ok(d) = std::env::var("DUPLAB_DATA") {
        roots.push(PathBuf::from(d));
    }
    if let Some(p) = directories::ProjectDirs::from("", "", "duplab") {
        roots.push(p.data_dir().to_path_buf());
    }
    roots.push(PathBuf::from("/usr/share/datasets"));
    let sub = match kind {
        DataSetKind::Mnist => vec!["mnist"],
        DataSetKind::FashionMnist => vec!["fashion-mnist"],
        DataSetKind::Cifar10 => vec!["cifar-10-batches-bin", "cifar10", "cifar-10"],
        DataSetKind::Embedded | DataSetKind::Folder => vec![],
    };
    let mut out = vec![];
    for r in roots {
        // Debian's root only ever holds sub-folders.
        if r != Path::new("/usr/share/datasets") {
            out.push(r.clone());
        }
        for s in &sub {
            out.push(r.join(s));
        }
    }
    out
}

fn looks_like(kind: DataSetKind, dir: &Path) -> bool {
    match kind {
        DataSetKind::Cifar10 => dir.join("data_batch_1.bin").exists(),
        _ => ["train-images-idx3-ubyte.gz", "train-images-idx3-ubyte"]
            .iter()
            .any(|f| dir.join(f).exists()),
    }
}

/// Load a data set from one folder that holds its files.
/// Guess what a folder holds: CIFAR-10 by its batch files, an image folder by its `train/` and
/// `test/` folders, Fashion-MNIST by its name, else MNIST.
pub fn guess_kind(dir: &Path) -> DataSetKind {
    if dir.join("data_batch_1.bin").exists() {
        DataSetKind::Cifar10
    } else if dir.join("train").is_dir() && dir.join("test").is_dir() {
        DataSetKind::Folder
    } else if dir.to_string_lossy().to_lowercase().contains("fashion") {
        DataSetKind::FashionMnist
    } else {
        DataSetKind::Mnist
    }
}

pub fn load_from_dir(kind: DataSetKind, dir: &Path) -> Result<DataSet, DataError> {
    let (train, test, names): (_, _, &[&str]) = match kind {
        DataSetKind::Cifar10 => {
            let (a, b) = read_cifar10(dir)?;
            (a, b, &CIFAR10_CLASSES)
        }
        DataSetKind::Folder => {
            let (ds, _) = super::load_folder(
                &super::FolderOptions {
                    root: dir.to_path_buf(),
                    size: None,
                    channels: None,
                    split: 0.2,
                    seed: 0,
                    skip_bad: false,
                },
                super::cache_dir().as_deref(),
                &|_, _| {},
            )?;
            return Ok(ds);
        }
        DataSetKind::Mnist | DataSetKind::FashionMnist | DataSetKind::Embedded => {
            let (a, b) = read_mnist_like(dir, 10)?;
            let names: &[&str] = if kind == DataSetKind::Mnist {
                &MNIST_CLASSES
            } else {
                &FASHION_CLASSES
            };
            (a, b, names)
        }
    };
    Ok(DataSet {
        name: kind.name().to_string(),
        source: dir.display().to_string(),
        train,
        test,
        class_names: names.iter().map(|s| s.to_string()).collect(),
    })
}

/// Load a preset's data set: an image folder (through its cache; `progress(done, total)` follows
/// the decoding) or a named set. Also returns the image files skipped as unreadable
/// (`data.bad_images = "skip"`), for the caller to report where it reports things.
pub fn load_spec(
    spec: &crate::spec::DataSpec,
    data_dir: Option<&Path>,
    progress: &(dyn Fn(usize, usize) + Sync),
) -> Result<(DataSet, Vec<String>), DataError> {
    match super::FolderOptions::from_spec(spec, 0) {
        Some(o) => {
            let (ds, report) = super::load_folder(&o, super::cache_dir().as_deref(), progress)?;
            Ok((ds, report.skipped))
        }
        None => Ok((load(spec.set, data_dir)?, vec![])),
    }
}

/// Load `kind`, searching the candidate folders; the embedded set needs no files.
pub fn load(kind: DataSetKind, data_dir: Option<&Path>) -> Result<DataSet, DataError> {
    if kind == DataSetKind::Folder {
        return match data_dir {
            Some(d) => load_from_dir(kind, d),
            None => Err(DataError::new(
                Path::new("."),
                "an image folder needs its path (data.path in the preset, or --data-dir)",
            )),
        };
    }
    if kind == DataSetKind::Embedded {
        return Ok(load_embedded());
    }
    let dirs = candidate_dirs(kind, data_dir);
    // An explicit --data-dir that holds files of another kind is still tried: its error is clearer
    // than "not found".
    if let Some(d) = dirs.iter().find(|d| looks_like(kind, d)) {
        return load_from_dir(kind, d);
    }
    let tried: Vec<String> = dirs.iter().map(|d| d.display().to_string()).collect();
    let hint = match kind {
        DataSetKind::FashionMnist => " (on Debian: apt-get install dataset-fashion-mnist)",
        DataSetKind::Cifar10 => " (the binary version: data_batch_1.bin … test_batch.bin)",
        _ => "",
    };
    Err(DataError::new(
        data_dir.unwrap_or(Path::new(".")),
        format!(
            "no {} files found{hint}; looked in: {}. Pass --data-dir DIR or set DUPLAB_DATA",
            kind.name(),
            tried.join(", ")
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn real_mnist_has_the_published_counts() {
        let Some(dir) = crate::shared_data("mnist") else {
            return;
        };
        let d = load(DataSetKind::Mnist, Some(&dir)).unwrap();
        assert_eq!((d.train.len(), d.test.len()), (60_000, 10_000));
        assert_eq!(d.train.class_counts(10)[1], 6_742);
        assert_eq!(d.test.class_counts(10)[5], 892);
    }

    #[test]
    fn real_fashion_mnist_is_balanced() {
        let Some(set) = crate::shared_data("fashion-mnist") else {
            return;
        };
        let dir = set.parent().unwrap().to_path_buf();
        // The parent folder works too: the set's sub-folder is found.
        let d = load(DataSetKind::FashionMnist, Some(&dir)).unwrap();
        assert_eq!(d.train.class_counts(10), vec![6_000; 10]);
        assert_eq!(d.test.class_counts(10), vec![1_000; 10]);
    }

    #[test]
    fn truncated_real_file_is_a_clear_error() {
        let Some(src) = crate::shared_data("mnist") else {
            return;
        };
        let dir = tempfile::tempdir().unwrap();
        for f in std::fs::read_dir(&src).unwrap() {
            let f = f.unwrap().path();
            std::fs::copy(&f, dir.path().join(f.file_name().unwrap())).unwrap();
        }
        let mut raw = vec![];
        std::io::Read::read_to_end(
            &mut flate2::read::GzDecoder::new(
                std::fs::File::open(src.join("t10k-labels-idx1-ubyte.gz")).unwrap(),
            ),
            &mut raw,
        )
        .unwrap();
        std::fs::write(dir.path().join("t10k-labels-idx1-ubyte.gz"), &raw[..5000]).unwrap();
        let e = load(DataSetKind::Mnist, Some(dir.path()))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("t10k-labels") && e.contains("truncated") && e.contains("10000 labels"),
            "{e}"
        );
    }

    #[test]
    fn missing_set_lists_where_it_looked() {
        let dir = tempfile::tempdir().unwrap();
        let e = load(DataSetKind::Cifar10, Some(dir.path()))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("looked in") && e.contains(&dir.path().display().to_string()),
            "{e}"
        );
    }
}
