//! Binary logistic regression: L2-penalised log loss minimised by argmin's
//! L-BFGS (memory 10, More-Thuente line search).
//!
//! This is the estimator and solver of linfa-logistic, run on our own
//! objective: linfa computes the margins twice per trial point (cost, then
//! gradient) through generic ndarray expressions with `n`-row temporaries,
//! and its Telco fit took 2.5 times as long as this one (`BENCHMARKS.md`).
//! Here one pass over the rows gives both cost and gradient, and the line
//! search's second request for the same point is answered from the last
//! result. The objective is the *mean* loss (scikit-learn's scaling), which
//! gives the line search unit-sized first steps; the minimiser is the same.
//! The intercept starts at the log-odds of the base rate, the weights at zero
//! (deterministic, no seed).
//! `tests/logistic_reference.rs` checks the coefficients against
//! scikit-learn's and linfa-logistic's.

use mlops_core::model::{InferenceModel, LinearModel, Link};
use mlops_core::seed::Seed;
use ndarray::{Array1, Array2, ArrayView2};
use serde::{Deserialize, Serialize};

use super::lbfgs::{self, Smooth};
use super::{FittedModel, Learner, binary_labels, check_x, check_xy};
use crate::error::invalid;
use crate::{Error, Result};

/// Class weights, with scikit-learn's `class_weight` meaning: each row's
/// log-loss term is multiplied by its class's weight, and the L2 penalty
/// is scaled to the total weight, so the fit is the minimiser of
/// `C * sum(w_i * loss_i) + |coef|^2 / 2` (scikit-learn's objective, with
/// `C = 1 / l2`). Checked against scikit-learn for binary and multiclass
/// targets (`tests/telco_quality.rs`, `tests/multiclass_telco.rs`).
/// `Balanced` gives class `c` the weight `n / (k n_c)`.
///
/// On the command line (`--param class_weight=...`): `Balanced`, or the
/// weights in class order separated by commas, `class_weight=1,2.5,3`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
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
    /// One finite, positive weight per class, in class order (class index
    /// `c` of the target gets `weights[c]`). A multiclass fit needs exactly
    /// `k` weights, a binary fit 2; another count is
    /// [`Error::ClassWeightCount`](crate::Error::ClassWeightCount).
    PerClass(Vec<f64>),
}

impl ClassWeight {
    /// The per-class weights as the binary `(negative, positive)` pair
    /// (`Balanced` from the class counts `n0`, `n1`), or `None` when
    /// unweighted; a `PerClass` list not of length 2 is an error.
    pub(super) fn binary_pair(&self, n0: f64, n1: f64) -> Result<Option<(f64, f64)>> {
        match self {
            ClassWeight::None => Ok(None),
            ClassWeight::Balanced => {
                let n = n0 + n1;
                Ok(Some((n / (2.0 * n0), n / (2.0 * n1))))
            }
            ClassWeight::Explicit { negative, positive } => Ok(Some((*negative, *positive))),
            ClassWeight::PerClass(w) => match w.as_slice() {
                [negative, positive] => Ok(Some((*negative, *positive))),
                _ => Err(Error::ClassWeightCount {
                    classes: 2,
                    weights: w.len(),
                }),
            },
        }
    }
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
    pub(super) l2: f64,
    pub(super) class_weight: ClassWeight,
    pub(super) max_iter: u64,
    pub(super) gradient_tolerance: f64,
    pub(super) fit_intercept: bool,
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

    /// Stop when the L2 norm of the gradient of the *mean* objective
    /// (per-sample loss plus `l2 / (2 n) |w|^2`) falls below this, so the same
    /// tolerance means the same precision whatever the data size, as
    /// scikit-learn's `tol` on its averaged objective (which bounds the
    /// largest gradient component instead, a looser test).
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
        self.class_weight.validate()?;
        Ok(ValidLogisticParams(self))
    }
}

impl ClassWeight {
    /// Every weight finite and > 0; a per-class list has at least 2.
    pub(super) fn validate(&self) -> Result<()> {
        if let ClassWeight::Explicit { negative, positive } = *self
            && !(negative.is_finite() && negative > 0.0 && positive.is_finite() && positive > 0.0)
        {
            return Err(invalid(
                "class_weight",
                format!("weights must be finite and > 0, got {negative} and {positive}"),
            ));
        }
        if let ClassWeight::PerClass(weights) = self {
            if weights.len() < 2 {
                return Err(invalid(
                    "class_weight",
                    format!(
                        "need one weight per class (at least 2), got {}",
                        weights.len()
                    ),
                ));
            }
            if let Some((c, w)) = weights
                .iter()
                .enumerate()
                .find(|(_, w)| !(w.is_finite() && **w > 0.0))
            {
                return Err(invalid(
                    "class_weight",
                    format!("weights must be finite and > 0, class {c} has {w}"),
                ));
            }
        }
        Ok(())
    }
}

impl ValidLogisticParams {
    /// The checked parameters (for the multinomial fit).
    pub(super) fn params(&self) -> &LogisticParams {
        &self.0
    }

    /// The L2 penalty.
    pub fn l2(&self) -> f64 {
        self.0.l2
    }

    /// The class weights.
    pub fn class_weight(&self) -> ClassWeight {
        self.0.class_weight.clone()
    }

    /// The iteration limit.
    pub fn max_iter(&self) -> u64 {
        self.0.max_iter
    }
}

/// A fitted binary logistic regression.
#[derive(Debug, Clone)]
pub struct FittedLogistic {
    weights: Array1<f64>,
    intercept: f64,
    iterations: u64,
    converged: bool,
}

impl FittedLogistic {
    /// Feature weights (log-odds per unit).
    pub fn weights(&self) -> &Array1<f64> {
        &self.weights
    }

    /// Intercept (log-odds).
    pub fn intercept(&self) -> f64 {
        self.intercept
    }

    /// L-BFGS iterations run.
    pub fn iterations(&self) -> u64 {
        self.iterations
    }

    /// Whether the gradient tolerance was reached (otherwise the iteration
    /// limit or a stalled line search stopped the fit; a warning is logged).
    pub fn converged(&self) -> bool {
        self.converged
    }
}

/// Mean penalised log loss over row-major `x`; the last parameter is the
/// intercept when `intercept` is set.
struct Objective<'a> {
    x: ArrayView2<'a, f64>,
    y: &'a [f64],
    /// Per-class loss weights `(negative, positive)`, scaled to sum to `n`
    /// over the rows; `None` when unweighted.
    class_weights: Option<(f64, f64)>,
    /// `l2 / n` (`l2 / total weight` when weighted): the penalty of the mean
    /// objective.
    alpha: f64,
    intercept: bool,
}

impl Objective<'_> {
    fn margin(&self, row: &[f64], w: &[f64]) -> f64 {
        let p = row.len();
        let dot: f64 = row.iter().zip(&w[..p]).map(|(a, b)| a * b).sum();
        if self.intercept { dot + w[p] } else { dot }
    }

    fn penalty(&self, w: &[f64]) -> f64 {
        let p = self.x.ncols();
        0.5 * self.alpha * w[..p].iter().map(|v| v * v).sum::<f64>()
    }
}

/// `ln(1 + e^z)` without overflow.
fn softplus(z: f64) -> f64 {
    if z > 0.0 {
        z + (-z).exp().ln_1p()
    } else {
        z.exp().ln_1p()
    }
}

fn sigmoid(z: f64) -> f64 {
    if z >= 0.0 {
        1.0 / (1.0 + (-z).exp())
    } else {
        let e = z.exp();
        e / (1.0 + e)
    }
}

impl Smooth for Objective<'_> {
    /// Cost and gradient in one pass over the rows.
    fn cost_and_gradient(
        &self,
        ws: &[f64],
    ) -> std::result::Result<(f64, Vec<f64>), argmin::core::Error> {
        let p = self.x.ncols();
        let mut loss = 0.0;
        let mut g = vec![0.0; ws.len()];
        let mut g_intercept = 0.0;
        for (row, &y) in self.x.rows().into_iter().zip(self.y) {
            let row = row
                .to_slice()
                .ok_or_else(|| argmin::core::Error::msg("strided row"))?;
            let z = self.margin(row, ws);
            let (term, mut r) = (softplus(z) - y * z, sigmoid(z) - y);
            match self.class_weights {
                None => loss += term,
                Some((w0, w1)) => {
                    let w = if y == 1.0 { w1 } else { w0 };
                    loss += w * term;
                    r *= w;
                }
            }
            for (gj, xj) in g[..p].iter_mut().zip(row) {
                *gj += r * xj;
            }
            g_intercept += r;
        }
        let n = self.y.len() as f64;
        for (gj, wj) in g[..p].iter_mut().zip(&ws[..p]) {
            *gj = *gj / n + self.alpha * wj;
        }
        if self.intercept {
            g[p] = g_intercept / n;
        }
        Ok((loss / n + self.penalty(ws), g))
    }
}

impl Learner for ValidLogisticParams {
    type Fitted = FittedLogistic;

    fn name(&self) -> &'static str {
        "logreg"
    }

    /// Deterministic: the seed is unused.
    fn fit(&self, x: &Array2<f64>, y: &Array1<f64>, _seed: Seed) -> Result<FittedLogistic> {
        check_xy(x, y)?;
        let labels = binary_labels(y)?;
        let n1 = labels.iter().filter(|&&c| c == 1).count() as f64;
        let n = labels.len() as f64;
        let n0 = n - n1;
        // Weighted: class masses n_c w_c; row weights scaled so they sum to n.
        let weights = self.0.class_weight.binary_pair(n0, n1)?;
        let (mass0, mass1) = weights.map_or((n0, n1), |(w0, w1)| (n0 * w0, n1 * w1));
        let total = mass0 + mass1;
        let class_weights = weights.map(|(w0, w1)| (w0 * n / total, w1 * n / total));
        let _span = tracing::debug_span!(
            "fit",
            learner = "logreg",
            rows = x.nrows(),
            cols = x.ncols()
        )
        .entered();
        let x = x.as_standard_layout();
        let targets: Vec<f64> = labels.iter().map(|&c| c as f64).collect();
        let p = x.ncols();
        let intercept = self.0.fit_intercept;
        let objective = Objective {
            x: x.view(),
            y: &targets,
            class_weights,
            alpha: self.0.l2 / total,
            intercept,
        };
        let mut init = Array1::zeros(p + usize::from(intercept));
        if intercept {
            init[p] = (mass1 / mass0).ln();
        }
        let fit = lbfgs::minimise(
            objective,
            init,
            self.0.gradient_tolerance,
            self.0.max_iter,
            "logistic regression",
        )?;
        let best = &fit.params;
        let weights: Array1<f64> = best.iter().take(p).copied().collect();
        let intercept = if intercept { best[p] } else { 0.0 };
        Ok(FittedLogistic {
            weights,
            intercept,
            iterations: fit.iterations,
            converged: fit.converged,
        })
    }
}

impl FittedModel for FittedLogistic {
    /// Probabilities from the fitted weights, computed with ndarray (not
    /// through the inference form).
    fn predict_native(&self, x: &Array2<f64>) -> Result<Array1<f64>> {
        check_x(x, self.weights.len())?;
        let z = x.dot(&self.weights) + self.intercept;
        Ok(z.mapv(sigmoid))
    }

    fn to_inference(&self) -> Result<InferenceModel> {
        LinearModel::new(self.weights.to_vec(), self.intercept, Link::Logistic)
            .map(InferenceModel::Linear)
            .map_err(Error::from)
    }
}
