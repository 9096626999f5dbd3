//! Binary classification metrics.

use serde::{Deserialize, Serialize};

use super::check_pair;
use crate::error::invalid;
use crate::{Error, Result};

/// Checks labels are 0/1 and scores finite; returns the positive count.
fn check_binary(y: &[f64], s: &[f64]) -> Result<usize> {
    check_pair(y, s)?;
    let mut pos = 0;
    for (i, &v) in y.iter().enumerate() {
        if v == 1.0 {
            pos += 1;
        } else if v != 0.0 {
            return Err(Error::InvalidTarget(format!(
                "y[{i}] is {v}, labels must be 0 or 1"
            )));
        }
    }
    Ok(pos)
}

fn check_probabilities(p: &[f64]) -> Result<()> {
    if let Some((i, v)) = p
        .iter()
        .enumerate()
        .find(|(_, v)| !(0.0..=1.0).contains(*v))
    {
        return Err(Error::Shape(format!(
            "probability {i} is {v}, outside [0, 1]"
        )));
    }
    Ok(())
}

/// Cumulative (false positives, true positives) at each distinct score,
/// scores descending: the points of the ROC and precision-recall curves.
fn curve(y: &[f64], s: &[f64]) -> Vec<(f64, f64)> {
    let mut order: Vec<usize> = (0..s.len()).collect();
    order.sort_by(|&a, &b| s[b].total_cmp(&s[a]));
    let (mut fp, mut tp) = (0.0, 0.0);
    let mut points = Vec::new();
    for (k, &i) in order.iter().enumerate() {
        if y[i] == 1.0 {
            tp += 1.0;
        } else {
            fp += 1.0;
        }
        // Tied scores form one threshold: emit after the last of a tie.
        let last_of_tie = order.get(k + 1).is_none_or(|&j| s[j] != s[i]);
        if last_of_tie {
            points.push((fp, tp));
        }
    }
    points
}

/// Area under the ROC curve, trapezoid rule over distinct thresholds (tied
/// scores count half), as `sklearn.metrics.roc_auc_score`. Errors when only
/// one class is present.
///
/// ```
/// use mlops_train::metrics::roc_auc;
/// let auc = roc_auc(&[0.0, 0.0, 1.0, 1.0], &[0.1, 0.4, 0.35, 0.8])?;
/// assert_eq!(auc, 0.75);
/// # Ok::<(), mlops_train::Error>(())
/// ```
pub fn roc_auc(y: &[f64], scores: &[f64]) -> Result<f64> {
    let pos = check_binary(y, scores)? as f64;
    let neg = y.len() as f64 - pos;
    if pos == 0.0 || neg == 0.0 {
        return Err(Error::InvalidTarget(
            "ROC AUC needs both classes in y_true".into(),
        ));
    }
    let (mut area, mut prev) = (0.0, (0.0, 0.0));
    for (fp, tp) in curve(y, scores) {
        area += (fp - prev.0) * (tp + prev.1) / 2.0;
        prev = (fp, tp);
    }
    Ok(area / (pos * neg))
}

/// The ROC curve as `(false positive rate, true positive rate)` points,
/// one per distinct threshold from the highest score down, starting at
/// `(0, 0)` and ending at `(1, 1)` (scikit-learn's `roc_curve` with
/// `drop_intermediate=False`). Its trapezoid area is [`roc_auc`]. Errors
/// when only one class is present.
///
/// ```
/// use mlops_train::metrics::roc_curve;
///
/// let curve = roc_curve(&[0.0, 1.0, 1.0, 0.0], &[0.1, 0.9, 0.4, 0.6])?;
/// assert_eq!(curve, vec![(0.0, 0.0), (0.0, 0.5), (0.5, 0.5), (0.5, 1.0), (1.0, 1.0)]);
/// # Ok::<(), mlops_train::Error>(())
/// ```
pub fn roc_curve(y: &[f64], scores: &[f64]) -> Result<Vec<(f64, f64)>> {
    let pos = check_binary(y, scores)? as f64;
    let neg = y.len() as f64 - pos;
    if pos == 0.0 || neg == 0.0 {
        return Err(Error::InvalidTarget(
            "a ROC curve needs both classes in y_true".into(),
        ));
    }
    let mut points = vec![(0.0, 0.0)];
    points.extend(
        curve(y, scores)
            .into_iter()
            .map(|(fp, tp)| (fp / neg, tp / pos)),
    );
    Ok(points)
}

/// Area under the precision-recall curve as average precision, the step
/// sum `sum_k (R_k - R_{k-1}) P_k` over distinct thresholds, as
/// `sklearn.metrics.average_precision_score` (not the trapezoid area).
/// Errors when there is no positive.
pub fn pr_auc(y: &[f64], scores: &[f64]) -> Result<f64> {
    let pos = check_binary(y, scores)? as f64;
    if pos == 0.0 {
        return Err(Error::InvalidTarget(
            "average precision needs a positive in y_true".into(),
        ));
    }
    let (mut ap, mut prev_tp) = (0.0, 0.0);
    for (fp, tp) in curve(y, scores) {
        ap += (tp - prev_tp) / pos * (tp / (tp + fp));
        prev_tp = tp;
    }
    Ok(ap)
}

/// Mean negative log-likelihood of the labels, as `sklearn.metrics.log_loss`
/// (1.9): probabilities are clipped to `[eps, 1 - eps]` with
/// `eps = f64::EPSILON` (machine epsilon; `1 - p` is computed before
/// clipping).
pub fn log_loss(y: &[f64], p: &[f64]) -> Result<f64> {
    check_binary(y, p)?;
    check_probabilities(p)?;
    let eps = f64::EPSILON;
    let total: f64 = y
        .iter()
        .zip(p)
        .map(|(&t, &p)| {
            let q = if t == 1.0 { p } else { 1.0 - p };
            -q.clamp(eps, 1.0 - eps).ln()
        })
        .sum();
    Ok(total / y.len() as f64)
}

/// Brier score: mean squared difference between probability and label.
pub fn brier(y: &[f64], p: &[f64]) -> Result<f64> {
    check_binary(y, p)?;
    check_probabilities(p)?;
    Ok(y.iter().zip(p).map(|(t, p)| (p - t) * (p - t)).sum::<f64>() / y.len() as f64)
}

/// Counts of a thresholded classifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfusionMatrix {
    /// True negatives.
    pub tn: u64,
    /// False positives.
    pub fp: u64,
    /// False negatives.
    pub fn_: u64,
    /// True positives.
    pub tp: u64,
}

fn ratio(a: u64, b: u64) -> f64 {
    // scikit-learn's zero_division default gives 0 for an empty denominator.
    if b == 0 { 0.0 } else { a as f64 / b as f64 }
}

impl ConfusionMatrix {
    /// Share of correct predictions.
    pub fn accuracy(&self) -> f64 {
        ratio(self.tp + self.tn, self.tp + self.tn + self.fp + self.fn_)
    }

    /// `tp / (tp + fp)`, 0 when nothing is predicted positive.
    pub fn precision(&self) -> f64 {
        ratio(self.tp, self.tp + self.fp)
    }

    /// `tp / (tp + fn)`, 0 when there is no positive.
    pub fn recall(&self) -> f64 {
        ratio(self.tp, self.tp + self.fn_)
    }

    /// `2 tp / (2 tp + fp + fn)`, 0 when all three are 0.
    pub fn f1(&self) -> f64 {
        ratio(2 * self.tp, 2 * self.tp + self.fp + self.fn_)
    }
}

/// Confusion matrix of `score >= threshold` as the positive prediction.
pub fn confusion_matrix(y: &[f64], scores: &[f64], threshold: f64) -> Result<ConfusionMatrix> {
    check_binary(y, scores)?;
    if threshold.is_nan() {
        return Err(invalid("threshold", "is NaN"));
    }
    let mut m = ConfusionMatrix {
        tn: 0,
        fp: 0,
        fn_: 0,
        tp: 0,
    };
    for (&t, &s) in y.iter().zip(scores) {
        match (t == 1.0, s >= threshold) {
            (true, true) => m.tp += 1,
            (true, false) => m.fn_ += 1,
            (false, true) => m.fp += 1,
            (false, false) => m.tn += 1,
        }
    }
    Ok(m)
}

/// One non-empty bin of a calibration table.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CalibrationBin {
    /// Lower edge of the bin.
    pub lower: f64,
    /// Upper edge of the bin.
    pub upper: f64,
    /// Rows in the bin.
    pub count: u64,
    /// Mean predicted probability (scikit-learn's `prob_pred`).
    pub mean_predicted: f64,
    /// Share of positives (scikit-learn's `prob_true`).
    pub fraction_positive: f64,
}

/// Reliability table with `n_bins` equal-width bins on `[0, 1]`, as
/// `sklearn.calibration.calibration_curve(strategy="uniform")`: a value on an
/// inner edge falls in the lower bin; empty bins are left out.
pub fn calibration_table(y: &[f64], p: &[f64], n_bins: usize) -> Result<Vec<CalibrationBin>> {
    check_binary(y, p)?;
    check_probabilities(p)?;
    if n_bins == 0 {
        return Err(invalid("n_bins", "must be at least 1"));
    }
    let edges: Vec<f64> = (0..=n_bins).map(|i| i as f64 / n_bins as f64).collect();
    let inner = &edges[1..n_bins];
    let mut sums = vec![(0u64, 0.0f64, 0.0f64); n_bins];
    for (&t, &p) in y.iter().zip(p) {
        // numpy.searchsorted(side="left"): number of inner edges below p.
        let bin = inner.partition_point(|&e| e < p);
        let b = &mut sums[bin];
        b.0 += 1;
        b.1 += p;
        b.2 += t;
    }
    Ok(sums
        .iter()
        .enumerate()
        .filter(|(_, b)| b.0 > 0)
        .map(|(i, &(count, sp, st))| CalibrationBin {
            lower: edges[i],
            upper: edges[i + 1],
            count,
            mean_predicted: sp / count as f64,
            fraction_positive: st / count as f64,
        })
        .collect())
}

/// Every binary metric at once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BinaryMetrics {
    /// ROC AUC.
    pub roc_auc: f64,
    /// Average precision.
    pub pr_auc: f64,
    /// Log loss.
    pub log_loss: f64,
    /// Brier score.
    pub brier: f64,
    /// Threshold used for the counts below.
    pub threshold: f64,
    /// Accuracy at the threshold.
    pub accuracy: f64,
    /// Precision at the threshold.
    pub precision: f64,
    /// Recall at the threshold.
    pub recall: f64,
    /// F1 at the threshold.
    pub f1: f64,
    /// Counts at the threshold.
    pub confusion: ConfusionMatrix,
}

impl BinaryMetrics {
    /// Computes every metric for probabilities `p` of labels `y`.
    pub fn compute(y: &[f64], p: &[f64], threshold: f64) -> Result<Self> {
        let confusion = confusion_matrix(y, p, threshold)?;
        Ok(BinaryMetrics {
            roc_auc: roc_auc(y, p)?,
            pr_auc: pr_auc(y, p)?,
            log_loss: log_loss(y, p)?,
            brier: brier(y, p)?,
            threshold,
            accuracy: confusion.accuracy(),
            precision: confusion.precision(),
            recall: confusion.recall(),
            f1: confusion.f1(),
            confusion,
        })
    }
}
