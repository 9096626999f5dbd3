//! Random forest classifier: histogram trees (`histogram_tree.rs`) grown in
//! parallel.
//!
//! Tree `i` draws everything from `seed.derive_index("tree", i)`, so it
//! depends only on the data and its index: the forest is the same whatever the
//! thread count or scheduling, and rayon grows trees on every core. Leaves
//! hold the positive-class share of their bootstrap weight and the forest
//! averages them, as scikit-learn's `predict_proba`.

use mlops_core::model::{ClassTreeEnsemble, InferenceModel, SplitRule, TreeEnsemble};
use mlops_core::seed::Seed;
use ndarray::{Array1, Array2};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::histogram_tree::{Bins, ClassTree, Growth, Node, code, grow, grow_classes};
use super::multinomial::class_labels;
use super::{
    FittedModel, Learner, MulticlassLearner, SplitCriterion, TreeParams, binary_labels, check_x,
    check_xy,
};
use crate::error::invalid;
use crate::{Error, Result};

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

    /// Features drawn at each node (`None`: `floor(sqrt(features))`); a node
    /// where none of the drawn features varies becomes a leaf.
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

/// A fitted random forest: histogram trees whose leaf shares are averaged.
#[derive(Debug, Clone)]
pub struct FittedForest {
    /// Per tree, its nodes (children after parents, indices within the tree).
    trees: Vec<Vec<Node>>,
    /// The training bins' cut values per feature.
    cuts: Vec<Vec<f64>>,
}

impl FittedForest {
    /// Number of trees.
    pub fn n_trees(&self) -> usize {
        self.trees.len()
    }
}

impl Learner for ValidForestParams {
    type Fitted = FittedForest;

    fn name(&self) -> &'static str {
        "rf"
    }

    fn fit(&self, x: &Array2<f64>, y: &Array1<f64>, seed: Seed) -> Result<FittedForest> {
        check_xy(x, y)?;
        let labels: Vec<u8> = binary_labels(y)?.iter().map(|&c| c as u8).collect();
        let p = &self.0;
        if let Some(m) = p.max_features
            && m > x.ncols()
        {
            return Err(invalid(
                "max_features",
                format!("{m} exceeds the {} features", x.ncols()),
            ));
        }
        // Node indices are u32 and a tree has fewer than 2 * rows nodes.
        if x.nrows() >= (u32::MAX / 2) as usize {
            return Err(Error::Shape(format!(
                "{} rows is too many for one forest",
                x.nrows()
            )));
        }
        let _span =
            tracing::debug_span!("fit", learner = "rf", rows = x.nrows(), trees = p.n_trees)
                .entered();
        let growth = Growth {
            max_depth: p.tree.max_depth,
            min_samples_split: p.tree.min_samples_split,
            min_samples_leaf: p.tree.min_samples_leaf,
            // scikit-learn's "sqrt": floor(sqrt(features)), at least 1.
            max_features: p
                .max_features
                .unwrap_or_else(|| ((x.ncols() as f64).sqrt().floor() as usize).max(1)),
            criterion: p.tree.criterion,
        };
        let bins = Bins::new(x.view());
        let trees = (0..u64::from(p.n_trees))
            .into_par_iter()
            .map(|i| {
                grow(
                    &bins,
                    &labels,
                    growth,
                    &mut seed.derive_index("tree", i).rng(),
                )
            })
            .collect();
        Ok(FittedForest {
            trees,
            cuts: bins.cuts().to_vec(),
        })
    }
}

impl FittedModel for FittedForest {
    /// Descends each tree on bin codes of `x` (not through the inference
    /// form's thresholds), so comparing the two checks the conversion.
    fn predict_native(&self, x: &Array2<f64>) -> Result<Array1<f64>> {
        check_x(x, self.cuts.len())?;
        let mut out = Array1::zeros(x.nrows());
        let mut codes = vec![0u8; self.cuts.len()];
        for (row, o) in x.rows().into_iter().zip(out.iter_mut()) {
            for ((c, cuts), &v) in codes.iter_mut().zip(&self.cuts).zip(row) {
                *c = code(cuts, v);
            }
            let mut sum = 0.0;
            for tree in &self.trees {
                let mut node = tree.first().ok_or_else(|| conversion("empty tree"))?;
                while node.left != mlops_core::model::LEAF {
                    let next = if codes[node.feature as usize] <= node.bin {
                        node.left
                    } else {
                        node.right
                    };
                    node = tree
                        .get(next as usize)
                        .ok_or_else(|| conversion("child out of range"))?;
                }
                sum += node.value;
            }
            *o = sum / self.trees.len() as f64;
        }
        Ok(out)
    }

    fn to_inference(&self) -> Result<InferenceModel> {
        let total: usize = self.trees.iter().map(Vec::len).sum();
        let mut nodes = Vec::with_capacity(total);
        let mut roots = Vec::with_capacity(self.trees.len());
        for tree in &self.trees {
            let offset = u32::try_from(nodes.len()).map_err(|_| conversion("too many nodes"))?;
            roots.push(offset);
            for node in tree {
                nodes.push(
                    node.to_tree_node(&self.cuts, offset)
                        .ok_or_else(|| conversion("node index or bin out of range"))?,
                );
            }
        }
        // A code is at most `bin` exactly when the value is at most the cut.
        Ok(InferenceModel::Trees(TreeEnsemble::new(
            self.cuts.len(),
            SplitRule::LessOrEqual,
            roots,
            nodes,
        )?))
    }
}

/// A fitted multiclass random forest: histogram trees whose leaves hold
/// class distributions, averaged over the trees.
#[derive(Debug)]
pub struct FittedClassForest {
    trees: Vec<ClassTree>,
    cuts: Vec<Vec<f64>>,
    n_classes: usize,
}

impl FittedClassForest {
    /// Number of trees.
    pub fn n_trees(&self) -> usize {
        self.trees.len()
    }

    /// Number of classes.
    pub fn n_classes(&self) -> usize {
        self.n_classes
    }
}

impl MulticlassLearner for ValidForestParams {
    type FittedMulti = FittedClassForest;

    /// Tree `i` is seeded from `seed.derive_index("tree", i)` as in the
    /// binary forest, so the result does not depend on the thread count.
    fn fit_multiclass(
        &self,
        x: &Array2<f64>,
        y: &Array1<f64>,
        n_classes: usize,
        seed: Seed,
    ) -> Result<FittedClassForest> {
        check_xy(x, y)?;
        if n_classes > usize::from(u8::MAX) {
            return Err(Error::InvalidTarget(format!(
                "{n_classes} classes; the forest supports at most 255"
            )));
        }
        let (labels, _) = class_labels(y, n_classes)?;
        let labels: Vec<u8> = labels.iter().map(|&c| c as u8).collect();
        let p = &self.0;
        if let Some(m) = p.max_features
            && m > x.ncols()
        {
            return Err(invalid(
                "max_features",
                format!("{m} exceeds the {} features", x.ncols()),
            ));
        }
        if x.nrows() >= (u32::MAX / 2) as usize {
            return Err(Error::Shape(format!(
                "{} rows is too many for one forest",
                x.nrows()
            )));
        }
        let _span = tracing::debug_span!(
            "fit",
            learner = "rf",
            classes = n_classes,
            rows = x.nrows(),
            trees = p.n_trees
        )
        .entered();
        let growth = Growth {
            max_depth: p.tree.max_depth,
            min_samples_split: p.tree.min_samples_split,
            min_samples_leaf: p.tree.min_samples_leaf,
            max_features: p
                .max_features
                .unwrap_or_else(|| ((x.ncols() as f64).sqrt().floor() as usize).max(1)),
            criterion: p.tree.criterion,
        };
        let bins = Bins::new(x.view());
        let trees = (0..u64::from(p.n_trees))
            .into_par_iter()
            .map(|i| {
                grow_classes(
                    &bins,
                    &labels,
                    n_classes,
                    growth,
                    &mut seed.derive_index("tree", i).rng(),
                )
            })
            .collect();
        Ok(FittedClassForest {
            trees,
            cuts: bins.cuts().to_vec(),
            n_classes,
        })
    }
}

impl FittedModel for FittedClassForest {
    /// A multiclass model has no single output: [`mlops_core::Error::OutputCount`].
    fn predict_native(&self, _x: &Array2<f64>) -> Result<Array1<f64>> {
        Err(Error::Core(mlops_core::Error::OutputCount {
            expected: self.n_classes,
            found: 1,
        }))
    }

    /// Mean leaf distribution over the trees, walking the binned trees.
    fn predict_proba_native(&self, x: &Array2<f64>) -> Result<Array2<f64>> {
        check_x(x, self.cuts.len())?;
        let k = self.n_classes;
        let mut out = Array2::zeros((x.nrows(), k));
        let mut codes = vec![0u8; self.cuts.len()];
        for (row, mut o) in x.rows().into_iter().zip(out.rows_mut()) {
            for ((c, cuts), &v) in codes.iter_mut().zip(&self.cuts).zip(row) {
                *c = code(cuts, v);
            }
            for tree in &self.trees {
                let mut node = tree.nodes.first().ok_or_else(|| conversion("empty tree"))?;
                while node.left != mlops_core::model::LEAF {
                    let next = if codes[node.feature as usize] <= node.bin {
                        node.left
                    } else {
                        node.right
                    };
                    node = tree
                        .nodes
                        .get(next as usize)
                        .ok_or_else(|| conversion("child out of range"))?;
                }
                let at = node.value as usize * k;
                let leaf = tree
                    .leaves
                    .get(at..at + k)
                    .ok_or_else(|| conversion("leaf out of range"))?;
                for (o, v) in o.iter_mut().zip(leaf) {
                    *o += v;
                }
            }
            o.mapv_inplace(|v| v / self.trees.len() as f64);
        }
        Ok(out)
    }

    fn to_inference(&self) -> Result<InferenceModel> {
        let total: usize = self.trees.iter().map(|t| t.nodes.len()).sum();
        let mut nodes = Vec::with_capacity(total);
        let mut roots = Vec::with_capacity(self.trees.len());
        let mut table = Vec::new();
        for tree in &self.trees {
            let offset = u32::try_from(nodes.len()).map_err(|_| conversion("too many nodes"))?;
            let leaf_offset = (table.len() / self.n_classes) as f64;
            roots.push(offset);
            for node in &tree.nodes {
                let mut converted = node
                    .to_tree_node(&self.cuts, offset)
                    .ok_or_else(|| conversion("node index or bin out of range"))?;
                if converted.is_leaf() {
                    converted.value += leaf_offset;
                }
                nodes.push(converted);
            }
            table.extend_from_slice(&tree.leaves);
        }
        let trees = TreeEnsemble::new(self.cuts.len(), SplitRule::LessOrEqual, roots, nodes)?;
        Ok(InferenceModel::ClassTrees(ClassTreeEnsemble::new(
            trees,
            self.n_classes,
            table,
        )?))
    }
}

fn conversion(reason: &str) -> Error {
    Error::Conversion {
        learner: "rf",
        reason: reason.into(),
    }
}
