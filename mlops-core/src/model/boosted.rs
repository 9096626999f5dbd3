//! Boosted trees: leaf values summed over the trees, plus a base score,
//! through a link.
//!
//! The trees are a validated [`TreeEnsemble`] (so traversal ends whatever
//! bytes were decoded, and batches go through its block scorer); the
//! ensemble's own averaging is not used. With `k` outputs, tree `t` adds to
//! output `t % k` (round `t / k` of a softmax booster grows one tree per
//! class). This is a separate form so the averaged [`TreeEnsemble`], its
//! bytes and the package digests of forests stay as they were.

use serde::{Deserialize, Serialize};

use super::linear::{Link, sigmoid};
use super::softmax::softmax_in_place;
use super::tree::TreeEnsemble;
use crate::{Error, Result};

/// Gradient-boosted trees: `link(base + sum of leaf values)`, one margin per
/// output.
///
/// - [`Link::Logistic`], one output: binary probability (log loss);
/// - [`Link::Identity`], one output: regression value (squared error);
/// - [`Link::Softmax`], `k >= 2` outputs: class probabilities, tree `t`
///   adding to class `t % k`.
///
/// ```
/// use mlops_core::model::{BoostedTrees, Link, SplitRule, TreeEnsemble, TreeNode};
///
/// // Two stumps on x0 summed onto a base margin of -0.5.
/// let nodes = vec![
///     TreeNode::split(0, 1.0, 1, 2), TreeNode::leaf(-1.0), TreeNode::leaf(1.0),
///     TreeNode::split(0, 2.0, 4, 5), TreeNode::leaf(0.0), TreeNode::leaf(0.5),
/// ];
/// let trees = TreeEnsemble::new(1, SplitRule::LessOrEqual, vec![0, 3], nodes)?;
/// let m = BoostedTrees::new(trees, Link::Identity, vec![-0.5])?;
/// assert_eq!(m.predict_row(&[0.0])?, -1.5);
/// assert_eq!(m.predict_row(&[3.0])?, 1.0);
/// # Ok::<(), mlops_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BoostedTrees {
    trees: TreeEnsemble,
    link: Link,
    /// Initial margin per output.
    base: Vec<f64>,
}

/// The unchecked wire form; deserialization goes through [`BoostedTrees::new`].
#[derive(Deserialize)]
struct RawBoostedTrees {
    trees: TreeEnsemble,
    link: Link,
    base: Vec<f64>,
}

impl<'de> Deserialize<'de> for BoostedTrees {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let raw = RawBoostedTrees::deserialize(d)?;
        BoostedTrees::new(raw.trees, raw.link, raw.base).map_err(serde::de::Error::custom)
    }
}

/// Most outputs a booster may have (a class count).
const MAX_OUTPUTS: usize = 4096;

impl BoostedTrees {
    /// A validated booster: one finite base margin per output, one output
    /// for the logistic and identity links and 2 to 4096 for softmax, and a
    /// tree count that is a whole number of rounds (a multiple of the
    /// output count).
    pub fn new(trees: TreeEnsemble, link: Link, base: Vec<f64>) -> Result<Self> {
        let bad = |reason: String| Error::InvalidModel {
            model: "boosted trees",
            reason,
        };
        let k = base.len();
        match link {
            Link::Softmax if !(2..=MAX_OUTPUTS).contains(&k) => {
                return Err(bad(format!("softmax over {k} outputs")));
            }
            Link::Logistic | Link::Identity if k != 1 => {
                return Err(bad(format!("{link:?} link with {k} outputs")));
            }
            _ => {}
        }
        if let Some(v) = base.iter().find(|v| !v.is_finite()) {
            return Err(bad(format!("base margin {v}")));
        }
        if !trees.n_trees().is_multiple_of(k) {
            return Err(bad(format!(
                "{} trees is not a whole number of rounds of {k}",
                trees.n_trees()
            )));
        }
        Ok(BoostedTrees { trees, link, base })
    }

    /// Number of input features.
    pub fn n_features(&self) -> usize {
        self.trees.n_features()
    }

    /// Outputs per row: 1, or the class count of a softmax booster.
    pub fn n_outputs(&self) -> usize {
        self.base.len()
    }

    /// The trees (tree `t` adds to output `t % n_outputs`).
    pub fn trees(&self) -> &TreeEnsemble {
        &self.trees
    }

    /// The link from margins to outputs.
    pub fn link(&self) -> Link {
        self.link
    }

    /// The initial margin per output.
    pub fn base(&self) -> &[f64] {
        &self.base
    }

    /// The single output for one row (probability or value); a softmax
    /// booster is [`Error::OutputCount`].
    pub fn predict_row(&self, row: &[f64]) -> Result<f64> {
        super::check_row(row, self.n_features(), 0)?;
        super::check_out(&[0.0], self.n_outputs())?;
        Ok(self.predict_checked(row))
    }

    /// Every output for one row into `out` (length
    /// [`n_outputs`](Self::n_outputs)).
    pub fn predict_proba_into(&self, row: &[f64], out: &mut [f64]) -> Result<()> {
        super::check_row(row, self.n_features(), 0)?;
        super::check_out(out, self.n_outputs())?;
        self.predict_into_checked(row, out);
        Ok(())
    }

    /// Single output of a checked row.
    pub(crate) fn predict_checked(&self, row: &[f64]) -> f64 {
        self.finish(self.base[0] + self.trees.sum_checked(row))
    }

    /// Single outputs of checked rows, through the block scorer; equal bit
    /// for bit to [`predict_checked`](Self::predict_checked) on each row.
    pub(crate) fn predict_rows_checked(&self, rows: &[f64], out: &mut [f64]) {
        let base = self.base[0];
        self.trees
            .sum_rows_checked(rows, out, |o| *o = self.finish(base + *o));
    }

    /// Every output of a checked row into a checked buffer.
    pub(crate) fn predict_into_checked(&self, row: &[f64], out: &mut [f64]) {
        let k = self.n_outputs();
        if k == 1 {
            out[0] = self.predict_checked(row);
            return;
        }
        out.fill(std::iter::empty::<f64>().sum());
        for t in 0..self.trees.n_trees() {
            out[t % k] += self.trees.tree_value(t, row);
        }
        for (o, b) in out.iter_mut().zip(&self.base) {
            *o += b;
        }
        softmax_in_place(out);
    }

    fn finish(&self, margin: f64) -> f64 {
        match self.link {
            Link::Logistic => sigmoid(margin),
            _ => margin,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::tree::{SplitRule, TreeNode};
    use super::*;

    fn two_rounds_of_three() -> TreeEnsemble {
        let mut nodes = Vec::new();
        let mut roots = Vec::new();
        for t in 0..6u32 {
            let at = nodes.len() as u32;
            roots.push(at);
            nodes.push(TreeNode::split(0, 0.5, at + 1, at + 2));
            nodes.push(TreeNode::leaf(f64::from(t) * 0.1));
            nodes.push(TreeNode::leaf(-f64::from(t) * 0.1));
        }
        TreeEnsemble::new(1, SplitRule::LessOrEqual, roots, nodes).expect("valid")
    }

    #[test]
    fn softmax_sums_each_class_trees() {
        let m = BoostedTrees::new(two_rounds_of_three(), Link::Softmax, vec![0.0, 0.1, -0.1])
            .expect("valid");
        let mut p = [0.0; 3];
        m.predict_proba_into(&[0.0], &mut p).expect("row");
        // class c: trees c and c + 3 -> (c + c + 3) * 0.1 plus its base
        let mut z = [0.3, 0.5 + 0.1, 0.7 - 0.1];
        softmax_in_place(&mut z);
        for (a, b) in p.iter().zip(z) {
            assert!((a - b).abs() < 1e-15);
        }
        assert!(m.predict_row(&[0.0]).is_err());
        let bytes = rmp_serde::to_vec_named(&m).expect("encode");
        assert_eq!(
            rmp_serde::from_slice::<BoostedTrees>(&bytes).expect("decode"),
            m
        );
    }

    #[test]
    fn rejects_inconsistent_links_bases_and_rounds() {
        let t = two_rounds_of_three;
        assert!(BoostedTrees::new(t(), Link::Softmax, vec![0.0; 4]).is_err());
        assert!(BoostedTrees::new(t(), Link::Softmax, vec![0.0; 1]).is_err());
        assert!(BoostedTrees::new(t(), Link::Logistic, vec![0.0; 3]).is_err());
        assert!(BoostedTrees::new(t(), Link::Softmax, vec![0.0, f64::NAN, 0.0]).is_err());
        assert!(BoostedTrees::new(t(), Link::Logistic, vec![0.5]).is_ok());
        assert!(BoostedTrees::new(t(), Link::Softmax, vec![0.0; 6]).is_ok());
    }

    #[test]
    fn block_scores_equal_row_scores() {
        let m =
            BoostedTrees::new(two_rounds_of_three(), Link::Logistic, vec![-0.3]).expect("valid");
        let rows: Vec<f64> = (0..300).map(|i| f64::from(i % 7) / 7.0).collect();
        let mut out = vec![0.0; rows.len()];
        m.predict_rows_checked(&rows, &mut out);
        for (r, o) in rows.iter().zip(&out) {
            assert_eq!(o.to_bits(), m.predict_checked(&[*r]).to_bits());
        }
    }
}
