//! `mlops score`: batch scoring of a CSV file.

use std::fs::File;
use std::io::{BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use clap::Args;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use mlops_core::atomic_file::AtomicFile;
use mlops_core::data::{TableFormat, TableWriter};
use mlops_core::drift::DriftReport;
use mlops_core::model::{ModelPackage, load_registered};
use mlops_core::registry::Registry;
use mlops_core::tracking::Tracker;
use mlops_serve::batch::CsvProgress;
use mlops_serve::{BatchConfig, BatchScorer, UnknownCategories};
use serde::Serialize;

use super::Context;
use crate::error::{CliError, Result};
use crate::output::{Report, emit};

/// `mlops score` arguments.
#[derive(Debug, Args)]
pub struct ScoreArgs {
    /// The model: NAME@ALIAS, NAME/VERSION (from the store) or FILE.mlpkg.
    #[arg(long)]
    pub model: String,
    /// The CSV (header row) or Parquet file to score; needs the model's
    /// input columns.
    #[arg(long)]
    pub input: PathBuf,
    /// Where to write `[ID,]score,label` (written whole or not at all);
    /// Parquet for a `.parquet` name (needs a Parquet input).
    #[arg(long)]
    pub output: PathBuf,
    /// An input column copied into the output as its first column.
    #[arg(long = "id-col")]
    pub id_col: Option<String>,
    /// Where to write rejected rows (line, column, reason, the row).
    #[arg(long)]
    pub rejects: Option<PathBuf>,
    /// Share of rows that may be rejected before the job fails.
    #[arg(long, default_value_t = 0.0)]
    pub max_reject_ratio: f64,
    /// Worker threads (default: one per core).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Rows per parallel chunk.
    #[arg(long, default_value_t = 8192)]
    pub chunk_rows: usize,
    /// A category never seen in training: `report` scores it in the unknown
    /// bucket and counts it, `ignore` scores it without counting, `error`
    /// rejects its row (to --rejects with its line and the known values;
    /// counted against --max-reject-ratio, so with the default 0 the job
    /// fails).
    #[arg(long, default_value_t = UnknownCategories::Report, value_name = "report|error|ignore")]
    pub unknown_categories: UnknownCategories,
}

/// What `mlops score` prints.
#[derive(Debug, Serialize)]
pub struct ScoreReport {
    rows: u64,
    scored: u64,
    rejected: u64,
    unknown_categories: u64,
    seconds: f64,
    model: String,
    output: PathBuf,
    rejects: Option<PathBuf>,
    drift: Option<DriftReport>,
}

impl ScoreReport {
    fn new(summary: mlops_serve::BatchSummary, model: String, args: ScoreArgs) -> Self {
        ScoreReport {
            rows: summary.rows,
            scored: summary.scored,
            rejected: summary.rejected,
            unknown_categories: summary.unknown_categories,
            seconds: summary.seconds,
            model,
            output: args.output,
            rejects: args.rejects,
            drift: summary.drift,
        }
    }
}

impl Report for ScoreReport {
    fn write_human(&self, out: &mut dyn Write) -> std::io::Result<()> {
        writeln!(
            out,
            "scored {} of {} rows with {} in {:.2} s -> {}",
            self.scored,
            self.rows,
            self.model,
            self.seconds,
            self.output.display()
        )?;
        if self.rejected > 0 {
            let to = self
                .rejects
                .as_ref()
                .map(|p| format!(" (see {})", p.display()))
                .unwrap_or_default();
            writeln!(out, "{} rows rejected{to}", self.rejected)?;
        }
        if self.unknown_categories > 0 {
            writeln!(
                out,
                "{} categories unseen in training",
                self.unknown_categories
            )?;
        }
        match &self.drift {
            Some(d) => write!(out, "{d}"),
            None => writeln!(out, "no drift report (the package has no training profile)"),
        }
    }
}

/// Loads a package from a `.mlpkg` file or from the store's registry.
pub(crate) fn load_package(ctx: &Context, reference: &str) -> Result<ModelPackage> {
    let path = Path::new(reference);
    if reference.ends_with(".mlpkg") || path.is_file() {
        return Ok(ModelPackage::load(path)?);
    }
    let store = ctx.open_existing_store()?;
    let registry = Registry::new(Arc::clone(&store));
    let tracker = Tracker::new(store);
    Ok(load_registered(&registry, &tracker, reference)?)
}

/// Runs `mlops score`.
pub fn run(ctx: &Context, args: ScoreArgs) -> Result<()> {
    let package = load_package(ctx, &args.model)?;
    let model = match package.meta().version {
        Some(v) => format!("{}/{v}", package.meta().name),
        None => package.meta().name.clone(),
    };
    let mut config = BatchConfig::new()
        .chunk_rows(args.chunk_rows)
        .max_reject_ratio(args.max_reject_ratio)
        .unknown_categories(args.unknown_categories);
    if let Some(id) = &args.id_col {
        config = config.id_column(id.clone());
    }
    if let Some(n) = args.threads {
        config = config.threads(n);
    }
    let scorer = BatchScorer::new(&package, config)?;
    let io = |path: &Path| {
        let path = path.to_owned();
        move |source| CliError::Io { path, source }
    };
    if ctx.table_format(&args.input) == TableFormat::Parquet {
        return score_parquet(ctx, &scorer, model, args);
    }
    if TableFormat::from_path(&args.output) == TableFormat::Parquet {
        return Err(CliError::Arguments(
            "a Parquet --output needs a Parquet --input; a CSV input is scored to CSV".into(),
        ));
    }
    let input = File::open(&args.input).map_err(io(&args.input))?;
    let len = input.metadata().map(|m| m.len()).unwrap_or(0);
    // The output appears only when the job succeeds.
    let mut out = AtomicFile::create(&args.output)?;
    let mut rejects = match &args.rejects {
        Some(p) => Some(BufWriter::with_capacity(
            1 << 20,
            File::create(p).map_err(io(p))?,
        )),
        None => None,
    };
    let bar = progress_bar(len, ctx.json);
    let tick = |p: CsvProgress| {
        bar.set_position(p.bytes);
        bar.set_message(format!("{} rows, {} rejected", p.rows, p.rejected));
    };
    let result = scorer.score_csv(
        input,
        &args.input.display().to_string(),
        &mut out,
        rejects.as_mut().map(|w| w as &mut (dyn Write + Send)),
        Some(&tick),
    );
    bar.finish_and_clear();
    // The rejects file is kept even when the job fails: it says why.
    if let (Some(w), Some(p)) = (rejects.as_mut(), &args.rejects) {
        w.flush().map_err(io(p))?;
    }
    // Dropping an uncommitted output removes its temporary file.
    let summary = result?;
    out.commit()?;
    emit(&ScoreReport::new(summary, model, args), ctx.json)
}

/// `mlops score` of a Parquet input: output and rejects in the format of
/// their extension; rejects keep the input's 0-based row numbers.
fn score_parquet(
    ctx: &Context,
    scorer: &BatchScorer,
    model: String,
    args: ScoreArgs,
) -> Result<()> {
    let out = AtomicFile::create(&args.output)?;
    let out = TableWriter::new(out, &args.output, TableFormat::from_path(&args.output))?;
    let rejects = match &args.rejects {
        Some(p) => {
            let file = File::create(p).map_err(|source| CliError::Io {
                path: p.clone(),
                source,
            })?;
            let file = BufWriter::with_capacity(1 << 20, file);
            Some(TableWriter::new(file, p, TableFormat::from_path(p))?)
        }
        None => None,
    };
    let len = std::fs::metadata(&args.input).map(|m| m.len()).unwrap_or(0);
    let bar = progress_bar(len, ctx.json);
    let tick = |p: CsvProgress| {
        bar.set_position(p.bytes);
        bar.set_message(format!("{} rows, {} rejected", p.rows, p.rejected));
    };
    let result = scorer.score_parquet(&args.input, out, rejects, Some(&tick));
    bar.finish_and_clear();
    let (out, summary) = result?;
    out.commit()?;
    emit(&ScoreReport::new(summary, model, args), ctx.json)
}

/// A byte-based bar on stderr, hidden when stderr is not a terminal or the
/// output is JSON.
fn progress_bar(len: u64, json: bool) -> ProgressBar {
    if json || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::stderr());
    if let Ok(style) = ProgressStyle::with_template(
        "{spinner} [{elapsed_precise}] {bar:30} {bytes}/{total_bytes} ({bytes_per_sec}, eta {eta}) {msg}",
    ) {
        bar.set_style(style);
    }
    bar
}
