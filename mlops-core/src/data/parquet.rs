//! Parquet files (feature `parquet`): [`ParquetReader`] reads only the
//! columns asked for and streams record batches row group by row group, so
//! [`ParquetReader::batches`] holds one batch (and the row group being
//! decoded) at a time; [`ParquetWriter`] writes frames as they come.
//!
//! Types follow [`Frame::from_record_batch`] and
//! [`Frame::into_record_batch`]: a frame written and read back is equal to
//! itself, categorical columns staying dictionary-encoded on disk.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use parquet::arrow::ArrowWriter;
use parquet::arrow::ProjectionMask;
use parquet::arrow::arrow_reader::{ParquetRecordBatchReader, ParquetRecordBatchReaderBuilder};
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;

use super::arrow::{append_frame, finish_frame};
use super::frame::Frame;
use crate::error::{Error, Result};

/// Rows per record batch read by default.
pub const DEFAULT_BATCH_ROWS: usize = 65_536;

/// Reads Parquet files into [`Frame`]s.
///
/// ```
/// use mlops_core::data::{Frame, ParquetReader};
///
/// let dir = tempfile::tempdir()?;
/// let path = dir.path().join("telco.parquet");
/// let telco = Frame::read_csv(concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/data/telco_churn.csv"))?;
/// telco.write_parquet_path(&path)?;
/// let two = ParquetReader::new().columns(["tenure", "Contract"]).read_path(&path)?;
/// assert_eq!(two.names(), ["tenure", "Contract"]);
/// assert_eq!(two, telco.select(&["tenure", "Contract"])?);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct ParquetReader {
    columns: Option<Vec<String>>,
    batch_rows: usize,
}

impl Default for ParquetReader {
    fn default() -> Self {
        Self::new()
    }
}

impl ParquetReader {
    /// Every column, [`DEFAULT_BATCH_ROWS`] rows per batch.
    pub fn new() -> Self {
        ParquetReader {
            columns: None,
            batch_rows: DEFAULT_BATCH_ROWS,
        }
    }

    /// Reads only these columns (the others are never decoded), in this
    /// order. Naming an absent column is [`Error::ColumnNotFound`].
    pub fn columns<I, S>(mut self, names: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.columns = Some(names.into_iter().map(Into::into).collect());
        self
    }

    /// Rows per batch of [`ParquetReader::batches`] (at least 1).
    pub fn batch_rows(mut self, rows: usize) -> Self {
        self.batch_rows = rows.max(1);
        self
    }

    /// The file's column names, in order (from its footer; no data read).
    pub fn file_columns(path: impl AsRef<Path>) -> Result<Vec<String>> {
        let path = path.as_ref();
        let file = File::open(path).map_err(|source| Error::Io {
            path: path.to_owned(),
            source,
        })?;
        let builder =
            ParquetRecordBatchReaderBuilder::try_new(file).map_err(parquet_error(path))?;
        Ok(builder
            .schema()
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect())
    }

    /// Streams the file as frames of at most `batch_rows` rows.
    pub fn batches(&self, path: impl AsRef<Path>) -> Result<ParquetBatches> {
        let path = path.as_ref();
        let file = File::open(path).map_err(|source| Error::Io {
            path: path.to_owned(),
            source,
        })?;
        let bad = parquet_error(path);
        let builder = ParquetRecordBatchReaderBuilder::try_new(file).map_err(&bad)?;
        let total_rows = u64::try_from(builder.metadata().file_metadata().num_rows()).unwrap_or(0);
        let builder = match &self.columns {
            None => builder,
            Some(names) => {
                let schema = builder.schema();
                let indices = names
                    .iter()
                    .map(|n| {
                        schema
                            .index_of(n)
                            .map_err(|_| Error::ColumnNotFound { column: n.clone() })
                    })
                    .collect::<Result<Vec<_>>>()?;
                let mask = ProjectionMask::roots(builder.parquet_schema(), indices);
                builder.with_projection(mask)
            }
        };
        let reader = builder
            .with_batch_size(self.batch_rows)
            .build()
            .map_err(&bad)?;
        Ok(ParquetBatches {
            reader,
            path: path.to_owned(),
            columns: self.columns.clone(),
            total_rows,
        })
    }

    /// Reads the whole file (the projected columns) into one frame.
    pub fn read_path(&self, path: impl AsRef<Path>) -> Result<Frame> {
        let batches = self.batches(path)?;
        let columns = batches.columns.clone();
        let mut acc = Vec::new();
        let mut empty = None;
        for batch in batches {
            let batch = batch?;
            if batch.n_rows() == 0 {
                empty.get_or_insert(batch);
                continue;
            }
            append_frame(&mut acc, batch)?;
        }
        let frame = match (acc.is_empty(), empty) {
            (true, Some(e)) => e,
            _ => finish_frame(acc)?,
        };
        match columns {
            Some(names) if frame.n_cols() > 0 => {
                frame.select(&names.iter().map(String::as_str).collect::<Vec<_>>())
            }
            _ => Ok(frame),
        }
    }
}

/// The batches of a Parquet file, from [`ParquetReader::batches`].
pub struct ParquetBatches {
    reader: ParquetRecordBatchReader,
    path: PathBuf,
    columns: Option<Vec<String>>,
    total_rows: u64,
}

impl std::fmt::Debug for ParquetBatches {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ParquetBatches")
            .field("path", &self.path)
            .field("total_rows", &self.total_rows)
            .finish_non_exhaustive()
    }
}

impl ParquetBatches {
    /// Rows in the file, from its footer.
    pub fn total_rows(&self) -> u64 {
        self.total_rows
    }

    /// The file being read.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Iterator for ParquetBatches {
    type Item = Result<Frame>;

    fn next(&mut self) -> Option<Result<Frame>> {
        let batch = match self.reader.next()? {
            Ok(b) => b,
            Err(e) => return Some(Err(parquet_error(&self.path)(e))),
        };
        let frame = Frame::from_record_batch(&batch);
        Some(match (&self.columns, frame) {
            (Some(names), Ok(f)) => f.select(&names.iter().map(String::as_str).collect::<Vec<_>>()),
            (_, f) => f,
        })
    }
}

/// Maps a Parquet or Arrow error to [`Error::Parquet`] for `path`.
fn parquet_error<E: std::fmt::Display>(path: &Path) -> impl Fn(E) -> Error + '_ {
    move |e| Error::Parquet {
        path: path.to_owned(),
        reason: e.to_string(),
    }
}

/// Writes frames to one Parquet file, Snappy-compressed, one row group per
/// [`ParquetWriter::write`] call at most (larger frames are split by the
/// writer's row-group limit). The first frame fixes the schema.
pub struct ParquetWriter<W: Write + Send> {
    target: PathBuf,
    out: Option<W>,
    writer: Option<ArrowWriter<W>>,
    rows: u64,
}

impl<W: Write + Send> std::fmt::Debug for ParquetWriter<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ParquetWriter")
            .field("target", &self.target)
            .field("rows", &self.rows)
            .finish_non_exhaustive()
    }
}

impl<W: Write + Send> ParquetWriter<W> {
    /// A writer into `out`, named `target` in errors.
    pub fn new(out: W, target: impl Into<PathBuf>) -> Self {
        ParquetWriter {
            target: target.into(),
            out: Some(out),
            writer: None,
            rows: 0,
        }
    }

    /// The output's name in errors.
    pub fn target(&self) -> &Path {
        &self.target
    }

    /// Appends the rows of `frame` (its schema must match the first one's).
    pub fn write(&mut self, frame: Frame) -> Result<()> {
        let batch = frame.into_record_batch()?;
        let bad = parquet_error(&self.target);
        if self.writer.is_none() {
            let props = WriterProperties::builder()
                .set_compression(Compression::SNAPPY)
                .build();
            let out = self.out.take().ok_or_else(|| Error::Parquet {
                path: self.target.clone(),
                reason: "writer already finished".into(),
            })?;
            self.writer =
                Some(ArrowWriter::try_new(out, batch.schema(), Some(props)).map_err(&bad)?);
        }
        if let Some(w) = self.writer.as_mut() {
            w.write(&batch).map_err(&bad)?;
        }
        self.rows += batch.num_rows() as u64;
        Ok(())
    }

    /// Writes the footer and returns the output with the rows written. A
    /// writer that got no frame writes `empty`'s schema (no rows).
    pub fn finish(mut self, empty: &Frame) -> Result<(W, u64)> {
        if self.writer.is_none() {
            self.write(empty.take(&[])?)?;
        }
        let bad = parquet_error(&self.target);
        let writer = self.writer.take().ok_or_else(|| Error::Parquet {
            path: self.target.clone(),
            reason: "writer already finished".into(),
        })?;
        let out = writer.into_inner().map_err(&bad)?;
        Ok((out, self.rows))
    }
}

impl Frame {
    /// Writes the frame as Parquet into `writer` (named `target` in errors).
    pub fn write_parquet<W: Write + Send>(&self, writer: W, target: &Path) -> Result<W> {
        let mut w = ParquetWriter::new(writer, target);
        w.write(self.clone())?;
        Ok(w.finish(self)?.0)
    }

    /// Writes the frame to a Parquet file (created or truncated).
    pub fn write_parquet_path(&self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        let file = File::create(path).map_err(|source| Error::Io {
            path: path.to_owned(),
            source,
        })?;
        let mut file = self.write_parquet(std::io::BufWriter::new(file), path)?;
        file.flush().map_err(|source| Error::Io {
            path: path.to_owned(),
            source,
        })
    }

    /// Reads a whole Parquet file; see [`ParquetReader`] for projection and
    /// streaming.
    pub fn read_parquet(path: impl AsRef<Path>) -> Result<Frame> {
        ParquetReader::new().read_path(path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::Column;

    fn telco() -> Frame {
        Frame::read_csv(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../examples/data/telco_churn.csv"
        ))
        .expect("telco")
    }

    #[test]
    fn telco_round_trips_in_small_batches() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("t.parquet");
        let frame = telco();
        frame.write_parquet_path(&path).expect("write");
        assert_eq!(Frame::read_parquet(&path).expect("read"), frame);
        let reader = ParquetReader::new().batch_rows(1000);
        let batches: Vec<Frame> = reader
            .batches(&path)
            .expect("open")
            .collect::<Result<_>>()
            .expect("batches");
        assert_eq!(batches.len(), 8);
        assert!(batches.iter().all(|b| b.n_rows() <= 1000));
        assert_eq!(reader.read_path(&path).expect("read"), frame);
    }

    #[test]
    fn streamed_writes_read_back_as_one_frame() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("t.parquet");
        let frame = telco();
        let file = File::create(&path).expect("create");
        let mut w = ParquetWriter::new(file, &path);
        for start in (0..frame.n_rows()).step_by(2000) {
            let rows: Vec<usize> = (start..(start + 2000).min(frame.n_rows())).collect();
            w.write(frame.take(&rows).expect("take")).expect("write");
        }
        let (_, rows) = w.finish(&frame).expect("finish");
        assert_eq!(rows, 7043);
        assert_eq!(Frame::read_parquet(&path).expect("read"), frame);
    }

    #[test]
    fn projection_and_errors() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("t.parquet");
        telco().write_parquet_path(&path).expect("write");
        let err = ParquetReader::new()
            .columns(["tenure", "nope"])
            .read_path(&path)
            .expect_err("absent");
        assert!(matches!(err, Error::ColumnNotFound { ref column } if column == "nope"));
        let f = ParquetReader::new()
            .columns(["MonthlyCharges"])
            .read_path(&path)
            .expect("one");
        assert!(matches!(f.column_at(0), Some(Column::Numeric(_))));
        let junk = dir.path().join("junk.parquet");
        std::fs::write(&junk, b"not parquet at all").expect("junk");
        let err = Frame::read_parquet(&junk).expect_err("junk");
        assert!(matches!(err, Error::Parquet { .. }), "{err}");
        assert!(err.to_string().contains("junk.parquet"), "{err}");
    }
}
