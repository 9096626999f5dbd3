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

    /// An Arrow column has a type with no `Frame` counterpart.
    #[error("column `{column}`: Arrow type {arrow_type} is not supported ({reason})")]
    ArrowType {
        /// The column.
        column: String,
        /// The Arrow data type, as Arrow prints it.
        arrow_type: String,
        /// What would be supported instead.
        reason: String,
    },

    /// A Parquet file cannot be read or written.
    #[error("{}: parquet: {reason}", path.display())]
    Parquet {
        /// The file (or target) involved.
        path: PathBuf,
        /// What the Parquet or Arrow library reported.
        reason: String,
    },

    /// A table file has a format this build cannot read (unknown
    /// extension, or a feature that is off).
    #[error("{}: {reason}", path.display())]
    TableFormat {
        /// The file.
        path: PathBuf,
        /// Why, and what to do.
        reason: String,
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

    // --- store ---
    /// Another process (or another open handle) holds the store's exclusive
    /// lock.
    #[error("store at {} is locked by another process", path.display())]
    StoreLocked {
        /// The store directory.
        path: PathBuf,
    },

    /// A store location (`--store`, `MLOPS_STORE`) could not be parsed or
    /// needs a backend this build lacks.
    #[error("bad store location `{location}`: {reason}")]
    StoreUrl {
        /// The location, with any password removed.
        location: String,
        /// What is wrong with it.
        reason: String,
    },

    /// The PostgreSQL store failed: unreachable server, refused password,
    /// missing database, or a query error.
    #[error("PostgreSQL store at {host}: {reason}")]
    Postgres {
        /// `host:port/database` of the server.
        host: String,
        /// One line from the server or client.
        reason: String,
    },

    // --- registry ---
    /// A name (model, alias, tag key) breaks the naming rules.
    #[error("invalid {kind} name `{name}`: {reason}")]
    InvalidName {
        /// What was being named: `model`, `alias`, `tag`.
        kind: &'static str,
        /// The rejected name.
        name: String,
        /// Which rule it breaks.
        reason: String,
    },

    /// No registered model has this name.
    #[error("model `{model}` is not registered")]
    ModelNotFound {
        /// The model name.
        model: String,
    },

    /// A model with this name is already registered.
    #[error("model `{model}` is already registered")]
    ModelExists {
        /// The model name.
        model: String,
    },

    /// The model has no such version (never registered, or deleted).
    #[error("model `{model}` has no version {version}")]
    VersionNotFound {
        /// The model name.
        model: String,
        /// The version number.
        version: u32,
    },

    /// The model has no such alias.
    #[error("model `{model}` has no alias `{alias}`")]
    AliasNotFound {
        /// The model name.
        model: String,
        /// The alias.
        alias: String,
    },

    /// A version cannot be deleted while aliases point at it.
    #[error(
        "model `{model}` version {version} is the target of {}; move the alias first",
        list_aliases(aliases)
    )]
    VersionInUse {
        /// The model name.
        model: String,
        /// The version number.
        version: u32,
        /// The aliases that point at it.
        aliases: Vec<String>,
    },

    /// The alias has no earlier target in its audit history.
    #[error("alias `{alias}` of model `{model}` has no earlier target to roll back to")]
    NothingToRollBack {
        /// The model name.
        model: String,
        /// The alias.
        alias: String,
    },

    /// A gate's evidence was measured against a version that no longer
    /// holds the alias (it moved in between); evaluate again.
    #[error(
        "alias `{alias}` of model `{model}` is held by {}, but the evidence compares with version {evaluated}",
        holder.map_or_else(|| "no version".to_owned(), |v| format!("version {v}"))
    )]
    StaleEvidence {
        /// The model name.
        model: String,
        /// The alias.
        alias: String,
        /// The holder version the evidence was measured on.
        evaluated: u32,
        /// The version holding the alias now.
        holder: Option<u32>,
    },

    /// A model reference (`NAME@ALIAS` or `NAME/VERSION`) does not parse.
    #[error("invalid model reference `{input}`: {reason}")]
    InvalidModelRef {
        /// The text given.
        input: String,
        /// What is wrong with it.
        reason: String,
    },

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

    /// A call's output width does not match the model's outputs: a
    /// single-output call on a multiclass model, or a probability buffer of
    /// the wrong length.
    #[error(
        "model has {expected} outputs per row, the call has room for {found} (multiclass models need predict_proba_into / predict_proba_matrix)"
    )]
    OutputCount {
        /// Outputs of the model per row.
        expected: usize,
        /// Outputs the call provides for.
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

    // --- model package ---
    /// The bytes are not a model package: the magic bytes are wrong.
    #[error("not a {what}: the first bytes are not the {what} magic")]
    WrongMagic {
        /// What was being read (`model package`).
        what: &'static str,
    },

    /// A model package was written by a newer format version than this
    /// build reads.
    #[error("{what} has format version {found}, this build reads up to {supported}; upgrade mlops")]
    NewerFormat {
        /// What was being read (`model package`).
        what: &'static str,
        /// The version in the file.
        found: u16,
        /// The newest version this build reads.
        supported: u16,
    },

    /// A checksum over part of a model package does not match its bytes.
    #[error(
        "{what}: {section} checksum mismatch (stored {expected}, computed {found}); the file is corrupt"
    )]
    ChecksumMismatch {
        /// What was being read (`model package`).
        what: &'static str,
        /// Which part failed (`header`, `payload`).
        section: &'static str,
        /// The checksum stored in the file, hex.
        expected: String,
        /// The checksum of the bytes read, hex.
        found: String,
    },

    /// A model package is shorter than its header or its declared length.
    #[error("{what} is truncated: {expected} bytes expected, {found} found")]
    Truncated {
        /// What was being read (`model package`).
        what: &'static str,
        /// Bytes the header (or the fixed header size) requires.
        expected: u64,
        /// Bytes actually present.
        found: u64,
    },

    /// A model package has bytes after its declared payload.
    #[error("{what} has {extra} unexpected bytes after its payload")]
    TrailingBytes {
        /// What was being read (`model package`).
        what: &'static str,
        /// Number of extra bytes.
        extra: u64,
    },

    /// A model package's content is inconsistent: the model's input width
    /// differs from the features' output width, a threshold is out of range,
    /// the payload does not decode, and so on.
    #[error("invalid model package: {reason}")]
    InvalidPackage {
        /// What check failed.
        reason: String,
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
    /// A multiclass target label that was not among the training classes.
    #[error(
        "target column `{column}` has the label `{value}` at row {row} (0-based), which is not a class the model was trained on"
    )]
    UnknownTargetClass {
        /// The target column.
        column: String,
        /// The unseen label.
        value: String,
        /// 0-based row index in the frame.
        row: usize,
    },

    // --- synth ---
    /// Writing generated data to a stream failed.
    #[error("cannot write {target}: {source}")]
    Write {
        /// What was being written.
        target: String,
        /// The underlying I/O error.
        #[source]
        source: std::io::Error,
    },

    // --- tracking ---
    /// No run with this id exists in the store.
    #[error("run {run_id} not found")]
    RunNotFound {
        /// The run id asked for.
        run_id: String,
    },

    /// No experiment with this name exists in the store.
    #[error("experiment `{name}` not found")]
    ExperimentNotFound {
        /// The experiment name asked for.
        name: String,
    },

    /// A param was logged again with a different value; params are immutable.
    #[error(
        "run {run_id}: param `{key}` is already `{existing}`, cannot change it to `{new}` (params are immutable; use a tag for mutable values)"
    )]
    ParamConflict {
        /// The run.
        run_id: String,
        /// The param key.
        key: String,
        /// The value already recorded.
        existing: String,
        /// The rejected new value.
        new: String,
    },

    /// An artifact name was logged again with different content.
    #[error(
        "run {run_id}: artifact `{name}` already has digest {existing}, cannot replace it with {new}"
    )]
    ArtifactConflict {
        /// The run.
        run_id: String,
        /// The artifact name.
        name: String,
        /// Digest already recorded.
        existing: String,
        /// Digest of the rejected content.
        new: String,
    },

    /// A metric value is NaN or infinite.
    #[error("run {run_id}: metric `{key}` = {value} rejected: metric values must be finite")]
    InvalidMetric {
        /// The run.
        run_id: String,
        /// The metric key.
        key: String,
        /// The rejected value.
        value: f64,
    },

    /// A param, metric, tag, artifact or dataset name is unusable.
    #[error("run {run_id}: invalid {what} name `{name}`: {reason}")]
    InvalidKey {
        /// The run.
        run_id: String,
        /// What kind of name (`param`, `metric`, ...).
        what: &'static str,
        /// The rejected name.
        name: String,
        /// Why it was rejected.
        reason: String,
    },

    /// A write was attempted on a run that has already ended.
    #[error("run {run_id} is {status}; it no longer accepts writes")]
    RunNotActive {
        /// The run.
        run_id: String,
        /// Its current status.
        status: String,
    },

    /// A run has no artifact with this name.
    #[error("run {run_id} has no artifact `{name}`")]
    ArtifactNotFound {
        /// The run.
        run_id: String,
        /// The artifact name asked for.
        name: String,
    },

    /// A model version to register points at a run the tracking store does
    /// not hold, or at a digest that is not one of that run's artifacts.
    /// Registration checks this before writing, so a wrong version never
    /// reaches `load_registered`.
    #[error(
        "cannot register a version of model `{model}`: {problem}; the version needs the run id (`TrainOutcome::run_id`) and the artifact digest of its model package (`TrainOutcome::artifact_digest`, the BLAKE3 digest of the stored `model.mlpkg` bytes that `mlops runs show` lists), or use `Registry::register_run` with the run id alone"
    )]
    RegistrationRejected {
        /// The model.
        model: String,
        /// The run id given.
        run_id: String,
        /// The digest given.
        digest: String,
        /// What does not match (names the run and the digest).
        problem: String,
    },

    /// A search page token is malformed or belongs to a different query.
    #[error("invalid page token `{token}`: {reason}")]
    InvalidPageToken {
        /// The token as given.
        token: String,
        /// What is wrong with it.
        reason: String,
    },

    // --- filter ---
    /// A search filter is malformed or compares a field with the wrong kind
    /// of value.
    #[error("invalid filter at column {column}: {message} (in `{input}`)")]
    InvalidFilter {
        /// The filter text.
        input: String,
        /// 1-based column, in characters, of the offending token.
        column: usize,
        /// What is wrong there.
        message: String,
    },

    /// An order-by clause is malformed.
    #[error("invalid order-by at column {column}: {message} (in `{input}`)")]
    InvalidOrderBy {
        /// The order-by text.
        input: String,
        /// 1-based column, in characters, of the offending token.
        column: usize,
        /// What is wrong there.
        message: String,
    },

    // --- report ---
    /// A report input (an evaluation artifact, a chart source) is malformed.
    #[error("report: {0}")]
    Report(String),
}

fn list_aliases(aliases: &[String]) -> String {
    let quoted: Vec<String> = aliases.iter().map(|a| format!("`{a}`")).collect();
    match quoted.as_slice() {
        [] => "an alias".to_owned(),
        [one] => format!("alias {one}"),
        _ => format!("aliases {}", quoted.join(", ")),
    }
}

/// `Result` with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
