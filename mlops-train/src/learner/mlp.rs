//! Multi-layer perceptron (burn, Flex CPU backend), behind the `burn` feature.
//!
//! Dense layers with ReLU, trained with Adam on mini-batches, for binary
//! classification (sigmoid output, log loss), multiclass classification
//! (`k` softmax outputs, cross-entropy; [`MulticlassLearner`]) or regression
//! (identity output, squared error). A seeded, stratified share of the
//! training rows is held out for validation; every epoch's train loss,
//! validation loss and validation ROC AUC (binary) or accuracy (multiclass)
//! are kept in [`FittedMlp::history`], and optional early stopping keeps the
//! weights of the best validation epoch.
//!
//! # Precision and reproducibility
//!
//! Training runs in f64 (burn's default is f32, so every tensor is created
//! with an explicit f64 dtype; the device defaults are left alone). The
//! converted [`DenseMlp`] then evaluates the very same f64 weights, so it
//! matches burn's own forward pass to rounding (well under 1e-9).
//!
//! Nothing draws from burn's random generator, which is process-global
//! (`Device::seed`): initial weights come from our [`Seed`] (uniform in
//! `±1/sqrt(fan_in)`, burn's and PyTorch's default for linear layers), epoch
//! shuffles too, and there is no dropout. The Flex backend is built without
//! its `rayon` feature, so every matrix product runs on the calling thread in
//! a fixed order. The same seed and data therefore give bit-identical weights
//! on a given CPU kind (the `gemm` crate picks its kernels by CPU features at
//! run time, so another instruction set may round differently), and MLPs can
//! be trained on several threads at once without a lock.

use burn::module::{Module, Param};
use burn::nn::Linear;
use burn::optim::{AdamConfig, GradientsParams};
use burn::tensor::activation::{log_sigmoid, log_softmax, relu, sigmoid, softmax};
use burn::tensor::{DType, Device, Tensor, TensorData};
use mlops_core::model::{DenseLayer, DenseMlp, InferenceModel, Link, MAX_HIDDEN_WIDTH, MAX_LAYERS};
use mlops_core::seed::Seed;
use ndarray::{Array1, Array2};
use rand::Rng;
use rand::seq::SliceRandom;
use serde::{Deserialize, Serialize};

use super::multinomial::class_labels;
use super::{
    ClassWeight, FittedModel, Learner, MulticlassLearner, binary_labels, check_x, check_xy,
    no_single_output,
};
use crate::error::invalid;
use crate::metrics::roc_auc;
use crate::split::{shuffle_split, stratified_split};
use crate::{Error, Result};

/// What the network predicts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum MlpTask {
    /// Targets 0/1; the output is the positive-class probability (log loss).
    #[default]
    Binary,
    /// Any finite targets; the output is the value (mean squared error).
    Regression,
    /// Class indices `0..k`; `k` softmax outputs are the class
    /// probabilities (cross-entropy). Only
    /// [`fit_multiclass`](MulticlassLearner::fit_multiclass) knows `k`, so
    /// [`Learner::fit`] refuses it; `fit_multiclass` trains this task when
    /// the parameters name `Binary` (the default) or `Multiclass`.
    Multiclass,
}

/// MLP hyper-parameters (unchecked builder).
///
/// ```
/// use mlops_train::learner::MlpParams;
///
/// let params = MlpParams::new().hidden(vec![32, 16]).epochs(20).check()?;
/// assert_eq!(params.hidden(), &[32, 16]);
/// assert!(MlpParams::new().learning_rate(0.0).check().is_err());
/// assert!(MlpParams::new().hidden(vec![0]).check().is_err());
/// # Ok::<(), mlops_train::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MlpParams {
    hidden: Vec<usize>,
    epochs: usize,
    learning_rate: f64,
    batch_size: usize,
    l2: f64,
    validation_fraction: f64,
    patience: Option<usize>,
    task: MlpTask,
    /// Absent from configs written before class weights existed.
    #[serde(default)]
    class_weight: ClassWeight,
}

/// Checked MLP hyper-parameters; implements [`Learner`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ValidMlpParams(MlpParams);

impl Default for MlpParams {
    fn default() -> Self {
        MlpParams {
            hidden: vec![32],
            epochs: 40,
            learning_rate: 1e-3,
            batch_size: 64,
            l2: 1e-4,
            validation_fraction: 0.1,
            patience: Some(5),
            task: MlpTask::Binary,
            class_weight: ClassWeight::None,
        }
    }
}

/// Most epochs a fit may ask for.
const MAX_EPOCHS: usize = 100_000;

impl MlpParams {
    /// Defaults: one hidden layer of 32 units, 40 epochs, Adam with learning
    /// rate 1e-3, batches of 64, `l2 = 1e-4`, 10% of the rows held out for
    /// validation, early stopping after 5 epochs without improvement, binary
    /// classification.
    pub fn new() -> Self {
        Self::default()
    }

    /// Hidden layer widths, input side first (empty: a linear model trained
    /// by gradient descent). Each is 1..=512; at most 15 hidden layers.
    pub fn hidden(mut self, widths: Vec<usize>) -> Self {
        self.hidden = widths;
        self
    }

    /// Maximum passes over the training rows.
    pub fn epochs(mut self, n: usize) -> Self {
        self.epochs = n;
        self
    }

    /// Adam's step size.
    pub fn learning_rate(mut self, lr: f64) -> Self {
        self.learning_rate = lr;
        self
    }

    /// Rows per gradient step (the last batch of an epoch may be smaller).
    pub fn batch_size(mut self, n: usize) -> Self {
        self.batch_size = n;
        self
    }

    /// L2 penalty on the weights (not the biases): each batch minimises
    /// `mean loss + l2 / 2 * sum(w^2)`.
    pub fn l2(mut self, alpha: f64) -> Self {
        self.l2 = alpha;
        self
    }

    /// Share of the training rows held out (stratified for binary targets)
    /// to compute validation metrics and stop early; in `(0, 0.5]`.
    pub fn validation_fraction(mut self, fraction: f64) -> Self {
        self.validation_fraction = fraction;
        self
    }

    /// Stop after this many epochs without a lower validation loss and keep
    /// the best epoch's weights; `None` trains every epoch and keeps the
    /// last weights.
    pub fn patience(mut self, epochs: Option<usize>) -> Self {
        self.patience = epochs;
        self
    }

    /// Binary classification, regression or multiclass classification.
    pub fn task(mut self, task: MlpTask) -> Self {
        self.task = task;
        self
    }

    /// Class weights of a classification task, applied to the training
    /// loss: each row's loss term is multiplied by its class's weight and a
    /// batch's loss is the weighted mean (scikit-learn's `class_weight`
    /// semantics, unlike the prior shift of the binary logistic regression).
    /// `Balanced` gives class `c` the weight `n / (k n_c)`; `Explicit` is the
    /// binary pair; `PerClass` needs one weight per class. The validation
    /// loss and metrics stay unweighted.
    pub fn class_weight(mut self, weight: ClassWeight) -> Self {
        self.class_weight = weight;
        self
    }

    /// Validates every parameter; the error names the bad one.
    pub fn check(self) -> Result<ValidMlpParams> {
        self.class_weight.validate()?;
        if self.task == MlpTask::Regression && self.class_weight != ClassWeight::None {
            return Err(invalid(
                "class_weight",
                "class weights need a classification task, not regression",
            ));
        }
        if self.hidden.len() >= MAX_LAYERS {
            return Err(invalid(
                "hidden",
                format!(
                    "{} hidden layers, at most {}",
                    self.hidden.len(),
                    MAX_LAYERS - 1
                ),
            ));
        }
        if let Some(w) = self
            .hidden
            .iter()
            .find(|&&w| w == 0 || w > MAX_HIDDEN_WIDTH)
        {
            return Err(invalid(
                "hidden",
                format!("layer widths must be in 1..={MAX_HIDDEN_WIDTH}, got {w}"),
            ));
        }
        if self.epochs == 0 || self.epochs > MAX_EPOCHS {
            return Err(invalid(
                "epochs",
                format!("must be in 1..={MAX_EPOCHS}, got {}", self.epochs),
            ));
        }
        if !(self.learning_rate.is_finite() && self.learning_rate > 0.0) {
            return Err(invalid(
                "learning_rate",
                format!("must be finite and > 0, got {}", self.learning_rate),
            ));
        }
        if self.batch_size == 0 {
            return Err(invalid("batch_size", "must be at least 1"));
        }
        if !(self.l2.is_finite() && self.l2 >= 0.0) {
            return Err(invalid(
                "l2",
                format!("must be finite and >= 0, got {}", self.l2),
            ));
        }
        if !(self.validation_fraction > 0.0 && self.validation_fraction <= 0.5) {
            return Err(invalid(
                "validation_fraction",
                format!("must be in (0, 0.5], got {}", self.validation_fraction),
            ));
        }
        if self.patience == Some(0) {
            return Err(invalid("patience", "must be at least 1 (or None)"));
        }
        Ok(ValidMlpParams(self))
    }
}

impl ValidMlpParams {
    /// Hidden layer widths.
    pub fn hidden(&self) -> &[usize] {
        &self.0.hidden
    }

    /// Maximum epochs.
    pub fn epochs(&self) -> usize {
        self.0.epochs
    }

    /// Adam's learning rate.
    pub fn learning_rate(&self) -> f64 {
        self.0.learning_rate
    }

    /// Rows per batch.
    pub fn batch_size(&self) -> usize {
        self.0.batch_size
    }

    /// L2 penalty on the weights.
    pub fn l2(&self) -> f64 {
        self.0.l2
    }

    /// Validation share.
    pub fn validation_fraction(&self) -> f64 {
        self.0.validation_fraction
    }

    /// Early-stopping patience.
    pub fn patience(&self) -> Option<usize> {
        self.0.patience
    }

    /// The task.
    pub fn task(&self) -> MlpTask {
        self.0.task
    }

    /// The class weights.
    pub fn class_weight(&self) -> &ClassWeight {
        &self.0.class_weight
    }
}

/// One epoch of training, as logged.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct EpochStats {
    /// 1-based epoch number.
    pub epoch: usize,
    /// Mean loss over the epoch's training batches (log loss or squared
    /// error, without the L2 term), weighted by batch size.
    pub train_loss: f64,
    /// Mean loss on the validation rows after the epoch.
    pub valid_loss: f64,
    /// Validation ROC AUC after the epoch (binary task only).
    pub valid_roc_auc: Option<f64>,
    /// Validation accuracy after the epoch (multiclass task only; the
    /// predicted class is the most probable, the lowest index on a tie).
    #[serde(default)]
    pub valid_accuracy: Option<f64>,
}

/// The burn network: `layers[..n-1]` with ReLU, `layers[n-1]` the output.
#[derive(Module, Debug)]
struct Net {
    layers: Vec<Linear>,
}

impl Net {
    /// Output-layer pre-activations, shape `[rows, outputs]`.
    fn forward(&self, x: Tensor<2>) -> Tensor<2> {
        let last = self.layers.len().saturating_sub(1);
        let mut h = x;
        for (i, layer) in self.layers.iter().enumerate() {
            h = layer.forward(h);
            if i < last {
                h = relu(h);
            }
        }
        h
    }

    /// Sum of squared weights (biases excluded); `None` only for a net
    /// without layers, which `fit` never builds.
    fn weight_norm2(&self) -> Option<Tensor<1>> {
        self.layers
            .iter()
            .map(|l| l.weight.val().powi_scalar(2).sum())
            .reduce(|a, b| a + b)
    }
}

/// An MLP fitted with burn.
#[derive(Debug)]
pub struct FittedMlp {
    net: Net,
    task: MlpTask,
    n_features: usize,
    /// Output units: 1, or the class count of a multiclass fit.
    n_outputs: usize,
    history: Vec<EpochStats>,
    best_epoch: usize,
}

impl FittedMlp {
    /// Per-epoch train loss, validation loss and validation ROC AUC, in
    /// order; the Trainer logs these as metric history.
    pub fn history(&self) -> &[EpochStats] {
        &self.history
    }

    /// The epoch whose weights the model holds (the best validation loss
    /// with early stopping, otherwise the last epoch).
    pub fn best_epoch(&self) -> usize {
        self.best_epoch
    }

    /// The task the network was trained for.
    pub fn task(&self) -> MlpTask {
        self.task
    }

    /// Outputs per row: 1, or the number of classes of a multiclass fit.
    pub fn n_outputs(&self) -> usize {
        self.n_outputs
    }
}

fn f64_tensor<const D: usize>(values: Vec<f64>, shape: [usize; D], device: &Device) -> Tensor<D> {
    Tensor::from_data(TensorData::new(values, shape), (device, DType::F64))
}

fn read_f64<const D: usize>(t: Tensor<D>, what: &str) -> Result<Vec<f64>> {
    t.into_data()
        .try_into_vec::<f64>()
        .map_err(|e| Error::Conversion {
            learner: "mlp",
            reason: format!("reading {what}: {e:?}"),
        })
}

/// Row-major copy of the selected rows of `x`.
fn gather(x: &[f64], n_cols: usize, rows: &[usize]) -> Vec<f64> {
    let mut out = Vec::with_capacity(rows.len() * n_cols);
    for &r in rows {
        out.extend_from_slice(&x[r * n_cols..(r + 1) * n_cols]);
    }
    out
}

/// A linear layer with seeded weights, uniform in `±1/sqrt(fan_in)`.
fn seeded_linear(n_in: usize, n_out: usize, rng: &mut impl Rng, device: &Device) -> Linear {
    let bound = 1.0 / (n_in as f64).sqrt();
    let mut draw =
        |n: usize| -> Vec<f64> { (0..n).map(|_| rng.gen_range(-bound..bound)).collect() };
    let weight = draw(n_in * n_out);
    let bias = draw(n_out);
    Linear {
        weight: Param::from_tensor(f64_tensor(weight, [n_in, n_out], device)),
        bias: Some(Param::from_tensor(f64_tensor(bias, [n_out], device))),
    }
}

/// Per-row loss summed in f64 from output pre-activations (`z` row-major,
/// one value per row, `k` for the multiclass task).
fn loss_sum(task: MlpTask, z: &[f64], y: &[f64]) -> f64 {
    match task {
        MlpTask::Multiclass => {
            let k = z.len() / y.len().max(1);
            z.chunks_exact(k.max(1))
                .zip(y)
                .map(|(z, &y)| {
                    // logsumexp(z) - z_y, shifted by the max so no exp overflows.
                    let max = z.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                    let sum: f64 = z.iter().map(|v| (v - max).exp()).sum();
                    max + sum.ln() - z.get(y as usize).copied().unwrap_or(f64::NAN)
                })
                .sum()
        }
        _ => z
            .iter()
            .zip(y)
            .map(|(&z, &y)| match task {
                MlpTask::Regression => (z - y) * (z - y),
                // softplus(z) - y z, written so neither tail overflows.
                _ => z.max(0.0) - y * z + (-z.abs()).exp().ln_1p(),
            })
            .sum(),
    }
}

/// Per-class loss weights for the task (`None`: unweighted); class counts
/// come from `ys` (class indices, already checked).
fn loss_weights(
    weight: &ClassWeight,
    task: MlpTask,
    n_outputs: usize,
    ys: &[f64],
) -> Result<Option<Vec<f64>>> {
    let k = match task {
        MlpTask::Binary => 2,
        MlpTask::Multiclass => n_outputs,
        MlpTask::Regression => return Ok(None),
    };
    Ok(match weight {
        ClassWeight::None => None,
        ClassWeight::Balanced => {
            let mut counts = vec![0usize; k];
            for &y in ys {
                if let Some(c) = counts.get_mut(y as usize) {
                    *c += 1;
                }
            }
            let n = ys.len() as f64;
            Some(
                counts
                    .iter()
                    .map(|&c| n / (k as f64 * c.max(1) as f64))
                    .collect(),
            )
        }
        ClassWeight::Explicit { negative, positive } if k == 2 => Some(vec![*negative, *positive]),
        ClassWeight::Explicit { .. } => {
            return Err(invalid(
                "class_weight",
                "explicit weights name a negative and a positive class; give one weight per class",
            ));
        }
        ClassWeight::PerClass(w) if w.len() == k => Some(w.clone()),
        ClassWeight::PerClass(w) => {
            return Err(Error::ClassWeightCount {
                classes: k,
                weights: w.len(),
            });
        }
    })
}

/// Share of rows whose largest output (the first on a tie) is the class in
/// `y`; `z` row-major with `k` values per row.
fn accuracy(z: &[f64], y: &[f64], k: usize) -> f64 {
    let hits = z
        .chunks_exact(k.max(1))
        .zip(y)
        .filter(|(z, y)| {
            let best = z
                .iter()
                .enumerate()
                .fold((0, f64::NEG_INFINITY), |(bi, bv), (i, &v)| {
                    if v > bv { (i, v) } else { (bi, bv) }
                })
                .0;
            best as f64 == **y
        })
        .count();
    hits as f64 / y.len().max(1) as f64
}

impl Learner for ValidMlpParams {
    type Fitted = FittedMlp;

    fn name(&self) -> &'static str {
        "mlp"
    }

    fn fit(&self, x: &Array2<f64>, y: &Array1<f64>, seed: Seed) -> Result<FittedMlp> {
        if self.0.task == MlpTask::Multiclass {
            return Err(invalid(
                "task",
                "a multiclass MLP needs the class count: fit it with fit_multiclass \
                 (the Trainer does for a multiclass target)",
            ));
        }
        self.train(x, y, self.0.task, 1, seed)
    }
}

impl MulticlassLearner for ValidMlpParams {
    type FittedMulti = FittedMlp;

    /// `n_classes` softmax outputs trained on cross-entropy, seeded and
    /// logged exactly as the binary fit (validation rows stratified by
    /// class, validation accuracy instead of ROC AUC). Parameters naming the
    /// regression task are refused.
    fn fit_multiclass(
        &self,
        x: &Array2<f64>,
        y: &Array1<f64>,
        n_classes: usize,
        seed: Seed,
    ) -> Result<FittedMlp> {
        if self.0.task == MlpTask::Regression {
            return Err(invalid(
                "task",
                "a regression MLP does not fit multiclass targets; use the binary or multiclass task",
            ));
        }
        self.train(x, y, MlpTask::Multiclass, n_classes, seed)
    }
}

impl ValidMlpParams {
    /// Trains for `task` with `n_outputs` output units (1, or the class
    /// count for [`MlpTask::Multiclass`]).
    fn train(
        &self,
        x: &Array2<f64>,
        y: &Array1<f64>,
        task: MlpTask,
        n_outputs: usize,
        seed: Seed,
    ) -> Result<FittedMlp> {
        check_xy(x, y)?;
        let p = &self.0;
        let ys = y.to_vec();
        let split = match task {
            MlpTask::Binary => {
                binary_labels(y)?;
                stratified_split(&ys, p.validation_fraction, seed.derive("mlp.validation"))?
            }
            MlpTask::Multiclass => {
                class_labels(y, n_outputs)?;
                stratified_split(&ys, p.validation_fraction, seed.derive("mlp.validation"))?
            }
            MlpTask::Regression => shuffle_split(
                ys.len(),
                p.validation_fraction,
                seed.derive("mlp.validation"),
            )?,
        };
        let class_weights = loss_weights(&p.class_weight, task, n_outputs, &ys)?;
        let n_cols = x.ncols();
        let _span = tracing::debug_span!(
            "fit",
            learner = "mlp",
            rows = x.nrows(),
            cols = n_cols,
            train = split.train.len(),
            valid = split.test.len()
        )
        .entered();

        let xs: Vec<f64> = x.iter().copied().collect(); // logical (row-major) order
        let device = Device::flex().autodiff();
        let mut rng = seed.derive("mlp.init").rng();
        let mut widths = vec![n_cols];
        widths.extend_from_slice(&p.hidden);
        widths.push(n_outputs);
        let layers = widths
            .windows(2)
            .map(|w| seeded_linear(w[0], w[1], &mut rng, &device))
            .collect();
        let mut net = Net { layers };
        let mut optim = AdamConfig::new().init();

        let valid_x = f64_tensor(
            gather(&xs, n_cols, &split.test),
            [split.test.len(), n_cols],
            &Device::flex(),
        );
        let valid_y: Vec<f64> = split.test.iter().map(|&i| ys[i]).collect();
        let mut order = split.train.clone();
        let mut history = Vec::with_capacity(p.epochs);
        let mut best: Option<(f64, usize, Net)> = None;

        for epoch in 1..=p.epochs {
            order.shuffle(&mut seed.derive_index("mlp.shuffle", epoch as u64).rng());
            let mut train_loss = 0.0;
            for batch in order.chunks(p.batch_size) {
                let bx = f64_tensor(gather(&xs, n_cols, batch), [batch.len(), n_cols], &device);
                let by = match task {
                    // One-hot rows: the cross-entropy picks each row's class.
                    // With class weights the one entry is the row's weight.
                    MlpTask::Multiclass => {
                        let mut onehot = vec![0.0; batch.len() * n_outputs];
                        for (r, &i) in batch.iter().enumerate() {
                            // `class_labels` checked ys[i] is an index below n_outputs.
                            let c = ys[i] as usize;
                            onehot[r * n_outputs + c] =
                                class_weights.as_ref().map_or(1.0, |w| w[c]);
                        }
                        f64_tensor(onehot, [batch.len(), n_outputs], &device)
                    }
                    _ => f64_tensor(
                        batch.iter().map(|&i| ys[i]).collect(),
                        [batch.len(), 1],
                        &device,
                    ),
                };
                let z = net.forward(bx);
                // Weighted: sum of weighted terms over the batch's total weight.
                let batch_weight = class_weights.as_ref().map(|w| {
                    let rows: Vec<f64> = batch.iter().map(|&i| w[ys[i] as usize]).collect();
                    let total: f64 = rows.iter().sum();
                    (rows, total)
                });
                let data_loss = match (task, batch_weight) {
                    (MlpTask::Binary, None) => {
                        let pos = log_sigmoid(z.clone()) * by.clone();
                        let neg = log_sigmoid(-z) * (-by + 1.0);
                        -(pos + neg).mean()
                    }
                    (MlpTask::Binary, Some((rows, total))) => {
                        let bw = f64_tensor(rows, [batch.len(), 1], &device);
                        let pos = log_sigmoid(z.clone()) * by.clone();
                        let neg = log_sigmoid(-z) * (-by + 1.0);
                        -((pos + neg) * bw).sum() * (1.0 / total)
                    }
                    (MlpTask::Multiclass, None) => -(log_softmax(z, 1) * by).sum_dim(1).mean(),
                    (MlpTask::Multiclass, Some((_, total))) => {
                        -(log_softmax(z, 1) * by).sum() * (1.0 / total)
                    }
                    (MlpTask::Regression, _) => (z - by).powi_scalar(2).mean(),
                };
                let loss = match net.weight_norm2() {
                    Some(n2) if p.l2 > 0.0 => data_loss.clone() + n2 * (p.l2 / 2.0),
                    _ => data_loss.clone(),
                };
                let grads = GradientsParams::from_grads(loss.backward(), &net);
                net = optim.step(p.learning_rate, net, grads);
                let batch_loss = read_f64(data_loss, "batch loss")?;
                train_loss += batch_loss.iter().sum::<f64>() * batch.len() as f64;
            }
            train_loss /= order.len() as f64;

            let z = read_f64(net.valid().forward(valid_x.clone()), "validation output")?;
            let valid_loss = loss_sum(task, &z, &valid_y) / valid_y.len() as f64;
            if !(train_loss.is_finite() && valid_loss.is_finite()) {
                return Err(Error::Training {
                    learner: "mlp",
                    epoch,
                    reason: format!(
                        "loss is not finite (train {train_loss}, validation {valid_loss}); \
                         lower the learning rate or scale the features"
                    ),
                });
            }
            let valid_roc_auc = match task {
                // Sigmoid is monotone: the AUC of the logits is the AUC of the probabilities.
                MlpTask::Binary => Some(roc_auc(&valid_y, &z)?),
                _ => None,
            };
            // Softmax is monotone too: the largest score is the most probable class.
            let valid_accuracy =
                (task == MlpTask::Multiclass).then(|| accuracy(&z, &valid_y, n_outputs));
            let stats = EpochStats {
                epoch,
                train_loss,
                valid_loss,
                valid_roc_auc,
                valid_accuracy,
            };
            tracing::debug!(
                epoch,
                train_loss,
                valid_loss,
                ?valid_roc_auc,
                ?valid_accuracy,
                "mlp epoch"
            );
            history.push(stats);

            let Some(patience) = p.patience else { continue };
            let improved = best.as_ref().is_none_or(|(l, _, _)| valid_loss < *l);
            if improved {
                best = Some((valid_loss, epoch, net.valid()));
            } else if best.as_ref().is_some_and(|(_, e, _)| epoch - e >= patience) {
                break;
            }
        }

        let (net, best_epoch) = match best {
            Some((_, epoch, net)) => (net, epoch),
            None => (net.valid(), history.len()),
        };
        Ok(FittedMlp {
            net,
            task,
            n_features: n_cols,
            n_outputs,
            history,
            best_epoch,
        })
    }
}

impl FittedMlp {
    /// burn's forward pass on `x` through the output activation (sigmoid,
    /// identity or softmax), row-major `rows x n_outputs`.
    fn forward_native(&self, x: &Array2<f64>) -> Result<Vec<f64>> {
        check_x(x, self.n_features)?;
        let input = f64_tensor(
            x.iter().copied().collect(),
            [x.nrows(), x.ncols()],
            &Device::flex(),
        );
        let z = self.net.forward(input);
        let out = match self.task {
            MlpTask::Binary => sigmoid(z),
            MlpTask::Multiclass => softmax(z, 1),
            MlpTask::Regression => z,
        };
        read_f64(out, "prediction")
    }
}

impl FittedModel for FittedMlp {
    /// burn's own forward pass (f64), through the sigmoid for the binary
    /// task. A multiclass fit has no single output:
    /// [`mlops_core::Error::OutputCount`].
    fn predict_native(&self, x: &Array2<f64>) -> Result<Array1<f64>> {
        if self.n_outputs != 1 {
            return Err(no_single_output(self.n_outputs));
        }
        Ok(Array1::from(self.forward_native(x)?))
    }

    /// burn's own forward pass, every output: the class probabilities
    /// (burn's softmax) of a multiclass fit.
    fn predict_proba_native(&self, x: &Array2<f64>) -> Result<Array2<f64>> {
        let out = self.forward_native(x)?;
        Array2::from_shape_vec((x.nrows(), self.n_outputs), out)
            .map_err(|e| Error::Shape(e.to_string()))
    }

    fn to_inference(&self) -> Result<InferenceModel> {
        let mut layers = Vec::with_capacity(self.net.layers.len());
        for (i, layer) in self.net.layers.iter().enumerate() {
            let [n_in, n_out] = layer.weight.val().dims();
            // burn stores [n_in, n_out]; DenseLayer wants one row per output unit.
            let w = read_f64(layer.weight.val(), "weights")?;
            let mut weights = vec![0.0; n_in * n_out];
            for r in 0..n_in {
                for c in 0..n_out {
                    weights[c * n_in + r] = w[r * n_out + c];
                }
            }
            let biases = match &layer.bias {
                Some(b) => read_f64(b.val(), "biases")?,
                None => vec![0.0; n_out],
            };
            layers.push(DenseLayer::new(n_in, n_out, weights, biases).map_err(|e| {
                Error::Conversion {
                    learner: "mlp",
                    reason: format!("layer {i}: {e}"),
                }
            })?);
        }
        let link = match self.task {
            MlpTask::Binary => Link::Logistic,
            MlpTask::Multiclass => Link::Softmax,
            MlpTask::Regression => Link::Identity,
        };
        Ok(InferenceModel::Mlp(DenseMlp::new(layers, link)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn params_are_checked() {
        assert!(MlpParams::new().check().is_ok());
        assert!(MlpParams::new().hidden(vec![]).check().is_ok());
        for bad in [
            MlpParams::new().hidden(vec![0]),
            MlpParams::new().hidden(vec![513]),
            MlpParams::new().hidden(vec![4; 16]),
            MlpParams::new().epochs(0),
            MlpParams::new().learning_rate(f64::NAN),
            MlpParams::new().learning_rate(-1.0),
            MlpParams::new().batch_size(0),
            MlpParams::new().l2(-0.1),
            MlpParams::new().validation_fraction(0.0),
            MlpParams::new().validation_fraction(0.6),
            MlpParams::new().patience(Some(0)),
            MlpParams::new().class_weight(ClassWeight::PerClass(vec![1.0, 0.0])),
            MlpParams::new().class_weight(ClassWeight::PerClass(vec![1.0])),
            MlpParams::new()
                .task(MlpTask::Regression)
                .class_weight(ClassWeight::Balanced),
        ] {
            assert!(
                matches!(bad.clone().check(), Err(Error::InvalidParameter { .. })),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn loss_sum_is_stable() {
        // Large logits neither overflow nor lose the right answer.
        let l = loss_sum(MlpTask::Binary, &[800.0, -800.0], &[1.0, 0.0]);
        assert!(l.abs() < 1e-300, "{l}");
        let l = loss_sum(MlpTask::Binary, &[-800.0], &[1.0]);
        assert!((l - 800.0).abs() < 1e-9, "{l}");
        let l = loss_sum(MlpTask::Binary, &[0.0], &[1.0]);
        assert!((l - 2f64.ln()).abs() < 1e-15);
        assert_eq!(loss_sum(MlpTask::Regression, &[1.0, 3.0], &[0.0, 1.0]), 5.0);
        // Multiclass: logsumexp(z) - z_y per row, stable at large scores.
        let l = loss_sum(MlpTask::Multiclass, &[0.0, 0.0, 0.0], &[2.0]);
        assert!((l - 3f64.ln()).abs() < 1e-15);
        let l = loss_sum(
            MlpTask::Multiclass,
            &[900.0, -900.0, 0.0, 0.0, 0.0, 800.0],
            &[0.0, 0.0],
        );
        assert!((l - 800.0).abs() < 1e-9, "{l}");
    }

    #[test]
    fn accuracy_takes_the_first_largest() {
        let z = [0.1, 0.9, 0.0, 0.5, 0.5, 0.0, 0.0, 0.0, 2.0];
        assert_eq!(accuracy(&z, &[1.0, 0.0, 2.0], 3), 1.0);
        assert_eq!(accuracy(&z, &[1.0, 1.0, 0.0], 3), 1.0 / 3.0);
    }
}
