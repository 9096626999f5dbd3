//! The parts of a model package the batch scorer uses, checked to fit
//! together once.

use mlops_core::data::{ColumnType, Value};
use mlops_core::drift::Profile;
use mlops_core::features::FittedFeatures;
use mlops_core::model::InferenceModel;

use crate::error::{Error, Result};
use crate::unknown::{UnknownCategories, unknown_error};

/// Fitted features, model, decision threshold and training profile.
#[derive(Debug, Clone)]
pub(crate) struct Model {
    features: FittedFeatures,
    model: InferenceModel,
    /// `Some(threshold)` for a binary classifier, `None` for a regressor.
    threshold: Option<f64>,
    profile: Option<Profile>,
    inputs: Vec<(String, ColumnType)>,
    /// The class labels of a multiclass model, in output order; empty for
    /// single-output models.
    classes: Vec<String>,
    unknown: UnknownCategories,
}

impl Model {
    pub(crate) fn new(
        features: FittedFeatures,
        model: InferenceModel,
        threshold: Option<f64>,
        profile: Option<Profile>,
    ) -> Result<Self> {
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
            classes: Vec::new(),
            unknown: UnknownCategories::default(),
        })
    }

    /// Names the classes of a multiclass model (one per model output);
    /// a single-output model takes no classes.
    pub(crate) fn with_classes(mut self, classes: Vec<String>) -> Result<Self> {
        let k = self.model.n_outputs();
        if (k > 1 || !classes.is_empty()) && classes.len() != k {
            return Err(Error::Core(mlops_core::Error::OutputCount {
                expected: k,
                found: classes.len(),
            }));
        }
        if !classes.is_empty() {
            self.threshold = None;
        }
        self.classes = classes;
        Ok(self)
    }

    /// Sets the unknown-category policy.
    pub(crate) fn with_unknown_categories(mut self, policy: UnknownCategories) -> Self {
        self.unknown = policy;
        self
    }

    /// The class labels of a multiclass model (empty otherwise).
    pub(crate) fn classes(&self) -> &[String] {
        &self.classes
    }

    /// Model outputs per record: the number of classes, or 1.
    pub(crate) fn n_scores(&self) -> usize {
        self.model.n_outputs()
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
    /// column and reason (under [`UnknownCategories::Error`], an unseen
    /// category is such a reason).
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
        if unknown > 0 && self.unknown == UnknownCategories::Error {
            return Err(self.unknown_reject(values));
        }
        if let Some(feature) = features.iter().position(|v| !v.is_finite()) {
            // The error a single-row prediction reports.
            return Err(explain(mlops_core::Error::NonFiniteInput {
                row: 0,
                feature,
                value: features[feature],
            }));
        }
        Ok(self.unknown.counted(unknown))
    }

    /// The column and reason of a record refused for an unseen category.
    #[cold]
    fn unknown_reject(&self, values: &[Value<'_>]) -> (Option<String>, String) {
        let (input, value) = self.features.first_unseen(values).unwrap_or((0, ""));
        match unknown_error(&self.features, String::new(), input, value, None) {
            Error::UnknownCategory {
                column,
                value,
                known,
                n_known,
                ..
            } => {
                let reason = crate::error::unknown_reason(&value, &known, n_known);
                (Some(column), reason)
            }
            other => (None, other.to_string()),
        }
    }

    /// Predictions for prepared feature rows (row-major), [`n_scores`]
    /// values per row (class probabilities in class order for a multiclass
    /// model).
    ///
    /// [`n_scores`]: Self::n_scores
    pub(crate) fn predict_block(&self, rows: &[f64], out: &mut [f64]) {
        let k = self.n_scores();
        let result = if k == 1 {
            self.model.predict_rows(rows, out)
        } else {
            let n = self.model.n_features().max(1);
            rows.chunks_exact(n)
                .zip(out.chunks_exact_mut(k))
                .try_for_each(|(row, o)| self.model.predict_proba_into(row, o))
        };
        if let Err(e) = result {
            // Unreachable: `prepare` checked every row and `Block` keeps the
            // shape. Scores stay NaN rather than a guess.
            tracing::error!(error = %e, "block prediction failed after prepare");
            out.fill(f64::NAN);
        }
    }

    /// The label of one record's scores: `1` when a binary classifier's
    /// score reaches the threshold, `0` below it, the most probable class of
    /// a multiclass model (the first on ties), empty for a regressor.
    #[inline]
    pub(crate) fn label(&self, scores: &[f64]) -> &str {
        if !self.classes.is_empty() {
            return argmax(scores)
                .and_then(|i| self.classes.get(i))
                .map_or("", String::as_str);
        }
        match (self.threshold, scores.first()) {
            (Some(t), Some(&s)) if s >= t => "1",
            (Some(_), _) => "0",
            (None, _) => "",
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

/// Index of the largest value (the first of equal ones); `None` when empty
/// or all NaN.
pub(crate) fn argmax(values: &[f64]) -> Option<usize> {
    let mut best: Option<(usize, f64)> = None;
    for (i, &v) in values.iter().enumerate() {
        if best.is_none_or(|(_, b)| v > b) && !v.is_nan() {
            best = Some((i, v));
        }
    }
    best.map(|(i, _)| i)
}
