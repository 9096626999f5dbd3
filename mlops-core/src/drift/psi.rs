//! Population Stability Index on binned shares, as Evidently's `psi`.
//!
//! Binning: numeric columns with more than 20 distinct reference values use
//! `numpy.histogram_bin_edges(reference ++ current, bins="sturges")`
//! ([`super::binning::sturges_edges`]); otherwise one bin per category
//! (union of both sides). Empty bins are filled per side before the log:
//! with the smallest non-zero share / 10^6 when that share is <= 0.0001, else
//! with 0.0001 (Evidently's `feel_zeroes`), so PSI is always finite.

/// Evidently's empty-bin filling, applied in place to a vector of shares.
pub fn fill_zeroes(shares: &mut [f64]) {
    let min_nz = shares
        .iter()
        .copied()
        .filter(|&s| s != 0.0)
        .fold(f64::INFINITY, f64::min);
    if !min_nz.is_finite() {
        return;
    }
    let fill = if min_nz <= 0.0001 {
        min_nz / 1e6
    } else {
        0.0001
    };
    for s in shares.iter_mut().filter(|s| **s == 0.0) {
        *s = fill;
    }
}

/// PSI = sum((r - c) ln(r / c)) over shares already filled with
/// [`fill_zeroes`].
pub fn psi(reference: &[f64], current: &[f64]) -> f64 {
    reference
        .iter()
        .zip(current)
        .map(|(&r, &c)| (r - c) * (r / c).ln())
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identical_shares_have_zero_psi() {
        assert_eq!(psi(&[0.2, 0.8], &[0.2, 0.8]), 0.0);
    }

    #[test]
    fn fill_uses_evidently_rule() {
        let mut s = [0.5, 0.0, 0.5];
        fill_zeroes(&mut s);
        assert_eq!(s[1], 0.0001);
        let mut t = [0.99995, 0.00005, 0.0];
        fill_zeroes(&mut t);
        assert_eq!(t[2], 0.00005 / 1e6);
    }
}
