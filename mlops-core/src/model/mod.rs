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
//! - [`DenseMlp`]: dense layers with ReLU between them and a logistic or
//!   identity output; prediction allocates nothing.
//! - [`ModelPackage`]: the deployable artifact (features, model, profiles,
//!   metadata and lineage) in a checksummed, versioned container;
//!   [`load_registered`] reads one through the registry.

mod linear;
mod mlp;
pub mod package;
mod tree;

pub use linear::{LinearModel, Link};
pub use mlp::{DenseLayer, DenseMlp, MAX_HIDDEN_WIDTH, MAX_LAYERS, MAX_PARAMETERS};
pub use package::{
    InputSignature, Lineage, ModelPackage, PackageBuilder, PackageMeta, Task, load_registered,
};
pub use tree::{LEAF, SplitRule, TreeEnsemble, TreeNode};

use ndarray::{Array1, Array2};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// A fitted model ready for prediction.
///
/// The output is the positive-class probability for binary classifiers and
/// the predicted value for regressors.
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
}

impl InferenceModel {
    /// Number of input features.
    pub fn n_features(&self) -> usize {
        match self {
            InferenceModel::Linear(m) => m.n_features(),
            InferenceModel::Trees(m) => m.n_features(),
            InferenceModel::Mlp(m) => m.n_features(),
        }
    }

    /// The prediction for one row (positive-class probability or value).
    /// The row must have [`n_features`](Self::n_features) finite values.
    pub fn predict_proba_row(&self, row: &[f64]) -> Result<f64> {
        check_row(row, self.n_features(), 0)?;
        Ok(self.predict_checked(row))
    }

    /// Predictions for every row of `x`. Tree ensembles score blocks of
    /// rows tree by tree on every core (same scores as row by row).
    pub fn predict(&self, x: &Array2<f64>) -> Result<Array1<f64>> {
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
    /// Errors: `rows.len() != out.len() * n_features` ([`Error::Shape`]) or
    /// a non-finite value ([`Error::NonFiniteInput`] with the row's index in
    /// `out`).
    pub fn predict_rows(&self, rows: &[f64], out: &mut [f64]) -> Result<()> {
        check_rows(rows, self.n_features(), out.len())?;
        self.predict_rows_checked(rows, out);
        Ok(())
    }

    fn predict_rows_checked(&self, rows: &[f64], out: &mut [f64]) {
        match self {
            InferenceModel::Trees(m) => m.predict_rows_checked(rows, out),
            _ => {
                let n = self.n_features().max(1);
                for (row, o) in rows.chunks_exact(n).zip(out.iter_mut()) {
                    *o = self.predict_checked(row);
                }
            }
        }
    }

    fn predict_checked(&self, row: &[f64]) -> f64 {
        match self {
            InferenceModel::Linear(m) => m.predict_checked(row),
            InferenceModel::Trees(m) => m.predict_checked(row),
            InferenceModel::Mlp(m) => m.predict_checked(row),
        }
    }
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
