//! Linear models: `link(w · x + b)`.

use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// How the linear score becomes the prediction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Link {
    /// The score itself (linear regression).
    Identity,
    /// The logistic sigmoid of the score: the positive-class probability
    /// (binary logistic regression).
    Logistic,
    /// The softmax of `k >= 2` scores: class probabilities. Only the output
    /// of a multiclass [`DenseMlp`](super::DenseMlp); a [`LinearModel`] has
    /// one score and refuses it (a multinomial linear model is a
    /// [`SoftmaxModel`](super::SoftmaxModel)).
    Softmax,
}

/// A fitted linear model in inference form.
///
/// Built with [`LinearModel::new`] or deserialized; both paths validate, so a
/// value of this type always has finite weights.
///
/// ```
/// use mlops_core::model::{Link, LinearModel};
///
/// let m = LinearModel::new(vec![2.0, -1.0], 0.5, Link::Identity)?;
/// assert_eq!(m.predict_row(&[1.0, 3.0])?, 2.0 - 3.0 + 0.5);
/// # Ok::<(), mlops_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LinearModel {
    weights: Vec<f64>,
    intercept: f64,
    link: Link,
}

/// The unchecked wire form; deserialization goes through [`LinearModel::new`].
#[derive(Deserialize)]
struct RawLinearModel {
    weights: Vec<f64>,
    intercept: f64,
    link: Link,
}

impl<'de> Deserialize<'de> for LinearModel {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let raw = RawLinearModel::deserialize(d)?;
        LinearModel::new(raw.weights, raw.intercept, raw.link).map_err(serde::de::Error::custom)
    }
}

impl LinearModel {
    /// A linear model; fails when there are no weights, a weight or the
    /// intercept is not finite, or the link is [`Link::Softmax`].
    pub fn new(weights: Vec<f64>, intercept: f64, link: Link) -> Result<Self> {
        let bad = |reason: String| Error::InvalidModel {
            model: "linear",
            reason,
        };
        if link == Link::Softmax {
            return Err(bad(
                "a softmax link needs k scores; use a SoftmaxModel for a multinomial model".into(),
            ));
        }
        if weights.is_empty() {
            return Err(bad("no weights".into()));
        }
        if let Some(i) = weights.iter().position(|w| !w.is_finite()) {
            return Err(bad(format!("weight {i} is {}", weights[i])));
        }
        if !intercept.is_finite() {
            return Err(bad(format!("intercept is {intercept}")));
        }
        Ok(LinearModel {
            weights,
            intercept,
            link,
        })
    }

    /// The weights, one per feature.
    pub fn weights(&self) -> &[f64] {
        &self.weights
    }

    /// The intercept.
    pub fn intercept(&self) -> f64 {
        self.intercept
    }

    /// The link function.
    pub fn link(&self) -> Link {
        self.link
    }

    /// Number of input features.
    pub fn n_features(&self) -> usize {
        self.weights.len()
    }

    /// The prediction for one row: the positive-class probability for
    /// [`Link::Logistic`], the value for [`Link::Identity`].
    pub fn predict_row(&self, row: &[f64]) -> Result<f64> {
        super::check_row(row, self.n_features(), 0)?;
        Ok(self.predict_checked(row))
    }

    /// Prediction for a row already checked for length and finiteness.
    pub(crate) fn predict_checked(&self, row: &[f64]) -> f64 {
        let z = self
            .weights
            .iter()
            .zip(row)
            .fold(self.intercept, |acc, (w, x)| acc + w * x);
        match self.link {
            Link::Identity => z,
            Link::Logistic => sigmoid(z),
            // `new` refuses a softmax link; NaN rather than a panic.
            Link::Softmax => f64::NAN,
        }
    }
}

/// The logistic function, written so neither tail overflows.
pub(crate) fn sigmoid(z: f64) -> f64 {
    if z >= 0.0 {
        1.0 / (1.0 + (-z).exp())
    } else {
        let e = z.exp();
        e / (1.0 + e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logistic_link() {
        let m = LinearModel::new(vec![1.0], 0.0, Link::Logistic).expect("valid");
        assert_eq!(m.predict_row(&[0.0]).expect("ok"), 0.5);
        assert!(m.predict_row(&[-800.0]).expect("ok") >= 0.0);
        assert_eq!(m.predict_row(&[800.0]).expect("ok"), 1.0);
    }

    #[test]
    fn rejects_bad_weights_and_rows() {
        assert!(LinearModel::new(vec![], 0.0, Link::Identity).is_err());
        assert!(LinearModel::new(vec![f64::NAN], 0.0, Link::Identity).is_err());
        assert!(LinearModel::new(vec![1.0], f64::INFINITY, Link::Identity).is_err());
        assert!(LinearModel::new(vec![1.0], 0.0, Link::Softmax).is_err());
        let m = LinearModel::new(vec![1.0, 2.0], 0.0, Link::Identity).expect("valid");
        assert!(matches!(
            m.predict_row(&[1.0]),
            Err(Error::FeatureCount {
                expected: 2,
                found: 1
            })
        ));
        assert!(matches!(
            m.predict_row(&[1.0, f64::NAN]),
            Err(Error::NonFiniteInput { feature: 1, .. })
        ));
    }

    #[test]
    fn deserialize_validates() {
        let bytes = rmp_serde::to_vec(&RawForTest {
            weights: vec![f64::NAN],
            intercept: 0.0,
            link: Link::Identity,
        })
        .expect("encode");
        assert!(rmp_serde::from_slice::<LinearModel>(&bytes).is_err());
        let good = LinearModel::new(vec![1.5, -2.0], 0.25, Link::Logistic).expect("valid");
        let bytes = rmp_serde::to_vec(&good).expect("encode");
        assert_eq!(
            rmp_serde::from_slice::<LinearModel>(&bytes).expect("decode"),
            good
        );
    }

    #[derive(Serialize)]
    struct RawForTest {
        weights: Vec<f64>,
        intercept: f64,
        link: Link,
    }
}
