//! Command-line arguments (clap derive): global options and the command
//! groups. Each group's arguments live beside its implementation in
//! `commands/`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::commands::data::DataCommand;
use crate::commands::drift::DriftArgs;
use crate::commands::models::ModelsCommand;
use crate::commands::report::ReportArgs;
use crate::commands::runs::RunsCommand;
use crate::commands::score::ScoreArgs;
use crate::commands::serve::ServeArgs;
use crate::commands::train::TrainArgs;

/// Exit code for a command line that does not parse (clap's convention).
const USAGE_EXIT: u8 = 2;

/// mlops: the in-process ML lifecycle, from the command line.
#[derive(Debug, Parser)]
#[command(name = "mlops", version, about)]
pub struct Cli {
    /// Tracking and registry store directory.
    #[arg(
        long,
        global = true,
        env = "MLOPS_STORE",
        default_value = "./mlops-store"
    )]
    pub store: PathBuf,

    /// Print one JSON document on stdout instead of human text.
    #[arg(long, global = true)]
    pub json: bool,

    /// Format of the input tables (csv or parquet); default: by extension
    /// (`.parquet`/`.pq` is Parquet, anything else CSV).
    #[arg(long, global = true)]
    pub format: Option<mlops_core::data::TableFormat>,

    /// The command to run.
    #[command(subcommand)]
    pub command: Command,
}

/// The command groups.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Inspect and generate data sets.
    #[command(subcommand)]
    Data(DataCommand),
    /// Train, evaluate, package and track a model from a CSV file.
    Train(Box<TrainArgs>),
    /// List, show, search and record tracked runs.
    #[command(subcommand)]
    Runs(RunsCommand),
    /// Inspect registered models, move aliases, roll them back.
    #[command(subcommand)]
    Models(ModelsCommand),
    /// Compare a current CSV file with a reference one, column by column.
    Drift(DriftArgs),
    /// Write a self-contained HTML report of a run or of a drift check.
    Report(ReportArgs),
    /// Score a CSV file with a model (batch, in input order).
    Score(ScoreArgs),
    /// Serve a model over HTTP (the MLflow scoring protocol).
    Serve(ServeArgs),
}

/// Prints help or version on stdout (exit 0), or a command-line error as one
/// line on stderr (exit 2).
pub fn usage_error(err: clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    if matches!(
        err.kind(),
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion
    ) {
        // clap renders help and version to stdout itself.
        let _ = err.print();
        return ExitCode::SUCCESS;
    }
    if err.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
        let _ = err.print();
        return ExitCode::from(USAGE_EXIT);
    }
    // clap's message, up to its usage block, folded into one line.
    let rendered = err.to_string();
    let message: Vec<&str> = rendered
        .lines()
        .take_while(|l| !l.starts_with("Usage:") && !l.starts_with("For more information"))
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let message = message.join(" ");
    let msg = message.trim_start_matches("error: ");
    crate::error::print_line(&format!("{msg} (see `mlops --help`)"));
    ExitCode::from(USAGE_EXIT)
}
