use super::exit::failure;
use crate::backend::DeviceChoice;
use crate::spec::{AttackKind, AttackSpec, Norm};
use crate::store::RunStore;
use anyhow::Result;
use clap::Args;
use std::path::PathBuf;

#[derive(Args, Debug)]
pub struct EvalArgs {
    pub id: String,
    /// Attack (default: the run's evaluation attack, or PGD-20 with random start).
    #[arg(long, value_enum)]
    pub attack: Option<AttackArg>,
    #[arg(long)]
    pub norm: Option<NormArg>,
    #[arg(long)]
    pub eps: Option<f64>,
    /// Step size (default ε/4 for PGD, 1.25 ε for FGSM-RS).
    #[arg(long)]
    pub step: Option<f64>,
    #[arg(long)]
    pub steps: Option<usize>,
    #[arg(long)]
    pub restarts: Option<usize>,
    /// APGD-T: target classes per image (default 9).
    #[arg(long)]
    pub targets: Option<usize>,
    /// Test images to attack (0 = all).
    #[arg(long)]
    pub limit: Option<usize>,
    /// The evaluation card: FGSM, PGD (--steps, default 50; --restarts, default 5), APGD-CE and
    /// APGD-T (--targets, default 9) at the run's ε, each recorded, plus sanity flags.
    #[arg(long, conflicts_with_all = ["attack", "step"])]
    pub card: bool,
    /// auto (the allocated or first real GPU, else the CPU), gpu (the best adapter, even a
    /// software one), gpu:N (adapter N as `duplab doctor` lists them), cpu.
    #[arg(long, default_value = "auto")]
    pub device: DeviceChoice,
    #[arg(long, env = "DUPLAB_DATA")]
    pub data_dir: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum AttackArg {
    Fgsm,
    FgsmRs,
    Pgd,
    /// APGD on cross-entropy (step size is its own; --steps iterations, 100 in AutoAttack).
    ApgdCe,
    /// APGD on targeted DLR over the top --targets classes.
    ApgdT,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum NormArg {
    Linf,
    L2,
}

pub fn run(store: &RunStore, a: EvalArgs) -> Result<i32> {
    let run = store.open(&a.id)?;
    let cfg = run.require_config()?;
    let base = &cfg.preset.attack.eval;
    let mut spec = if base.attack.kind == AttackKind::None {
        AttackSpec {
            kind: AttackKind::Pgd,
            eps: 0.1,
            step: 0.025,
            steps: 20,
            ..Default::default()
        }
    } else {
        base.attack.clone()
    };
    if let Some(k) = a.attack {
        spec.kind = match k {
            AttackArg::Fgsm => AttackKind::Fgsm,
            AttackArg::FgsmRs => AttackKind::FgsmRs,
            AttackArg::Pgd => AttackKind::Pgd,
            AttackArg::ApgdCe => AttackKind::ApgdCe,
            AttackArg::ApgdT => AttackKind::ApgdT,
        };
    }
    if let Some(n) = a.norm {
        spec.norm = match n {
            NormArg::Linf => Norm::Linf,
            NormArg::L2 => Norm::L2,
        };
    }
    if let Some(e) = a.eps {
        spec.eps = e;
        if a.step.is_none() {
            spec.step = match spec.kind {
                AttackKind::FgsmRs => 1.25 * e,
                _ => e / 4.0,
            };
        }
    }
    if let Some(s) = a.step {
        spec.step = s;
    }
    if let Some(s) = a.steps {
        spec.steps = s;
    }
    if let Some(r) = a.restarts {
        spec.restarts = r;
    }
    if let Some(t) = a.targets {
        spec.targets = t;
    }
    if let Err(e) = spec.validate() {
        return Err(failure(format!(
            "attack option `{}` {}",
            e.field, e.message
        )));
    }
    let limit = a.limit.unwrap_or(base.limit);
    if a.card {
        return card(&run, &spec, &a, limit);
    }
    eprintln!(
        "evaluating {} under {} on {} test images",
        run.id,
        spec.eval_label(),
        if limit == 0 {
            "all".into()
        } else {
            limit.to_string()
        }
    );
    let mut last = std::time::Instant::now();
    let mut progress = |done: usize, n: usize| {
        if last.elapsed().as_secs_f64() > 2.0 || done == n {
            eprintln!("  {done}/{n} images");
            last = std::time::Instant::now();
        }
    };
    match crate::train::eval_run(
        &run,
        &spec,
        limit,
        a.device,
        a.data_dir.as_deref(),
        &mut progress,
    ) {
        Ok((clean, r)) => {
            println!(
                "{}: clean acc {:.2}%  robust acc {:.2}% under {} ({} images)",
                run.id,
                clean * 100.0,
                r.acc * 100.0,
                r.attack,
                r.images
            );
            Ok(0)
        }
        Err(e) => Err(failure(format!("{e:#}"))),
    }
}

/// `--card`: the ladder and the probes, printed as they finish, then the flags.
fn card(run: &crate::store::Run, spec: &AttackSpec, a: &EvalArgs, limit: usize) -> Result<i32> {
    let steps = a.steps.unwrap_or(50);
    let restarts = a.restarts.unwrap_or(5);
    let targets = a.targets.unwrap_or(9);
    eprintln!(
        "evaluation card of {} at {:?} ε={} on {} test images",
        run.id,
        spec.norm,
        spec.eps,
        if limit == 0 {
            "all".into()
        } else {
            limit.to_string()
        }
    );
    let mut say = |s: String| eprintln!("{s}");
    match crate::train::card::eval_card(
        run,
        spec.eps,
        spec.norm,
        steps,
        restarts,
        targets,
        limit,
        a.device,
        a.data_dir.as_deref(),
        &mut say,
    ) {
        Ok(c) => {
            print_card(&c);
            Ok(0)
        }
        Err(e) => Err(failure(format!("{e:#}"))),
    }
}

pub fn print_card(c: &crate::store::CardStat) {
    println!(
        "card       {} test images, {} ε={}: clean {:.2} %",
        c.images,
        c.norm,
        c.eps,
        c.clean_acc * 100.0
    );
    for (attack, acc) in &c.attacks {
        println!("           {:>6.2} %  {attack}", acc * 100.0);
    }
    match (c.ensemble_acc, crate::report::worst_case(c)) {
        (Some(w), _) => println!(
            "worst case {:>6.2} %  per image: robust only if no attack of the ladder fooled it",
            w * 100.0
        ),
        (None, Some(w)) => println!(
            "worst case {:>6.2} %  the lowest rung (recorded before the per-image worst case: an upper bound)",
            w * 100.0
        ),
        (None, None) => {}
    }
    println!(
        "probes     random noise at ε {:.2} % · PGD-20 at ε {} {:.2} % · zero gradients {:.1} %",
        c.noise_acc * 100.0,
        c.large_eps,
        c.large_eps_acc * 100.0,
        c.zero_grad_fraction * 100.0
    );
    if c.flags.is_empty() {
        println!("flags      none");
    }
    for f in &c.flags {
        println!("flag       ⚠ {f}");
    }
}
