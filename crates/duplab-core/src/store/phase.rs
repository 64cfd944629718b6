//! What a trainer is doing outside training steps, as a value: the trainer sends it on its
//! channel and writes its words into the run folder's `phase` file; the command line and the lab
//! show those words. The words are defined here, once, so every reader shows the same text.

/// One phase of a trainer's work.
#[derive(Debug, Clone, PartialEq)]
pub enum Phase {
    LoadingData {
        set: String,
    },
    /// Decoding an image folder (its cache serves the next run).
    DecodingFolder {
        done: usize,
        total: usize,
    },
    SkippedImages {
        count: usize,
        first: String,
    },
    Dedup {
        threshold: f64,
    },
    Uploading,
    /// The test→train near-duplicate search (leaky test images).
    LeakageSearch,
    Training,
    TestSet,
    Robust {
        attack: String,
        done: usize,
        total: usize,
    },
    Groups,
    /// A reference model: near-duplicates within the pool (cached per data set), to leave
    /// disguised members out of the non-members.
    PoolSearch,
    /// A reference model's last act: the logit margin of every pool image.
    Scoring {
        done: usize,
        total: usize,
    },
    OverfitCheck,
    /// The catastrophic-overfitting check fired; `what` says at which step and how.
    OverfitAlarm {
        what: String,
    },
}

impl std::fmt::Display for Phase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Phase::LoadingData { set } => write!(f, "loading data set {set}"),
            Phase::DecodingFolder { done, total } => write!(
                f,
                "decoding the image folder (cached for next time): {done}/{total} images"
            ),
            Phase::SkippedImages { count, first } => {
                write!(f, "skipped {count} unreadable image(s), e.g. {first}")
            }
            Phase::Dedup { threshold } => {
                write!(
                    f,
                    "dedup: near-duplicates within the training set (≤ {threshold})"
                )
            }
            Phase::Uploading => f.write_str("uploading data to the device"),
            Phase::LeakageSearch => {
                f.write_str("finding test images that nearly copy a training image")
            }
            Phase::Training => f.write_str("training"),
            Phase::TestSet => f.write_str("evaluating on the test set"),
            Phase::Robust {
                attack,
                done,
                total,
            } => write!(f, "robust evaluation ({attack}): {done}/{total} images"),
            Phase::Groups => f.write_str("group metrics: duplicated, unique, dropped, test"),
            Phase::PoolSearch => {
                f.write_str("finding near-duplicates within the pool (membership non-members)")
            }
            Phase::Scoring { done, total } => write!(
                f,
                "scoring the pool for the membership attacks: {done}/{total} images"
            ),
            Phase::OverfitCheck => {
                f.write_str("catastrophic-overfitting check: PGD and FGSM on 256 training images")
            }
            Phase::OverfitAlarm { what } => write!(f, "⚠ {what}"),
        }
    }
}

impl Phase {
    /// Progress within long work (decoding, a robust pass): many a second, so the phase file
    /// takes only some of them.
    pub fn is_progress(&self) -> bool {
        matches!(
            self,
            Phase::DecodingFolder { .. } | Phase::Robust { .. } | Phase::Scoring { .. }
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phases_read_as_the_lab_and_the_command_line_show_them() {
        assert_eq!(Phase::TestSet.to_string(), "evaluating on the test set");
        assert_eq!(
            Phase::Robust {
                attack: "PGD-10".into(),
                done: 3,
                total: 9
            }
            .to_string(),
            "robust evaluation (PGD-10): 3/9 images"
        );
        assert!(
            Phase::OverfitAlarm { what: "x".into() }
                .to_string()
                .starts_with('⚠')
        );
    }
}
