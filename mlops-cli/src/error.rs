//! The one error type of the command line.

use std::path::PathBuf;

/// Everything a command can fail with.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// An error from the library.
    #[error(transparent)]
    Core(#[from] mlops_core::Error),

    /// An error from training.
    #[error(transparent)]
    Train(#[from] mlops_train::Error),

    /// Arguments that parse but do not make sense together.
    #[error("{0}")]
    Arguments(String),

    /// An error from serving or batch scoring.
    #[error(transparent)]
    Serve(#[from] mlops_serve::Error),

    /// Writing the report to stdout failed (for example a closed pipe).
    #[error("cannot write output: {0}")]
    Output(#[source] std::io::Error),

    /// Serialising the JSON report failed.
    #[error("cannot encode JSON output: {0}")]
    Json(#[from] serde_json::Error),

    /// A read-only command was pointed at a directory holding no store.
    #[error("no store at {} (set --store DIR or MLOPS_STORE)", path.display())]
    NoStore {
        /// The directory given.
        path: PathBuf,
    },

    /// A file could not be inspected.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
}

impl CliError {
    /// Whether stdout was closed by the reader (`mlops runs list | head`):
    /// not a failure of the command, so it exits quietly.
    pub fn is_broken_pipe(&self) -> bool {
        let io = match self {
            CliError::Output(e) => Some(e.kind()),
            CliError::Json(e) => e.io_error_kind(),
            _ => None,
        };
        io == Some(std::io::ErrorKind::BrokenPipe)
    }
}

/// `Result` with [`CliError`].
pub type Result<T, E = CliError> = std::result::Result<T, E>;

/// Prints `error: MESSAGE` as exactly one line on stderr.
pub fn report(err: &CliError) {
    print_line(&err.to_string());
}

/// Prints one `error:` line on stderr, folding any line breaks in `msg`.
pub fn print_line(msg: &str) {
    use std::io::Write;
    let one_line = msg.split_whitespace().collect::<Vec<_>>().join(" ");
    let _ = writeln!(std::io::stderr().lock(), "error: {one_line}");
}
