//! Batch scoring: a CSV of customers in, a CSV of churn scores out, in
//! bounded memory, with the registry's `churn@champion`.
//!
//! The input is either a file (`--input FILE`) or `--rows N` synthetic
//! customers in the Telco schema (seeded; `--shift 0.8` moves the population
//! so that the drift check has something to find). If the store has no
//! `churn@champion` yet, a logistic model is trained on the bundled Telco file
//! first, so the example runs on its own; `churn_train --register churn
//! --promote champion --store DIR` puts your own model there.
//!
//! ```sh
//! cargo run --example churn_batch -- --rows 200000 --shift 0.8
//! ```
//!
//! Flags: `--input FILE` or `--rows N` (default 50000), `--shift X`,
//! `--seed N`, `--store DIR`, `--out DIR`, `--chunk-rows N`.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::error::Error;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use mlops::core::synth::ChurnSynth;
use mlops::prelude::*;
use mlops::serve::batch::{BatchConfig, BatchScorer};

const TELCO: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/data/telco_churn.csv");
const DEFAULT_OUT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/target/examples/churn_batch");
const FLAGS: &[&str] = &[
    "input",
    "rows",
    "shift",
    "seed",
    "store",
    "out",
    "chunk-rows",
];

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), Box<dyn Error>> {
    let args = Flags::parse(FLAGS)?;
    let out = PathBuf::from(args.get("out").unwrap_or(DEFAULT_OUT));
    let store_dir = args
        .get("store")
        .map_or_else(|| out.join("store"), PathBuf::from);
    let seed = Seed(args.get("seed").unwrap_or("7").parse()?);
    std::fs::create_dir_all(&out)?;

    // 1. The model: whatever `churn@champion` points at in the store.
    std::fs::create_dir_all(&store_dir)?;
    let store: SharedStore = Arc::new(SledStore::open(&store_dir)?);
    let tracker = Tracker::new(store.clone());
    let registry = Registry::new(store);
    if registry.resolve("churn@champion").is_err() {
        println!(
            "model     no churn@champion in the store: training a logistic one on the Telco file"
        );
        train_champion(&tracker)?;
    }
    let champion = registry.resolve("churn@champion")?;
    let package = load_registered(&registry, &tracker, "churn@champion")?;
    println!(
        "model     churn@champion = v{} ({}), package digest {:.16}",
        champion.version,
        package.meta().learner,
        package.digest()
    );

    // 2. The input: a file as given, or synthetic customers streamed to a
    //    CSV (in constant memory, so `--rows` can be large).
    let input = match args.get("input") {
        Some(path) => PathBuf::from(path),
        None => {
            let rows: u64 = args.get("rows").unwrap_or("50000").parse()?;
            let shift: f64 = args.get("shift").unwrap_or("0").parse()?;
            let path = out.join("customers.csv");
            ChurnSynth::new(seed)
                .rows(rows)
                .shift(shift)
                .write_csv_path(&path)?;
            println!(
                "input     {rows} synthetic customers (shift {shift}) -> {}",
                path.display()
            );
            path
        }
    };

    // 3. Score. Memory is bounded by chunk size x chunks in flight, not by
    //    the file; output keeps input order. Up to 1 % bad rows are set aside
    //    in the rejects file (with line and reason) instead of failing the job.
    let chunk_rows: usize = args.get("chunk-rows").unwrap_or("8192").parse()?;
    let config = BatchConfig::new()
        .id_column("customerID")
        .chunk_rows(chunk_rows)
        .max_reject_ratio(0.01);
    let scorer = BatchScorer::new(&package, config)?;
    let (scores, rejects) = (out.join("scores.csv"), out.join("rejects.csv"));
    let summary = scorer.score_csv_path(&input, &scores, Some(&rejects))?;

    // 4. Report: throughput, rejects, and whether this batch still looks
    //    like the data the model was trained on.
    println!(
        "scored    {} of {} rows in {:.2} s ({:.0} rows/s), peak buffered {} KiB",
        summary.scored,
        summary.rows,
        summary.seconds,
        summary.rows as f64 / summary.seconds.max(1e-9),
        summary.peak_buffered_bytes / 1024
    );
    println!(
        "rejects   {} rows -> {}",
        summary.rejected,
        rejects.display()
    );
    match &summary.drift {
        Some(drift) => {
            let drifted: Vec<&str> = (drift.columns.iter())
                .filter(|(_, c)| c.drifted)
                .map(|(name, _)| name.as_str())
                .collect();
            println!(
                "drift     {} of {} columns drifted (share {:.2}) -> dataset drift: {}",
                drift.n_drifted,
                drift.columns.len(),
                drift.drift_share,
                if drift.dataset_drift { "YES" } else { "no" }
            );
            if !drifted.is_empty() {
                println!("          drifted: {}", drifted.join(", "));
            }
        }
        None => println!("drift     not checked (the package has no training profile)"),
    }
    println!("output    {}", scores.display());
    Ok(())
}

/// Trains logistic regression on the Telco file and makes it `churn@champion`.
fn train_champion(tracker: &Tracker) -> Result<(), Box<dyn Error>> {
    let frame = Frame::read_csv(TELCO)?;
    let spec = FeatureSpec::infer(&frame, "Churn", Some("Yes"))?;
    let gate = PromotionGate::builder()
        .higher_is_better("roc_auc", 0.005)
        .build()?;
    let outcome = Trainer::new(spec, LearnerConfig::from_name("logreg")?)
        .seed(Seed(42))
        .experiment("churn")
        .data_source(TELCO)
        .register("churn")
        .promote("champion", gate)
        .train(tracker, &frame)?;
    println!(
        "model     trained run {} (roc_auc {:.4})",
        outcome.run_id, outcome.metrics["roc_auc"]
    );
    Ok(())
}

/// `--name value` pairs from the command line, in order.
struct Flags(Vec<(String, String)>);

impl Flags {
    fn parse(known: &[&str]) -> Result<Self, String> {
        let mut args = std::env::args().skip(1);
        let mut found = Vec::new();
        while let Some(arg) = args.next() {
            let name = arg.strip_prefix("--").filter(|n| known.contains(n));
            let (Some(name), Some(value)) = (name, args.next()) else {
                return Err(format!(
                    "unexpected `{arg}`; flags: --{}",
                    known.join(" --")
                ));
            };
            found.push((name.to_owned(), value));
        }
        Ok(Flags(found))
    }

    /// The last value given for `name`.
    fn get(&self, name: &str) -> Option<&str> {
        (self.0.iter().rev())
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}
