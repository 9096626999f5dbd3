//! Multiclass classification metrics.
//!
//! Labels are class indices `0..k` (as [`FittedFeatures::target`] gives for
//! a multiclass target) and predictions an `n x k` probability matrix; the
//! predicted class is the first class of highest probability (numpy's
//! `argmax`). Averages run over all `k` classes (scikit-learn with
//! `labels=range(k)`), and a class never predicted has precision 0
//! (scikit-learn's `zero_division=0`).
//!
//! [`FittedFeatures::target`]: mlops_core::features::FittedFeatures::target

use ndarray::ArrayView2;
use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// Every multiclass metric of one evaluation.
///
/// ```
/// use mlops_train::metrics::MulticlassMetrics;
/// use ndarray::array;
///
/// let p = array![[0.7, 0.2, 0.1], [0.1, 0.8, 0.1], [0.2, 0.5, 0.3]];
/// let m = MulticlassMetrics::compute(&[0.0, 1.0, 2.0], p.view())?;
/// assert!((m.accuracy - 2.0 / 3.0).abs() < 1e-15);
/// assert_eq!(m.confusion, vec![vec![1, 0, 0], vec![0, 1, 0], vec![0, 1, 0]]);
/// # Ok::<(), mlops_train::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MulticlassMetrics {
    /// Share of rows whose predicted class is the true class.
    pub accuracy: f64,
    /// Unweighted mean of the per-class precisions.
    pub macro_precision: f64,
    /// Unweighted mean of the per-class recalls.
    pub macro_recall: f64,
    /// Unweighted mean of the per-class F1 scores.
    pub macro_f1: f64,
    /// Per-class precisions weighted by true-class support.
    pub weighted_precision: f64,
    /// Per-class recalls weighted by true-class support.
    pub weighted_recall: f64,
    /// Per-class F1 scores weighted by true-class support.
    pub weighted_f1: f64,
    /// Mean negative log-likelihood of the true class (see [`multiclass_log_loss`]).
    pub log_loss: f64,
    /// `confusion[true][predicted]` counts, `k x k`.
    pub confusion: Vec<Vec<u64>>,
}

impl MulticlassMetrics {
    /// Computes every metric for class probabilities `p` (`n x k`) of labels
    /// `y` (class indices).
    pub fn compute(y: &[f64], p: ArrayView2<'_, f64>) -> Result<Self> {
        let labels = check(y, p)?;
        let k = p.ncols();
        let pred = argmax_rows(p);
        let confusion = multiclass_confusion(&labels, &pred, k);
        let n = labels.len() as f64;
        let mut out = MulticlassMetrics {
            accuracy: (0..k).map(|c| confusion[c][c]).sum::<u64>() as f64 / n,
            macro_precision: 0.0,
            macro_recall: 0.0,
            macro_f1: 0.0,
            weighted_precision: 0.0,
            weighted_recall: 0.0,
            weighted_f1: 0.0,
            log_loss: multiclass_log_loss(y, p)?,
            confusion: Vec::new(),
        };
        for c in 0..k {
            let tp = confusion[c][c] as f64;
            let support: u64 = confusion[c].iter().sum();
            let predicted: u64 = confusion.iter().map(|r| r[c]).sum();
            let precision = ratio(tp, predicted as f64);
            let recall = ratio(tp, support as f64);
            let f1 = ratio(2.0 * tp, (support + predicted) as f64);
            let w = support as f64 / n;
            out.macro_precision += precision / k as f64;
            out.macro_recall += recall / k as f64;
            out.macro_f1 += f1 / k as f64;
            out.weighted_precision += w * precision;
            out.weighted_recall += w * recall;
            out.weighted_f1 += w * f1;
        }
        out.confusion = confusion;
        Ok(out)
    }

    /// The scalar metrics by name (`accuracy`, `macro_f1`, `log_loss`, ...),
    /// as the trainer logs them.
    pub fn named(&self) -> [(&'static str, f64); 8] {
        [
            ("accuracy", self.accuracy),
            ("macro_precision", self.macro_precision),
            ("macro_recall", self.macro_recall),
            ("macro_f1", self.macro_f1),
            ("weighted_precision", self.weighted_precision),
            ("weighted_recall", self.weighted_recall),
            ("weighted_f1", self.weighted_f1),
            ("log_loss", self.log_loss),
        ]
    }
}

fn ratio(a: f64, b: f64) -> f64 {
    if b == 0.0 { 0.0 } else { a / b }
}

/// The first class of highest probability in each row.
pub fn argmax_rows(p: ArrayView2<'_, f64>) -> Vec<usize> {
    p.rows()
        .into_iter()
        .map(|r| {
            let mut best = 0;
            for (c, &v) in r.iter().enumerate() {
                if v > r[best] {
                    best = c;
                }
            }
            best
        })
        .collect()
}

/// `k x k` counts, `[true][predicted]`; labels must be below `k`.
pub fn multiclass_confusion(y: &[usize], pred: &[usize], k: usize) -> Vec<Vec<u64>> {
    let mut m = vec![vec![0u64; k]; k];
    for (&t, &p) in y.iter().zip(pred) {
        if let Some(cell) = m.get_mut(t).and_then(|r| r.get_mut(p)) {
            *cell += 1;
        }
    }
    m
}

/// Mean negative log-likelihood of the true classes, as
/// `sklearn.metrics.log_loss` (1.9): each true-class probability is clipped
/// to `[eps, 1 - eps]` with `eps = f64::EPSILON`.
pub fn multiclass_log_loss(y: &[f64], p: ArrayView2<'_, f64>) -> Result<f64> {
    let labels = check(y, p)?;
    let eps = f64::EPSILON;
    let total: f64 = labels
        .iter()
        .zip(p.rows())
        .map(|(&c, r)| -r[c].clamp(eps, 1.0 - eps).ln())
        .sum();
    Ok(total / labels.len() as f64)
}

/// Labels are class indices below `k`, probabilities in `[0, 1]`, shapes
/// agree, at least 2 classes and 1 row.
fn check(y: &[f64], p: ArrayView2<'_, f64>) -> Result<Vec<usize>> {
    let k = p.ncols();
    if y.len() != p.nrows() {
        return Err(Error::Shape(format!(
            "{} true values but {} prediction rows",
            y.len(),
            p.nrows()
        )));
    }
    if y.is_empty() {
        return Err(Error::Shape("no values to score".into()));
    }
    if k < 2 {
        return Err(Error::Shape(format!(
            "{k} probability columns, need at least 2"
        )));
    }
    if let Some(((r, c), v)) = p
        .indexed_iter()
        .find(|(_, v)| !(v.is_finite() && (0.0..=1.0).contains(*v)))
    {
        return Err(Error::Shape(format!(
            "probability [{r}, {c}] is {v}, outside [0, 1]"
        )));
    }
    y.iter()
        .enumerate()
        .map(|(i, &v)| {
            if v >= 0.0 && v.fract() == 0.0 && v < k as f64 {
                Ok(v as usize)
            } else {
                Err(Error::InvalidTarget(format!(
                    "y[{i}] is {v}, labels must be class indices 0..{k}"
                )))
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn rejects_bad_inputs() {
        let p = array![[0.5, 0.5], [0.2, 0.8]];
        assert!(MulticlassMetrics::compute(&[0.0], p.view()).is_err());
        assert!(MulticlassMetrics::compute(&[0.0, 2.0], p.view()).is_err());
        assert!(MulticlassMetrics::compute(&[0.0, 0.5], p.view()).is_err());
        let bad = array![[1.5, -0.5], [0.2, 0.8]];
        assert!(MulticlassMetrics::compute(&[0.0, 1.0], bad.view()).is_err());
        let one = array![[1.0], [1.0]];
        assert!(MulticlassMetrics::compute(&[0.0, 0.0], one.view()).is_err());
    }
}
