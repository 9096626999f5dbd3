//! A linfa-trees tree in canonical form, so that the same data gives the
//! same tree in every process.
//!
//! linfa-trees 0.8.1 counts classes in `HashMap`s whose iteration order is
//! randomised per map and per process. For two classes its split search is
//! still deterministic (every float sum it takes has at most two terms, and
//! `0 + a + b == 0 + b + a` in IEEE arithmetic), but two things are not:
//! a node's predicted class breaks a tie between equal class counts by map
//! order, and the `prune` pass that ends every fit merges two sibling leaves
//! exactly when their predictions are equal. So the pruned structure of a
//! tree grown on tied counts changes from run to run.
//!
//! The canonical form removes that choice. The training rows are routed
//! through linfa's tree with its fit rule (`x <= threshold` goes left), which
//! gives each node the class counts of the rows that reached it, and then
//! every node whose two children are leaves with intersecting *top sets*
//! (the classes with the largest count) becomes a leaf, bottom-up, until no
//! such node is left. Why this is canonical: linfa only merges siblings
//! whose predictions are equal, and a prediction is one of the node's top
//! classes, so each of linfa's merges is one of ours; the top set of a
//! merged node (the sum of two count vectors) is the intersection of the
//! two top sets, so whether a node merges depends only on the counts of the
//! rows below it, never on the order merges happened in. Maximal merging
//! from linfa's partly pruned tree therefore reaches the same tree as
//! maximal merging from the unpruned tree, whatever tie order linfa saw.
//!
//! A leaf then scores the positive-class fraction of its training rows (a
//! probability, as scikit-learn's tree gives) rather than linfa's 0/1 class.

use std::collections::VecDeque;

use linfa_trees::{DecisionTree, TreeNode as LinfaNode};
use mlops_core::model::TreeNode;
use ndarray::Array2;

/// Class counts of the training rows that reached a node: `[negative,
/// positive]`.
pub(super) type Counts = [u64; 2];

/// A binary tree with the training class counts at every node.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Node {
    /// A leaf.
    Leaf {
        /// Rows that reached it, by class.
        counts: Counts,
    },
    /// `x[feature] <= threshold` goes left.
    Split {
        feature: usize,
        threshold: f64,
        /// Rows that reached it, by class.
        counts: Counts,
        left: Box<Node>,
        right: Box<Node>,
    },
}

impl Node {
    /// Rows that reached this node, by class.
    #[cfg(test)]
    pub(super) fn counts(&self) -> Counts {
        match self {
            Node::Leaf { counts } | Node::Split { counts, .. } => *counts,
        }
    }

    /// Number of leaves.
    pub(super) fn n_leaves(&self) -> usize {
        match self {
            Node::Leaf { .. } => 1,
            Node::Split { left, right, .. } => left.n_leaves() + right.n_leaves(),
        }
    }
}

/// The classes reaching the largest count, as a bit set.
pub(super) fn top_classes(counts: &[u64]) -> u64 {
    let max = counts.iter().copied().max().unwrap_or(0);
    counts
        .iter()
        .enumerate()
        .filter(|&(_, &c)| c == max)
        .fold(0, |set, (class, _)| set | (1 << class))
}

/// linfa's fitted tree with the class counts of the training rows `x`,
/// `labels` (the rows it was fitted on) at every node, unmerged.
pub(super) fn with_counts(
    tree: &DecisionTree<f64, usize>,
    x: &Array2<f64>,
    labels: &[usize],
) -> Result<Node, String> {
    if labels.len() != x.nrows() {
        return Err(format!("{} labels for {} rows", labels.len(), x.nrows()));
    }
    grow(tree.root_node(), x, labels, (0..x.nrows()).collect())
}

fn grow(
    node: &LinfaNode<f64, usize>,
    x: &Array2<f64>,
    labels: &[usize],
    rows: Vec<usize>,
) -> Result<Node, String> {
    let mut counts = [0u64; 2];
    for &r in &rows {
        let slot = labels
            .get(r)
            .and_then(|&c| counts.get_mut(c))
            .ok_or_else(|| format!("row {r} has no binary label"))?;
        *slot += 1;
    }
    if rows.is_empty() {
        // linfa only creates a child for a non-empty side, so an empty node
        // means our routing differs from its fit.
        return Err("a node is reached by no training row".into());
    }
    if node.is_leaf() {
        return Ok(Node::Leaf { counts });
    }
    let (feature, threshold, _) = node.split();
    let children = node.children();
    let (Some(Some(l)), Some(Some(r))) = (children.first(), children.get(1)) else {
        return Err("a split node lacks a child".into());
    };
    let mut left_rows = Vec::new();
    let mut right_rows = Vec::new();
    for r in rows {
        let v = x
            .get((r, feature))
            .ok_or_else(|| format!("split feature {feature} out of range"))?;
        // linfa's fit rule (its `predict` uses `<`, see the module docs of
        // `tree`).
        if *v <= threshold {
            left_rows.push(r);
        } else {
            right_rows.push(r);
        }
    }
    Ok(Node::Split {
        feature,
        threshold,
        counts,
        left: Box::new(grow(l, x, labels, left_rows)?),
        right: Box::new(grow(r, x, labels, right_rows)?),
    })
}

/// Maximal bottom-up merging: every node whose children are (or become)
/// leaves with intersecting top sets becomes a leaf.
pub(super) fn merge(node: Node) -> Node {
    merge_where(node, &mut || true)
}

/// Bottom-up merging of the nodes that may merge, each only if `allow()`
/// says so (always, for [`merge`]; a random subset in tests, to mimic the
/// merges linfa's tie order happened to allow).
pub(super) fn merge_where(node: Node, allow: &mut impl FnMut() -> bool) -> Node {
    match node {
        Node::Leaf { .. } => node,
        Node::Split {
            feature,
            threshold,
            counts,
            left,
            right,
        } => {
            let left = merge_where(*left, allow);
            let right = merge_where(*right, allow);
            if let (Node::Leaf { counts: a }, Node::Leaf { counts: b }) = (&left, &right)
                && top_classes(a) & top_classes(b) != 0
                && allow()
            {
                return Node::Leaf { counts };
            }
            Node::Split {
                feature,
                threshold,
                counts,
                left: Box::new(left),
                right: Box::new(right),
            }
        }
    }
}

/// The tree as inference nodes, breadth-first (children after their
/// parent); a leaf holds its positive-class fraction.
pub(super) fn to_nodes(root: &Node) -> Result<Vec<TreeNode>, String> {
    let index = |i: usize| u32::try_from(i).map_err(|_| "too many nodes".to_string());
    let feature = |f: usize| u32::try_from(f).map_err(|_| "feature index too large".to_string());
    let mut nodes = vec![TreeNode::leaf(0.0)];
    let mut queue = VecDeque::from([(root, 0usize)]);
    while let Some((node, at)) = queue.pop_front() {
        let slot = match node {
            Node::Leaf { counts } => {
                let total = counts[0] + counts[1];
                if total == 0 {
                    return Err("a leaf has no training rows".into());
                }
                TreeNode::leaf(counts[1] as f64 / total as f64)
            }
            Node::Split {
                feature: f,
                threshold,
                left,
                right,
                ..
            } => {
                let (l, r) = (nodes.len(), nodes.len() + 1);
                nodes.push(TreeNode::leaf(0.0));
                nodes.push(TreeNode::leaf(0.0));
                queue.push_back((left, l));
                queue.push_back((right, r));
                TreeNode::split(feature(*f)?, *threshold, index(l)?, index(r)?)
            }
        };
        if let Some(n) = nodes.get_mut(at) {
            *n = slot;
        }
    }
    Ok(nodes)
}
