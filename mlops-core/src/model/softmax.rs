//! Multinomial linear models: `softmax(W x + b)` over `k` classes.

use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// A fitted multinomial (softmax) linear model in inference form: one weight
/// row and one intercept per class, probabilities `softmax(W x + b)`.
///
/// Built with [`SoftmaxModel::new`] or deserialized; both paths validate.
///
/// ```
/// use mlops_core::model::SoftmaxModel;
///
/// // 3 classes, 2 features, weights row-major (class by class).
/// let m = SoftmaxModel::new(2, vec![1.0, 0.0, 0.0, 1.0, 0.0, 0.0], vec![0.0; 3])?;
/// let mut p = [0.0; 3];
/// m.predict_proba_into(&[2.0, 0.0], &mut p)?;
/// assert!((p.iter().sum::<f64>() - 1.0).abs() < 1e-12);
/// assert!(p[0] > p[1] && p[1] == p[2]);
/// # Ok::<(), mlops_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SoftmaxModel {
    n_features: usize,
    /// `k x n_features`, row-major.
    weights: Vec<f64>,
    intercepts: Vec<f64>,
}

/// The unchecked wire form; deserialization goes through [`SoftmaxModel::new`].
#[derive(Deserialize)]
struct RawSoftmaxModel {
    n_features: usize,
    weights: Vec<f64>,
    intercepts: Vec<f64>,
}

impl<'de> Deserialize<'de> for SoftmaxModel {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let raw = RawSoftmaxModel::deserialize(d)?;
        SoftmaxModel::new(raw.n_features, raw.weights, raw.intercepts)
            .map_err(serde::de::Error::custom)
    }
}

impl SoftmaxModel {
    /// A softmax model over `intercepts.len()` classes: `weights` holds
    /// `n_features` values per class, class after class. Fails unless there
    /// are at least 2 classes and 1 feature, the weight count matches, and
    /// every value is finite.
    pub fn new(n_features: usize, weights: Vec<f64>, intercepts: Vec<f64>) -> Result<Self> {
        let bad = |reason: String| Error::InvalidModel {
            model: "softmax",
            reason,
        };
        let k = intercepts.len();
        if k < 2 {
            return Err(bad(format!("{k} classes, need at least 2")));
        }
        if n_features == 0 {
            return Err(bad("zero features".into()));
        }
        if Some(weights.len()) != n_features.checked_mul(k) {
            return Err(bad(format!(
                "{} weights for {k} classes x {n_features} features",
                weights.len()
            )));
        }
        if let Some(i) = weights.iter().position(|w| !w.is_finite()) {
            return Err(bad(format!("weight {i} is {}", weights[i])));
        }
        if let Some(i) = intercepts.iter().position(|w| !w.is_finite()) {
            return Err(bad(format!("intercept {i} is {}", intercepts[i])));
        }
        Ok(SoftmaxModel {
            n_features,
            weights,
            intercepts,
        })
    }

    /// Number of input features.
    pub fn n_features(&self) -> usize {
        self.n_features
    }

    /// Number of classes.
    pub fn n_classes(&self) -> usize {
        self.intercepts.len()
    }

    /// The weights of class `c` (`n_features` values); empty if `c` is out
    /// of range.
    pub fn class_weights(&self, c: usize) -> &[f64] {
        self.weights
            .get(c * self.n_features..(c + 1) * self.n_features)
            .unwrap_or(&[])
    }

    /// One intercept per class.
    pub fn intercepts(&self) -> &[f64] {
        &self.intercepts
    }

    /// Class probabilities for one row into `out` (length
    /// [`n_classes`](Self::n_classes)).
    pub fn predict_proba_into(&self, row: &[f64], out: &mut [f64]) -> Result<()> {
        super::check_row(row, self.n_features, 0)?;
        super::check_out(out, self.n_classes())?;
        self.predict_checked(row, out);
        Ok(())
    }

    /// Prediction for a row and buffer already checked.
    pub(crate) fn predict_checked(&self, row: &[f64], out: &mut [f64]) {
        for ((o, w), b) in out
            .iter_mut()
            .zip(self.weights.chunks_exact(self.n_features))
            .zip(&self.intercepts)
        {
            *o = w.iter().zip(row).fold(*b, |acc, (w, x)| acc + w * x);
        }
        softmax_in_place(out);
    }
}

/// `softmax` of the scores in place, shifted by the maximum so no
/// exponential overflows.
pub(crate) fn softmax_in_place(z: &mut [f64]) {
    let max = z.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let mut sum = 0.0;
    for v in z.iter_mut() {
        *v = (*v - max).exp();
        sum += *v;
    }
    for v in z.iter_mut() {
        *v /= sum;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probabilities_sum_to_one_without_overflow() {
        let m = SoftmaxModel::new(1, vec![1000.0, -1000.0, 0.0], vec![0.0, 0.0, 1.0]).unwrap();
        let mut p = [0.0; 3];
        m.predict_proba_into(&[5.0], &mut p).unwrap();
        assert_eq!(p, [1.0, 0.0, 0.0]);
        m.predict_proba_into(&[0.0], &mut p).unwrap();
        let e = std::f64::consts::E;
        assert!((p[2] - e / (2.0 + e)).abs() < 1e-15);
        assert!((p.iter().sum::<f64>() - 1.0).abs() < 1e-15);
    }

    #[test]
    fn validates_shape_values_and_buffers() {
        assert!(SoftmaxModel::new(1, vec![1.0], vec![0.0]).is_err());
        assert!(SoftmaxModel::new(0, vec![], vec![0.0, 0.0]).is_err());
        assert!(SoftmaxModel::new(2, vec![1.0; 3], vec![0.0, 0.0]).is_err());
        assert!(SoftmaxModel::new(1, vec![f64::NAN, 1.0], vec![0.0, 0.0]).is_err());
        assert!(SoftmaxModel::new(1, vec![1.0, 1.0], vec![0.0, f64::INFINITY]).is_err());
        let m = SoftmaxModel::new(1, vec![1.0, 2.0], vec![0.0, 0.0]).unwrap();
        assert!(matches!(
            m.predict_proba_into(&[1.0], &mut [0.0; 3]),
            Err(Error::OutputCount {
                expected: 2,
                found: 3
            })
        ));
        assert!(m.predict_proba_into(&[f64::NAN], &mut [0.0; 2]).is_err());
        // Deserialization validates too.
        let bytes = rmp_serde::to_vec(&RawForTest {
            n_features: 2,
            weights: vec![1.0, 2.0],
            intercepts: vec![0.0, 0.0],
        })
        .unwrap();
        assert!(rmp_serde::from_slice::<SoftmaxModel>(&bytes).is_err());
        let bytes = rmp_serde::to_vec(&m).unwrap();
        assert_eq!(rmp_serde::from_slice::<SoftmaxModel>(&bytes).unwrap(), m);
    }

    #[derive(Serialize)]
    struct RawForTest {
        n_features: usize,
        weights: Vec<f64>,
        intercepts: Vec<f64>,
    }
}
