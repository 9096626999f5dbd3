//! Decision tree classifier: linfa-trees for binary targets, smartcore for
//! multiclass.
//!
//! Binary: linfa-trees' [`DecisionTree`] is fitted, then put in the
//! canonical form of [`canonical`] (training rows re-routed, maximal merging
//! of sibling leaves whose top classes intersect), which makes the package
//! the same in every process whatever order linfa's `HashMap`s iterate in.
//! Leaves score the positive-class fraction of their training rows.
//!
//! Rows go left when `x <= threshold`, the rule linfa-trees *fits* with; its
//! own `predict` uses `x < threshold`, so a row exactly on a threshold can
//! land in a different leaf than linfa's `predict` would send it to.
//! Thresholds are midpoints between distinct training values, so such rows
//! are rare (none among the Telco rows, checked in the tests).
//!
//! Multiclass stays on smartcore: with three or more classes linfa-trees'
//! impurity sums have three or more terms in `HashMap` order, so their
//! rounding, and with it the choice between equally good splits, changes
//! from process to process; the canonical form cannot repair that.
//! smartcore's tree is deterministic. (The random forest grows its own
//! histogram trees, see `histogram_tree.rs`.)

mod canonical;
#[cfg(test)]
mod tests;

use linfa::Dataset;
use linfa::traits::Fit;
use linfa_trees::{DecisionTree, DecisionTreeParams, SplitQuality};
use mlops_core::model::{ClassTreeEnsemble, InferenceModel, SplitRule, TreeEnsemble};
use mlops_core::seed::Seed;
use ndarray::{Array1, Array2};
use serde::{Deserialize, Serialize};
use smartcore::tree::decision_tree_classifier::DecisionTreeClassifierParameters;

use super::multinomial::class_labels;
use super::smartcore_tree::{SmartTree, append_tree, dense, smart_criterion, tree_view};
use super::{
    FittedModel, Learner, MulticlassLearner, binary_labels, check_x, check_xy, no_single_output,
};
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
/// A binary fit maps them onto linfa-trees (`min_samples_split` and
/// `min_samples_leaf` as its `min_weight_split` / `min_weight_leaf`, every
/// row weighing 1; its `min_impurity_decrease` keeps its default 1e-5, as
/// linfa rejects 0); a multiclass fit onto smartcore's tree.
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

/// A binary decision tree fitted by linfa-trees, in canonical form. Leaves
/// score the positive-class fraction of their training rows.
///
/// ```
/// use mlops_core::seed::Seed;
/// use mlops_train::prelude::*;
/// use ndarray::array;
///
/// // One positive in three at x = 1, two in three at x = 2.
/// let x = array![[1.0], [1.0], [1.0], [2.0], [2.0], [2.0]];
/// let y = array![0.0, 0.0, 1.0, 1.0, 1.0, 0.0];
/// let tree = TreeParams::new().check()?.fit(&x, &y, Seed(0))?;
/// let p = tree.predict_native(&array![[0.0], [3.0]])?;
/// assert_eq!(p.to_vec(), [1.0 / 3.0, 2.0 / 3.0]);
/// # Ok::<(), mlops_train::Error>(())
/// ```
#[derive(Debug)]
pub struct FittedTree {
    model: InferenceModel,
}

impl ValidTreeParams {
    /// linfa-trees' parameters. linfa's `min_impurity_decrease` keeps its
    /// default (1e-5; linfa rejects 0).
    fn linfa_params(&self) -> DecisionTreeParams<f64, usize> {
        DecisionTree::params()
            .split_quality(match self.0.criterion {
                SplitCriterion::Gini => SplitQuality::Gini,
                SplitCriterion::Entropy => SplitQuality::Entropy,
            })
            .max_depth(self.0.max_depth.map(usize::from))
            // Sample counts as weights: every row weighs 1.
            .min_weight_split(self.0.min_samples_split as f32)
            .min_weight_leaf(self.0.min_samples_leaf as f32)
    }

    /// linfa-trees' tree on `x` and class indices `labels`, as linfa
    /// returns it (pruned in a tie-dependent way).
    fn fit_linfa(
        &self,
        x: &Array2<f64>,
        labels: &Array1<usize>,
    ) -> Result<DecisionTree<f64, usize>> {
        let dataset = Dataset::new(x.clone(), labels.clone());
        self.linfa_params()
            .fit(&dataset)
            .map_err(|source| Error::LinfaTree {
                learner: "tree",
                source,
            })
    }

    /// smartcore's parameters, for the multiclass tree. smartcore counts the
    /// root as level 1, so depth `d` (scikit-learn's and linfa's meaning:
    /// `d` levels of splits) is passed as `d + 1`, as the smartcore forest
    /// does (`u16::MAX` stays unlimited in practice).
    fn smartcore_params(&self, seed: Seed) -> DecisionTreeClassifierParameters {
        DecisionTreeClassifierParameters {
            criterion: smart_criterion(self.0.criterion),
            max_depth: self.0.max_depth.map(|d| d.saturating_add(1)),
            min_samples_leaf: self.0.min_samples_leaf,
            min_samples_split: self.0.min_samples_split,
            seed: Some(seed.derive("tree").value()),
        }
    }
}

/// linfa's tree in canonical form, as a one-tree ensemble.
fn canonical_model(
    tree: &DecisionTree<f64, usize>,
    x: &Array2<f64>,
    labels: &Array1<usize>,
) -> Result<InferenceModel> {
    let err = |reason: String| Error::Conversion {
        learner: "tree",
        reason,
    };
    let labels = labels.to_vec();
    let grown = canonical::with_counts(tree, x, &labels).map_err(err)?;
    let linfa_leaves = grown.n_leaves();
    let merged = canonical::merge(grown);
    tracing::debug!(
        linfa_leaves,
        canonical_leaves = merged.n_leaves(),
        "canonical tree"
    );
    let nodes = canonical::to_nodes(&merged).map_err(err)?;
    Ok(InferenceModel::Trees(TreeEnsemble::new(
        x.ncols(),
        SplitRule::LessOrEqual,
        vec![0],
        nodes,
    )?))
}

impl Learner for ValidTreeParams {
    type Fitted = FittedTree;

    fn name(&self) -> &'static str {
        "tree"
    }

    /// Deterministic: every feature is tried at every split, so the seed is
    /// not used.
    fn fit(&self, x: &Array2<f64>, y: &Array1<f64>, _seed: Seed) -> Result<FittedTree> {
        check_xy(x, y)?;
        let labels = binary_labels(y)?;
        let _span = tracing::debug_span!("fit", learner = "tree", rows = x.nrows()).entered();
        let tree = self.fit_linfa(x, &labels)?;
        Ok(FittedTree {
            model: canonical_model(&tree, x, &labels)?,
        })
    }
}

impl FittedModel for FittedTree {
    /// The canonical tree's scores (linfa's own `predict` gives only a
    /// class; the tests check that class against the canonical leaves).
    fn predict_native(&self, x: &Array2<f64>) -> Result<Array1<f64>> {
        check_x(x, self.model.n_features())?;
        Ok(self.model.predict(x)?)
    }

    fn to_inference(&self) -> Result<InferenceModel> {
        Ok(self.model.clone())
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

    /// Deterministic: smartcore tries every feature at every split, so the
    /// seed it is given never draws.
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
        let model = SmartTree::fit(&dense(x, "tree")?, &labels, self.smartcore_params(seed))
            .map_err(|source| Error::Smartcore {
                learner: "tree",
                stage: "fit",
                tree: 0,
                source,
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
        Err(no_single_output(self.n_classes))
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
