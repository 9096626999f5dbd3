//! Learners behind one trait pair.
//!
//! A params builder (`LogisticParams`, `TreeParams`, `LinearParams`,
//! `ForestParams`, `GbmParams`, and `MlpParams` with the `burn` feature) is checked once into its `Valid*` form, which implements
//! [`Learner`]. Fitting gives a [`FittedModel`] that predicts with the
//! library itself and converts to the library-free
//! [`InferenceModel`] that packages and serving use.
//!
//! Classification targets are `0.0` / `1.0` (positive class = `1.0`);
//! predictions are positive-class probabilities. Regression targets are any
//! finite values. Learners that also implement [`MulticlassLearner`]
//! (logistic regression, decision tree, random forest, gradient boosting, and the MLP with the
//! `burn` feature) fit class indices
//! `0..k` and predict `k` class probabilities per row.

mod forest;
mod gbm;
mod histogram_tree;
mod lbfgs;
mod linear;
mod logistic;
#[cfg(feature = "burn")]
mod mlp;
mod multinomial;
mod smartcore_forest;
mod smartcore_tree;
mod tree;

pub use forest::{FittedClassForest, FittedForest, ForestEngine, ForestParams, ValidForestParams};
pub use gbm::{FittedGbm, GbmLoss, GbmParams, RoundLoss, ValidGbmParams};
pub use linear::{FittedLinear, LinearParams, ValidLinearParams};
pub use logistic::{ClassWeight, FittedLogistic, LogisticParams, ValidLogisticParams};
#[cfg(feature = "burn")]
pub use mlp::{EpochStats, FittedMlp, MlpParams, MlpTask, ValidMlpParams};
pub use multinomial::FittedMultinomial;
pub use tree::{FittedClassTree, FittedTree, SplitCriterion, TreeParams, ValidTreeParams};

use mlops_core::model::InferenceModel;
use mlops_core::seed::Seed;
use ndarray::{Array1, Array2};

use crate::{Error, Result};

/// A validated learner configuration that can fit a model.
pub trait Learner {
    /// The fitted model.
    type Fitted: FittedModel;

    /// Short name (`logreg`, `tree`, `linear`, `rf`, `mlp`).
    fn name(&self) -> &'static str;

    /// Fits on features `x` (rows = samples) and targets `y`. All randomness
    /// comes from `seed`; learners without randomness ignore it.
    fn fit(&self, x: &Array2<f64>, y: &Array1<f64>, seed: Seed) -> Result<Self::Fitted>;
}

/// A model fitted by a learning library.
pub trait FittedModel {
    /// Predictions (positive-class probability or value) computed by the
    /// learning library's own model, for checking the conversion.
    fn predict_native(&self, x: &Array2<f64>) -> Result<Array1<f64>>;

    /// Every output per row (`n x k` class probabilities for a multiclass
    /// model) computed by the learning library's own model. The default is
    /// [`predict_native`](Self::predict_native) as one column.
    fn predict_proba_native(&self, x: &Array2<f64>) -> Result<Array2<f64>> {
        let p = self.predict_native(x)?;
        let n = p.len();
        p.into_shape_with_order((n, 1))
            .map_err(|e| Error::Shape(e.to_string()))
    }

    /// The model in mlops' own inference form.
    fn to_inference(&self) -> Result<InferenceModel>;
}

/// A learner that also fits multiclass targets: class indices `0..k`, as
/// [`FittedFeatures::target`](mlops_core::features::FittedFeatures::target)
/// gives for a multiclass target. Every class must have training rows.
pub trait MulticlassLearner {
    /// The fitted multiclass model (`k` outputs per row).
    type FittedMulti: FittedModel;

    /// Fits `n_classes` classes on features `x` and class indices `y`.
    fn fit_multiclass(
        &self,
        x: &Array2<f64>,
        y: &Array1<f64>,
        n_classes: usize,
        seed: Seed,
    ) -> Result<Self::FittedMulti>;
}

/// Checks that `x` and `y` agree in rows, are non-empty and finite.
fn check_xy(x: &Array2<f64>, y: &Array1<f64>) -> Result<()> {
    if x.nrows() != y.len() {
        return Err(Error::Shape(format!(
            "x has {} rows, y has {} values",
            x.nrows(),
            y.len()
        )));
    }
    if x.nrows() == 0 || x.ncols() == 0 {
        return Err(Error::Shape(format!(
            "x is {}x{}, need at least one row and one feature",
            x.nrows(),
            x.ncols()
        )));
    }
    if let Some(((r, c), v)) = x.indexed_iter().find(|(_, v)| !v.is_finite()) {
        return Err(Error::Shape(format!(
            "x[{r}, {c}] is {v}, features must be finite"
        )));
    }
    if let Some((i, v)) = y.iter().enumerate().find(|(_, v)| !v.is_finite()) {
        return Err(Error::InvalidTarget(format!("y[{i}] is {v}")));
    }
    Ok(())
}

/// Binary targets as class indices; both classes must be present.
fn binary_labels(y: &Array1<f64>) -> Result<Array1<usize>> {
    let mut counts = [0usize; 2];
    let labels = y
        .iter()
        .enumerate()
        .map(|(i, &v)| {
            let c = if v == 0.0 {
                0
            } else if v == 1.0 {
                1
            } else {
                return Err(Error::InvalidTarget(format!(
                    "y[{i}] is {v}, binary targets must be 0 or 1"
                )));
            };
            counts[c] += 1;
            Ok(c)
        })
        .collect::<Result<Array1<usize>>>()?;
    if counts[0] == 0 || counts[1] == 0 {
        return Err(Error::InvalidTarget(format!(
            "both classes are needed, got {} zeros and {} ones",
            counts[0], counts[1]
        )));
    }
    Ok(labels)
}

/// What `predict_native` answers for a model with `n_outputs` outputs per
/// row (a multiclass model has no single output).
fn no_single_output(n_outputs: usize) -> Error {
    Error::Core(mlops_core::Error::OutputCount {
        expected: n_outputs,
        found: 1,
    })
}

/// Checks a feature matrix against a fitted feature count.
fn check_x(x: &Array2<f64>, n_features: usize) -> Result<()> {
    if x.ncols() != n_features {
        return Err(Error::Core(mlops_core::Error::FeatureCount {
            expected: n_features,
            found: x.ncols(),
        }));
    }
    Ok(())
}
