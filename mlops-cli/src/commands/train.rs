//! `mlops train`: train, evaluate, package and track one model from a CSV
//! file, optionally registering it.

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;

use clap::Args;
use mlops_core::data::{CsvReader, Frame};
use mlops_core::features::FeatureSpec;
use mlops_core::seed::Seed;
use mlops_core::store::SledStore;
use mlops_core::tracking::Tracker;
use mlops_train::trainer::{LearnerConfig, Trainer};
use serde::Serialize;
use std::collections::BTreeMap;

use super::Context;
use crate::error::{CliError, Result};
use crate::output::{Report, emit, stat};

/// Arguments of `mlops train`.
#[derive(Debug, Args)]
pub struct TrainArgs {
    /// Training data (CSV with a header row, or Parquet).
    #[arg(long)]
    pub data: PathBuf,
    /// Separate test data (CSV or Parquet); every row of --data is then a training row.
    #[arg(long, conflicts_with = "test_size")]
    pub test_data: Option<PathBuf>,
    /// Share of --data held out as the test set (seeded, stratified for
    /// classification).
    #[arg(long, default_value_t = 0.2)]
    pub test_size: f64,
    /// The column to predict.
    #[arg(long)]
    pub target: String,
    /// The positive label (binary classification); omit for a numeric
    /// regression target, or for multiclass on a text target with more
    /// than two labels (logreg, tree, rf and gbm).
    #[arg(long)]
    pub positive: Option<String>,
    /// The learner: logreg, tree, rf, gbm (gradient boosting) or linear
    /// (mlp needs the `burn` feature).
    #[arg(long, default_value = "logreg")]
    pub model: String,
    /// Root seed of the split, the learner and the profile.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Experiment to log the run in.
    #[arg(long, default_value = "default")]
    pub experiment: String,
    /// Register the package as a new version of this model.
    #[arg(long)]
    pub register: Option<String>,
    /// Leave a column out of the features; repeatable.
    #[arg(long = "drop", value_name = "COL")]
    pub drop: Vec<String>,
    /// Set a learner hyper-parameter; repeatable (`--param max_depth=6`,
    /// `--param engine=smartcore` for smartcore's random forest; per-class
    /// weights in class order: `--param class_weight=1,2.5,3`).
    #[arg(long = "param", value_name = "KEY=VALUE", value_parser = parse_param)]
    pub params: Vec<(String, String)>,
}

fn parse_param(s: &str) -> std::result::Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_owned(), v.trim().to_owned())),
        _ => Err(format!("`{s}` is not KEY=VALUE")),
    }
}

/// The `{"name","version"}` of a registered package.
#[derive(Debug, Serialize)]
struct Registered {
    name: String,
    version: u32,
}

/// The report of `mlops train` (keys fixed by the CLI contract).
#[derive(Debug, Serialize)]
struct TrainReport {
    run_id: String,
    experiment: String,
    model: String,
    seed: u64,
    metrics: BTreeMap<String, f64>,
    package_digest: String,
    registered: Option<Registered>,
}

/// Runs `mlops train`.
pub fn run(ctx: &Context, args: &TrainArgs) -> Result<()> {
    emit(&train(ctx, args)?, ctx.json)
}

fn read(ctx: &Context, path: &std::path::Path, drop: &[&str]) -> Result<Frame> {
    let frame = ctx.read_table(path, &CsvReader::new())?;
    if drop.is_empty() {
        return Ok(frame);
    }
    Ok(frame.drop_columns(drop)?)
}

fn train(ctx: &Context, args: &TrainArgs) -> Result<TrainReport> {
    let mut learner = LearnerConfig::from_name(&args.model)?;
    for (key, value) in &args.params {
        learner = learner.set_param(key, value)?;
    }
    if args.drop.iter().any(|d| d == &args.target) {
        return Err(CliError::Arguments(format!(
            "--drop {} removes the target column",
            args.target
        )));
    }
    let drop: Vec<&str> = args.drop.iter().map(String::as_str).collect();
    let frame = read(ctx, &args.data, &drop)?;
    let spec = FeatureSpec::infer(&frame, &args.target, args.positive.as_deref())?;
    let mut trainer = Trainer::new(spec, learner)
        .seed(Seed(args.seed))
        .experiment(args.experiment.clone())
        .data_source(args.data.display().to_string());
    trainer = match &args.test_data {
        Some(path) => trainer.test_frame(read(ctx, path, &drop)?),
        None => trainer.test_fraction(args.test_size),
    };
    if let Some(name) = &args.register {
        trainer = trainer.register(name.clone());
    }
    let store = Arc::new(SledStore::open(&ctx.store)?);
    let tracker = Tracker::new(store);
    let outcome = trainer.train(&tracker, &frame)?;
    Ok(TrainReport {
        run_id: outcome.run_id,
        experiment: args.experiment.clone(),
        model: args.model.clone(),
        seed: args.seed,
        metrics: outcome.metrics,
        package_digest: outcome.package.digest().to_string(),
        registered: outcome.registered.map(|v| Registered {
            name: v.model,
            version: v.version,
        }),
    })
}

impl Report for TrainReport {
    fn write_human(&self, out: &mut dyn Write) -> std::io::Result<()> {
        writeln!(
            out,
            "trained {} (seed {}) in experiment `{}`, run {}",
            self.model, self.seed, self.experiment, self.run_id
        )?;
        for (k, v) in &self.metrics {
            writeln!(out, "  {k:<10} {}", stat(Some(*v)))?;
        }
        writeln!(out, "package {}", self.package_digest)?;
        match &self.registered {
            Some(r) => writeln!(out, "registered as {}/{}", r.name, r.version),
            None => Ok(()),
        }
    }
}
