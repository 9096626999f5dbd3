//! Binary decision tree classifier (linfa-trees).

use std::collections::VecDeque;

use linfa::prelude::*;
use linfa_trees::{DecisionTree, SplitQuality};
use mlops_core::model::{InferenceModel, SplitRule, TreeEnsemble, TreeNode};
use mlops_core::seed::Seed;
use ndarray::{Array1, Array2};
use serde::{Deserialize, Serialize};

use super::{FittedModel, Learner, binary_labels, check_x, check_xy};
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
    max_depth: Option<usize>,
    min_samples_split: usize,
    min_samples_leaf: usize,
    criterion: SplitCriterion,
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
    pub fn max_depth(mut self, depth: Option<usize>) -> Self {
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
    pub fn max_depth(&self) -> Option<usize> {
        self.0.max_depth
    }
}

/// A decision tree fitted by linfa-trees.
///
/// Leaves predict the majority class, so probabilities are 0 or 1. linfa
/// breaks an exact tie between class counts at a leaf by hash-map order; a
/// leaf with tied counts can differ between processes.
#[derive(Debug, Clone)]
pub struct FittedTree {
    model: DecisionTree<f64, usize>,
    n_features: usize,
}

impl Learner for ValidTreeParams {
    type Fitted = FittedTree;

    fn name(&self) -> &'static str {
        "tree"
    }

    /// Deterministic: the seed is unused (linfa-trees tries every feature).
    fn fit(&self, x: &Array2<f64>, y: &Array1<f64>, _seed: Seed) -> Result<FittedTree> {
        check_xy(x, y)?;
        let labels = binary_labels(y)?;
        let _span = tracing::debug_span!("fit", learner = "tree", rows = x.nrows()).entered();
        let quality = match self.0.criterion {
            SplitCriterion::Gini => SplitQuality::Gini,
            SplitCriterion::Entropy => SplitQuality::Entropy,
        };
        let dataset = Dataset::new(x.clone(), labels);
        let model = DecisionTree::params()
            .split_quality(quality)
            .max_depth(self.0.max_depth)
            .min_weight_split(self.0.min_samples_split as f32)
            .min_weight_leaf(self.0.min_samples_leaf as f32)
            .fit(&dataset)?;
        Ok(FittedTree {
            model,
            n_features: x.ncols(),
        })
    }
}

impl FittedModel for FittedTree {
    fn predict_native(&self, x: &Array2<f64>) -> Result<Array1<f64>> {
        check_x(x, self.n_features)?;
        let classes: Array1<usize> = self.model.predict(x);
        Ok(classes.mapv(|c| c as f64))
    }

    fn to_inference(&self) -> Result<InferenceModel> {
        let err = |reason: String| Error::Conversion {
            learner: "tree",
            reason,
        };
        // Breadth-first: a child's index is assigned after its parent's.
        let mut nodes = vec![TreeNode::leaf(0.0)];
        let mut queue = VecDeque::from([(self.model.root_node(), 0usize)]);
        while let Some((node, at)) = queue.pop_front() {
            if let Some(class) = node.prediction() {
                nodes[at] = TreeNode::leaf(class as f64);
                continue;
            }
            let (feature, threshold, _) = node.split();
            let children = node.children();
            let (Some(Some(left)), Some(Some(right))) = (children.first(), children.get(1)) else {
                return Err(err(format!("split node at {at} lacks a child")));
            };
            let (l, r) = (nodes.len(), nodes.len() + 1);
            nodes.push(TreeNode::leaf(0.0));
            nodes.push(TreeNode::leaf(0.0));
            let idx = |i: usize| u32::try_from(i).map_err(|_| err("too many nodes".into()));
            let feature =
                u32::try_from(feature).map_err(|_| err("feature index too large".into()))?;
            nodes[at] = TreeNode::split(feature, threshold, idx(l)?, idx(r)?);
            queue.push_back((left.as_ref(), l));
            queue.push_back((right.as_ref(), r));
        }
        // linfa-trees goes left when x < threshold.
        Ok(InferenceModel::Trees(TreeEnsemble::new(
            self.n_features,
            SplitRule::LessThan,
            vec![0],
            nodes,
        )?))
    }
}
