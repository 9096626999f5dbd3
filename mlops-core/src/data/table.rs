//! Table files by format: [`TableFormat`] picks CSV or Parquet from a path's
//! extension (or an explicit choice, as a `--format` flag gives), and
//! [`read_table`] reads either into a [`Frame`].

use std::io::Write;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use super::csv_reader::CsvReader;
use super::frame::Frame;
use crate::error::{Error, Result};

/// The format of a table file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TableFormat {
    /// Comma-separated text with a header row.
    Csv,
    /// Apache Parquet (needs the `parquet` feature).
    Parquet,
}

impl TableFormat {
    /// `Parquet` for a `.parquet` or `.pq` file, `Csv` for anything else.
    ///
    /// ```
    /// use mlops_core::data::TableFormat;
    /// assert_eq!(TableFormat::from_path("a/b.parquet".as_ref()), TableFormat::Parquet);
    /// assert_eq!(TableFormat::from_path("b.csv".as_ref()), TableFormat::Csv);
    /// ```
    pub fn from_path(path: &Path) -> TableFormat {
        match path.extension().and_then(|e| e.to_str()) {
            Some(e) if e.eq_ignore_ascii_case("parquet") || e.eq_ignore_ascii_case("pq") => {
                TableFormat::Parquet
            }
            _ => TableFormat::Csv,
        }
    }

    /// `explicit` when given, else [`TableFormat::from_path`].
    pub fn resolve(path: &Path, explicit: Option<TableFormat>) -> TableFormat {
        explicit.unwrap_or_else(|| TableFormat::from_path(path))
    }

    /// `csv` or `parquet`.
    pub fn name(self) -> &'static str {
        match self {
            TableFormat::Csv => "csv",
            TableFormat::Parquet => "parquet",
        }
    }

    /// An error when this build cannot read the format.
    pub fn check_supported(self, path: &Path) -> Result<()> {
        if self == TableFormat::Parquet && !cfg!(feature = "parquet") {
            return Err(Error::TableFormat {
                path: path.to_owned(),
                reason: "this build has no Parquet support (enable the `parquet` feature)".into(),
            });
        }
        Ok(())
    }
}

impl std::fmt::Display for TableFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for TableFormat {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        match s.to_ascii_lowercase().as_str() {
            "csv" => Ok(TableFormat::Csv),
            "parquet" | "pq" => Ok(TableFormat::Parquet),
            _ => Err(Error::InvalidParameter {
                name: "format",
                reason: format!("`{s}` is not a table format (csv, parquet)"),
            }),
        }
    }
}

/// Reads a CSV or Parquet table (format from `format`, else the extension).
/// A CSV is read with `csv` (its schema and options); a Parquet file keeps
/// its own column types.
pub fn read_table(path: &Path, format: Option<TableFormat>, csv: &CsvReader) -> Result<Frame> {
    let format = TableFormat::resolve(path, format);
    format.check_supported(path)?;
    match format {
        TableFormat::Csv => csv.read_path(path).map(|o| o.frame),
        #[cfg(feature = "parquet")]
        TableFormat::Parquet => Frame::read_parquet(path),
        #[cfg(not(feature = "parquet"))]
        TableFormat::Parquet => unreachable!("checked above"),
    }
}

impl Frame {
    /// Writes a CSV or Parquet table (format from `format`, else the
    /// extension).
    pub fn write_table(&self, path: &Path, format: Option<TableFormat>) -> Result<()> {
        let format = TableFormat::resolve(path, format);
        format.check_supported(path)?;
        match format {
            TableFormat::Csv => self.write_csv_path(path).map(|_| ()),
            #[cfg(feature = "parquet")]
            TableFormat::Parquet => self.write_parquet_path(path),
            #[cfg(not(feature = "parquet"))]
            TableFormat::Parquet => unreachable!("checked above"),
        }
    }
}

/// Writes frames, one after another, to one CSV or Parquet output (a
/// header or schema from the first frame). Batch jobs stream their output
/// through it.
pub struct TableWriter<W: Write + Send> {
    inner: Inner<W>,
    rows: u64,
}

enum Inner<W: Write + Send> {
    Csv {
        out: W,
        header: bool,
        target: PathBuf,
    },
    #[cfg(feature = "parquet")]
    Parquet(Box<super::parquet::ParquetWriter<W>>),
}

impl<W: Write + Send> std::fmt::Debug for TableWriter<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TableWriter")
            .field("format", &self.format())
            .field("rows", &self.rows)
            .finish_non_exhaustive()
    }
}

impl<W: Write + Send> TableWriter<W> {
    /// A writer of `format` into `out`, named `target` in errors.
    pub fn new(out: W, target: &Path, format: TableFormat) -> Result<Self> {
        format.check_supported(target)?;
        let inner = match format {
            TableFormat::Csv => Inner::Csv {
                out,
                header: true,
                target: target.to_owned(),
            },
            #[cfg(feature = "parquet")]
            TableFormat::Parquet => {
                Inner::Parquet(Box::new(super::parquet::ParquetWriter::new(out, target)))
            }
            #[cfg(not(feature = "parquet"))]
            TableFormat::Parquet => unreachable!("checked above"),
        };
        Ok(TableWriter { inner, rows: 0 })
    }

    /// The output format.
    pub fn format(&self) -> TableFormat {
        match self.inner {
            Inner::Csv { .. } => TableFormat::Csv,
            #[cfg(feature = "parquet")]
            Inner::Parquet(_) => TableFormat::Parquet,
        }
    }

    /// Rows written so far.
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// Appends `frame`'s rows (same columns as the first frame's).
    pub fn write(&mut self, frame: Frame) -> Result<()> {
        self.rows += frame.n_rows() as u64;
        match &mut self.inner {
            Inner::Csv { out, header, .. } => {
                frame.write_csv_rows(&mut *out, *header)?;
                *header = false;
                Ok(())
            }
            #[cfg(feature = "parquet")]
            Inner::Parquet(w) => w.write(frame),
        }
    }

    /// Completes the output (a CSV header or Parquet schema from `empty`
    /// when no frame came) and hands it back, flushed.
    pub fn finish(self, empty: &Frame) -> Result<W> {
        match self.inner {
            Inner::Csv {
                mut out,
                header,
                target,
            } => {
                if header {
                    empty.take(&[])?.write_csv_rows(&mut out, true)?;
                }
                out.flush().map_err(|source| Error::Io {
                    path: target,
                    source,
                })?;
                Ok(out)
            }
            #[cfg(feature = "parquet")]
            Inner::Parquet(w) => {
                let target = w.target().to_owned();
                let (mut out, _) = w.finish(empty)?;
                out.flush().map_err(|source| Error::Io {
                    path: target,
                    source,
                })?;
                Ok(out)
            }
        }
    }
}
