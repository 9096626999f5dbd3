//! Batch scoring: a CSV stream or a [`Frame`] scored in parallel chunks, in
//! input order, with rejected rows set aside and a drift report at the end.
//!
//! CSV output has the columns `ID_COLUMN` (when configured), `score` (the
//! positive-class probability, or the predicted value of a regressor) and
//! `label` (`1` when the score reaches the package's threshold, `0` below;
//! empty for a regressor). A multiclass package writes `p_<class>` (one
//! probability per class, in class order) and `label` (the most probable
//! class) instead. Rejected rows go to an optional rejects CSV with
//! the columns `line`, `column`, `reason` followed by the record's own
//! fields, so a fixed file can be scored again after dropping three columns.
//!
//! A category never seen in training is scored in its unknown bucket and
//! counted ([`UnknownCategories::Report`], the default), scored without
//! counting (`Ignore`), or, under `Error`, rejects its row like any other
//! bad row: it goes to the rejects output with its line (CSV) or row
//! (frame, Parquet) number, column and a reason naming the value and up to
//! ten known values, and counts against [`BatchConfig::max_reject_ratio`]
//! (0 by default, so the job fails at the end with
//! [`Error::TooManyRejects`] unless a ratio allows it). A row is never
//! dropped silently.
//!
//! Memory is bounded by the configuration, not the input: at most
//! [`BatchConfig::in_flight`] chunks of [`BatchConfig::chunk_rows`] records
//! exist at once (read, being scored, or waiting to be written in order).

mod block;
mod chunk;
mod frame;
mod model;
pub(crate) mod plan;
mod split;
mod stream;
#[cfg(feature = "parquet")]
mod table;
#[cfg(test)]
mod tests;

use std::fs::File;
use std::io::{BufWriter, Read, Write};
use std::path::Path;
use std::time::Instant;

use mlops_core::data::Frame;
use mlops_core::drift::{DriftMonitor, DriftOptions, DriftReport, MonitorConfig};
use mlops_core::model::{ModelPackage, Task};
use serde::Serialize;

pub use frame::FrameReject;
pub(crate) use model::argmax;

use crate::error::{Error, Result};
use crate::unknown::UnknownCategories;
use chunk::{ChunkOut, push_field};
use model::Model;
use plan::Plan;
use split::ChunkSplitter;

/// Settings of a [`BatchScorer`], checked by [`BatchScorer::new`].
#[derive(Debug, Clone, PartialEq)]
pub struct BatchConfig {
    chunk_rows: usize,
    in_flight: Option<usize>,
    max_reject_ratio: f64,
    threads: Option<usize>,
    id_column: Option<String>,
    delimiter: u8,
    drift: bool,
    drift_options: DriftOptions,
    unknown_categories: UnknownCategories,
}

impl Default for BatchConfig {
    fn default() -> Self {
        Self::new()
    }
}

impl BatchConfig {
    /// Defaults: 8,192 records per chunk, `2 x threads + 2` chunks in
    /// flight, no rejected row allowed (ratio 0), rayon's global pool, no id
    /// column, comma-separated, drift report on, unknown categories
    /// reported ([`UnknownCategories::Report`]).
    pub fn new() -> Self {
        BatchConfig {
            chunk_rows: 8192,
            in_flight: None,
            max_reject_ratio: 0.0,
            threads: None,
            id_column: None,
            delimiter: b',',
            drift: true,
            drift_options: DriftOptions::default(),
            unknown_categories: UnknownCategories::default(),
        }
    }

    /// Records per chunk (the unit of parallel work); at least 1.
    pub fn chunk_rows(mut self, rows: usize) -> Self {
        self.chunk_rows = rows;
        self
    }

    /// Chunks alive at once (bounds memory); at least 1.
    pub fn in_flight(mut self, chunks: usize) -> Self {
        self.in_flight = Some(chunks);
        self
    }

    /// The share of data rows that may be rejected before the job fails, in
    /// `[0, 1]`. Rejected rows are always written to the rejects output and
    /// counted; past this share the job returns
    /// [`Error::TooManyRejects`].
    pub fn max_reject_ratio(mut self, ratio: f64) -> Self {
        self.max_reject_ratio = ratio;
        self
    }

    /// Scores on a dedicated pool of `n` threads instead of rayon's global
    /// pool.
    pub fn threads(mut self, n: usize) -> Self {
        self.threads = Some(n);
        self
    }

    /// Copies this input column into the output as the first column.
    pub fn id_column(mut self, name: impl Into<String>) -> Self {
        self.id_column = Some(name.into());
        self
    }

    /// The field delimiter of input and output.
    pub fn delimiter(mut self, delimiter: u8) -> Self {
        self.delimiter = delimiter;
        self
    }

    /// Whether to compare the scored rows with the package's training
    /// profile (on by default; a package without a profile has no report).
    pub fn drift(mut self, on: bool) -> Self {
        self.drift = on;
        self
    }

    /// Tests and thresholds of the drift report.
    pub fn drift_options(mut self, options: DriftOptions) -> Self {
        self.drift_options = options;
        self
    }

    /// What to do with a category never seen in training (see the
    /// [module docs](crate::batch)): `Report` (default) scores and counts it,
    /// `Ignore` scores it without counting, `Error` rejects the row.
    pub fn unknown_categories(mut self, policy: UnknownCategories) -> Self {
        self.unknown_categories = policy;
        self
    }

    /// The unknown-category policy.
    pub fn unknown_categories_policy(&self) -> UnknownCategories {
        self.unknown_categories
    }

    fn validate(&self) -> Result<()> {
        let bad = |name, reason: &str| {
            Err(Error::InvalidConfig {
                name,
                reason: reason.to_owned(),
            })
        };
        if self.chunk_rows == 0 {
            return bad("chunk_rows", "must be at least 1");
        }
        if self.in_flight == Some(0) {
            return bad("in_flight", "must be at least 1");
        }
        if !(0.0..=1.0).contains(&self.max_reject_ratio) {
            return bad("max_reject_ratio", "must be in [0, 1]");
        }
        if self.threads == Some(0) {
            return bad("threads", "must be at least 1");
        }
        if matches!(self.delimiter, b'"' | b'\n' | b'\r') {
            return bad("delimiter", "cannot be a quote or a line break");
        }
        self.drift_options.validate()?;
        Ok(())
    }
}

/// Progress of a CSV job, reported after each chunk is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CsvProgress {
    /// Data rows read so far.
    pub rows: u64,
    /// Rows rejected so far.
    pub rejected: u64,
    /// Input bytes consumed so far (the header excluded).
    pub bytes: u64,
}

/// Counts added up over chunks.
#[derive(Debug, Default, Clone)]
pub(crate) struct Totals {
    rows: u64,
    rejected: u64,
    unknown: u64,
    bytes: u64,
    peak_buffered: u64,
    /// `line N: reason` of the first rejected row.
    first_reject: Option<String>,
}

impl Totals {
    fn add(&mut self, out: &mut ChunkOut) {
        if self.first_reject.is_none() {
            self.first_reject = out.first_reject.take();
        }
        self.rows += out.rows;
        self.rejected += out.rejected;
        self.unknown += out.unknown;
        self.bytes += out.bytes;
    }
}

/// What a batch job did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BatchSummary {
    /// Data rows read.
    pub rows: u64,
    /// Rows scored (written to the output).
    pub scored: u64,
    /// Rows rejected.
    pub rejected: u64,
    /// Categorical values never seen in training (scored in the unknown
    /// bucket); 0 under [`UnknownCategories::Ignore`], and under `Error`
    /// such rows are rejected instead.
    pub unknown_categories: u64,
    /// Wall-clock seconds.
    pub seconds: f64,
    /// Peak bytes held by chunks in flight (input records and formatted
    /// output); 0 for a [`Frame`], which is already in memory.
    pub peak_buffered_bytes: u64,
    /// Drift of the scored rows against the training profile (`None` when
    /// off or the package has no profile).
    pub drift: Option<DriftReport>,
}

/// Scores of a [`Frame`], one per row in row order.
#[derive(Debug, Clone, PartialEq)]
pub struct ScoredFrame {
    /// Score of each row; `NaN` for a rejected row. For a multiclass
    /// package, one probability per class for each row, row-major (row `i`
    /// is `scores[i * k..(i + 1) * k]` with `k = classes.len()`).
    pub scores: Vec<f64>,
    /// The class labels of a multiclass package, in score order; empty
    /// otherwise.
    pub classes: Vec<String>,
    /// The rows that could not be scored, in row order.
    pub rejected: Vec<FrameReject>,
    /// The job's counts and drift report.
    pub summary: BatchSummary,
}

/// Streams CSV (or scores a [`Frame`]) through a model package on several
/// threads.
///
/// ```ignore
/// let scorer = BatchScorer::new(&package, BatchConfig::new().id_column("customerID"))?;
/// let summary = scorer.score_csv_path("in.csv".as_ref(), "out.csv".as_ref(), None)?;
/// ```
#[derive(Debug)]
pub struct BatchScorer {
    model: Model,
    config: BatchConfig,
    monitor: Option<DriftMonitor>,
    pool: Option<rayon::ThreadPool>,
}

impl BatchScorer {
    /// A scorer for `package` with `config` (checked here).
    pub fn new(package: &ModelPackage, config: BatchConfig) -> Result<Self> {
        let threshold = match package.meta().task {
            Task::BinaryClassification { .. } => Some(package.threshold()),
            _ => None,
        };
        let model = Model::new(
            package.features().clone(),
            package.model().clone(),
            threshold,
            package.profile().cloned(),
        )?
        .with_classes(
            package
                .classes()
                .map(<[String]>::to_vec)
                .unwrap_or_default(),
        )?;
        Self::from_model(model, config)
    }

    pub(crate) fn from_model(model: Model, config: BatchConfig) -> Result<Self> {
        config.validate()?;
        let model = model.with_unknown_categories(config.unknown_categories);
        let monitor = match (config.drift, model.profile()) {
            (true, Some(profile)) => Some(DriftMonitor::new(
                profile,
                MonitorConfig::default(),
                config.drift_options.clone(),
            )?),
            _ => None,
        };
        let pool = match config.threads {
            Some(n) => Some(
                rayon::ThreadPoolBuilder::new()
                    .num_threads(n)
                    .thread_name(|i| format!("mlops-batch-{i}"))
                    .build()
                    .map_err(|e| Error::InvalidConfig {
                        name: "threads",
                        reason: format!("cannot start the thread pool: {e}"),
                    })?,
            ),
            None => None,
        };
        Ok(BatchScorer {
            model,
            config,
            monitor,
            pool,
        })
    }

    /// The configuration in use.
    pub fn config(&self) -> &BatchConfig {
        &self.config
    }

    fn threads(&self) -> usize {
        self.pool.as_ref().map_or_else(
            rayon::current_num_threads,
            rayon::ThreadPool::current_num_threads,
        )
    }

    fn install<T: Send>(&self, f: impl FnOnce() -> T + Send) -> T {
        match &self.pool {
            Some(pool) => pool.install(f),
            None => f(),
        }
    }

    /// Scores a CSV file into `output`, rejected rows into `rejects` (or
    /// only counted when `None`). Files are created or truncated.
    pub fn score_csv_path(
        &self,
        input: &Path,
        output: &Path,
        rejects: Option<&Path>,
    ) -> Result<BatchSummary> {
        let open = |p: &Path| {
            File::open(p).map_err(|source| Error::File {
                path: p.to_owned(),
                source,
            })
        };
        let create = |p: &Path| {
            File::create(p)
                .map(|f| BufWriter::with_capacity(1 << 20, f))
                .map_err(|source| Error::File {
                    path: p.to_owned(),
                    source,
                })
        };
        let reader = open(input)?;
        let mut out = create(output)?;
        let mut rej = rejects.map(create).transpose()?;
        self.score_csv(
            reader,
            &input.display().to_string(),
            &mut out,
            rej.as_mut().map(|w| w as &mut (dyn Write + Send)),
            None,
        )
    }

    /// Scores CSV from `input` (named `source_name` in errors) into
    /// `output`; rejected rows go to `rejects` when given. `progress` is
    /// called after each chunk is written.
    ///
    /// Fails before writing anything when the header lacks a model input
    /// (or the id column); fails at the end with
    /// [`Error::TooManyRejects`] past the configured reject ratio (the
    /// outputs are complete by then).
    pub fn score_csv<R: Read + Send>(
        &self,
        input: R,
        source_name: &str,
        output: &mut (dyn Write + Send),
        mut rejects: Option<&mut (dyn Write + Send)>,
        progress: Option<&(dyn Fn(CsvProgress) + Sync)>,
    ) -> Result<BatchSummary> {
        let started = Instant::now();
        let span = tracing::info_span!("batch.score_csv", source = source_name);
        let _entered = span.enter();
        let d = self.config.delimiter;
        let mut splitter = ChunkSplitter::new(input, d);
        let headers = read_header(&mut splitter, source_name, d)?;
        let plan = Plan::new(
            source_name,
            headers,
            self.model.inputs(),
            self.config.id_column.as_deref(),
            self.model.profile(),
        )?;
        let write_err = |target: &str| {
            let target = target.to_owned();
            move |source| Error::Write { target, source }
        };
        let mut head = Vec::new();
        if let Some(id) = plan.id {
            push_field(&mut head, plan.headers[id].as_bytes(), d);
            head.push(d);
        }
        if self.model.classes().is_empty() {
            head.extend_from_slice(b"score");
            head.push(d);
        } else {
            for class in self.model.classes() {
                push_field(&mut head, format!("p_{class}").as_bytes(), d);
                head.push(d);
            }
        }
        head.extend_from_slice(b"label\n");
        output.write_all(&head).map_err(write_err("scores"))?;
        if let Some(r) = rejects.as_deref_mut() {
            let mut head = Vec::new();
            for (i, name) in ["line", "column", "reason"]
                .iter()
                .copied()
                .chain(plan.headers.iter().map(String::as_str))
                .enumerate()
            {
                if i > 0 {
                    head.push(d);
                }
                push_field(&mut head, name.as_bytes(), d);
            }
            head.push(b'\n');
            r.write_all(&head).map_err(write_err("rejects"))?;
        }
        let in_flight = self
            .config
            .in_flight
            .unwrap_or_else(|| 2 * self.threads() + 2);
        let job = stream::Job {
            model: &self.model,
            plan: &plan,
            delimiter: d,
            chunk_rows: self.config.chunk_rows,
            in_flight,
            source_name,
            splitter,
            monitor: self.monitor.clone(),
            progress,
        };
        let (totals, monitor) = self.install(|| stream::run(job, output, rejects))?;
        self.finish(totals, monitor, started)
    }

    /// Scores every row of `frame` (which needs the model's input columns
    /// with their types; others are ignored).
    pub fn score_frame(&self, frame: &Frame) -> Result<ScoredFrame> {
        let started = Instant::now();
        let _span = tracing::info_span!("batch.score_frame", rows = frame.n_rows()).entered();
        let part = self.score_part(frame)?;
        let totals = Totals {
            rows: frame.n_rows() as u64,
            rejected: part.rejects.len() as u64,
            unknown: part.unknown,
            bytes: 0,
            peak_buffered: 0,
            first_reject: part
                .rejects
                .first()
                .map(|r| format!("row {}: {}", r.row, r.reason)),
        };
        let summary = self.finish(totals, part.monitor, started)?;
        Ok(ScoredFrame {
            scores: part.scores,
            classes: self.model.classes().to_vec(),
            rejected: part.rejects,
            summary,
        })
    }

    /// Scores `frame` in parallel ranges, merged into one part (the monitor
    /// starts from the scorer's template).
    fn score_part(&self, frame: &Frame) -> Result<frame::Part> {
        // Enough tasks to balance threads, few enough that per-task monitor
        // copies stay cheap.
        let step = self
            .config
            .chunk_rows
            .max(frame.n_rows() / (8 * self.threads()).max(1));
        let parts =
            self.install(|| frame::score_frame(&self.model, frame, self.monitor.as_ref(), step))?;
        let mut all = frame::Part {
            scores: Vec::with_capacity(frame.n_rows() * self.model.n_scores()),
            rejects: Vec::new(),
            unknown: 0,
            monitor: self.monitor.clone(),
        };
        for part in parts {
            all.scores.extend_from_slice(&part.scores);
            all.rejects.extend(part.rejects);
            all.unknown += part.unknown;
            if let (Some(m), Some(p)) = (all.monitor.as_mut(), part.monitor.as_ref()) {
                m.merge(p)?;
            }
        }
        Ok(all)
    }

    /// Applies the reject ratio and builds the summary.
    fn finish(
        &self,
        totals: Totals,
        monitor: Option<DriftMonitor>,
        started: Instant,
    ) -> Result<BatchSummary> {
        let summary = BatchSummary {
            rows: totals.rows,
            scored: totals.rows - totals.rejected,
            rejected: totals.rejected,
            unknown_categories: totals.unknown,
            seconds: started.elapsed().as_secs_f64(),
            peak_buffered_bytes: totals.peak_buffered,
            drift: monitor.map(|m| m.report()),
        };
        tracing::info!(
            rows = summary.rows,
            rejected = summary.rejected,
            seconds = summary.seconds,
            "batch scored"
        );
        let ratio = totals.rejected as f64 / totals.rows.max(1) as f64;
        if ratio > self.config.max_reject_ratio {
            return Err(Error::TooManyRejects {
                rejected: totals.rejected,
                rows: totals.rows,
                max_ratio: self.config.max_reject_ratio,
                first_reason: totals.first_reject,
            });
        }
        Ok(summary)
    }
}

/// Reads and checks the header record.
fn read_header<R: Read>(
    splitter: &mut ChunkSplitter<R>,
    source_name: &str,
    delimiter: u8,
) -> Result<Vec<String>> {
    let bad = |reason: &str| Error::BadHeader {
        source_name: source_name.to_owned(),
        reason: reason.to_owned(),
    };
    let chunk = splitter
        .next_chunk(1)
        .map_err(|source| Error::Read {
            source_name: source_name.to_owned(),
            source,
        })?
        .ok_or_else(|| bad("the input is empty"))?;
    splitter.restart_numbering();
    let bytes = chunk
        .bytes
        .strip_prefix(b"\xEF\xBB\xBF")
        .unwrap_or(&chunk.bytes);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .delimiter(delimiter)
        .from_reader(bytes);
    let mut rec = csv::ByteRecord::new();
    match reader.read_byte_record(&mut rec) {
        Ok(true) => {}
        Ok(false) => return Err(bad("the input is empty")),
        Err(e) => return Err(bad(&e.to_string())),
    }
    let mut headers = Vec::with_capacity(rec.len());
    for (i, field) in rec.iter().enumerate() {
        let name = std::str::from_utf8(field)
            .map_err(|_| bad(&format!("field {} is not valid UTF-8", i + 1)))?;
        if headers.iter().any(|h: &String| h == name) {
            return Err(bad(&format!("duplicate column name `{name}`")));
        }
        headers.push(name.to_owned());
    }
    Ok(headers)
}
