//! `mlops data`: profile a CSV file, generate synthetic churn data.

use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

use clap::{Args, Subcommand};
use mlops_core::data::{
    ColumnSummary, ColumnType, CsvReader, FrameSummary, RejectedRow, TableFormat,
};
use mlops_core::seed::Seed;
use mlops_core::synth::ChurnSynth;
use serde::Serialize;

use super::Context;
use crate::error::{CliError, Result};
use crate::output::{Report, emit, stat};

/// `mlops data ...`
#[derive(Debug, Subcommand)]
pub enum DataCommand {
    /// Summarise a CSV file: rows, columns, types, missing values,
    /// numeric statistics and top categories.
    Profile(ProfileArgs),
    /// Write a seeded synthetic churn data set with the Telco schema.
    Synth(SynthArgs),
}

/// Arguments of `mlops data profile`.
#[derive(Debug, Args)]
pub struct ProfileArgs {
    /// The CSV file (with a header row) or Parquet file.
    pub file: PathBuf,
    /// Force a column's type instead of inferring it; repeatable.
    #[arg(long = "schema", value_name = "COL=numeric|categorical", value_parser = parse_schema_entry)]
    pub schema: Vec<(String, ColumnType)>,
    /// Report bad rows instead of failing on the first one.
    #[arg(long)]
    pub lenient: bool,
}

/// Arguments of `mlops data synth`.
#[derive(Debug, Args)]
pub struct SynthArgs {
    /// Number of rows.
    #[arg(long)]
    pub rows: u64,
    /// Root seed: the same seed gives the same bytes.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Output CSV file (created or overwritten).
    #[arg(long)]
    pub out: PathBuf,
    /// Population shift in [0, 1] (more month-to-month contracts, higher
    /// charges, more churn), for drift demos.
    #[arg(long, default_value_t = 0.0)]
    pub shift: f64,
}

/// Runs a `data` command.
pub fn run(ctx: &Context, cmd: DataCommand) -> Result<()> {
    match cmd {
        DataCommand::Profile(args) => emit(&profile(ctx, &args)?, ctx.json),
        DataCommand::Synth(args) => emit(&synth(&args)?, ctx.json),
    }
}

fn parse_schema_entry(s: &str) -> std::result::Result<(String, ColumnType), String> {
    let (name, ty) = s
        .rsplit_once('=')
        .ok_or_else(|| format!("`{s}` is not COL=numeric|categorical"))?;
    let ty = match ty.trim().to_ascii_lowercase().as_str() {
        "numeric" => ColumnType::Numeric,
        "categorical" => ColumnType::Categorical,
        other => {
            return Err(format!(
                "unknown type `{other}`, expected numeric or categorical"
            ));
        }
    };
    if name.is_empty() {
        return Err(format!("`{s}` names no column"));
    }
    Ok((name.to_owned(), ty))
}

/// The report of `mlops data profile`.
#[derive(Debug, Serialize)]
struct ProfileReport {
    file: String,
    #[serde(flatten)]
    summary: FrameSummary,
    /// Rows set aside in `--lenient` mode (always empty otherwise).
    rejected: Vec<RejectedRow>,
}

fn profile(ctx: &Context, args: &ProfileArgs) -> Result<ProfileReport> {
    if ctx.table_format(&args.file) == TableFormat::Parquet {
        // Typed already: nothing to infer, no cell to reject.
        return Ok(ProfileReport {
            file: args.file.display().to_string(),
            summary: ctx.read_table(&args.file, &CsvReader::new())?.describe(),
            rejected: Vec::new(),
        });
    }
    let outcome = CsvReader::new()
        .schema(args.schema.iter().cloned())
        .lenient(args.lenient)
        .read_path(&args.file)?;
    Ok(ProfileReport {
        file: args.file.display().to_string(),
        summary: outcome.frame.describe(),
        rejected: outcome.rejected,
    })
}

impl Report for ProfileReport {
    fn write_human(&self, out: &mut dyn Write) -> std::io::Result<()> {
        let s = &self.summary;
        writeln!(
            out,
            "{}: {} rows, {} columns",
            self.file, s.n_rows, s.n_cols
        )?;
        let width = s
            .columns
            .iter()
            .map(|c| c.name.len())
            .max()
            .unwrap_or(6)
            .max(6);
        let numeric: Vec<&ColumnSummary> =
            s.columns.iter().filter(|c| c.numeric.is_some()).collect();
        if !numeric.is_empty() {
            writeln!(out, "\nnumeric columns")?;
            writeln!(
                out,
                "{:width$}  {:>9} {:>8} {:>10} {:>10} {:>10} {:>10} {:>10} {:>10} {:>10} {:>10} {:>10}",
                "column",
                "count",
                "missing",
                "min",
                "p05",
                "p25",
                "p50",
                "p75",
                "p95",
                "max",
                "mean",
                "std"
            )?;
            for c in numeric {
                let Some(n) = c.numeric else { continue };
                writeln!(
                    out,
                    "{:width$}  {:>9} {:>8} {:>10} {:>10} {:>10} {:>10} {:>10} {:>10} {:>10} {:>10} {:>10}",
                    c.name,
                    c.count,
                    c.missing,
                    stat(n.min),
                    stat(n.p05),
                    stat(n.p25),
                    stat(n.p50),
                    stat(n.p75),
                    stat(n.p95),
                    stat(n.max),
                    stat(n.mean),
                    stat(n.std)
                )?;
            }
        }
        let categorical: Vec<&ColumnSummary> = s
            .columns
            .iter()
            .filter(|c| c.categorical.is_some())
            .collect();
        if !categorical.is_empty() {
            writeln!(out, "\ncategorical columns")?;
            writeln!(
                out,
                "{:width$}  {:>9} {:>8} {:>8}  top",
                "column", "count", "missing", "distinct"
            )?;
            for c in categorical {
                let Some(cat) = &c.categorical else { continue };
                let top: Vec<String> = cat
                    .top
                    .iter()
                    .take(3)
                    .map(|t| format!("{} ({})", t.value, t.count))
                    .collect();
                writeln!(
                    out,
                    "{:width$}  {:>9} {:>8} {:>8}  {}",
                    c.name,
                    c.count,
                    c.missing,
                    cat.distinct,
                    top.join(", ")
                )?;
            }
        }
        if !self.rejected.is_empty() {
            writeln!(out, "\n{} rejected rows", self.rejected.len())?;
            for r in &self.rejected {
                let column = r
                    .column
                    .as_deref()
                    .map(|c| format!(" column `{c}`:"))
                    .unwrap_or_default();
                writeln!(out, "  line {}:{column} {}", r.line, r.reason)?;
            }
        }
        Ok(())
    }
}

/// The report of `mlops data synth`.
#[derive(Debug, Serialize)]
struct SynthReport {
    file: String,
    rows: u64,
    seed: u64,
    shift: f64,
    bytes: u64,
    seconds: f64,
}

fn synth(args: &SynthArgs) -> Result<SynthReport> {
    let params = ChurnSynth::new(Seed(args.seed))
        .rows(args.rows)
        .shift(args.shift)
        .check()?;
    let start = Instant::now();
    tracing::info!(rows = args.rows, out = %args.out.display(), "generating synthetic churn data");
    let rows = params.write_csv_path(&args.out)?;
    let seconds = start.elapsed().as_secs_f64();
    let bytes = std::fs::metadata(&args.out)
        .map_err(|source| CliError::Io {
            path: args.out.clone(),
            source,
        })?
        .len();
    Ok(SynthReport {
        file: args.out.display().to_string(),
        rows,
        seed: args.seed,
        shift: args.shift,
        bytes,
        seconds,
    })
}

impl Report for SynthReport {
    fn write_human(&self, out: &mut dyn Write) -> std::io::Result<()> {
        writeln!(
            out,
            "wrote {} rows ({:.1} MB) to {} in {:.2} s (seed {}, shift {})",
            self.rows,
            self.bytes as f64 / 1e6,
            self.file,
            self.seconds,
            self.seed,
            self.shift
        )
    }
}
