//! Pearson's chi-square goodness-of-fit test, as `scipy.stats.chisquare`
//! (degrees of freedom = categories - 1), applied the way Evidently applies
//! it: expected = reference count x (current rows / reference rows).

use statrs::distribution::{ChiSquared, ContinuousCDF};

/// Statistic and p-value of `scipy.stats.chisquare(observed, expected)`.
///
/// An expected count of zero with a non-zero observed count gives an
/// infinite statistic and p = 0 (scipy does the same). With a single
/// category there are no degrees of freedom and the p-value is NaN, as in
/// scipy; callers treat NaN as "no evidence of drift".
pub fn chisquare(observed: &[f64], expected: &[f64]) -> (f64, f64) {
    let mut stat = 0.0;
    for (&o, &e) in observed.iter().zip(expected) {
        let diff = o - e;
        stat += diff * diff / e;
    }
    if stat.is_nan() {
        // 0/0 terms: a category absent from both sides contributes nothing.
        stat = observed
            .iter()
            .zip(expected)
            .filter(|(o, e)| !(**o == 0.0 && **e == 0.0))
            .map(|(o, e)| (o - e) * (o - e) / e)
            .sum();
    }
    let dof = observed.len().saturating_sub(1);
    if dof == 0 {
        return (stat, f64::NAN);
    }
    if stat.is_infinite() {
        return (stat, 0.0);
    }
    let p = ChiSquared::new(dof as f64).map_or(f64::NAN, |d| d.sf(stat));
    (stat, p)
}

/// Evidently's chi-square drift test on aligned category counts: returns
/// (statistic, p-value).
pub fn chisquare_counts(reference: &[u64], current: &[u64]) -> (f64, f64) {
    let n_ref: u64 = reference.iter().sum();
    let n_cur: u64 = current.iter().sum();
    let k_norm = n_cur as f64 / n_ref as f64;
    let expected: Vec<f64> = reference.iter().map(|&r| r as f64 * k_norm).collect();
    let observed: Vec<f64> = current.iter().map(|&c| c as f64).collect();
    chisquare(&observed, &expected)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_scipy_textbook_case() {
        // scipy.stats.chisquare([16, 18, 16, 14, 12, 12]) -> (2.0, 0.8491450360846096)
        let (s, p) = chisquare(
            &[16.0, 18.0, 16.0, 14.0, 12.0, 12.0],
            &[14.666666666666666; 6],
        );
        assert!((s - 2.0).abs() < 1e-12);
        assert!((p - 0.849_145_036_084_609_6).abs() < 1e-12);
    }
}
