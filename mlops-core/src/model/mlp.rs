//! Dense multi-layer perceptrons: affine layers with ReLU between them.
//!
//! Prediction allocates nothing: hidden activations live in two fixed stack
//! buffers of [`MAX_HIDDEN_WIDTH`] values each (8 KiB in all), which is why a
//! hidden layer may be at most that wide. The input layer reads the caller's
//! row directly and the output layer writes one unit (a logistic or identity
//! output) or the caller's `k` class probabilities (a softmax output), so
//! neither needs a buffer.

use serde::{Deserialize, Serialize};

use super::Link;
use super::linear::sigmoid;
use super::softmax::softmax_in_place;
use crate::{Error, Result};

/// Widest hidden layer a [`DenseMlp`] may have (the size of each of the two
/// stack buffers prediction uses).
pub const MAX_HIDDEN_WIDTH: usize = 512;

/// Most layers (hidden layers plus the output layer) a [`DenseMlp`] may have.
pub const MAX_LAYERS: usize = 16;

/// Most weights and biases a [`DenseMlp`] may hold in all (16 Mi, 128 MiB),
/// so a hostile payload cannot describe an absurd model.
pub const MAX_PARAMETERS: usize = 1 << 24;

fn bad(reason: String) -> Error {
    Error::InvalidModel {
        model: "dense mlp",
        reason,
    }
}

/// One affine layer: `out[o] = biases[o] + sum_i weights[o * n_inputs + i] * in[i]`.
///
/// Weights are row-major with one row per output unit, so each unit's
/// weights are contiguous.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DenseLayer {
    n_inputs: usize,
    n_outputs: usize,
    weights: Vec<f64>,
    biases: Vec<f64>,
}

/// The unchecked wire form; deserialization goes through [`DenseLayer::new`].
#[derive(Deserialize)]
struct RawDenseLayer {
    n_inputs: usize,
    n_outputs: usize,
    weights: Vec<f64>,
    biases: Vec<f64>,
}

impl<'de> Deserialize<'de> for DenseLayer {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let raw = RawDenseLayer::deserialize(d)?;
        DenseLayer::new(raw.n_inputs, raw.n_outputs, raw.weights, raw.biases)
            .map_err(serde::de::Error::custom)
    }
}

impl DenseLayer {
    /// A validated layer: both sizes at least 1, `weights.len() ==
    /// n_outputs * n_inputs`, `biases.len() == n_outputs`, every value finite.
    pub fn new(
        n_inputs: usize,
        n_outputs: usize,
        weights: Vec<f64>,
        biases: Vec<f64>,
    ) -> Result<Self> {
        if n_inputs == 0 || n_outputs == 0 {
            return Err(bad(format!(
                "layer of {n_inputs} inputs and {n_outputs} outputs is empty"
            )));
        }
        let expected = n_inputs
            .checked_mul(n_outputs)
            .filter(|&n| n <= MAX_PARAMETERS)
            .ok_or_else(|| {
                bad(format!(
                    "layer of {n_inputs}x{n_outputs} weights is too large (at most {MAX_PARAMETERS})"
                ))
            })?;
        if weights.len() != expected {
            return Err(bad(format!(
                "layer of {n_inputs} inputs and {n_outputs} outputs needs {expected} weights, got {}",
                weights.len()
            )));
        }
        if biases.len() != n_outputs {
            return Err(bad(format!(
                "layer of {n_outputs} outputs needs {n_outputs} biases, got {}",
                biases.len()
            )));
        }
        if let Some(i) = weights.iter().position(|w| !w.is_finite()) {
            return Err(bad(format!(
                "weight [{}, {}] is {}",
                i / n_inputs,
                i % n_inputs,
                weights[i]
            )));
        }
        if let Some(i) = biases.iter().position(|b| !b.is_finite()) {
            return Err(bad(format!("bias {i} is {}", biases[i])));
        }
        Ok(DenseLayer {
            n_inputs,
            n_outputs,
            weights,
            biases,
        })
    }

    /// Number of inputs.
    pub fn n_inputs(&self) -> usize {
        self.n_inputs
    }

    /// Number of output units.
    pub fn n_outputs(&self) -> usize {
        self.n_outputs
    }

    /// Weights, row-major `[n_outputs][n_inputs]`.
    pub fn weights(&self) -> &[f64] {
        &self.weights
    }

    /// One bias per output unit.
    pub fn biases(&self) -> &[f64] {
        &self.biases
    }

    /// The pre-activation of unit `o`; `input.len() == n_inputs` and
    /// `o < n_outputs` hold by construction at every call site.
    fn unit(&self, input: &[f64], o: usize) -> f64 {
        let row = &self.weights[o * self.n_inputs..(o + 1) * self.n_inputs];
        row.iter()
            .zip(input)
            .fold(self.biases[o], |acc, (w, x)| acc + w * x)
    }
}

/// A dense MLP in inference form: hidden layers with ReLU, then an output
/// layer through a [`Link`]: one unit through the logistic (a binary
/// classifier's positive-class probability) or the identity (regression),
/// or `k >= 2` units through [`Link::Softmax`] (a multiclass classifier's
/// class probabilities, read with
/// [`predict_proba_into`](Self::predict_proba_into)).
///
/// Built with [`DenseMlp::new`] or deserialized; both paths validate shapes
/// and values, so prediction on a value of this type cannot panic.
///
/// ```
/// use mlops_core::model::{DenseLayer, DenseMlp, Link};
///
/// // 2 inputs -> 2 ReLU units -> 1 output
/// let hidden = DenseLayer::new(2, 2, vec![1.0, 0.0, 0.0, -1.0], vec![0.0, 0.0])?;
/// let output = DenseLayer::new(2, 1, vec![1.0, 1.0], vec![0.5])?;
/// let mlp = DenseMlp::new(vec![hidden, output], Link::Identity)?;
/// // relu(3) + relu(-2) + 0.5
/// assert_eq!(mlp.predict_row(&[3.0, 2.0])?, 3.5);
///
/// // The same hidden layer feeding 3 softmax units: class probabilities.
/// let hidden = DenseLayer::new(2, 2, vec![1.0, 0.0, 0.0, -1.0], vec![0.0, 0.0])?;
/// let output = DenseLayer::new(2, 3, vec![1.0, 0.0, 0.0, 1.0, 0.0, 0.0], vec![0.0; 3])?;
/// let mlp = DenseMlp::new(vec![hidden, output], Link::Softmax)?;
/// let mut p = [0.0; 3];
/// mlp.predict_proba_into(&[3.0, 2.0], &mut p)?;
/// assert!((p.iter().sum::<f64>() - 1.0).abs() < 1e-12);
/// assert!(p[0] > p[1] && p[1] == p[2]);
/// # Ok::<(), mlops_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DenseMlp {
    layers: Vec<DenseLayer>,
    output: Link,
}

/// The unchecked wire form; deserialization goes through [`DenseMlp::new`].
#[derive(Deserialize)]
struct RawDenseMlp {
    layers: Vec<DenseLayer>,
    output: Link,
}

impl<'de> Deserialize<'de> for DenseMlp {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let raw = RawDenseMlp::deserialize(d)?;
        DenseMlp::new(raw.layers, raw.output).map_err(serde::de::Error::custom)
    }
}

impl DenseMlp {
    /// A validated MLP: 1 to [`MAX_LAYERS`] layers, each layer's inputs
    /// equal to the previous layer's outputs, hidden layers at most
    /// [`MAX_HIDDEN_WIDTH`] wide, a last layer with exactly one output
    /// (logistic or identity) or at least two ([`Link::Softmax`]), at most
    /// [`MAX_PARAMETERS`] parameters. One layer alone is a linear model.
    pub fn new(layers: Vec<DenseLayer>, output: Link) -> Result<Self> {
        let Some(last) = layers.last() else {
            return Err(bad("no layers".into()));
        };
        if layers.len() > MAX_LAYERS {
            return Err(bad(format!(
                "{} layers is too many (at most {MAX_LAYERS})",
                layers.len()
            )));
        }
        match output {
            Link::Softmax if last.n_outputs < 2 => {
                return Err(bad(format!(
                    "a softmax output layer has {} units, expected at least 2 (one per class)",
                    last.n_outputs
                )));
            }
            Link::Identity | Link::Logistic if last.n_outputs != 1 => {
                return Err(bad(format!(
                    "the output layer has {} units, expected 1 (a softmax output has one per class)",
                    last.n_outputs
                )));
            }
            _ => {}
        }
        for (i, pair) in layers.windows(2).enumerate() {
            if pair[0].n_outputs != pair[1].n_inputs {
                return Err(bad(format!(
                    "layer {i} has {} outputs but layer {} expects {} inputs",
                    pair[0].n_outputs,
                    i + 1,
                    pair[1].n_inputs
                )));
            }
            if pair[0].n_outputs > MAX_HIDDEN_WIDTH {
                return Err(bad(format!(
                    "hidden layer {i} has {} units (at most {MAX_HIDDEN_WIDTH})",
                    pair[0].n_outputs
                )));
            }
        }
        let n_params: usize = layers
            .iter()
            .map(|l| l.weights.len() + l.biases.len())
            .sum();
        if n_params > MAX_PARAMETERS {
            return Err(bad(format!(
                "{n_params} parameters is too many (at most {MAX_PARAMETERS})"
            )));
        }
        Ok(DenseMlp { layers, output })
    }

    /// Number of input features.
    pub fn n_features(&self) -> usize {
        self.layers[0].n_inputs
    }

    /// The layers, input side first; the last one is the output layer.
    pub fn layers(&self) -> &[DenseLayer] {
        &self.layers
    }

    /// The output link.
    pub fn output(&self) -> Link {
        self.output
    }

    /// Outputs per row: 1, or the number of classes of a softmax output.
    pub fn n_outputs(&self) -> usize {
        self.layers.last().map_or(1, |l| l.n_outputs)
    }

    /// The prediction for one row: the positive-class probability for
    /// [`Link::Logistic`], the value for [`Link::Identity`]. A softmax
    /// output has no single prediction: [`Error::OutputCount`] (use
    /// [`predict_proba_into`](Self::predict_proba_into)).
    pub fn predict_row(&self, row: &[f64]) -> Result<f64> {
        if self.output == Link::Softmax {
            return Err(Error::OutputCount {
                expected: self.n_outputs(),
                found: 1,
            });
        }
        super::check_row(row, self.n_features(), 0)?;
        Ok(self.predict_checked(row))
    }

    /// Every output for one row into `out`, which must hold
    /// [`n_outputs`](Self::n_outputs) values: the class probabilities of a
    /// softmax output (summing to 1), otherwise the one prediction.
    pub fn predict_proba_into(&self, row: &[f64], out: &mut [f64]) -> Result<()> {
        super::check_row(row, self.n_features(), 0)?;
        super::check_out(out, self.n_outputs())?;
        self.predict_into_checked(row, out);
        Ok(())
    }

    /// Prediction for a row already checked for length and finiteness
    /// (single-output networks; NaN for a softmax output, which callers
    /// route to [`predict_into_checked`](Self::predict_into_checked)).
    pub(crate) fn predict_checked(&self, row: &[f64]) -> f64 {
        let mut buf = [0.0f64; 2 * MAX_HIDDEN_WIDTH];
        let (last, input) = self.hidden_pass(row, &mut buf);
        let z = last.unit(input, 0);
        match self.output {
            Link::Identity => z,
            Link::Logistic => sigmoid(z),
            Link::Softmax => f64::NAN,
        }
    }

    /// Every output for a row and an `out` of
    /// [`n_outputs`](Self::n_outputs) values, both already checked. The
    /// softmax subtracts the largest score before exponentiating, so no
    /// score overflows.
    pub(crate) fn predict_into_checked(&self, row: &[f64], out: &mut [f64]) {
        if self.output != Link::Softmax {
            if let Some(o) = out.first_mut() {
                *o = self.predict_checked(row);
            }
            return;
        }
        let mut buf = [0.0f64; 2 * MAX_HIDDEN_WIDTH];
        let (last, input) = self.hidden_pass(row, &mut buf);
        for (o, v) in out.iter_mut().enumerate() {
            *v = last.unit(input, o);
        }
        softmax_in_place(out);
    }

    /// Runs the hidden layers on a checked row; returns the output layer and
    /// its input (the row itself for a one-layer network). Allocation-free:
    /// hidden activations ping-pong between the two halves of `buf`, which
    /// `new` guarantees are wide enough.
    fn hidden_pass<'a>(
        &'a self,
        row: &'a [f64],
        buf: &'a mut [f64; 2 * MAX_HIDDEN_WIDTH],
    ) -> (&'a DenseLayer, &'a [f64]) {
        // Hidden layer i writes the first half when i is even, the second
        // when odd, and reads what layer i - 1 wrote (layer 0 reads `row`).
        let last = self.layers.len().saturating_sub(1);
        let mut width = 0;
        for (i, layer) in self.layers[..last].iter().enumerate() {
            let (even, odd) = buf.split_at_mut(MAX_HIDDEN_WIDTH);
            let (src, dst) = if i % 2 == 0 { (odd, even) } else { (even, odd) };
            let input: &[f64] = if i == 0 { row } else { &src[..width] };
            for (o, v) in dst[..layer.n_outputs].iter_mut().enumerate() {
                *v = layer.unit(input, o).max(0.0);
            }
            width = layer.n_outputs;
        }
        let input: &[f64] = match last {
            0 => row,
            l if (l - 1) % 2 == 0 => &buf[..width],
            _ => &buf[MAX_HIDDEN_WIDTH..MAX_HIDDEN_WIDTH + width],
        };
        (&self.layers[last], input)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 3 inputs -> 4 -> 2 -> 1, weights chosen by hand.
    fn three_layers(output: Link) -> DenseMlp {
        let l1 = DenseLayer::new(
            3,
            4,
            vec![
                0.5, -1.0, 0.25, //
                1.0, 1.0, 1.0, //
                -0.5, 0.0, 2.0, //
                0.0, 0.0, 0.0,
            ],
            vec![0.1, -0.2, 0.0, 0.3],
        )
        .expect("l1");
        let l2 = DenseLayer::new(
            4,
            2,
            vec![1.0, -1.0, 0.5, 2.0, 0.0, 1.0, 1.0, -1.0],
            vec![0.0, 0.5],
        )
        .expect("l2");
        let l3 = DenseLayer::new(2, 1, vec![0.75, -0.25], vec![-0.1]).expect("l3");
        DenseMlp::new(vec![l1, l2, l3], output).expect("valid")
    }

    /// The same network written out longhand.
    fn by_hand(x: [f64; 3]) -> f64 {
        let relu = |v: f64| v.max(0.0);
        let h1 = [
            relu(0.1 + 0.5 * x[0] - 1.0 * x[1] + 0.25 * x[2]),
            relu(-0.2 + x[0] + x[1] + x[2]),
            relu(-0.5 * x[0] + 2.0 * x[2]),
            relu(0.3),
        ];
        let h2 = [
            relu(h1[0] - h1[1] + 0.5 * h1[2] + 2.0 * h1[3]),
            relu(0.5 + h1[1] + h1[2] - h1[3]),
        ];
        -0.1 + 0.75 * h2[0] - 0.25 * h2[1]
    }

    #[test]
    fn matches_longhand_forward_pass() {
        let id = three_layers(Link::Identity);
        let lg = three_layers(Link::Logistic);
        assert_eq!(id.n_features(), 3);
        for x in [
            [0.0, 0.0, 0.0],
            [1.0, -2.0, 0.5],
            [-3.0, 1.5, 2.0],
            [10.0, 10.0, -10.0],
        ] {
            let z = by_hand(x);
            assert!((id.predict_row(&x).expect("ok") - z).abs() < 1e-12);
            let p = 1.0 / (1.0 + (-z).exp());
            assert!((lg.predict_row(&x).expect("ok") - p).abs() < 1e-12);
        }
    }

    /// `three_layers` with its output layer widened to 3 softmax units.
    fn three_classes() -> DenseMlp {
        let mut layers = three_layers(Link::Identity).layers().to_vec();
        layers.pop();
        layers.push(
            DenseLayer::new(
                2,
                3,
                vec![0.75, -0.25, -1.0, 0.5, 0.0, 0.0],
                vec![-0.1, 0.2, 0.0],
            )
            .expect("out"),
        );
        DenseMlp::new(layers, Link::Softmax).expect("valid")
    }

    #[test]
    fn softmax_output_matches_longhand() {
        let m = three_classes();
        assert_eq!((m.n_features(), m.n_outputs()), (3, 3));
        let relu = |v: f64| v.max(0.0);
        for x in [[0.0, 0.0, 0.0], [1.0, -2.0, 0.5], [-3.0, 1.5, 2.0]] {
            let h1 = [
                relu(0.1 + 0.5 * x[0] - 1.0 * x[1] + 0.25 * x[2]),
                relu(-0.2 + x[0] + x[1] + x[2]),
                relu(-0.5 * x[0] + 2.0 * x[2]),
                relu(0.3),
            ];
            let h2 = [
                relu(h1[0] - h1[1] + 0.5 * h1[2] + 2.0 * h1[3]),
                relu(0.5 + h1[1] + h1[2] - h1[3]),
            ];
            let z = [
                -0.1 + 0.75 * h2[0] - 0.25 * h2[1],
                0.2 - h2[0] + 0.5 * h2[1],
                0.0,
            ];
            let total: f64 = z.iter().map(|v| v.exp()).sum();
            let mut p = [0.0; 3];
            m.predict_proba_into(&x, &mut p).expect("ok");
            for (p, z) in p.iter().zip(z) {
                assert!(
                    (p - z.exp() / total).abs() < 1e-12,
                    "{p} vs {}",
                    z.exp() / total
                );
            }
        }
        // No single prediction, and the buffer must hold every class.
        assert!(matches!(
            m.predict_row(&[0.0; 3]),
            Err(Error::OutputCount {
                expected: 3,
                found: 1
            })
        ));
        assert!(m.predict_proba_into(&[0.0; 3], &mut [0.0; 2]).is_err());
        assert!(
            m.predict_proba_into(&[0.0, f64::NAN, 0.0], &mut [0.0; 3])
                .is_err()
        );
        // The single-output forms fill a one-value buffer.
        let lg = three_layers(Link::Logistic);
        let mut one = [0.0];
        lg.predict_proba_into(&[1.0, -2.0, 0.5], &mut one)
            .expect("ok");
        assert_eq!(one[0], lg.predict_row(&[1.0, -2.0, 0.5]).expect("ok"));
    }

    #[test]
    fn softmax_output_does_not_overflow() {
        // Scores of +-1e6: exp would overflow without subtracting the max.
        let l = DenseLayer::new(1, 3, vec![1.0, -1.0, 0.0], vec![0.0, 0.0, 0.0]).expect("l");
        let m = DenseMlp::new(vec![l], Link::Softmax).expect("valid");
        let mut p = [0.0; 3];
        m.predict_proba_into(&[1e6], &mut p).expect("ok");
        assert_eq!(p, [1.0, 0.0, 0.0]);
        m.predict_proba_into(&[0.0], &mut p).expect("ok");
        for v in p {
            assert!((v - 1.0 / 3.0).abs() < 1e-15);
        }
    }

    #[test]
    fn single_layer_is_linear() {
        let l = DenseLayer::new(2, 1, vec![2.0, -1.0], vec![0.5]).expect("valid");
        let m = DenseMlp::new(vec![l], Link::Identity).expect("valid");
        assert_eq!(m.predict_row(&[1.0, 3.0]).expect("ok"), 2.0 - 3.0 + 0.5);
    }

    #[test]
    fn widest_hidden_layer_works() {
        let w = MAX_HIDDEN_WIDTH;
        let l1 = DenseLayer::new(1, w, vec![1.0; w], vec![0.0; w]).expect("l1");
        let l2 = DenseLayer::new(w, w, vec![1.0 / w as f64; w * w], vec![0.0; w]).expect("l2");
        let l3 = DenseLayer::new(w, 1, vec![1.0; w], vec![0.0]).expect("l3");
        let m = DenseMlp::new(vec![l1, l2, l3], Link::Identity).expect("valid");
        // Each of w units in layer 2 sees w copies of x and averages them.
        let y = m.predict_row(&[2.0]).expect("ok");
        assert!((y - 2.0 * w as f64).abs() < 1e-9, "{y}");
    }

    #[test]
    fn rejects_bad_layers() {
        assert!(DenseLayer::new(0, 1, vec![], vec![0.0]).is_err());
        assert!(DenseLayer::new(2, 1, vec![1.0], vec![0.0]).is_err());
        assert!(DenseLayer::new(2, 1, vec![1.0, 1.0], vec![]).is_err());
        assert!(DenseLayer::new(2, 1, vec![1.0, f64::NAN], vec![0.0]).is_err());
        assert!(DenseLayer::new(1, 1, vec![1.0], vec![f64::INFINITY]).is_err());
        assert!(DenseLayer::new(usize::MAX, 2, vec![], vec![0.0, 0.0]).is_err());
    }

    #[test]
    fn rejects_bad_networks() {
        let l = |i: usize, o: usize| DenseLayer::new(i, o, vec![0.1; i * o], vec![0.0; o]);
        let err = |r: Result<DenseMlp>| match r {
            Err(Error::InvalidModel { reason, .. }) => reason,
            other => panic!("expected InvalidModel, got {other:?}"),
        };
        assert!(err(DenseMlp::new(vec![], Link::Logistic)).contains("no layers"));
        // Shapes do not chain.
        let r = err(DenseMlp::new(
            vec![l(3, 4).expect("l"), l(5, 1).expect("l")],
            Link::Logistic,
        ));
        assert!(r.contains("layer 0 has 4 outputs"), "{r}");
        // Output layer must have one unit, or at least two for softmax.
        let r = err(DenseMlp::new(vec![l(3, 2).expect("l")], Link::Logistic));
        assert!(r.contains("output layer has 2 units"), "{r}");
        let r = err(DenseMlp::new(vec![l(3, 1).expect("l")], Link::Softmax));
        assert!(r.contains("at least 2"), "{r}");
        assert!(DenseMlp::new(vec![l(3, 2).expect("l")], Link::Softmax).is_ok());
        // Hidden layer wider than the stack buffers.
        let w = MAX_HIDDEN_WIDTH + 1;
        let r = err(DenseMlp::new(
            vec![l(1, w).expect("l"), l(w, 1).expect("l")],
            Link::Logistic,
        ));
        assert!(r.contains("at most 512"), "{r}");
        // Too many layers.
        let mut many = vec![l(2, 2).expect("l"); MAX_LAYERS];
        many.push(l(2, 1).expect("l"));
        let r = err(DenseMlp::new(many, Link::Identity));
        assert!(r.contains("too many"), "{r}");
    }

    #[test]
    fn rejects_bad_rows() {
        let m = three_layers(Link::Logistic);
        assert!(matches!(
            m.predict_row(&[1.0, 2.0]),
            Err(Error::FeatureCount {
                expected: 3,
                found: 2
            })
        ));
        assert!(matches!(
            m.predict_row(&[1.0, f64::NAN, 0.0]),
            Err(Error::NonFiniteInput { feature: 1, .. })
        ));
    }

    #[derive(Serialize)]
    struct RawLayerForTest {
        n_inputs: usize,
        n_outputs: usize,
        weights: Vec<f64>,
        biases: Vec<f64>,
    }

    #[derive(Serialize)]
    struct RawMlpForTest {
        layers: Vec<RawLayerForTest>,
        output: Link,
    }

    fn raw(layers: Vec<(usize, usize, Vec<f64>, Vec<f64>)>) -> Vec<u8> {
        let layers = layers
            .into_iter()
            .map(|(n_inputs, n_outputs, weights, biases)| RawLayerForTest {
                n_inputs,
                n_outputs,
                weights,
                biases,
            })
            .collect();
        rmp_serde::to_vec(&RawMlpForTest {
            layers,
            output: Link::Logistic,
        })
        .expect("encode")
    }

    #[test]
    fn deserialize_validates() {
        let good = three_layers(Link::Logistic);
        let bytes = rmp_serde::to_vec(&good).expect("encode");
        assert_eq!(
            rmp_serde::from_slice::<DenseMlp>(&bytes).expect("decode"),
            good
        );
        // Truncated bytes are an error, not a panic.
        for cut in 0..bytes.len() {
            assert!(rmp_serde::from_slice::<DenseMlp>(&bytes[..cut]).is_err());
        }
        let softmax = three_classes();
        let bytes = rmp_serde::to_vec(&softmax).expect("encode");
        assert_eq!(
            rmp_serde::from_slice::<DenseMlp>(&bytes).expect("decode"),
            softmax
        );
        let rejected = [
            // Weight count disagrees with the declared shape.
            raw(vec![(2, 1, vec![1.0], vec![0.0])]),
            // Non-finite weight.
            raw(vec![(1, 1, vec![f64::NAN], vec![0.0])]),
            // Layers do not chain.
            raw(vec![
                (1, 2, vec![1.0, 1.0], vec![0.0, 0.0]),
                (3, 1, vec![1.0; 3], vec![0.0]),
            ]),
            // Two outputs.
            raw(vec![(1, 2, vec![1.0, 1.0], vec![0.0, 0.0])]),
            // No layers.
            raw(vec![]),
        ];
        for bytes in rejected {
            assert!(rmp_serde::from_slice::<DenseMlp>(&bytes).is_err());
        }
    }
}
