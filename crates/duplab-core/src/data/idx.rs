//! MNIST-style IDX files (`idx3` images, `idx1` labels), gzip'd or raw. Every malformed input is
//! an error naming the file and what was expected, never a panic.

use super::{DataError, Split};
use std::path::Path;

fn be_u32(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

/// Parse IDX image bytes: magic 0x00000803, then N, rows, cols, then N·rows·cols bytes.
pub fn parse_idx_images(
    bytes: &[u8],
    path: &Path,
) -> Result<(Vec<u8>, usize, usize, usize), DataError> {
    if bytes.len() < 16 {
        return Err(DataError::new(
            path,
            format!(
                "file is {} bytes; an IDX image file has a 16-byte header",
                bytes.len()
            ),
        ));
    }
    let magic = be_u32(bytes, 0);
    if magic != 0x0000_0803 {
        return Err(DataError::new(
            path,
            format!(
                "wrong magic number 0x{magic:08x}; expected 0x00000803 (IDX unsigned-byte images, 3 dimensions)"
            ),
        ));
    }
    let (n, h, w) = (
        be_u32(bytes, 4) as usize,
        be_u32(bytes, 8) as usize,
        be_u32(bytes, 12) as usize,
    );
    if h == 0 || w == 0 || h > 4096 || w > 4096 {
        return Err(DataError::new(
            path,
            format!("image size {h}×{w} is not plausible (expected 1 to 4096 per side)"),
        ));
    }
    let expected = n
        .checked_mul(h * w)
        .ok_or_else(|| DataError::new(path, "image count overflows"))?;
    let body = &bytes[16..];
    if body.len() != expected {
        return Err(DataError::new(
            path,
            format!(
                "header says {n} images of {h}×{w} = {} bytes after the 16-byte header, but the file has {}{}",
                16 + expected,
                16 + body.len(),
                if body.len() < expected {
                    " (truncated)"
                } else {
                    " (trailing bytes)"
                }
            ),
        ));
    }
    Ok((body.to_vec(), n, h, w))
}

/// Parse IDX label bytes: magic 0x00000801, then N, then N bytes each < `num_classes`.
pub fn parse_idx_labels(
    bytes: &[u8],
    path: &Path,
    num_classes: usize,
) -> Result<Vec<u8>, DataError> {
    if bytes.len() < 8 {
        return Err(DataError::new(
            path,
            format!(
                "file is {} bytes; an IDX label file has an 8-byte header",
                bytes.len()
            ),
        ));
    }
    let magic = be_u32(bytes, 0);
    if magic != 0x0000_0801 {
        return Err(DataError::new(
            path,
            format!(
                "wrong magic number 0x{magic:08x}; expected 0x00000801 (IDX unsigned-byte labels, 1 dimension)"
            ),
        ));
    }
    let n = be_u32(bytes, 4) as usize;
    let body = &bytes[8..];
    if body.len() != n {
        return Err(DataError::new(
            path,
            format!(
                "header says {n} labels = {} bytes, but the file has {}{}",
                8 + n,
                8 + body.len(),
                if body.len() < n {
                    " (truncated)"
                } else {
                    " (trailing bytes)"
                }
            ),
        ));
    }
    if let Some((i, l)) = body
        .iter()
        .enumerate()
        .find(|(_, l)| **l as usize >= num_classes)
    {
        return Err(DataError::new(
            path,
            format!(
                "label {l} at index {i} is out of range; expected 0 to {}",
                num_classes - 1
            ),
        ));
    }
    Ok(body.to_vec())
}

/// Read an IDX image file (raw or gzip'd): never more than its header declares, plus one byte.
pub fn read_idx_images(path: &Path) -> Result<(Vec<u8>, usize, usize, usize), DataError> {
    let bytes = super::bounded::read_declared(path, 16, |h| {
        let (n, rows, cols) = (
            be_u32(h, 4) as u64,
            be_u32(h, 8) as u64,
            be_u32(h, 12) as u64,
        );
        let plausible =
            be_u32(h, 0) == 0x0000_0803 && (1..=4096).contains(&rows) && (1..=4096).contains(&cols);
        plausible.then(|| n.saturating_mul(rows * cols))
    })?;
    parse_idx_images(&bytes, path)
}

/// Read an IDX label file (raw or gzip'd): never more than its header declares, plus one byte.
pub fn read_idx_labels(path: &Path, num_classes: usize) -> Result<Vec<u8>, DataError> {
    let bytes = super::bounded::read_declared(path, 8, |h| {
        (be_u32(h, 0) == 0x0000_0801).then(|| be_u32(h, 4) as u64)
    })?;
    parse_idx_labels(&bytes, path, num_classes)
}

/// Find `stem` or `stem.gz` in `dir`.
fn find_file(dir: &Path, stem: &str) -> Result<std::path::PathBuf, DataError> {
    for name in [format!("{stem}.gz"), stem.to_string()] {
        let p = dir.join(&name);
        if p.is_file() {
            return Ok(p);
        }
    }
    Err(DataError::new(
        &dir.join(format!("{stem}.gz")),
        format!("missing: expected `{stem}.gz` or `{stem}` in this folder"),
    ))
}

/// One split of an MNIST-like folder (`train` or `t10k`).
fn read_split(dir: &Path, prefix: &str, num_classes: usize) -> Result<Split, DataError> {
    let ip = find_file(dir, &format!("{prefix}-images-idx3-ubyte"))?;
    let lp = find_file(dir, &format!("{prefix}-labels-idx1-ubyte"))?;
    let (images, n, h, w) = read_idx_images(&ip)?;
    let labels = read_idx_labels(&lp, num_classes)?;
    if labels.len() != n {
        return Err(DataError::new(
            &lp,
            format!(
                "has {} labels but {} has {n} images; expected equal counts",
                labels.len(),
                ip.display()
            ),
        ));
    }
    Ok(Split {
        images,
        labels,
        channels: 1,
        height: h,
        width: w,
    })
}

/// Read train and test splits of an MNIST-like folder.
pub fn read_mnist_like(dir: &Path, num_classes: usize) -> Result<(Split, Split), DataError> {
    Ok((
        read_split(dir, "train", num_classes)?,
        read_split(dir, "t10k", num_classes)?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn images(n: u32, h: u32, w: u32, body: usize) -> Vec<u8> {
        let mut v = vec![0, 0, 8, 3];
        for x in [n, h, w] {
            v.extend_from_slice(&x.to_be_bytes());
        }
        v.extend(std::iter::repeat_n(7u8, body));
        v
    }

    #[test]
    fn good_images_parse() {
        let (px, n, h, w) = parse_idx_images(&images(2, 3, 4, 24), Path::new("x")).unwrap();
        assert_eq!((px.len(), n, h, w), (24, 2, 3, 4));
    }

    #[test]
    fn truncated_images_say_what_was_expected() {
        let e = parse_idx_images(&images(2, 3, 4, 20), Path::new("f.idx"))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("f.idx") && e.contains("truncated") && e.contains("40 bytes"),
            "{e}"
        );
    }

    #[test]
    fn wrong_magic_is_named() {
        let mut b = images(1, 1, 1, 1);
        b[3] = 1;
        let e = parse_idx_images(&b, Path::new("f"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("magic") && e.contains("0x00000803"), "{e}");
    }

    #[test]
    fn label_out_of_range_is_named() {
        let b = [0, 0, 8, 1, 0, 0, 0, 2, 3, 10];
        let e = parse_idx_labels(&b, Path::new("l"), 10)
            .unwrap_err()
            .to_string();
        assert!(e.contains("label 10 at index 1"), "{e}");
    }

    #[test]
    fn corrupt_gzip_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.gz");
        std::fs::write(&p, [0x1f, 0x8b, 8, 0, 1, 2, 3]).unwrap();
        let e = read_idx_images(&p).unwrap_err().to_string();
        assert!(e.contains("gzip"), "{e}");
    }

    #[test]
    fn missing_file_names_what_was_expected() {
        let dir = tempfile::tempdir().unwrap();
        let e = read_mnist_like(dir.path(), 10).unwrap_err().to_string();
        assert!(e.contains("train-images-idx3-ubyte"), "{e}");
    }

    #[test]
    fn count_mismatch_between_images_and_labels() {
        let dir = tempfile::tempdir().unwrap();
        for p in ["train", "t10k"] {
            std::fs::write(
                dir.path().join(format!("{p}-images-idx3-ubyte")),
                images(2, 2, 2, 8),
            )
            .unwrap();
            std::fs::write(
                dir.path().join(format!("{p}-labels-idx1-ubyte")),
                [0, 0, 8, 1, 0, 0, 0, 3, 1, 2, 3],
            )
            .unwrap();
        }
        let e = read_mnist_like(dir.path(), 10).unwrap_err().to_string();
        assert!(e.contains("3 labels") && e.contains("2 images"), "{e}");
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]
        /// No byte string panics the readers.
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            let _ = parse_idx_images(&bytes, Path::new("p"));
            let _ = parse_idx_labels(&bytes, Path::new("p"), 10);
        }

        /// Valid headers with any (possibly huge) counts and short bodies never panic either.
        #[test]
        fn hostile_headers_never_panic(n in any::<u32>(), h in any::<u32>(), w in any::<u32>(), body in 0usize..64) {
            let mut v = vec![0, 0, 8, 3];
            for x in [n, h, w] { v.extend_from_slice(&x.to_be_bytes()); }
            v.extend(std::iter::repeat_n(0u8, body));
            let _ = parse_idx_images(&v, Path::new("p"));
            let mut l = vec![0, 0, 8, 1];
            l.extend_from_slice(&n.to_be_bytes());
            l.extend(std::iter::repeat_n(0u8, body));
            let _ = parse_idx_labels(&l, Path::new("p"), 10);
        }
    }
}
