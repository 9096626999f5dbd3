//! CSV reading with schema inference, explicit schema overrides, a lenient
//! mode that collects rejected rows, and chunked streaming.

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::io::Read;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::column::{CategoricalColumn, Column, ColumnType, NumericColumn};
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
    missing: HashSet<String>,
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
            missing: DEFAULT_MISSING.iter().map(|s| (*s).to_owned()).collect(),
        }
    }

    /// Sets the field delimiter.
    pub fn delimiter(mut self, delimiter: u8) -> Self {
        self.delimiter = delimiter;
        self
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
        self.missing = tokens.into_iter().map(Into::into).collect();
        self
    }

    /// Reads a whole file.
    pub fn read_path(&self, path: impl AsRef<Path>) -> Result<CsvOutcome> {
        let mut chunks = self.chunks_path(path, usize::MAX)?;
        chunks.next_chunk().map(Option::unwrap_or_default)
    }

    /// Reads a whole stream; `source` names it in error messages.
    pub fn read<R: Read>(&self, reader: R, source: &str) -> Result<CsvOutcome> {
        let mut chunks = self.chunks(reader, source, usize::MAX)?;
        chunks.next_chunk().map(Option::unwrap_or_default)
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

/// A CSV source read chunk by chunk with one fixed schema, from
/// [`CsvReader::chunks`] or [`CsvReader::chunks_path`].
pub struct CsvChunks<R: Read> {
    opts: CsvReader,
    inner: csv::Reader<R>,
    source: String,
    headers: Vec<String>,
    types: Vec<ColumnType>,
    /// Records read for inference and not yet parsed.
    pending: std::collections::VecDeque<csv::ByteRecord>,
    rows_per_chunk: usize,
    done: bool,
    emitted: bool,
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

/// A validated cell; text is a byte range into the record.
enum Cell {
    Missing,
    Number(f64),
    Text(std::ops::Range<usize>),
}

impl<R: Read> CsvChunks<R> {
    fn open(opts: CsvReader, reader: R, source: String, rows_per_chunk: usize) -> Result<Self> {
        let mut inner = csv::ReaderBuilder::new()
            .delimiter(opts.delimiter)
            .has_headers(true)
            .flexible(true)
            .from_reader(reader);
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

    /// Reads the next chunk; `None` once the source is exhausted.
    pub fn next_chunk(&mut self) -> Result<Option<CsvOutcome>> {
        if self.done {
            return Ok(None);
        }
        let n = self.headers.len();
        let mut columns: Vec<Column> = self
            .types
            .iter()
            .map(|t| match t {
                ColumnType::Numeric => Column::Numeric(NumericColumn::default()),
                ColumnType::Categorical => Column::Categorical(CategoricalColumn::default()),
            })
            .collect();
        let mut rejected = Vec::new();
        let mut rows = 0usize;
        let mut scratch: Vec<Cell> = Vec::with_capacity(n);
        let mut rec = csv::ByteRecord::new();
        while rows < self.rows_per_chunk {
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
            let line = rec.position().map_or(0, |p| p.line());
            scratch.clear();
            match parse_record(
                &self.opts,
                &self.source,
                &self.headers,
                &self.types,
                &rec,
                line,
                &mut scratch,
            ) {
                Ok(whole) => {
                    for (col, cell) in columns.iter_mut().zip(scratch.drain(..)) {
                        match (col, cell) {
                            (Column::Numeric(c), Cell::Number(v)) => c.push(Some(v)),
                            (Column::Numeric(c), _) => c.push(None),
                            (Column::Categorical(c), Cell::Text(r)) => c.push(whole.get(r)),
                            (Column::Categorical(c), _) => c.push(None),
                        }
                    }
                    rows += 1;
                }
                Err(err) if self.opts.lenient => {
                    scratch.clear();
                    rejected.push(rejection(err, &rec, line));
                }
                Err(err) => return Err(err),
            }
        }
        // The first chunk is returned even when empty, so a header-only file
        // still yields a frame with its schema.
        if rows == 0 && rejected.is_empty() && self.done && self.emitted {
            return Ok(None);
        }
        self.emitted = true;
        for col in &mut columns {
            if let Column::Categorical(c) = col {
                c.finish();
            }
        }
        let frame = Frame::new(self.headers.iter().cloned().zip(columns).collect())?;
        tracing::debug!(source = %self.source, rows, rejected = rejected.len(), "csv chunk read");
        Ok(Some(CsvOutcome { frame, rejected }))
    }
}

impl<R: Read> Iterator for CsvChunks<R> {
    type Item = Result<CsvOutcome>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_chunk().transpose()
    }
}

/// Validates a record into `out` and returns the record's text. Nothing is
/// pushed into columns until the whole record is known to be good, so a
/// rejected row never leaves a half-written row behind.
fn parse_record<'r>(
    opts: &CsvReader,
    source: &str,
    headers: &[String],
    types: &[ColumnType],
    rec: &'r csv::ByteRecord,
    line: u64,
    out: &mut Vec<Cell>,
) -> Result<&'r str> {
    if rec.len() != headers.len() {
        return Err(Error::RaggedRow {
            file: source.to_owned(),
            line,
            expected: headers.len(),
            found: rec.len(),
        });
    }
    let whole = match std::str::from_utf8(rec.as_slice()) {
        Ok(w) => w,
        Err(_) => {
            for (field, name) in rec.iter().zip(headers) {
                if let Err(e) = std::str::from_utf8(field) {
                    return Err(Error::BadCell {
                        file: source.to_owned(),
                        line,
                        column: name.clone(),
                        reason: format!("invalid UTF-8 at byte {} of the cell", e.valid_up_to()),
                    });
                }
            }
            return Err(Error::Csv {
                file: source.to_owned(),
                line,
                reason: "invalid UTF-8".into(),
            });
        }
    };
    for (i, (ty, name)) in types.iter().zip(headers).enumerate() {
        // Fields split at ASCII delimiters of valid UTF-8, so every range is
        // on a char boundary.
        let range = rec.range(i).unwrap_or(0..0);
        let text = whole.get(range.clone()).unwrap_or("");
        let trimmed = text.trim();
        if opts.missing.contains(trimmed) {
            out.push(Cell::Missing);
            continue;
        }
        match ty {
            ColumnType::Categorical => {
                let start = range.start + (text.len() - text.trim_start().len());
                out.push(Cell::Text(start..start + trimmed.len()));
            }
            ColumnType::Numeric => match trimmed.parse::<f64>() {
                Ok(v) if v.is_nan() => out.push(Cell::Missing),
                Ok(v) => out.push(Cell::Number(v)),
                Err(_) => {
                    return Err(Error::BadCell {
                        file: source.to_owned(),
                        line,
                        column: name.clone(),
                        reason: format!("`{trimmed}` is not a number (the column is numeric)"),
                    });
                }
            },
        }
    }
    Ok(whole)
}

fn rejection(err: Error, rec: &csv::ByteRecord, line: u64) -> RejectedRow {
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
        fields: rec
            .iter()
            .map(|f| String::from_utf8_lossy(f).into_owned())
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
