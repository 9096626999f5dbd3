//! Typed tabular data: [`Frame`], its columns, CSV reading and writing
//! ([`Frame::write_csv`]), Arrow record batches (feature `arrow`) and
//! Parquet files (feature `parquet`); [`read_table`] takes either file
//! format.

#[cfg(feature = "arrow")]
pub mod arrow;
mod column;
mod csv_lines;
mod csv_number;
mod csv_plain;
mod csv_reader;
mod csv_writer;
mod describe;
mod frame;
#[cfg(feature = "parquet")]
mod parquet;
mod table;

pub use column::{
    CategoricalColumn, Column, ColumnType, Dictionary, MISSING_CODE, NumericColumn, Value,
};
pub use csv_reader::{
    CsvChunks, CsvOutcome, CsvReader, DEFAULT_INFER_ROWS, DEFAULT_MISSING, RejectedRow,
};
pub use describe::{
    CategoricalSummary, CategoryCount, ColumnSummary, FrameSummary, NumericSummary, TOP_CATEGORIES,
};
pub use frame::{Field, Frame, Schema};
#[cfg(feature = "parquet")]
pub use parquet::{DEFAULT_BATCH_ROWS, ParquetBatches, ParquetReader, ParquetWriter};
pub use table::{TableFormat, TableWriter, read_table};

impl Frame {
    /// Reads a CSV file strictly with inferred types; see [`CsvReader`] for
    /// options.
    pub fn read_csv(path: impl AsRef<std::path::Path>) -> crate::Result<Frame> {
        CsvReader::new().read_path(path).map(|o| o.frame)
    }
}
