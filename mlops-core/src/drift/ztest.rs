//! Two-proportion z-test with a pooled proportion, as Evidently's
//! `z_stat_test`: two-sided p = 2 (1 - Phi(|z|)); p = 1 when both samples
//! hold the same single value.

use statrs::distribution::{ContinuousCDF, Normal};

/// z statistic and two-sided p-value for the share of the first category in
/// two aligned count vectors (at most two categories in practice).
///
/// `counts_ref[i]` and `counts_cur[i]` count category `i`.
pub fn ztest_counts(counts_ref: &[u64], counts_cur: &[u64]) -> (f64, f64) {
    let n1: u64 = counts_ref.iter().sum();
    let n2: u64 = counts_cur.iter().sum();
    let present = counts_ref
        .iter()
        .zip(counts_cur)
        .filter(|(r, c)| **r + **c > 0)
        .count();
    let single_ref = counts_ref.iter().filter(|&&c| c > 0).count() == 1;
    let single_cur = counts_cur.iter().filter(|&&c| c > 0).count() == 1;
    if present <= 1 && single_ref && single_cur {
        return (0.0, 1.0);
    }
    // Evidently picks an arbitrary category as "success"; |z| does not
    // depend on the choice for two categories.
    let Some(target) = counts_ref
        .iter()
        .zip(counts_cur)
        .position(|(r, c)| r + c > 0)
    else {
        return (f64::NAN, f64::NAN);
    };
    let (n1f, n2f) = (n1 as f64, n2 as f64);
    let p1 = counts_ref[target] as f64 / n1f;
    let p2 = counts_cur[target] as f64 / n2f;
    let pooled = (p1 * n1f + p2 * n2f) / (n1f + n2f);
    let z = (p1 - p2) / (pooled * (1.0 - pooled) * (1.0 / n1f + 1.0 / n2f)).sqrt();
    let p = match Normal::new(0.0, 1.0) {
        Ok(norm) => 2.0 * (1.0 - norm.cdf(z.abs())),
        Err(_) => f64::NAN,
    };
    (z, p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_single_value_is_p_one() {
        assert_eq!(ztest_counts(&[5, 0], &[7, 0]).1, 1.0);
    }

    #[test]
    fn symmetric_in_category_choice() {
        let a = ztest_counts(&[30, 70], &[50, 50]);
        let b = ztest_counts(&[70, 30], &[50, 50]);
        assert!((a.0 + b.0).abs() < 1e-12);
        assert!((a.1 - b.1).abs() < 1e-15);
    }
}
