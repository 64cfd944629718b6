//! Presets and every spec inside them: plain serde types plus validation. No burn, no terminal.
//!
//! A preset is a TOML file in `presets/`. Loading goes: read text → parse to a TOML tree → apply
//! `--set key=value` overrides on the tree → deserialise (unknown fields are errors) → validate
//! ranges. Every error names the file, the field and what is allowed.

mod attack;
mod augment;
mod device;
mod duplication;
mod error;
mod family;
mod grid;
mod overrides;
mod reference;
mod training;

pub use attack::{AttackKind, AttackSpec, EvalSpec, Norm};
pub use augment::{AugmentSpec, MAX_CROP};
pub use device::{ALLOWED as DEVICE_ALLOWED, DeviceChoice};
pub use duplication::{DupMode, DuplicationSpec, PlanSeed, Profile};
pub use error::{FieldError, SpecError};
pub use family::{CONTRAST_METRICS, Declared, EffectRef, GAP_METRICS, family_size};
pub use grid::{Axis, AxisValue, BUILTIN_GRIDS, Grid, Point, load_grid};
pub use overrides::{OverrideError, apply_override};
pub use reference::ReferenceSpec;
pub use training::{Length, ModelKind, OptimizerKind, Schedule, TrainingSpec};

use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// Which data set a preset trains on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DataSetKind {
    /// The class-balanced Fashion-MNIST subset compiled into the binary.
    Embedded,
    Mnist,
    FashionMnist,
    Cifar10,
    /// An image folder (torchvision's ImageFolder layout) at `data.path`.
    Folder,
}

impl DataSetKind {
    pub const ALLOWED: &'static str = "embedded, mnist, fashion-mnist, cifar10, folder";
    pub fn name(self) -> &'static str {
        match self {
            DataSetKind::Embedded => "embedded",
            DataSetKind::Mnist => "mnist",
            DataSetKind::FashionMnist => "fashion-mnist",
            DataSetKind::Cifar10 => "cifar10",
            DataSetKind::Folder => "folder",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataSpec {
    pub set: DataSetKind,
    /// Test images with a training image within this RMS distance ([0, 1] units) are *leaky*;
    /// every evaluation reports accuracy on leaky and fair test images apart (0 = exact copies).
    #[serde(default = "leak_threshold")]
    pub leak_threshold: f64,
    /// `set = "folder"`: the folder (`ROOT/train/<class>/*` + `ROOT/test/<class>/*`, or
    /// `ROOT/<class>/*` split by `split`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// `[H, W]` every image is resized to (bilinear); without it all images must be one size.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<[usize; 2]>,
    /// 1 (grey) or 3 (RGB); images are converted. Default: the first image's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channels: Option<usize>,
    /// The test fraction of a folder without `train/` and `test/` (seeded by the plan's seed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub split: Option<f64>,
    /// What an unreadable image does: `"stop"` (default) or `"skip"` (named, left out).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bad_images: Option<BadImages>,
    /// Train on the first `n` training images of each class, in file order (the cut the embedded
    /// subset was made by: `fashion-mnist` with 1000 is the embedded set); the images left out
    /// are the reserve `duplication.mode = "fresh"` draws from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub train_per_class: Option<usize>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BadImages {
    Stop,
    Skip,
}

impl DataSpec {
    fn validate(&self) -> Result<(), FieldError> {
        let folder = self.set == DataSetKind::Folder;
        if folder && self.path.as_deref().is_none_or(|p| p.trim().is_empty()) {
            return Err(FieldError::new(
                "data.path".into(),
                "is required by set = \"folder\" (the image folder's path)".into(),
            ));
        }
        if !folder {
            for (f, set) in [
                ("path", self.path.is_some()),
                ("size", self.size.is_some()),
                ("channels", self.channels.is_some()),
                ("split", self.split.is_some()),
                ("bad_images", self.bad_images.is_some()),
            ] {
                if set {
                    return Err(FieldError::new(
                        format!("data.{f}"),
                        format!(
                            "applies only to set = \"folder\" (this preset's set is {})",
                            self.set.name()
                        ),
                    ));
                }
            }
        }
        if self.train_per_class == Some(0) {
            return Err(FieldError::new(
                "data.train_per_class".into(),
                "is 0; allowed: a number of training images per class, 1 or more".into(),
            ));
        }
        if let Some(c) = self.channels
            && c != 1
            && c != 3
        {
            return Err(FieldError::new(
                "data.channels".into(),
                format!("is {c}; allowed: 1 or 3"),
            ));
        }
        if let Some([h, w]) = self.size
            && (h == 0 || w == 0 || h > 1024 || w > 1024)
        {
            return Err(FieldError::new(
                "data.size".into(),
                format!("is [{h}, {w}]; allowed: [H, W] from 1 to 1024"),
            ));
        }
        if let Some(f) = self.split
            && !(f > 0.0 && f < 1.0)
        {
            return Err(FieldError::new(
                "data.split".into(),
                format!("is {f}; allowed: a test fraction in (0, 1)"),
            ));
        }
        Ok(())
    }
}

fn leak_threshold() -> f64 {
    0.05
}

/// How the model is attacked while training and while being evaluated.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct AttackSection {
    #[serde(default)]
    pub train: AttackSpec,
    #[serde(default)]
    pub eval: EvalSpec,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Preset {
    pub name: String,
    #[serde(default)]
    pub description: String,
    pub data: DataSpec,
    #[serde(default)]
    pub duplication: DuplicationSpec,
    #[serde(default)]
    pub attack: AttackSection,
    pub training: TrainingSpec,
    /// Present when the preset's runs are the reference models of a membership study.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<ReferenceSpec>,
}

impl Preset {
    /// Parse preset text; `origin` names the file in errors. Overrides are `key=value` strings.
    pub fn from_toml_str(
        text: &str,
        origin: &str,
        overrides: &[String],
    ) -> Result<Preset, SpecError> {
        let mut tree: toml::Table =
            toml::from_str(text).map_err(|e| SpecError::parse(origin, e))?;
        for ov in overrides {
            apply_override(&mut tree, ov).map_err(|e| SpecError::Override {
                origin: origin.to_string(),
                message: e.0,
            })?;
        }
        let preset: Preset =
            toml::Table::try_into(tree).map_err(|e| SpecError::parse(origin, e))?;
        preset
            .validate()
            .map_err(|FieldError { field, message }| SpecError::Invalid {
                origin: origin.to_string(),
                field,
                message,
            })?;
        Ok(preset)
    }

    pub fn load(path: &Path, overrides: &[String]) -> Result<Preset, SpecError> {
        let text = std::fs::read_to_string(path).map_err(|e| SpecError::Io {
            origin: path.display().to_string(),
            message: e.to_string(),
        })?;
        Preset::from_toml_str(&text, &path.display().to_string(), overrides)
    }

    /// Range checks serde cannot express. Returns (field path, message).
    pub fn validate(&self) -> Result<(), FieldError> {
        if self.name.trim().is_empty() {
            return Err(FieldError::new("name".into(), "must not be empty".into()));
        }
        self.data.validate()?;
        if matches!(
            self.attack.train.kind,
            AttackKind::ApgdCe | AttackKind::ApgdT
        ) {
            return Err(FieldError::new(
                "attack.train.kind".into(),
                format!(
                    "is {}; APGD is an evaluation attack; allowed in training: none, fgsm, fgsm-rs, pgd",
                    self.attack.train.kind.name()
                ),
            ));
        }
        let t = self.data.leak_threshold;
        if !(0.0..=1.0).contains(&t) || t.is_nan() {
            return Err(FieldError::new(
                "data.leak_threshold".into(),
                format!("is {t}; allowed: an RMS pixel distance in [0, 1]"),
            ));
        }
        self.duplication
            .validate()
            .map_err(|e| e.within("duplication"))?;
        self.attack
            .train
            .validate()
            .map_err(|e| e.within("attack.train"))?;
        self.attack
            .eval
            .validate()
            .map_err(|e| e.within("attack.eval"))?;
        self.training.validate().map_err(|e| e.within("training"))?;
        // Mirrored digits are other digits (or none): MNIST is not flipped.
        if self.training.augment.is_some_and(|a| a.flip) && self.data.set == DataSetKind::Mnist {
            return Err(FieldError::new(
                "training.augment.flip".into(),
                "is true, but set = \"mnist\": a mirrored digit is another digit or none; allowed: false (crop alone is fine)".into(),
            ));
        }
        if self.duplication.mode == DupMode::Fresh && self.data.train_per_class.is_none() {
            return Err(FieldError::new(
                "duplication.mode".into(),
                "is \"fresh\", which draws new images from the training images data.train_per_class leaves out; set data.train_per_class (e.g. 1000 with set = \"fashion-mnist\": the embedded subset, 5,000 fresh images a class in reserve)".into(),
            ));
        }
        if let Some(r) = &self.reference {
            r.validate().map_err(|e| e.within("reference"))?;
            if self.duplication.seed == PlanSeed::Run {
                return Err(FieldError::new(
                    "duplication.seed".into(),
                    "is \"run\", but reference models share one duplication plan (only membership is random); allowed: a fixed number".into(),
                ));
            }
            if self.duplication.mode.weights() || self.duplication.mode == DupMode::Fresh {
                return Err(FieldError::new(
                    "duplication.mode".into(),
                    format!(
                        "is \"{}\", a control without copies, but reference models stratify by occurrences; allowed with [reference]: exact, near",
                        self.duplication.mode.name()
                    ),
                ));
            }
            if self.duplication.keep_size || self.duplication.dedup {
                return Err(FieldError::new(
                    if self.duplication.keep_size { "duplication.keep_size" } else { "duplication.dedup" }.into(),
                    "cannot be combined with reference models (the pool is the whole training split); allowed: false".into(),
                ));
            }
            if let Some(bad) = self
                .training
                .seeds
                .iter()
                .find(|&&s| r.model_of(s).is_err())
            {
                return Err(FieldError::new(
                    "training.seeds".into(),
                    r.model_of(*bad).unwrap_err(),
                ));
            }
        }
        Ok(())
    }

    pub fn to_toml(&self) -> String {
        toml::to_string_pretty(self).expect("a preset always serialises")
    }
}

/// Where presets are looked up: the project's `presets/` folder, then the user's config folder.
pub fn preset_dirs() -> Vec<PathBuf> {
    let mut dirs = vec![];
    if let Ok(d) = std::env::var("DUPLAB_PRESETS") {
        dirs.push(PathBuf::from(d));
    }
    dirs.push(PathBuf::from("presets"));
    if let Some(p) = directories::ProjectDirs::from("", "", "duplab") {
        dirs.push(p.config_dir().join("presets"));
    }
    dirs
}

/// The presets compiled into the binary, so `duplab` works from any folder.
pub const BUILTIN_PRESETS: &[(&str, &str)] = &[
    ("default", include_str!("../../../../presets/default.toml")),
    (
        "default-skewed",
        include_str!("../../../../presets/default-skewed.toml"),
    ),
    (
        "default-fgsm",
        include_str!("../../../../presets/default-fgsm.toml"),
    ),
    (
        "default-overfit",
        include_str!("../../../../presets/default-overfit.toml"),
    ),
    (
        "mnist-lenet",
        include_str!("../../../../presets/mnist-lenet.toml"),
    ),
    (
        "mnist-fgsm",
        include_str!("../../../../presets/mnist-fgsm.toml"),
    ),
    (
        "mnist-pgd",
        include_str!("../../../../presets/mnist-pgd.toml"),
    ),
    (
        "fashion-pgd",
        include_str!("../../../../presets/fashion-pgd.toml"),
    ),
    (
        "cifar10-std-00",
        include_str!("../../../../presets/cifar10-std-00.toml"),
    ),
    (
        "cifar10-resnet-std",
        include_str!("../../../../presets/cifar10-resnet-std.toml"),
    ),
    (
        "cifar10-resnet-fgsm",
        include_str!("../../../../presets/cifar10-resnet-fgsm.toml"),
    ),
    (
        "cifar10-resnet-pgd",
        include_str!("../../../../presets/cifar10-resnet-pgd.toml"),
    ),
    (
        "cifar10-std-10",
        include_str!("../../../../presets/cifar10-std-10.toml"),
    ),
    (
        "cifar10-std-20",
        include_str!("../../../../presets/cifar10-std-20.toml"),
    ),
    (
        "cifar10-std-40",
        include_str!("../../../../presets/cifar10-std-40.toml"),
    ),
    (
        "cifar10-std-60",
        include_str!("../../../../presets/cifar10-std-60.toml"),
    ),
    (
        "cifar10-std-skewed",
        include_str!("../../../../presets/cifar10-std-skewed.toml"),
    ),
    (
        "cifar10-pgd-00",
        include_str!("../../../../presets/cifar10-pgd-00.toml"),
    ),
    (
        "cifar10-pgd-10",
        include_str!("../../../../presets/cifar10-pgd-10.toml"),
    ),
    (
        "cifar10-pgd-20",
        include_str!("../../../../presets/cifar10-pgd-20.toml"),
    ),
    (
        "cifar10-pgd-40",
        include_str!("../../../../presets/cifar10-pgd-40.toml"),
    ),
    (
        "cifar10-pgd-60",
        include_str!("../../../../presets/cifar10-pgd-60.toml"),
    ),
    (
        "cifar10-pgd-skewed",
        include_str!("../../../../presets/cifar10-pgd-skewed.toml"),
    ),
];

/// One preset known by name: where it came from and its text.
#[derive(Debug, Clone)]
pub struct PresetSource {
    pub name: String,
    pub origin: String,
    pub text: String,
}

/// Every preset by name: files on disk shadow the built-in ones of the same name.
pub fn list_presets() -> Vec<PresetSource> {
    let mut out: Vec<PresetSource> = vec![];
    for dir in preset_dirs() {
        let Ok(rd) = std::fs::read_dir(&dir) else {
            continue;
        };
        let mut files: Vec<PathBuf> = rd
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "toml"))
            .collect();
        files.sort();
        for path in files {
            let name = path
                .file_stem()
                .unwrap_or_default()
                .to_string_lossy()
                .to_string();
            if out.iter().any(|p| p.name == name) {
                continue;
            }
            if let Ok(text) = std::fs::read_to_string(&path) {
                // Sweep grids live in presets/ too; they are not presets.
                if text.contains("[axes") || text.starts_with("# grid") {
                    continue;
                }
                out.push(PresetSource {
                    name,
                    origin: path.display().to_string(),
                    text,
                });
            }
        }
    }
    for (name, text) in BUILTIN_PRESETS {
        if !out.iter().any(|p| p.name == *name) {
            out.push(PresetSource {
                name: name.to_string(),
                origin: format!("<built-in>/{name}.toml"),
                text: text.to_string(),
            });
        }
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

/// Find a preset by name (or by path, if `name` ends in `.toml`) and load it with overrides.
pub fn find_preset(name: &str, overrides: &[String]) -> Result<Preset, SpecError> {
    if name.ends_with(".toml") || name.contains('/') {
        return Preset::load(Path::new(name), overrides);
    }
    let all = list_presets();
    match all.iter().find(|p| p.name == name) {
        Some(src) => Preset::from_toml_str(&src.text, &src.origin, overrides),
        None => Err(SpecError::NotFound {
            name: name.to_string(),
            known: all.iter().map(|p| p.name.clone()).collect(),
        }),
    }
}

pub const DEFAULT_PRESET: &str = "default";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_builtin_preset_parses_and_validates() {
        for (name, text) in BUILTIN_PRESETS {
            let p = Preset::from_toml_str(text, name, &[]).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(&p.name, name, "preset name must match its file name");
        }
    }

    #[test]
    fn unknown_profile_names_file_field_and_allowed_values() {
        let text = BUILTIN_PRESETS[0]
            .1
            .replace("profile = \"uniform\"", "profile = \"zigzag\"");
        let err = Preset::from_toml_str(&text, "presets/x.toml", &[])
            .unwrap_err()
            .to_string();
        assert!(err.contains("presets/x.toml"), "{err}");
        assert!(err.contains("zigzag"), "{err}");
        assert!(err.contains("uniform") && err.contains("linear"), "{err}");
    }

    #[test]
    fn out_of_range_rate_names_field_and_range() {
        let err = Preset::from_toml_str(
            BUILTIN_PRESETS[0].1,
            "p.toml",
            &["duplication.rate=1.5".into()],
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("duplication.rate"), "{err}");
        assert!(err.contains("[0, 1]"), "{err}");
    }

    #[test]
    fn unknown_field_is_rejected() {
        let text = format!("{}\nbogus = 3\n", BUILTIN_PRESETS[0].1);
        // A top-level unknown key after a table header lands inside that table.
        let err = Preset::from_toml_str(&text, "p.toml", &[])
            .unwrap_err()
            .to_string();
        assert!(err.contains("bogus"), "{err}");
    }

    #[test]
    fn override_changes_fields_of_any_type() {
        let p = Preset::from_toml_str(
            BUILTIN_PRESETS[0].1,
            "p",
            &[
                "duplication.rate=0.4".into(),
                "training.seeds=[1,2,3]".into(),
                "attack.train.kind=pgd".into(),
                "attack.train.eps=0.1".into(),
                "attack.train.step=0.02".into(),
                "training.steps=100".into(),
            ],
        )
        .unwrap();
        assert_eq!(p.duplication.rate, Some(0.4));
        assert_eq!(p.training.seeds, vec![1, 2, 3]);
        assert_eq!(p.attack.train.kind, AttackKind::Pgd);
        assert_eq!(p.training.length().unwrap(), Length::Steps(100));
    }

    #[test]
    fn preset_round_trips_through_toml() {
        for (name, text) in BUILTIN_PRESETS {
            let p = Preset::from_toml_str(text, name, &[]).unwrap();
            let again = Preset::from_toml_str(&p.to_toml(), name, &[]).unwrap();
            assert_eq!(p, again);
        }
    }

    #[test]
    fn apgd_is_for_evaluation_only_and_folder_fields_need_a_folder() {
        let e = find_preset("default", &["attack.train.kind=apgd-ce".into()]).unwrap_err();
        assert!(
            e.to_string().contains("APGD is an evaluation attack"),
            "{e}"
        );
        let p = find_preset(
            "default",
            &[
                "attack.eval.kind=apgd-t".into(),
                "attack.eval.targets=4".into(),
            ],
        )
        .unwrap();
        assert_eq!(
            p.attack.eval.attack.label(),
            "apgd-t-10 L∞ ε=0.1 (4 targets)"
        );
        let e = find_preset("default", &["data.size=[32, 32]".into()]).unwrap_err();
        assert!(
            e.to_string().contains("data.size") && e.to_string().contains("folder"),
            "{e}"
        );
        let e = find_preset("default", &["data.set=\"folder\"".into()]).unwrap_err();
        assert!(e.to_string().contains("data.path"), "{e}");
    }

    #[test]
    fn default_preset_is_on_embedded_data() {
        let p = find_preset(DEFAULT_PRESET, &[]).unwrap();
        assert_eq!(p.data.set, DataSetKind::Embedded);
    }
}

#[cfg(test)]
mod fresh_tests {
    use super::default_with;

    /// The fresh-image control needs a reserve, and fits neither keep_size nor reference models.
    #[test]
    fn the_fresh_image_control_is_refused_where_it_cannot_draw_or_be_stratified() {
        let ok = default_with(&["duplication.mode=fresh", "data.train_per_class=900"]);
        assert!(ok.is_ok(), "{ok:?}");
        let e = default_with(&["duplication.mode=fresh"]).unwrap_err();
        assert!(
            e.contains("duplication.mode") && e.contains("set data.train_per_class"),
            "{e}"
        );
        let e = default_with(&["data.train_per_class=0"]).unwrap_err();
        assert!(
            e.contains("data.train_per_class") && e.contains("is 0"),
            "{e}"
        );
        let e = default_with(&[
            "duplication.mode=fresh",
            "data.train_per_class=900",
            "duplication.keep_size=true",
        ])
        .unwrap_err();
        assert!(e.contains("keep_size") && e.contains("\"fresh\""), "{e}");
        let e = default_with(&[
            "duplication.mode=fresh",
            "data.train_per_class=900",
            "reference.models=8",
        ])
        .unwrap_err();
        assert!(e.contains("allowed with [reference]: exact, near"), "{e}");
        let e = default_with(&["duplication.mode=copy"]).unwrap_err();
        assert!(e.contains("fresh"), "{e}");
    }
}

/// The built-in default preset with `sets` applied, its error as text (spec tests).
#[cfg(test)]
pub(crate) fn default_with(sets: &[&str]) -> Result<Preset, String> {
    let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
    find_preset("default", &sets).map_err(|e| e.to_string())
}
