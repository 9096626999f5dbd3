//! Regression metrics.

use serde::{Deserialize, Serialize};

use super::check_pair;
use crate::{Error, Result};

fn check(y: &[f64], pred: &[f64]) -> Result<()> {
    check_pair(y, pred)?;
    if let Some((i, v)) = y.iter().enumerate().find(|(_, v)| !v.is_finite()) {
        return Err(Error::InvalidTarget(format!("y[{i}] is {v}")));
    }
    Ok(())
}

/// Root mean squared error.
pub fn rmse(y: &[f64], pred: &[f64]) -> Result<f64> {
    check(y, pred)?;
    let sse: f64 = y.iter().zip(pred).map(|(a, b)| (a - b) * (a - b)).sum();
    Ok((sse / y.len() as f64).sqrt())
}

/// Mean absolute error.
pub fn mae(y: &[f64], pred: &[f64]) -> Result<f64> {
    check(y, pred)?;
    Ok(y.iter().zip(pred).map(|(a, b)| (a - b).abs()).sum::<f64>() / y.len() as f64)
}

/// Coefficient of determination, as `sklearn.metrics.r2_score`: with a
/// constant `y`, 1.0 for a perfect prediction and 0.0 otherwise.
pub fn r2(y: &[f64], pred: &[f64]) -> Result<f64> {
    check(y, pred)?;
    let mean = y.iter().sum::<f64>() / y.len() as f64;
    let ss_res: f64 = y.iter().zip(pred).map(|(a, b)| (a - b) * (a - b)).sum();
    let ss_tot: f64 = y.iter().map(|a| (a - mean) * (a - mean)).sum();
    Ok(if ss_tot == 0.0 {
        if ss_res == 0.0 { 1.0 } else { 0.0 }
    } else {
        1.0 - ss_res / ss_tot
    })
}

/// Every regression metric at once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RegressionMetrics {
    /// Root mean squared error.
    pub rmse: f64,
    /// Mean absolute error.
    pub mae: f64,
    /// R².
    pub r2: f64,
}

impl RegressionMetrics {
    /// Computes every metric.
    pub fn compute(y: &[f64], pred: &[f64]) -> Result<Self> {
        Ok(RegressionMetrics {
            rmse: rmse(y, pred)?,
            mae: mae(y, pred)?,
            r2: r2(y, pred)?,
        })
    }
}
