//! Tracking throughput on the sled store, against MLflow-on-SQLite figures
//! measured on the same machine kind (`log_metric` 278/s, `log_batch` 9.8k
//! metrics/s, 28.6 runs/s with 10 params + 10 metrics, search over 10,000
//! runs with a metric and a param filter ordered by a metric: 410-575 ms).
//!
//! `cargo bench -p mlops-core --bench tracking`

// `criterion_group!` generates an undocumented public function.
#![allow(missing_docs)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, Throughput, black_box, criterion_group, criterion_main};
use mlops_core::store::{MemoryStore, SledStore};
use mlops_core::tracking::{RunOptions, SearchQuery, Tracker};

fn sled_tracker(dir: &tempfile::TempDir) -> Tracker {
    Tracker::new(Arc::new(SledStore::open(dir.path()).expect("open sled")))
}

fn logging(c: &mut Criterion) {
    let mut g = c.benchmark_group("tracking");
    // Short measurements keep the data written per benchmark in the tens of
    // megabytes: sled 0.34 can stall under sustained heavy writes
    // (spacejam/sled#1412), and a fresh store per benchmark avoids it.
    g.sample_size(10).measurement_time(Duration::from_secs(2));
    g.warm_up_time(Duration::from_millis(500));

    // One point through the buffered logger, batch writes amortised in.
    g.throughput(Throughput::Elements(1));
    g.bench_function("metric_logger_point", |b| {
        b.iter_custom(|iters| {
            let dir = tempfile::tempdir().expect("tempdir");
            let t = sled_tracker(&dir);
            let exp = t.experiment("bench").expect("experiment");
            let run = t.start_run(&exp, RunOptions::default()).expect("run");
            let start = Instant::now();
            {
                let mut logger = run.metric_logger();
                for step in 0..iters {
                    logger
                        .log(black_box("loss"), 0.5, step as i64)
                        .expect("log");
                }
            } // the logger's last batch is written here
            let spent = start.elapsed();
            run.finish().expect("finish");
            spent
        })
    });

    // The same on the in-memory store: the SDK's own cost per point.
    g.bench_function("metric_logger_point_memory_store", |b| {
        b.iter_custom(|iters| {
            let t = Tracker::new(Arc::new(MemoryStore::new()));
            let exp = t.experiment("bench").expect("experiment");
            let run = t.start_run(&exp, RunOptions::default()).expect("run");
            let start = Instant::now();
            {
                let mut logger = run.metric_logger();
                for step in 0..iters {
                    logger
                        .log(black_box("loss"), 0.5, step as i64)
                        .expect("log");
                }
            }
            start.elapsed()
        })
    });

    // One unbuffered log_metric: a write of the chunk, summary and index.
    let dir = tempfile::tempdir().expect("tempdir");
    let t = sled_tracker(&dir);
    let exp = t.experiment("bench").expect("experiment");
    let run = t.start_run(&exp, RunOptions::default()).expect("run");
    let mut step = 0i64;
    g.bench_function("log_metric_unbuffered", |b| {
        b.iter(|| {
            step += 1;
            run.log_metric(black_box("acc"), 0.5, step).expect("log");
        })
    });
    run.finish().expect("finish");

    // A complete run: start, 10 params, 10 metrics, finish (durable flush).
    g.bench_function("run_10_params_10_metrics_finished", |b| {
        b.iter(|| {
            let run = t.start_run(&exp, RunOptions::default()).expect("run");
            run.log_params((0..10).map(|i| (format!("p{i}"), i)))
                .expect("params");
            let names: Vec<String> = (0..10).map(|i| format!("m{i}")).collect();
            let values: Vec<(&str, f64)> = names.iter().map(|n| (n.as_str(), 0.5)).collect();
            run.log_metrics(&values, 0).expect("metrics");
            run.finish().expect("finish");
        })
    });
    g.finish();
}

fn search(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("tempdir");
    let t = sled_tracker(&dir);
    let exp = t.experiment("search").expect("experiment");
    let models = ["logreg", "rf", "tree", "gbm", "mlp"];
    for i in 0..10_000u32 {
        let run = t.start_run(&exp, RunOptions::default()).expect("run");
        run.log_params((0..10).map(|p| (format!("p{p}"), (i + p) % 7)))
            .expect("params");
        run.log_param("model", models[(i % 5) as usize])
            .expect("model");
        let auc = f64::from((i * 7919) % 10_000) / 10_000.0;
        run.log_metrics(&[("auc", auc), ("loss", 1.0 - auc)], 0)
            .expect("metrics");
        run.finish().expect("finish");
    }
    let mut g = c.benchmark_group("tracking_search_10k_runs");
    g.sample_size(10).measurement_time(Duration::from_secs(3));
    let queries = [
        (
            "metric_and_param_indexed",
            "metrics.auc > 0.8 AND params.model = 'rf'",
        ),
        (
            "or_of_params_indexed",
            "params.model = 'rf' OR params.model = 'gbm'",
        ),
        (
            "unindexed_full_scan",
            "end_time > 0 AND params.model ILIKE 'RF'",
        ),
    ];
    for (name, filter) in queries {
        let q = SearchQuery::new()
            .experiment("search")
            .filter(filter)
            .order_by("metrics.auc DESC")
            .limit(100);
        let n = t.search(&q).expect("search").runs.len();
        assert_eq!(n, 100, "{name}");
        g.bench_with_input(BenchmarkId::from_parameter(name), &q, |b, q| {
            b.iter(|| t.search(black_box(q)).expect("search"))
        });
    }
    g.finish();
}

criterion_group!(benches, logging, search);
criterion_main!(benches);
