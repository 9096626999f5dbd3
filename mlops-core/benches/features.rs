//! Feature pipeline throughput on the Telco schema.
//!
//! Goals (Foundation issue, part 9): `transform_row` for the Telco spec under
//! 300 ns; `transform` of 1,000,000 Telco-schema rows at 5,000,000 rows/s or
//! more on one core. The 1M rows are the real file resampled with a seeded
//! generator. Run: `cargo bench -p mlops-core --bench features`.

// criterion's macros generate undocumented functions.
#![allow(missing_docs)]

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use mlops_core::data::{Frame, Value};
use mlops_core::features::{FeatureSpec, FittedFeatures};
use mlops_core::fingerprint;
use mlops_core::seed::Seed;
use rand::Rng;

const TELCO: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../examples/data/telco_churn.csv"
);
const BIG_ROWS: usize = 1_000_000;

fn telco_fitted() -> (Frame, FittedFeatures) {
    let frame = Frame::read_csv(TELCO).expect("telco file");
    let fitted = FeatureSpec::infer(&frame, "Churn", Some("Yes"))
        .and_then(|s| s.fit(&frame))
        .expect("telco spec fits");
    (frame, fitted)
}

/// The Telco rows resampled (with replacement, seeded) to `n` rows.
fn resampled(frame: &Frame, n: usize) -> Frame {
    let mut rng = Seed(20_261_123).derive("bench.features").rng();
    let rows: Vec<usize> = (0..n).map(|_| rng.gen_range(0..frame.n_rows())).collect();
    frame.take(&rows).expect("indices in range")
}

fn bench_transform_row(c: &mut Criterion) {
    let (frame, fitted) = telco_fitted();
    let records: Vec<Vec<Value<'_>>> = (0..256)
        .map(|r| {
            fitted
                .input_columns()
                .iter()
                .map(|f| frame.value(r * 27, frame.position(&f.name).expect("column")))
                .collect()
        })
        .collect();
    let mut out = vec![0.0; fitted.n_outputs()];
    let mut i = 0;
    let mut group = c.benchmark_group("features");
    group.throughput(Throughput::Elements(1));
    group.bench_function("transform_row/telco", |b| {
        b.iter(|| {
            i = (i + 1) & 255;
            let unknown = fitted
                .transform_row(black_box(&records[i]), black_box(&mut out))
                .expect("valid record");
            black_box(unknown)
        })
    });
    group.finish();
}

fn bench_transform_frame(c: &mut Criterion) {
    let (frame, fitted) = telco_fitted();
    let big = resampled(&frame, BIG_ROWS);
    let mut group = c.benchmark_group("features");
    group.sample_size(10);
    group.throughput(Throughput::Elements(BIG_ROWS as u64));
    group.bench_function("transform/telco_1m_rows", |b| {
        b.iter(|| fitted.transform(black_box(&big)).expect("transform"))
    });
    let mut reused = ndarray::Array2::zeros((BIG_ROWS, fitted.n_outputs()));
    group.bench_function("transform_into/telco_1m_rows", |b| {
        b.iter(|| {
            fitted
                .transform_into(black_box(&big), reused.view_mut())
                .expect("transform")
        })
    });
    group.bench_function("fingerprint/telco_1m_rows", |b| {
        b.iter(|| fingerprint::frame(black_box(&big)))
    });
    group.finish();
}

criterion_group!(benches, bench_transform_row, bench_transform_frame);
criterion_main!(benches);
