//! Feature importance as a run artifact, and its bar charts in the run
//! report.

use serde::{Deserialize, Serialize};

use super::svg::BarChart;
use crate::{Error, Result};

/// Artifact name under which a trainer logs its [`FeatureImportance`] (JSON).
pub const IMPORTANCE_ARTIFACT: &str = "feature_importance.json";

/// Bars drawn per chart (the most important features).
const TOP: usize = 15;

/// How much a fitted model relies on each feature.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct FeatureImportance {
    /// Model input names (encoded features), the index of
    /// [`split_count`](Self::split_count) and [`split_gain`](Self::split_gain).
    pub features: Vec<String>,
    /// Per model input, the splits testing it over all trees (tree learners).
    pub split_count: Option<Vec<u64>>,
    /// Per model input, the summed loss reduction of its splits (learners
    /// that record it: gradient boosting).
    pub split_gain: Option<Vec<f64>>,
    /// Permutation importance on the held-out rows, per raw input column.
    pub permutation: Option<PermutationImportance>,
}

/// The drop of a held-out metric when one input column's values are
/// shuffled across rows (scikit-learn's `permutation_importance`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct PermutationImportance {
    /// The metric (`roc_auc`, `log_loss`, `rmse`).
    pub metric: String,
    /// Whether a larger metric is better (the importance is then
    /// `baseline - permuted`, else `permuted - baseline`).
    pub higher_is_better: bool,
    /// The metric on the unshuffled rows.
    pub baseline: f64,
    /// Shuffles per column.
    pub repeats: usize,
    /// Raw input columns.
    pub columns: Vec<String>,
    /// Mean importance per column over the repeats.
    pub mean: Vec<f64>,
    /// Population standard deviation per column over the repeats.
    pub std: Vec<f64>,
}

impl FeatureImportance {
    /// Parses the JSON written under [`IMPORTANCE_ARTIFACT`].
    pub fn from_json(bytes: &[u8]) -> Result<Self> {
        serde_json::from_slice(bytes)
            .map_err(|e| Error::Report(format!("{IMPORTANCE_ARTIFACT}: {e}")))
    }

    /// The JSON written under [`IMPORTANCE_ARTIFACT`].
    pub fn to_json(&self) -> Result<Vec<u8>> {
        serde_json::to_vec(self).map_err(|e| Error::Report(format!("{IMPORTANCE_ARTIFACT}: {e}")))
    }

    /// One bar chart per kind present (permutation, split gain, split
    /// count), each of the most important features in decreasing order.
    pub(crate) fn charts(&self) -> Vec<String> {
        let mut charts = Vec::new();
        if let Some(p) = &self.permutation {
            let title = format!("Permutation importance ({} drop)", p.metric);
            charts.push(top_bars(&title, &p.metric, &p.columns, &p.mean));
        }
        if let Some(gain) = &self.split_gain {
            charts.push(top_bars("Split gain", "gain", &self.features, gain));
        }
        if let Some(count) = &self.split_count {
            let count: Vec<f64> = count.iter().map(|&c| c as f64).collect();
            charts.push(top_bars("Split count", "splits", &self.features, &count));
        }
        charts
    }
}

/// The `TOP` largest values (ties in name order) as bars.
fn top_bars(title: &str, y_label: &str, names: &[String], values: &[f64]) -> String {
    let mut order: Vec<usize> = (0..names.len().min(values.len())).collect();
    order.sort_by(|&a, &b| values[b].total_cmp(&values[a]).then(a.cmp(&b)));
    order.truncate(TOP);
    BarChart {
        title: title.to_owned(),
        y_label: y_label.to_owned(),
        labels: order.iter().map(|&i| names[i].clone()).collect(),
        series: vec![(
            y_label.to_owned(),
            order.iter().map(|&i| values[i]).collect(),
        )],
    }
    .to_svg()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_charts_the_top_features() {
        let names: Vec<String> = (0..20).map(|i| format!("f{i}")).collect();
        let imp = FeatureImportance {
            features: names.clone(),
            split_count: Some((0..20).collect()),
            split_gain: None,
            permutation: Some(PermutationImportance {
                metric: "roc_auc".into(),
                higher_is_better: true,
                baseline: 0.8,
                repeats: 2,
                columns: vec!["a<b".into(), "c".into()],
                mean: vec![0.01, 0.05],
                std: vec![0.0, 0.01],
            }),
        };
        let back = FeatureImportance::from_json(&imp.to_json().expect("json")).expect("parse");
        assert_eq!(back, imp);
        let charts = imp.charts();
        assert_eq!(charts.len(), 2);
        // Largest first, names escaped, at most TOP bars.
        let c = &charts[0];
        assert!(
            c.find(">c<").expect("c") < c.find("a&lt;b").expect("a<b"),
            "{c}"
        );
        assert_eq!(charts[1].matches(r#"fill-opacity="0.85""#).count(), TOP);
        assert!(charts[1].contains("f19") && !charts[1].contains(">f0<"));
    }
}
