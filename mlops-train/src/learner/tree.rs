//! Binary decision tree classifier (smartcore).
//!
//! smartcore rather than linfa-trees: linfa-trees breaks a tie between class
//! counts at a leaf by `HashMap` iteration order, which is randomised per
//! process, so the same data and seed gave different trees (seen on a
//! synthetic set with duplicate rows). smartcore's tree is deterministic. (The random
//! forest grows its own histogram trees by default, see `histogram_tree.rs`;
//! its smartcore engine is `smartcore_forest.rs`.)

use mlops_core::model::{ClassTreeEnsemble, InferenceModel, SplitRule, TreeEnsemble};
use mlops_core::seed::Seed;
use ndarray::{Array1, Array2};
use serde::{Deserialize, Serialize};
use smartcore::tree::decision_tree_classifier::DecisionTreeClassifierParameters;

use super::multinomial::class_labels;
use super::smartcore_tree::{SmartTree, append_tree, dense, smart_criterion, tree_view};
use super::{FittedModel, Learner, MulticlassLearner, binary_labels, check_x, check_xy};
use crate::error::invalid;
use crate::{Error, Result};

/// Impurity measure for choosing splits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum SplitCriterion {
    /// Gini impurity.
    #[default]
    Gini,
    /// Entropy (information gain).
    Entropy,
}

/// Decision tree hyper-parameters (unchecked builder).
///
/// ```
/// use mlops_train::prelude::*;
///
/// let params = TreeParams::new().max_depth(Some(4)).check()?;
/// assert_eq!(params.max_depth(), Some(4));
/// assert!(TreeParams::new().min_samples_leaf(0).check().is_err());
/// # Ok::<(), mlops_train::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TreeParams {
    pub(super) max_depth: Option<u16>,
    pub(super) min_samples_split: usize,
    pub(super) min_samples_leaf: usize,
    pub(super) criterion: SplitCriterion,
}

/// Checked decision tree hyper-parameters; implements [`Learner`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ValidTreeParams(TreeParams);

impl Default for TreeParams {
    fn default() -> Self {
        TreeParams {
            max_depth: None,
            min_samples_split: 2,
            min_samples_leaf: 1,
            criterion: SplitCriterion::Gini,
        }
    }
}

impl TreeParams {
    /// Defaults: unlimited depth, split at 2 samples, leaves of 1, Gini.
    pub fn new() -> Self {
        Self::default()
    }

    /// Maximum depth (`None` for unlimited).
    pub fn max_depth(mut self, depth: Option<u16>) -> Self {
        self.max_depth = depth;
        self
    }

    /// Minimum samples to split a node.
    pub fn min_samples_split(mut self, n: usize) -> Self {
        self.min_samples_split = n;
        self
    }

    /// Minimum samples in a leaf.
    pub fn min_samples_leaf(mut self, n: usize) -> Self {
        self.min_samples_leaf = n;
        self
    }

    /// Split criterion.
    pub fn criterion(mut self, c: SplitCriterion) -> Self {
        self.criterion = c;
        self
    }

    /// Validates every parameter; the error names the bad one.
    pub fn check(self) -> Result<ValidTreeParams> {
        if self.max_depth == Some(0) {
            return Err(invalid("max_depth", "must be at least 1 (or None)"));
        }
        if self.min_samples_split < 2 {
            return Err(invalid(
                "min_samples_split",
                format!("must be at least 2, got {}", self.min_samples_split),
            ));
        }
        if self.min_samples_leaf < 1 {
            return Err(invalid("min_samples_leaf", "must be at least 1"));
        }
        Ok(ValidTreeParams(self))
    }
}

impl ValidTreeParams {
    /// The depth limit.
    pub fn max_depth(&self) -> Option<u16> {
        self.0.max_depth
    }
}

/// A decision tree fitted by smartcore. Leaves predict the majority class,
/// so probabilities are 0 or 1.
#[derive(Debug)]
pub struct FittedTree {
    model: SmartTree,
    n_features: usize,
}

impl Learner for ValidTreeParams {
    type Fitted = FittedTree;

    fn name(&self) -> &'static str {
        "tree"
    }

    /// Deterministic: every feature is tried at every split, so the seed
    /// (passed on to smartcore) never draws.
    fn fit(&self, x: &Array2<f64>, y: &Array1<f64>, seed: Seed) -> Result<FittedTree> {
        check_xy(x, y)?;
        let labels: Vec<u32> = binary_labels(y)?.iter().map(|&c| c as u32).collect();
        let _span = tracing::debug_span!("fit", learner = "tree", rows = x.nrows()).entered();
        let params = DecisionTreeClassifierParameters {
            criterion: smart_criterion(self.0.criterion),
            max_depth: self.0.max_depth,
            min_samples_leaf: self.0.min_samples_leaf,
            min_samples_split: self.0.min_samples_split,
            seed: Some(seed.derive("tree").value()),
        };
        let model = SmartTree::fit(&dense(x, "tree")?, &labels, params).map_err(|source| {
            Error::Smartcore {
                learner: "tree",
                stage: "fit",
                tree: 0,
                source,
            }
        })?;
        Ok(FittedTree {
            model,
            n_features: x.ncols(),
        })
    }
}

impl FittedModel for FittedTree {
    fn predict_native(&self, x: &Array2<f64>) -> Result<Array1<f64>> {
        check_x(x, self.n_features)?;
        let pred = self
            .model
            .predict(&dense(x, "tree")?)
            .map_err(|source| Error::Smartcore {
                learner: "tree",
                stage: "predict",
                tree: 0,
                source,
            })?;
        Ok(pred.into_iter().map(f64::from).collect())
    }

    fn to_inference(&self) -> Result<InferenceModel> {
        let err = |reason: String| Error::Conversion {
            learner: "tree",
            reason,
        };
        let view = tree_view(&self.model).map_err(err)?;
        let mut nodes = Vec::new();
        append_tree(&view, &mut nodes).map_err(err)?;
        // smartcore goes left when x <= threshold.
        Ok(InferenceModel::Trees(TreeEnsemble::new(
            self.n_features,
            SplitRule::LessOrEqual,
            vec![0],
            nodes,
        )?))
    }
}

/// A multiclass decision tree fitted by smartcore. Leaves predict the
/// majority class, so each row's probabilities are one-hot.
#[derive(Debug)]
pub struct FittedClassTree {
    model: SmartTree,
    n_features: usize,
    n_classes: usize,
}

impl MulticlassLearner for ValidTreeParams {
    type FittedMulti = FittedClassTree;

    /// Deterministic, as the binary fit.
    fn fit_multiclass(
        &self,
        x: &Array2<f64>,
        y: &Array1<f64>,
        n_classes: usize,
        seed: Seed,
    ) -> Result<FittedClassTree> {
        check_xy(x, y)?;
        let (labels, _) = class_labels(y, n_classes)?;
        let labels: Vec<u32> = labels
            .iter()
            .map(|&c| u32::try_from(c).unwrap_or(u32::MAX))
            .collect();
        let _span = tracing::debug_span!(
            "fit",
            learner = "tree",
            classes = n_classes,
            rows = x.nrows()
        )
        .entered();
        let params = DecisionTreeClassifierParameters {
            criterion: smart_criterion(self.0.criterion),
            max_depth: self.0.max_depth,
            min_samples_leaf: self.0.min_samples_leaf,
            min_samples_split: self.0.min_samples_split,
            seed: Some(seed.derive("tree").value()),
        };
        let model = SmartTree::fit(&dense(x, "tree")?, &labels, params).map_err(|source| {
            Error::Smartcore {
                learner: "tree",
                stage: "fit",
                tree: 0,
                source,
            }
        })?;
        Ok(FittedClassTree {
            model,
            n_features: x.ncols(),
            n_classes,
        })
    }
}

impl FittedModel for FittedClassTree {
    /// A multiclass model has no single output: [`mlops_core::Error::OutputCount`].
    fn predict_native(&self, _x: &Array2<f64>) -> Result<Array1<f64>> {
        Err(Error::Core(mlops_core::Error::OutputCount {
            expected: self.n_classes,
            found: 1,
        }))
    }

    /// smartcore's predicted class, one-hot.
    fn predict_proba_native(&self, x: &Array2<f64>) -> Result<Array2<f64>> {
        check_x(x, self.n_features)?;
        let pred = self
            .model
            .predict(&dense(x, "tree")?)
            .map_err(|source| Error::Smartcore {
                learner: "tree",
                stage: "predict",
                tree: 0,
                source,
            })?;
        let mut out = Array2::zeros((x.nrows(), self.n_classes));
        for (mut row, c) in out.rows_mut().into_iter().zip(pred) {
            if let Some(v) = row.get_mut(c as usize) {
                *v = 1.0;
            }
        }
        Ok(out)
    }

    /// The tree's leaves hold class indices; the distribution table is the
    /// `k x k` identity, so leaf `c` predicts class `c` with probability 1.
    fn to_inference(&self) -> Result<InferenceModel> {
        let err = |reason: String| Error::Conversion {
            learner: "tree",
            reason,
        };
        let view = tree_view(&self.model).map_err(err)?;
        let mut nodes = Vec::new();
        append_tree(&view, &mut nodes).map_err(err)?;
        let trees = TreeEnsemble::new(self.n_features, SplitRule::LessOrEqual, vec![0], nodes)?;
        let k = self.n_classes;
        let identity = (0..k * k)
            .map(|i| f64::from(u8::from(i / k == i % k)))
            .collect();
        Ok(InferenceModel::ClassTrees(ClassTreeEnsemble::new(
            trees, k, identity,
        )?))
    }
}
