//! HTTP single-record latency on loopback: the real scoring server
//! (`mlops_serve::http::serve`, tokio multi-thread runtime) on
//! `127.0.0.1:0` with a logistic model trained on the Telco rows, and one
//! keep-alive client (ureq `Agent`) sending one-row `dataframe_split`
//! bodies to `POST /invocations`, cycling through the test rows.
//!
//! `cargo bench -p mlops-serve --features http --bench http`
//!
//! Criterion measures the mean request; then 20,000 more requests are timed
//! one by one into an HDR histogram and p50/p90/p99/p99.9 are printed to
//! stderr (criterion has no percentiles). Client and server share the
//! machine's cores, as they would with a sidecar caller.

// criterion's macros generate undocumented items.
#![allow(missing_docs)]
#![allow(clippy::print_stderr)] // the percentiles are the report

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use hdrhistogram::Histogram;
use mlops_core::data::Value;
use mlops_serve::Predictor;
use mlops_serve::http::{ModelSlot, ServerConfig, serve};

#[path = "../tests/common/mod.rs"]
mod common;

/// The logistic predictor (features, model, monitor with drift profile) and
/// the held-out rows as one-record `dataframe_split` bodies.
fn setup() -> (Predictor, Vec<String>) {
    let t = common::telco();
    let predictor = Predictor::builder("churn", t.features.clone(), common::logistic(&t))
        .version(1)
        .profile(t.profile.clone())
        .build()
        .expect("predictor");
    let inputs: Vec<String> = t
        .features
        .input_columns()
        .iter()
        .map(|f| f.name.clone())
        .collect();
    let names: Vec<&str> = inputs.iter().map(String::as_str).collect();
    let test = t.test;
    let cols: Vec<usize> = names
        .iter()
        .map(|n| test.position(n).expect("column"))
        .collect();
    let bodies = (0..test.n_rows())
        .map(|r| {
            let row: Vec<serde_json::Value> = cols
                .iter()
                .map(|&c| match test.value(r, c) {
                    Value::Number(v) => serde_json::json!(v),
                    Value::Text(s) => serde_json::json!(s),
                    Value::Missing => serde_json::Value::Null,
                })
                .collect();
            serde_json::json!({"dataframe_split": {"columns": inputs, "data": [row]}}).to_string()
        })
        .collect();
    (predictor, bodies)
}

/// Starts the server on its own runtime thread; returns its URL and a
/// sender that stops it.
fn start(predictor: Predictor) -> (String, tokio::sync::oneshot::Sender<()>) {
    let slot = ModelSlot::new();
    slot.load(predictor);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let (addr_tx, addr_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        // The runtime `mlops serve` builds: multi-thread, one worker per core.
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .expect("runtime");
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .expect("bind");
            addr_tx
                .send(listener.local_addr().expect("addr"))
                .expect("send");
            serve(listener, slot, ServerConfig::default(), async move {
                let _ = stopped.await;
            })
            .await
            .expect("serve");
        });
    });
    let addr = addr_rx.recv().expect("server address");
    (format!("http://{addr}/invocations"), stop)
}

fn post(agent: &ureq::Agent, url: &str, body: &str) -> usize {
    let text = agent
        .post(url)
        .set("Content-Type", "application/json")
        .send_string(body)
        .expect("200")
        .into_string()
        .expect("body");
    text.len()
}

fn http(c: &mut Criterion) {
    let (predictor, bodies) = setup();
    let (url, stop) = start(predictor);
    let agent = ureq::AgentBuilder::new().build();
    let answer = agent
        .post(&url)
        .set("Content-Type", "application/json")
        .send_string(&bodies[0])
        .expect("first request")
        .into_string()
        .expect("body");
    assert!(answer.contains("\"predictions\":["), "{answer}");

    let mut i = 0;
    c.bench_function("http_invocations_one_record_logistic", |b| {
        b.iter(|| {
            i = (i + 1) % bodies.len();
            black_box(post(&agent, &url, &bodies[i]))
        })
    });

    let mut hist = Histogram::<u64>::new_with_bounds(1, 10_000_000, 3).expect("histogram");
    let n = 20_000;
    for k in 0..n {
        let body = &bodies[k % bodies.len()];
        let t = Instant::now();
        black_box(post(&agent, &url, body));
        let ns = u64::try_from(t.elapsed().as_nanos()).unwrap_or(u64::MAX);
        hist.saturating_record(ns);
    }
    let us = |q: f64| hist.value_at_quantile(q) as f64 / 1e3;
    eprintln!(
        "http one record, {n} keep-alive requests: p50 {:.1} us, p90 {:.1} us, p99 {:.1} us, \
         p99.9 {:.1} us, max {:.1} us",
        us(0.5),
        us(0.9),
        us(0.99),
        us(0.999),
        hist.max() as f64 / 1e3
    );
    let _ = stop.send(());
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(5));
    targets = http
}
criterion_main!(benches);
