//! Replacing a file whole: write a temporary sibling, then rename it over the old one, so a
//! reader (another lab, a sweep, a crash's survivor) sees the old file or the new one, never half.
//! The run folder's files, checkpoints, exported weights and the data caches are written here.
//!
//! `Durability::Sync` also flushes the file to the disk before the rename and the folder after it,
//! so a power loss cannot leave an empty file where the old one stood: for what a run cannot be
//! rebuilt without (config, checkpoints, summary). Files rewritten every few hundred milliseconds
//! (status, phase, control, heartbeat) take `Durability::Rename`: an fsync each time would stall
//! the trainer on a slow shared file system, and a lost update of them costs nothing.

use std::io::Write;
use std::path::{Path, PathBuf};

/// How hard a replacement insists that the new bytes reach the disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    /// Atomic against other readers and against a crash of this process.
    Rename,
    /// Also against a power loss: the file and its folder are fsynced.
    Sync,
}

/// A write that failed, with the file it was writing. The I/O error is part of the message
/// (not a `source`), so a chain printed with `{:#}` says it once.
#[derive(Debug, thiserror::Error)]
#[error("{}: {io}", path.display())]
pub struct WriteError {
    pub path: PathBuf,
    pub io: std::io::Error,
}

impl WriteError {
    pub fn new(path: &Path, io: std::io::Error) -> WriteError {
        WriteError {
            path: path.to_path_buf(),
            io,
        }
    }
}

/// A temporary name beside `path`, unique per process and call, so two writers (two labs, two
/// threads) never share one. Writers that can only write to a path (burn's recorders,
/// safetensors) write here and then call [`commit`].
pub fn temp_path(path: &Path) -> PathBuf {
    static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let name = path
        .file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
    path.with_file_name(format!(".{name}.tmp{}-{n}", std::process::id()))
}

/// Move a finished temporary file over `dest` (see [`temp_path`]).
pub fn commit(tmp: &Path, dest: &Path, durability: Durability) -> Result<(), WriteError> {
    if durability == Durability::Sync {
        std::fs::File::open(tmp)
            .and_then(|f| f.sync_all())
            .map_err(|e| WriteError::new(tmp, e))?;
    }
    if let Err(e) = std::fs::rename(tmp, dest) {
        let _ = std::fs::remove_file(tmp);
        return Err(WriteError::new(dest, e));
    }
    if durability == Durability::Sync {
        sync_parent(dest).map_err(|e| WriteError::new(dest, e))?;
    }
    Ok(())
}

/// Replace `path` with `bytes`.
pub fn write_atomic(path: &Path, bytes: &[u8], durability: Durability) -> Result<(), WriteError> {
    write_atomic_with(path, durability, |w| w.write_all(bytes))
}

/// Replace `path` with what `write` writes (buffered), for files too large to build in memory.
pub fn write_atomic_with(
    path: &Path,
    durability: Durability,
    write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<(), WriteError> {
    let tmp = temp_path(path);
    let written = std::fs::File::create(&tmp).and_then(|f| {
        let mut w = std::io::BufWriter::new(f);
        write(&mut w)?;
        w.flush()
    });
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(WriteError::new(&tmp, e));
    }
    commit(&tmp, path, durability)
}

/// Remove the temporary files a crashed writer left in `dir` (names `temp_path` makes), so
/// they do not pile up: a checkpoint's are as large as the model.
pub fn remove_stale_temps(dir: &Path) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.filter_map(|e| e.ok()) {
        let name = e.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') && name.contains(".tmp") && e.path().is_file() {
            let _ = std::fs::remove_file(e.path());
        }
    }
}

/// fsync a folder, so renames into it are on the disk (errors ignored: a file system that
/// cannot sync folders still has the rename).
pub fn sync_dir(dir: &Path) {
    if let Ok(f) = std::fs::File::open(dir) {
        let _ = f.sync_all();
    }
}

/// fsync the folder holding `path`, so the rename itself is on the disk.
fn sync_parent(path: &Path) -> std::io::Result<()> {
    match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => std::fs::File::open(d)?.sync_all(),
        _ => std::fs::File::open(".")?.sync_all(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leftovers(dir: &Path) -> Vec<String> {
        std::fs::read_dir(dir)
            .unwrap()
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.contains(".tmp"))
            .collect()
    }

    #[test]
    fn a_file_is_replaced_whole_and_no_temporary_file_stays() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("summary.json");
        for d in [Durability::Rename, Durability::Sync] {
            write_atomic(&p, b"old", d).unwrap();
            write_atomic(&p, b"new", d).unwrap();
            assert_eq!(std::fs::read(&p).unwrap(), b"new");
        }
        assert!(leftovers(dir.path()).is_empty());
    }

    #[test]
    fn a_failed_writer_leaves_the_old_file_and_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("cache.bin");
        write_atomic(&p, b"old", Durability::Rename).unwrap();
        let e = write_atomic_with(&p, Durability::Sync, |w| {
            w.write_all(b"half")?;
            Err(std::io::Error::other("disk full"))
        })
        .unwrap_err();
        assert!(e.to_string().contains("disk full"), "{e}");
        assert_eq!(std::fs::read(&p).unwrap(), b"old");
        assert!(leftovers(dir.path()).is_empty());
    }

    #[test]
    fn an_error_names_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("no-such-folder").join("status");
        let e = write_atomic(&p, b"x", Durability::Rename).unwrap_err();
        assert!(e.to_string().contains("no-such-folder"), "{e}");
    }

    #[test]
    fn stale_temporary_files_are_removed_and_nothing_else() {
        let dir = tempfile::tempdir().unwrap();
        let keep = dir.path().join("model.bpk");
        std::fs::write(&keep, b"m").unwrap();
        std::fs::write(temp_path(&keep), b"half").unwrap();
        remove_stale_temps(dir.path());
        assert!(keep.exists());
        assert!(leftovers(dir.path()).is_empty());
    }

    #[test]
    fn temporary_names_differ_per_call() {
        let p = Path::new("runs/x/config.json");
        assert_ne!(temp_path(p), temp_path(p));
        assert_eq!(temp_path(p).parent(), p.parent());
    }
}

/// Read a file another process may have replaced with something hostile (the run folder's
/// `status`, `phase`, `control`, `lease`, JSON files): a symbolic link is refused (`O_NOFOLLOW`),
/// a FIFO neither blocks the reader (`O_NONBLOCK`) nor is read, only a regular file is read, and
/// never more than `max` bytes (a larger one is an `InvalidData` error). `NotFound` passes
/// through, so callers can tell "absent" from "refused".
pub fn read_small(path: &Path, max: u64) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    use std::os::unix::fs::OpenOptionsExt;
    let f = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path)?;
    let meta = f.metadata()?;
    if !meta.is_file() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "not a regular file: refused",
        ));
    }
    if meta.len() > max {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!(
                "{} bytes, more than the {max} this file may hold: refused",
                meta.len()
            ),
        ));
    }
    let mut out = Vec::with_capacity(meta.len() as usize);
    f.take(max + 1).read_to_end(&mut out)?;
    if out.len() as u64 > max {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("grew past the {max} bytes this file may hold: refused"),
        ));
    }
    Ok(out)
}
