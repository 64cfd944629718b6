//! Membership inference on reference models (docs/membership.md): every model of a study point
//! is the target in turn, attacked with the others as its reference models (leave-one-out); each
//! attack is scored per stratum of occurrences k against all of the target's non-members (less
//! those with a near-duplicate among its members), at TPR 0.1 % and 1 % FPR and AUC, with 95 %
//! intervals across targets and, for the first target, from an image bootstrap. Memorisation per
//! image (Feldman & Zhang on φ) comes from the same models. Plain Rust: it reads
//! `store::ReferenceScores` and knows nothing of burn.

mod analysis;
mod attacks;
mod document;
mod jackknife;
mod load;
mod roc;

pub use analysis::{
    Arm, ArmReport, Cell, Contrast, Estimate, HEADLINE, MembershipReport, Memorised, Stratum,
    analyse, arm_of, arm_report,
};
pub use attacks::{Attack, Models, Sums, memorisation, prob, scores};
pub use load::load_arms;
pub use roc::{Roc, log_grid, roc_by};

#[cfg(test)]
mod tests;
