//! The histogram tree over `k` classes: the binary grower's scheme (same
//! bins, bootstrap, feature draws, tie rule) with a class histogram of `k`
//! weighted counts per bin. Gini and entropy generalise the binary forms:
//! `N - sum(w_c^2) / N` and `N ln N - sum(w_c ln w_c)`. Leaves hold the
//! class shares of their bootstrap weight (scikit-learn's
//! `predict_proba` per tree). Kept apart from [`grow`](super::grow) so the
//! binary trees, and so binary packages, are unchanged.

use rand::Rng;
use rand::seq::SliceRandom as _;

use super::{Bins, Growth, MAX_BINS, Node, Pending, bootstrap, split_node, xlnx};
use crate::learner::SplitCriterion;

/// A grown tree: nodes (a leaf's `value` is its row in `leaves`) and the
/// class distribution of each leaf, `k` values per leaf.
#[derive(Debug, Clone)]
pub(in crate::learner) struct ClassTree {
    pub(in crate::learner) nodes: Vec<Node>,
    pub(in crate::learner) leaves: Vec<f64>,
}

struct Split {
    feature: usize,
    bin: u8,
    score: f64,
}

/// Grows one tree on class indices `y` (below `k`) with a bootstrap drawn
/// from `rng`.
pub(in crate::learner) fn grow_classes(
    bins: &Bins,
    y: &[u8],
    k: usize,
    growth: Growth,
    rng: &mut impl Rng,
) -> ClassTree {
    let (weight, mut rows) = bootstrap(bins.rows, rng);
    let mut features: Vec<usize> = (0..bins.cuts.len()).collect();
    // Per bin: row count, then k class weights.
    let mut hist = vec![0u32; MAX_BINS * (k + 1)];
    let mut nodes = vec![Node::leaf(0.0)];
    let mut leaves: Vec<f64> = Vec::new();
    let mut w = vec![0u32; k];
    let mut stack: Vec<Pending> = vec![(0, 0, rows.len(), 0)];
    while let Some((at, start, end, depth)) = stack.pop() {
        let node_rows = &mut rows[start..end];
        w.fill(0);
        for &r in node_rows.iter() {
            w[usize::from(y[r as usize])] += weight[r as usize];
        }
        let count = node_rows.len();
        let classes_present = w.iter().filter(|&&c| c > 0).count();
        let split = if growth.max_depth.is_some_and(|d| depth >= d)
            || count < growth.min_samples_split
            || count < 2 * growth.min_samples_leaf
            || classes_present < 2
        {
            None
        } else {
            best_split(
                bins,
                y,
                k,
                &weight,
                node_rows,
                &mut features,
                &mut hist,
                growth,
                rng,
            )
        };
        let Some(best) = split else {
            let total: f64 = w.iter().map(|&c| f64::from(c)).sum();
            nodes[at] = Node::leaf((leaves.len() / k) as f64);
            leaves.extend(w.iter().map(|&c| f64::from(c) / total));
            continue;
        };
        split_node(
            &mut nodes,
            &mut stack,
            node_rows,
            bins,
            (best.feature, best.bin),
            (at, start, end, depth),
        );
    }
    ClassTree { nodes, leaves }
}

#[allow(clippy::too_many_arguments)]
fn best_split(
    bins: &Bins,
    y: &[u8],
    k: usize,
    weight: &[u32],
    rows: &[u32],
    features: &mut [usize],
    hist: &mut [u32],
    growth: Growth,
    rng: &mut impl Rng,
) -> Option<Split> {
    let min_leaf = growth.min_samples_leaf as u32;
    let stride = k + 1;
    let mut best: Option<Split> = None;
    let mut total = vec![0u32; stride];
    let mut left = vec![0u32; stride];
    let mut right = vec![0u32; k];
    let (drawn, _) = features.partial_shuffle(rng, growth.max_features);
    for &f in drawn.iter() {
        let column = bins.column(f);
        let (mut lo, mut hi) = (u8::MAX, 0u8);
        for &r in rows {
            let r = r as usize;
            let b = column[r];
            let cell = &mut hist[usize::from(b) * stride..(usize::from(b) + 1) * stride];
            cell[0] += 1;
            cell[1 + usize::from(y[r])] += weight[r];
            lo = lo.min(b);
            hi = hi.max(b);
        }
        let (lo, hi) = (usize::from(lo), usize::from(hi));
        if lo < hi {
            total.fill(0);
            for cell in hist[lo * stride..(hi + 1) * stride].chunks_exact(stride) {
                for (t, c) in total.iter_mut().zip(cell) {
                    *t += c;
                }
            }
            left.fill(0);
            for (b, cell) in hist[lo * stride..hi * stride]
                .chunks_exact(stride)
                .enumerate()
            {
                if cell[0] == 0 {
                    continue;
                }
                for (l, c) in left.iter_mut().zip(cell) {
                    *l += c;
                }
                let right_rows = total[0] - left[0];
                if left[0] < min_leaf || right_rows < min_leaf {
                    continue;
                }
                for ((r, t), l) in right.iter_mut().zip(&total[1..]).zip(&left[1..]) {
                    *r = t - l;
                }
                let score = purity(&left[1..], growth.criterion) + purity(&right, growth.criterion);
                if best.as_ref().is_none_or(|s| score > s.score) {
                    best = Some(Split {
                        feature: f,
                        bin: (lo + b) as u8,
                        score,
                    });
                }
            }
        }
        hist[lo * stride..(hi + 1) * stride].fill(0);
    }
    best
}

/// Larger is purer: `-N * impurity` of the weights.
fn purity(w: &[u32], criterion: SplitCriterion) -> f64 {
    let n: f64 = w.iter().map(|&c| f64::from(c)).sum();
    match criterion {
        SplitCriterion::Gini => w.iter().map(|&c| f64::from(c).powi(2)).sum::<f64>() / n - n,
        SplitCriterion::Entropy => w.iter().map(|&c| xlnx(f64::from(c))).sum::<f64>() - xlnx(n),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn three_separable_classes_give_pure_leaves() {
        let x = array![[0.0], [1.0], [2.0], [3.0], [4.0], [5.0]];
        let bins = Bins::new(x.view());
        let y = [0, 0, 1, 1, 2, 2];
        let growth = Growth {
            max_depth: None,
            min_samples_split: 2,
            min_samples_leaf: 1,
            max_features: 1,
            criterion: SplitCriterion::Gini,
        };
        let tree = grow_classes(&bins, &y, 3, growth, &mut mlops_core::seed::Seed(3).rng());
        assert_eq!(tree.leaves.len() % 3, 0);
        // Every leaf is pure (the classes are separable) and sums to 1.
        for leaf in tree.leaves.chunks_exact(3) {
            assert!((leaf.iter().sum::<f64>() - 1.0).abs() < 1e-15);
            assert!(leaf.contains(&1.0), "{leaf:?}");
        }
        let leaf_count = tree
            .nodes
            .iter()
            .filter(|n| n.left == mlops_core::model::LEAF)
            .count();
        assert_eq!(leaf_count, tree.leaves.len() / 3);
    }

    #[test]
    fn two_classes_split_like_the_binary_grower() {
        // Same data and seed: the k = 2 tree has the binary tree's shape, its
        // leaves' class-1 share is the binary leaf value.
        let x = array![
            [0.0, 1.0],
            [1.0, 0.0],
            [2.0, 1.0],
            [3.0, 0.0],
            [4.0, 1.0],
            [5.0, 1.0]
        ];
        let bins = Bins::new(x.view());
        let y = [0, 1, 0, 1, 1, 1];
        let growth = Growth {
            max_depth: None,
            min_samples_split: 2,
            min_samples_leaf: 1,
            max_features: 2,
            criterion: SplitCriterion::Entropy,
        };
        for seed in 0..10 {
            let binary =
                super::super::grow(&bins, &y, growth, &mut mlops_core::seed::Seed(seed).rng());
            let multi = grow_classes(
                &bins,
                &y,
                2,
                growth,
                &mut mlops_core::seed::Seed(seed).rng(),
            );
            assert_eq!(binary.len(), multi.nodes.len());
            for (b, m) in binary.iter().zip(&multi.nodes) {
                assert_eq!(
                    (b.feature, b.bin, b.left, b.right),
                    (m.feature, m.bin, m.left, m.right)
                );
                if b.left == mlops_core::model::LEAF {
                    assert_eq!(b.value, multi.leaves[m.value as usize * 2 + 1]);
                }
            }
        }
    }
}
