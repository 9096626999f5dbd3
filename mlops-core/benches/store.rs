//! Opening a large store, and disk use per million metric points.
//!
//! Targets (tracking/registry issue): opening a store of 100,000 runs in
//! <= 1 s; disk use stated per million metric points.
//!
//! `cargo bench -p mlops-core --bench store`
//! (the 100,000-run store is built once, in a temp dir, first; disk use is
//! printed to stderr).

// `criterion_group!` generates an undocumented public function.
#![allow(missing_docs)]
// Setup facts criterion cannot report (store size, summaries decoded) go to
// stderr.
#![allow(clippy::print_stderr)]

#[path = "support/populate.rs"]
mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{Criterion, SamplingMode, Throughput, black_box, criterion_group, criterion_main};
use mlops_core::store::SledStore;
use mlops_core::tracking::{RunOptions, SearchQuery, Tracker};

const RUNS: u32 = 100_000;

fn open(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("tempdir");
    let started = Instant::now();
    support::populate(dir.path(), RUNS);
    eprintln!(
        "populated {RUNS} runs in {:.1} s; store on disk: {:.1} MB",
        started.elapsed().as_secs_f64(),
        support::disk_bytes(dir.path()) as f64 / 1e6
    );
    // The first open after the writing process closed the store replays
    // sled's log since its last snapshot; later opens read the snapshot.
    let first = Instant::now();
    drop(Tracker::new(Arc::new(
        SledStore::open(dir.path()).expect("first open"),
    )));
    eprintln!(
        "first open after writing {RUNS} runs: {:.2} s",
        first.elapsed().as_secs_f64()
    );
    let mut g = c.benchmark_group("store_open_100k_runs");
    // Flat: every sample the same small number of opens.
    g.sampling_mode(SamplingMode::Flat);
    g.sample_size(10).measurement_time(Duration::from_secs(5));
    g.warm_up_time(Duration::from_secs(1));
    // Open (sled recovery + format check) and a tracker on it, then drop
    // outside the timed part.
    g.bench_function("open", |b| {
        b.iter_custom(|iters| {
            let mut spent = Duration::ZERO;
            for _ in 0..iters {
                let start = Instant::now();
                let t = Tracker::new(Arc::new(SledStore::open(dir.path()).expect("open")));
                spent += start.elapsed();
                drop(black_box(t));
            }
            spent
        })
    });
    // Open and answer a first search: what a CLI call pays.
    g.bench_function("open_and_first_search", |b| {
        b.iter_custom(|iters| {
            let mut spent = Duration::ZERO;
            for _ in 0..iters {
                let start = Instant::now();
                let t = Tracker::new(Arc::new(SledStore::open(dir.path()).expect("open")));
                let page = t
                    .search(
                        &SearchQuery::new()
                            .filter("metrics.auc > 0.5 AND params.model = 'rf'")
                            .order_by("metrics.auc DESC"),
                    )
                    .expect("search");
                spent += start.elapsed();
                assert_eq!(page.runs.len(), 100);
                drop(t);
            }
            spent
        })
    });
    g.finish();
}

const POINTS: u64 = 1_000_000;

/// Logs a million points (10 metrics x 100,000 steps) through the buffered
/// logger into a fresh store, finishes the run (durable), and reports the
/// store's size on disk.
fn disk_use(c: &mut Criterion) {
    let mut g = c.benchmark_group("store_disk_use");
    // Flat: ten samples of one store each, not 55 stores.
    g.sampling_mode(SamplingMode::Flat);
    g.sample_size(10).measurement_time(Duration::from_secs(10));
    g.warm_up_time(Duration::from_millis(500));
    g.throughput(Throughput::Elements(POINTS));
    let names: Vec<String> = (0..10).map(|i| format!("metric_{i}")).collect();
    let mut sizes = Vec::new();
    g.bench_function("million_points_logged_and_finished", |b| {
        b.iter_custom(|iters| {
            let mut spent = Duration::ZERO;
            for _ in 0..iters {
                let dir = tempfile::tempdir().expect("tempdir");
                let empty = {
                    drop(SledStore::open(dir.path()).expect("open"));
                    support::disk_bytes(dir.path())
                };
                let start = Instant::now();
                {
                    let t = Tracker::new(Arc::new(SledStore::open(dir.path()).expect("open")));
                    let exp = t.experiment("disk").expect("experiment");
                    let run = t.start_run(&exp, RunOptions::default()).expect("run");
                    {
                        let mut logger = run.metric_logger();
                        for step in 0..(POINTS / 10) as i64 {
                            for (m, n) in names.iter().enumerate() {
                                let v = (step as f64).mul_add(1e-5, m as f64);
                                logger.log(n, v, step).expect("log");
                            }
                        }
                    }
                    run.finish().expect("finish");
                }
                spent += start.elapsed();
                sizes.push(support::disk_bytes(dir.path()).saturating_sub(empty));
            }
            spent
        })
    });
    g.finish();
    if let (Some(min), Some(max)) = (sizes.iter().min(), sizes.iter().max()) {
        eprintln!(
            "disk use per million metric points (store closed, sled files, \
             allocated blocks): {:.1} to {:.1} MB ({} stores)",
            *min as f64 / 1e6,
            *max as f64 / 1e6,
            sizes.len()
        );
    }
}

criterion_group!(benches, open, disk_use);
criterion_main!(benches);
