use std::fmt;

/// Why a preset could not be loaded. Each variant names the file it came from.
#[derive(Debug)]
pub enum SpecError {
    Io {
        origin: String,
        message: String,
    },
    /// TOML syntax or type errors, including unknown fields and unknown variant names
    /// (serde lists the allowed values in its message).
    Parse {
        origin: String,
        message: String,
    },
    Invalid {
        origin: String,
        field: String,
        message: String,
    },
    Override {
        origin: String,
        message: String,
    },
    NotFound {
        name: String,
        known: Vec<String>,
    },
}

impl SpecError {
    pub(crate) fn parse(origin: &str, e: toml::de::Error) -> SpecError {
        // toml's message is multi-line (with a source excerpt); keep it, it points at the line.
        SpecError::Parse {
            origin: origin.to_string(),
            message: e.to_string().trim().to_string(),
        }
    }
}

impl fmt::Display for SpecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SpecError::Io { origin, message } => {
                write!(f, "cannot read preset {origin}: {message}")
            }
            SpecError::Parse { origin, message } => write!(f, "invalid preset {origin}: {message}"),
            SpecError::Invalid {
                origin,
                field,
                message,
            } => {
                write!(f, "invalid preset {origin}: field `{field}` {message}")
            }
            SpecError::Override { origin, message } => {
                write!(f, "cannot apply --set to preset {origin}: {message}")
            }
            SpecError::NotFound { name, known } => write!(
                f,
                "no preset named `{name}` (looked in ./presets, $DUPLAB_PRESETS, the user config folder and the built-in set); known presets: {}",
                known.join(", ")
            ),
        }
    }
}

impl std::error::Error for SpecError {}
