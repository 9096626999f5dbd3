//! Tracking throughput and search on the sled store, against MLflow 3.17 on
//! SQLite measured on this machine kind (`log_metric` 278 calls/s,
//! `log_batch` 9,800 metrics/s, 67 complete runs/s with one param and one
//! metric, `search_runs` over 300 runs 32 ms).
//!
//! Targets (tracking/registry issue): >= 1,000,000 metric points/s through
//! the buffered logger including its final flush; >= 10,000 complete runs/s
//! (create, 10 params, 10 metrics, finish); a search over 100,000 runs (a
//! metric and a param filter, ordered by a metric, limit 100) in <= 20 ms.
//!
//! `cargo bench -p mlops-core --bench tracking`
//! (the 100,000-run store is built once, in a temp dir, before the search
//! group: about a minute on a loaded 2-core machine).

// `criterion_group!` generates an undocumented public function.
#![allow(missing_docs)]
// Setup facts criterion cannot report (store size, summaries decoded) go to
// stderr.
#![allow(clippy::print_stderr)]

#[path = "support/populate.rs"]
mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, Throughput, black_box, criterion_group, criterion_main};
use mlops_core::store::{MemoryStore, SledStore};
use mlops_core::tracking::{Experiment, Run, RunOptions, SearchQuery, Tracker};

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

    // One point through the buffered logger, batch writes and the final
    // flush of the logger (on drop) included.
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

    // One unbuffered log_metric followed by Run::flush (a write of the
    // summary, index change and chunk), to compare with MLflow's 278/s.
    let dir = tempfile::tempdir().expect("tempdir");
    let t = sled_tracker(&dir);
    let exp = t.experiment("bench").expect("experiment");
    let run = t.start_run(&exp, RunOptions::default()).expect("run");
    let mut step = 0i64;
    g.bench_function("log_metric_written", |b| {
        b.iter(|| {
            step += 1;
            run.log_metric(black_box("acc"), 0.5, step).expect("log");
            run.flush().expect("write");
        })
    });
    run.finish().expect("finish");
    g.finish();
}

/// Start, 10 params, 10 metrics (one call each, the way a script logs).
fn complete_run(t: &Tracker, exp: &Experiment, names: &[String]) -> Run {
    let run = t.start_run(exp, RunOptions::default()).expect("run");
    for (i, n) in names[..10].iter().enumerate() {
        run.log_param(n, i).expect("param");
    }
    for (i, n) in names[10..].iter().enumerate() {
        run.log_metric(n, i as f64 * 0.1, 0).expect("metric");
    }
    run
}

fn complete_runs(c: &mut Criterion) {
    let mut g = c.benchmark_group("tracking_complete_run");
    g.sample_size(10).measurement_time(Duration::from_secs(3));
    g.warm_up_time(Duration::from_millis(500));
    g.throughput(Throughput::Elements(1));
    let names: Vec<String> = (0..10)
        .map(|i| format!("param_{i}"))
        .chain((0..10).map(|i| format!("metric_{i}")))
        .collect();

    // Every run acknowledged on its own: finish() writes and flushes (one
    // disk sync per run).
    let dir = tempfile::tempdir().expect("tempdir");
    let t = sled_tracker(&dir);
    let exp = t.experiment("bench").expect("experiment");
    g.bench_function("durable_finish_each", |b| {
        b.iter(|| complete_run(&t, &exp, &names).finish().expect("finish"))
    });

    // Group commit: finish_unflushed() per run, one Tracker::flush() for
    // the whole sample; a run is acknowledged when that flush returns, and
    // the flush is inside the timed region.
    let dir = tempfile::tempdir().expect("tempdir");
    let t = sled_tracker(&dir);
    let exp = t.experiment("bench").expect("experiment");
    g.bench_function("finish_unflushed_one_flush", |b| {
        b.iter_custom(|iters| {
            let start = Instant::now();
            for _ in 0..iters {
                complete_run(&t, &exp, &names)
                    .finish_unflushed()
                    .expect("finish");
            }
            t.flush().expect("flush");
            start.elapsed()
        })
    });

    // The SDK's own cost per complete run (no disk).
    let t = Tracker::new(Arc::new(MemoryStore::new()));
    let exp = t.experiment("bench").expect("experiment");
    g.bench_function("memory_store", |b| {
        b.iter(|| {
            complete_run(&t, &exp, &names)
                .finish_unflushed()
                .expect("finish")
        })
    });
    g.finish();
}

const SEARCH_RUNS: u32 = 100_000;

fn search(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("tempdir");
    let started = Instant::now();
    support::populate(dir.path(), SEARCH_RUNS);
    eprintln!(
        "populated {SEARCH_RUNS} runs in {:.1} s; store on disk: {:.1} MB",
        started.elapsed().as_secs_f64(),
        support::disk_bytes(dir.path()) as f64 / 1e6
    );
    let t = sled_tracker(&dir);
    let mut g = c.benchmark_group("tracking_search_100k_runs");
    g.sample_size(10).measurement_time(Duration::from_secs(3));
    g.warm_up_time(Duration::from_secs(1));
    let queries = [
        // The target query: a metric and a param filter, ordered by a
        // metric, limit 100 (about 20,000 runs match each condition).
        (
            "metric_and_param_order_by_metric",
            "metrics.auc > 0.5 AND params.model = 'rf'",
            "metrics.auc DESC",
            100,
        ),
        // Few matches (100 runs): the ordered walk gives up and the
        // equality index answers.
        (
            "metric_and_rare_param_order_by_metric",
            "metrics.auc > 0.5 AND params.cohort = '7'",
            "metrics.auc DESC",
            50,
        ),
        // Default order (start_time DESC) with a param filter.
        ("param_default_order", "params.model = 'gbm'", "", 100),
    ];
    for (name, filter, order, expect) in queries {
        let mut q = SearchQuery::new()
            .experiment("search")
            .filter(filter)
            .limit(100);
        if !order.is_empty() {
            q = q.order_by(order);
        }
        let page = t.search(&q).expect("search");
        assert_eq!(page.runs.len(), expect, "{name}");
        eprintln!("{name}: decoded {} summaries", page.decoded);
        g.bench_with_input(BenchmarkId::from_parameter(name), &q, |b, q| {
            b.iter(|| t.search(black_box(q)).expect("search"))
        });
    }
    g.finish();
}

criterion_group!(benches, logging, complete_runs, search);
criterion_main!(benches);
