//! Seeded train/test splits and cross-validation folds.
//!
//! Every shuffle draws from a generator derived from the caller's
//! [`Seed`], so the same seed and targets give the same indices on every
//! platform. Index lists come back sorted.

use mlops_core::seed::Seed;
use rand::seq::SliceRandom;
use serde::{Deserialize, Serialize};

use crate::error::invalid;
use crate::{Error, Result};

/// Row indices of one split.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Split {
    /// Training rows, ascending.
    pub train: Vec<usize>,
    /// Test (or validation) rows, ascending.
    pub test: Vec<usize>,
}

fn check_fraction(test_fraction: f64) -> Result<()> {
    if !(test_fraction > 0.0 && test_fraction < 1.0) {
        return Err(invalid(
            "test_fraction",
            format!("must be in (0, 1), got {test_fraction}"),
        ));
    }
    Ok(())
}

/// Row indices grouped by class value, classes in ascending order.
fn by_class(y: &[f64]) -> Result<Vec<Vec<usize>>> {
    if let Some((i, v)) = y.iter().enumerate().find(|(_, v)| !v.is_finite()) {
        return Err(Error::InvalidTarget(format!("y[{i}] is {v}")));
    }
    let mut order: Vec<usize> = (0..y.len()).collect();
    order.sort_by(|&a, &b| y[a].total_cmp(&y[b]).then(a.cmp(&b)));
    let mut groups: Vec<Vec<usize>> = Vec::new();
    let mut last = None;
    for i in order {
        if last != Some(y[i]) {
            groups.push(Vec::new());
            last = Some(y[i]);
        }
        if let Some(g) = groups.last_mut() {
            g.push(i);
        }
    }
    Ok(groups)
}

fn finish(mut train: Vec<usize>, mut test: Vec<usize>) -> Result<Split> {
    if train.is_empty() || test.is_empty() {
        return Err(Error::Shape(format!(
            "split leaves {} training and {} test rows; both need at least one",
            train.len(),
            test.len()
        )));
    }
    train.sort_unstable();
    test.sort_unstable();
    Ok(Split { train, test })
}

/// Stratified train/test split: each class (distinct value of `y`) is
/// shuffled and `round(n_class * test_fraction)` of its rows go to the test
/// set, so both sets keep the class shares.
///
/// ```
/// use mlops_core::seed::Seed;
/// use mlops_train::split::stratified_split;
///
/// let y = [0.0, 0.0, 0.0, 0.0, 1.0, 1.0, 1.0, 1.0, 0.0, 1.0];
/// let s = stratified_split(&y, 0.2, Seed(42))?;
/// assert_eq!(s.test.len(), 2);
/// assert_eq!(s.test.iter().filter(|&&i| y[i] == 1.0).count(), 1);
/// assert_eq!(s, stratified_split(&y, 0.2, Seed(42))?);
/// # Ok::<(), mlops_train::Error>(())
/// ```
pub fn stratified_split(y: &[f64], test_fraction: f64, seed: Seed) -> Result<Split> {
    check_fraction(test_fraction)?;
    let mut rng = seed.derive("stratified-split").rng();
    let (mut train, mut test) = (Vec::new(), Vec::new());
    for mut group in by_class(y)? {
        group.shuffle(&mut rng);
        let n_test = (group.len() as f64 * test_fraction).round() as usize;
        test.extend_from_slice(&group[..n_test]);
        train.extend_from_slice(&group[n_test..]);
    }
    finish(train, test)
}

/// Plain shuffled train/test split of `n` rows (for regression targets).
pub fn shuffle_split(n: usize, test_fraction: f64, seed: Seed) -> Result<Split> {
    check_fraction(test_fraction)?;
    let mut rows: Vec<usize> = (0..n).collect();
    rows.shuffle(&mut seed.derive("shuffle-split").rng());
    let n_test = (n as f64 * test_fraction).round() as usize;
    let test = rows[..n_test].to_vec();
    let train = rows[n_test..].to_vec();
    finish(train, test)
}

/// Stratified k-fold: each class is shuffled and dealt round-robin over the
/// folds (continuing where the previous class stopped), so fold sizes differ
/// by at most one and each fold keeps the class shares. Returns `k` splits
/// whose test sets partition the rows.
pub fn stratified_k_fold(y: &[f64], k: usize, seed: Seed) -> Result<Vec<Split>> {
    if k < 2 {
        return Err(invalid("k", format!("must be at least 2, got {k}")));
    }
    if k > y.len() {
        return Err(invalid("k", format!("{k} folds for {} rows", y.len())));
    }
    let mut rng = seed.derive("stratified-k-fold").rng();
    let mut fold_of = vec![0usize; y.len()];
    let mut next = 0usize;
    for mut group in by_class(y)? {
        group.shuffle(&mut rng);
        for i in group {
            fold_of[i] = next % k;
            next += 1;
        }
    }
    (0..k)
        .map(|f| {
            let (test, train): (Vec<usize>, Vec<usize>) =
                (0..y.len()).partition(|&i| fold_of[i] == f);
            finish(train, test)
        })
        .collect()
}

/// Time-based split: rows ordered by `keys` (a timestamp or any numeric
/// order; ties keep row order); the last `round(n * test_fraction)` rows are
/// the test set, so the model never trains on the future.
pub fn time_split(keys: &[f64], test_fraction: f64) -> Result<Split> {
    check_fraction(test_fraction)?;
    if let Some((i, v)) = keys.iter().enumerate().find(|(_, v)| !v.is_finite()) {
        return Err(Error::Shape(format!("time key of row {i} is {v}")));
    }
    let mut order: Vec<usize> = (0..keys.len()).collect();
    order.sort_by(|&a, &b| keys[a].total_cmp(&keys[b]).then(a.cmp(&b)));
    let n_train = keys.len() - (keys.len() as f64 * test_fraction).round() as usize;
    finish(order[..n_train].to_vec(), order[n_train..].to_vec())
}

/// Time-based split by row order: the first rows train, the last
/// `round(n * test_fraction)` test.
pub fn ordered_split(n: usize, test_fraction: f64) -> Result<Split> {
    check_fraction(test_fraction)?;
    let n_train = n - (n as f64 * test_fraction).round() as usize;
    finish((0..n_train).collect(), (n_train..n).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(n: usize, share: f64) -> Vec<f64> {
        (0..n)
            .map(|i| {
                if (i as f64) < n as f64 * share {
                    1.0
                } else {
                    0.0
                }
            })
            .collect()
    }

    #[test]
    fn stratified_keeps_class_shares_and_is_seeded() {
        let y = labels(1000, 0.27);
        let s = stratified_split(&y, 0.2, Seed(42)).expect("split");
        assert_eq!(s.test.len() + s.train.len(), 1000);
        assert_eq!(s.test.len(), 200);
        assert_eq!(s.test.iter().filter(|&&i| y[i] == 1.0).count(), 54);
        assert_eq!(s, stratified_split(&y, 0.2, Seed(42)).expect("split"));
        assert_ne!(s, stratified_split(&y, 0.2, Seed(43)).expect("split"));
        let mut all: Vec<usize> = s.train.iter().chain(&s.test).copied().collect();
        all.sort_unstable();
        assert_eq!(all, (0..1000).collect::<Vec<_>>());
    }

    #[test]
    fn k_fold_partitions_rows() {
        let y = labels(103, 0.3);
        let folds = stratified_k_fold(&y, 5, Seed(1)).expect("folds");
        assert_eq!(folds.len(), 5);
        let mut seen = vec![0; 103];
        for f in &folds {
            assert!(f.test.len() == 20 || f.test.len() == 21);
            assert_eq!(f.train.len() + f.test.len(), 103);
            let pos = f.test.iter().filter(|&&i| y[i] == 1.0).count();
            assert!((6..=7).contains(&pos), "{pos}");
            for &i in &f.test {
                seen[i] += 1;
            }
        }
        assert!(seen.iter().all(|&c| c == 1));
        assert!(stratified_k_fold(&y, 1, Seed(1)).is_err());
    }

    #[test]
    fn time_split_holds_out_the_latest_rows() {
        let keys = [5.0, 1.0, 4.0, 2.0, 3.0];
        let s = time_split(&keys, 0.4).expect("split");
        assert_eq!(s.test, vec![0, 2]);
        assert_eq!(s.train, vec![1, 3, 4]);
        assert!(time_split(&[1.0, f64::NAN], 0.5).is_err());
        let o = ordered_split(10, 0.3).expect("split");
        assert_eq!(o.test, vec![7, 8, 9]);
    }

    #[test]
    fn bad_arguments_name_the_parameter() {
        let err = stratified_split(&[0.0, 1.0], 1.5, Seed(0)).expect_err("bad");
        assert!(err.to_string().contains("test_fraction"), "{err}");
        assert!(shuffle_split(1, 0.2, Seed(0)).is_err());
    }
}
