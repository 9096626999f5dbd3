//! Parquet -> score -> Parquet against CSV -> score -> CSV: rows/s of
//! `BatchScorer::score_parquet_path` and `score_csv_path` (logistic
//! package) on the same synthetic Telco-schema rows.
//!
//! ```text
//! cargo bench -p mlops-serve --features parquet --bench parquet_score --no-run
//! B=$(ls -t target/release/deps/parquet_score-* | grep -v '\.d$' | head -1)
//! $B gen 10000000                      # writes /tmp/mlops-bench/score_10m.{parquet,csv}
//! /usr/bin/time -v $B parquet          # rows/s, then peak RSS from time
//! /usr/bin/time -v $B csv
//! ```
//! Files go to `$MLOPS_BENCH_DIR` (default `/tmp/mlops-bench`).

#![allow(missing_docs, clippy::print_stdout, clippy::unwrap_used)]

mod common;

use std::path::PathBuf;

use mlops_core::data::ParquetWriter;
use mlops_core::seed::Seed;
use mlops_core::synth::ChurnSynth;
use mlops_serve::{BatchConfig, BatchScorer};

fn main() {
    let dir = std::env::var_os("MLOPS_BENCH_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/tmp/mlops-bench"));
    std::fs::create_dir_all(&dir).unwrap();
    let (pq, csv) = (dir.join("score_10m.parquet"), dir.join("score_10m.csv"));
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    match args.first().map(String::as_str) {
        Some("gen") => {
            let rows: u64 = args.get(1).map_or(10_000_000, |r| r.parse().unwrap());
            // 1M-row parts with their own seeds: memory stays one part.
            let file = std::io::BufWriter::new(std::fs::File::create(&pq).unwrap());
            let mut w = ParquetWriter::new(file, &pq);
            let mut out = std::io::BufWriter::new(std::fs::File::create(&csv).unwrap());
            let mut first = None;
            for (i, start) in (0..rows).step_by(1_000_000).enumerate() {
                let part = ChurnSynth::new(Seed(42 + i as u64))
                    .rows((rows - start).min(1_000_000))
                    .to_frame()
                    .unwrap();
                if i == 0 {
                    part.write_csv(&mut out).unwrap();
                    first = Some(part.take(&[]).unwrap());
                } else {
                    let mut buf = Vec::new();
                    part.write_csv(&mut buf).unwrap();
                    let body = buf.iter().position(|&b| b == b'\n').unwrap() + 1;
                    std::io::Write::write_all(&mut out, &buf[body..]).unwrap();
                }
                w.write(part).unwrap();
            }
            w.finish(&first.unwrap()).unwrap();
        }
        Some(mode @ ("parquet" | "csv")) => {
            let scorer = BatchScorer::new(
                &common::package("logreg"),
                BatchConfig::new().id_column("customerID"),
            )
            .unwrap();
            let summary = if mode == "parquet" {
                scorer.score_parquet_path(&pq, &dir.join("scores.parquet"), None)
            } else {
                scorer.score_csv_path(&csv, &dir.join("scores.csv"), None)
            }
            .unwrap();
            println!(
                "{mode}: {} rows in {:.2} s = {:.0} rows/s ({} threads)",
                summary.rows,
                summary.seconds,
                summary.rows as f64 / summary.seconds,
                rayon::current_num_threads()
            );
        }
        _ => println!("usage: parquet_score gen [ROWS] | parquet | csv"),
    }
}
