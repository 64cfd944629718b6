//! Reading data files that may be hostile: only regular files are read (a link to `/dev/zero`, a
//! FIFO or a folder is refused before it is opened for reading), never more bytes than the format
//! allows, and a gzip stream never decompressed past what its header declares — so a 12 GB "bomb"
//! of zeros costs a few kilobytes, not the machine.

use super::DataError;
use flate2::read::GzDecoder;
use std::io::Read;
use std::path::Path;

/// The most any one data file may hold (decompressed): 4 GiB.
pub const MAX_FILE_BYTES: u64 = 4 << 30;

/// The file's length, if it is a regular file (links followed); else an error naming what it is.
pub fn regular_file(path: &Path) -> Result<u64, DataError> {
    let meta =
        std::fs::metadata(path).map_err(|e| DataError::new(path, format!("cannot read: {e}")))?;
    if !meta.is_file() {
        let what = if meta.is_dir() {
            "a folder"
        } else {
            "a device, FIFO or socket"
        };
        return Err(DataError::new(
            path,
            format!("is {what}, not a regular file: refused"),
        ));
    }
    Ok(meta.len())
}

/// A whole regular file of at most `max` bytes.
pub fn read_capped(path: &Path, max: u64) -> Result<Vec<u8>, DataError> {
    let len = regular_file(path)?;
    if len > max {
        return Err(DataError::new(
            path,
            format!("is {len} bytes; at most {max} are expected here: refused"),
        ));
    }
    let mut out = Vec::with_capacity(len as usize);
    std::fs::File::open(path)
        .and_then(|f| f.take(max + 1).read_to_end(&mut out))
        .map_err(|e| DataError::new(path, format!("cannot read: {e}")))?;
    Ok(out)
}

/// A header of `header` bytes and the body it declares (`body_len` reads the header; `None`: the
/// header is not one, and the caller's parser says why), from a raw or gzip'd regular file. At
/// most one byte past the declared length is read, so trailing data is seen without being read.
pub fn read_declared(
    path: &Path,
    header: usize,
    body_len: impl Fn(&[u8]) -> Option<u64>,
) -> Result<Vec<u8>, DataError> {
    let len = regular_file(path)?;
    let mut file =
        std::fs::File::open(path).map_err(|e| DataError::new(path, format!("cannot read: {e}")))?;
    let mut magic = [0u8; 2];
    let n = file.read(&mut magic).unwrap_or(0);
    let file =
        std::fs::File::open(path).map_err(|e| DataError::new(path, format!("cannot read: {e}")))?;
    let gz = n == 2 && magic == [0x1f, 0x8b];
    let mut reader: Box<dyn Read> = if gz {
        Box::new(GzDecoder::new(file))
    } else {
        Box::new(file)
    };
    let corrupt = |e: std::io::Error| {
        DataError::new(
            path,
            if gz {
                format!("corrupt or truncated gzip stream: {e}")
            } else {
                format!("cannot read: {e}")
            },
        )
    };
    let mut out = Vec::with_capacity(header);
    (&mut reader)
        .take(header as u64)
        .read_to_end(&mut out)
        .map_err(corrupt)?;
    let Some(body) = (out.len() == header).then(|| body_len(&out)).flatten() else {
        return Ok(out);
    };
    let total = header as u64 + body;
    if total > MAX_FILE_BYTES {
        return Err(DataError::new(
            path,
            format!(
                "its header declares {total} bytes; at most {MAX_FILE_BYTES} are read: refused"
            ),
        ));
    }
    if !gz && len > total + 1 {
        // A raw file's size is known: its parser names the mismatch from the first byte too many.
        out.reserve(body as usize + 1);
    } else {
        out.reserve((body as usize).min(64 << 20));
    }
    reader
        .take(body + 1)
        .read_to_end(&mut out)
        .map_err(corrupt)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    /// Case 5 of the crash-consistency issue: a gzip'd IDX file whose header declares one tiny
    /// image, followed by 1 GiB of zeros, was decompressed whole (1 GiB resident) before the
    /// error. Now at most one byte past the declared body is decompressed.
    #[test]
    fn a_gzip_bomb_is_refused_without_decompressing_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("train-images-idx3-ubyte.gz");
        let mut gz = flate2::write::GzEncoder::new(
            std::fs::File::create(&path).unwrap(),
            flate2::Compression::fast(),
        );
        let mut header = vec![0, 0, 8, 3];
        for v in [1u32, 1, 1] {
            header.extend(v.to_be_bytes());
        }
        gz.write_all(&header).unwrap();
        let zeros = vec![0u8; 1 << 20];
        for _ in 0..1024 {
            gz.write_all(&zeros).unwrap();
        }
        gz.finish().unwrap();
        drop(zeros);
        let before = crate::test_data::peak_rss_kb();
        let e = super::super::read_idx_images(&path)
            .unwrap_err()
            .to_string();
        let grown_mb = (crate::test_data::peak_rss_kb().saturating_sub(before)) / 1024;
        assert!(e.contains("trailing"), "{e}");
        // Other tests of this binary run alongside and raise the peak too: the old reader took
        // 1,037 MB here, so 500 MB still tells them apart.
        assert!(grown_mb < 500, "reading it took {grown_mb} MB more");
    }

    #[test]
    fn devices_fifos_and_folders_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let link = dir.path().join("data_batch_1.bin");
        std::os::unix::fs::symlink("/dev/zero", &link).unwrap();
        let e = read_capped(&link, 1 << 20).unwrap_err().to_string();
        assert!(e.contains("not a regular file"), "{e}");
        let e = read_declared(&link, 16, |_| Some(1))
            .unwrap_err()
            .to_string();
        assert!(e.contains("not a regular file"), "{e}");
        let e = read_capped(dir.path(), 10).unwrap_err().to_string();
        assert!(e.contains("a folder"), "{e}");
        let big = dir.path().join("big");
        std::fs::write(&big, vec![1u8; 100]).unwrap();
        let e = read_capped(&big, 99).unwrap_err().to_string();
        assert!(e.contains("100 bytes"), "{e}");
    }
}
