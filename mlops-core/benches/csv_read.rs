//! CSV read throughput: `CsvReader::read_path` on a 1,000,000-row synthetic
//! churn file (Telco schema, ~140 MB), to compare with `pandas.read_csv`
//! (`scripts/bench/pandas_read_csv.py`) on the same file.
//!
//! `cargo bench -p mlops-core --bench csv_read`. Set `MLOPS_BENCH_CSV` to a
//! file to reuse one (for example the one the pandas script reads);
//! otherwise the file is generated once into a temporary directory with
//! `ChurnSynth` (seed 42), exactly as `mlops data synth --rows 1000000
//! --seed 42` writes it.

// criterion's macros generate undocumented items.
#![allow(missing_docs)]

use std::path::PathBuf;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use mlops_core::data::CsvReader;
use mlops_core::seed::Seed;
use mlops_core::synth::ChurnSynth;

const ROWS: u64 = 1_000_000;

fn csv_read(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = match std::env::var_os("MLOPS_BENCH_CSV") {
        Some(p) => PathBuf::from(p),
        None => {
            let path = dir.path().join("synth_1m.csv");
            ChurnSynth::new(Seed(42))
                .rows(ROWS)
                .write_csv_path(&path)
                .expect("generate benchmark file");
            path
        }
    };
    let bytes = std::fs::metadata(&path).expect("benchmark file").len();
    let reader = CsvReader::new();
    let first = reader.read_path(&path).expect("read benchmark file");
    assert!(first.frame.n_rows() > 0 && first.rejected.is_empty());
    drop(first);

    let mut group = c.benchmark_group("csv_read");
    group.sample_size(10);
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(15));
    group.throughput(Throughput::Bytes(bytes));
    // The frame is dropped outside the timed region, as the pandas script
    // deletes its DataFrame outside its timer.
    group.bench_function("read_path_1m_rows", |b| {
        b.iter_with_large_drop(|| reader.read_path(&path).expect("read"))
    });
    group.finish();
}

criterion_group!(benches, csv_read);
criterion_main!(benches);
