use super::fail;
use crate::backend::DeviceChoice;
use crate::spec::{AttackKind, AttackSpec, Norm};
use crate::store::RunStore;
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
    #[arg(long, value_enum, default_value = "auto")]
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

pub fn run(store: &RunStore, a: EvalArgs) -> i32 {
    let run = match store.open(&a.id) {
        Ok(r) => r,
        Err(e) => return fail(e),
    };
    let cfg = match run.config() {
        Ok(c) => c,
        Err(e) => return fail(e),
    };
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
    if let Err((f, m)) = spec.validate() {
        return fail(format!("attack option `{f}` {m}"));
    }
    let limit = a.limit.unwrap_or(base.limit);
    eprintln!(
        "evaluating {} under {} on {} test images",
        run.id,
        spec.label(),
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
            0
        }
        Err(e) => fail(format!("{e:#}")),
    }
}
