//! CSV reading with schema inference, explicit schema overrides, a lenient
//! mode that collects rejected rows, and chunked streaming.

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

use rustc_hash::FxHashSet;
use serde::{Deserialize, Serialize};

use super::column::{CategoricalColumn, Column, ColumnType, NumericColumn, SmallKey};
use super::csv_lines::LineTracked;
use super::csv_number::parse_f64;
use super::csv_plain::parse_plain;
use super::frame::Frame;
use crate::error::{Error, Result};

/// Cells (after trimming spaces) read as missing by default.
pub const DEFAULT_MISSING: [&str; 4] = ["", "NA", "NaN", "null"];

/// Rows inspected to infer column types when no schema is given.
pub const DEFAULT_INFER_ROWS: usize = 10_000;

/// A row the lenient reader set aside, with the reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RejectedRow {
    /// 1-based line number in the source (the header is line 1).
    pub line: u64,
    /// The offending column, when the problem is one cell.
    pub column: Option<String>,
    /// Why the row was rejected, in words.
    pub reason: String,
    /// The raw fields of the row (invalid UTF-8 replaced).
    pub fields: Vec<String>,
}

/// The result of a read: the frame and the rows set aside (always empty in
/// strict mode, where the first bad row is an error).
#[derive(Debug, Clone, Default)]
pub struct CsvOutcome {
    /// The rows that were read.
    pub frame: Frame,
    /// Rows rejected in lenient mode, in file order.
    pub rejected: Vec<RejectedRow>,
}

/// Options for reading CSV into a [`Frame`].
///
/// Every column is inferred as numeric when all its non-missing cells in the
/// first [`DEFAULT_INFER_ROWS`] rows parse as numbers, categorical otherwise;
/// [`CsvReader::column_type`] overrides one column. A later cell that does not
/// fit its column is an error naming file, line and column (strict mode), or
/// a [`RejectedRow`] (lenient mode). No row is ever dropped silently.
///
/// ```
/// use mlops_core::data::{ColumnType, CsvReader};
///
/// let csv = "id,tenure,plan\n1,3,basic\n2,,pro\n";
/// let out = CsvReader::new()
///     .column_type("id", ColumnType::Categorical)
///     .read(csv.as_bytes(), "inline.csv")?;
/// assert_eq!(out.frame.n_rows(), 2);
/// assert_eq!(out.frame.numeric("tenure")?.missing_count(), 1);
/// # Ok::<(), mlops_core::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct CsvReader {
    delimiter: u8,
    overrides: HashMap<String, ColumnType>,
    infer_rows: Option<usize>,
    lenient: bool,
    missing: MissingTokens,
}

impl Default for CsvReader {
    fn default() -> Self {
        Self::new()
    }
}

impl CsvReader {
    /// Defaults: comma-separated, header row, types inferred from the first
    /// [`DEFAULT_INFER_ROWS`] rows, strict, [`DEFAULT_MISSING`] tokens.
    pub fn new() -> Self {
        Self {
            delimiter: b',',
            overrides: HashMap::new(),
            infer_rows: Some(DEFAULT_INFER_ROWS),
            lenient: false,
            missing: MissingTokens::new(DEFAULT_MISSING.iter().map(|s| (*s).to_owned())),
        }
    }

    /// Sets the field delimiter.
    pub fn delimiter(mut self, delimiter: u8) -> Self {
        self.delimiter = delimiter;
        self
    }

    pub(super) fn delimiter_byte(&self) -> u8 {
        self.delimiter
    }

    /// Forces the type of one column instead of inferring it.
    pub fn column_type(mut self, name: impl Into<String>, ty: ColumnType) -> Self {
        self.overrides.insert(name.into(), ty);
        self
    }

    /// Forces the types of several columns.
    pub fn schema<I, S>(mut self, types: I) -> Self
    where
        I: IntoIterator<Item = (S, ColumnType)>,
        S: Into<String>,
    {
        for (name, ty) in types {
            self.overrides.insert(name.into(), ty);
        }
        self
    }

    /// How many rows to inspect for type inference; `None` inspects them all
    /// (the whole file is then buffered before parsing).
    pub fn infer_rows(mut self, rows: Option<usize>) -> Self {
        self.infer_rows = rows;
        self
    }

    /// In lenient mode a bad row is collected in [`CsvOutcome::rejected`]
    /// instead of failing the read.
    pub fn lenient(mut self, lenient: bool) -> Self {
        self.lenient = lenient;
        self
    }

    /// Replaces the set of tokens read as missing (compared after trimming).
    pub fn missing_values<I, S>(mut self, tokens: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.missing = MissingTokens::new(tokens.into_iter().map(Into::into));
        self
    }

    /// Reads a whole file. Large files are parsed on several threads
    /// (split at record boundaries); the result, errors and rejected rows
    /// are the same as a sequential read.
    pub fn read_path(&self, path: impl AsRef<Path>) -> Result<CsvOutcome> {
        self.read_file(path.as_ref(), parallelism(), MIN_PART_BYTES)
    }

    /// Reads a file, streaming it in up to `threads` parts of at least
    /// `min_part` bytes parsed in parallel. The file is never held whole in
    /// memory: reading a large file into one fresh buffer cost more in page
    /// faults than parsing a part of it.
    fn read_file(&self, path: &Path, threads: usize, min_part: usize) -> Result<CsvOutcome> {
        let source = path.display().to_string();
        let io = |source: std::io::Error| Error::Io {
            path: path.to_owned(),
            source,
        };
        let file = File::open(path).map_err(io)?;
        let len = file.metadata().map_err(io)?.len();
        let mut head = self.chunks(file, &source, usize::MAX)?;
        let body_start = head.body_start;
        let body_len = len.saturating_sub(body_start);
        let parts = usize::try_from(body_len / min_part.max(1) as u64)
            .unwrap_or(usize::MAX)
            .min(threads);
        if parts <= 1 {
            return head.next_chunk().map(Option::unwrap_or_default);
        }
        let bounds = file_split_points(path, body_start, len, parts).map_err(io)?;
        if bounds.len() <= 2 {
            return head.next_chunk().map(Option::unwrap_or_default);
        }
        let shares = head.distinct_shares();
        let ctx = ParseCtx {
            opts: self,
            source: &source,
            headers: &head.headers,
            types: &head.types,
            distinct_shares: &shares,
        };
        let avg_record = head.average_record_bytes();
        let all_rows = rows_hint(body_len, avg_record);
        let results: Vec<Result<Option<(RowSink, u64)>>> = std::thread::scope(|scope| {
            let handles: Vec<_> = bounds
                .windows(2)
                .map(|w| {
                    let (start, end) = (w[0], w[1]);
                    let ctx = &ctx;
                    let rows = rows_hint(end - start, avg_record);
                    let hint = PartHint {
                        rows,
                        distinct_rows: if start == body_start { all_rows } else { rows },
                    };
                    scope.spawn(move || -> Result<Option<(RowSink, u64)>> {
                        let mut file = File::open(path).map_err(io)?;
                        file.seek(SeekFrom::Start(start)).map_err(io)?;
                        parse_plain(ctx, file.take(end - start), hint, PART_BUFFER_BYTES)
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
                .collect()
        });
        // A quote may hide a line feed inside a field, so the split points
        // are only record boundaries when the parts before them had none.
        // Parsing is decided by the bytes before, so a part's result (or
        // error) is exact when it and every earlier part were quote-free
        // (a part that met a quote or a lone carriage return gave `None`).
        let mut sinks = Vec::with_capacity(results.len());
        for part in results {
            let parsed = match part {
                Ok(Some(parsed)) => Ok(parsed),
                Ok(None) => {
                    tracing::debug!(source, "quoted csv: read again on one thread");
                    let file = File::open(path).map_err(io)?;
                    return self
                        .chunks(file, &source, usize::MAX)?
                        .next_chunk()
                        .map(Option::unwrap_or_default);
                }
                Err(e) => Err(e),
            };
            let failed = parsed.is_err();
            sinks.push(parsed);
            if failed {
                break;
            }
        }
        merge_parts(sinks, &head, &source)
    }

    /// Reads a whole stream; `source` names it in error messages.
    pub fn read<R: Read>(&self, mut reader: R, source: &str) -> Result<CsvOutcome> {
        let mut data = Vec::new();
        reader.read_to_end(&mut data).map_err(|e| Error::Io {
            path: source.into(),
            source: e,
        })?;
        self.read_slice(&data, source, parallelism(), MIN_PART_BYTES)
    }

    /// Reads an in-memory CSV, splitting the body into up to `threads`
    /// parts of at least `min_part` bytes parsed in parallel.
    fn read_slice(
        &self,
        data: &[u8],
        source: &str,
        threads: usize,
        min_part: usize,
    ) -> Result<CsvOutcome> {
        let mut head = self.chunks(data, source, usize::MAX)?;
        let body = usize::try_from(head.body_start)
            .ok()
            .and_then(|start| data.get(start..))
            .unwrap_or_default();
        let bounds = split_points(body, threads, min_part);
        if bounds.len() <= 2 {
            return head.next_chunk().map(Option::unwrap_or_default);
        }
        let shares = head.distinct_shares();
        let ctx = ParseCtx {
            opts: self,
            source,
            headers: &head.headers,
            types: &head.types,
            distinct_shares: &shares,
        };
        let avg_record = head.average_record_bytes();
        let all_rows = rows_hint(body.len() as u64, avg_record);
        // The records read for type inference are parsed again in part 0.
        let results: Vec<Result<(RowSink, u64)>> = std::thread::scope(|scope| {
            let handles: Vec<_> = bounds
                .windows(2)
                .map(|w| {
                    let part = &body[w[0]..w[1]];
                    let ctx = &ctx;
                    let rows = rows_hint(part.len() as u64, avg_record);
                    let hint = PartHint {
                        rows,
                        distinct_rows: if w[0] == 0 { all_rows } else { rows },
                    };
                    // No quote here (see `split_points`); a lone carriage
                    // return still needs the `csv` parser.
                    scope.spawn(
                        move || match parse_plain(ctx, part, hint, PART_BUFFER_BYTES) {
                            Ok(Some(parsed)) => Ok(parsed),
                            Ok(None) => parse_part(ctx, part, hint),
                            Err(e) => Err(e),
                        },
                    )
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
                .collect()
        });
        merge_parts(results, &head, source)
    }

    /// Opens a file for chunked reading: every chunk holds at most
    /// `rows_per_chunk` rows and shares one schema.
    pub fn chunks_path(
        &self,
        path: impl AsRef<Path>,
        rows_per_chunk: usize,
    ) -> Result<CsvChunks<File>> {
        let path = path.as_ref();
        let file = File::open(path).map_err(|source| Error::Io {
            path: path.to_owned(),
            source,
        })?;
        self.chunks(file, &path.display().to_string(), rows_per_chunk)
    }

    /// Opens a stream for chunked reading.
    pub fn chunks<R: Read>(
        &self,
        reader: R,
        source: &str,
        rows_per_chunk: usize,
    ) -> Result<CsvChunks<R>> {
        CsvChunks::open(
            self.clone(),
            reader,
            source.to_owned(),
            rows_per_chunk.max(1),
        )
    }
}

/// The missing-value tokens, checked for every cell: a test on the cell's
/// length first (tokens are short, most cells are not), then a comparison
/// of [`SmallKey`]s (a few word comparisons) with the few tokens, or a fast
/// non-cryptographic hash when there are many or long ones.
#[derive(Debug, Clone)]
struct MissingTokens {
    tokens: FxHashSet<String>,
    /// The tokens' keys, when few enough to scan and each key covers its
    /// whole token.
    few: Option<Vec<SmallKey>>,
    /// Bit `n` set when a token has `n` bytes (`n < 64`).
    lengths: u64,
    max_len: usize,
    /// Some token reads as a number (not NaN): numeric cells are then
    /// checked for tokens before they are parsed, else only when they do
    /// not parse (a cell that parses to a number is then never a token).
    numeric_like: bool,
}

impl MissingTokens {
    fn new(tokens: impl Iterator<Item = String>) -> Self {
        let tokens: FxHashSet<String> = tokens.collect();
        let max_len = tokens.iter().map(String::len).max().unwrap_or(0);
        let lengths = tokens
            .iter()
            .filter(|t| t.len() < 64)
            .fold(0u64, |bits, t| bits | 1 << t.len());
        let keys: Vec<SmallKey> = tokens.iter().map(|t| SmallKey::of(t.as_bytes())).collect();
        let few = (keys.len() <= 8 && keys.iter().all(SmallKey::is_exact)).then_some(keys);
        let numeric_like = tokens
            .iter()
            .any(|t| t.parse::<f64>().is_ok_and(|v| !v.is_nan()));
        Self {
            tokens,
            few,
            lengths,
            max_len,
            numeric_like,
        }
    }

    #[inline]
    fn contains(&self, cell: &str) -> bool {
        self.contains_keyed(cell, None)
    }

    /// [`MissingTokens::contains`], given `cell`'s [`SmallKey`] when known.
    #[inline]
    fn contains_keyed(&self, cell: &str, key: Option<&SmallKey>) -> bool {
        let n = cell.len();
        if n > self.max_len || (n < 64 && self.lengths >> n & 1 == 0) {
            return false;
        }
        match &self.few {
            Some(few) => {
                let key = key
                    .copied()
                    .unwrap_or_else(|| SmallKey::of(cell.as_bytes()));
                few.contains(&key)
            }
            None => self.tokens.contains(cell),
        }
    }
}

/// A CSV source read chunk by chunk with one fixed schema, from
/// [`CsvReader::chunks`] or [`CsvReader::chunks_path`].
pub struct CsvChunks<R: Read> {
    opts: CsvReader,
    inner: csv::Reader<LineTracked<R>>,
    source: String,
    headers: Vec<String>,
    types: Vec<ColumnType>,
    /// Records read for inference and not yet parsed.
    pending: std::collections::VecDeque<csv::ByteRecord>,
    rows_per_chunk: usize,
    done: bool,
    emitted: bool,
    /// Byte offset and 1-based line where the records after the header start.
    body_start: u64,
    body_line: u64,
}

impl<R: Read> std::fmt::Debug for CsvChunks<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CsvChunks")
            .field("source", &self.source)
            .field("headers", &self.headers)
            .field("types", &self.types)
            .finish_non_exhaustive()
    }
}

impl<R: Read> CsvChunks<R> {
    fn open(opts: CsvReader, reader: R, source: String, rows_per_chunk: usize) -> Result<Self> {
        let mut inner = csv::ReaderBuilder::new()
            .delimiter(opts.delimiter)
            .has_headers(true)
            .flexible(true)
            .from_reader(LineTracked::new(reader));
        let header_record = inner
            .byte_headers()
            .map_err(|e| csv_error(&source, e))?
            .clone();
        if header_record.is_empty() || (header_record.len() == 1 && header_record[0].is_empty()) {
            return Err(Error::Csv {
                file: source,
                line: 1,
                reason: "no header row".into(),
            });
        }
        let mut headers = Vec::with_capacity(header_record.len());
        let mut seen = HashSet::new();
        for (i, field) in header_record.iter().enumerate() {
            let name = std::str::from_utf8(field).map_err(|_| Error::Csv {
                file: source.clone(),
                line: 1,
                reason: format!("header field {} is not valid UTF-8", i + 1),
            })?;
            if !seen.insert(name.to_owned()) {
                return Err(Error::Csv {
                    file: source,
                    line: 1,
                    reason: format!("duplicate column name `{name}`"),
                });
            }
            headers.push(name.to_owned());
        }
        for name in opts.overrides.keys() {
            if !seen.contains(name) {
                return Err(Error::ColumnNotFound {
                    column: name.clone(),
                });
            }
        }
        let body = inner.position().clone();
        let mut this = Self {
            opts,
            inner,
            source,
            headers,
            types: Vec::new(),
            pending: Default::default(),
            rows_per_chunk,
            done: false,
            emitted: false,
            body_start: body.byte(),
            body_line: body.line(),
        };
        this.infer()?;
        Ok(this)
    }

    /// The column names.
    pub fn headers(&self) -> &[String] {
        &self.headers
    }

    /// The column types every chunk will have.
    pub fn types(&self) -> &[ColumnType] {
        &self.types
    }

    fn infer(&mut self) -> Result<()> {
        let limit = self.opts.infer_rows.unwrap_or(usize::MAX);
        let n = self.headers.len();
        let mut numeric = vec![true; n];
        while self.pending.len() < limit {
            let mut rec = csv::ByteRecord::new();
            if !self
                .inner
                .read_byte_record(&mut rec)
                .map_err(|e| csv_error(&self.source, e))?
            {
                break;
            }
            if rec.len() == n {
                for (i, field) in rec.iter().enumerate() {
                    if numeric[i]
                        && let Ok(s) = std::str::from_utf8(field)
                    {
                        let t = s.trim();
                        if !self.opts.missing.contains(t) && t.parse::<f64>().is_err() {
                            numeric[i] = false;
                        }
                    }
                }
            }
            self.pending.push_back(rec);
        }
        self.types = self
            .headers
            .iter()
            .zip(numeric)
            .map(|(name, is_num)| {
                self.opts.overrides.get(name).copied().unwrap_or(if is_num {
                    ColumnType::Numeric
                } else {
                    ColumnType::Categorical
                })
            })
            .collect();
        Ok(())
    }

    /// Per column, the share of distinct values among the records read
    /// for inference when it is over a half (an id-like column), else 0,
    /// and the average length of those values.
    fn distinct_shares(&self) -> Vec<DistinctShare> {
        let n = self.pending.len();
        self.types
            .iter()
            .enumerate()
            .map(|(i, ty)| {
                if *ty != ColumnType::Categorical || n < 100 {
                    return DistinctShare::default();
                }
                // A column with few values shows it in its first rows:
                // only a column with many distinct values there is counted
                // over every record read (a hint: only reservations and
                // batched lookups depend on it).
                let sample = n.min(SHARE_SAMPLE_ROWS);
                let distinct: FxHashSet<&[u8]> = self
                    .pending
                    .iter()
                    .take(sample)
                    .filter_map(|r| r.get(i))
                    .collect();
                if distinct.len() as f64 / sample as f64 <= 0.5 {
                    return DistinctShare::default();
                }
                let distinct: FxHashSet<&[u8]> =
                    self.pending.iter().filter_map(|r| r.get(i)).collect();
                let share = distinct.len() as f64 / n as f64;
                if share <= 0.5 {
                    return DistinctShare::default();
                }
                let bytes: usize = distinct.iter().map(|d| d.len()).sum();
                DistinctShare {
                    share,
                    average_len: bytes.div_ceil(distinct.len().max(1)),
                }
            })
            .collect()
    }

    /// The average size of the records read for type inference, in bytes
    /// (0 when fewer than two were read).
    fn average_record_bytes(&self) -> u64 {
        match (self.pending.front(), self.pending.back()) {
            (Some(a), Some(b)) if self.pending.len() > 1 => {
                let span = b
                    .position()
                    .map_or(0, |p| p.byte())
                    .saturating_sub(a.position().map_or(0, |p| p.byte()));
                (span / (self.pending.len() as u64 - 1)).max(1)
            }
            _ => 0,
        }
    }

    /// Reads the next chunk; `None` once the source is exhausted.
    pub fn next_chunk(&mut self) -> Result<Option<CsvOutcome>> {
        if self.done {
            return Ok(None);
        }
        let ctx = ParseCtx {
            opts: &self.opts,
            source: &self.source,
            headers: &self.headers,
            types: &self.types,
            distinct_shares: &[],
        };
        let mut sink = RowSink::new(&self.types);
        let mut rec = csv::ByteRecord::new();
        while sink.rows < self.rows_per_chunk {
            if let Some(r) = self.pending.pop_front() {
                rec = r;
            } else if !self
                .inner
                .read_byte_record(&mut rec)
                .map_err(|e| csv_error(&self.source, e))?
            {
                self.done = true;
                break;
            }
            let line = self
                .inner
                .get_mut()
                .line_at(rec.position().map_or(0, csv::Position::byte));
            sink.accept(&ctx, &rec, line)?;
        }
        // The first chunk is returned even when empty, so a header-only file
        // still yields a frame with its schema.
        if sink.rows == 0 && sink.rejected.is_empty() && self.done && self.emitted {
            return Ok(None);
        }
        self.emitted = true;
        let rows = sink.rows;
        let outcome = sink.finish(&self.headers)?;
        tracing::debug!(source = %self.source, rows, rejected = outcome.rejected.len(), "csv chunk read");
        Ok(Some(outcome))
    }
}

/// What a record is parsed against.
pub(super) struct ParseCtx<'a> {
    pub(super) opts: &'a CsvReader,
    pub(super) source: &'a str,
    pub(super) headers: &'a [String],
    pub(super) types: &'a [ColumnType],
    /// Per column, the share of distinct values expected when high (see
    /// [`CsvChunks::distinct_shares`]); empty when unknown.
    pub(super) distinct_shares: &'a [DistinctShare],
}

/// How many distinct values an id-like column is expected to hold.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct DistinctShare {
    /// Distinct values per row (0 for a column that is not id-like).
    share: f64,
    /// Average length of a distinct value, in bytes.
    average_len: usize,
}

/// The fields of one record: the bytes they are cut from, and where each
/// field lies in them.
pub(super) trait Fields {
    /// [`Fields::text`] as a `str`, when already known to be UTF-8.
    fn valid_text(&self) -> Option<&str> {
        None
    }
    /// Number of fields.
    fn field_count(&self) -> usize;
    /// The bytes the fields are ranges of.
    fn text(&self) -> &[u8];
    /// Where field `i` lies in [`Fields::text`].
    fn field_range(&self, i: usize) -> Option<std::ops::Range<usize>>;
}

impl Fields for csv::ByteRecord {
    fn field_count(&self) -> usize {
        self.len()
    }

    fn text(&self) -> &[u8] {
        self.as_slice()
    }

    fn field_range(&self, i: usize) -> Option<std::ops::Range<usize>> {
        self.range(i)
    }
}

/// Field `i` of a record, empty when out of range.
fn field<F: Fields>(rec: &F, i: usize) -> &[u8] {
    rec.field_range(i)
        .and_then(|r| rec.text().get(r))
        .unwrap_or_default()
}

/// Capacity to reserve in a part: its rows, and the rows whose distinct
/// values its dictionaries will end up holding (part 0 absorbs the others).
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct PartHint {
    pub(super) rows: usize,
    pub(super) distinct_rows: usize,
}

/// Columns being filled row by row, plus the rows set aside. Numeric and
/// categorical columns are kept apart, each with its field index, so each
/// record is handled in two loops without a branch on the column type.
pub(super) struct RowSink {
    types: Vec<ColumnType>,
    numeric: Vec<(usize, NumericColumn)>,
    categorical: Vec<(usize, CategoricalColumn)>,
    rejected: Vec<RejectedRow>,
    rows: usize,
    /// The numeric cells of the record being read (NaN: missing).
    numbers: Vec<f64>,
}

impl RowSink {
    pub(super) fn new(types: &[ColumnType]) -> Self {
        let of = |want: ColumnType| types.iter().enumerate().filter(move |(_, t)| **t == want);
        Self {
            types: types.to_vec(),
            numeric: of(ColumnType::Numeric)
                .map(|(i, _)| (i, NumericColumn::default()))
                .collect(),
            categorical: of(ColumnType::Categorical)
                .map(|(i, _)| (i, CategoricalColumn::default()))
                .collect(),
            rejected: Vec::new(),
            rows: 0,
            numbers: Vec::with_capacity(types.len()),
        }
    }

    /// Reserves room for `rows` more rows in every column, and for the
    /// distinct values expected in each categorical column (`share` of
    /// `distinct_rows` rows; see [`CsvChunks::distinct_shares`]). Only this
    /// part's own values are indexed: the last part merged into it is not
    /// (see [`CategoricalColumn::append`]), so a smaller table (fewer cache
    /// misses) serves the two-part read.
    pub(super) fn reserve(&mut self, rows: usize, shares: &[DistinctShare], distinct_rows: usize) {
        for (_, c) in &mut self.numeric {
            c.reserve(rows);
        }
        for (i, c) in &mut self.categorical {
            c.reserve(rows);
            let Some(share) = shares.get(*i) else {
                continue;
            };
            if share.share > 0.0 {
                c.defer_lookups();
                let distinct = (distinct_rows as f64 * share.share) as usize;
                let own = (rows as f64 * share.share) as usize;
                c.reserve_distinct(
                    distinct,
                    own.min(distinct),
                    distinct.saturating_mul(share.average_len),
                );
            }
        }
    }

    /// Adds one record, or rejects it (lenient) or fails (strict); `line`
    /// is where it starts.
    pub(super) fn accept<F: Fields>(
        &mut self,
        ctx: &ParseCtx<'_>,
        rec: &F,
        line: u64,
    ) -> Result<()> {
        match self.push_record(ctx, rec, line) {
            Ok(()) => {
                self.rows += 1;
                Ok(())
            }
            Err(err) if ctx.opts.lenient => {
                self.rejected.push(rejection(err, rec, line));
                Ok(())
            }
            Err(err) => Err(err),
        }
    }

    /// Validates a record and pushes its cells. Only numeric cells can be
    /// bad, so they are all parsed (in column order, so the error is the
    /// first bad cell's) before anything is pushed: a rejected row never
    /// leaves a half-written row behind.
    #[inline(always)]
    fn push_record<F: Fields>(&mut self, ctx: &ParseCtx<'_>, rec: &F, line: u64) -> Result<()> {
        let whole = record_text(ctx, rec, line)?;
        let missing = &ctx.opts.missing;
        self.numbers.clear();
        for (i, _) in &self.numeric {
            let trimmed = trimmed_cell(whole, rec, *i);
            let value = if missing.numeric_like && missing.contains(trimmed) {
                f64::NAN
            } else {
                match parse_f64(trimmed) {
                    // NaN (a "NaN" cell) is missing.
                    Some(v) => v,
                    None if missing.contains(trimmed) => f64::NAN,
                    None => return Err(not_a_number(ctx, *i, line, trimmed)),
                }
            };
            self.numbers.push(value);
        }
        for ((_, c), v) in self.numeric.iter_mut().zip(&self.numbers) {
            c.push_raw(*v);
        }
        for (i, c) in &mut self.categorical {
            let trimmed = trimmed_cell(whole, rec, *i);
            c.push_unless_missing(trimmed, |s, key| missing.contains_keyed(s, key));
        }
        Ok(())
    }

    /// Appends the rows of a later part of the same file (`last`: the
    /// last one, see [`CategoricalColumn::append`]).
    ///
    /// Columns with a large dictionary to merge (an id column: a lookup
    /// per distinct value, mostly cache misses) are merged on a second
    /// thread while this one merges the others.
    fn append(&mut self, other: RowSink, last: bool) {
        let (large, small): (Vec<_>, Vec<_>) = self
            .categorical
            .iter_mut()
            .zip(other.categorical)
            .map(|((_, a), (_, b))| (a, b))
            .partition(|(_, b)| b.dictionary().len() >= LARGE_DICTIONARY);
        let numeric = &mut self.numeric;
        let merge_small = move || {
            for ((_, a), (_, b)) in numeric.iter_mut().zip(other.numeric) {
                a.append(b);
            }
            for (a, b) in small {
                a.append(b, last);
            }
        };
        let merge_large = move || {
            for (a, b) in large {
                a.append(b, last);
            }
        };
        if parallelism() > 1 {
            std::thread::scope(|scope| {
                let handle = scope.spawn(merge_large);
                merge_small();
                handle
                    .join()
                    .unwrap_or_else(|p| std::panic::resume_unwind(p));
            });
        } else {
            merge_large();
            merge_small();
        }
        self.rejected.extend(other.rejected);
        self.rows += other.rows;
    }

    fn finish(self, headers: &[String]) -> Result<CsvOutcome> {
        let mut numeric = self.numeric.into_iter();
        let mut categorical = self.categorical.into_iter().map(|(_, mut c)| {
            c.finish();
            c
        });
        let columns = self.types.iter().map(|t| match t {
            ColumnType::Numeric => numeric
                .next()
                .map(|(_, c)| Column::Numeric(c))
                .unwrap_or_else(|| Column::Numeric(NumericColumn::default())),
            ColumnType::Categorical => categorical
                .next()
                .map(Column::Categorical)
                .unwrap_or_else(|| Column::Categorical(CategoricalColumn::default())),
        });
        let frame = Frame::new(headers.iter().cloned().zip(columns).collect())?;
        Ok(CsvOutcome {
            frame,
            rejected: self.rejected,
        })
    }
}

/// Parses one part of a split body; returns the rows and the number of line
/// feeds in the part (to number the lines of the next part).
fn parse_part<R: Read>(ctx: &ParseCtx<'_>, part: R, hint: PartHint) -> Result<(RowSink, u64)> {
    let mut inner = csv::ReaderBuilder::new()
        .delimiter(ctx.opts.delimiter)
        .has_headers(false)
        .flexible(true)
        // Fewer, larger reads when streaming a file.
        .buffer_capacity(PART_BUFFER_BYTES)
        .from_reader(LineTracked::new(part));
    let mut sink = RowSink::new(ctx.types);
    sink.reserve(hint.rows, ctx.distinct_shares, hint.distinct_rows);
    let mut rec = csv::ByteRecord::new();
    while inner
        .read_byte_record(&mut rec)
        .map_err(|e| csv_error(ctx.source, e))?
    {
        let line = inner
            .get_mut()
            .line_at(rec.position().map_or(0, csv::Position::byte));
        sink.accept(ctx, &rec, line)?;
    }
    Ok((sink, inner.get_ref().total_line_feeds()))
}

/// Adds `offset` to the line number an error carries.
fn shift_line(err: Error, offset: u64) -> Error {
    match err {
        Error::BadCell {
            file,
            line,
            column,
            reason,
        } => Error::BadCell {
            file,
            line: line + offset,
            column,
            reason,
        },
        Error::RaggedRow {
            file,
            line,
            expected,
            found,
        } => Error::RaggedRow {
            file,
            line: line + offset,
            expected,
            found,
        },
        Error::Csv { file, line, reason } if line > 0 => Error::Csv {
            file,
            line: line + offset,
            reason,
        },
        other => other,
    }
}

/// Records whose distinct values decide whether a column may be id-like
/// (see [`CsvChunks::distinct_shares`]).
const SHARE_SAMPLE_ROWS: usize = 500;

/// Dictionaries of a part at least this large are merged on their own
/// thread (see [`RowSink::append`]).
const LARGE_DICTIONARY: usize = 4096;

/// Parts smaller than this are not worth a thread.
const MIN_PART_BYTES: usize = 4 << 20;

/// Read buffer of each part's parser.
const PART_BUFFER_BYTES: usize = 256 << 10;

/// Rows to reserve for a part of `bytes` bytes: the average record size
/// plus 1/16 slack, to spare the reallocations of growing columns.
fn rows_hint(bytes: u64, avg_record: u64) -> usize {
    match avg_record {
        0 => 0,
        avg => usize::try_from(bytes / avg + bytes / avg / 16).unwrap_or(0),
    }
}

/// Merges parsed parts in file order. Parts count lines from 1; they are
/// shifted to file lines, so the first bad row of the file is the one
/// reported.
fn merge_parts<R: Read>(
    results: Vec<Result<(RowSink, u64)>>,
    head: &CsvChunks<R>,
    source: &str,
) -> Result<CsvOutcome> {
    let parts = results.len();
    let mut line_offset = head.body_line.saturating_sub(1);
    let mut merged: Option<RowSink> = None;
    for (i, result) in results.into_iter().enumerate() {
        let (mut sink, newlines) = result.map_err(|e| shift_line(e, line_offset))?;
        for r in &mut sink.rejected {
            r.line += line_offset;
        }
        line_offset += newlines;
        merged = Some(match merged {
            None => sink,
            Some(mut m) => {
                m.append(sink, i + 1 == parts);
                m
            }
        });
    }
    let sink = merged.unwrap_or_else(|| RowSink::new(&head.types));
    tracing::debug!(source, rows = sink.rows, parts, "csv read in parallel");
    sink.finish(&head.headers)
}

/// File offsets `[body_start, .., len]` that cut the body into up to
/// `parts` pieces just after a line feed (a record boundary when the file
/// has no quotes; the caller checks that).
fn file_split_points(
    path: &Path,
    body_start: u64,
    len: u64,
    parts: usize,
) -> std::io::Result<Vec<u64>> {
    let mut file = File::open(path)?;
    let step = (len - body_start) / parts as u64;
    let mut bounds = vec![body_start];
    let mut window = vec![0u8; 64 << 10];
    for k in 1..parts as u64 {
        let mut at = (body_start + k * step).max(bounds.last().copied().unwrap_or(0));
        let cut = loop {
            // Two bytes before `at` tell whether a line feed ends a blank line.
            let start = at.saturating_sub(2).max(body_start);
            file.seek(SeekFrom::Start(start))?;
            let n = file.read(&mut window)?;
            let from = (at - start) as usize;
            if n <= from {
                break None;
            }
            if let Some(nl) = record_end(window.get(..n).unwrap_or_default(), from) {
                break Some(start + nl as u64 + 1);
            }
            at = start + n as u64;
        };
        match cut {
            Some(c) if c < len => bounds.push(c),
            _ => break,
        }
    }
    bounds.push(len);
    Ok(bounds)
}

/// The first line feed at or after `from` in `bytes` that ends a non-blank
/// line (`bytes[..from]` is look-behind; what comes before `bytes` counts as
/// a line feed), so a part never starts with blank lines. (Line numbers do
/// not depend on it: both parsers number a record by the line of its first
/// byte, see `csv_lines`.)
fn record_end(bytes: &[u8], from: usize) -> Option<usize> {
    let before = |nl: usize, k: usize| {
        nl.checked_sub(k)
            .and_then(|j| bytes.get(j))
            .copied()
            .unwrap_or(b'\n')
    };
    memchr::memchr_iter(b'\n', bytes.get(from..)?)
        .map(|i| i + from)
        .find(|&nl| {
            let blank =
                before(nl, 1) == b'\n' || (before(nl, 1) == b'\r' && before(nl, 2) == b'\n');
            !blank
        })
}

fn parallelism() -> usize {
    std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
}

/// Byte offsets `[0, .., body.len()]` that cut `body` into up to `parts`
/// pieces at record boundaries (just after a line feed).
///
/// Only a body without any quote character is split: there every line feed
/// ends a record and line numbers add up exactly. Quoted files are read on
/// one thread (the csv parser's line count inside malformed quoting is not
/// reproducible from a split point).
fn split_points(body: &[u8], parts: usize, min_part: usize) -> Vec<usize> {
    let parts = parts.min(body.len() / min_part.max(1)).max(1);
    if parts == 1 || memchr::memchr(b'"', body).is_some() {
        return vec![0, body.len()];
    }
    let mut bounds = vec![0];
    let step = body.len() / parts;
    for k in 1..parts {
        let t = (k * step).max(bounds.last().copied().unwrap_or(0));
        match record_end(body, t) {
            Some(nl) if nl + 1 < body.len() => bounds.push(nl + 1),
            _ => break,
        }
    }
    bounds.push(body.len());
    bounds
}

impl<R: Read> Iterator for CsvChunks<R> {
    type Item = Result<CsvOutcome>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_chunk().transpose()
    }
}

/// Checks a record's field count and UTF-8 and returns its text.
#[inline(always)]
fn record_text<'r, F: Fields>(ctx: &ParseCtx<'_>, rec: &'r F, line: u64) -> Result<&'r str> {
    let (source, headers) = (ctx.source, ctx.headers);
    if rec.field_count() != headers.len() {
        return Err(Error::RaggedRow {
            file: source.to_owned(),
            line,
            expected: headers.len(),
            found: rec.field_count(),
        });
    }
    match rec.valid_text() {
        Some(w) => Ok(w),
        None => std::str::from_utf8(rec.text()).map_err(|_| utf8_error(ctx, rec, line)),
    }
}

/// The error for a record that is not UTF-8: the first bad cell.
#[cold]
fn utf8_error<F: Fields>(ctx: &ParseCtx<'_>, rec: &F, line: u64) -> Error {
    for (i, name) in ctx.headers.iter().enumerate() {
        if let Err(e) = std::str::from_utf8(field(rec, i)) {
            return Error::BadCell {
                file: ctx.source.to_owned(),
                line,
                column: name.clone(),
                reason: format!("invalid UTF-8 at byte {} of the cell", e.valid_up_to()),
            };
        }
    }
    Error::Csv {
        file: ctx.source.to_owned(),
        line,
        reason: "invalid UTF-8".into(),
    }
}

/// The error for numeric column `i`'s cell `trimmed`.
#[cold]
fn not_a_number(ctx: &ParseCtx<'_>, i: usize, line: u64, trimmed: &str) -> Error {
    Error::BadCell {
        file: ctx.source.to_owned(),
        line,
        column: ctx.headers.get(i).cloned().unwrap_or_default(),
        reason: format!("`{trimmed}` is not a number (the column is numeric)"),
    }
}

/// Field `i` of a record whose text is `whole`, trimmed. Fields split at
/// ASCII delimiters of valid UTF-8, so every range is on a char boundary.
#[inline(always)]
fn trimmed_cell<'r, F: Fields>(whole: &'r str, rec: &F, i: usize) -> &'r str {
    trim(whole.get(rec.field_range(i).unwrap_or(0..0)).unwrap_or(""))
}

/// `text.trim()`, with a fast path for the usual cell that starts and ends
/// with a visible ASCII character (every Unicode space is either ASCII or
/// starts with a byte >= 0x80).
fn trim(text: &str) -> &str {
    let plain = |b: Option<&u8>| matches!(b, Some(&b) if b.is_ascii_graphic());
    let bytes = text.as_bytes();
    if plain(bytes.first()) && plain(bytes.last()) {
        return text;
    }
    text.trim()
}

fn rejection<F: Fields>(err: Error, rec: &F, line: u64) -> RejectedRow {
    let column = match &err {
        Error::BadCell { column, .. } => Some(column.clone()),
        _ => None,
    };
    let reason = match &err {
        Error::BadCell { reason, .. } => reason.clone(),
        Error::RaggedRow {
            expected, found, ..
        } => format!("record has {found} fields, the header has {expected}"),
        other => other.to_string(),
    };
    RejectedRow {
        line,
        column,
        reason,
        fields: (0..rec.field_count())
            .map(|i| String::from_utf8_lossy(field(rec, i)).into_owned())
            .collect(),
    }
}

fn csv_error(source: &str, err: csv::Error) -> Error {
    let line = err.position().map_or(0, |p| p.line());
    match err.into_kind() {
        csv::ErrorKind::Io(e) => Error::Io {
            path: source.into(),
            source: e,
        },
        other => Error::Csv {
            file: source.to_owned(),
            line,
            reason: format!("{other:?}"),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Cells compared as `Value`s: a missing number is NaN inside.
    fn cells(frame: &Frame) -> Vec<Vec<String>> {
        (0..frame.n_rows())
            .map(|r| {
                (0..frame.n_cols())
                    .map(|c| format!("{:?}", frame.value(r, c)))
                    .collect()
            })
            .collect()
    }

    fn both(reader: &CsvReader, data: &[u8]) -> (Result<CsvOutcome>, Result<CsvOutcome>) {
        (
            reader.read_slice(data, "t.csv", 1, MIN_PART_BYTES),
            reader.read_slice(data, "t.csv", 4, 1),
        )
    }

    fn assert_same(reader: &CsvReader, data: &[u8]) {
        let (seq, par) = both(reader, data);
        assert_same_outcome(seq, par, "parallel");
    }

    /// Same frame (schema, cells, first-seen dictionaries) and rejected
    /// rows, or the same error.
    fn assert_same_outcome(seq: Result<CsvOutcome>, other: Result<CsvOutcome>, what: &str) {
        match (seq, other) {
            (Ok(seq), Ok(par)) => {
                assert_eq!(seq.frame.schema(), par.frame.schema());
                assert_eq!(cells(&seq.frame), cells(&par.frame));
                assert_eq!(seq.rejected, par.rejected);
                for (name, col) in seq.frame.columns() {
                    if let Column::Categorical(c) = col {
                        let other = par.frame.categorical(name).unwrap();
                        assert_eq!(c.dictionary(), other.dictionary(), "first-seen order");
                    }
                }
            }
            (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string()),
            (a, b) => panic!("sequential {a:?} vs {what} {b:?}"),
        }
    }

    /// Writes `data` to a temporary file and reads it both ways: the
    /// streamed parallel file read (`parts` parts) against a sequential
    /// read of the same bytes.
    fn assert_file_same(reader: &CsvReader, data: &[u8], parts: usize) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.csv");
        std::fs::write(&path, data).unwrap();
        let source = path.display().to_string();
        let seq = reader.read_slice(data, &source, 1, MIN_PART_BYTES);
        let par = reader.read_file(&path, parts, 1);
        assert_same_outcome(seq, par, "file");
    }

    /// An id column (distinct share over a half: lookups deferred and
    /// batched in parallel parts) with repeats within and across batches
    /// and parts, missing tokens, padded cells and bad rows.
    #[test]
    fn id_columns_with_batched_lookups_match_sequential() {
        let mut data = String::from("id,plan,x\n");
        for i in 0..3000u32 {
            let id = match i % 11 {
                3 => format!("id{}", i / 2),
                5 => format!("id{}", i % 37),
                7 => "NA".to_owned(),
                8 => String::new(),
                9 => format!(" id{} ", i - 1),
                _ => format!("id{i}"),
            };
            let x = if i % 401 == 17 {
                "bad".to_owned()
            } else {
                format!("{i}.25")
            };
            data.push_str(&format!("{id},{},{x}\n", ["a", "b", "c"][i as usize % 3]));
        }
        let strict = CsvReader::new().column_type("x", ColumnType::Numeric);
        let lenient = strict.clone().lenient(true);
        for reader in [&lenient, &strict] {
            for threads in 2..=4 {
                let seq = reader.read_slice(data.as_bytes(), "t.csv", 1, MIN_PART_BYTES);
                let par = reader.read_slice(data.as_bytes(), "t.csv", threads, 1);
                assert_same_outcome(seq, par, "parallel");
            }
            assert_file_same(reader, data.as_bytes(), 3);
        }
        let out = lenient.read_slice(data.as_bytes(), "t.csv", 3, 1).unwrap();
        assert_eq!(out.rejected.len(), 8);
        let ids = out.frame.categorical("id").unwrap();
        assert!(ids.dictionary().len() > 1000);
        assert!(
            ids.dictionary()
                .iter()
                .all(|s| !s.is_empty() && s != "NA" && s.trim() == s)
        );
    }

    #[test]
    fn file_read_in_parts_matches_sequential() {
        let mut quoted = String::from("id,note,x\n");
        for i in 0..200 {
            match i % 5 {
                0 => quoted.push_str(&format!("{i},\"multi\nline, \"\"quoted\"\"\",{i}.5\n")),
                1 => quoted.push_str(&format!("{i},plain,\n")),
                2 => quoted.push_str(&format!("{i},\"a,b\",{i}\r\n")),
                3 => quoted.push_str(&format!("{i},x\"y,{i}\n")),
                _ => quoted.push_str(&format!("{i},\"\n\n\",-{i}\n")),
            }
        }
        let plain = quoted.replace('"', "");
        // A quote only near the end: the parts before it parse fine, and
        // the file must still be read again on one thread.
        let mut late = plain.clone();
        late.push_str("999,\"x\ny\",1\n");
        for parts in [2, 3, 4] {
            for data in [&quoted, &plain, &late] {
                assert_file_same(&CsvReader::new(), data.as_bytes(), parts);
                assert_file_same(&CsvReader::new().lenient(true), data.as_bytes(), parts);
            }
        }
        let mut bad = String::from("a,b\n");
        for i in 0..300 {
            match i {
                120 => bad.push_str("1,2,3\n"),
                250 => bad.push_str("x,y\n"),
                _ => bad.push_str(&format!("{i},q{i}\n")),
            }
        }
        let strict = CsvReader::new().column_type("a", ColumnType::Numeric);
        for parts in [2, 4] {
            assert_file_same(&strict, bad.as_bytes(), parts);
            assert_file_same(&strict.clone().lenient(true), bad.as_bytes(), parts);
        }
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bad.csv");
        std::fs::write(&path, &bad).unwrap();
        let err = strict.read_file(&path, 4, 1).unwrap_err().to_string();
        assert!(err.contains(":122:"), "{err}");
    }

    /// Errors and rejects name the line the row is on, after CRLF endings
    /// and blank lines, on one thread (the `csv` parser) and in parts (the
    /// plain splitter) alike.
    #[test]
    fn bad_rows_are_reported_on_their_own_line() {
        let strict = CsvReader::new().column_type("q", ColumnType::Numeric);
        for (data, line) in [
            ("p,q,r\n1,2,3\n1,2,3\n1,2,3\r\n1,x,3\n", 5),
            ("p,q,r\r\n1,2,3\r\n\r\n1,x,3\r\n", 4),
            ("p,q,r\n1,2,3\n\n\n1,x,3\n1,2,3\n", 5),
            ("p,q,r\n\"1\n2\",2,3\n\r\n1,x,3\n", 5),
        ] {
            for parts in [1, 2, 3] {
                let min = if parts == 1 { MIN_PART_BYTES } else { 1 };
                let err = strict
                    .read_slice(data.as_bytes(), "t.csv", parts, min)
                    .unwrap_err()
                    .to_string();
                assert!(
                    err.contains(&format!("t.csv:{line}:")),
                    "{data:?} in {parts}: {err}"
                );
                let lenient = strict
                    .clone()
                    .lenient(true)
                    .read_slice(data.as_bytes(), "t.csv", parts, min)
                    .unwrap();
                assert_eq!(lenient.rejected.len(), 1);
                assert_eq!(lenient.rejected[0].line, line, "{data:?} in {parts}");
            }
        }
    }

    #[test]
    fn plain_split_matches_csv_parser_on_line_endings() {
        // Blank lines, CRLF, a lone CR (a record end for the csv parser),
        // a missing final line feed, ragged and bad rows.
        let mut crlf = String::from("a,b,c\n");
        for i in 0..120 {
            match i % 6 {
                0 => crlf.push_str(&format!("{i},x{i},1.5\r\n")),
                1 => crlf.push('\n'),
                2 => crlf.push_str(&format!("{i}, y ,\n\r\n")),
                3 => crlf.push_str(&format!("{i},z,NA,extra\n")),
                4 => crlf.push_str(&format!("{i},w,abc\n")),
                _ => crlf.push_str(&format!("{i},,-2e3\n")),
            }
        }
        let mut lone_cr = crlf.clone();
        lone_cr.push_str("7,v,1\r8,u,2\n");
        let mut no_final_lf = crlf.clone();
        no_final_lf.push_str("9,t,3");
        let mut final_cr = crlf.clone();
        final_cr.push_str("9,t,3\r");
        let typed = CsvReader::new().column_type("c", ColumnType::Numeric);
        for data in [&crlf, &lone_cr, &no_final_lf, &final_cr] {
            for parts in [2, 3, 5] {
                for reader in [typed.clone(), typed.clone().lenient(true)] {
                    let seq = reader.read_slice(data.as_bytes(), "t.csv", 1, MIN_PART_BYTES);
                    let par = reader.read_slice(data.as_bytes(), "t.csv", parts, 1);
                    assert_same_outcome(seq, par, "plain split");
                    assert_file_same(&reader, data.as_bytes(), parts);
                }
            }
        }
        let out = typed
            .lenient(true)
            .read_slice(crlf.as_bytes(), "t.csv", 3, 1)
            .unwrap();
        assert!(out.frame.n_rows() > 30 && out.rejected.len() == 40);
    }

    #[test]
    fn plain_split_uses_small_buffers_and_long_lines() {
        let data = format!("a,b\n1,{}\n2,short\n3,x\n", "q".repeat(5000));
        let reader = CsvReader::new();
        let headers = vec!["a".to_owned(), "b".to_owned()];
        let types = [ColumnType::Numeric, ColumnType::Categorical];
        let ctx = ParseCtx {
            opts: &reader,
            source: "t.csv",
            headers: &headers,
            types: &types,
            distinct_shares: &[],
        };
        let body = &data.as_bytes()[4..];
        let (sink, newlines) = parse_plain(&ctx, body, PartHint::default(), 7)
            .unwrap()
            .unwrap();
        assert_eq!((sink.rows, newlines), (3, 3));
        let out = sink.finish(&headers).unwrap();
        assert_eq!(
            out.frame.categorical("b").unwrap().get(0).unwrap().len(),
            5000
        );
        assert_eq!(out.frame.categorical("b").unwrap().get(2), Some("x"));
    }

    #[test]
    fn plain_split_checks_utf8_per_buffer_and_keeps_error_positions() {
        // Multi-byte characters across every buffer boundary, and one bad
        // byte in the last column of row 150 (line 152).
        let mut data = b"id,name,x\n".to_vec();
        for i in 0..300 {
            data.extend_from_slice(format!("{i},é{}ü€,{i}.5\n", "x".repeat(i % 7)).as_bytes());
            if i == 149 {
                data.extend_from_slice(b"150,ok,1\xff\n");
            }
        }
        let typed = CsvReader::new().column_type("x", ColumnType::Categorical);
        for reader in [typed.clone(), typed.clone().lenient(true)] {
            for parts in [2, 3] {
                assert_file_same(&reader, &data, parts);
                let seq = reader.read_slice(&data, "t.csv", 1, MIN_PART_BYTES);
                let par = reader.read_slice(&data, "t.csv", parts, 1);
                assert_same_outcome(seq, par, "utf8");
            }
        }
        let err = typed
            .read_slice(&data, "t.csv", 3, 1)
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("t.csv:152:") && err.contains("`x`"),
            "{err}"
        );
        let out = typed
            .lenient(true)
            .read_slice(&data, "t.csv", 3, 1)
            .unwrap();
        assert_eq!(out.rejected.len(), 1);
        assert_eq!(out.rejected[0].line, 152);
        assert_eq!(out.frame.n_rows(), 300);
        // Tiny buffers: a buffer never ends inside a character that is
        // checked, since only whole lines are.
        let headers = vec!["id".to_owned(), "name".to_owned(), "x".to_owned()];
        let types = [
            ColumnType::Numeric,
            ColumnType::Categorical,
            ColumnType::Categorical,
        ];
        let reader = CsvReader::new();
        let ctx = ParseCtx {
            opts: &reader,
            source: "t.csv",
            headers: &headers,
            types: &types,
            distinct_shares: &[],
        };
        let body = "1,é€ü,a\n2,€,b\r\n\n3,üü,c";
        for size in [1, 2, 3, 5, 7, 64] {
            let (sink, newlines) = parse_plain(&ctx, body.as_bytes(), PartHint::default(), size)
                .unwrap()
                .unwrap();
            assert_eq!((sink.rows, newlines), (3, 3));
            let frame = sink.finish(&headers).unwrap().frame;
            let names: Vec<_> = frame.categorical("name").unwrap().iter().collect();
            assert_eq!(names, [Some("é€ü"), Some("€"), Some("üü")]);
        }
    }

    #[test]
    fn file_split_points_cut_after_line_feeds() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.csv");
        let data = "h\n".to_owned() + &"abcdef\n".repeat(100);
        std::fs::write(&path, &data).unwrap();
        let len = data.len() as u64;
        let bounds = file_split_points(&path, 2, len, 4).unwrap();
        assert_eq!(bounds.len(), 5);
        assert_eq!((bounds[0], bounds[4]), (2, len));
        for b in &bounds[1..4] {
            assert_eq!(data.as_bytes()[*b as usize - 1], b'\n');
        }
        // One long line: no cut inside it.
        std::fs::write(&path, "h\nxxxxxxxxxxxxxxxxxxxx\n").unwrap();
        assert_eq!(file_split_points(&path, 2, 23, 4).unwrap(), vec![2, 23]);
    }

    #[test]
    fn parallel_read_matches_sequential_with_quoted_newlines() {
        let mut data = String::from("id,note,x\n");
        for i in 0..200 {
            match i % 5 {
                0 => data.push_str(&format!("{i},\"multi\nline, \"\"quoted\"\"\",{i}.5\n")),
                1 => data.push_str(&format!("{i},plain,\n")),
                2 => data.push_str(&format!("{i},\"a,b\",{i}\r\n")),
                3 => data.push_str(&format!("{i},x\"y,{i}\n")),
                _ => data.push_str(&format!("{i},\"\n\n\",-{i}\n")),
            }
        }
        assert_same(&CsvReader::new(), data.as_bytes());
        assert_eq!(
            split_points(data.as_bytes(), 4, 1).len(),
            2,
            "quoted: one part"
        );
        let plain = data.replace('"', "");
        assert_same(&CsvReader::new(), plain.as_bytes());
        assert_eq!(split_points(plain.as_bytes(), 4, 1).len(), 5, "split in 4");
    }

    #[test]
    fn parallel_errors_and_rejections_keep_file_lines() {
        let mut data = String::from("a,b\n");
        for i in 0..300 {
            match i {
                120 => data.push_str("1,2,3\n"),
                250 => data.push_str("x,y\n"),
                _ => data.push_str(&format!("{i},q{i}\n")),
            }
        }
        let strict = CsvReader::new().column_type("a", ColumnType::Numeric);
        let (seq, par) = both(&strict, data.as_bytes());
        let (seq, par) = (seq.unwrap_err().to_string(), par.unwrap_err().to_string());
        assert_eq!(seq, par);
        // Header on line 1: record 120 is on line 122.
        assert!(seq.starts_with("t.csv:122:"), "{seq}");
        let lenient = strict.clone().lenient(true);
        assert_same(&lenient, data.as_bytes());
        let out = lenient.read_slice(data.as_bytes(), "t.csv", 4, 1).unwrap();
        let lines: Vec<u64> = out.rejected.iter().map(|r| r.line).collect();
        assert_eq!(lines, [122, 252]);
    }

    #[test]
    fn trim_matches_str_trim() {
        for text in [
            "",
            " ",
            "a",
            " a ",
            "\tab\u{a0}",
            "\u{a0}x",
            "x\u{2003}",
            "a b",
            "\u{b}v",
        ] {
            assert_eq!(trim(text), text.trim(), "{text:?}");
        }
    }

    #[test]
    fn missing_tokens_few_and_many() {
        let few = MissingTokens::new(DEFAULT_MISSING.iter().map(|s| (*s).to_owned()));
        for (cell, missing) in [("", true), ("NA", true), ("NaN", true), ("null", true)] {
            assert_eq!(few.contains(cell), missing, "{cell:?}");
        }
        for cell in ["Yes", "No", "nan", "nulls", "N"] {
            assert!(!few.contains(cell), "{cell:?}");
        }
        let many = MissingTokens::new((0..20).map(|i| format!("m{i}")).chain(["?".to_owned()]));
        assert!(many.few.is_none());
        let long = MissingTokens::new(
            [
                "not available at all, not at all".to_owned(),
                "-".to_owned(),
            ]
            .into_iter(),
        );
        assert!(long.few.is_none());
        assert!(long.contains("not available at all, not at all") && long.contains("-"));
        assert!(!long.contains("not available at all, not at alL") && !long.contains("+"));
        let cased = MissingTokens::new(
            ["N/A".to_owned(), "n/a".to_owned(), "missing".to_owned()].into_iter(),
        );
        assert!(cased.few.is_some());
        assert!(cased.contains("N/A") && cased.contains("n/a") && cased.contains("missing"));
        assert!(!cased.contains("N/a") && !cased.contains("missinG") && !cased.contains("NA"));
        assert!(many.contains("m19") && many.contains("?") && !many.contains("m20"));
    }

    #[test]
    fn numeric_like_missing_tokens_are_still_missing() {
        let data = "a,b\n1,x\n-999,-999\n 2 ,NA\nNA,y\n-999.0,x\n";
        let reader = CsvReader::new()
            .column_type("b", ColumnType::Categorical)
            .missing_values(["-999", "NA"]);
        let out = reader.read(data.as_bytes(), "t.csv").unwrap();
        let a: Vec<Option<f64>> = out.frame.numeric("a").unwrap().iter().collect();
        assert_eq!(a, [Some(1.0), None, Some(2.0), None, Some(-999.0)]);
        let b: Vec<Option<&str>> = out.frame.categorical("b").unwrap().iter().collect();
        assert_eq!(b, [Some("x"), None, None, Some("y"), Some("x")]);
        let body = &data["a,b\n".len()..];
        assert_same(&reader, format!("a,b\n{}", body.repeat(40)).as_bytes());
        // A cell equal to a token is missing even after the same column
        // saw other values.
        let cats = "c\nNA\nNo\nYes\nNA\n No \n\nNo\n";
        let out = CsvReader::new().read(cats.as_bytes(), "c.csv").unwrap();
        let c: Vec<Option<&str>> = out.frame.categorical("c").unwrap().iter().collect();
        assert_eq!(
            c,
            [None, Some("No"), Some("Yes"), None, Some("No"), Some("No")]
        );
        assert_eq!(out.frame.categorical("c").unwrap().dictionary().len(), 2);
    }

    proptest! {
        /// Quote-free bodies always take the plain splitter when split, so
        /// this compares it with the `csv` parser on every draw: long and
        /// multi-byte cells (the 8-byte scanner's word edges), spaces,
        /// missing tokens, lone and paired carriage returns, blank lines.
        #[test]
        fn plain_splitter_matches_csv_parser(
            rows in proptest::collection::vec(
                proptest::collection::vec(
                    prop_oneof![
                        "[a-cé ]{0,11}",
                        "-?[0-9]{1,9}(\\.[0-9]{1,3})?",
                        Just("NA".to_owned()),
                        Just(String::new()),
                        "[xy\r]{1,3}",
                    ],
                    2..5,
                ),
                0..60,
            ),
            parts in 2usize..6,
            endings in proptest::collection::vec(0u8..3, 60),
        ) {
            let mut data = String::from("p,q,r\n");
            for (row, ending) in rows.iter().zip(&endings) {
                if *ending == 1 {
                    data.push('\n');
                }
                data.push_str(&row.join(","));
                data.push_str(if *ending == 2 { "\r\n" } else { "\n" });
            }
            let reader = CsvReader::new().lenient(true);
            let seq = reader.read_slice(data.as_bytes(), "t.csv", 1, MIN_PART_BYTES);
            let par = reader.read_slice(data.as_bytes(), "t.csv", parts, 1);
            match (seq, par) {
                (Ok(a), Ok(b)) => {
                    prop_assert_eq!(cells(&a.frame), cells(&b.frame));
                    prop_assert_eq!(a.rejected, b.rejected);
                }
                (Err(a), Err(b)) => prop_assert_eq!(a.to_string(), b.to_string()),
                (a, b) => prop_assert!(false, "{:?} vs {:?}", a, b),
            }
        }

        #[test]
        fn parallel_read_matches_sequential(
            rows in proptest::collection::vec(
                proptest::collection::vec(
                    prop_oneof![
                        "[a-c]{0,3}",
                        "-?[0-9]{1,3}(\\.[0-9])?",
                        "\"[a,\n\"]{0,4}\"".prop_map(|s| s.replace("\"\"\"", "\"\"\"\"")),
                        Just(String::new()),
                    ],
                    3..4,
                ),
                0..60,
            ),
            parts in 1usize..6,
            // Per row: 0 plain, 1 blank line before it, 2 CRLF ending.
            endings in proptest::collection::vec(0u8..3, 60),
        ) {
            let mut data = String::from("p,q,r\n");
            for (row, ending) in rows.iter().zip(&endings) {
                if *ending == 1 {
                    data.push('\n');
                }
                data.push_str(&row.join(","));
                data.push_str(if *ending == 2 { "\r\n" } else { "\n" });
            }
            let reader = CsvReader::new().lenient(true);
            let seq = reader.read_slice(data.as_bytes(), "t.csv", 1, MIN_PART_BYTES);
            let par = reader.read_slice(data.as_bytes(), "t.csv", parts, 1);
            match (seq, par) {
                (Ok(a), Ok(b)) => {
                    prop_assert_eq!(cells(&a.frame), cells(&b.frame));
                    prop_assert_eq!(a.rejected, b.rejected);
                }
                (Err(a), Err(b)) => prop_assert_eq!(a.to_string(), b.to_string()),
                (a, b) => prop_assert!(false, "{:?} vs {:?}", a, b),
            }
        }
    }
}
