//! Reading smartcore's decision trees into our inference form, shared by the
//! decision tree (`tree.rs`) and the smartcore forest engine
//! (`smartcore_forest.rs`).

use std::collections::VecDeque;

use mlops_core::model::TreeNode;
use ndarray::Array2;
use serde::{Deserialize, Serialize};
use smartcore::linalg::basic::matrix::DenseMatrix;
use smartcore::tree::decision_tree_classifier::{
    DecisionTreeClassifier, SplitCriterion as SmartCriterion,
};

use super::SplitCriterion;

use crate::{Error, Result};

/// smartcore's decision tree on its own dense matrix, class labels `u32`.
pub(super) type SmartTree = DecisionTreeClassifier<f64, u32, DenseMatrix<f64>, Vec<u32>>;

/// Our split criterion as smartcore's.
pub(super) fn smart_criterion(c: SplitCriterion) -> SmartCriterion {
    match c {
        SplitCriterion::Gini => SmartCriterion::Gini,
        SplitCriterion::Entropy => SmartCriterion::Entropy,
    }
}

/// Row-major copy of `x` as smartcore's own matrix (smartcore's ndarray
/// bindings use another ndarray major version).
pub(super) fn dense(x: &Array2<f64>, learner: &'static str) -> Result<DenseMatrix<f64>> {
    let values: Vec<f64> = x.iter().copied().collect();
    DenseMatrix::new(x.nrows(), x.ncols(), values, false).map_err(|source| Error::Smartcore {
        learner,
        stage: "input",
        tree: 0,
        source,
    })
}

/// smartcore keeps its tree nodes private; its serde form is the public view
/// of them. These mirror the fields we need (unknown fields are ignored).
#[derive(Deserialize)]
pub(super) struct SmartTreeView {
    nodes: Vec<SmartNodeView>,
    classes: Vec<u32>,
}

impl SmartTreeView {
    /// Number of nodes.
    #[cfg(test)]
    pub(super) fn n_nodes(&self) -> usize {
        self.nodes.len()
    }
}

#[derive(Deserialize)]
struct SmartNodeView {
    output: usize,
    split_feature: usize,
    split_value: Option<f64>,
    true_child: Option<usize>,
    false_child: Option<usize>,
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
