//! Training-time augmentation: a random crop with zero padding and a horizontal flip, drawn per
//! image and step from the run's own generator (never burn's), so a resumed run sees exactly the
//! inputs an uninterrupted one does. Two copies of an image stop being the same input.

use super::FieldError;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct AugmentSpec {
    /// Pixels of zero padding on each side; each image is shifted by a random −crop…+crop in
    /// both directions (the crop of the padded image back to its size). 0 = no crop.
    #[serde(default)]
    pub crop: usize,
    /// Mirror each image left–right with probability ½.
    #[serde(default)]
    pub flip: bool,
}

/// Largest crop padding offered (CIFAR's recipe pads 4).
pub const MAX_CROP: usize = 8;

impl AugmentSpec {
    pub fn validate(&self) -> Result<(), FieldError> {
        if self.crop > MAX_CROP {
            return Err(FieldError::new(
                "crop".into(),
                format!(
                    "is {}; allowed: 0 to {MAX_CROP} pixels of padding",
                    self.crop
                ),
            ));
        }
        Ok(())
    }

    /// Whether it changes anything.
    pub fn is_active(&self) -> bool {
        self.crop > 0 || self.flip
    }

    /// A short label: `crop 4 + flip`, `flip`, `none`.
    pub fn label(&self) -> String {
        match (self.crop, self.flip) {
            (0, false) => "none".into(),
            (0, true) => "flip".into(),
            (c, false) => format!("crop {c}"),
            (c, true) => format!("crop {c} + flip"),
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::spec::default_with as load;

    #[test]
    fn augmentation_is_checked_where_the_preset_loads() {
        let p = load(&["training.augment={ crop = 4, flip = true }"]).unwrap();
        assert_eq!(p.training.augment.unwrap().label(), "crop 4 + flip");
        assert!(
            load(&[]).unwrap().training.augment.is_none(),
            "off by default"
        );
        let e = load(&["training.augment={ crop = 9 }"]).unwrap_err();
        assert!(
            e.contains("training.augment.crop") && e.contains("0 to 8"),
            "{e}"
        );
        let e = load(&["training.augment={ crop = 2, mirror = true }"]).unwrap_err();
        assert!(e.contains("mirror"), "{e}");
        let e = load(&["data.set=mnist", "training.augment={ flip = true }"]).unwrap_err();
        assert!(
            e.contains("training.augment.flip") && e.contains("mnist"),
            "{e}"
        );
        assert!(load(&["data.set=mnist", "training.augment={ crop = 2 }"]).is_ok());
    }
}
