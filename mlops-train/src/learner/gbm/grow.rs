//! One boosting tree on gradient/hessian histograms, grown best-first.
//!
//! Rows are binned once (at most 256 bins per feature) into row-major codes
//! ([`RowCodes`]), so building a histogram reads each row's gradient and
//! codes once per group of [`GROUP`] features. A node's
//! histogram holds, per feature and bin, the sums of gradients and hessians
//! and the row count; the split maximising
//! `GL²/(HL+λ) + GR²/(HR+λ) - G²/(H+λ)` is taken (ties to the first feature
//! and bin). Of two children only the smaller one's histogram is built from
//! its rows; the other is its parent's minus it (LightGBM's subtraction
//! trick). Leaves are split in order of gain until `max_leaves` or no split
//! helps; without `max_leaves` this is depth-wise growth to `max_depth`.
//!
//! Determinism: every histogram cell sums its rows in row order on one
//! thread (groups of features go to threads whole), and the best split is picked in
//! feature order after the parallel search, so the tree does not depend on
//! the thread count.

use rayon::prelude::*;

use super::super::histogram_tree::Node;
use mlops_core::model::LEAF;

/// Histogram builds with fewer `rows x features` cells than this stay on the
/// calling thread (rayon's overhead would dominate).
const PARALLEL_CELLS: usize = 1 << 15;

/// How a boosting tree grows.
#[derive(Debug, Clone, Copy)]
pub(super) struct TreeGrowth {
    pub(super) max_leaves: Option<u32>,
    pub(super) max_depth: Option<u16>,
    pub(super) min_samples_leaf: u32,
    pub(super) min_hessian: f64,
    pub(super) l2: f64,
    pub(super) learning_rate: f64,
}

/// Sums over rows: gradient, hessian, count.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(super) struct Cell {
    g: f64,
    h: f64,
    n: u32,
}

impl Cell {
    fn add(&mut self, gh: [f64; 2]) {
        self.g += gh[0];
        self.h += gh[1];
        self.n += 1;
    }

    fn minus(self, o: Cell) -> Cell {
        Cell {
            g: self.g - o.g,
            h: self.h - o.h,
            n: self.n - o.n,
        }
    }
}

/// Features whose histograms one task fills in one pass over the rows.
const GROUP: usize = 8;

/// Bin codes of every row, row-major: `codes[r * n_features + f]`.
#[derive(Clone, Copy)]
pub(super) struct RowCodes<'a> {
    pub(super) codes: &'a [u8],
    pub(super) n_features: usize,
}

impl RowCodes<'_> {
    fn get(&self, row: usize, f: usize) -> u8 {
        self.codes[row * self.n_features + f]
    }
}

/// Histogram layout: feature `f`'s bins start at `offsets[f]`.
pub(super) struct Layout {
    offsets: Vec<usize>,
}

impl Layout {
    /// The layout for features cut at `cuts` (`cuts[f].len() + 1` bins each).
    pub(super) fn new(cuts: &[Vec<f64>]) -> Layout {
        let mut offsets = Vec::with_capacity(cuts.len() + 1);
        let mut at = 0;
        offsets.push(0);
        for c in cuts {
            at += c.len() + 1;
            offsets.push(at);
        }
        Layout { offsets }
    }

    fn len(&self) -> usize {
        self.offsets.last().copied().unwrap_or(0)
    }

    fn n_features(&self) -> usize {
        self.offsets.len() - 1
    }
}

/// A split candidate.
#[derive(Debug, Clone, Copy)]
struct Best {
    feature: usize,
    bin: u8,
    gain: f64,
    left: Cell,
}

/// A leaf that may still split.
struct Open {
    node: usize,
    start: usize,
    end: usize,
    depth: u16,
    hist: Vec<Cell>,
    total: Cell,
    best: Option<Best>,
}

/// A grown tree: nodes (children after parents, leaf values already
/// multiplied by the learning rate).
pub(super) struct Grown {
    pub(super) nodes: Vec<Node>,
    /// (feature, gain) of every split, in the order they were made.
    pub(super) splits: Vec<(usize, f64)>,
}

/// Grows one tree on `rows` (sorted) with per-row gradient and hessian
/// `gh`, trying only the features marked in `allowed`. `rows` is permuted
/// (each leaf's rows end up contiguous, in row order).
pub(super) fn grow_tree(
    codes: RowCodes<'_>,
    layout: &Layout,
    gh: &[[f64; 2]],
    rows: &mut [u32],
    allowed: &[bool],
    growth: TreeGrowth,
) -> Grown {
    let mut scratch = vec![0u32; rows.len()];
    let mut hist = vec![Cell::default(); layout.len()];
    build(codes, layout, gh, rows, &mut hist);
    let mut total = Cell::default();
    for &r in rows.iter() {
        total.add(gh[r as usize]);
    }
    let mut nodes = vec![leaf(total, growth)];
    let mut splits = Vec::new();
    let root = Open {
        node: 0,
        start: 0,
        end: rows.len(),
        depth: 0,
        best: best_split(layout, &hist, total, allowed, growth, 0),
        hist,
        total,
    };
    let mut open = vec![root];
    let mut n_leaves = 1u32;
    loop {
        if growth.max_leaves.is_some_and(|m| n_leaves >= m) {
            break;
        }
        // The open leaf with the largest gain; ties to the earliest.
        let mut pick: Option<(usize, f64)> = None;
        for (i, o) in open.iter().enumerate() {
            if let Some(b) = o.best
                && pick.is_none_or(|(_, g)| b.gain > g)
            {
                pick = Some((i, b.gain));
            }
        }
        let Some((i, _)) = pick else { break };
        let parent = open.swap_remove(i);
        let Some(best) = parent.best else { break };
        splits.push((best.feature, best.gain));
        // Stable partition: left rows first, each side in row order.
        let node_rows = &mut rows[parent.start..parent.end];
        let mut n_left = 0;
        let mut n_right = 0;
        for i in 0..node_rows.len() {
            let r = node_rows[i];
            if codes.get(r as usize, best.feature) <= best.bin {
                node_rows[n_left] = r;
                n_left += 1;
            } else {
                scratch[n_right] = r;
                n_right += 1;
            }
        }
        node_rows[n_left..].copy_from_slice(&scratch[..n_right]);
        let left_total = best.left;
        let right_total = parent.total.minus(best.left);
        let l = nodes.len();
        nodes.push(leaf(left_total, growth));
        nodes.push(leaf(right_total, growth));
        nodes[parent.node] = Node {
            feature: best.feature as u32,
            bin: best.bin,
            // A tree has fewer nodes than twice its rows (a u32, checked by
            // the caller).
            left: l as u32,
            right: l as u32 + 1,
            value: 0.0,
        };
        n_leaves += 1;
        let mid = parent.start + n_left;
        // The smaller child's histogram from its rows, the larger one's by
        // subtraction in the parent's buffer.
        let mut small = vec![Cell::default(); layout.len()];
        let left_is_small = n_left <= n_right;
        let small_rows = if left_is_small {
            &rows[parent.start..mid]
        } else {
            &rows[mid..parent.end]
        };
        build(codes, layout, gh, small_rows, &mut small);
        let mut large = parent.hist;
        for (a, b) in large.iter_mut().zip(&small) {
            *a = a.minus(*b);
        }
        let (left_hist, right_hist) = if left_is_small {
            (small, large)
        } else {
            (large, small)
        };
        let depth = parent.depth + 1;
        for (node, start, end, hist, total) in [
            (l, parent.start, mid, left_hist, left_total),
            (l + 1, mid, parent.end, right_hist, right_total),
        ] {
            let best = best_split(layout, &hist, total, allowed, growth, depth);
            let child = Open {
                node,
                start,
                end,
                depth,
                hist,
                total,
                best,
            };
            if child.best.is_some() {
                open.push(child);
            }
        }
    }
    Grown { nodes, splits }
}

/// A leaf holding the shrunk Newton step `-lr * G / (H + λ)`.
fn leaf(sum: Cell, growth: TreeGrowth) -> Node {
    let value = -growth.learning_rate * sum.g / (sum.h + growth.l2);
    Node {
        feature: 0,
        bin: 0,
        left: LEAF,
        right: LEAF,
        value: if value.is_finite() { value } else { 0.0 },
    }
}

/// Fills `hist` (zeroed, [`Layout::len`] cells) from `rows`: each group of
/// [`GROUP`] features on one thread, its cells summed in row order.
fn build(codes: RowCodes<'_>, layout: &Layout, gh: &[[f64; 2]], rows: &[u32], hist: &mut [Cell]) {
    let p = layout.n_features();
    let fill = |g: usize, cells: &mut [Cell]| {
        let (f0, f1) = (g * GROUP, ((g + 1) * GROUP).min(p));
        let base = layout.offsets[f0];
        let offsets: Vec<usize> = (f0..f1).map(|f| layout.offsets[f] - base).collect();
        for &r in rows {
            let r = r as usize;
            let row = &codes.codes[r * p + f0..r * p + f1];
            let gh = gh[r];
            for (o, &b) in offsets.iter().zip(row) {
                cells[o + usize::from(b)].add(gh);
            }
        }
    };
    let mut per_group = Vec::with_capacity(p.div_ceil(GROUP));
    let mut rest = hist;
    for g in 0..p.div_ceil(GROUP) {
        let (f0, f1) = (g * GROUP, ((g + 1) * GROUP).min(p));
        let (a, b) = rest.split_at_mut(layout.offsets[f1] - layout.offsets[f0]);
        per_group.push(a);
        rest = b;
    }
    if rows.len() * p < PARALLEL_CELLS {
        for (g, cells) in per_group.into_iter().enumerate() {
            fill(g, cells);
        }
    } else {
        per_group
            .into_par_iter()
            .enumerate()
            .for_each(|(g, cells)| fill(g, cells));
    }
}

/// The best split of a node with histogram `hist` and sums `total`, or
/// `None` when no allowed split keeps `min_samples_leaf` rows and
/// `min_hessian` on both sides with a positive gain (or the depth is used up).
fn best_split(
    layout: &Layout,
    hist: &[Cell],
    total: Cell,
    allowed: &[bool],
    growth: TreeGrowth,
    depth: u16,
) -> Option<Best> {
    if growth.max_depth.is_some_and(|d| depth >= d) || total.n < 2 * growth.min_samples_leaf {
        return None;
    }
    let score = |c: Cell| c.g * c.g / (c.h + growth.l2);
    let parent = score(total);
    let search = |f: usize| -> Option<Best> {
        if !allowed[f] {
            return None;
        }
        let cells = &hist[layout.offsets[f]..layout.offsets[f + 1]];
        let mut left = Cell::default();
        let mut best: Option<Best> = None;
        // The last bin can never be the left side.
        for (b, c) in cells[..cells.len().saturating_sub(1)].iter().enumerate() {
            if c.n == 0 {
                continue;
            }
            left.g += c.g;
            left.h += c.h;
            left.n += c.n;
            let right = total.minus(left);
            if right.n < growth.min_samples_leaf {
                break;
            }
            if left.n < growth.min_samples_leaf
                || left.h < growth.min_hessian
                || right.h < growth.min_hessian
            {
                continue;
            }
            let gain = score(left) + score(right) - parent;
            if gain > 0.0 && best.is_none_or(|s| gain > s.gain) {
                best = Some(Best {
                    feature: f,
                    // b < cells.len() - 1 <= 255
                    bin: b as u8,
                    gain,
                    left,
                });
            }
        }
        best
    };
    let n = layout.n_features();
    let found: Vec<Option<Best>> = if layout.len() < PARALLEL_CELLS {
        (0..n).map(search).collect()
    } else {
        (0..n).into_par_iter().map(search).collect()
    };
    let mut best: Option<Best> = None;
    for b in found.into_iter().flatten() {
        if best.is_none_or(|s| b.gain > s.gain) {
            best = Some(b);
        }
    }
    best
}
