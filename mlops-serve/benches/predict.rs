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
use mlops_serve::{Predictor, Record};

#[path = "../tests/common/mod.rs"]
mod common;

/// The Telco test rows, and a logistic and a 100-tree forest predictor
/// (features, model, input and score profiles) fitted on the training rows.
fn setup() -> (Frame, Vec<(&'static str, Predictor)>) {
    let t = common::telco();
    let predictors = vec![
        (
            "logistic",
            common::predictor(&t, common::logistic(&t), "churn", 1),
        ),
        (
            "forest_100",
            common::predictor(&t, common::forest(&t, 100), "churn", 1),
        ),
    ];
    (t.test, predictors)
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
