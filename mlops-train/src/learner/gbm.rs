//! Histogram gradient boosting (`gbm`): LightGBM's and scikit-learn's
//! `HistGradientBoosting` scheme on our own histogram trees.
//!
//! Features are binned once ([`Bins`], at most 256 bins per feature, the
//! random forest's binning); each round computes every training row's
//! gradient and hessian of the loss at the current margins and grows one
//! tree on them per output (`gbm/grow.rs`: best-first up to `max_leaves`,
//! or depth-wise to `max_depth`; leaves hold `-learning_rate * G / (H + l2)`).
//! Binary log loss (sigmoid), `k`-class softmax (one tree per class per
//! round) and squared error. The margins start at the loss's best constant
//! (log-odds, log class shares, mean).
//!
//! Randomness (row subsampling, column subsampling, the early-stopping
//! validation split) comes from the fit's seed: round `r` draws from
//! `seed.derive_index("gbm-round", r)`. Sums run in row order on one thread
//! per feature, so the model is byte-identical on any thread count.
//!
//! Early stopping holds out a seeded (stratified for classification) share
//! of the training rows, logs the train and validation loss of every round,
//! stops after `early_stopping_rounds` rounds without an improvement of the
//! validation loss and keeps the trees up to its best round.
//!
//! The inference form is [`BoostedTrees`]: the trees with bin cuts as
//! thresholds (`x <= cut` left), summed onto the base margin through the
//! link.

mod grow;

use mlops_core::model::{BoostedTrees, InferenceModel, LEAF, Link, SplitRule, TreeEnsemble};
use mlops_core::seed::Seed;
use ndarray::{Array1, Array2, ArrayView2};
use rand::seq::index::sample;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use self::grow::{Layout, RowCodes, TreeGrowth, grow_tree};
use super::histogram_tree::{Bins, Node, code};
use super::multinomial::class_labels;
use super::{
    FittedModel, Learner, MulticlassLearner, binary_labels, check_x, check_xy, no_single_output,
};
use crate::error::invalid;
use crate::split::{shuffle_split, stratified_split};
use crate::{Error, Result};

/// The loss a booster minimises.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GbmLoss {
    /// Binary log loss (0/1 targets, sigmoid output); with
    /// [`MulticlassLearner::fit_multiclass`], softmax cross-entropy.
    #[default]
    LogLoss,
    /// Squared error (regression, identity output).
    SquaredError,
}

/// Gradient boosting hyper-parameters (unchecked builder).
///
/// ```
/// use mlops_train::prelude::*;
///
/// let params = GbmParams::new().n_estimators(50).learning_rate(0.05).check()?;
/// assert_eq!(params.n_estimators(), 50);
/// assert!(GbmParams::new().learning_rate(0.0).check().is_err());
/// assert!(GbmParams::new().max_leaves(Some(1)).check().is_err());
/// # Ok::<(), mlops_train::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GbmParams {
    n_estimators: u32,
    learning_rate: f64,
    max_leaves: Option<u32>,
    max_depth: Option<u16>,
    min_samples_leaf: u32,
    l2: f64,
    min_hessian: f64,
    subsample: f64,
    colsample: f64,
    early_stopping_rounds: Option<u32>,
    validation_fraction: f64,
    loss: GbmLoss,
}

impl Default for GbmParams {
    fn default() -> Self {
        GbmParams {
            n_estimators: 200,
            learning_rate: 0.05,
            max_leaves: Some(15),
            max_depth: None,
            min_samples_leaf: 40,
            l2: 1.0,
            min_hessian: 1e-3,
            subsample: 1.0,
            colsample: 1.0,
            early_stopping_rounds: Some(20),
            validation_fraction: 0.1,
            loss: GbmLoss::LogLoss,
        }
    }
}

/// Checked gradient boosting hyper-parameters; implements [`Learner`] and
/// [`MulticlassLearner`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ValidGbmParams(GbmParams);

impl GbmParams {
    /// Defaults: 200 rounds at learning rate 0.05, 15 leaves, no depth
    /// limit, leaves of at least 40 rows, L2 1.0 on leaf values, no
    /// subsampling, early stopping after 20 rounds without improvement on
    /// a 10% validation share, log loss.
    pub fn new() -> Self {
        Self::default()
    }

    /// Boosting rounds (at most; early stopping may use fewer).
    pub fn n_estimators(mut self, n: u32) -> Self {
        self.n_estimators = n;
        self
    }

    /// Shrinkage of every leaf value, in `(0, 1]`.
    pub fn learning_rate(mut self, lr: f64) -> Self {
        self.learning_rate = lr;
        self
    }

    /// Largest number of leaves per tree (`None`: limited by depth only).
    pub fn max_leaves(mut self, n: Option<u32>) -> Self {
        self.max_leaves = n;
        self
    }

    /// Largest depth (root at 0; `None`: limited by leaves only).
    pub fn max_depth(mut self, d: Option<u16>) -> Self {
        self.max_depth = d;
        self
    }

    /// Fewest training rows in a leaf.
    pub fn min_samples_leaf(mut self, n: u32) -> Self {
        self.min_samples_leaf = n;
        self
    }

    /// L2 penalty on leaf values (`λ` in `-G / (H + λ)`).
    pub fn l2(mut self, l2: f64) -> Self {
        self.l2 = l2;
        self
    }

    /// Smallest hessian sum in a leaf.
    pub fn min_hessian(mut self, h: f64) -> Self {
        self.min_hessian = h;
        self
    }

    /// Share of the training rows each round draws (without replacement),
    /// in `(0, 1]`.
    pub fn subsample(mut self, share: f64) -> Self {
        self.subsample = share;
        self
    }

    /// Share of the features each tree may split on, in `(0, 1]`.
    pub fn colsample(mut self, share: f64) -> Self {
        self.colsample = share;
        self
    }

    /// Stop after this many rounds without a better validation loss
    /// (`None`: no validation split, every round is kept).
    pub fn early_stopping_rounds(mut self, n: Option<u32>) -> Self {
        self.early_stopping_rounds = n;
        self
    }

    /// Share of the training rows held out for early stopping, in
    /// `(0, 0.5]`.
    pub fn validation_fraction(mut self, f: f64) -> Self {
        self.validation_fraction = f;
        self
    }

    /// The loss.
    pub fn loss(mut self, loss: GbmLoss) -> Self {
        self.loss = loss;
        self
    }

    /// Validates every parameter; the error names the bad one.
    pub fn check(self) -> Result<ValidGbmParams> {
        let share = |v: f64| v > 0.0 && v <= 1.0;
        if self.n_estimators == 0 {
            return Err(invalid("n_estimators", "must be at least 1"));
        }
        if !share(self.learning_rate) {
            return Err(invalid("learning_rate", "must be in (0, 1]"));
        }
        if self.max_leaves.is_some_and(|n| n < 2) {
            return Err(invalid("max_leaves", "must be at least 2 (or none)"));
        }
        if self.max_leaves.is_none() && self.max_depth.is_none() {
            return Err(invalid(
                "max_leaves",
                "set max_leaves or max_depth (both none grows unbounded trees)",
            ));
        }
        if self.min_samples_leaf == 0 {
            return Err(invalid("min_samples_leaf", "must be at least 1"));
        }
        if !(self.l2.is_finite() && self.l2 >= 0.0) {
            return Err(invalid("l2", "must be finite and >= 0"));
        }
        if !(self.min_hessian.is_finite() && self.min_hessian >= 0.0) {
            return Err(invalid("min_hessian", "must be finite and >= 0"));
        }
        if !share(self.subsample) {
            return Err(invalid("subsample", "must be in (0, 1]"));
        }
        if !share(self.colsample) {
            return Err(invalid("colsample", "must be in (0, 1]"));
        }
        if self.early_stopping_rounds == Some(0) {
            return Err(invalid(
                "early_stopping_rounds",
                "must be at least 1 (or none)",
            ));
        }
        if !(self.validation_fraction > 0.0 && self.validation_fraction <= 0.5) {
            return Err(invalid("validation_fraction", "must be in (0, 0.5]"));
        }
        Ok(ValidGbmParams(self))
    }
}

impl ValidGbmParams {
    /// Boosting rounds (at most).
    pub fn n_estimators(&self) -> u32 {
        self.0.n_estimators
    }

    /// The loss.
    pub fn loss(&self) -> GbmLoss {
        self.0.loss
    }

    fn growth(&self) -> TreeGrowth {
        let p = &self.0;
        TreeGrowth {
            max_leaves: p.max_leaves,
            max_depth: p.max_depth,
            min_samples_leaf: p.min_samples_leaf,
            min_hessian: p.min_hessian,
            l2: p.l2,
            learning_rate: p.learning_rate,
        }
    }
}

/// Train and validation loss after one round.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RoundLoss {
    /// Mean loss over the rows the trees were fitted on.
    pub train: f64,
    /// Mean loss over the validation rows (with early stopping).
    pub valid: Option<f64>,
}

/// A fitted booster.
#[derive(Debug, Clone)]
pub struct FittedGbm {
    /// Tree `t` adds to output `t % k`.
    trees: Vec<Vec<Node>>,
    cuts: Vec<Vec<f64>>,
    base: Vec<f64>,
    link: Link,
    history: Vec<RoundLoss>,
    /// Per feature: summed split gain and split count.
    gain: Vec<f64>,
    count: Vec<u32>,
}

impl FittedGbm {
    /// Rounds kept (the best round with early stopping).
    pub fn n_rounds(&self) -> usize {
        self.trees.len() / self.base.len()
    }

    /// Train and validation loss of every round boosted (including rounds
    /// after the best one that early stopping dropped).
    pub fn history(&self) -> &[RoundLoss] {
        &self.history
    }

    /// Per feature, the summed loss reduction of the kept trees' splits on it.
    pub fn split_gain(&self) -> &[f64] {
        &self.gain
    }

    /// Per feature, how many splits of the kept trees test it.
    pub fn split_count(&self) -> &[u32] {
        &self.count
    }

    /// Margins of every row of `x`, walking the binned trees.
    fn margins(&self, x: &Array2<f64>) -> Result<Array2<f64>> {
        check_x(x, self.cuts.len())?;
        let k = self.base.len();
        let mut out = Array2::zeros((x.nrows(), k));
        let mut codes = vec![0u8; self.cuts.len()];
        for (row, mut o) in x.rows().into_iter().zip(out.rows_mut()) {
            for ((c, cuts), &v) in codes.iter_mut().zip(&self.cuts).zip(row) {
                *c = code(cuts, v);
            }
            let mut sums = vec![0.0; k];
            for (t, tree) in self.trees.iter().enumerate() {
                sums[t % k] += leaf_value(tree, |f| codes[f]);
            }
            for ((o, s), b) in o.iter_mut().zip(sums).zip(&self.base) {
                *o = b + s;
            }
        }
        Ok(out)
    }
}

/// The leaf value `tree` gives a row whose bin codes `code` returns.
fn leaf_value(tree: &[Node], code: impl Fn(usize) -> u8) -> f64 {
    let mut at = 0usize;
    // Children come after parents, so this ends within `tree.len()` steps.
    while let Some(n) = tree.get(at) {
        if n.left == LEAF {
            return n.value;
        }
        at = if code(n.feature as usize) <= n.bin {
            n.left
        } else {
            n.right
        } as usize;
    }
    0.0
}

impl FittedModel for FittedGbm {
    /// The binned trees walked on bin codes (not through the inference
    /// form's thresholds), so comparing the two checks the conversion.
    fn predict_native(&self, x: &Array2<f64>) -> Result<Array1<f64>> {
        if self.base.len() != 1 {
            return Err(no_single_output(self.base.len()));
        }
        let m = self.margins(x)?;
        Ok(m.column(0).mapv(|z| match self.link {
            Link::Logistic => sigmoid(z),
            _ => z,
        }))
    }

    fn predict_proba_native(&self, x: &Array2<f64>) -> Result<Array2<f64>> {
        if self.base.len() == 1 {
            let p = self.predict_native(x)?;
            let n = p.len();
            return p
                .into_shape_with_order((n, 1))
                .map_err(|e| Error::Shape(e.to_string()));
        }
        let mut m = self.margins(x)?;
        for mut row in m.rows_mut() {
            if let Some(r) = row.as_slice_mut() {
                softmax(r);
            }
        }
        Ok(m)
    }

    fn to_inference(&self) -> Result<InferenceModel> {
        let total: usize = self.trees.iter().map(Vec::len).sum();
        let mut nodes = Vec::with_capacity(total);
        let mut roots = Vec::with_capacity(self.trees.len());
        let conversion = |what: &str| Error::Conversion {
            learner: "gbm",
            reason: what.into(),
        };
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
        let trees = TreeEnsemble::new(self.cuts.len(), SplitRule::LessOrEqual, roots, nodes)?;
        Ok(InferenceModel::Boosted(BoostedTrees::new(
            trees,
            self.link,
            self.base.clone(),
        )?))
    }
}

fn sigmoid(z: f64) -> f64 {
    if z >= 0.0 {
        1.0 / (1.0 + (-z).exp())
    } else {
        let e = z.exp();
        e / (1.0 + e)
    }
}

fn softmax(z: &mut [f64]) {
    let max = z.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let mut sum = 0.0;
    for v in z.iter_mut() {
        *v = (*v - max).exp();
        sum += *v;
    }
    for v in z.iter_mut() {
        *v /= sum;
    }
}

/// The target as the booster sees it.
enum Target<'a> {
    Binary(&'a [u8]),
    Classes(&'a [usize], usize),
    Values(&'a [f64]),
}

impl Target<'_> {
    fn k(&self) -> usize {
        match self {
            Target::Classes(_, k) => *k,
            _ => 1,
        }
    }

    fn link(&self) -> Link {
        match self {
            Target::Binary(_) => Link::Logistic,
            Target::Classes(..) => Link::Softmax,
            Target::Values(_) => Link::Identity,
        }
    }

    /// The best constant margins over `rows`.
    fn base(&self, rows: &[usize]) -> Vec<f64> {
        let n = rows.len() as f64;
        match self {
            Target::Binary(y) => {
                let pos = rows.iter().filter(|&&r| y[r] == 1).count() as f64;
                let p = (pos / n).clamp(1e-15, 1.0 - 1e-15);
                vec![(p / (1.0 - p)).ln()]
            }
            Target::Classes(y, k) => {
                let mut counts = vec![0usize; *k];
                for &r in rows {
                    counts[y[r]] += 1;
                }
                counts
                    .iter()
                    .map(|&c| ((c as f64 / n).max(1e-15)).ln())
                    .collect()
            }
            Target::Values(y) => vec![rows.iter().map(|&r| y[r]).sum::<f64>() / n],
        }
    }

    /// Mean loss over `rows` at margins `f` (`k` per row, row-major over
    /// all rows).
    fn loss(&self, f: &[f64], rows: &[usize]) -> f64 {
        let mut sum = 0.0;
        match self {
            Target::Binary(y) => {
                for &r in rows {
                    let z = f[r];
                    // log(1 + e^z) - y z, stable
                    let softplus = z.max(0.0) + (-z.abs()).exp().ln_1p();
                    sum += softplus - f64::from(y[r]) * z;
                }
            }
            Target::Classes(y, k) => {
                for &r in rows {
                    let z = &f[r * k..(r + 1) * k];
                    let max = z.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                    let lse = max + z.iter().map(|v| (v - max).exp()).sum::<f64>().ln();
                    sum += lse - z[y[r]];
                }
            }
            Target::Values(y) => {
                for &r in rows {
                    let d = f[r] - y[r];
                    sum += d * d;
                }
            }
        }
        sum / rows.len() as f64
    }

    /// Gradient and hessian of output `c` for every row in `rows` into
    /// `gh` (indexed by row).
    fn gradients(&self, f: &[f64], rows: &[usize], c: usize, gh: &mut [[f64; 2]]) {
        match self {
            Target::Binary(y) => {
                for &r in rows {
                    let p = sigmoid(f[r]);
                    gh[r] = [p - f64::from(y[r]), (p * (1.0 - p)).max(1e-16)];
                }
            }
            Target::Classes(y, k) => {
                let mut z = vec![0.0; *k];
                for &r in rows {
                    z.copy_from_slice(&f[r * k..(r + 1) * k]);
                    softmax(&mut z);
                    let p = z[c];
                    let t = if y[r] == c { 1.0 } else { 0.0 };
                    gh[r] = [p - t, (p * (1.0 - p)).max(1e-16)];
                }
            }
            Target::Values(y) => {
                for &r in rows {
                    gh[r] = [f[r] - y[r], 1.0];
                }
            }
        }
    }
}

impl ValidGbmParams {
    /// The boosting loop on binned `x`, target `target`.
    fn boost(&self, x: ArrayView2<'_, f64>, target: &Target<'_>, seed: Seed) -> Result<FittedGbm> {
        let p = &self.0;
        let n = x.nrows();
        if n >= (u32::MAX / 2) as usize {
            return Err(Error::Shape(format!(
                "{n} rows is too many for one booster"
            )));
        }
        let k = target.k();
        let (train, valid): (Vec<usize>, Vec<usize>) = match p.early_stopping_rounds {
            None => ((0..n).collect(), Vec::new()),
            Some(_) => {
                let split_seed = seed.derive("gbm-validation");
                let s = match target {
                    Target::Binary(y) => {
                        let y: Vec<f64> = y.iter().map(|&v| f64::from(v)).collect();
                        stratified_split(&y, p.validation_fraction, split_seed)?
                    }
                    Target::Classes(y, _) => {
                        let y: Vec<f64> = y.iter().map(|&v| v as f64).collect();
                        stratified_split(&y, p.validation_fraction, split_seed)?
                    }
                    Target::Values(_) => shuffle_split(n, p.validation_fraction, split_seed)?,
                };
                (s.train, s.test)
            }
        };
        if train.is_empty() {
            return Err(Error::Shape(
                "no training rows left after the validation split".into(),
            ));
        }
        let _span = tracing::debug_span!(
            "fit",
            learner = "gbm",
            rows = train.len(),
            valid = valid.len(),
            rounds = p.n_estimators
        )
        .entered();
        // Cuts from the training rows only; every row (validation rows too)
        // coded with them, row-major.
        let cuts = Bins::new(x.select(ndarray::Axis(0), &train).view())
            .cuts()
            .to_vec();
        let n_features = x.ncols();
        let mut all_codes = vec![0u8; n * n_features];
        all_codes
            .par_chunks_mut(n_features)
            .zip(x.axis_iter(ndarray::Axis(0)).into_par_iter())
            .for_each(|(out, row)| {
                for ((o, c), &v) in out.iter_mut().zip(&cuts).zip(row) {
                    *o = code(c, v);
                }
            });
        let codes = RowCodes {
            codes: &all_codes,
            n_features,
        };
        let layout = Layout::new(&cuts);
        let growth = self.growth();
        let base = target.base(&train);
        // Margins of every row (train and valid), k per row.
        let mut f: Vec<f64> = (0..n).flat_map(|_| base.iter().copied()).collect();
        let mut gh = vec![[0.0f64; 2]; n];
        let mut trees: Vec<Vec<Node>> = Vec::new();
        let mut splits_per_round: Vec<Vec<(usize, f64)>> = Vec::new();
        let mut history = Vec::new();
        let (mut best_round, mut best_loss) = (0usize, f64::INFINITY);
        let n_sample = ((train.len() as f64 * p.subsample).round() as usize).clamp(1, train.len());
        let n_cols = ((n_features as f64 * p.colsample).round() as usize).clamp(1, n_features);
        let mut round_f = vec![0.0; n * k];
        for round in 0..p.n_estimators as usize {
            let mut rng = seed.derive_index("gbm-round", round as u64).rng();
            // Training rows (indices into `x`, increasing).
            let sampled: Vec<u32> = if n_sample == train.len() {
                train.iter().map(|&r| r as u32).collect()
            } else {
                let mut s: Vec<u32> = sample(&mut rng, train.len(), n_sample)
                    .into_iter()
                    .map(|i| train[i] as u32)
                    .collect();
                s.sort_unstable();
                s
            };
            let allowed: Vec<bool> = if n_cols == n_features {
                vec![true; n_features]
            } else {
                let mut a = vec![false; n_features];
                for i in sample(&mut rng, n_features, n_cols) {
                    a[i] = true;
                }
                a
            };
            // All classes' gradients come from the margins before this
            // round, as scikit-learn and LightGBM do.
            round_f.copy_from_slice(&f);
            let mut round_splits = Vec::new();
            for c in 0..k {
                target.gradients(&round_f, &train, c, &mut gh);
                let mut rows = sampled.clone();
                let grown = grow_tree(codes, &layout, &gh, &mut rows, &allowed, growth);
                // Margin updates: every row through the binned tree (rows
                // are independent, so this is the same on any thread count).
                f.par_chunks_mut(k).enumerate().for_each(|(r, fr)| {
                    let row = &all_codes[r * n_features..(r + 1) * n_features];
                    fr[c] += leaf_value(&grown.nodes, |f| row[f]);
                });
                round_splits.extend(grown.splits);
                trees.push(grown.nodes);
            }
            splits_per_round.push(round_splits);
            let train_loss = target.loss(&f, &train);
            let valid_loss = (!valid.is_empty()).then(|| target.loss(&f, &valid));
            history.push(RoundLoss {
                train: train_loss,
                valid: valid_loss,
            });
            if let (Some(v), Some(patience)) = (valid_loss, p.early_stopping_rounds) {
                // An improvement must beat the best by scikit-learn's tol.
                if round == 0 || v < best_loss - 1e-7 {
                    best_loss = v;
                    best_round = round;
                } else if round - best_round >= patience as usize {
                    break;
                }
            } else {
                best_round = round;
            }
        }
        trees.truncate((best_round + 1) * k);
        let mut gain = vec![0.0; n_features];
        let mut count = vec![0u32; n_features];
        for (feature, g) in splits_per_round.iter().take(best_round + 1).flatten() {
            gain[*feature] += g;
            count[*feature] += 1;
        }
        Ok(FittedGbm {
            trees,
            cuts,
            base,
            link: target.link(),
            history,
            gain,
            count,
        })
    }
}

impl Learner for ValidGbmParams {
    type Fitted = FittedGbm;

    fn name(&self) -> &'static str {
        "gbm"
    }

    fn fit(&self, x: &Array2<f64>, y: &Array1<f64>, seed: Seed) -> Result<FittedGbm> {
        check_xy(x, y)?;
        match self.0.loss {
            GbmLoss::LogLoss => {
                let labels: Vec<u8> = binary_labels(y)?.iter().map(|&c| c as u8).collect();
                self.boost(x.view(), &Target::Binary(&labels), seed)
            }
            GbmLoss::SquaredError => {
                let y = y.to_vec();
                self.boost(x.view(), &Target::Values(&y), seed)
            }
        }
    }
}

impl MulticlassLearner for ValidGbmParams {
    type FittedMulti = FittedGbm;

    fn fit_multiclass(
        &self,
        x: &Array2<f64>,
        y: &Array1<f64>,
        n_classes: usize,
        seed: Seed,
    ) -> Result<FittedGbm> {
        if self.0.loss != GbmLoss::LogLoss {
            return Err(invalid("loss", "multiclass targets need log_loss"));
        }
        check_xy(x, y)?;
        let (labels, _) = class_labels(y, n_classes)?;
        self.boost(x.view(), &Target::Classes(&labels, n_classes), seed)
    }
}
