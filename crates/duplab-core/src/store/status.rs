//! A run's status: one word in the run folder's `status` file.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RunStatus {
    Running,
    /// Training is held between steps by a pause control; the trainer process is alive.
    Paused,
    Finished,
    Failed,
    Interrupted,
}

/// Each status and its word: the one table both directions read.
const WORDS: [(RunStatus, &str); 5] = [
    (RunStatus::Running, "running"),
    (RunStatus::Paused, "paused"),
    (RunStatus::Finished, "finished"),
    (RunStatus::Failed, "failed"),
    (RunStatus::Interrupted, "interrupted"),
];

impl RunStatus {
    pub fn name(self) -> &'static str {
        WORDS
            .iter()
            .find(|(s, _)| *s == self)
            .map_or("?", |(_, w)| w)
    }

    /// The status a `status` file's text names (surrounding whitespace ignored).
    pub fn parse(s: &str) -> Option<RunStatus> {
        let s = s.trim();
        WORDS.iter().find(|(_, w)| *w == s).map(|(st, _)| *st)
    }

    /// A trainer process owns the run right now (running or paused).
    pub fn is_live(self) -> bool {
        matches!(self, RunStatus::Running | RunStatus::Paused)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_reads_back_as_its_word_and_as_serde_writes_it() {
        for (s, w) in WORDS {
            assert_eq!(RunStatus::parse(&format!("{w}\n")), Some(s));
            assert_eq!(s.name(), w);
            assert_eq!(serde_json::to_string(&s).unwrap(), format!("\"{w}\""));
        }
        assert_eq!(RunStatus::parse("runnin"), None);
    }
}
