//! Gradient boosting: fit on the Telco training split and on 1M synthetic
//! churn rows, side by side with `scripts/bench/gbm_sklearn.py`
//! (scikit-learn `HistGradientBoostingClassifier`, LightGBM), and scoring
//! with a 200-tree model (a batch of 1M rows in memory, and one record).
//!
//! `cargo bench -p mlops-train --bench gbm`. The 1M-row data set is
//! `ChurnSynth` (seed 7) written once to `target/bench-data/synth_1m.csv`,
//! which the Python script reads too. `GBM_BENCH_ROUNDS` (default 20) sets
//! the rounds of the 1M-row fit; every fit here boosts a fixed number of
//! rounds (no early stopping), as the Python side does.

// criterion's macros generate undocumented functions.
#![allow(missing_docs)]

use std::path::PathBuf;
use std::time::Duration;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use mlops_core::data::Frame;
use mlops_core::features::FeatureSpec;
use mlops_core::model::InferenceModel;
use mlops_core::seed::Seed;
use mlops_core::synth::ChurnSynth;
use mlops_train::learner::ValidGbmParams;
use mlops_train::prelude::*;
use ndarray::{Array1, Array2};

const TELCO: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../examples/data/telco_churn.csv"
);

/// Features and target of `frame`, the spec inferred and fitted on it.
fn matrix(frame: &Frame) -> (Array2<f64>, Array1<f64>) {
    let spec = FeatureSpec::infer(frame, "Churn", Some("Yes")).expect("spec");
    let fitted = spec.fit(frame).expect("fit");
    (
        fitted.transform(frame).expect("x"),
        fitted.target(frame).expect("y"),
    )
}

fn telco_train() -> (Array2<f64>, Array1<f64>) {
    let frame = Frame::read_csv(TELCO).expect("telco reads");
    let (_, y) = matrix(&frame);
    let split = stratified_split(y.as_slice().expect("contiguous"), 0.2, Seed(42)).expect("split");
    matrix(&frame.take(&split.train).expect("rows"))
}

/// The 1M synthetic rows, written once for the Python side too.
fn synth_1m() -> Frame {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/bench-data");
    let path = dir.join("synth_1m.csv");
    if !path.exists() {
        std::fs::create_dir_all(&dir).expect("bench-data dir");
        ChurnSynth::new(Seed(7))
            .rows(1_000_000)
            .write_csv_path(&path)
            .expect("synth csv");
    }
    Frame::read_csv(&path).expect("synth reads")
}

/// scikit-learn's `HistGradientBoostingClassifier` defaults with early
/// stopping off: 31 leaves, learning rate 0.1, leaves of 20, no L2.
fn sklearn_like(rounds: u32) -> ValidGbmParams {
    GbmParams::new()
        .n_estimators(rounds)
        .learning_rate(0.1)
        .max_leaves(Some(31))
        .min_samples_leaf(20)
        .l2(0.0)
        .early_stopping_rounds(None)
        .check()
        .expect("valid")
}

fn fit(c: &mut Criterion) {
    let (x, y) = telco_train();
    let mut group = c.benchmark_group("gbm_fit");
    group.sample_size(10);
    let hundred = sklearn_like(100);
    group.bench_function("telco_100_rounds", |b| {
        b.iter(|| hundred.fit(&x, &y, Seed(42)).expect("fit"))
    });
    let defaults = GbmParams::new().check().expect("valid");
    group.bench_function("telco_defaults_early_stopping", |b| {
        b.iter(|| defaults.fit(&x, &y, Seed(42)).expect("fit"))
    });
    let rounds: u32 = std::env::var("GBM_BENCH_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(20);
    let (x, y) = matrix(&synth_1m());
    let big = sklearn_like(rounds);
    group.measurement_time(Duration::from_secs(1));
    group.bench_function(format!("synth_1m_{rounds}_rounds"), |b| {
        b.iter(|| big.fit(&x, &y, Seed(42)).expect("fit"))
    });
    group.finish();
}

fn score(c: &mut Criterion) {
    // 200 trees of up to 31 leaves, fitted on 100k synthetic rows; the
    // batch is the 1M rows through the same fitted features.
    let frame = synth_1m();
    let spec = FeatureSpec::infer(&frame, "Churn", Some("Yes")).expect("spec");
    let head: Vec<usize> = (0..100_000).collect();
    let train = frame.take(&head).expect("rows");
    let features = spec.fit(&train).expect("fit");
    let model: InferenceModel = sklearn_like(200)
        .fit(
            &features.transform(&train).expect("x"),
            &features.target(&train).expect("y"),
            Seed(42),
        )
        .expect("fit")
        .to_inference()
        .expect("convert");
    let big = features.transform(&frame).expect("x");
    let mut group = c.benchmark_group("gbm_score_200_trees");
    group.sample_size(10);
    group.throughput(Throughput::Elements(big.nrows() as u64));
    group.bench_function("batch_1m_rows", |b| {
        b.iter(|| model.predict(&big).expect("predict"))
    });
    group.throughput(Throughput::Elements(1));
    let row: Vec<f64> = big.row(0).to_vec();
    group.bench_function("one_record", |b| {
        b.iter_batched(
            || row.clone(),
            |r| model.predict_proba_row(&r).expect("row"),
            BatchSize::SmallInput,
        )
    });
    group.finish();
}

criterion_group!(benches, fit, score);
criterion_main!(benches);
