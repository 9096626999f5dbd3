//! The one error type of `mlops-serve`.

use std::path::PathBuf;

/// Everything that can go wrong while serving.
///
/// Input problems of one request ([`MissingColumn`](Error::MissingColumn),
/// [`WrongType`](Error::WrongType), [`UnknownCategory`](Error::UnknownCategory),
/// [`NonFinite`](Error::NonFinite), [`Arity`](Error::Arity)) name the model and the column, so a caller can
/// answer its client with a 4xx that says what to fix.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    // --- predictor: input of one request ---
    /// A column of the model's input signature is absent from the record or
    /// frame.
    ///
    /// One error names every problem of the input: all absent columns and,
    /// in [`wrong_type`](Error::MissingColumn::wrong_type), every present
    /// column of the wrong type.
    #[error(
        "model {model}: {}{}",
        missing_text(column, others),
        wrong_type_tail(wrong_type)
    )]
    MissingColumn {
        /// The model (`NAME/VERSION`).
        model: String,
        /// The first absent column (signature order).
        column: String,
        /// Every other absent column, in signature order: one error names
        /// them all.
        others: Vec<String>,
        /// Every present column of the wrong type, in signature order.
        wrong_type: Vec<TypeMismatch>,
    },

    /// A value has the wrong type for its column (text for a numeric column,
    /// a number for a categorical one). No column is absent (else
    /// [`MissingColumn`](Error::MissingColumn)); one error names every
    /// column of the wrong type.
    #[error("model {model}: {}", wrong_type_text(column, expected, found, others))]
    WrongType {
        /// The model (`NAME/VERSION`).
        model: String,
        /// The first column of the wrong type (signature order).
        column: String,
        /// The type the signature asks for.
        expected: &'static str,
        /// What the caller sent (`text`, `number`, or a column type).
        found: &'static str,
        /// Every other column of the wrong type, in signature order.
        others: Vec<TypeMismatch>,
    },

    /// A categorical value never seen in training, refused under
    /// [`UnknownCategories::Error`](crate::UnknownCategories::Error).
    #[error(
        "model {model}: column `{column}`{}: {}",
        row.map(|r| format!(" row {r}")).unwrap_or_default(),
        unknown_reason(value, known, *n_known)
    )]
    UnknownCategory {
        /// The model (`NAME/VERSION`).
        model: String,
        /// The column.
        column: String,
        /// The unseen value.
        value: String,
        /// The row of a frame (`None` for a single record).
        row: Option<usize>,
        /// Up to [`KNOWN_VALUES_SHOWN`](crate::KNOWN_VALUES_SHOWN) values
        /// seen in training (kept categories sorted, then rare ones).
        known: Vec<String>,
        /// How many values training saw in this column.
        n_known: usize,
    },

    /// A numeric value is infinite or NaN (NaN is not "missing": send
    /// [`Value::Missing`](mlops_core::data::Value::Missing) for that).
    #[error("model {model}: column `{column}`{}: non-finite value {value}", row.map(|r| format!(" row {r}")).unwrap_or_default())]
    NonFinite {
        /// The model (`NAME/VERSION`).
        model: String,
        /// The column.
        column: String,
        /// The row of a frame (`None` for a single record).
        row: Option<usize>,
        /// The value.
        value: f64,
    },

    /// A positional record does not have one value per signature column.
    #[error("model {model}: record has {found} values, the input signature has {expected}")]
    Arity {
        /// The model (`NAME/VERSION`).
        model: String,
        /// Signature length.
        expected: usize,
        /// Values given.
        found: usize,
    },

    // --- configuration ---
    /// A configuration value is out of range.
    #[error("invalid {name}: {reason}")]
    InvalidConfig {
        /// The setting.
        name: &'static str,
        /// Why it is invalid.
        reason: String,
    },

    // --- prediction log and outcomes ---
    /// No logged prediction has this correlation id (not sampled, or never
    /// made).
    #[error("no logged prediction with correlation id `{0}`")]
    PredictionNotLogged(String),

    /// An outcome is not a usable label.
    #[error("outcome for `{correlation_id}`: {reason}")]
    BadOutcome {
        /// The prediction's correlation id.
        correlation_id: String,
        /// Why the outcome is rejected.
        reason: String,
    },

    // --- batch scoring ---
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

    // --- everything below mlops-serve ---
    /// An error from `mlops-core` (store, registry, package, features...).
    #[error(transparent)]
    Core(#[from] mlops_core::Error),
}

impl Error {
    /// A short stable name of the error kind, used as the `kind` label of
    /// the error counter.
    pub fn kind(&self) -> &'static str {
        match self {
            Error::MissingColumn { .. } => "missing_column",
            Error::WrongType { .. } => "wrong_type",
            Error::UnknownCategory { .. } => "unknown_category",
            Error::NonFinite { .. } => "non_finite",
            Error::Arity { .. } => "arity",
            Error::InvalidConfig { .. } => "invalid_config",
            Error::PredictionNotLogged(_) => "not_logged",
            Error::BadOutcome { .. } => "bad_outcome",
            Error::Read { .. } => "read",
            Error::Write { .. } => "write",
            Error::File { .. } => "file",
            Error::BadHeader { .. } => "bad_header",
            Error::MissingInputColumn { .. } => "missing_input_column",
            Error::TooManyRejects { .. } => "too_many_rejects",
            Error::Core(_) => "internal",
        }
    }

    /// True for problems with the caller's input (a client error), false for
    /// problems on the serving side.
    pub fn is_input_error(&self) -> bool {
        matches!(
            self,
            Error::MissingColumn { .. }
                | Error::WrongType { .. }
                | Error::UnknownCategory { .. }
                | Error::NonFinite { .. }
                | Error::Arity { .. }
        )
    }
}

/// A column of the wrong type, as listed by [`Error::MissingColumn`] and
/// [`Error::WrongType`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TypeMismatch {
    /// The column.
    pub column: String,
    /// The type the signature asks for.
    pub expected: &'static str,
    /// What the caller sent (`text`, `number`, or a column type).
    pub found: &'static str,
}

/// `Result` with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

fn missing_text(column: &str, others: &[String]) -> String {
    if others.is_empty() {
        return format!("input column `{column}` is missing");
    }
    let all: Vec<String> = std::iter::once(column)
        .chain(others.iter().map(String::as_str))
        .map(|c| format!("`{c}`"))
        .collect();
    format!(
        "{} input columns are missing: {}",
        all.len(),
        all.join(", ")
    )
}

fn mismatch_text(column: &str, expected: &str, found: &str) -> String {
    format!("`{column}` expects a {expected} value, got {found}")
}

fn wrong_type_text(column: &str, expected: &str, found: &str, others: &[TypeMismatch]) -> String {
    if others.is_empty() {
        return format!("column {}", mismatch_text(column, expected, found));
    }
    let all: Vec<String> = std::iter::once(mismatch_text(column, expected, found))
        .chain(
            others
                .iter()
                .map(|m| mismatch_text(&m.column, m.expected, m.found)),
        )
        .collect();
    format!(
        "{} input columns have the wrong type: {}",
        all.len(),
        all.join("; ")
    )
}

fn wrong_type_tail(wrong: &[TypeMismatch]) -> String {
    if wrong.is_empty() {
        return String::new();
    }
    let all: Vec<String> = wrong
        .iter()
        .map(|m| mismatch_text(&m.column, m.expected, m.found))
        .collect();
    let has = if wrong.len() == 1 {
        "column has"
    } else {
        "columns have"
    };
    format!("; {} {has} the wrong type: {}", wrong.len(), all.join("; "))
}

/// `category `V` was not seen in training; known values: ...`: the
/// reason of an unknown-category error or rejected row.
pub(crate) fn unknown_reason(value: &str, known: &[String], n_known: usize) -> String {
    if known.is_empty() {
        return format!("category `{value}` was not seen in training, which saw no value here");
    }
    let shown: Vec<String> = known.iter().map(|k| format!("`{k}`")).collect();
    let more = n_known.saturating_sub(known.len());
    let tail = if more > 0 {
        format!(" and {more} more")
    } else {
        String::new()
    };
    format!(
        "category `{value}` was not seen in training; known values: {}{tail}",
        shown.join(", ")
    )
}
