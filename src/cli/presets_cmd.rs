use super::exit::failure;
use crate::nn::{InputShape, param_count};
use crate::spec::{DataSetKind, Preset, find_preset, list_presets};
use anyhow::Result;

/// The input shape a preset's data set has (without loading it), for parameter counts.
pub fn input_shape_of(p: &Preset) -> InputShape {
    let (c, [h, w]) = match p.data.set {
        DataSetKind::Cifar10 => (3, [32, 32]),
        // A folder's shape is what the preset asks for (else its first image's, unknown here).
        DataSetKind::Folder => (
            p.data.channels.unwrap_or(3),
            p.data.size.unwrap_or([32, 32]),
        ),
        _ => (1, [28, 28]),
    };
    InputShape {
        channels: c,
        height: h,
        width: w,
        classes: 10,
        mean: vec![0.5; c],
        std: vec![0.25; c],
    }
}

pub fn run(name: Option<&str>, set: &[String]) -> Result<i32> {
    match name {
        None => {
            println!(
                "{:<22} {:<14} {:<16} {:<28} {:<22} DESCRIPTION",
                "NAME", "DATA", "MODEL", "DUPLICATION", "TRAIN ATTACK"
            );
            for src in list_presets() {
                match Preset::from_toml_str(&src.text, &src.origin, &[]) {
                    Ok(p) => println!(
                        "{:<22} {:<14} {:<16} {:<28} {:<22} {}",
                        src.name,
                        p.data.set.name(),
                        p.training.model.name(),
                        p.duplication.label(),
                        p.attack.train.label(),
                        p.description
                    ),
                    Err(e) => println!("{:<22} INVALID: {e}", src.name),
                }
            }
            Ok(0)
        }
        Some(n) => match find_preset(n, set) {
            Ok(p) => {
                print!("{}", p.to_toml());
                match param_count(p.training.model, &input_shape_of(&p)) {
                    Ok(c) => println!("\n# model {}: {c} parameters", p.training.model.name()),
                    Err(e) => println!("\n# model {}: {e}", p.training.model.name()),
                }
                Ok(0)
            }
            Err(e) => Err(failure(e)),
        },
    }
}
