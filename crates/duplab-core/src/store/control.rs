//! The control channel of a run: a one-line file, `control`, in the run folder. Whoever wants a
//! trainer to pause, resume or stop (the lab that launched it, another lab watching it,
//! `duplab runs stop`) replaces it atomically with a command and a fresh nonce; the trainer reads
//! it between steps and acts on every new nonce. Commands are idempotent (pausing a paused run
//! does nothing), so two labs pressing the same key at once do no harm, and since the file is
//! replaced whole, a reader never sees half a command. Stop always wins: a trainer that saw it
//! checkpoints and leaves.

use super::error::StoreError;
use super::layout;
use super::run::Run;
use crate::atomic::Durability;
use std::path::PathBuf;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ControlCommand {
    Pause,
    Resume,
    Stop,
}

impl ControlCommand {
    pub fn word(self) -> &'static str {
        match self {
            ControlCommand::Pause => "pause",
            ControlCommand::Resume => "resume",
            ControlCommand::Stop => "stop",
        }
    }

    fn parse(w: &str) -> Option<ControlCommand> {
        Some(match w {
            "pause" => ControlCommand::Pause,
            "resume" => ControlCommand::Resume,
            "stop" => ControlCommand::Stop,
            _ => return None,
        })
    }
}

impl Run {
    pub fn control_path(&self) -> PathBuf {
        self.dir.join(layout::CONTROL)
    }

    /// Ask this run's trainer, wherever it runs, to pause, resume or stop. A stop already in the
    /// file is never replaced by a pause or resume (the trainer may not have read it yet): a stop
    /// is not undone. A resumed run's trainer clears the file when it starts.
    pub fn send_control(&self, c: ControlCommand) -> Result<(), StoreError> {
        if c != ControlCommand::Stop && self.pending_control() == Some(ControlCommand::Stop) {
            return Ok(());
        }
        use std::sync::atomic::{AtomicU64, Ordering};
        static COUNT: AtomicU64 = AtomicU64::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        // Time, pid and a counter: no two writers, nor two writes of one, share a nonce.
        let nonce = format!(
            "{nanos}-{}-{}",
            std::process::id(),
            COUNT.fetch_add(1, Ordering::Relaxed)
        );
        self.replace(
            layout::CONTROL,
            format!("{} {nonce}\n", c.word()).as_bytes(),
            Durability::Rename,
        )
    }

    /// The command in the control file now (read or not by the trainer).
    pub fn pending_control(&self) -> Option<ControlCommand> {
        let text = crate::atomic::read_small(&self.control_path(), super::run::SMALL_FILE).ok()?;
        let text = String::from_utf8_lossy(&text[..text.len().min(256)]).into_owned();
        ControlCommand::parse(text.split_whitespace().next()?)
    }

    /// Forget old commands (a resumed run must not obey the stop that ended it last time).
    pub fn clear_control(&self) -> Result<(), StoreError> {
        match std::fs::remove_file(self.control_path()) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                Err(StoreError::Io(self.control_path(), e))
            }
            _ => Ok(()),
        }
    }
}

/// The trainer's side: remembers the last nonce it acted on.
#[derive(Debug, Default)]
pub struct ControlReader {
    seen: Option<String>,
}

impl ControlReader {
    /// The command written since the last call, if any. A missing or unreadable file is no
    /// command; a line this version does not know is skipped (and not read again).
    pub fn poll(&mut self, run: &Run) -> Option<ControlCommand> {
        let text = crate::atomic::read_small(&run.control_path(), super::run::SMALL_FILE).ok()?;
        let text = String::from_utf8_lossy(&text);
        let line = text.trim();
        if line.is_empty() || self.seen.as_deref() == Some(line) {
            return None;
        }
        self.seen = Some(line.to_string());
        ControlCommand::parse(line.split_whitespace().next()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::RunStore;

    #[test]
    fn every_new_command_is_read_once_and_repeats_still_arrive() {
        let dir = tempfile::tempdir().unwrap();
        let store = RunStore::new(dir.path());
        let run = store.create_with_id("20260101-000000-x-abcdef").unwrap();
        let mut r = ControlReader::default();
        assert_eq!(r.poll(&run), None, "no file, no command");
        run.send_control(ControlCommand::Pause).unwrap();
        assert_eq!(r.poll(&run), Some(ControlCommand::Pause));
        assert_eq!(r.poll(&run), None, "read once");
        run.send_control(ControlCommand::Resume).unwrap();
        run.send_control(ControlCommand::Resume).unwrap();
        assert_eq!(r.poll(&run), Some(ControlCommand::Resume), "the newest");
        // The same word again (a second lab) is a new command: resume after a pause that
        // came over another channel must not be lost.
        run.send_control(ControlCommand::Resume).unwrap();
        assert_eq!(r.poll(&run), Some(ControlCommand::Resume));
        std::fs::write(run.control_path(), "explode 1\n").unwrap();
        assert_eq!(r.poll(&run), None, "unknown words are skipped");
        run.clear_control().unwrap();
        run.clear_control().unwrap();
        assert_eq!(r.poll(&run), None);
        let leftovers: Vec<_> = std::fs::read_dir(&run.dir)
            .unwrap()
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().to_string())
            .filter(|n| n.contains("tmp"))
            .collect();
        assert!(leftovers.is_empty(), "{leftovers:?}");
    }

    /// Case 5 of the crash-consistency issue: `control`, `status` and `phase` were read with no
    /// limit every 250 ms, and a FIFO there blocked the reader in `open` for good. Now a FIFO, a
    /// link or an oversized file is refused at once.
    #[test]
    fn a_fifo_a_link_or_a_huge_file_in_the_run_folder_never_blocks_a_reader() {
        let dir = tempfile::tempdir().unwrap();
        let store = RunStore::new(dir.path());
        let run = store.create_with_id("20260101-000000-x-abcdee").unwrap();
        for name in ["control", "status", "phase"] {
            let p = run.dir.join(name);
            let _ = std::fs::remove_file(&p);
            let c = std::ffi::CString::new(p.to_str().unwrap()).unwrap();
            assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        }
        let (tx, rx) = std::sync::mpsc::channel();
        let r2 = run.clone();
        std::thread::spawn(move || {
            let mut reader = ControlReader::default();
            let got = (
                reader.poll(&r2),
                r2.pending_control(),
                r2.status(),
                r2.phase(),
            );
            let _ = tx.send(format!("{got:?}"));
        });
        let got = rx
            .recv_timeout(std::time::Duration::from_secs(5))
            .expect("a reader blocked on a FIFO in the run folder");
        assert!(got.starts_with("(None, None, Interrupted"), "{got}");
        for name in ["control", "status", "phase"] {
            std::fs::remove_file(run.dir.join(name)).unwrap();
        }
        std::os::unix::fs::symlink("/dev/zero", run.dir.join("control")).unwrap();
        assert_eq!(
            ControlReader::default().poll(&run),
            None,
            "a link is not read"
        );
        std::fs::remove_file(run.dir.join("control")).unwrap();
        let f = std::fs::File::create(run.dir.join("control")).unwrap();
        f.set_len(1 << 30).unwrap();
        assert_eq!(
            ControlReader::default().poll(&run),
            None,
            "1 GiB is not a command"
        );
    }

    /// A pause sent after a stop (before the trainer read it) used to replace the stop.
    #[test]
    fn a_stop_is_never_undone_by_a_later_pause() {
        let dir = tempfile::tempdir().unwrap();
        let store = RunStore::new(dir.path());
        let run = store.create_with_id("20260101-000000-x-abcdff").unwrap();
        let mut r = ControlReader::default();
        run.send_control(ControlCommand::Stop).unwrap();
        run.send_control(ControlCommand::Pause).unwrap();
        run.send_control(ControlCommand::Resume).unwrap();
        assert_eq!(r.poll(&run), Some(ControlCommand::Stop));
        run.clear_control().unwrap();
        run.send_control(ControlCommand::Pause).unwrap();
        assert_eq!(r.poll(&run), Some(ControlCommand::Pause));
    }

    #[test]
    fn a_paused_run_whose_trainer_died_reads_as_interrupted() {
        let dir = tempfile::tempdir().unwrap();
        let store = RunStore::new(dir.path());
        let run = store.create_with_id("20260101-000000-x-abcdef").unwrap();
        run.set_status(super::super::RunStatus::Paused).unwrap();
        assert_eq!(run.status(), super::super::RunStatus::Paused);
        assert_eq!(run.owner_pid(), Some(std::process::id()));
        // A child that has exited but is not reaped yet is a zombie: not alive.
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id();
        std::thread::sleep(std::time::Duration::from_millis(300));
        run.set_owner(pid).unwrap();
        assert_eq!(run.owner_pid(), None, "a zombie trains nothing");
        assert_eq!(run.status(), super::super::RunStatus::Interrupted);
        child.wait().unwrap();
    }
}
