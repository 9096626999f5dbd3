//! Evaluation metrics, checked against scikit-learn 1.9.
//!
//! Classification functions take true labels (`0.0` / `1.0`) and scores or
//! positive-class probabilities; regression functions take true and predicted
//! values. Inputs of different lengths, empty inputs, non-binary labels and
//! non-finite scores are errors. Multiclass functions take class indices and
//! an `n x k` probability matrix ([`MulticlassMetrics`]).

mod classification;
mod multiclass;
mod regression;

pub use classification::{
    BinaryMetrics, CalibrationBin, ConfusionMatrix, brier, calibration_table, confusion_matrix,
    log_loss, pr_auc, roc_auc, roc_curve,
};
pub use multiclass::{MulticlassMetrics, argmax_rows, multiclass_confusion, multiclass_log_loss};
pub use regression::{RegressionMetrics, mae, r2, rmse};

use crate::{Error, Result};

fn check_pair(a: &[f64], b: &[f64]) -> Result<()> {
    if a.len() != b.len() {
        return Err(Error::Shape(format!(
            "{} true values but {} predictions",
            a.len(),
            b.len()
        )));
    }
    if a.is_empty() {
        return Err(Error::Shape("no values to score".into()));
    }
    if let Some((i, v)) = b.iter().enumerate().find(|(_, v)| !v.is_finite()) {
        return Err(Error::Shape(format!("prediction {i} is {v}")));
    }
    Ok(())
}
