//! The churn pipeline: the README's main job, the whole lifecycle in one run.
//!
//! On the bundled IBM Telco file, with one root seed: infer the feature spec,
//! train logistic regression and a random forest (and an MLP with the `burn`
//! feature) through the `Trainer`, which logs each run and registers it as a
//! version of `churn`, a promotion gate keeping `champion` on the best; then
//! compare the runs, batch-score the held-out customers with the champion,
//! check a shifted batch for drift and write HTML reports. Running it twice
//! prints the same metrics and model digests.
//!
//! ```sh
//! cargo run --example churn_pipeline -- [--data FILE] [--out DIR] [--trees N] [--seed N]
//! ```
//!
//! Output goes to `--out` (default `target/examples/churn_pipeline/`): the
//! store (recreated every run), the holdout and its scores, two reports.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::collections::HashMap;
use std::error::Error;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use mlops::core::drift::compare;
use mlops::core::report::{drift_html, run_html};
use mlops::core::synth::ChurnSynth;
use mlops::core::tracking::SearchQuery;
use mlops::prelude::*;
use mlops::serve::batch::{BatchConfig, BatchScorer};

const DEFAULT_DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/data/telco_churn.csv");
const DEFAULT_OUT: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/target/examples/churn_pipeline"
);

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
    let args = flags(&["data", "out", "trees", "seed"])?;
    let data = PathBuf::from(args.get("data").map_or(DEFAULT_DATA, String::as_str));
    let out = PathBuf::from(args.get("out").map_or(DEFAULT_OUT, String::as_str));
    let trees = args.get("trees").map_or("100", String::as_str);
    let seed = Seed(args.get("seed").map_or(Ok(42), |s| s.parse())?);

    // 1. Read the data and infer the feature spec from it: numeric columns
    //    are imputed and scaled, categorical ones one-hot encoded, ids dropped.
    let frame = Frame::read_csv(&data)?;
    let spec = FeatureSpec::infer(&frame, "Churn", Some("Yes"))?;
    println!(
        "data      {}: {} rows x {} columns",
        data.display(),
        frame.n_rows(),
        frame.n_cols()
    );
    println!(
        "features  {} numeric + {} categorical inputs; excluded: {}",
        spec.numeric.len(),
        spec.categorical.len(),
        spec.excluded.join(", ")
    );

    // 2. A fresh store, so that every run prints the same versions. Runs,
    //    artifacts and the registry all live in this one embedded database.
    let store_dir = out.join("store");
    if store_dir.exists() {
        std::fs::remove_dir_all(&store_dir)?;
    }
    std::fs::create_dir_all(&out)?;
    let store: SharedStore = Arc::new(SledStore::open(&store_dir)?);
    let tracker = Tracker::new(store.clone());
    let registry = Registry::new(store);

    // 3. Train each learner. The Trainer splits with the same seed every time
    //    (so all learners see the same 80/20 split), fits the features on the
    //    training rows only, logs params, metrics, spec, drift profile and the
    //    model package, registers a version, and asks the gate whether it
    //    beats the current champion by at least 0.005 ROC AUC.
    let gate = PromotionGate::builder()
        .higher_is_better("roc_auc", 0.005)
        .build()?;
    let mut learners = vec![
        LearnerConfig::from_name("logreg")?,
        LearnerConfig::from_name("rf")?.set_param("n_trees", trees)?,
    ];
    // The MLP learner exists only when built with `--features burn`.
    if cfg!(feature = "burn") {
        learners.push(LearnerConfig::from_name("mlp")?);
    }
    let mut outcomes = HashMap::new();
    for learner in learners {
        let name = learner.name();
        let outcome = Trainer::new(spec.clone(), learner)
            .seed(seed)
            .experiment("churn")
            .run_name(name)
            .data_source(data.display().to_string())
            .register("churn")
            .promote("champion", gate.clone())
            .train(&tracker, &frame)?;
        outcomes.insert(outcome.run_id.clone(), outcome);
    }

    // 4. Compare the runs the way you would query them later: a search over
    //    the experiment, best ROC AUC first.
    let runs = tracker.search(
        &SearchQuery::new()
            .experiment("churn")
            .order_by("metrics.roc_auc DESC"),
    )?;
    let any = outcomes.values().next().ok_or("no learner ran")?;
    if let Some(split) = &any.split {
        println!(
            "split     {} train / {} test rows -> {} model inputs after encoding",
            split.train.len(),
            split.test.len(),
            any.package.features().n_outputs()
        );
    }
    println!();
    println!("model     roc_auc   pr_auc  log_loss  accuracy  package digest    v  gate");
    for run in &runs.runs {
        let metric = |key: &str| run.metrics.get(key).map_or(f64::NAN, |m| m.value);
        let outcome = &outcomes[&run.run_id];
        let promoted = outcome.gate.as_ref().is_some_and(|g| g.promoted);
        println!(
            "{:<8} {:>8.4} {:>8.4} {:>9.4} {:>9.4}  {:.16}  {:>2}  {}",
            run.run_name,
            metric("roc_auc"),
            metric("pr_auc"),
            metric("log_loss"),
            metric("accuracy"),
            outcome.package.digest(),
            outcome.registered.as_ref().map_or(0, |v| v.version),
            if promoted { "promoted" } else { "not promoted" }
        );
    }

    // 5. The champion is whatever the alias points at now; services load it
    //    by name, never by run id.
    let champion = registry.resolve("churn@champion")?;
    let package = load_registered(&registry, &tracker, "churn@champion")?;
    println!();
    println!(
        "champion  churn@champion = version {} ({}), package digest {:.16}",
        champion.version,
        package.meta().learner,
        package.digest()
    );

    // 6. Batch-score the held-out customers with the champion, as a nightly
    //    job would: a CSV in, a CSV of scores out, bad rows set aside.
    let split = outcomes[&champion.run_id]
        .split
        .as_ref()
        .ok_or("the trainer split the frame, so it reports the split")?;
    let holdout_csv = out.join("holdout.csv");
    let (scores_csv, rejects_csv) = (out.join("scores.csv"), out.join("rejects.csv"));
    frame.take(&split.test)?.write_csv_path(&holdout_csv)?;
    let scorer = BatchScorer::new(&package, BatchConfig::new().id_column("customerID"))?;
    let batch = scorer.score_csv_path(&holdout_csv, &scores_csv, Some(&rejects_csv))?;
    println!(
        "batch     holdout: {} rows scored, {} rejected -> {}",
        batch.scored,
        batch.rejected,
        scores_csv.display()
    );

    // 7. Drift: the training rows against a synthetic batch whose customers
    //    moved (more month-to-month contracts, higher charges). Only the
    //    model's inputs are compared; the label is not known at scoring time.
    let train = frame.take(&split.train)?;
    let shifted = ChurnSynth::new(seed.derive("shifted"))
        .rows(2_000)
        .shift(0.8)
        .to_frame()?;
    let inputs: Vec<String> = package
        .features()
        .input_columns()
        .iter()
        .map(|f| f.name.clone())
        .collect();
    let drift = compare(&train, &shifted, &DriftOptions::default().columns(inputs))?;
    let drifted: Vec<&str> = drift
        .columns
        .iter()
        .filter(|(_, c)| c.drifted)
        .map(|(name, _)| name.as_str())
        .collect();
    println!(
        "drift     shifted batch: {} of {} columns drifted (share {:.2}) -> dataset drift: {}",
        drift.n_drifted,
        drift.columns.len(),
        drift.drift_share,
        if drift.dataset_drift { "YES" } else { "no" }
    );
    println!("          drifted: {}", drifted.join(", "));

    // 8. Reports: self-contained HTML pages to open in a browser or attach
    //    to a review.
    let run_report = out.join("champion_run.html");
    let drift_report = out.join("drift_report.html");
    std::fs::write(&run_report, run_html(&tracker, &champion.run_id)?)?;
    std::fs::write(
        &drift_report,
        drift_html(
            "Telco training rows vs shifted batch",
            &train,
            &shifted,
            &drift,
        )?,
    )?;
    println!();
    println!("store     {}", store_dir.display());
    println!("reports   {}", run_report.display());
    println!("          {}", drift_report.display());
    Ok(())
}

/// `--name value` pairs from the command line; anything else is an error.
fn flags(known: &[&str]) -> Result<HashMap<String, String>, String> {
    let usage = || format!("usage: [--{} VALUE]...", known.join(" VALUE] [--"));
    let mut args = std::env::args().skip(1);
    let mut found = HashMap::new();
    while let Some(arg) = args.next() {
        let name = arg.strip_prefix("--").filter(|n| known.contains(n));
        let (Some(name), Some(value)) = (name, args.next()) else {
            return Err(format!("unexpected `{arg}`; {}", usage()));
        };
        found.insert(name.to_owned(), value);
    }
    Ok(found)
}
