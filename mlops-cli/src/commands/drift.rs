//! `mlops drift`: compare a current CSV file with a reference one.

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::Args;
use mlops_core::data::{ColumnType, CsvReader, Frame};
use mlops_core::drift::{DriftOptions, DriftReport, Method, compare};

use super::Context;
use crate::error::Result;
use crate::output::{Report, emit};

/// Arguments of `mlops drift`.
#[derive(Debug, Args)]
pub struct DriftArgs {
    /// The reference CSV or Parquet file (for example the training data).
    #[arg(long)]
    pub reference: PathBuf,
    /// The current CSV or Parquet file (for example a scoring batch).
    #[arg(long)]
    pub current: PathBuf,
    /// Only these columns (default: every column in both files).
    #[arg(long, value_delimiter = ',', value_name = "C,...")]
    pub columns: Option<Vec<String>>,
    /// The test for every column; `auto` picks one per column as Evidently
    /// does. Also: hellinger, kl.
    #[arg(long, default_value = "auto", value_parser = parse_method,
          value_name = "auto|psi|ks|chisquare|ztest|jensenshannon|wasserstein")]
    pub method: MethodChoice,
}

/// `--method`: automatic or one named test.
#[derive(Debug, Clone, Copy)]
pub struct MethodChoice(Option<Method>);

fn parse_method(s: &str) -> std::result::Result<MethodChoice, String> {
    if s == "auto" {
        return Ok(MethodChoice(None));
    }
    s.parse::<Method>()
        .map(|m| MethodChoice(Some(m)))
        .map_err(|_| {
            format!(
                "unknown drift method `{s}` (expected auto, psi, ks, chisquare, ztest, \
             jensenshannon, wasserstein, hellinger or kl)"
            )
        })
}

/// Runs `mlops drift`.
pub fn run(ctx: &Context, args: &DriftArgs) -> Result<()> {
    let (reference, current) = read_pair(ctx, &args.reference, &args.current)?;
    let mut options = DriftOptions::default();
    if let Some(cols) = &args.columns {
        options = options.columns(cols.iter().map(|c| c.trim().to_owned()));
    }
    if let Some(method) = args.method.0 {
        options = options.method(method);
    }
    emit(&Drift(compare(&reference, &current, &options)?), ctx.json)
}

/// Reads a reference and a current file. Types are inferred per file; where
/// they disagree, the current file is read again with the reference's types,
/// so a cell that does not fit is reported with its file, line and column.
pub(crate) fn read_pair(
    ctx: &Context,
    reference_path: &Path,
    current_path: &Path,
) -> Result<(Frame, Frame)> {
    let reference = read(ctx, reference_path, Vec::new())?;
    let mut current = read(ctx, current_path, Vec::new())?;
    let current_schema = current.schema();
    let mismatched: Vec<(String, ColumnType)> = reference
        .schema()
        .fields
        .into_iter()
        .filter(|f| {
            current_schema
                .column_type(&f.name)
                .is_some_and(|t| t != f.column_type)
        })
        .map(|f| (f.name, f.column_type))
        .collect();
    if !mismatched.is_empty() {
        tracing::debug!(columns = ?mismatched, "re-reading current file with the reference types");
        current = read(ctx, current_path, mismatched)?;
    }
    Ok((reference, current))
}

/// Reads a CSV (with these column types) or Parquet file.
fn read(ctx: &Context, path: &Path, schema: Vec<(String, ColumnType)>) -> Result<Frame> {
    ctx.read_table(path, &CsvReader::new().schema(schema))
}

/// The library's report: its JSON is the contract's shape (plus
/// `share_threshold`, `n_drifted`, per-column `kind` and counts, and
/// `skipped`), its `Display` the table.
#[derive(Debug, serde::Serialize)]
#[serde(transparent)]
struct Drift(DriftReport);

impl Report for Drift {
    fn write_human(&self, out: &mut dyn Write) -> std::io::Result<()> {
        writeln!(out, "{}", self.0)
    }
}
