//! The one error type of `mlops-core`.

use std::path::PathBuf;

/// Everything that can go wrong in `mlops-core`.
///
/// Variants carry the context a user needs to act on the error: the file, the
/// 1-based line and the column name for data errors, the offending name for
/// spec errors.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Reading or writing a file failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file involved.
        path: PathBuf,
        /// The underlying I/O error.
        #[source]
        source: std::io::Error,
    },

    /// A CSV cell does not fit the type of its column.
    #[error("{file}:{line}: column `{column}`: {reason}")]
    BadCell {
        /// The file (or source name) being read.
        file: String,
        /// 1-based line number of the record.
        line: u64,
        /// The column name.
        column: String,
        /// What is wrong with the cell.
        reason: String,
    },

    /// A CSV record has the wrong number of fields.
    #[error("{file}:{line}: record has {found} fields, the header has {expected}")]
    RaggedRow {
        /// The file (or source name) being read.
        file: String,
        /// 1-based line number of the record.
        line: u64,
        /// Number of fields in the header.
        expected: usize,
        /// Number of fields found.
        found: usize,
    },

    /// The CSV input is malformed in a way that is not tied to one cell.
    #[error("{file}:{line}: {reason}")]
    Csv {
        /// The file (or source name) being read.
        file: String,
        /// 1-based line number, 0 when unknown.
        line: u64,
        /// What went wrong.
        reason: String,
    },

    /// A column named by the caller does not exist.
    #[error("column `{column}` not found")]
    ColumnNotFound {
        /// The missing column.
        column: String,
    },

    /// A column exists but has the wrong type for the requested use.
    #[error("column `{column}` is {found}, expected {expected}")]
    ColumnType {
        /// The column.
        column: String,
        /// The type the caller needed.
        expected: &'static str,
        /// The type the column has.
        found: &'static str,
    },

    /// Columns (or a row and a schema) disagree in length or shape.
    #[error("shape mismatch: {0}")]
    Shape(String),

    /// A feature specification is invalid or does not fit the data.
    #[error("invalid feature spec: {0}")]
    InvalidSpec(String),

    /// A configuration value is out of range.
    #[error("invalid parameter `{name}`: {reason}")]
    InvalidParameter {
        /// The parameter.
        name: &'static str,
        /// Why it was rejected.
        reason: String,
    },

    /// A value fed to a transform is unusable (non-finite, wrong kind).
    #[error("column `{column}`: {reason}")]
    BadValue {
        /// The column.
        column: String,
        /// What is wrong.
        reason: String,
    },

    /// A persisted record is unreadable: truncated, wrong magic, bad
    /// checksum or undecodable payload.
    #[error("corrupt {what}: {reason}")]
    Corrupt {
        /// The record or file.
        what: String,
        /// What check failed.
        reason: String,
    },

    /// A persisted record or store was written by a newer format version.
    #[error("{what} has format version {found}, this build reads up to {supported}")]
    IncompatibleFormat {
        /// The record or file.
        what: String,
        /// Version found on disk.
        found: u32,
        /// Newest version this build supports.
        supported: u32,
    },

    /// The storage backend failed.
    #[error("store backend error: {0}")]
    Backend(String),

    /// Parsing a TOML or JSON document failed.
    #[error("cannot parse {what}: {reason}")]
    Parse {
        /// What was being parsed (file name or description).
        what: String,
        /// The parser's message.
        reason: String,
    },

    // --- model ---
    /// An inference model is malformed: an index out of range, a cycle, a
    /// non-finite weight. Raised when building or deserializing a model, so a
    /// hostile byte string can never make prediction panic or loop.
    #[error("invalid {model} model: {reason}")]
    InvalidModel {
        /// The model kind (`linear`, `tree ensemble`).
        model: &'static str,
        /// What check failed.
        reason: String,
    },

    /// A row or matrix given to a model has the wrong number of features.
    #[error("model expects {expected} features, got {found}")]
    FeatureCount {
        /// Features the model was trained on.
        expected: usize,
        /// Features in the input.
        found: usize,
    },

    /// An input value fed to a model is NaN or infinite.
    #[error("row {row}, feature {feature}: value {value} is not finite")]
    NonFiniteInput {
        /// 0-based row in the batch (0 for a single row).
        row: usize,
        /// 0-based feature index.
        feature: usize,
        /// The offending value.
        value: f64,
    },

    // --- features ---
    /// A row has no value in the target column.
    #[error("target column `{column}` is missing at row {row} (0-based)")]
    MissingTarget {
        /// The target column.
        column: String,
        /// 0-based row index in the frame.
        row: usize,
    },
}

/// `Result` with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
