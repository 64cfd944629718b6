//! A run's owner: the trainer process named in the run folder's `pid` file (`PID HOST`), and
//! whether it still lives. The file is parsed in one place.

use super::error::StoreError;
use super::layout;
use super::run::Run;

/// Who trains a run, as its `pid` file says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Owner {
    pub pid: u32,
    /// Empty in files written before hosts were recorded.
    pub host: String,
}

impl Owner {
    /// This process, on this machine.
    pub fn this_process() -> Owner {
        Owner::local(std::process::id())
    }

    /// Another process of this machine (a trainer a launcher just started).
    pub fn local(pid: u32) -> Owner {
        Owner {
            pid,
            host: hostname(),
        }
    }

    /// The owner a `pid` file's text names, `None` when it names no process id.
    pub fn parse(text: &str) -> Option<Owner> {
        let mut parts = text.split_whitespace();
        let pid = parts.next()?.parse().ok()?;
        let host = parts.next().unwrap_or("").to_string();
        Some(Owner { pid, host })
    }

    pub fn to_line(&self) -> String {
        format!("{} {}\n", self.pid, self.host)
    }

    /// Whether the owner runs on this machine (or the file does not say).
    pub fn is_here(&self) -> bool {
        self.host.is_empty() || self.host == hostname()
    }

    /// Whether the owner may still train the run: alive here, or on another machine sharing the
    /// store, which this process cannot tell.
    pub fn may_be_alive(&self) -> bool {
        !self.is_here() || process_alive(self.pid)
    }
}

impl Run {
    /// Record which process trains this run, so a reader can tell a dead trainer.
    pub fn mark_owner(&self) -> Result<(), StoreError> {
        self.write_owner(&Owner::this_process())
    }

    /// Record another process (a trainer the lab just started) as this run's owner.
    pub fn set_owner(&self, pid: u32) -> Result<(), StoreError> {
        self.write_owner(&Owner::local(pid))
    }

    fn write_owner(&self, o: &Owner) -> Result<(), StoreError> {
        self.replace(
            layout::OWNER,
            o.to_line().as_bytes(),
            crate::atomic::Durability::Rename,
        )
    }

    /// The owner the `pid` file names, if it names one.
    pub fn owner(&self) -> Option<Owner> {
        Owner::parse(&std::fs::read_to_string(self.dir.join(layout::OWNER)).ok()?)
    }

    /// The trainer's process id, when it runs on this machine and is alive.
    pub fn owner_pid(&self) -> Option<u32> {
        self.owner()
            .filter(|o| o.is_here() && process_alive(o.pid))
            .map(|o| o.pid)
    }

    pub(crate) fn owner_alive(&self) -> bool {
        self.owner().is_some_and(|o| o.may_be_alive())
    }
}

/// Whether a process of this machine is alive. A zombie (exited, not yet reaped by its parent)
/// still has a `/proc` entry but trains nothing: its state letter is `Z`.
pub(crate) fn process_alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        // The state follows the command name, which is in parentheses and may hold spaces.
        Ok(stat) => stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().next())
            .is_some_and(|state| state != "Z" && state != "X"),
        Err(_) => false,
    }
}

pub(crate) fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_string())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pid_file_parses_with_or_without_its_host() {
        assert_eq!(
            Owner::parse("42 node7\n"),
            Some(Owner {
                pid: 42,
                host: "node7".into()
            })
        );
        assert_eq!(Owner::parse("42").map(|o| o.host), Some(String::new()));
        assert_eq!(Owner::parse(""), None);
        assert_eq!(Owner::parse("x node7"), None);
        let me = Owner::this_process();
        assert_eq!(Owner::parse(&me.to_line()), Some(me.clone()));
        assert!(me.is_here() && me.may_be_alive());
    }
}
