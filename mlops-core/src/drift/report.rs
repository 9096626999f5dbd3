//! The drift report: serde (the `mlops drift --json` shape) and a readable
//! terminal table.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use super::select::{ColumnKind, Method};

/// The outcome of one column's test.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ColumnDrift {
    /// The test that ran.
    pub method: Method,
    /// How the column was treated.
    pub kind: ColumnKind,
    /// The test statistic (KS D, chi-square, z) or the distance.
    pub statistic: f64,
    /// The p-value for p-value tests (after correction, if any), else `None`.
    pub p_value: Option<f64>,
    /// Drift when `p_value < threshold` (p-value tests) or
    /// `statistic >= threshold` (distances).
    pub threshold: f64,
    /// Whether the column drifted.
    pub drifted: bool,
    /// Non-missing reference values used.
    pub n_reference: u64,
    /// Non-missing current values used.
    pub n_current: u64,
}

/// Drift across columns, with the dataset-level verdict.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DriftReport {
    /// Share of tested columns that drifted.
    pub drift_share: f64,
    /// True when `drift_share >= share_threshold`.
    pub dataset_drift: bool,
    /// The share at which the dataset counts as drifted (0.5 by default).
    pub share_threshold: f64,
    /// Number of drifted columns.
    pub n_drifted: usize,
    /// Per-column results, by column name.
    pub columns: BTreeMap<String, ColumnDrift>,
    /// Columns not tested, with the reason (text column, no values...).
    pub skipped: BTreeMap<String, String>,
}

impl DriftReport {
    /// Builds the dataset verdict from per-column results.
    pub fn from_columns(
        columns: BTreeMap<String, ColumnDrift>,
        skipped: BTreeMap<String, String>,
        share_threshold: f64,
    ) -> Self {
        let n_drifted = columns.values().filter(|c| c.drifted).count();
        let drift_share = if columns.is_empty() {
            0.0
        } else {
            n_drifted as f64 / columns.len() as f64
        };
        DriftReport {
            drift_share,
            dataset_drift: !columns.is_empty() && drift_share >= share_threshold,
            share_threshold,
            n_drifted,
            columns,
            skipped,
        }
    }
}

impl fmt::Display for DriftReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let width = self
            .columns
            .keys()
            .chain(self.skipped.keys())
            .map(|k| k.chars().count())
            .max()
            .unwrap_or(6)
            .max(6);
        writeln!(
            f,
            "{:<width$}  {:<13}  {:>12}  {:>12}  {:>9}  drifted",
            "column", "method", "statistic", "p-value", "threshold"
        )?;
        for (name, c) in &self.columns {
            let p = c
                .p_value
                .map_or_else(|| "-".to_string(), |p| format!("{p:.4e}"));
            writeln!(
                f,
                "{:<width$}  {:<13}  {:>12.6}  {:>12}  {:>9}  {}",
                name,
                c.method.name(),
                c.statistic,
                p,
                c.threshold,
                if c.drifted { "YES" } else { "no" }
            )?;
        }
        for (name, why) in &self.skipped {
            writeln!(f, "{name:<width$}  skipped: {why}")?;
        }
        write!(
            f,
            "drifted columns: {}/{} (share {:.3}, threshold {}) -> dataset drift: {}",
            self.n_drifted,
            self.columns.len(),
            self.drift_share,
            self.share_threshold,
            if self.dataset_drift { "YES" } else { "no" }
        )
    }
}
