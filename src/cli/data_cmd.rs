use super::DataCommand;
use super::exit::failure;
use crate::data::{self, DataSet, Plan};
use crate::spec::find_preset;
use anyhow::Result;
use std::path::Path;

pub fn run(cmd: DataCommand) -> Result<i32> {
    match cmd {
        DataCommand::Inspect {
            data_dir,
            preset,
            set,
        } => inspect(data_dir.as_deref(), preset.as_deref(), &set),
        DataCommand::MakeSubset { data_dir, out } => make_subset(&data_dir, &out),
        DataCommand::Get { set, dir, mirror } => super::data_get::run(set, dir, mirror),
        DataCommand::Dups {
            data_dir,
            preset,
            threshold,
            pairs,
            json,
            csv,
            limit,
        } => match super::dups_cmd::load(data_dir.as_deref(), preset.as_deref()) {
            Ok(ds) => super::dups_cmd::run(
                &ds,
                &super::dups_cmd::DupsArgs {
                    threshold,
                    pairs,
                    json,
                    csv,
                    limit,
                },
            ),
            Err(e) => Err(e),
        },
    }
}

use crate::data::guess_kind as kind_of_dir;

fn inspect(data_dir: Option<&Path>, preset: Option<&str>, set: &[String]) -> Result<i32> {
    let preset = preset.map(|p| find_preset(p, set)).transpose()?;
    let loaded = match (&preset, data_dir) {
        (Some(p), dir) => data::load_spec(&p.data, dir, &|_, _| {})
            .map(|(ds, skipped)| report_skipped(ds, &skipped)),
        (None, Some(dir)) => data::load(kind_of_dir(dir), Some(dir)),
        (None, None) => Ok(data::load_embedded()),
    };
    let ds = loaded?;
    let (ds, reserve) = match preset.as_ref().and_then(|p| p.data.train_per_class) {
        None => (ds, None),
        Some(n) => {
            let (ds, reserve) =
                data::cut_train(ds, n).map_err(|m| failure(format!("data.train_per_class {m}")))?;
            (ds, Some(reserve))
        }
    };
    print_dataset(&ds);
    if let Some(r) = &reserve {
        println!(
            "reserve    {} images (fresh-image control)",
            thousands(r.len())
        );
    }
    let ds = match &preset {
        Some(p) if p.duplication.dedup => {
            let th = p.duplication.dedup_threshold;
            let (out, d) = data::deduplicate(&ds, th, data::cache_dir().as_deref(), &|_, _| {});
            println!(
                "\ndedup (≤ {th}): {} pairs in {} groups; {} training images removed, {} left",
                d.pairs,
                d.groups,
                d.removed.len(),
                out.train.len()
            );
            println!("removed per class: {:?}", d.removed_per_class);
            out
        }
        _ => ds,
    };
    if let Some(p) = preset {
        match data::make_plan_with(
            &p.duplication,
            &ds.train.labels,
            reserve.as_ref().map(|r| r.labels.as_slice()),
            ds.num_classes(),
            p.training.seeds.first().copied().unwrap_or(0),
        ) {
            Ok(plan) => print_plan(&ds, &plan, &p.duplication.label(), &p.name),
            Err(e) => {
                return Err(failure(format!(
                    "preset {}: {}",
                    p.name,
                    e.within("duplication")
                )));
            }
        }
    }
    Ok(0)
}

/// Name the images an image folder's reader skipped (at most 20), and pass the data on.
pub fn report_skipped(ds: DataSet, skipped: &[String]) -> DataSet {
    for s in skipped.iter().take(20) {
        eprintln!("skipped unreadable image {s}");
    }
    if skipped.len() > 20 {
        eprintln!("… and {} more", skipped.len() - 20);
    }
    ds
}

fn print_dataset(ds: &DataSet) {
    println!("data set   {}", ds.name);
    println!("source     {}", ds.source);
    println!(
        "images     {}×{}×{} (C×H×W), u8",
        ds.train.channels, ds.train.height, ds.train.width
    );
    println!(
        "train      {} images   sha256 {}",
        thousands(ds.train.len()),
        data::checksum(&ds.train.images)
    );
    println!(
        "test       {} images   sha256 {}",
        thousands(ds.test.len()),
        data::checksum(&ds.test.images)
    );
    println!();
    println!("{:>3}  {:<14} {:>8} {:>8}", "#", "class", "train", "test");
    let (tr, te) = (
        ds.train.class_counts(ds.num_classes()),
        ds.test.class_counts(ds.num_classes()),
    );
    for c in 0..ds.num_classes() {
        println!(
            "{c:>3}  {:<14} {:>8} {:>8}",
            ds.class_names[c],
            thousands(tr[c]),
            thousands(te[c])
        );
    }
}

/// A per-class text histogram: original images (`█`) and copies (`▒`) of each class.
pub fn print_plan(ds: &DataSet, plan: &Plan, label: &str, preset: &str) {
    println!();
    println!("duplication plan of preset {preset}: {label}");
    println!(
        "{} → {} training entries ({} copies, {} distinct images)",
        thousands(plan.before.iter().sum()),
        thousands(plan.len()),
        thousands(plan.copies()),
        thousands(plan.distinct.iter().sum())
    );
    if !plan.fresh.is_empty() {
        println!(
            "(class-prior control: {} fresh images from the reserve stand in for the copies)",
            thousands(plan.fresh.len())
        );
    }
    let max = plan.after.iter().copied().max().unwrap_or(1).max(1);
    let width = 40.0;
    println!(
        "{:>3}  {:<14} {:>7} {:>7} {:>7} {:>7}  █ originals ▒ copies",
        "#", "class", "before", "chosen", "after", "dup%"
    );
    for c in 0..plan.before.len() {
        let orig = plan.distinct[c];
        let copies = plan.after[c] - orig;
        let a = (orig as f64 / max as f64 * width).round() as usize;
        let b = (copies as f64 / max as f64 * width).round() as usize;
        println!(
            "{c:>3}  {:<14} {:>7} {:>7} {:>7} {:>6.1}%  {}{}",
            ds.class_names.get(c).map(String::as_str).unwrap_or("?"),
            plan.before[c],
            plan.chosen[c],
            plan.after[c],
            100.0 * copies as f64 / plan.after[c].max(1) as f64,
            "█".repeat(a),
            "▒".repeat(b)
        );
    }
}

pub fn thousands(n: usize) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, ch) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

fn make_subset(dir: &Path, out: &Path) -> Result<i32> {
    let (train, test) = data::read_mnist_like(dir, 10)?;
    if let Err(e) = std::fs::create_dir_all(out) {
        return Err(failure(format!("{}: {e}", out.display())));
    }
    let tr = data::balanced_subset(&train, 10, data::TRAIN_PER_CLASS);
    let te = data::balanced_subset(&test, 10, data::TEST_PER_CLASS);
    for (split, prefix) in [(&tr, "train"), (&te, "t10k")] {
        if let Err(e) = data::write_idx_gz(split, out, prefix) {
            return Err(failure(format!("{}: {e}", out.display())));
        }
    }
    println!(
        "wrote {} train and {} test images to {}",
        tr.len(),
        te.len(),
        out.display()
    );
    Ok(0)
}

#[cfg(test)]
mod tests {
    #[test]
    fn thousands_groups_digits() {
        assert_eq!(super::thousands(6742), "6,742");
        assert_eq!(super::thousands(60000), "60,000");
        assert_eq!(super::thousands(12), "12");
    }
}
