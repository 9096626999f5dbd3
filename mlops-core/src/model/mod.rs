//! Models in the library's own inference form.
//!
//! Learners in `mlops-train` convert what linfa or smartcore fitted into one
//! of these forms, so serving links no learning library and a deserialized
//! model is plain validated data: decoding checks every index and weight, and
//! prediction never panics or loops on a model that decoded.
//!
//! - [`LinearModel`]: `link(w · x + b)` with an identity or logistic link.
//! - [`TreeEnsemble`]: decision trees flattened into one node vector, outputs
//!   averaged over trees (a random forest, or one tree).
//! - [`SoftmaxModel`]: `softmax(W x + b)` over `k` classes (multinomial
//!   logistic regression).
//! - [`ClassTreeEnsemble`]: trees whose leaves hold `k` class probabilities,
//!   averaged over trees (multiclass tree or forest).
//! - [`BoostedTrees`]: leaf values summed over the trees onto a base margin,
//!   through a logistic, identity or `k`-class softmax link (gradient
//!   boosting).
//! - [`DenseMlp`]: dense layers with ReLU between them and a logistic,
//!   identity or `k`-class softmax output; prediction allocates nothing.
//! - [`ModelPackage`]: the deployable artifact (features, model, profiles,
//!   metadata and lineage) in a checksummed, versioned container;
//!   [`load_registered`] reads one through the registry.

mod boosted;
mod class_trees;
mod linear;
mod mlp;
pub mod package;
mod softmax;
mod tree;

pub use boosted::BoostedTrees;
pub use class_trees::ClassTreeEnsemble;
pub use linear::{LinearModel, Link};
pub use mlp::{DenseLayer, DenseMlp, MAX_HIDDEN_WIDTH, MAX_LAYERS, MAX_PARAMETERS};
pub use package::{
    InputSignature, Lineage, ModelPackage, PACKAGE_ARTIFACT, PackageBuilder, PackageMeta, Task,
    load_registered,
};
pub use softmax::SoftmaxModel;
pub use tree::{LEAF, SplitRule, TreeEnsemble, TreeNode};

use ndarray::{Array1, Array2};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// A fitted model ready for prediction.
///
/// Single-output models ([`n_outputs`](Self::n_outputs) = 1) give the
/// positive-class probability for binary classifiers and the predicted value
/// for regressors ([`predict_proba_row`](Self::predict_proba_row),
/// [`predict`](Self::predict)). Multiclass models give `k` class
/// probabilities per row ([`predict_proba_into`](Self::predict_proba_into),
/// [`predict_proba_matrix`](Self::predict_proba_matrix)); the single-output
/// calls refuse them with [`Error::OutputCount`] rather than guess.
///
/// ```
/// use mlops_core::model::{InferenceModel, LinearModel, Link};
/// use ndarray::array;
///
/// let model = InferenceModel::Linear(LinearModel::new(vec![1.0, 1.0], 0.0, Link::Identity)?);
/// assert_eq!(model.predict_proba_row(&[1.0, 2.0])?, 3.0);
/// assert_eq!(model.predict(&array![[1.0, 2.0], [0.0, 0.5]])?, array![3.0, 0.5]);
/// # Ok::<(), mlops_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum InferenceModel {
    /// A linear or logistic model.
    Linear(LinearModel),
    /// One tree or an averaged forest.
    Trees(TreeEnsemble),
    /// A dense multi-layer perceptron.
    Mlp(DenseMlp),
    /// A multinomial (softmax) linear model: `k` class probabilities.
    Softmax(SoftmaxModel),
    /// Trees whose leaves hold `k` class probabilities.
    ClassTrees(ClassTreeEnsemble),
    /// Gradient-boosted trees: summed leaves, base margin, link (one output
    /// or `k` softmax class probabilities).
    Boosted(BoostedTrees),
}

impl InferenceModel {
    /// Number of input features.
    pub fn n_features(&self) -> usize {
        match self {
            InferenceModel::Linear(m) => m.n_features(),
            InferenceModel::Trees(m) => m.n_features(),
            InferenceModel::Mlp(m) => m.n_features(),
            InferenceModel::Softmax(m) => m.n_features(),
            InferenceModel::ClassTrees(m) => m.n_features(),
            InferenceModel::Boosted(m) => m.n_features(),
        }
    }

    /// Outputs per row: 1 (binary probability or regression value) or the
    /// number of classes `k` of a multiclass model.
    pub fn n_outputs(&self) -> usize {
        match self {
            InferenceModel::Linear(_) | InferenceModel::Trees(_) => 1,
            InferenceModel::Mlp(m) => m.n_outputs(),
            InferenceModel::Softmax(m) => m.n_classes(),
            InferenceModel::ClassTrees(m) => m.n_classes(),
            InferenceModel::Boosted(m) => m.n_outputs(),
        }
    }

    /// The prediction for one row (positive-class probability or value).
    /// The row must have [`n_features`](Self::n_features) finite values; a
    /// multiclass model is [`Error::OutputCount`].
    pub fn predict_proba_row(&self, row: &[f64]) -> Result<f64> {
        self.check_single()?;
        check_row(row, self.n_features(), 0)?;
        Ok(self.predict_checked(row))
    }

    /// Every output for one row into `out`, which must hold
    /// [`n_outputs`](Self::n_outputs) values: the `k` class probabilities
    /// of a multiclass model (summing to 1), or the one value of the
    /// single-output models (as [`predict_proba_row`](Self::predict_proba_row)).
    /// Allocates nothing.
    ///
    /// ```
    /// use mlops_core::model::{InferenceModel, SoftmaxModel};
    ///
    /// let m = InferenceModel::Softmax(SoftmaxModel::new(1, vec![1.0, 0.0, -1.0], vec![0.0; 3])?);
    /// let mut p = vec![0.0; m.n_outputs()];
    /// m.predict_proba_into(&[3.0], &mut p)?;
    /// assert_eq!(p.len(), 3);
    /// assert!(p[0] > p[1] && p[1] > p[2]);
    /// # Ok::<(), mlops_core::Error>(())
    /// ```
    pub fn predict_proba_into(&self, row: &[f64], out: &mut [f64]) -> Result<()> {
        check_row(row, self.n_features(), 0)?;
        check_out(out, self.n_outputs())?;
        self.predict_into_checked(row, out);
        Ok(())
    }

    /// Every output for every row of `x`: an `n x n_outputs` matrix (class
    /// probabilities in class order for a multiclass model).
    pub fn predict_proba_matrix(&self, x: &Array2<f64>) -> Result<Array2<f64>> {
        if x.ncols() != self.n_features() {
            return Err(Error::FeatureCount {
                expected: self.n_features(),
                found: x.ncols(),
            });
        }
        let mut out = Array2::zeros((x.nrows(), self.n_outputs()));
        let mut buf = vec![0.0; x.ncols()];
        for (i, (row, mut o)) in x.rows().into_iter().zip(out.rows_mut()).enumerate() {
            for (b, v) in buf.iter_mut().zip(row.iter()) {
                *b = *v;
            }
            check_row(&buf, self.n_features(), i)?;
            match o.as_slice_mut() {
                Some(o) => self.predict_into_checked(&buf, o),
                None => {
                    return Err(Error::InvalidModel {
                        model: "output matrix",
                        reason: "not contiguous".into(),
                    });
                }
            }
        }
        Ok(out)
    }

    /// Predictions for every row of `x` (single-output models; a multiclass
    /// model is [`Error::OutputCount`]). Tree ensembles score blocks of rows
    /// tree by tree on every core (same scores as row by row).
    pub fn predict(&self, x: &Array2<f64>) -> Result<Array1<f64>> {
        self.check_single()?;
        if x.ncols() != self.n_features() {
            return Err(Error::FeatureCount {
                expected: self.n_features(),
                found: x.ncols(),
            });
        }
        // Row-major and contiguous for the block scorer; a copy only for
        // other layouts (column-major, sliced views).
        let owned;
        let rows = match x.as_slice() {
            Some(s) => s,
            None => {
                owned = x.iter().copied().collect::<Vec<f64>>();
                &owned
            }
        };
        check_rows(rows, self.n_features(), x.nrows())?;
        let mut out = vec![0.0; x.nrows()];
        // Blocks of rows in parallel; each block is scored alone, so the
        // result does not depend on the thread count.
        let per_task = tree::BLOCK_ROWS * 4;
        out.par_chunks_mut(per_task)
            .zip(rows.par_chunks(per_task * self.n_features().max(1)))
            .for_each(|(out, rows)| self.predict_rows_checked(rows, out));
        Ok(Array1::from(out))
    }

    /// Predictions for the rows of `rows` (row-major,
    /// [`n_features`](Self::n_features) values per row) into `out`, on the
    /// calling thread; a batch scorer's inner loop.
    ///
    /// Errors: a multiclass model ([`Error::OutputCount`]), `rows.len() !=
    /// out.len() * n_features` ([`Error::Shape`]) or
    /// a non-finite value ([`Error::NonFiniteInput`] with the row's index in
    /// `out`).
    pub fn predict_rows(&self, rows: &[f64], out: &mut [f64]) -> Result<()> {
        self.check_single()?;
        check_rows(rows, self.n_features(), out.len())?;
        self.predict_rows_checked(rows, out);
        Ok(())
    }

    fn predict_rows_checked(&self, rows: &[f64], out: &mut [f64]) {
        match self {
            InferenceModel::Trees(m) => m.predict_rows_checked(rows, out),
            InferenceModel::Boosted(m) => m.predict_rows_checked(rows, out),
            _ => {
                let n = self.n_features().max(1);
                for (row, o) in rows.chunks_exact(n).zip(out.iter_mut()) {
                    *o = self.predict_checked(row);
                }
            }
        }
    }

    fn check_single(&self) -> Result<()> {
        match self.n_outputs() {
            1 => Ok(()),
            k => Err(Error::OutputCount {
                expected: k,
                found: 1,
            }),
        }
    }

    /// The single output; callers ran [`check_single`](Self::check_single).
    fn predict_checked(&self, row: &[f64]) -> f64 {
        match self {
            InferenceModel::Linear(m) => m.predict_checked(row),
            InferenceModel::Trees(m) => m.predict_checked(row),
            InferenceModel::Mlp(m) => m.predict_checked(row),
            InferenceModel::Boosted(m) => m.predict_checked(row),
            // Unreachable behind `check_single`; NaN rather than a panic.
            InferenceModel::Softmax(_) | InferenceModel::ClassTrees(_) => f64::NAN,
        }
    }

    /// Every output; `out` has `n_outputs()` values.
    fn predict_into_checked(&self, row: &[f64], out: &mut [f64]) {
        match self {
            InferenceModel::Softmax(m) => m.predict_checked(row, out),
            InferenceModel::ClassTrees(m) => m.predict_checked(row, out),
            InferenceModel::Mlp(m) => m.predict_into_checked(row, out),
            InferenceModel::Boosted(m) => m.predict_into_checked(row, out),
            _ => out[0] = self.predict_checked(row),
        }
    }
}

/// Output buffer length check shared by the multi-output models.
fn check_out(out: &[f64], expected: usize) -> Result<()> {
    if out.len() != expected {
        return Err(Error::OutputCount {
            expected,
            found: out.len(),
        });
    }
    Ok(())
}

/// Length and finiteness check shared by every model.
fn check_row(row: &[f64], expected: usize, row_index: usize) -> Result<()> {
    if row.len() != expected {
        return Err(Error::FeatureCount {
            expected,
            found: row.len(),
        });
    }
    if let Some(feature) = row.iter().position(|v| !v.is_finite()) {
        return Err(Error::NonFiniteInput {
            row: row_index,
            feature,
            value: row[feature],
        });
    }
    Ok(())
}

/// Shape and finiteness check of `n_rows` row-major rows; the first bad
/// value is reported with its row.
fn check_rows(rows: &[f64], n_features: usize, n_rows: usize) -> Result<()> {
    if n_rows.checked_mul(n_features) != Some(rows.len()) {
        return Err(Error::Shape(format!(
            "{} values are not {n_rows} rows of {n_features} features",
            rows.len()
        )));
    }
    if let Some(i) = rows.iter().position(|v| !v.is_finite()) {
        return Err(Error::NonFiniteInput {
            row: i / n_features,
            feature: i % n_features,
            value: rows[i],
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn batch_reports_bad_row() {
        let m = InferenceModel::Linear(
            LinearModel::new(vec![1.0], 0.0, Link::Identity).expect("valid"),
        );
        let err = m.predict(&array![[1.0], [f64::INFINITY]]).expect_err("bad");
        assert!(matches!(
            err,
            Error::NonFiniteInput {
                row: 1,
                feature: 0,
                ..
            }
        ));
        assert!(matches!(
            m.predict(&array![[1.0, 2.0]]),
            Err(Error::FeatureCount {
                expected: 1,
                found: 2
            })
        ));
    }

    #[test]
    fn softmax_mlp_has_k_outputs() {
        let l = DenseLayer::new(2, 3, vec![1.0, 0.0, 0.0, 1.0, -1.0, -1.0], vec![0.0; 3])
            .expect("layer");
        let m = InferenceModel::Mlp(DenseMlp::new(vec![l], Link::Softmax).expect("mlp"));
        assert_eq!(m.n_outputs(), 3);
        let x = array![[1.0, 2.0], [0.0, 0.0], [-5.0, 3.0]];
        let p = m.predict_proba_matrix(&x).expect("proba");
        assert_eq!(p.dim(), (3, 3));
        let mut row = [0.0; 3];
        for (i, r) in p.rows().into_iter().enumerate() {
            m.predict_proba_into(&[x[[i, 0]], x[[i, 1]]], &mut row)
                .expect("row");
            assert_eq!(r.to_vec(), row.to_vec());
            assert!((r.sum() - 1.0).abs() < 1e-12);
        }
        assert!(p[[0, 1]] > p[[0, 0]] && p[[0, 0]] > p[[0, 2]]);
        // The single-output calls refuse it.
        assert!(matches!(m.predict(&x), Err(Error::OutputCount { .. })));
        assert!(m.predict_proba_row(&[1.0, 2.0]).is_err());
    }

    #[test]
    fn round_trips_through_msgpack() {
        let nodes = vec![
            TreeNode::split(1, 0.5, 1, 2),
            TreeNode::leaf(0.1),
            TreeNode::leaf(0.7),
        ];
        let m = InferenceModel::Trees(
            TreeEnsemble::new(2, SplitRule::LessOrEqual, vec![0], nodes).expect("valid"),
        );
        let bytes = rmp_serde::to_vec(&m).expect("encode");
        let back: InferenceModel = rmp_serde::from_slice(&bytes).expect("decode");
        assert_eq!(back, m);
        // Truncated bytes are an error, not a panic.
        for cut in 0..bytes.len() {
            assert!(rmp_serde::from_slice::<InferenceModel>(&bytes[..cut]).is_err());
        }
    }
}
