//! Tree ensembles flattened into one node vector.
//!
//! Every tree of a forest (or the single tree of a decision tree) lives in one
//! `Vec<TreeNode>`; `roots` gives the index of each tree's root. Children
//! always sit at a larger index than their parent, which [`TreeEnsemble::new`]
//! checks: traversal only moves forward, so it ends in at most
//! `nodes.len()` steps whatever bytes the model was decoded from.

mod block;

use serde::{Deserialize, Serialize};

use crate::{Error, Result};

pub(crate) use block::BLOCK_ROWS;

/// Child index marking a leaf.
pub const LEAF: u32 = u32::MAX;

/// Which way a split sends a value equal to its threshold. Libraries differ
/// (linfa-trees goes left when `x < t`, smartcore when `x <= t`), and the
/// converted model must route every row exactly as the library did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SplitRule {
    /// Left when `x < threshold`.
    LessThan,
    /// Left when `x <= threshold`.
    LessOrEqual,
}

/// One node: an internal split or a leaf.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TreeNode {
    /// Feature tested by a split (ignored for a leaf).
    pub feature: u32,
    /// Split threshold (ignored for a leaf).
    pub threshold: f64,
    /// Index of the left child, or [`LEAF`].
    pub left: u32,
    /// Index of the right child, or [`LEAF`].
    pub right: u32,
    /// Leaf output: positive-class probability or regression value
    /// (ignored for a split).
    pub value: f64,
}

impl TreeNode {
    /// A leaf with the given output.
    pub fn leaf(value: f64) -> Self {
        TreeNode {
            feature: 0,
            threshold: 0.0,
            left: LEAF,
            right: LEAF,
            value,
        }
    }

    /// A split on `feature` at `threshold`.
    pub fn split(feature: u32, threshold: f64, left: u32, right: u32) -> Self {
        TreeNode {
            feature,
            threshold,
            left,
            right,
            value: 0.0,
        }
    }

    /// Whether this node is a leaf.
    pub fn is_leaf(&self) -> bool {
        self.left == LEAF && self.right == LEAF
    }
}

/// One tree or a forest of trees whose outputs are averaged.
///
/// ```
/// use mlops_core::model::{SplitRule, TreeEnsemble, TreeNode};
///
/// // x0 < 1.0 ? 0.2 : 0.9
/// let nodes = vec![TreeNode::split(0, 1.0, 1, 2), TreeNode::leaf(0.2), TreeNode::leaf(0.9)];
/// let tree = TreeEnsemble::new(1, SplitRule::LessThan, vec![0], nodes)?;
/// assert_eq!(tree.predict_row(&[0.5])?, 0.2);
/// assert_eq!(tree.predict_row(&[1.0])?, 0.9);
/// # Ok::<(), mlops_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TreeEnsemble {
    n_features: usize,
    split_rule: SplitRule,
    roots: Vec<u32>,
    nodes: Vec<TreeNode>,
    /// Derived from `nodes`, not part of the serialized form.
    #[serde(skip)]
    layout: block::BlockLayout,
}

/// The unchecked wire form; deserialization goes through [`TreeEnsemble::new`].
#[derive(Deserialize)]
struct RawTreeEnsemble {
    n_features: usize,
    split_rule: SplitRule,
    roots: Vec<u32>,
    nodes: Vec<TreeNode>,
}

impl<'de> Deserialize<'de> for TreeEnsemble {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let raw = RawTreeEnsemble::deserialize(d)?;
        TreeEnsemble::new(raw.n_features, raw.split_rule, raw.roots, raw.nodes)
            .map_err(serde::de::Error::custom)
    }
}

impl TreeEnsemble {
    /// A validated ensemble: at least one tree, every root and child index in
    /// range, children after their parent (so no cycle), split features below
    /// `n_features`, no NaN threshold, finite leaf values.
    pub fn new(
        n_features: usize,
        split_rule: SplitRule,
        roots: Vec<u32>,
        nodes: Vec<TreeNode>,
    ) -> Result<Self> {
        let bad = |reason: String| Error::InvalidModel {
            model: "tree ensemble",
            reason,
        };
        if n_features == 0 {
            return Err(bad("zero features".into()));
        }
        if roots.is_empty() {
            return Err(bad("no trees".into()));
        }
        // LEAF is u32::MAX, so every real index must stay below it.
        if nodes.len() >= LEAF as usize {
            return Err(bad(format!("{} nodes is too many", nodes.len())));
        }
        let len = nodes.len();
        for (t, &r) in roots.iter().enumerate() {
            if r as usize >= len {
                return Err(bad(format!(
                    "tree {t}: root {r} is out of range ({len} nodes)"
                )));
            }
        }
        for (i, n) in nodes.iter().enumerate() {
            if n.is_leaf() {
                if !n.value.is_finite() {
                    return Err(bad(format!("leaf {i} has value {}", n.value)));
                }
                continue;
            }
            for (side, child) in [("left", n.left), ("right", n.right)] {
                if child == LEAF || child as usize >= len {
                    return Err(bad(format!(
                        "node {i}: {side} child {child} is out of range"
                    )));
                }
                if child as usize <= i {
                    return Err(bad(format!(
                        "node {i}: {side} child {child} does not come after its parent (cycle)"
                    )));
                }
            }
            if n.feature as usize >= n_features {
                return Err(bad(format!(
                    "node {i}: feature {} is out of range ({n_features} features)",
                    n.feature
                )));
            }
            if n.threshold.is_nan() {
                return Err(bad(format!("node {i}: threshold is NaN")));
            }
        }
        let layout = block::BlockLayout::new(&nodes);
        Ok(TreeEnsemble {
            n_features,
            split_rule,
            roots,
            nodes,
            layout,
        })
    }

    /// Number of input features.
    pub fn n_features(&self) -> usize {
        self.n_features
    }

    /// Number of trees.
    pub fn n_trees(&self) -> usize {
        self.roots.len()
    }

    /// The split rule.
    pub fn split_rule(&self) -> SplitRule {
        self.split_rule
    }

    /// Index of each tree's root in [`nodes`](Self::nodes).
    pub fn roots(&self) -> &[u32] {
        &self.roots
    }

    /// All nodes of all trees.
    pub fn nodes(&self) -> &[TreeNode] {
        &self.nodes
    }

    /// The mean leaf output over the trees for one row.
    pub fn predict_row(&self, row: &[f64]) -> Result<f64> {
        super::check_row(row, self.n_features, 0)?;
        Ok(self.predict_checked(row))
    }

    /// The mean leaf output over the trees for each row of `rows` (row-major,
    /// [`n_features`](Self::n_features) values per row), written to `out`.
    /// Bit-identical to [`predict_row`](Self::predict_row) on each row, and
    /// several times faster on many rows: rows walk the forest tree by tree
    /// in blocks (see the `block` module).
    ///
    /// Errors: `rows.len() != out.len() * n_features`
    /// ([`Error::FeatureCount`]) or a non-finite value
    /// ([`Error::NonFiniteInput`] with the row's index in `out`).
    ///
    /// ```
    /// use mlops_core::model::{SplitRule, TreeEnsemble, TreeNode};
    ///
    /// let nodes = vec![TreeNode::split(0, 1.0, 1, 2), TreeNode::leaf(0.2), TreeNode::leaf(0.9)];
    /// let tree = TreeEnsemble::new(1, SplitRule::LessThan, vec![0], nodes)?;
    /// let mut out = [0.0; 3];
    /// tree.predict_rows(&[0.5, 1.0, 3.0], &mut out)?;
    /// assert_eq!(out, [0.2, 0.9, 0.9]);
    /// # Ok::<(), mlops_core::Error>(())
    /// ```
    pub fn predict_rows(&self, rows: &[f64], out: &mut [f64]) -> Result<()> {
        super::check_rows(rows, self.n_features, out.len())?;
        self.predict_rows_checked(rows, out);
        Ok(())
    }

    /// [`predict_rows`](Self::predict_rows) on rows already checked.
    pub(crate) fn predict_rows_checked(&self, rows: &[f64], out: &mut [f64]) {
        self.layout
            .score(self.split_rule, &self.roots, self.n_features, rows, out);
    }

    /// Prediction for a row already checked for length and finiteness.
    pub(crate) fn predict_checked(&self, row: &[f64]) -> f64 {
        self.sum_checked(row) / self.roots.len() as f64
    }

    /// Sum of the leaf outputs over the trees, in tree order, for a row
    /// already checked (the block scorer's sums equal it bit for bit).
    pub(crate) fn sum_checked(&self, row: &[f64]) -> f64 {
        self.roots.iter().map(|&r| self.leaf_value(r, row)).sum()
    }

    /// [`sum_checked`](Self::sum_checked) for many checked rows (row-major)
    /// through the block scorer, `finish` applied to each sum.
    pub(crate) fn sum_rows_checked(
        &self,
        rows: &[f64],
        out: &mut [f64],
        finish: impl Fn(&mut f64),
    ) {
        self.layout.score_sums(
            self.split_rule,
            &self.roots,
            self.n_features,
            rows,
            out,
            finish,
        );
    }

    /// Leaf output of tree `tree` (an index into [`roots`](Self::roots))
    /// for a checked row.
    pub(crate) fn tree_value(&self, tree: usize, row: &[f64]) -> f64 {
        self.leaf_value(self.roots[tree], row)
    }

    /// Iterative descent from `root`; indices were validated in `new`, and
    /// each step moves to a larger index.
    fn leaf_value(&self, root: u32, row: &[f64]) -> f64 {
        let mut node = &self.nodes[root as usize];
        while !node.is_leaf() {
            let x = row[node.feature as usize];
            let go_left = match self.split_rule {
                SplitRule::LessThan => x < node.threshold,
                SplitRule::LessOrEqual => x <= node.threshold,
            };
            node = &self.nodes[if go_left { node.left } else { node.right } as usize];
        }
        node.value
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stump(rule: SplitRule) -> TreeEnsemble {
        let nodes = vec![
            TreeNode::split(0, 1.0, 1, 2),
            TreeNode::leaf(0.0),
            TreeNode::leaf(1.0),
            // A second tree: always 0.5.
            TreeNode::leaf(0.5),
        ];
        TreeEnsemble::new(2, rule, vec![0, 3], nodes).expect("valid")
    }

    #[test]
    fn averages_trees_and_honours_split_rule() {
        let lt = stump(SplitRule::LessThan);
        let le = stump(SplitRule::LessOrEqual);
        assert_eq!(lt.predict_row(&[1.0, 0.0]).expect("ok"), 0.75);
        assert_eq!(le.predict_row(&[1.0, 0.0]).expect("ok"), 0.25);
        assert_eq!(lt.predict_row(&[0.0, 0.0]).expect("ok"), 0.25);
        assert!(lt.predict_row(&[0.0]).is_err());
    }

    #[test]
    fn rejects_hostile_graphs() {
        let cycle = vec![
            TreeNode::split(0, 1.0, 1, 2),
            TreeNode::split(0, 1.0, 0, 2),
            TreeNode::leaf(1.0),
        ];
        assert!(TreeEnsemble::new(1, SplitRule::LessThan, vec![0], cycle).is_err());
        let self_loop = vec![TreeNode::split(0, 1.0, 0, 0)];
        assert!(TreeEnsemble::new(1, SplitRule::LessThan, vec![0], self_loop).is_err());
        let out = vec![TreeNode::split(0, 1.0, 1, 7), TreeNode::leaf(1.0)];
        assert!(TreeEnsemble::new(1, SplitRule::LessThan, vec![0], out).is_err());
        let half_leaf = vec![TreeNode::split(0, 1.0, 1, LEAF), TreeNode::leaf(1.0)];
        assert!(TreeEnsemble::new(1, SplitRule::LessThan, vec![0], half_leaf).is_err());
        let bad_feature = vec![
            TreeNode::split(3, 1.0, 1, 2),
            TreeNode::leaf(0.0),
            TreeNode::leaf(1.0),
        ];
        assert!(TreeEnsemble::new(1, SplitRule::LessThan, vec![0], bad_feature).is_err());
        let nan = vec![
            TreeNode::split(0, f64::NAN, 1, 2),
            TreeNode::leaf(0.0),
            TreeNode::leaf(1.0),
        ];
        assert!(TreeEnsemble::new(1, SplitRule::LessThan, vec![0], nan).is_err());
        assert!(
            TreeEnsemble::new(1, SplitRule::LessThan, vec![5], vec![TreeNode::leaf(1.0)]).is_err()
        );
        assert!(
            TreeEnsemble::new(1, SplitRule::LessThan, vec![], vec![TreeNode::leaf(1.0)]).is_err()
        );
        assert!(
            TreeEnsemble::new(
                1,
                SplitRule::LessThan,
                vec![0],
                vec![TreeNode::leaf(f64::INFINITY)]
            )
            .is_err()
        );
    }

    #[test]
    fn hostile_bytes_are_an_error_not_a_loop() {
        #[derive(Serialize)]
        struct Raw {
            n_features: usize,
            split_rule: SplitRule,
            roots: Vec<u32>,
            nodes: Vec<TreeNode>,
        }
        let raw = Raw {
            n_features: 1,
            split_rule: SplitRule::LessThan,
            roots: vec![0],
            nodes: vec![TreeNode::split(0, 1.0, 0, 0)],
        };
        let bytes = rmp_serde::to_vec(&raw).expect("encode");
        assert!(rmp_serde::from_slice::<TreeEnsemble>(&bytes).is_err());
        let good = stump(SplitRule::LessOrEqual);
        let bytes = rmp_serde::to_vec(&good).expect("encode");
        assert_eq!(
            rmp_serde::from_slice::<TreeEnsemble>(&bytes).expect("decode"),
            good
        );
    }
}
