//! CIFAR-10, binary version: `data_batch_1..5.bin` and `test_batch.bin`, each a run of records of
//! 1 label byte + 3,072 pixel bytes (R, G, B planes of 32×32, row-major) — already N×C×H×W.

use super::{DataError, Split};
use std::path::Path;

const RECORD: usize = 1 + 3 * 32 * 32;

pub fn parse_cifar_batch(bytes: &[u8], path: &Path) -> Result<(Vec<u8>, Vec<u8>), DataError> {
    if bytes.is_empty() || bytes.len() % RECORD != 0 {
        return Err(DataError::new(
            path,
            format!(
                "file is {} bytes, not a whole number of {RECORD}-byte records (1 label byte + 3,072 pixel bytes); {}",
                bytes.len(),
                if bytes.is_empty() {
                    "it is empty".to_string()
                } else {
                    format!(
                        "{} bytes left over (truncated or not a CIFAR-10 binary batch)",
                        bytes.len() % RECORD
                    )
                }
            ),
        ));
    }
    let n = bytes.len() / RECORD;
    let mut images = Vec::with_capacity(n * (RECORD - 1));
    let mut labels = Vec::with_capacity(n);
    for (i, rec) in bytes.chunks_exact(RECORD).enumerate() {
        if rec[0] >= 10 {
            return Err(DataError::new(
                path,
                format!(
                    "label {} in record {i} is out of range; expected 0 to 9",
                    rec[0]
                ),
            ));
        }
        labels.push(rec[0]);
        images.extend_from_slice(&rec[1..]);
    }
    Ok((images, labels))
}

fn read_batches(dir: &Path, names: &[String]) -> Result<Split, DataError> {
    let mut images = vec![];
    let mut labels = vec![];
    for name in names {
        let p = dir.join(name);
        // A batch is 10,000 records of 3,073 bytes; more than ten times that is not a batch.
        let bytes = super::read_capped(&p, 10 * 10_000 * 3073).map_err(|e| {
            DataError::new(&p, format!("{}; a CIFAR-10 folder holds data_batch_1.bin … data_batch_5.bin and test_batch.bin", e.message))
        })?;
        let (i, l) = parse_cifar_batch(&bytes, &p)?;
        images.extend(i);
        labels.extend(l);
    }
    Ok(Split {
        images,
        labels,
        channels: 3,
        height: 32,
        width: 32,
    })
}

/// Read the binary CIFAR-10 folder (the one that holds the `.bin` files).
pub fn read_cifar10(dir: &Path) -> Result<(Split, Split), DataError> {
    let train: Vec<String> = (1..=5).map(|i| format!("data_batch_{i}.bin")).collect();
    Ok((
        read_batches(dir, &train)?,
        read_batches(dir, &["test_batch.bin".to_string()])?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Write a fake-but-well-formed CIFAR-10 folder with `per_batch` records a file.
    pub fn write_cifar(dir: &Path, per_batch: usize) {
        let names: Vec<String> = (1..=5)
            .map(|i| format!("data_batch_{i}.bin"))
            .chain(["test_batch.bin".into()])
            .collect();
        for (b, name) in names.iter().enumerate() {
            let mut bytes = vec![];
            for r in 0..per_batch {
                bytes.push(((r + b) % 10) as u8);
                // R plane = 1, G plane = 2, B plane = 3 so channel order can be checked.
                for c in 0..3u8 {
                    bytes.extend(std::iter::repeat_n(c + 1, 1024));
                }
            }
            std::fs::write(dir.join(name), bytes).unwrap();
        }
    }

    #[test]
    fn reads_a_written_folder_channel_major() {
        let dir = tempfile::tempdir().unwrap();
        write_cifar(dir.path(), 4);
        let (train, test) = read_cifar10(dir.path()).unwrap();
        assert_eq!((train.len(), test.len()), (20, 4));
        let img = train.image(0);
        assert_eq!((img[0], img[1024], img[2048], img[3071]), (1, 2, 3, 3));
        assert_eq!(&train.labels[..4], &[0, 1, 2, 3]);
        assert_eq!(&train.labels[4..6], &[1, 2]);
    }

    #[test]
    fn wrong_record_size_is_named() {
        let dir = tempfile::tempdir().unwrap();
        write_cifar(dir.path(), 2);
        let p = dir.path().join("data_batch_3.bin");
        let mut b = std::fs::read(&p).unwrap();
        b.truncate(b.len() - 100);
        std::fs::write(&p, b).unwrap();
        let e = read_cifar10(dir.path()).unwrap_err().to_string();
        assert!(
            e.contains("data_batch_3.bin") && e.contains("3073-byte records"),
            "{e}"
        );
    }

    #[test]
    fn missing_batch_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let e = read_cifar10(dir.path()).unwrap_err().to_string();
        assert!(e.contains("data_batch_1.bin"), "{e}");
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..8000)) {
            let _ = parse_cifar_batch(&bytes, Path::new("p"));
        }
    }
}
