//! Scoring many rows at once, tree by tree.
//!
//! Walking one row through every tree touches each tree's nodes once per
//! row, so a forest larger than the cache is streamed from memory for every
//! row. Here a block of rows walks one tree before the next tree starts (the
//! tree stays in cache for the whole block), and [`LANES`] rows walk in
//! lockstep so their node loads are independent and overlap.
//!
//! The node layout is compact (24 bytes instead of 32) and branch-free: a
//! leaf points to itself on both sides, so a lane that reached its leaf keeps
//! stepping in place until every lane of its group has reached one. Scores
//! are bit-identical to [`TreeEnsemble::predict_row`](super::TreeEnsemble::predict_row):
//! the same comparison routes each row (NaN goes right, as there), and each
//! row's leaf values are summed in tree order from the same starting value.

use std::fmt;

use super::{SplitRule, TreeNode};

/// Rows per block: one tree's nodes stay in cache while the block walks it,
/// and the block's rows (128 x features x 8 bytes) stay in L2.
pub(crate) const BLOCK_ROWS: usize = 128;

/// Rows walked in lockstep.
const LANES: usize = 8;

/// One node of the compact layout; indices are the ensemble's own.
#[derive(Clone, Copy, PartialEq)]
struct Node {
    threshold: f64,
    feature: u32,
    /// `next[1]` when the row goes left, `next[0]` when it goes right; a
    /// leaf's both entries are its own index.
    next: [u32; 2],
}

/// The ensemble's nodes in the block scorer's layout, built once when the
/// ensemble is validated.
#[derive(Clone, PartialEq)]
pub(crate) struct BlockLayout {
    nodes: Vec<Node>,
    /// Leaf output per node (0 for a split).
    values: Vec<f64>,
}

impl fmt::Debug for BlockLayout {
    // The layout repeats the nodes; printing them twice helps no one.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "BlockLayout({} nodes)", self.nodes.len())
    }
}

impl BlockLayout {
    /// The layout of validated `nodes` (children in range, features below
    /// `n_features >= 1`).
    pub(crate) fn new(nodes: &[TreeNode]) -> Self {
        let mut out = Vec::with_capacity(nodes.len());
        let mut values = Vec::with_capacity(nodes.len());
        for (i, n) in nodes.iter().enumerate() {
            if n.is_leaf() {
                // Feature 0 always exists; the threshold is never looked at
                // in effect since both sides lead back here.
                let me = i as u32;
                out.push(Node {
                    threshold: 0.0,
                    feature: 0,
                    next: [me, me],
                });
                values.push(n.value);
            } else {
                out.push(Node {
                    threshold: n.threshold,
                    feature: n.feature,
                    next: [n.right, n.left],
                });
                values.push(0.0);
            }
        }
        BlockLayout { nodes: out, values }
    }

    /// Writes the mean leaf output over `roots` of each row of `rows`
    /// (row-major, `n_features` values per row) to `out`. Rows are not
    /// checked for finiteness: NaN goes right, as in the row path.
    pub(crate) fn score(
        &self,
        rule: SplitRule,
        roots: &[u32],
        n_features: usize,
        rows: &[f64],
        out: &mut [f64],
    ) {
        let n_trees = roots.len() as f64;
        self.score_sums(rule, roots, n_features, rows, out, |o| *o /= n_trees);
    }

    /// Writes the sum of leaf outputs over `roots` (in tree order, from the
    /// empty sum) of each row of `rows` to `out`, then applies `finish` to
    /// each sum while its block is still in cache. [`score`](Self::score)
    /// divides by the tree count; boosted trees add their base score and
    /// link.
    pub(crate) fn score_sums(
        &self,
        rule: SplitRule,
        roots: &[u32],
        n_features: usize,
        rows: &[f64],
        out: &mut [f64],
        finish: impl Fn(&mut f64),
    ) {
        debug_assert_eq!(rows.len(), out.len() * n_features);
        for (block, out) in rows
            .chunks(BLOCK_ROWS * n_features)
            .zip(out.chunks_mut(BLOCK_ROWS))
        {
            match rule {
                SplitRule::LessThan => self.score_block::<false>(roots, n_features, block, out),
                SplitRule::LessOrEqual => self.score_block::<true>(roots, n_features, block, out),
            }
            out.iter_mut().for_each(&finish);
        }
    }

    /// Sums of leaf outputs over the trees (in tree order) for one block.
    fn score_block<const LE: bool>(
        &self,
        roots: &[u32],
        n_features: usize,
        rows: &[f64],
        sums: &mut [f64],
    ) {
        // The empty sum, so the first tree's value is added to exactly what
        // `Iterator::sum` starts from in the row path (-0.0 or 0.0).
        let zero: f64 = std::iter::empty::<f64>().sum();
        sums.fill(zero);
        let n_rows = sums.len();
        for &root in roots {
            for (g, group) in sums.chunks_mut(LANES).enumerate() {
                let first = g * LANES;
                // Lanes past the last row repeat it and are not summed.
                let mut base = [0usize; LANES];
                for (l, b) in base.iter_mut().enumerate() {
                    *b = (first + l).min(n_rows - 1) * n_features;
                }
                let leaves = self.walk::<LE>(root, &base, rows);
                for (s, leaf) in group.iter_mut().zip(leaves) {
                    *s += self.values[leaf as usize];
                }
            }
        }
    }

    /// The leaf each lane's row reaches from `root`. Every split moves to a
    /// larger index (checked in `TreeEnsemble::new`), so this ends.
    #[inline(always)]
    fn walk<const LE: bool>(&self, root: u32, base: &[usize; LANES], rows: &[f64]) -> [u32; LANES] {
        let mut idx = [root; LANES];
        loop {
            let mut moved = false;
            for (i, &b) in idx.iter_mut().zip(base) {
                let n = &self.nodes[*i as usize];
                let x = rows[b + n.feature as usize];
                let left = if LE {
                    x <= n.threshold
                } else {
                    x < n.threshold
                };
                let next = n.next[left as usize];
                moved |= next != *i;
                *i = next;
            }
            if !moved {
                return idx;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    use super::super::{SplitRule, TreeEnsemble, TreeNode};
    use super::BLOCK_ROWS;

    /// Few distinct values, so rows hit thresholds exactly (where the two
    /// split rules differ) and signed zeros meet.
    const GRID: [f64; 9] = [
        -2.0,
        -1.0,
        -0.0,
        0.0,
        0.5,
        1.0,
        2.0,
        f64::INFINITY,
        f64::NEG_INFINITY,
    ];

    /// Appends a random subtree in pre-order and returns its root index.
    fn grow(rng: &mut ChaCha8Rng, nodes: &mut Vec<TreeNode>, n_features: u32, depth: u32) -> u32 {
        let me = nodes.len() as u32;
        if depth == 0 || rng.gen_bool(0.25) {
            // Leaf values include -0.0 and 0.0 (the sum's start matters) and
            // tiny/huge magnitudes (the summation order matters).
            let value = match rng.gen_range(0..5) {
                0 => -0.0,
                1 => 0.0,
                2 => rng.gen_range(-1e-12..1e-12),
                3 => rng.gen_range(-1e12..1e12),
                _ => rng.gen_range(0.0..1.0),
            };
            nodes.push(TreeNode::leaf(value));
            return me;
        }
        // Threshold -inf/inf are legal (never NaN).
        let threshold = if rng.gen_bool(0.7) {
            GRID[rng.gen_range(0..GRID.len())]
        } else {
            rng.gen_range(-3.0..3.0)
        };
        nodes.push(TreeNode::split(
            rng.gen_range(0..n_features),
            threshold,
            0,
            0,
        ));
        let left = grow(rng, nodes, n_features, depth - 1);
        let right = grow(rng, nodes, n_features, depth - 1);
        nodes[me as usize].left = left;
        nodes[me as usize].right = right;
        me
    }

    fn ensemble(seed: u64, n_features: u32, n_trees: usize, le: bool) -> TreeEnsemble {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut nodes = Vec::new();
        let roots = (0..n_trees)
            .map(|_| {
                let depth = rng.gen_range(0..12);
                grow(&mut rng, &mut nodes, n_features, depth)
            })
            .collect();
        // Shuffle-free but not contiguous per tree would also be legal; the
        // pre-order layout is what the trainers produce.
        let rule = if le {
            SplitRule::LessOrEqual
        } else {
            SplitRule::LessThan
        };
        TreeEnsemble::new(n_features as usize, rule, roots, nodes).expect("valid")
    }

    fn rows(seed: u64, n_rows: usize, n_features: usize, nan: bool) -> Vec<f64> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x9e37);
        (0..n_rows * n_features)
            .map(|_| match rng.gen_range(0..10) {
                0 if nan => f64::NAN,
                0..=5 => GRID[rng.gen_range(0..GRID.len())],
                _ => rng.gen_range(-3.0..3.0),
            })
            .collect()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// The block scorer equals the row path bit for bit, NaN included
        /// (the unchecked path: NaN goes right in both).
        #[test]
        fn block_scores_are_bit_identical_to_row_scores(
            seed in any::<u64>(),
            n_features in 1u32..6,
            n_trees in 1usize..20,
            n_rows in 0usize..(2 * BLOCK_ROWS + 19),
            le in any::<bool>(),
        ) {
            let forest = ensemble(seed, n_features, n_trees, le);
            let nf = n_features as usize;
            let x = rows(seed, n_rows, nf, true);
            let mut out = vec![f64::NAN; n_rows];
            forest.predict_rows_checked(&x, &mut out);
            for (r, got) in out.iter().enumerate() {
                let want = forest.predict_checked(&x[r * nf..(r + 1) * nf]);
                prop_assert_eq!(got.to_bits(), want.to_bits(), "row {}", r);
            }
        }

        /// The checked public path agrees with `predict_row` on finite rows.
        #[test]
        fn predict_rows_matches_predict_row(
            seed in any::<u64>(),
            n_rows in 1usize..300,
            le in any::<bool>(),
        ) {
            let forest = ensemble(seed, 3, 7, le);
            let x: Vec<f64> = rows(seed, n_rows, 3, false)
                .into_iter()
                .map(|v| if v.is_finite() { v } else { 1.0 })
                .collect();
            let mut out = vec![0.0; n_rows];
            forest.predict_rows(&x, &mut out).expect("finite rows");
            for (r, got) in out.iter().enumerate() {
                let want = forest.predict_row(&x[r * 3..(r + 1) * 3]).expect("row");
                prop_assert_eq!(got.to_bits(), want.to_bits(), "row {}", r);
            }
        }
    }

    #[test]
    fn predict_rows_rejects_bad_shapes_and_values() {
        let forest = ensemble(7, 2, 3, false);
        let mut out = [0.0; 2];
        assert!(forest.predict_rows(&[1.0, 2.0, 3.0], &mut out).is_err());
        let err = forest
            .predict_rows(&[1.0, 2.0, 3.0, f64::INFINITY], &mut out)
            .expect_err("non-finite");
        assert!(matches!(
            err,
            crate::Error::NonFiniteInput {
                row: 1,
                feature: 1,
                ..
            }
        ));
        forest.predict_rows(&[], &mut []).expect("no rows is fine");
    }

    #[test]
    fn shared_subtrees_and_debug_stay_small() {
        // Two trees sharing one leaf (legal: children come after parents);
        // the layout keeps the ensemble's indices, so nothing is duplicated.
        let nodes = vec![
            TreeNode::split(0, 0.0, 1, 2),
            TreeNode::split(0, 1.0, 2, 3),
            TreeNode::leaf(0.25),
            TreeNode::leaf(0.75),
        ];
        let forest = TreeEnsemble::new(1, SplitRule::LessThan, vec![0, 1], nodes).expect("valid");
        let x = [-1.0, 0.5, 2.0];
        let mut out = [0.0; 3];
        forest.predict_rows(&x, &mut out).expect("ok");
        for (r, v) in x.iter().enumerate() {
            assert_eq!(out[r], forest.predict_row(&[*v]).expect("row"));
        }
        assert!(format!("{forest:?}").contains("BlockLayout(4 nodes)"));
    }
}
