//! The user cache folder and its one file format, shared by the image-folder cache (decoded
//! images) and the duplicate finder's pair cache.
//!
//! A cache file is `DUPLABC1`, the header's length (u64, little-endian), the header (a JSON object
//! with the cache's `kind` and the payload's length in bytes), then the payload. A reader checks
//! all of it against the file before it allocates anything: a header larger than `MAX_HEADER`, a
//! kind it did not ask for, or a payload length that is not the rest of the file make the file
//! a miss (it is rebuilt), never a panic or a huge allocation. Files are replaced whole
//! (`atomic::write_atomic_with`), so a reader never sees half of one.

use crate::atomic::{Durability, WriteError, write_atomic_with};
use std::io::Read;
use std::path::{Path, PathBuf};

const MAGIC: &[u8; 8] = b"DUPLABC1";
/// A header holds names and counts; anything larger is not one of ours.
const MAX_HEADER: u64 = 1 << 20;

/// `$DUPLAB_CACHE`, else the user cache folder (`~/.cache/duplab`).
pub fn cache_dir() -> Option<PathBuf> {
    if let Some(d) = std::env::var_os("DUPLAB_CACHE") {
        return Some(PathBuf::from(d));
    }
    directories::ProjectDirs::from("", "", "duplab").map(|p| p.cache_dir().to_path_buf())
}

/// Write a cache file of `kind`: `header` (a JSON object; `kind` and `payload` are added) and the
/// payload, the concatenation of `parts`.
pub fn write(
    path: &Path,
    kind: &str,
    mut header: serde_json::Value,
    parts: &[&[u8]],
) -> Result<(), WriteError> {
    if let Some(d) = path.parent() {
        std::fs::create_dir_all(d).map_err(|e| WriteError::new(d, e))?;
    }
    let payload: u64 = parts.iter().map(|p| p.len() as u64).sum();
    header["kind"] = kind.into();
    header["payload"] = payload.into();
    let header = header.to_string();
    write_atomic_with(path, Durability::Rename, |w| {
        w.write_all(MAGIC)?;
        w.write_all(&(header.len() as u64).to_le_bytes())?;
        w.write_all(header.as_bytes())?;
        for p in parts {
            w.write_all(p)?;
        }
        Ok(())
    })
}

/// Read a cache file of `kind`: its header and payload, or `None` when it is absent, of another
/// kind or format, or not whole.
pub fn read(path: &Path, kind: &str) -> Option<(serde_json::Value, Vec<u8>)> {
    let f = std::fs::File::open(path).ok()?;
    let meta = f.metadata().ok()?;
    if !meta.is_file() {
        return None;
    }
    let mut f = std::io::BufReader::new(f);
    let mut magic = [0u8; 8];
    f.read_exact(&mut magic).ok()?;
    if &magic != MAGIC {
        return None;
    }
    let mut len = [0u8; 8];
    f.read_exact(&mut len).ok()?;
    let header_len = u64::from_le_bytes(len);
    if header_len > MAX_HEADER || 16 + header_len > meta.len() {
        return None;
    }
    let mut header = vec![0u8; header_len as usize];
    f.read_exact(&mut header).ok()?;
    let h: serde_json::Value = serde_json::from_slice(&header).ok()?;
    if h["kind"].as_str() != Some(kind) {
        return None;
    }
    let payload = h["payload"].as_u64()?;
    // Checked: a crafted payload length must not overflow the sum.
    if meta.len().checked_sub(16 + header_len) != Some(payload) {
        return None;
    }
    let mut bytes = vec![0u8; payload as usize];
    f.read_exact(&mut bytes).ok()?;
    Some((h, bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_reads_back_as_written_and_only_as_its_kind() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("c").join("x.bin");
        write(&p, "pairs", serde_json::json!({"n": 3}), &[b"ab", b"cd"]).unwrap();
        let (h, payload) = read(&p, "pairs").unwrap();
        assert_eq!(
            (h["n"].as_u64(), payload.as_slice()),
            (Some(3), &b"abcd"[..])
        );
        assert!(read(&p, "folder").is_none());
        assert!(read(&dir.path().join("absent"), "pairs").is_none());
    }

    #[test]
    fn a_file_that_lies_about_its_lengths_is_a_miss() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.bin");
        write(&p, "folder", serde_json::json!({}), &[&[7u8; 100]]).unwrap();
        let whole = std::fs::read(&p).unwrap();
        // Cut short: the payload is not the rest of the file.
        std::fs::write(&p, &whole[..whole.len() - 1]).unwrap();
        assert!(read(&p, "folder").is_none());
        // A header length of 2^63: refused before anything is allocated.
        let mut huge = whole.clone();
        huge[8..16].copy_from_slice(&(1u64 << 63).to_le_bytes());
        std::fs::write(&p, &huge).unwrap();
        assert!(read(&p, "folder").is_none());
        // A payload length field that does not match.
        let text = String::from_utf8_lossy(&whole).replace("\"payload\":100", "\"payload\":999");
        std::fs::write(&p, text.as_bytes()).unwrap();
        assert!(read(&p, "folder").is_none());
        // One of 2^64 − 1: no overflow, no allocation.
        let max = format!("\"payload\":{}", u64::MAX);
        let mut header = String::from_utf8_lossy(&whole[16..]).to_string();
        header.truncate(header.find('}').unwrap() + 1);
        let crafted = header.replace("\"payload\":100", &max);
        let mut bytes = whole[..8].to_vec();
        bytes.extend_from_slice(&(crafted.len() as u64).to_le_bytes());
        bytes.extend_from_slice(crafted.as_bytes());
        std::fs::write(&p, &bytes).unwrap();
        assert!(read(&p, "folder").is_none());
    }
}
