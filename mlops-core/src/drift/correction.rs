//! Multiple-testing correction of per-column p-values.

use serde::{Deserialize, Serialize};

/// How p-values of several columns are corrected before the threshold.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Correction {
    /// No correction (Evidently's default).
    #[default]
    None,
    /// Bonferroni: p x m, capped at 1.
    Bonferroni,
    /// Benjamini-Hochberg step-up adjusted p-values (as
    /// `statsmodels.stats.multitest.multipletests(method="fdr_bh")`).
    BenjaminiHochberg,
}

/// Adjusted p-values in input order. NaN entries stay NaN and do not count
/// towards m.
pub fn adjust(p_values: &[f64], correction: Correction) -> Vec<f64> {
    let idx: Vec<usize> = (0..p_values.len())
        .filter(|&i| !p_values[i].is_nan())
        .collect();
    let m = idx.len() as f64;
    let mut out = p_values.to_vec();
    match correction {
        Correction::None => {}
        Correction::Bonferroni => {
            for &i in &idx {
                out[i] = (p_values[i] * m).min(1.0);
            }
        }
        Correction::BenjaminiHochberg => {
            let mut order = idx.clone();
            order.sort_by(|&a, &b| p_values[a].total_cmp(&p_values[b]));
            let mut running = 1.0f64;
            for (rank, &i) in order.iter().enumerate().rev() {
                let adj = p_values[i] * m / (rank as f64 + 1.0);
                running = running.min(adj);
                out[i] = running.min(1.0);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bh_matches_statsmodels() {
        // multipletests([0.01, 0.04, 0.03, 0.2], method="fdr_bh")[1]
        // -> [0.04, 0.05333333, 0.05333333, 0.2]
        let a = adjust(&[0.01, 0.04, 0.03, 0.2], Correction::BenjaminiHochberg);
        let want = [0.04, 0.16 / 3.0, 0.16 / 3.0, 0.2];
        for (x, y) in a.iter().zip(want) {
            assert!((x - y).abs() < 1e-12, "{a:?}");
        }
        let b = adjust(&[0.01, f64::NAN, 0.3], Correction::Bonferroni);
        assert_eq!(b[0], 0.02);
        assert!(b[1].is_nan());
        assert_eq!(b[2], 0.6);
    }
}
