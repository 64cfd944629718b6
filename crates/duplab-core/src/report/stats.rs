/// Mean and sample standard deviation (n − 1) of a set of values, e.g. accuracies over seeds.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct MeanStd {
    pub mean: f64,
    pub std: f64,
    pub n: usize,
}

pub fn mean_std(xs: &[f64]) -> Option<MeanStd> {
    if xs.is_empty() {
        return None;
    }
    let n = xs.len();
    let mean = xs.iter().sum::<f64>() / n as f64;
    let std = if n > 1 {
        (xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt()
    } else {
        0.0
    };
    Some(MeanStd { mean, std, n })
}

impl std::fmt::Display for MeanStd {
    /// Percentages: `84.3 ± 0.6` (n shown when more than one).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.n > 1 {
            write!(f, "{:.1} ± {:.1}", self.mean * 100.0, self.std * 100.0)
        } else {
            write!(f, "{:.1}", self.mean * 100.0)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sample_std() {
        let m = mean_std(&[0.8, 0.9, 1.0]).unwrap();
        assert!((m.mean - 0.9).abs() < 1e-12 && (m.std - 0.1).abs() < 1e-12);
        assert_eq!(m.to_string(), "90.0 ± 10.0");
        assert!(mean_std(&[]).is_none());
        assert_eq!(mean_std(&[0.5]).unwrap().std, 0.0);
    }
}
