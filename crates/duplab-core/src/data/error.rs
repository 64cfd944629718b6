use std::path::{Path, PathBuf};

/// A data file that could not be read, with the file and what was expected.
#[derive(Debug, thiserror::Error)]
#[error("{}: {}", terminal_safe(&path.display().to_string()), terminal_safe(message))]
pub struct DataError {
    pub path: PathBuf,
    pub message: String,
}

impl DataError {
    pub fn new(path: &Path, message: impl Into<String>) -> DataError {
        DataError {
            path: path.to_path_buf(),
            message: message.into(),
        }
    }
}

/// Text from the outside world (a file or class name) made safe to print to a terminal: control
/// characters — an escape sequence's ESC and CSI among them — are shown as `\u{..}` escapes, so a
/// crafted name can neither recolour, move nor rewrite the user's screen.
pub fn terminal_safe(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_control() {
            out.extend(c.escape_unicode());
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Case 5 of the crash-consistency issue: class and file names reached the terminal raw.
    #[test]
    fn names_reach_the_terminal_without_their_escape_sequences() {
        let evil = "cat\x1b[2J\x1b]0;pwned\x07\u{9b}31m";
        let safe = terminal_safe(evil);
        assert!(!safe.chars().any(char::is_control), "{safe:?}");
        assert!(safe.starts_with("cat\\u{1b}[2J"), "{safe}");
        let e = DataError::new(Path::new(evil), format!("class `{evil}`")).to_string();
        assert!(!e.chars().any(char::is_control), "{e:?}");
        assert_eq!(terminal_safe("plain name"), "plain name");
    }
}
