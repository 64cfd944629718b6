//! Evaluation cards in reports: one table per attack ladder (runs whose cards ran the same
//! attacks share a table, so no column mixes attacks), with the worst case over the ladder and
//! every sanity flag written out.

use crate::store::{CardStat, Run};

/// One run's card, with what the table needs to name it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CardRow {
    pub id: String,
    pub point: String,
    pub seed: u64,
    pub card: CardStat,
}

impl CardRow {
    /// The run's card, if `duplab eval --card` recorded one.
    pub fn of(run: &Run) -> Option<CardRow> {
        let card = run.summary().ok().flatten()?.card?;
        let config = run.config().ok().flatten();
        Some(CardRow {
            id: run.id.clone(),
            point: config
                .as_ref()
                .map(|c| c.point.clone().unwrap_or_else(|| c.preset.name.clone()))
                .unwrap_or_default(),
            seed: config.map(|c| c.seed).unwrap_or(0),
            card,
        })
    }
}

/// The card's answer: the per-image worst case over the ladder (an image counts as robust only
/// if no attack of the ladder fools it, as AutoAttack counts), or, for a card written before
/// that was recorded, the lowest rung (an upper bound on it).
pub fn worst_case(c: &CardStat) -> Option<f64> {
    c.ensemble_acc
        .or_else(|| c.attacks.iter().map(|a| a.1).reduce(f64::min))
}

/// The per-image worst case: the share of images right clean and under every rung.
pub fn ensemble_accuracy(clean: &[bool], rungs: &[Vec<bool>]) -> f64 {
    let robust = (0..clean.len())
        .filter(|&i| clean[i] && rungs.iter().all(|r| r.get(i).copied().unwrap_or(false)))
        .count();
    robust as f64 / clean.len().max(1) as f64
}

/// The "Evaluation cards" section of a report; empty when no run has a card.
pub fn cards_markdown(rows: &[CardRow]) -> String {
    if rows.is_empty() {
        return String::new();
    }
    let mut out = String::from(
        "\n## Evaluation cards\n\n\
         `duplab eval RUN --card`: the same test images under a ladder of attacks, weakest first; \
         *worst case* counts an image as robust only if no attack of the ladder fools it (per \
         image, as AutoAttack does; cards recorded before that show the lowest rung, an upper \
         bound). PGD counts an image as fooled when any of its iterates fools it, as APGD does. \
         Accuracy in %.\n",
    );
    // One table per ladder: the attacks (labels), the norm, ε and the number of images.
    let mut ladders: Vec<(String, Vec<&CardRow>)> = vec![];
    for r in rows {
        let key = ladder_key(&r.card);
        match ladders.iter_mut().find(|(k, _)| *k == key) {
            Some((_, v)) => v.push(r),
            None => ladders.push((key, vec![r])),
        }
    }
    let mut flagged: Vec<String> = vec![];
    for (_, rs) in &ladders {
        let c0 = &rs[0].card;
        out.push_str(&format!(
            "\n{} ε={}, {} test images:\n\n| run | point | seed | clean |",
            c0.norm, c0.eps, c0.images
        ));
        for (a, _) in &c0.attacks {
            out.push_str(&format!(" {a} |"));
        }
        out.push_str(" worst case | noise | large ε | zero grad | flags |\n|---|---|---|---|");
        out.push_str(&"---|".repeat(c0.attacks.len() + 5));
        out.push('\n');
        for r in rs {
            let c = &r.card;
            out.push_str(&format!(
                "| {} | {} | {} | {:.1} |",
                r.id,
                r.point,
                r.seed,
                c.clean_acc * 100.0
            ));
            for (_, acc) in &c.attacks {
                out.push_str(&format!(" {:.1} |", acc * 100.0));
            }
            out.push_str(&format!(
                " **{}** | {:.1} | {:.1} (ε {}) | {:.1} | {} |\n",
                worst_case(c)
                    .map(|v| format!("{:.1}", v * 100.0))
                    .unwrap_or_else(|| "–".into()),
                c.noise_acc * 100.0,
                c.large_eps_acc * 100.0,
                c.large_eps,
                c.zero_grad_fraction * 100.0,
                if c.flags.is_empty() {
                    "none".to_string()
                } else {
                    format!("⚠ {}", c.flags.len())
                }
            ));
            for f in &c.flags {
                flagged.push(format!("- {}: {f}", r.id));
            }
        }
    }
    if !flagged.is_empty() {
        out.push_str("\nFlags (do not trust these robust accuracies as they stand):\n\n");
        out.push_str(&flagged.join("\n"));
        out.push('\n');
    }
    out
}

fn ladder_key(c: &CardStat) -> String {
    let attacks: Vec<&str> = c.attacks.iter().map(|a| a.0.as_str()).collect();
    format!("{} {} {} {}", c.norm, c.eps, c.images, attacks.join(","))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn card(attacks: &[(&str, f64)], flags: &[&str]) -> CardStat {
        CardStat {
            eps: 0.1,
            norm: "Linf".into(),
            images: 200,
            clean_acc: 0.805,
            attacks: attacks.iter().map(|(n, a)| (n.to_string(), *a)).collect(),
            noise_acc: 0.79,
            large_eps: 0.5,
            large_eps_acc: 0.0,
            zero_grad_fraction: 0.0,
            flags: flags.iter().map(|s| s.to_string()).collect(),
            ensemble_acc: None,
        }
    }

    fn row(id: &str, c: CardStat) -> CardRow {
        CardRow {
            id: id.into(),
            point: "p".into(),
            seed: 0,
            card: c,
        }
    }

    #[test]
    fn no_cards_no_section() {
        assert_eq!(cards_markdown(&[]), "");
    }

    #[test]
    fn cards_of_one_ladder_share_a_table_and_flags_are_spelled_out() {
        let a = card(
            &[("fgsm", 0.76), ("pgd-20", 0.70), ("apgd-t-20", 0.695)],
            &[],
        );
        let b = card(
            &[("fgsm", 0.70), ("pgd-20", 0.72), ("apgd-t-20", 0.69)],
            &["pgd-20 left 72.0 % but the weaker fgsm left 70.0 %"],
        );
        let md = cards_markdown(&[row("r1", a.clone()), row("r2", b)]);
        assert_eq!(md.matches("| run | point |").count(), 1, "{md}");
        assert!(
            md.contains("| r1 | p | 0 | 80.5 | 76.0 | 70.0 | 69.5 | **69.5** |"),
            "{md}"
        );
        assert!(md.contains("| ⚠ 1 |"), "{md}");
        assert!(md.contains("- r2: pgd-20 left 72.0 %"), "{md}");
        // Another ladder (more steps) gets its own table: columns never mix attacks.
        let c = card(&[("fgsm", 0.76), ("pgd-50", 0.69)], &[]);
        let md = cards_markdown(&[row("r1", a), row("r3", c)]);
        assert_eq!(md.matches("| run | point |").count(), 2, "{md}");
        assert!(!md.contains("Flags ("), "{md}");
    }

    /// An older card (no per-image record) falls back to the lowest rung; a card with one
    /// answers with it.
    #[test]
    fn worst_case_is_per_image_when_recorded() {
        let mut c = card(&[("a", 0.5), ("b", 0.3), ("c", 0.4)], &[]);
        assert_eq!(worst_case(&c), Some(0.3));
        c.ensemble_acc = Some(0.25);
        assert_eq!(worst_case(&c), Some(0.25));
        assert_eq!(worst_case(&card(&[], &[])), None);
    }

    /// Two rungs that each leave half the images leave none when they fool different halves:
    /// the lowest rung (50 %) overstates the ladder's robust accuracy (0 %).
    #[test]
    fn the_ensemble_counts_an_image_robust_only_if_no_rung_fools_it() {
        let clean = vec![true, true, true, true, false];
        let a = vec![true, true, false, false, true];
        let b = vec![false, false, true, true, true];
        assert_eq!(ensemble_accuracy(&clean, &[a.clone(), b]), 0.0);
        assert_eq!(ensemble_accuracy(&clean, &[a.clone(), a]), 0.4);
        // A misclassified clean image is never robust.
        assert_eq!(ensemble_accuracy(&clean, &[vec![true; 5]]), 0.8);
    }
}
