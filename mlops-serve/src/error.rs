//! The one error type of `mlops-serve`.

use std::path::PathBuf;

/// Everything serving and batch scoring can fail with.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An error from `mlops-core` (model package, features, drift).
    #[error(transparent)]
    Core(#[from] mlops_core::Error),

    // --- batch scoring ---
    /// A configuration value is out of range.
    #[error("invalid batch configuration: `{name}` {reason}")]
    InvalidConfig {
        /// The setting.
        name: &'static str,
        /// What is wrong with it.
        reason: String,
    },

    /// Reading the input failed.
    #[error("cannot read {source_name}: {source}")]
    Read {
        /// The input (file name or a label).
        source_name: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },

    /// Writing scores or rejects failed.
    #[error("cannot write {target}: {source}")]
    Write {
        /// What was being written (`scores`, `rejects`, or a file name).
        target: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },

    /// A file could not be opened or created.
    #[error("{}: {source}", path.display())]
    File {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },

    /// The input header is unusable (empty, duplicate names, bad encoding).
    #[error("{source_name}: bad header: {reason}")]
    BadHeader {
        /// The input.
        source_name: String,
        /// What is wrong.
        reason: String,
    },

    /// The input lacks a column the model needs (every row would fail).
    #[error("{source_name}: no column `{column}`, which the model needs as input")]
    MissingInputColumn {
        /// The input.
        source_name: String,
        /// The missing column.
        column: String,
    },

    /// More rows were rejected than the configured ratio allows.
    #[error(
        "{rejected} of {rows} rows rejected ({:.2}%), above the allowed {:.2}%{}",
        *rejected as f64 * 100.0 / (*rows).max(1) as f64,
        max_ratio * 100.0,
        first_reason.as_deref().map(|r| format!("; first: {r}")).unwrap_or_default()
    )]
    TooManyRejects {
        /// Rows rejected.
        rejected: u64,
        /// Data rows read.
        rows: u64,
        /// The allowed share of rejected rows.
        max_ratio: f64,
        /// The first rejected row's line and reason.
        first_reason: Option<String>,
    },
}

/// `Result` with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
