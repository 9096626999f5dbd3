//! One record through features + model + monitor (`Predictor::predict_row`
//! and `Predictor::predict` by name), and a frame batch, on the Telco rows,
//! for a logistic regression and a 100-tree random forest. Compare with
//! `scripts/bench/sklearn_predict.py` (one-row `predict_proba` through a
//! fitted scikit-learn Pipeline) run in the same sitting.
//!
//! `cargo bench -p mlops-serve --bench predict`. After each single-record
//! group the monitor's own latency percentiles (HDR histogram of every
//! call criterion made) are printed to stderr.

// criterion's macros generate undocumented items.
#![allow(missing_docs)]
#![allow(clippy::print_stderr)] // the monitor's percentiles are the report

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use mlops_core::data::{Frame, Value};
use mlops_core::drift::{Profile, ProfileConfig};
use mlops_core::features::FeatureSpec;
use mlops_core::model::InferenceModel;
use mlops_core::seed::Seed;
use mlops_serve::{Predictor, Record};
use mlops_train::prelude::*;

const TELCO: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../examples/data/telco_churn.csv"
);

fn setup() -> (Frame, Vec<(&'static str, Predictor)>) {
    let frame = Frame::read_csv(TELCO).expect("telco");
    let spec = FeatureSpec::infer(&frame, "Churn", Some("Yes")).expect("spec");
    let labels: Vec<f64> = frame
        .categorical("Churn")
        .expect("churn")
        .iter()
        .map(|v| f64::from(u8::from(v == Some("Yes"))))
        .collect();
    let split = stratified_split(&labels, 0.2, Seed(42).derive("split")).expect("split");
    let (train, test) = (
        frame.take(&split.train).expect("train"),
        frame.take(&split.test).expect("test"),
    );
    let features = spec.fit(&train).expect("fit");
    let (x, y) = (
        features.transform(&train).expect("x"),
        features.target(&train).expect("y"),
    );
    let inputs: Vec<&str> = features
        .input_columns()
        .iter()
        .map(|f| f.name.as_str())
        .collect();
    let profile = Profile::from_frame(
        &train.select(&inputs).expect("inputs"),
        &ProfileConfig::default(),
    )
    .expect("profile");
    let logistic = LogisticParams::new()
        .check()
        .expect("params")
        .fit(&x, &y, Seed(1))
        .expect("logistic")
        .to_inference()
        .expect("inference");
    let forest = ForestParams::new()
        .n_trees(100)
        .check()
        .expect("params")
        .fit(&x, &y, Seed(2))
        .expect("forest")
        .to_inference()
        .expect("inference");
    let build = |model: InferenceModel| {
        let scores = model.predict(&x).expect("scores");
        let score_profile = Profile::from_scores(
            "score",
            scores.as_slice().expect("contiguous"),
            &ProfileConfig::default(),
        )
        .expect("score profile");
        Predictor::builder("churn", features.clone(), model)
            .version(1)
            .profile(profile.clone())
            .score_profile(score_profile)
            .build()
            .expect("predictor")
    };
    (
        test,
        vec![("logistic", build(logistic)), ("forest_100", build(forest))],
    )
}

fn predict(c: &mut Criterion) {
    let (test, predictors) = setup();
    for (name, p) in &predictors {
        let cols: Vec<usize> = p
            .signature()
            .iter()
            .map(|f| test.position(&f.name).expect("column"))
            .collect();
        // Every test row, positional and named, prepared outside the timing.
        let rows: Vec<Vec<Value<'_>>> = (0..test.n_rows())
            .map(|r| cols.iter().map(|&c| test.value(r, c)).collect())
            .collect();
        let records: Vec<Record<'_>> = (0..test.n_rows())
            .map(|r| Record::from_frame_row(&test, r))
            .collect();
        let mut g = c.benchmark_group(format!("predict/{name}"));
        g.measurement_time(Duration::from_secs(4));
        let mut i = 0;
        g.bench_function("row", |b| {
            b.iter(|| {
                i = (i + 1) % rows.len();
                black_box(p.predict_row(black_box(&rows[i])).expect("score"))
            })
        });
        let snap = p.monitor().snapshot();
        eprintln!(
            "predict/{name}/row monitor (features + model, excluding the monitor update): {} calls, p50 {:?}, p90 {:?}, p99 {:?}",
            snap.latency.count, snap.latency.p50, snap.latency.p90, snap.latency.p99
        );
        // Per-call wall time of the whole call (id, span, features, model,
        // monitor update, score): the median is robust to the preemptions
        // that inflate criterion's mean on a loaded machine.
        let mut times: Vec<Duration> = (0..100_000)
            .map(|k| {
                let row = &rows[k % rows.len()];
                let t0 = std::time::Instant::now();
                black_box(p.predict_row(black_box(row)).expect("score"));
                t0.elapsed()
            })
            .collect();
        times.sort();
        eprintln!(
            "predict/{name}/row whole call: 100000 calls, p50 {:?}, p90 {:?}, p99 {:?}",
            times[50_000], times[90_000], times[99_000]
        );
        g.bench_function("record_by_name", |b| {
            b.iter(|| {
                i = (i + 1) % records.len();
                black_box(p.predict(black_box(&records[i])).expect("score"))
            })
        });
        g.throughput(Throughput::Elements(test.n_rows() as u64));
        g.bench_function("frame_1409_rows", |b| {
            b.iter(|| black_box(p.predict_frame(black_box(&test)).expect("scores")))
        });
        g.finish();
    }
}

criterion_group!(benches, predict);
criterion_main!(benches);
