use super::RunsCommand;
use super::exit::failure;
use crate::report::{RunRow, export_csv, export_json, format_table, run_rows};
use crate::store::RunStore;
use anyhow::Result;
use std::io::{BufRead, IsTerminal, Write};

pub fn run(store: &RunStore, cmd: RunsCommand) -> Result<i32> {
    match cmd {
        RunsCommand::Ls { json } => match run_rows(store) {
            Ok(rows) if json => {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&rows).expect("rows serialise")
                );
                Ok(0)
            }
            Ok(rows) if rows.is_empty() => {
                println!(
                    "no runs in {} (start one with `duplab train`)",
                    store.root.display()
                );
                Ok(0)
            }
            Ok(rows) => {
                print!("{}", format_table(&rows));
                Ok(0)
            }
            Err(e) => Err(failure(e)),
        },
        RunsCommand::Show { id } => show(store, &id),
        RunsCommand::Stop { id, wait } => {
            super::control_cmd::run(store, &id, crate::store::ControlCommand::Stop, wait)
        }
        RunsCommand::Pause { id, wait } => {
            super::control_cmd::run(store, &id, crate::store::ControlCommand::Pause, wait)
        }
        RunsCommand::Resume { id, wait } => {
            super::control_cmd::run(store, &id, crate::store::ControlCommand::Resume, wait)
        }
        RunsCommand::Export {
            id,
            csv,
            json,
            pytorch,
            tensorboard,
            data_dir,
        } => {
            let run = store.open(&id)?;
            if let Some(dir) = tensorboard {
                return match crate::report::tensorboard::export(&run, &dir) {
                    Ok(path) => {
                        println!("{}", path.display());
                        eprintln!(
                            "{} scalars; open with: tensorboard --logdir {}",
                            crate::report::tensorboard::scalars(&run).map_or(0, |s| s.len()),
                            dir.display()
                        );
                        Ok(0)
                    }
                    Err(e) => Err(failure(e)),
                };
            }
            if let Some(dir) = pytorch {
                export_pytorch(&run, &dir, data_dir.as_deref())?;
                return Ok(0);
            }
            let out = if csv || !json {
                export_csv(&run)
            } else {
                export_json(&run)
            };
            match out {
                Ok(text) => {
                    print!("{text}");
                    if !text.ends_with('\n') {
                        println!();
                    }
                    Ok(0)
                }
                Err(e) => Err(failure(e)),
            }
        }
        RunsCommand::Release { id, force } => {
            let run = store.open(&id)?;
            let before = run.release_lease(force)?;
            println!(
                "released {} (was owned by {}); it reads as {} now; continue it with: duplab train --resume {}",
                run.id,
                before.map_or_else(|| "nobody".into(), |l| l.describe()),
                run.status().name(),
                run.id
            );
            Ok(0)
        }
        RunsCommand::Rm { id, yes } => {
            let run = store.open(&id)?;
            if !yes {
                if !std::io::stdin().is_terminal() {
                    return Err(failure(format!(
                        "refusing to delete {} without --yes when stdin is not a terminal",
                        run.id
                    )));
                }
                print!("delete run {} ({})? [y/N] ", run.id, run.dir.display());
                let _ = std::io::stdout().flush();
                let mut line = String::new();
                let _ = std::io::stdin().lock().read_line(&mut line);
                if !matches!(line.trim(), "y" | "Y" | "yes") {
                    println!("kept");
                    return Ok(0);
                }
            }
            match store.delete(&run.id) {
                Ok(()) => {
                    println!("deleted {}", run.id);
                    Ok(0)
                }
                Err(e) => Err(failure(e)),
            }
        }
    }
}

/// The run's final weights as PyTorch loads them, beside the module definitions.
fn export_pytorch(
    run: &crate::store::Run,
    dir: &std::path::Path,
    data_dir: Option<&std::path::Path>,
) -> anyhow::Result<()> {
    use crate::train::pytorch;
    let cfg = run.require_config()?;
    let device = crate::backend::cpu_device();
    let (model, input) = crate::train::load_model(run, &device, data_dir)?;
    std::fs::create_dir_all(dir)?;
    let info = pytorch::ModelInfo {
        kind: cfg.preset.training.model,
        input,
        class_names: cfg.class_names.clone(),
        preset: cfg.preset.name.clone(),
    };
    let weights = dir.join("model.safetensors");
    pytorch::write(&model, &info, &weights)?;
    std::fs::write(dir.join("duplab_model.py"), pytorch::MODULE_PY)?;
    println!("{}", weights.display());
    println!("{}", dir.join("duplab_model.py").display());
    eprintln!(
        "load in PyTorch (from {}):\n  from safetensors import safe_open\n  from safetensors.torch import load_file\n  from duplab_model import build\n  meta = safe_open(\"model.safetensors\", \"pt\").metadata()\n  model = build(meta); model.load_state_dict(load_file(\"model.safetensors\"), strict=True); model.eval()",
        dir.display()
    );
    Ok(())
}

fn show(store: &RunStore, id: &str) -> Result<i32> {
    let run = store.open(id)?;
    let row = RunRow::from_run(&run);
    let sum = run.summary().ok().flatten().unwrap_or_default();
    println!("run        {}", run.id);
    println!("folder     {}", run.dir.display());
    println!("status     {}", row.status);
    if let Some(l) = run.lease() {
        let judged = match run.liveness() {
            crate::store::Liveness::Live => "live".to_string(),
            crate::store::Liveness::Gone(why) => format!("gone: {why}"),
        };
        println!(
            "owner      {} (epoch {}, heartbeat {}): {judged}",
            l.describe(),
            l.epoch,
            l.beat
        );
    }
    println!("preset     {}", row.preset);
    if let Ok(Some(c)) = run.config() {
        println!(
            "data       {} ({})",
            c.preset.data.set.name(),
            c.data_source
        );
        println!(
            "model      {} ({} parameters)",
            c.preset.training.model.name(),
            c.params
        );
        println!("duplication {}", c.preset.duplication.label());
        if let Some(d) = &c.dedup {
            println!(
                "dedup      {} near-duplicates removed (≤ {}: {} pairs, {} groups), {} training images left; per class {:?}",
                d.removed, d.threshold, d.pairs, d.groups, d.kept, d.removed_per_class
            );
        }
        println!(
            "attack     train: {}   eval: {}",
            c.preset.attack.train.label(),
            c.preset.attack.eval.attack.label()
        );
        println!("seed       {}", c.seed);
        println!("backend    {} on {}", c.backend, c.device);
        println!(
            "steps      {}/{} ({} per epoch)",
            sum.steps_done, c.total_steps, c.steps_per_epoch
        );
        println!("clean acc  {}", crate::report::pct_str(sum.test_acc));
        if let Some(why) = &sum.early_stop {
            println!("ended early {why}");
        }
        println!(
            "robust acc {}{}",
            crate::report::pct_str(sum.robust_acc),
            sum.robust_attack
                .as_ref()
                .map(|a| format!(" ({a})"))
                .unwrap_or_default()
        );
        println!(
            "time       {:.1} s{}",
            sum.duration_s,
            sum.images_per_s
                .map(|v| format!(", {v:.0} images/s"))
                .unwrap_or_default()
        );
        if let Some(t) = &sum.time_split {
            println!("time went  {}", t.describe());
        }
        if let Some(e) = &sum.error {
            println!("error      {e}");
        }
        for (key, r) in &sum.evaluations {
            println!(
                "evaluated  {} under {key} (duplab eval)",
                crate::report::pct_str(Some(r.acc))
            );
        }
        if let Some(c) = &sum.card {
            super::eval_cmd::print_card(c);
        }
        // The catastrophic-overfitting checks of FGSM / FGSM-RS training, step by step.
        let checks: Vec<String> = run
            .metrics()
            .unwrap_or_default()
            .iter()
            .filter_map(|m| {
                let (step, o) = match m {
                    crate::store::MetricRecord::Overfit(r) => (r.step, r.stat),
                    // Runs of earlier versions checked at evaluations.
                    crate::store::MetricRecord::Epoch(e) => (e.step, e.overfit?),
                    _ => return None,
                };
                Some(format!(
                    "{}{step}:{:.0}/{:.0}",
                    if o.alarm { "⚠" } else { "" },
                    o.pgd_acc * 100.0,
                    o.fgsm_acc * 100.0
                ))
            })
            .collect();
        if !checks.is_empty() {
            println!(
                "overfit    step:PGD/FGSM acc % on 256 training images: {} (⚠ = catastrophic overfitting)",
                checks.join(" ")
            );
        }
        if let Some(l) = sum.leakage.filter(|l| l.leaky > 0) {
            println!(
                "leakage    {} of {} test images have a training image within {} (leaky): clean acc {} on them, {} on the fair rest",
                l.leaky,
                l.leaky + l.fair,
                l.threshold,
                crate::report::pct_str(l.leaky_acc),
                crate::report::pct_str(l.fair_acc)
            );
        }
        if let Some(g) = &sum.groups {
            // Their cost: the seconds every evaluation's group metrics took, against the run's.
            let secs: f64 = run
                .metrics()
                .unwrap_or_default()
                .iter()
                .filter_map(|m| match m {
                    crate::store::MetricRecord::Epoch(e) => e.groups.as_ref().map(|g| g.seconds),
                    _ => None,
                })
                .sum();
            println!(
                "groups     measured in {secs:.1} s of the run's {:.1} s ({:.1} %)",
                sum.duration_s,
                100.0 * secs / sum.duration_s.max(1e-9)
            );
            println!();
            print!("{}", crate::report::group_table(g));
        }
        if let Ok(Some(scores)) = run.reference() {
            println!();
            super::membership_cmd::show_target(
                store,
                &run,
                &scores,
                c.sweep.as_deref(),
                c.point.as_deref(),
            );
        }
        if !sum.per_class_acc.is_empty() {
            println!();
            println!(
                "{:>3}  {:<14} {:>7} {:>7} {:>9} {:>9}",
                "#", "class", "before", "after", "clean%", "robust%"
            );
            for (i, name) in c.class_names.iter().enumerate() {
                println!(
                    "{i:>3}  {:<14} {:>7} {:>7} {:>9} {:>9}",
                    name,
                    c.plan_before.get(i).copied().unwrap_or(0),
                    c.plan_after.get(i).copied().unwrap_or(0),
                    crate::report::pct_str(sum.per_class_acc.get(i).copied()),
                    crate::report::pct_str(sum.robust_per_class_acc.get(i).copied())
                );
            }
        }
    }
    Ok(0)
}
