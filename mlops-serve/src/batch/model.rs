//! The parts of a model package the batch scorer uses, checked to fit
//! together once.

use mlops_core::data::{ColumnType, Value};
use mlops_core::drift::Profile;
use mlops_core::features::FittedFeatures;
use mlops_core::model::InferenceModel;

use crate::error::{Error, Result};

/// Fitted features, model, decision threshold and training profile.
#[derive(Debug, Clone)]
pub(crate) struct Model {
    features: FittedFeatures,
    model: InferenceModel,
    /// `Some(threshold)` for a binary classifier, `None` for a regressor.
    threshold: Option<f64>,
    profile: Option<Profile>,
    inputs: Vec<(String, ColumnType)>,
}

impl Model {
    pub(crate) fn new(
        features: FittedFeatures,
        model: InferenceModel,
        threshold: Option<f64>,
        profile: Option<Profile>,
    ) -> Result<Self> {
        if model.n_outputs() != 1 {
            return Err(Error::MulticlassUnsupported {
                model: "batch".into(),
                classes: model.n_outputs(),
            });
        }
        if model.n_features() != features.n_outputs() {
            return Err(Error::Core(mlops_core::Error::FeatureCount {
                expected: model.n_features(),
                found: features.n_outputs(),
            }));
        }
        let inputs = features
            .input_columns()
            .iter()
            .map(|f| (f.name.clone(), f.column_type))
            .collect();
        Ok(Model {
            features,
            model,
            threshold,
            profile,
            inputs,
        })
    }

    pub(crate) fn inputs(&self) -> &[(String, ColumnType)] {
        &self.inputs
    }

    #[cfg(test)]
    pub(crate) fn features(&self) -> &FittedFeatures {
        &self.features
    }

    #[cfg(test)]
    pub(crate) fn inference(&self) -> &InferenceModel {
        &self.model
    }

    pub(crate) fn n_outputs(&self) -> usize {
        self.features.n_outputs()
    }

    pub(crate) fn profile(&self) -> Option<&Profile> {
        self.profile.as_ref()
    }

    /// Transforms one record (values in [`inputs`](Self::inputs) order)
    /// into `features` and checks the result is finite, so that predicting
    /// it cannot fail; returns the unseen-category count, or the offending
    /// column and reason.
    #[inline]
    pub(crate) fn prepare(
        &self,
        values: &[Value<'_>],
        features: &mut [f64],
    ) -> std::result::Result<usize, (Option<String>, String)> {
        let unknown = self
            .features
            .transform_row(values, features)
            .map_err(explain)?;
        if let Some(feature) = features.iter().position(|v| !v.is_finite()) {
            // The error a single-row prediction reports.
            return Err(explain(mlops_core::Error::NonFiniteInput {
                row: 0,
                feature,
                value: features[feature],
            }));
        }
        Ok(unknown)
    }

    /// Predictions for prepared feature rows (row-major).
    pub(crate) fn predict_block(&self, rows: &[f64], out: &mut [f64]) {
        if let Err(e) = self.model.predict_rows(rows, out) {
            // Unreachable: `prepare` checked every row and `Block` keeps the
            // shape. Scores stay NaN rather than a guess.
            tracing::error!(error = %e, "block prediction failed after prepare");
            out.fill(f64::NAN);
        }
    }

    /// `1` when a classifier's score reaches the threshold, `0` below it;
    /// empty for a regressor.
    #[inline]
    pub(crate) fn label(&self, score: f64) -> &'static str {
        match self.threshold {
            Some(t) if score >= t => "1",
            Some(_) => "0",
            None => "",
        }
    }
}

/// The column (when one is to blame) and the reason of a scoring error.
fn explain(err: mlops_core::Error) -> (Option<String>, String) {
    match err {
        mlops_core::Error::BadValue { column, reason } => (Some(column), reason),
        other => (None, other.to_string()),
    }
}
