//! Random forest classifier with two engines: by default histogram trees
//! (`histogram_tree.rs`) grown in parallel, or smartcore's own forest
//! (`smartcore_forest.rs`, [`ForestEngine::Smartcore`]).
//!
//! Histogram engine: tree `i` draws everything from
//! `seed.derive_index("tree", i)`, so it depends only on the data and its
//! index: the forest is the same whatever the thread count or scheduling,
//! and rayon grows trees on every core. Leaves hold the positive-class share
//! of their bootstrap weight and the forest averages them, as scikit-learn's
//! `predict_proba`.

use mlops_core::model::{ClassTreeEnsemble, InferenceModel, SplitRule, TreeEnsemble};
use mlops_core::seed::Seed;
use ndarray::{Array1, Array2};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use smartcore::ensemble::random_forest_classifier::RandomForestClassifierParameters;

use super::histogram_tree::{Bins, ClassTree, Growth, Node, code, grow, grow_classes};
use super::multinomial::class_labels;
use super::smartcore_forest::SmartcoreForest;
use super::smartcore_tree::smart_criterion;
use super::{
    FittedModel, Learner, MulticlassLearner, SplitCriterion, TreeParams, binary_labels, check_x,
    check_xy, no_single_output,
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
/// assert_eq!(params.engine(), ForestEngine::Histogram);
/// assert!(ForestParams::new().n_trees(0).check().is_err());
///
/// // smartcore's forest instead, which cannot grow 65535 levels.
/// let smartcore = ForestParams::new().engine(ForestEngine::Smartcore);
/// assert!(smartcore.clone().max_depth(Some(u16::MAX)).check().is_err());
/// assert_eq!(smartcore.check()?.engine(), ForestEngine::Smartcore);
/// # Ok::<(), mlops_train::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ForestParams {
    n_trees: u16,
    max_features: Option<usize>,
    /// Absent in configs written before engines existed: histogram.
    #[serde(default)]
    engine: ForestEngine,
    /// How each tree grows; validated by [`TreeParams::check`].
    #[serde(flatten)]
    tree: TreeParams,
}

/// Which implementation grows the forest.
///
/// Both seed every draw from the [`Seed`] given to `fit` and give the same
/// model whatever the thread count. `engine=smartcore` on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ForestEngine {
    /// Our histogram trees (at most 256 bins per feature), grown in
    /// parallel; leaves hold the positive share of their bootstrap weight
    /// (class distributions for k classes), averaged as scikit-learn's
    /// `predict_proba`. The fast default.
    #[default]
    Histogram,
    /// smartcore's `RandomForestClassifier`: exact thresholds, trees grown
    /// one after another from one seeded generator, bootstraps drawn per
    /// class. Leaves hold a class, so probabilities are vote shares (the
    /// majority vote is smartcore's prediction). Slower; for comparison.
    Smartcore,
}

/// Checked random forest hyper-parameters; implements [`Learner`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ValidForestParams(ForestParams);

impl Default for ForestParams {
    fn default() -> Self {
        ForestParams {
            n_trees: 100,
            max_features: None,
            engine: ForestEngine::Histogram,
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

    /// Maximum depth (`None` for unlimited), the root at depth 0 as in
    /// scikit-learn, for both engines.
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

    /// The engine that grows the trees (default [`ForestEngine::Histogram`]).
    pub fn engine(mut self, engine: ForestEngine) -> Self {
        self.engine = engine;
        self
    }

    /// Validates every parameter, including what the chosen engine can
    /// honour; the error names the bad one.
    pub fn check(self) -> Result<ValidForestParams> {
        if self.n_trees == 0 {
            return Err(invalid("n_trees", "must be at least 1"));
        }
        self.tree.clone().check()?;
        if self.max_features == Some(0) {
            return Err(invalid("max_features", "must be at least 1 (or None)"));
        }
        // smartcore counts the root as level 1 and stops at level u16::MAX,
        // so depth `d` is passed as `d + 1` and 65535 cannot be expressed.
        if self.engine == ForestEngine::Smartcore && self.tree.max_depth == Some(u16::MAX) {
            return Err(invalid(
                "max_depth",
                "the smartcore engine grows at most 65534 levels; use none for unlimited",
            ));
        }
        Ok(ValidForestParams(self))
    }
}

impl ValidForestParams {
    /// Number of trees.
    pub fn n_trees(&self) -> u16 {
        self.0.n_trees
    }

    /// The engine that grows the trees.
    pub fn engine(&self) -> ForestEngine {
        self.0.engine
    }

    /// Features drawn per split for `n_cols` features: the set value, or
    /// scikit-learn's "sqrt" (`floor(sqrt(n_cols))`, at least 1).
    fn max_features(&self, n_cols: usize) -> Result<usize> {
        match self.0.max_features {
            Some(m) if m > n_cols => Err(invalid(
                "max_features",
                format!("{m} exceeds the {n_cols} features"),
            )),
            Some(m) => Ok(m),
            None => Ok(((n_cols as f64).sqrt().floor() as usize).max(1)),
        }
    }

    /// How each histogram tree grows on `n_cols` features.
    fn growth(&self, n_cols: usize) -> Result<Growth> {
        let p = &self.0;
        Ok(Growth {
            max_depth: p.tree.max_depth,
            min_samples_split: p.tree.min_samples_split,
            min_samples_leaf: p.tree.min_samples_leaf,
            max_features: self.max_features(n_cols)?,
            criterion: p.tree.criterion,
        })
    }

    /// smartcore's parameters for `n_cols` features, its seed derived from
    /// `seed`.
    fn smartcore(&self, n_cols: usize, seed: Seed) -> Result<RandomForestClassifierParameters> {
        let p = &self.0;
        Ok(RandomForestClassifierParameters {
            criterion: smart_criterion(p.tree.criterion),
            // smartcore's root is level 1 and a node at level `d` is not
            // split; ours (scikit-learn's) root is depth 0. `check` keeps
            // `d + 1` in range.
            max_depth: p.tree.max_depth.map(|d| d.saturating_add(1)),
            min_samples_leaf: p.tree.min_samples_leaf,
            min_samples_split: p.tree.min_samples_split,
            n_trees: p.n_trees,
            m: Some(self.max_features(n_cols)?),
            keep_samples: false,
            seed: seed.derive("smartcore-forest").value(),
        })
    }
}

/// A fitted random forest: histogram trees whose leaf shares are averaged,
/// or a smartcore forest whose votes are.
#[derive(Debug, Clone)]
pub struct FittedForest(Fitted);

#[derive(Debug, Clone)]
enum Fitted {
    Histogram {
        /// Per tree, its nodes (children after parents, indices within the
        /// tree).
        trees: Vec<Vec<Node>>,
        /// The training bins' cut values per feature.
        cuts: Vec<Vec<f64>>,
    },
    Smartcore(SmartcoreForest),
}

impl FittedForest {
    /// Number of trees.
    pub fn n_trees(&self) -> usize {
        match &self.0 {
            Fitted::Histogram { trees, .. } => trees.len(),
            Fitted::Smartcore(f) => f.n_trees(),
        }
    }

    /// The smartcore forest, if that engine grew this one.
    #[cfg(test)]
    pub(super) fn smartcore(&self) -> Option<&SmartcoreForest> {
        match &self.0 {
            Fitted::Smartcore(f) => Some(f),
            Fitted::Histogram { .. } => None,
        }
    }
}

impl Learner for ValidForestParams {
    type Fitted = FittedForest;

    fn name(&self) -> &'static str {
        "rf"
    }

    fn fit(&self, x: &Array2<f64>, y: &Array1<f64>, seed: Seed) -> Result<FittedForest> {
        check_xy(x, y)?;
        let labels = binary_labels(y)?;
        let p = &self.0;
        if p.engine == ForestEngine::Smartcore {
            let _span = tracing::debug_span!(
                "fit",
                learner = "rf",
                engine = "smartcore",
                rows = x.nrows(),
                trees = p.n_trees
            )
            .entered();
            let labels: Vec<u32> = labels.iter().map(|&c| c as u32).collect();
            let params = self.smartcore(x.ncols(), seed)?;
            return Ok(FittedForest(Fitted::Smartcore(SmartcoreForest::fit(
                x, &labels, 2, params,
            )?)));
        }
        let labels: Vec<u8> = labels.iter().map(|&c| c as u8).collect();
        let growth = self.growth(x.ncols())?;
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
        Ok(FittedForest(Fitted::Histogram {
            trees,
            cuts: bins.cuts().to_vec(),
        }))
    }
}

impl FittedModel for FittedForest {
    /// Histogram engine: descends each tree on bin codes of `x` (not
    /// through the inference form's thresholds). smartcore engine: the
    /// positive vote share, each vote from smartcore's own tree. Either way
    /// comparing with the inference form checks the conversion.
    fn predict_native(&self, x: &Array2<f64>) -> Result<Array1<f64>> {
        match &self.0 {
            Fitted::Histogram { trees, cuts } => histogram_predict(trees, cuts, x),
            Fitted::Smartcore(f) => {
                check_x(x, f.n_features())?;
                f.positive_share(x)
            }
        }
    }

    fn to_inference(&self) -> Result<InferenceModel> {
        match &self.0 {
            Fitted::Histogram { trees, cuts } => histogram_inference(trees, cuts),
            Fitted::Smartcore(f) => Ok(InferenceModel::Trees(f.to_trees()?)),
        }
    }
}

/// Mean leaf share over the binned trees.
fn histogram_predict(
    trees: &[Vec<Node>],
    cuts: &[Vec<f64>],
    x: &Array2<f64>,
) -> Result<Array1<f64>> {
    check_x(x, cuts.len())?;
    let mut out = Array1::zeros(x.nrows());
    let mut codes = vec![0u8; cuts.len()];
    for (row, o) in x.rows().into_iter().zip(out.iter_mut()) {
        for ((c, feature_cuts), &v) in codes.iter_mut().zip(cuts).zip(row) {
            *c = code(feature_cuts, v);
        }
        let mut sum = 0.0;
        for tree in trees {
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
        *o = sum / trees.len() as f64;
    }
    Ok(out)
}

/// The binned trees with cut values as thresholds.
fn histogram_inference(trees: &[Vec<Node>], cuts: &[Vec<f64>]) -> Result<InferenceModel> {
    let total: usize = trees.iter().map(Vec::len).sum();
    let mut nodes = Vec::with_capacity(total);
    let mut roots = Vec::with_capacity(trees.len());
    for tree in trees {
        let offset = u32::try_from(nodes.len()).map_err(|_| conversion("too many nodes"))?;
        roots.push(offset);
        for node in tree {
            nodes.push(
                node.to_tree_node(cuts, offset)
                    .ok_or_else(|| conversion("node index or bin out of range"))?,
            );
        }
    }
    // A code is at most `bin` exactly when the value is at most the cut.
    Ok(InferenceModel::Trees(TreeEnsemble::new(
        cuts.len(),
        SplitRule::LessOrEqual,
        roots,
        nodes,
    )?))
}

/// A fitted multiclass random forest: histogram trees whose leaves hold
/// class distributions, or a smartcore forest whose votes are averaged
/// over the trees.
#[derive(Debug)]
pub struct FittedClassForest {
    fitted: FittedClasses,
    n_classes: usize,
}

#[derive(Debug)]
enum FittedClasses {
    Histogram {
        trees: Vec<ClassTree>,
        cuts: Vec<Vec<f64>>,
    },
    Smartcore(SmartcoreForest),
}

impl FittedClassForest {
    /// Number of trees.
    pub fn n_trees(&self) -> usize {
        match &self.fitted {
            FittedClasses::Histogram { trees, .. } => trees.len(),
            FittedClasses::Smartcore(f) => f.n_trees(),
        }
    }

    /// Number of classes.
    pub fn n_classes(&self) -> usize {
        self.n_classes
    }

    /// The smartcore forest, if that engine grew this one.
    #[cfg(test)]
    pub(super) fn smartcore(&self) -> Option<&SmartcoreForest> {
        match &self.fitted {
            FittedClasses::Smartcore(f) => Some(f),
            FittedClasses::Histogram { .. } => None,
        }
    }
}

impl MulticlassLearner for ValidForestParams {
    type FittedMulti = FittedClassForest;

    /// Histogram tree `i` is seeded from `seed.derive_index("tree", i)` as
    /// in the binary forest, so the result does not depend on the thread
    /// count; the smartcore engine grows its trees in turn.
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
        let p = &self.0;
        if p.engine == ForestEngine::Smartcore {
            let _span = tracing::debug_span!(
                "fit",
                learner = "rf",
                engine = "smartcore",
                classes = n_classes,
                rows = x.nrows(),
                trees = p.n_trees
            )
            .entered();
            let labels: Vec<u32> = labels.iter().map(|&c| c as u32).collect();
            let params = self.smartcore(x.ncols(), seed)?;
            let forest = SmartcoreForest::fit(x, &labels, n_classes, params)?;
            return Ok(FittedClassForest {
                fitted: FittedClasses::Smartcore(forest),
                n_classes,
            });
        }
        let labels: Vec<u8> = labels.iter().map(|&c| c as u8).collect();
        let growth = self.growth(x.ncols())?;
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
            fitted: FittedClasses::Histogram {
                trees,
                cuts: bins.cuts().to_vec(),
            },
            n_classes,
        })
    }
}

impl FittedModel for FittedClassForest {
    /// A multiclass model has no single output: [`mlops_core::Error::OutputCount`].
    fn predict_native(&self, _x: &Array2<f64>) -> Result<Array1<f64>> {
        Err(no_single_output(self.n_classes))
    }

    /// Histogram engine: mean leaf distribution over the binned trees.
    /// smartcore engine: vote share per class, each vote from smartcore's
    /// own tree.
    fn predict_proba_native(&self, x: &Array2<f64>) -> Result<Array2<f64>> {
        match &self.fitted {
            FittedClasses::Histogram { trees, cuts } => {
                histogram_predict_proba(trees, cuts, self.n_classes, x)
            }
            FittedClasses::Smartcore(f) => {
                check_x(x, f.n_features())?;
                f.vote_shares(x)
            }
        }
    }

    fn to_inference(&self) -> Result<InferenceModel> {
        match &self.fitted {
            FittedClasses::Histogram { trees, cuts } => {
                histogram_class_inference(trees, cuts, self.n_classes)
            }
            FittedClasses::Smartcore(f) => Ok(InferenceModel::ClassTrees(f.to_class_trees()?)),
        }
    }
}

/// Mean leaf distribution over the binned k-class trees.
fn histogram_predict_proba(
    trees: &[ClassTree],
    cuts: &[Vec<f64>],
    k: usize,
    x: &Array2<f64>,
) -> Result<Array2<f64>> {
    check_x(x, cuts.len())?;
    let mut out = Array2::zeros((x.nrows(), k));
    let mut codes = vec![0u8; cuts.len()];
    for (row, mut o) in x.rows().into_iter().zip(out.rows_mut()) {
        for ((c, feature_cuts), &v) in codes.iter_mut().zip(cuts).zip(row) {
            *c = code(feature_cuts, v);
        }
        for tree in trees {
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
        o.mapv_inplace(|v| v / trees.len() as f64);
    }
    Ok(out)
}

/// The binned k-class trees with cut values as thresholds; each tree's
/// leaves index its own rows of one shared distribution table.
fn histogram_class_inference(
    trees: &[ClassTree],
    cuts: &[Vec<f64>],
    k: usize,
) -> Result<InferenceModel> {
    let total: usize = trees.iter().map(|t| t.nodes.len()).sum();
    let mut nodes = Vec::with_capacity(total);
    let mut roots = Vec::with_capacity(trees.len());
    let mut table = Vec::new();
    for tree in trees {
        let offset = u32::try_from(nodes.len()).map_err(|_| conversion("too many nodes"))?;
        let leaf_offset = (table.len() / k) as f64;
        roots.push(offset);
        for node in &tree.nodes {
            let mut converted = node
                .to_tree_node(cuts, offset)
                .ok_or_else(|| conversion("node index or bin out of range"))?;
            if converted.is_leaf() {
                converted.value += leaf_offset;
            }
            nodes.push(converted);
        }
        table.extend_from_slice(&tree.leaves);
    }
    let trees = TreeEnsemble::new(cuts.len(), SplitRule::LessOrEqual, roots, nodes)?;
    Ok(InferenceModel::ClassTrees(ClassTreeEnsemble::new(
        trees, k, table,
    )?))
}

fn conversion(reason: &str) -> Error {
    Error::Conversion {
        learner: "rf",
        reason: reason.into(),
    }
}
