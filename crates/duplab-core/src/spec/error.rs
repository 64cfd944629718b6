//! Why a preset could not be loaded or is not valid. Every error names the file it came from;
//! a field error names the field (dotted, from the preset's root) and the allowed values.

/// One field of a spec that is not valid: which (`duplication.rate`, `training.steps`, …) and
/// why, with what is allowed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("field `{field}` {message}")]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: String, message: String) -> FieldError {
        FieldError { field, message }
    }

    /// The same error, its field named from an enclosing table (`rate` → `duplication.rate`).
    pub fn within(self, table: &str) -> FieldError {
        FieldError {
            field: format!("{table}.{}", self.field),
            message: self.message,
        }
    }
}

/// Why a preset could not be loaded. Each variant names the file it came from.
#[derive(Debug, thiserror::Error)]
pub enum SpecError {
    #[error("cannot read preset {origin}: {message}")]
    Io { origin: String, message: String },
    /// TOML syntax or type errors, including unknown fields and unknown variant names
    /// (serde lists the allowed values in its message).
    #[error("invalid preset {origin}: {message}")]
    Parse { origin: String, message: String },
    #[error("invalid preset {origin}: field `{field}` {message}")]
    Invalid {
        origin: String,
        field: String,
        message: String,
    },
    #[error("cannot apply --set to preset {origin}: {message}")]
    Override { origin: String, message: String },
    #[error(
        "no preset named `{name}` (looked in ./presets, $DUPLAB_PRESETS, the user config folder and the built-in set); known presets: {}",
        known.join(", ")
    )]
    NotFound { name: String, known: Vec<String> },
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
