//! Batch scoring throughput: in-memory `Frame` (logistic, forest) and
//! CSV in -> CSV out (logistic), on synthetic Telco-schema rows.
//!
//! `cargo bench -p mlops-serve --bench batch`

#![allow(missing_docs)] // criterion_group! generates undocumented items.

mod common;

use common::package;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use mlops_core::data::CsvReader;
use mlops_core::seed::Seed;
use mlops_core::synth::ChurnSynth;
use mlops_serve::{BatchConfig, BatchScorer};

fn bench(c: &mut Criterion) {
    let rows = 200_000u64;
    let mut csv = Vec::new();
    ChurnSynth::new(Seed(3))
        .rows(rows)
        .write_csv(&mut csv)
        .expect("synth");
    let frame = CsvReader::new()
        .read(&csv[..], "bench")
        .expect("read")
        .frame;
    let mut g = c.benchmark_group("batch");
    g.sample_size(10);
    g.throughput(Throughput::Elements(rows));
    for learner in ["logreg", "rf"] {
        let scorer = BatchScorer::new(&package(learner), BatchConfig::new().max_reject_ratio(1.0))
            .expect("scorer");
        g.bench_function(format!("frame_{learner}"), |b| {
            b.iter(|| scorer.score_frame(&frame).expect("scored"))
        });
        if learner == "logreg" {
            g.bench_function("csv_to_csv_logreg", |b| {
                b.iter(|| {
                    let mut out = Vec::with_capacity(csv.len() / 4);
                    scorer
                        .score_csv(&csv[..], "bench", &mut out, None, None)
                        .expect("scored")
                })
            });
        }
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
