//! Serving with a canary: the MLflow-compatible HTTP server in front of two
//! registered versions, and a small client that calls it.
//!
//! Trains a stable model (logistic regression) and a challenger (random
//! forest) on the bundled Telco file, registers both, serves them through a
//! canary (10% of requests to the challenger by default), posts Telco rows
//! to `/invocations` with a real HTTP client, then prints how many requests
//! each version answered, the client latency, a few `/metrics` lines, and
//! shuts the server down gracefully.
//!
//! ```sh
//! cargo run --example churn_serve --features http -- \
//!     [--requests 200] [--canary-weight 0.1] [--addr 127.0.0.1:0] [--out DIR] [--serve-only]
//! ```
#![allow(clippy::print_stdout)]

use std::error::Error;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use mlops::core::synth::TELCO_COLUMNS;
use mlops::prelude::*;
use mlops::serve::http::{CORRELATION_HEADER, ModelSlot, ServerConfig, serve};
use mlops::serve::rollout::Canary;
use serde_json::{Value as Json, json};

const TELCO: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/data/telco_churn.csv");
const SEED: Seed = Seed(42);

struct Args {
    requests: usize,
    canary_weight: f64,
    addr: SocketAddr,
    out: PathBuf,
    serve_only: bool,
}

fn main() -> Result<(), Box<dyn Error>> {
    let args = parse_args()?;

    // 1. Train and register two versions into a fresh store. The stable one
    //    is `champion`; the forest is the canary candidate, `challenger`.
    //    Alias moves are audited by the registry.
    let store_dir = args.out.join("store");
    if store_dir.exists() {
        std::fs::remove_dir_all(&store_dir)?; // same output on every run
    }
    let store: SharedStore = Arc::new(SledStore::open(&store_dir)?);
    let (tracker, registry) = (Tracker::new(store.clone()), Registry::new(store));
    let frame = Frame::read_csv(TELCO)?;
    let spec = FeatureSpec::infer(&frame, "Churn", Some("Yes"))?;
    let forest = LearnerConfig::Forest(ForestParams::new().n_trees(40).max_depth(Some(10)));
    for (learner, alias) in [
        (LearnerConfig::from_name("logreg")?, "champion"),
        (forest, "challenger"),
    ] {
        let name = learner.name();
        let outcome = Trainer::new(spec.clone(), learner)
            .seed(SEED)
            .experiment("churn")
            .run_name(name)
            .data_source(TELCO)
            .register("churn")
            .train(&tracker, &frame)?;
        let version = outcome.registered.ok_or("the trainer registers")?.version;
        registry.set_alias("churn", alias, version, "churn_serve", "canary setup")?;
        println!(
            "trained   churn/{version} {name:<7} roc_auc {:.4}  -> churn@{alias}",
            outcome.metrics["roc_auc"]
        );
    }

    // 2. Serve both through a canary. Each request is routed by its
    //    correlation id (the x-correlation-id header, else a generated one),
    //    so a client that sends its own ids always sees the same version.
    let stable = Predictor::from_registry(&registry, &tracker, "churn@champion")?;
    let candidate = Predictor::from_registry(&registry, &tracker, "churn@challenger")?;
    let canary = Arc::new(Canary::new(stable, candidate, args.canary_weight, 7)?);
    let slot = ModelSlot::new();
    slot.canary(Arc::clone(&canary));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let listener = runtime.block_on(tokio::net::TcpListener::bind(args.addr))?;
    let base = format!("http://{}", listener.local_addr()?);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = runtime.spawn(serve(listener, slot, ServerConfig::default(), async {
        let _ = stopped.await; // graceful: in-flight requests finish first
    }));
    println!(
        "serving   {base}  canary {} at {:.0}%",
        canary.candidate().id(),
        100.0 * args.canary_weight
    );

    if args.serve_only {
        println!("try       curl -s {base}/invocations -H 'Content-Type: application/json' \\");
        println!(
            "            -H '{CORRELATION_HEADER}: customer-1' -d '{}'",
            request(&frame, 0)
        );
        println!("          curl -s {base}/metrics");
        println!("          (Ctrl-C stops the server)");
        runtime.block_on(tokio::signal::ctrl_c())?;
    } else {
        // 3. The client: one Telco row per request, in the MLflow
        //    `dataframe_split` shape, ids req-0, req-1, ... (so the split is
        //    the same on every run).
        let mut latencies = Vec::with_capacity(args.requests);
        let (mut errors, mut stable_n, mut canary_n) = (0, 0, 0);
        for i in 0..args.requests {
            let body = request(&frame, i % frame.n_rows()).to_string();
            let started = Instant::now();
            let reply = ureq::post(&format!("{base}/invocations"))
                .set("Content-Type", "application/json")
                .set(CORRELATION_HEADER, &format!("req-{i}"))
                .send_string(&body);
            latencies.push(started.elapsed());
            // The response names the version that answered.
            let model = reply
                .ok()
                .and_then(|r| r.into_string().ok())
                .and_then(|text| serde_json::from_str::<Json>(&text).ok())
                .and_then(|j| j["model"].as_str().map(str::to_owned));
            match model {
                Some(m) if m == canary.stable().id().to_string() => stable_n += 1,
                Some(m) if m == canary.candidate().id().to_string() => canary_n += 1,
                _ => errors += 1,
            }
        }
        println!("requests  {}  errors {errors}", args.requests);
        println!(
            "answered  {} {stable_n}  {} {canary_n}  (canary share {:.1}%)",
            canary.stable().id(),
            canary.candidate().id(),
            100.0 * canary_n as f64 / args.requests.max(1) as f64
        );
        println!(
            "latency   p50 {:.2} ms  p99 {:.2} ms  (client side, incl. HTTP)",
            millis(quantile(&mut latencies, 0.50)),
            millis(quantile(&mut latencies, 0.99))
        );

        // 4. What Prometheus would scrape: both versions' monitors and the
        //    canary's routing counters.
        let metrics = ureq::get(&format!("{base}/metrics"))
            .call()?
            .into_string()?;
        println!("/metrics  (excerpt)");
        metrics
            .lines()
            .filter(|l| l.starts_with("mlops_canary") || l.starts_with("mlops_predictions_total{"))
            .for_each(|l| println!("          {l}"));
    }

    // 5. Graceful shutdown: stop accepting, finish in-flight requests.
    let _ = stop.send(());
    runtime.block_on(server)??;
    println!("stopped   server shut down gracefully");
    Ok(())
}

/// One Telco row as an MLflow `dataframe_split` body (inputs only).
fn request(frame: &Frame, row: usize) -> Json {
    let columns: Vec<&str> = TELCO_COLUMNS
        .iter()
        .copied()
        .filter(|c| *c != "Churn")
        .collect();
    let record = Record::from_frame_row(frame, row);
    let data: Vec<Json> = columns
        .iter()
        .map(|c| match record.get(c) {
            Some(Value::Number(x)) if x.is_finite() => json!(x),
            Some(Value::Text(s)) => json!(s),
            _ => Json::Null, // missing (the pipeline imputes it)
        })
        .collect();
    json!({ "dataframe_split": { "columns": columns, "data": [data] } })
}

/// The `q` quantile (nearest rank) of `values`.
fn quantile(values: &mut [Duration], q: f64) -> Duration {
    values.sort_unstable();
    let rank = ((q * values.len() as f64).ceil() as usize).clamp(1, values.len().max(1));
    values.get(rank - 1).copied().unwrap_or_default()
}

fn millis(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn parse_args() -> Result<Args, Box<dyn Error>> {
    let mut args = Args {
        requests: 200,
        canary_weight: 0.1,
        addr: "127.0.0.1:0".parse()?,
        out: PathBuf::from("target/examples/churn_serve"),
        serve_only: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--requests" => args.requests = value()?.parse()?,
            "--canary-weight" => args.canary_weight = value()?.parse()?,
            "--addr" => args.addr = value()?.parse()?,
            "--out" => args.out = value()?.into(),
            "--serve-only" => args.serve_only = true,
            other => return Err(format!("unknown argument `{other}`").into()),
        }
    }
    Ok(args)
}
