//! Binary logistic regression (linfa-logistic, L-BFGS).

use linfa::prelude::*;
use linfa_logistic::{FittedLogisticRegression, LogisticRegression};
use mlops_core::model::{InferenceModel, LinearModel, Link};
use mlops_core::seed::Seed;
use ndarray::{Array1, Array2};
use serde::{Deserialize, Serialize};

use super::{FittedModel, Learner, binary_labels, check_x, check_xy};
use crate::error::invalid;
use crate::{Error, Result};

/// Class weights.
///
/// linfa-logistic has no sample weights, so weights are applied as a prior
/// correction: the fitted log-odds are shifted by `ln(w_pos / w_neg)`. This
/// moves every probability the way weighting moves the decision threshold,
/// and leaves the ranking (ROC AUC, PR AUC) unchanged; it is not the same
/// estimator as scikit-learn's weighted loss.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub enum ClassWeight {
    /// All samples count the same.
    #[default]
    None,
    /// Weights `n / (2 n_class)`, as scikit-learn's `"balanced"`.
    Balanced,
    /// Explicit positive weights per class.
    Explicit {
        /// Weight of class 0.
        negative: f64,
        /// Weight of class 1.
        positive: f64,
    },
}

/// Logistic regression hyper-parameters (unchecked builder).
///
/// ```
/// use mlops_train::prelude::*;
///
/// let params = LogisticParams::new().l2(0.5).max_iter(200).check()?;
/// assert_eq!(params.l2(), 0.5);
/// assert!(LogisticParams::new().l2(-1.0).check().is_err());
/// # Ok::<(), mlops_train::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogisticParams {
    l2: f64,
    class_weight: ClassWeight,
    max_iter: u64,
    gradient_tolerance: f64,
    fit_intercept: bool,
}

/// Checked logistic regression hyper-parameters; implements [`Learner`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ValidLogisticParams(LogisticParams);

impl Default for LogisticParams {
    fn default() -> Self {
        LogisticParams {
            l2: 1.0,
            class_weight: ClassWeight::None,
            max_iter: 100,
            gradient_tolerance: 1e-4,
            fit_intercept: true,
        }
    }
}

impl LogisticParams {
    /// Defaults: `l2 = 1.0` (scikit-learn's `C = 1`), no class weights, 100
    /// iterations, gradient tolerance 1e-4, with intercept.
    pub fn new() -> Self {
        Self::default()
    }

    /// L2 penalty `alpha` on the weights (not the intercept); the objective is
    /// `sum(log loss) + alpha / 2 * |w|^2`, so `alpha = 1 / C` of scikit-learn.
    pub fn l2(mut self, alpha: f64) -> Self {
        self.l2 = alpha;
        self
    }

    /// Class weights (see [`ClassWeight`]).
    pub fn class_weight(mut self, weight: ClassWeight) -> Self {
        self.class_weight = weight;
        self
    }

    /// Maximum L-BFGS iterations.
    pub fn max_iter(mut self, n: u64) -> Self {
        self.max_iter = n;
        self
    }

    /// Stop when the norm of the gradient of the *mean* per-sample loss falls
    /// below this. linfa's tolerance applies to the summed loss, so it is
    /// scaled by the number of rows at fit time; the same tolerance then
    /// means the same precision whatever the data size (as scikit-learn's
    /// `tol`, which applies to its averaged objective).
    pub fn gradient_tolerance(mut self, tol: f64) -> Self {
        self.gradient_tolerance = tol;
        self
    }

    /// Whether to fit an intercept.
    pub fn fit_intercept(mut self, yes: bool) -> Self {
        self.fit_intercept = yes;
        self
    }

    /// Validates every parameter; the error names the bad one.
    pub fn check(self) -> Result<ValidLogisticParams> {
        if !(self.l2.is_finite() && self.l2 >= 0.0) {
            return Err(invalid(
                "l2",
                format!("must be finite and >= 0, got {}", self.l2),
            ));
        }
        if self.max_iter == 0 {
            return Err(invalid("max_iter", "must be at least 1"));
        }
        if !(self.gradient_tolerance.is_finite() && self.gradient_tolerance > 0.0) {
            return Err(invalid(
                "gradient_tolerance",
                format!("must be finite and > 0, got {}", self.gradient_tolerance),
            ));
        }
        if let ClassWeight::Explicit { negative, positive } = self.class_weight
            && !(negative.is_finite() && negative > 0.0 && positive.is_finite() && positive > 0.0)
        {
            return Err(invalid(
                "class_weight",
                format!("weights must be finite and > 0, got {negative} and {positive}"),
            ));
        }
        Ok(ValidLogisticParams(self))
    }
}

impl ValidLogisticParams {
    /// The L2 penalty.
    pub fn l2(&self) -> f64 {
        self.0.l2
    }

    /// The class weights.
    pub fn class_weight(&self) -> ClassWeight {
        self.0.class_weight
    }

    /// The iteration limit.
    pub fn max_iter(&self) -> u64 {
        self.0.max_iter
    }
}

/// A logistic regression fitted by linfa-logistic.
#[derive(Debug, Clone)]
pub struct FittedLogistic {
    model: FittedLogisticRegression<f64, usize>,
    /// linfa models the more frequent class as "positive"; -1 when that is
    /// our class 0, so weights are flipped on conversion.
    sign: f64,
    /// Prior correction from class weights, added to the log-odds.
    logit_shift: f64,
    n_features: usize,
}

impl Learner for ValidLogisticParams {
    type Fitted = FittedLogistic;

    fn name(&self) -> &'static str {
        "logreg"
    }

    /// Deterministic: the seed is unused (L-BFGS from zero weights).
    fn fit(&self, x: &Array2<f64>, y: &Array1<f64>, _seed: Seed) -> Result<FittedLogistic> {
        check_xy(x, y)?;
        let labels = binary_labels(y)?;
        let n1 = labels.iter().filter(|&&c| c == 1).count() as f64;
        let n0 = labels.len() as f64 - n1;
        let logit_shift = match self.0.class_weight {
            ClassWeight::None => 0.0,
            // w1 / w0 = (n / 2 n1) / (n / 2 n0) = n0 / n1
            ClassWeight::Balanced => (n0 / n1).ln(),
            ClassWeight::Explicit { negative, positive } => (positive / negative).ln(),
        };
        let _span = tracing::debug_span!(
            "fit",
            learner = "logreg",
            rows = x.nrows(),
            cols = x.ncols()
        )
        .entered();
        let dataset = Dataset::new(x.clone(), labels);
        let model = LogisticRegression::default()
            .alpha(self.0.l2)
            .max_iterations(self.0.max_iter)
            .gradient_tolerance(self.0.gradient_tolerance * x.nrows() as f64)
            .with_intercept(self.0.fit_intercept)
            .fit(&dataset)?;
        let sign = if model.labels().pos.class == 1 {
            1.0
        } else {
            -1.0
        };
        Ok(FittedLogistic {
            model,
            sign,
            logit_shift,
            n_features: x.ncols(),
        })
    }
}

impl FittedModel for FittedLogistic {
    fn predict_native(&self, x: &Array2<f64>) -> Result<Array1<f64>> {
        check_x(x, self.n_features)?;
        let p = self.model.predict_probabilities(x);
        Ok(p.mapv(|p| {
            let p1 = if self.sign > 0.0 { p } else { 1.0 - p };
            if self.logit_shift == 0.0 {
                p1
            } else {
                let z = (p1 / (1.0 - p1)).ln() + self.logit_shift;
                1.0 / (1.0 + (-z).exp())
            }
        }))
    }

    fn to_inference(&self) -> Result<InferenceModel> {
        let weights = self.model.params().iter().map(|w| self.sign * w).collect();
        let intercept = self.sign * self.model.intercept() + self.logit_shift;
        LinearModel::new(weights, intercept, Link::Logistic)
            .map(InferenceModel::Linear)
            .map_err(Error::from)
    }
}
