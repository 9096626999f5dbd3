//! Shared test data: a seeded synthetic binary problem and the Telco split.
#![allow(dead_code)]

use mlops_core::data::Frame;
use mlops_core::features::{FeatureSpec, FittedFeatures};
use mlops_core::seed::Seed;
use mlops_train::split::stratified_split;
use ndarray::{Array1, Array2};
use rand::Rng;

pub const TELCO: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../examples/data/telco_churn.csv"
);

/// `n` rows, `p` features, labels drawn from a logistic model, values rounded
/// to 2 decimals so trees see ties.
pub fn synthetic(n: usize, p: usize, seed: u64) -> (Array2<f64>, Array1<f64>) {
    let mut rng = Seed(seed).rng();
    let x = Array2::from_shape_fn((n, p), |_| {
        (rng.r#gen::<f64>() * 400.0).round() / 100.0 - 2.0
    });
    let y = x
        .rows()
        .into_iter()
        .map(|r| {
            let z: f64 = r
                .iter()
                .enumerate()
                .map(|(j, v)| v * (1.0 - j as f64 * 0.4))
                .sum();
            if rng.r#gen::<f64>() < 1.0 / (1.0 + (-z).exp()) {
                1.0
            } else {
                0.0
            }
        })
        .collect();
    (x, y)
}

pub struct TelcoSplit {
    pub x_train: Array2<f64>,
    pub y_train: Array1<f64>,
    pub x_test: Array2<f64>,
    pub y_test: Array1<f64>,
}

/// Seeded stratified 80/20 split of Telco; features (median impute +
/// standard scale, one-hot categoricals) fitted on the training rows only.
pub fn telco_split(seed: Seed) -> TelcoSplit {
    let frame = Frame::read_csv(TELCO).expect("telco reads");
    let spec = FeatureSpec::infer(&frame, "Churn", Some("Yes")).expect("spec");
    let all = spec.fit(&frame).expect("fit for target");
    let y = all.target(&frame).expect("target");
    let split = stratified_split(y.as_slice().expect("contiguous"), 0.2, seed).expect("split");
    let train = frame.take(&split.train).expect("train rows");
    let test = frame.take(&split.test).expect("test rows");
    let fitted = spec.fit(&train).expect("fit on train");
    TelcoSplit {
        x_train: fitted.transform(&train).expect("transform train"),
        y_train: fitted.target(&train).expect("train target"),
        x_test: fitted.transform(&test).expect("transform test"),
        y_test: fitted.target(&test).expect("test target"),
    }
}

/// The split the class-weight fixtures use, which Python draws without our
/// generator: test = every 5th Telco row, train = the rest; features
/// inferred for `target` (as the CLI does) and fitted on the training rows.
pub fn telco_every_fifth(target: &str, positive: Option<&str>) -> (TelcoSplit, FittedFeatures) {
    let frame = Frame::read_csv(TELCO).expect("telco reads");
    let spec = FeatureSpec::infer(&frame, target, positive).expect("spec");
    let (test, train): (Vec<usize>, Vec<usize>) = (0..frame.n_rows()).partition(|i| i % 5 == 0);
    let train = frame.take(&train).expect("train rows");
    let test = frame.take(&test).expect("test rows");
    let fitted = spec.fit(&train).expect("fit on train");
    let split = TelcoSplit {
        x_train: fitted.transform(&train).expect("transform train"),
        y_train: fitted.target(&train).expect("train target"),
        x_test: fitted.transform(&test).expect("transform test"),
        y_test: fitted.target(&test).expect("test target"),
    };
    (split, fitted)
}

/// Asserts a fit agrees with a tightly solved scikit-learn fit: every
/// `(ours, scikit-learn)` probability pair within 1e-4 and the log loss
/// within 1e-5; prints both so the margins are visible.
#[allow(clippy::print_stderr)] // the margins are the report
pub fn assert_matches_sklearn(
    what: &str,
    pairs: impl IntoIterator<Item = (f64, f64)>,
    log_loss: f64,
    sklearn_log_loss: f64,
) {
    let worst = pairs
        .into_iter()
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f64::max);
    eprintln!(
        "{what}: log loss {log_loss:.6} (scikit-learn {sklearn_log_loss:.6}), max |p - p_sklearn| = {worst:.2e}"
    );
    assert!(worst < 1e-4, "{what}: probabilities differ by {worst}");
    assert!(
        (log_loss - sklearn_log_loss).abs() < 1e-5,
        "{what}: log loss {log_loss} vs {sklearn_log_loss}"
    );
}

/// Tie-heavy binary data for the decision tree: 600 rows as 300 identical
/// pairs of which about half disagree on the label, features on a 12-value
/// grid, column 3 a copy of column 0. Many leaves hold equal class counts,
/// which is where linfa-trees' `HashMap` order shows.
pub fn tie_heavy(seed: u64) -> (Array2<f64>, Array1<f64>) {
    let mut rng = Seed(seed).rng();
    let n = 600;
    let mut x = Array2::zeros((n, 4));
    let mut y = Array1::zeros(n);
    for r in (0..n).step_by(2) {
        let a = f64::from(rng.gen_range(0u8..12));
        let b = f64::from(rng.gen_range(0u8..12));
        let c = f64::from(rng.gen_range(0u8..2));
        let p = if (a - b).abs() < 4.0 { 0.2 } else { 0.8 };
        let label = f64::from(u8::from(rng.r#gen::<f64>() < p));
        let twin = if rng.r#gen::<bool>() {
            1.0 - label
        } else {
            label
        };
        for (i, l) in [(r, label), (r + 1, twin)] {
            x[[i, 0]] = a;
            x[[i, 1]] = b;
            x[[i, 2]] = c;
            x[[i, 3]] = a;
            y[i] = l;
        }
    }
    (x, y)
}
