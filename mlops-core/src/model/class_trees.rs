//! Multiclass tree ensembles: trees whose leaves hold a class distribution.
//!
//! The tree structure is a validated [`TreeEnsemble`] (so traversal ends in
//! at most `nodes.len()` steps whatever bytes were decoded); each leaf's
//! `value` is the index of its row in a `leaves x k` table of class
//! probabilities. The binary [`TreeEnsemble`] is not changed by this.

use serde::{Deserialize, Serialize};

use super::tree::{SplitRule, TreeEnsemble, TreeNode};
use crate::{Error, Result};

/// One tree or a forest whose leaves hold `k` class probabilities; the
/// prediction is their mean over the trees (scikit-learn's
/// `RandomForestClassifier.predict_proba`).
///
/// ```
/// use mlops_core::model::{ClassTreeEnsemble, SplitRule, TreeEnsemble, TreeNode};
///
/// // x0 < 1.0 ? leaf 0 : leaf 1, three classes.
/// let nodes = vec![TreeNode::split(0, 1.0, 1, 2), TreeNode::leaf(0.0), TreeNode::leaf(1.0)];
/// let trees = TreeEnsemble::new(1, SplitRule::LessThan, vec![0], nodes)?;
/// let model = ClassTreeEnsemble::new(trees, 3, vec![0.5, 0.5, 0.0, 0.0, 0.25, 0.75])?;
/// let mut p = [0.0; 3];
/// model.predict_proba_into(&[2.0], &mut p)?;
/// assert_eq!(p, [0.0, 0.25, 0.75]);
/// # Ok::<(), mlops_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClassTreeEnsemble {
    trees: TreeEnsemble,
    n_classes: usize,
    /// `leaves x n_classes`, row-major.
    distributions: Vec<f64>,
}

/// The unchecked wire form; deserialization goes through
/// [`ClassTreeEnsemble::new`].
#[derive(Deserialize)]
struct RawClassTreeEnsemble {
    trees: TreeEnsemble,
    n_classes: usize,
    distributions: Vec<f64>,
}

impl<'de> Deserialize<'de> for ClassTreeEnsemble {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let raw = RawClassTreeEnsemble::deserialize(d)?;
        ClassTreeEnsemble::new(raw.trees, raw.n_classes, raw.distributions)
            .map_err(serde::de::Error::custom)
    }
}

impl ClassTreeEnsemble {
    /// A validated ensemble: at least 2 classes, `distributions` a whole
    /// number of rows of `n_classes` finite, non-negative values, and every
    /// leaf's value a row index in range.
    pub fn new(trees: TreeEnsemble, n_classes: usize, distributions: Vec<f64>) -> Result<Self> {
        let bad = |reason: String| Error::InvalidModel {
            model: "class tree ensemble",
            reason,
        };
        if n_classes < 2 {
            return Err(bad(format!("{n_classes} classes, need at least 2")));
        }
        if !distributions.len().is_multiple_of(n_classes) {
            return Err(bad(format!(
                "{} distribution values is not a multiple of {n_classes} classes",
                distributions.len()
            )));
        }
        if let Some(i) = distributions
            .iter()
            .position(|v| !(v.is_finite() && *v >= 0.0))
        {
            return Err(bad(format!(
                "distribution value {i} is {}",
                distributions[i]
            )));
        }
        let rows = distributions.len() / n_classes;
        for (i, n) in trees.nodes().iter().enumerate() {
            if n.is_leaf() && !(n.value >= 0.0 && n.value.fract() == 0.0 && n.value < rows as f64) {
                return Err(bad(format!(
                    "leaf {i} points at distribution {} ({rows} rows)",
                    n.value
                )));
            }
        }
        Ok(ClassTreeEnsemble {
            trees,
            n_classes,
            distributions,
        })
    }

    /// Number of input features.
    pub fn n_features(&self) -> usize {
        self.trees.n_features()
    }

    /// Number of classes.
    pub fn n_classes(&self) -> usize {
        self.n_classes
    }

    /// The tree structure (leaf values are distribution row indices).
    pub fn trees(&self) -> &TreeEnsemble {
        &self.trees
    }

    /// The class distribution of every leaf, `n_classes` values per row.
    pub fn distributions(&self) -> &[f64] {
        &self.distributions
    }

    /// Mean class distribution over the trees for one row, into `out`
    /// (length [`n_classes`](Self::n_classes)).
    pub fn predict_proba_into(&self, row: &[f64], out: &mut [f64]) -> Result<()> {
        super::check_row(row, self.n_features(), 0)?;
        super::check_out(out, self.n_classes)?;
        self.predict_checked(row, out);
        Ok(())
    }

    /// Prediction for a row and buffer already checked.
    pub(crate) fn predict_checked(&self, row: &[f64], out: &mut [f64]) {
        out.fill(0.0);
        let k = self.n_classes;
        for &root in self.trees.roots() {
            // Leaf values were checked to be row indices in `new`.
            let at = leaf(self.trees.nodes(), self.trees.split_rule(), root, row).value as usize;
            for (o, d) in out
                .iter_mut()
                .zip(&self.distributions[at * k..(at + 1) * k])
            {
                *o += d;
            }
        }
        let n = self.trees.n_trees() as f64;
        for o in out.iter_mut() {
            *o /= n;
        }
    }
}

/// Iterative descent from `root`; the ensemble's constructor guarantees every
/// child index is in range and after its parent.
fn leaf<'a>(nodes: &'a [TreeNode], rule: SplitRule, root: u32, row: &[f64]) -> &'a TreeNode {
    let mut node = &nodes[root as usize];
    while !node.is_leaf() {
        let x = row[node.feature as usize];
        let go_left = match rule {
            SplitRule::LessThan => x < node.threshold,
            SplitRule::LessOrEqual => x <= node.threshold,
        };
        node = &nodes[if go_left { node.left } else { node.right } as usize];
    }
    node
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trees(leaves: [f64; 2]) -> TreeEnsemble {
        let nodes = vec![
            TreeNode::split(0, 0.5, 1, 2),
            TreeNode::leaf(leaves[0]),
            TreeNode::leaf(leaves[1]),
            TreeNode::leaf(1.0),
        ];
        TreeEnsemble::new(1, SplitRule::LessOrEqual, vec![0, 3], nodes).unwrap()
    }

    #[test]
    fn averages_leaf_distributions_over_trees() {
        let m = ClassTreeEnsemble::new(
            trees([0.0, 2.0]),
            3,
            vec![
                1.0, 0.0, 0.0, //
                0.0, 0.5, 0.5, //
                0.0, 0.0, 1.0,
            ],
        )
        .unwrap();
        let mut p = [0.0; 3];
        m.predict_proba_into(&[0.5], &mut p).unwrap();
        assert_eq!(p, [0.5, 0.25, 0.25]);
        m.predict_proba_into(&[0.6], &mut p).unwrap();
        assert_eq!(p, [0.0, 0.25, 0.75]);
        let bytes = rmp_serde::to_vec(&m).unwrap();
        assert_eq!(
            rmp_serde::from_slice::<ClassTreeEnsemble>(&bytes).unwrap(),
            m
        );
    }

    #[test]
    fn rejects_bad_leaves_and_tables() {
        let table = vec![0.5; 6];
        assert!(ClassTreeEnsemble::new(trees([0.0, 2.0]), 3, table.clone()).is_err());
        assert!(ClassTreeEnsemble::new(trees([0.0, 0.5]), 3, table.clone()).is_err());
        assert!(ClassTreeEnsemble::new(trees([0.0, 1.0]), 1, table.clone()).is_err());
        assert!(ClassTreeEnsemble::new(trees([0.0, 1.0]), 4, table.clone()).is_err());
        assert!(ClassTreeEnsemble::new(trees([0.0, 1.0]), 3, vec![-0.5; 6]).is_err());
        assert!(ClassTreeEnsemble::new(trees([0.0, 1.0]), 3, vec![f64::NAN; 6]).is_err());
        let m = ClassTreeEnsemble::new(trees([0.0, 1.0]), 3, table).unwrap();
        assert!(m.predict_proba_into(&[0.0], &mut [0.0; 2]).is_err());
    }
}
