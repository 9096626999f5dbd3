//! Ordinary least squares regression (linfa-linear).

use linfa::prelude::*;
use linfa_linear::{FittedLinearRegression, LinearRegression};
use mlops_core::model::{InferenceModel, LinearModel, Link};
use mlops_core::seed::Seed;
use ndarray::{Array1, Array2};
use serde::{Deserialize, Serialize};

use super::{FittedModel, Learner, check_x, check_xy};
use crate::{Error, Result};

/// Linear regression hyper-parameters (unchecked builder).
///
/// ```
/// use mlops_train::prelude::*;
/// use mlops_core::seed::Seed;
/// use ndarray::array;
///
/// let x = array![[0.0], [1.0], [2.0], [3.0]];
/// let y = array![1.0, 3.0, 5.0, 7.0];
/// let fitted = LinearParams::new().check()?.fit(&x, &y, Seed(0))?;
/// let model = fitted.to_inference()?;
/// assert!((model.predict_proba_row(&[10.0])? - 21.0).abs() < 1e-9);
/// # Ok::<(), mlops_train::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LinearParams {
    fit_intercept: bool,
}

/// Checked linear regression hyper-parameters; implements [`Learner`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ValidLinearParams(LinearParams);

impl Default for LinearParams {
    fn default() -> Self {
        LinearParams {
            fit_intercept: true,
        }
    }
}

impl LinearParams {
    /// Defaults: with intercept.
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether to fit an intercept.
    pub fn fit_intercept(mut self, yes: bool) -> Self {
        self.fit_intercept = yes;
        self
    }

    /// Validates the parameters (every combination is valid today; the step
    /// keeps all learners on one pattern).
    pub fn check(self) -> Result<ValidLinearParams> {
        Ok(ValidLinearParams(self))
    }
}

/// A linear regression fitted by linfa-linear.
#[derive(Debug, Clone)]
pub struct FittedLinear {
    model: FittedLinearRegression<f64>,
    n_features: usize,
}

impl Learner for ValidLinearParams {
    type Fitted = FittedLinear;

    fn name(&self) -> &'static str {
        "linear"
    }

    /// Deterministic: the seed is unused (closed-form least squares).
    fn fit(&self, x: &Array2<f64>, y: &Array1<f64>, _seed: Seed) -> Result<FittedLinear> {
        check_xy(x, y)?;
        let _span = tracing::debug_span!("fit", learner = "linear", rows = x.nrows()).entered();
        let dataset = Dataset::new(x.clone(), y.clone());
        let model = LinearRegression::new()
            .with_intercept(self.0.fit_intercept)
            .fit(&dataset)?;
        Ok(FittedLinear {
            model,
            n_features: x.ncols(),
        })
    }
}

impl FittedModel for FittedLinear {
    fn predict_native(&self, x: &Array2<f64>) -> Result<Array1<f64>> {
        check_x(x, self.n_features)?;
        Ok(self.model.predict(x))
    }

    fn to_inference(&self) -> Result<InferenceModel> {
        LinearModel::new(
            self.model.params().to_vec(),
            self.model.intercept(),
            Link::Identity,
        )
        .map(InferenceModel::Linear)
        .map_err(Error::from)
    }
}
