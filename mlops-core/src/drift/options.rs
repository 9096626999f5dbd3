//! Options of a drift comparison, validated before use.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::correction::Correction;
use super::select::Method;
use crate::{Error, Result};

/// Options for [`compare`](super::compare) and profile comparisons.
///
/// Defaults follow Evidently: automatic test per column, its default
/// thresholds, no correction, dataset drift at a drifted share of 0.5.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DriftOptions {
    /// Columns to test; `None` tests every column present on both sides.
    pub columns: Option<Vec<String>>,
    /// One method for every column (`None` = automatic choice).
    pub method: Option<Method>,
    /// Per-column method overrides (win over `method`).
    pub column_methods: HashMap<String, Method>,
    /// Threshold for every column (`None` = the method's default).
    pub threshold: Option<f64>,
    /// Per-column threshold overrides.
    pub column_thresholds: HashMap<String, f64>,
    /// Multiple-testing correction of p-values.
    pub correction: Correction,
    /// Share of drifted columns at which the dataset counts as drifted.
    pub drift_share: f64,
}

impl Default for DriftOptions {
    fn default() -> Self {
        DriftOptions {
            columns: None,
            method: None,
            column_methods: HashMap::new(),
            threshold: None,
            column_thresholds: HashMap::new(),
            correction: Correction::None,
            drift_share: 0.5,
        }
    }
}

impl DriftOptions {
    /// Restricts the comparison to these columns.
    pub fn columns<I: IntoIterator<Item = S>, S: Into<String>>(mut self, cols: I) -> Self {
        self.columns = Some(cols.into_iter().map(Into::into).collect());
        self
    }

    /// Uses one method for every column.
    pub fn method(mut self, method: Method) -> Self {
        self.method = Some(method);
        self
    }

    /// Overrides the method of one column.
    pub fn column_method(mut self, column: impl Into<String>, method: Method) -> Self {
        self.column_methods.insert(column.into(), method);
        self
    }

    /// Sets the threshold of every column.
    pub fn threshold(mut self, threshold: f64) -> Self {
        self.threshold = Some(threshold);
        self
    }

    /// Overrides the threshold of one column.
    pub fn column_threshold(mut self, column: impl Into<String>, threshold: f64) -> Self {
        self.column_thresholds.insert(column.into(), threshold);
        self
    }

    /// Sets the multiple-testing correction.
    pub fn correction(mut self, correction: Correction) -> Self {
        self.correction = correction;
        self
    }

    /// Sets the dataset-drift share.
    pub fn drift_share(mut self, share: f64) -> Self {
        self.drift_share = share;
        self
    }

    /// Checks every value; called by the comparisons before any work.
    pub fn validate(&self) -> Result<()> {
        if !(self.drift_share > 0.0 && self.drift_share <= 1.0) {
            return Err(Error::InvalidParameter {
                name: "drift_share",
                reason: format!("must be in (0, 1], got {}", self.drift_share),
            });
        }
        for t in self.threshold.iter().chain(self.column_thresholds.values()) {
            if !(t.is_finite() && *t > 0.0) {
                return Err(Error::InvalidParameter {
                    name: "threshold",
                    reason: format!("must be a positive finite number, got {t}"),
                });
            }
        }
        Ok(())
    }

    pub(crate) fn method_for(&self, column: &str) -> Option<Method> {
        self.column_methods.get(column).copied().or(self.method)
    }

    pub(crate) fn threshold_for(&self, column: &str, method: Method) -> f64 {
        self.column_thresholds
            .get(column)
            .copied()
            .or(self.threshold)
            .unwrap_or_else(|| method.default_threshold())
    }
}
