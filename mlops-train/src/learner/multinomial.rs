//! Multinomial (softmax) logistic regression: the multiclass fit of
//! [`ValidLogisticParams`], same solver as the binary one (argmin's L-BFGS,
//! memory 10, More-Thuente line search) on our own one-pass objective.
//!
//! The objective is scikit-learn's for `LogisticRegression` with the lbfgs
//! solver and `k > 2` classes: the mean of `logsumexp(z) - z_y` over the rows
//! plus `l2 / (2 n) |W|^2` (intercepts unpenalised), with one weight row per
//! class (the full, over-parameterised form). Intercepts start at the
//! centred log class priors, weights at zero: deterministic, no seed.
//!
//! With [`ClassWeight::PerClass`] each row's loss term is multiplied by its
//! class's weight `s_i` and the mean becomes `sum(s_i l_i) / sum(s_i)` with
//! penalty `l2 / (2 sum(s_i)) |W|^2`: scikit-learn's scaling for sample
//! weights, which has the minimiser of `sum(s_i l_i) + l2 / 2 |W|^2`.

use mlops_core::model::{InferenceModel, SoftmaxModel};
use mlops_core::seed::Seed;
use ndarray::{Array1, Array2, ArrayView2};

use super::lbfgs::{self, Smooth};
use super::{
    ClassWeight, FittedModel, MulticlassLearner, ValidLogisticParams, check_x, check_xy,
    no_single_output,
};
use crate::error::invalid;
use crate::{Error, Result};

/// A fitted multinomial logistic regression over `k` classes.
#[derive(Debug, Clone)]
pub struct FittedMultinomial {
    /// `k x p`.
    weights: Array2<f64>,
    intercepts: Array1<f64>,
    iterations: u64,
    converged: bool,
}

impl FittedMultinomial {
    /// Weights, one row per class.
    pub fn weights(&self) -> &Array2<f64> {
        &self.weights
    }

    /// Intercepts, one per class.
    pub fn intercepts(&self) -> &Array1<f64> {
        &self.intercepts
    }

    /// Number of classes.
    pub fn n_classes(&self) -> usize {
        self.intercepts.len()
    }

    /// L-BFGS iterations run.
    pub fn iterations(&self) -> u64 {
        self.iterations
    }

    /// Whether the gradient tolerance was reached.
    pub fn converged(&self) -> bool {
        self.converged
    }
}

/// Mean penalised multinomial log loss; parameters are `W` (row-major,
/// `k x p`) then, with an intercept, the `k` intercepts.
struct Objective<'a> {
    x: ArrayView2<'a, f64>,
    y: &'a [usize],
    k: usize,
    /// Per-class loss weights, already divided by `sum(s_i) / n` so the
    /// objective stays a mean over `n`; `None`: every row counts 1 (kept
    /// apart so unweighted fits run exactly the arithmetic they always did).
    class_weights: Option<&'a [f64]>,
    /// `l2 / n` (`l2 / sum(s_i)` when weighted).
    alpha: f64,
    intercept: bool,
}

impl Smooth for Objective<'_> {
    fn cost_and_gradient(
        &self,
        ws: &[f64],
    ) -> std::result::Result<(f64, Vec<f64>), argmin::core::Error> {
        let (p, k) = (self.x.ncols(), self.k);
        let mut g = vec![0.0; ws.len()];
        let mut z = vec![0.0; k];
        let mut loss = 0.0;
        for (row, &y) in self.x.rows().into_iter().zip(self.y) {
            let row = row
                .to_slice()
                .ok_or_else(|| argmin::core::Error::msg("strided row"))?;
            for (c, zc) in z.iter_mut().enumerate() {
                let wc = &ws[c * p..(c + 1) * p];
                let dot: f64 = row.iter().zip(wc).map(|(a, b)| a * b).sum();
                *zc = if self.intercept {
                    dot + ws[k * p + c]
                } else {
                    dot
                };
            }
            let max = z.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let sum: f64 = z.iter().map(|v| (v - max).exp()).sum();
            let s = self.class_weights.map_or(1.0, |w| w[y]);
            match self.class_weights {
                Some(_) => loss += s * (max + sum.ln() - z[y]),
                None => loss += max + sum.ln() - z[y],
            }
            for (c, &zc) in z.iter().enumerate() {
                let mut r = (zc - max).exp() / sum - f64::from(u8::from(c == y));
                if self.class_weights.is_some() {
                    r *= s;
                }
                for (gj, xj) in g[c * p..(c + 1) * p].iter_mut().zip(row) {
                    *gj += r * xj;
                }
                if self.intercept {
                    g[k * p + c] += r;
                }
            }
        }
        let n = self.y.len() as f64;
        let mut penalty = 0.0;
        for (gj, wj) in g[..k * p].iter_mut().zip(&ws[..k * p]) {
            *gj = *gj / n + self.alpha * wj;
            penalty += wj * wj;
        }
        for gj in g[k * p..].iter_mut() {
            *gj /= n;
        }
        Ok((loss / n + 0.5 * self.alpha * penalty, g))
    }
}

/// Class indices `0..n_classes` with every class present; returns the
/// labels and the count of each class.
pub(super) fn class_labels(y: &Array1<f64>, n_classes: usize) -> Result<(Vec<usize>, Vec<usize>)> {
    if n_classes < 2 {
        return Err(invalid(
            "n_classes",
            format!("must be at least 2, got {n_classes}"),
        ));
    }
    let mut counts = vec![0usize; n_classes];
    let labels = y
        .iter()
        .enumerate()
        .map(|(i, &v)| {
            if v >= 0.0 && v.fract() == 0.0 && v < n_classes as f64 {
                let c = v as usize;
                counts[c] += 1;
                Ok(c)
            } else {
                Err(Error::InvalidTarget(format!(
                    "y[{i}] is {v}, multiclass targets must be class indices 0..{n_classes}"
                )))
            }
        })
        .collect::<Result<Vec<usize>>>()?;
    if let Some(c) = counts.iter().position(|&n| n == 0) {
        return Err(Error::InvalidTarget(format!(
            "class {c} has no training rows; every class is needed"
        )));
    }
    Ok((labels, counts))
}

impl MulticlassLearner for ValidLogisticParams {
    type FittedMulti = FittedMultinomial;

    /// Deterministic: the seed is unused. Class weights multiply each row's
    /// loss term (scikit-learn's `class_weight`): `Balanced` gives class `c`
    /// the weight `n / (k n_c)`, `PerClass` needs exactly `n_classes`
    /// weights ([`Error::ClassWeightCount`]); `Explicit` (a binary pair) is
    /// an error.
    fn fit_multiclass(
        &self,
        x: &Array2<f64>,
        y: &Array1<f64>,
        n_classes: usize,
        _seed: Seed,
    ) -> Result<FittedMultinomial> {
        check_xy(x, y)?;
        let params = self.params();
        let (labels, counts) = class_labels(y, n_classes)?;
        let k = n_classes;
        let n = labels.len() as f64;
        let loss_weights: Option<Vec<f64>> = match &params.class_weight {
            ClassWeight::None => None,
            ClassWeight::PerClass(w) => {
                if w.len() != k {
                    return Err(Error::ClassWeightCount {
                        classes: k,
                        weights: w.len(),
                    });
                }
                Some(w.clone())
            }
            ClassWeight::Balanced => {
                Some(counts.iter().map(|&c| n / (k as f64 * c as f64)).collect())
            }
            ClassWeight::Explicit { .. } => {
                return Err(invalid(
                    "class_weight",
                    "explicit weights name a negative and a positive class; use per-class weights or balanced for multiclass",
                ));
            }
        };
        let _span = tracing::debug_span!(
            "fit",
            learner = "logreg",
            classes = k,
            rows = x.nrows(),
            cols = x.ncols()
        )
        .entered();
        let x = x.as_standard_layout();
        let p = x.ncols();
        let intercept = params.fit_intercept;
        // Class masses: row counts, times the class weights when weighted.
        let (mass, total, scaled): (Vec<f64>, f64, Option<Vec<f64>>) = match &loss_weights {
            None => (counts.iter().map(|&c| c as f64).collect(), n, None),
            Some(w) => {
                let mass: Vec<f64> = counts.iter().zip(w).map(|(&c, w)| c as f64 * w).collect();
                let total: f64 = mass.iter().sum();
                let scaled = w.iter().map(|w| w * n / total).collect();
                (mass, total, Some(scaled))
            }
        };
        let objective = Objective {
            x: x.view(),
            y: &labels,
            k,
            class_weights: scaled.as_deref(),
            alpha: params.l2 / total,
            intercept,
        };
        let mut init = Array1::zeros(k * p + if intercept { k } else { 0 });
        if intercept {
            let logs: Vec<f64> = mass.iter().map(|&m| (m / total).ln()).collect();
            let mean = logs.iter().sum::<f64>() / k as f64;
            for (c, l) in logs.iter().enumerate() {
                init[k * p + c] = l - mean;
            }
        }
        let fit = lbfgs::minimise(
            objective,
            init,
            params.gradient_tolerance,
            params.max_iter,
            "multinomial logistic regression",
        )?;
        let best = &fit.params;
        let weights = Array2::from_shape_vec((k, p), best.iter().take(k * p).copied().collect())
            .map_err(|e| Error::Shape(e.to_string()))?;
        let intercepts: Array1<f64> = if intercept {
            best.iter().skip(k * p).copied().collect()
        } else {
            Array1::zeros(k)
        };
        Ok(FittedMultinomial {
            weights,
            intercepts,
            iterations: fit.iterations,
            converged: fit.converged,
        })
    }
}

impl FittedModel for FittedMultinomial {
    /// A multiclass model has no single output: [`mlops_core::Error::OutputCount`].
    fn predict_native(&self, _x: &Array2<f64>) -> Result<Array1<f64>> {
        Err(no_single_output(self.n_classes()))
    }

    /// Class probabilities from the fitted weights, computed with ndarray.
    fn predict_proba_native(&self, x: &Array2<f64>) -> Result<Array2<f64>> {
        check_x(x, self.weights.ncols())?;
        let mut z = x.dot(&self.weights.t()) + &self.intercepts;
        for mut row in z.rows_mut() {
            let max = row.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            row.mapv_inplace(|v| (v - max).exp());
            let sum = row.sum();
            row.mapv_inplace(|v| v / sum);
        }
        Ok(z)
    }

    fn to_inference(&self) -> Result<InferenceModel> {
        SoftmaxModel::new(
            self.weights.ncols(),
            self.weights.iter().copied().collect(),
            self.intercepts.to_vec(),
        )
        .map(InferenceModel::Softmax)
        .map_err(Error::from)
    }
}
