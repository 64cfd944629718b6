//! What can go wrong in the run store; every variant names the file or the id it concerns.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{path}: {err}", path = .0.display(), err = .1)]
    Io(PathBuf, std::io::Error),
    #[error("{0}")]
    BadId(String),
    #[error("no run `{id}` in the run store {} (see `duplab runs ls`)", store.display())]
    NotFound { id: String, store: PathBuf },
    #[error("`{id}` matches several runs: {}; give more of the id", matches.join(", "))]
    Ambiguous { id: String, matches: Vec<String> },
    /// A file that exists but cannot be read as what it should hold.
    #[error("{path}: {why}", path = .0.display(), why = .1)]
    Corrupt(PathBuf, String),
    /// The run's trainer lives (running or paused): the operation would pull the floor from under it.
    #[error("run {id} is {status} and its trainer lives; stop it first: duplab runs stop {id}")]
    Live { id: String, status: &'static str },
    /// The run has an owner that may still train it (a live process, or a lease from another
    /// host whose heartbeat is fresh).
    #[error("run {id} is owned by {owner}")]
    Owned { id: String, owner: String },
    /// A file the operation needs and the run does not have (yet).
    #[error("{}: missing", .0.display())]
    Missing(PathBuf),
}

impl From<crate::atomic::WriteError> for StoreError {
    fn from(e: crate::atomic::WriteError) -> StoreError {
        StoreError::Io(e.path, e.io)
    }
}

/// Attach a path to an I/O error.
pub(crate) fn io(p: &std::path::Path) -> impl FnOnce(std::io::Error) -> StoreError + '_ {
    move |e| StoreError::Io(p.to_path_buf(), e)
}
