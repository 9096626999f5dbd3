//! Parquet read throughput: `ParquetReader::read_path` of a 1,000,000-row
//! synthetic churn file (Telco schema, `ChurnSynth` seed 42, written by
//! `Frame::write_parquet_path`), the peer figures being
//! `pyarrow.parquet.read_table` and `pandas.read_parquet` on the same file
//! (`scripts/bench/pyarrow_read_parquet.py`).
//!
//! `cargo bench -p mlops-core --features parquet --bench parquet_read`.
//! The file is written to `$MLOPS_BENCH_PARQUET` (default
//! `/tmp/mlops-bench/synth_1m.parquet`) when absent, then read 7 times
//! after one warm-up read; prints median, min and max.

#![allow(missing_docs, clippy::print_stdout, clippy::unwrap_used)]

use std::path::PathBuf;
use std::time::Instant;

use mlops_core::data::{Frame, ParquetReader};
use mlops_core::seed::Seed;
use mlops_core::synth::ChurnSynth;

fn main() {
    let path = std::env::var_os("MLOPS_BENCH_PARQUET")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/tmp/mlops-bench/synth_1m.parquet"));
    if !path.exists() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        let frame = ChurnSynth::new(Seed(42))
            .rows(1_000_000)
            .to_frame()
            .unwrap();
        frame.write_parquet_path(&path).unwrap();
    }
    let bytes = std::fs::metadata(&path).unwrap().len();
    let reader = ParquetReader::new();
    let first: Frame = reader.read_path(&path).unwrap();
    let mut times = Vec::new();
    for _ in 0..7 {
        let t = Instant::now();
        let f = reader.read_path(&path).unwrap();
        times.push(t.elapsed().as_secs_f64());
        assert_eq!(f.n_rows(), first.n_rows());
    }
    times.sort_by(f64::total_cmp);
    println!(
        "parquet_read {} rows x {} cols, {:.1} MB: median {:.3} s (min {:.3}, max {:.3})",
        first.n_rows(),
        first.n_cols(),
        bytes as f64 / 1e6,
        times[3],
        times[0],
        times[6]
    );
}
