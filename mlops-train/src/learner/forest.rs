//! Random forest classifier (smartcore trees, grown in parallel).
//!
//! Each tree is its own one-tree smartcore forest seeded with
//! `seed.derive_index("tree", i)`: tree `i` depends only on the data and its
//! index, so the forest is the same whatever the thread count or scheduling,
//! and rayon can grow trees on every core.

use std::collections::VecDeque;

use mlops_core::model::{InferenceModel, SplitRule, TreeEnsemble, TreeNode};
use mlops_core::seed::Seed;
use ndarray::{Array1, Array2};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use smartcore::ensemble::random_forest_classifier::{
    RandomForestClassifier, RandomForestClassifierParameters,
};
use smartcore::linalg::basic::matrix::DenseMatrix;
use smartcore::tree::decision_tree_classifier::SplitCriterion as SmartCriterion;

use super::{FittedModel, Learner, SplitCriterion, TreeParams, binary_labels, check_x, check_xy};
use crate::error::invalid;
use crate::{Error, Result};

type SmartForest = RandomForestClassifier<f64, u32, DenseMatrix<f64>, Vec<u32>>;

/// Random forest hyper-parameters (unchecked builder).
///
/// ```
/// use mlops_train::prelude::*;
///
/// let params = ForestParams::new().n_trees(50).min_samples_leaf(2).check()?;
/// assert_eq!(params.n_trees(), 50);
/// assert!(ForestParams::new().n_trees(0).check().is_err());
/// # Ok::<(), mlops_train::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ForestParams {
    n_trees: u16,
    max_features: Option<usize>,
    /// How each tree grows; validated by [`TreeParams::check`].
    #[serde(flatten)]
    tree: TreeParams,
}

/// Checked random forest hyper-parameters; implements [`Learner`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ValidForestParams(ForestParams);

impl Default for ForestParams {
    fn default() -> Self {
        ForestParams {
            n_trees: 100,
            max_features: None,
            tree: TreeParams::default(),
        }
    }
}

impl ForestParams {
    /// Defaults as scikit-learn's classifier: 100 trees, unlimited depth,
    /// split at 2, leaves of 1, `floor(sqrt(features))` candidates per split,
    /// Gini.
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of trees.
    pub fn n_trees(mut self, n: u16) -> Self {
        self.n_trees = n;
        self
    }

    /// Maximum depth (`None` for unlimited).
    pub fn max_depth(mut self, depth: Option<u16>) -> Self {
        self.tree = self.tree.max_depth(depth);
        self
    }

    /// Minimum samples to split a node.
    pub fn min_samples_split(mut self, n: usize) -> Self {
        self.tree = self.tree.min_samples_split(n);
        self
    }

    /// Minimum samples in a leaf.
    pub fn min_samples_leaf(mut self, n: usize) -> Self {
        self.tree = self.tree.min_samples_leaf(n);
        self
    }

    /// Features tried per split (`None`: `floor(sqrt(features))`).
    pub fn max_features(mut self, n: Option<usize>) -> Self {
        self.max_features = n;
        self
    }

    /// Split criterion.
    pub fn criterion(mut self, c: SplitCriterion) -> Self {
        self.tree = self.tree.criterion(c);
        self
    }

    /// Validates every parameter; the error names the bad one.
    pub fn check(self) -> Result<ValidForestParams> {
        if self.n_trees == 0 {
            return Err(invalid("n_trees", "must be at least 1"));
        }
        self.tree.clone().check()?;
        if self.max_features == Some(0) {
            return Err(invalid("max_features", "must be at least 1 (or None)"));
        }
        Ok(ValidForestParams(self))
    }
}

impl ValidForestParams {
    /// Number of trees.
    pub fn n_trees(&self) -> u16 {
        self.0.n_trees
    }
}

/// A random forest fitted by smartcore. Trees vote; the probability is the
/// share of trees voting for class 1.
#[derive(Debug)]
pub struct FittedForest {
    trees: Vec<SmartForest>,
    n_features: usize,
}

/// Row-major copy of `x` as smartcore's own matrix (smartcore's ndarray
/// bindings use another ndarray major version).
pub(super) fn dense(x: &Array2<f64>) -> Result<DenseMatrix<f64>> {
    let values: Vec<f64> = x.iter().copied().collect();
    DenseMatrix::new(x.nrows(), x.ncols(), values, false).map_err(|source| Error::Smartcore {
        learner: "rf",
        stage: "input",
        tree: 0,
        source,
    })
}

impl Learner for ValidForestParams {
    type Fitted = FittedForest;

    fn name(&self) -> &'static str {
        "rf"
    }

    fn fit(&self, x: &Array2<f64>, y: &Array1<f64>, seed: Seed) -> Result<FittedForest> {
        check_xy(x, y)?;
        let labels: Vec<u32> = binary_labels(y)?.iter().map(|&c| c as u32).collect();
        if let Some(m) = self.0.max_features
            && m > x.ncols()
        {
            return Err(invalid(
                "max_features",
                format!("{m} exceeds the {} features", x.ncols()),
            ));
        }
        let _span = tracing::debug_span!(
            "fit",
            learner = "rf",
            rows = x.nrows(),
            trees = self.0.n_trees
        )
        .entered();
        let xm = dense(x)?;
        let p = &self.0;
        let base = RandomForestClassifierParameters::default()
            .with_n_trees(1)
            .with_criterion(match p.tree.criterion {
                SplitCriterion::Gini => SmartCriterion::Gini,
                SplitCriterion::Entropy => SmartCriterion::Entropy,
            })
            .with_min_samples_split(p.tree.min_samples_split)
            .with_min_samples_leaf(p.tree.min_samples_leaf);
        let base = match p.tree.max_depth {
            Some(d) => base.with_max_depth(d),
            None => base,
        };
        let base = match p.max_features {
            Some(m) => base.with_m(m),
            None => base,
        };
        let trees = (0..usize::from(p.n_trees))
            .into_par_iter()
            .map(|i| {
                let params = base
                    .clone()
                    .with_seed(seed.derive_index("tree", i as u64).value());
                SmartForest::fit(&xm, &labels, params).map_err(|source| Error::Smartcore {
                    learner: "rf",
                    stage: "fit",
                    tree: i,
                    source,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(FittedForest {
            trees,
            n_features: x.ncols(),
        })
    }
}

impl FittedModel for FittedForest {
    fn predict_native(&self, x: &Array2<f64>) -> Result<Array1<f64>> {
        check_x(x, self.n_features)?;
        let xm = dense(x)?;
        let mut votes = Array1::<f64>::zeros(x.nrows());
        for (i, tree) in self.trees.iter().enumerate() {
            let pred = tree.predict(&xm).map_err(|source| Error::Smartcore {
                learner: "rf",
                stage: "predict",
                tree: i,
                source,
            })?;
            for (v, c) in votes.iter_mut().zip(pred) {
                *v += f64::from(c);
            }
        }
        Ok(votes / self.trees.len() as f64)
    }

    fn to_inference(&self) -> Result<InferenceModel> {
        let mut nodes = Vec::new();
        let mut roots = Vec::with_capacity(self.trees.len());
        for (i, tree) in self.trees.iter().enumerate() {
            roots.push(index(nodes.len())?);
            let view = forest_view(tree).map_err(|reason| Error::Conversion {
                learner: "rf",
                reason: format!("tree {i}: {reason}"),
            })?;
            append_tree(&view, &mut nodes).map_err(|reason| Error::Conversion {
                learner: "rf",
                reason: format!("tree {i}: {reason}"),
            })?;
        }
        // smartcore goes left ("true child") when x <= threshold.
        Ok(InferenceModel::Trees(TreeEnsemble::new(
            self.n_features,
            SplitRule::LessOrEqual,
            roots,
            nodes,
        )?))
    }
}

fn index(i: usize) -> Result<u32> {
    u32::try_from(i).map_err(|_| Error::Conversion {
        learner: "rf",
        reason: "too many nodes".into(),
    })
}

/// smartcore keeps its tree nodes private; its serde form is the public view
/// of them. These mirror the fields we need (unknown fields are ignored).
#[derive(Deserialize)]
struct SmartForestView {
    trees: Option<Vec<SmartTreeView>>,
}

#[derive(Deserialize)]
pub(super) struct SmartTreeView {
    nodes: Vec<SmartNodeView>,
    classes: Vec<u32>,
}

#[derive(Deserialize)]
struct SmartNodeView {
    output: usize,
    split_feature: usize,
    split_value: Option<f64>,
    true_child: Option<usize>,
    false_child: Option<usize>,
}

/// The single tree of a one-tree smartcore forest.
fn forest_view(forest: &SmartForest) -> std::result::Result<SmartTreeView, String> {
    let value = serde_json::to_value(forest).map_err(|e| e.to_string())?;
    let view: SmartForestView = serde_json::from_value(value).map_err(|e| e.to_string())?;
    match view.trees {
        Some(mut trees) if trees.len() == 1 => trees.pop().ok_or_else(|| "no tree".into()),
        _ => Err("expected exactly one tree".into()),
    }
}

/// A smartcore decision tree's nodes, read from its serde form.
pub(super) fn tree_view<T: Serialize>(tree: &T) -> std::result::Result<SmartTreeView, String> {
    let value = serde_json::to_value(tree).map_err(|e| e.to_string())?;
    serde_json::from_value(value).map_err(|e| e.to_string())
}

/// Appends a smartcore tree to `nodes`, breadth-first, so every child lands
/// after its parent.
pub(super) fn append_tree(
    tree: &SmartTreeView,
    nodes: &mut Vec<TreeNode>,
) -> std::result::Result<(), String> {
    let root = tree.nodes.first().ok_or("empty tree")?;
    let u32_of = |i: usize| u32::try_from(i).map_err(|_| "index too large".to_string());
    let start = nodes.len();
    nodes.push(TreeNode::leaf(0.0));
    let mut queue = VecDeque::from([(root, start)]);
    while let Some((node, at)) = queue.pop_front() {
        match (node.true_child, node.false_child) {
            (None, _) => {
                let class = tree
                    .classes
                    .get(node.output)
                    .ok_or_else(|| format!("leaf output {} has no class", node.output))?;
                nodes[at] = TreeNode::leaf(f64::from(*class));
            }
            (Some(t), Some(f)) => {
                let (Some(tn), Some(fnode)) = (tree.nodes.get(t), tree.nodes.get(f)) else {
                    return Err(format!("child index out of range at node {at}"));
                };
                // smartcore compares against NaN (always false) when a split
                // has no value; -inf routes finite inputs the same way.
                let threshold = node.split_value.unwrap_or(f64::NEG_INFINITY);
                let (l, r) = (nodes.len(), nodes.len() + 1);
                nodes.push(TreeNode::leaf(0.0));
                nodes.push(TreeNode::leaf(0.0));
                nodes[at] = TreeNode::split(
                    u32_of(node.split_feature)?,
                    threshold,
                    u32_of(l)?,
                    u32_of(r)?,
                );
                queue.push_back((tn, l));
                queue.push_back((fnode, r));
            }
            (Some(_), None) => {
                return Err(format!("node {at} has a true child but no false child"));
            }
        }
        if nodes.len() - start > 2 * tree.nodes.len() + 2 {
            // A well-formed tree never grows past its own node count; stop
            // rather than loop on a malformed one.
            return Err("node graph is not a tree".into());
        }
    }
    Ok(())
}
