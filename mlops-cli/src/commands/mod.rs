//! One module per command group.

pub mod data;
pub mod drift;
pub mod export;
pub mod models;
pub mod report;
pub mod runs;
pub mod score;
pub mod serve;
pub mod serve_limits;
pub mod train;

use std::sync::Arc;

use std::path::Path;

use mlops_core::data::{CsvReader, Frame, TableFormat};
use mlops_core::store::{SharedStore, SledStore};

use crate::cli::{Cli, Command};
use crate::error::{CliError, Result};

/// Options every command sees.
#[derive(Debug, Clone)]
pub struct Context {
    /// The store directory (`--store` / `MLOPS_STORE`).
    pub store: std::path::PathBuf,
    /// `--json`.
    pub json: bool,
    /// `--format`: the input tables' format, `None` for by extension.
    pub format: Option<TableFormat>,
}

impl Context {
    /// The format of the input table `path` (`--format`, else its
    /// extension).
    pub fn table_format(&self, path: &Path) -> TableFormat {
        TableFormat::resolve(path, self.format)
    }

    /// Reads the input table `path`, CSV or Parquet: every file-taking
    /// command reads through here. A CSV is read with `csv`; a Parquet file
    /// keeps its own column types.
    pub fn read_table(&self, path: &Path, csv: &CsvReader) -> Result<Frame> {
        Ok(mlops_core::data::read_table(path, self.format, csv)?)
    }

    /// Opens the store, creating it if it does not exist (commands that
    /// record something).
    pub fn open_or_create_store(&self) -> Result<SharedStore> {
        Ok(Arc::new(SledStore::open(&self.store)?))
    }

    /// Opens an existing store. Reading from a path with no store is an
    /// error rather than a silently created empty store: a mistyped
    /// `--store` should not look like "no runs".
    pub fn open_existing_store(&self) -> Result<SharedStore> {
        if !self.store.is_dir() {
            return Err(CliError::NoStore {
                path: self.store.clone(),
            });
        }
        self.open_or_create_store()
    }
}

/// Runs the parsed command.
pub fn run(cli: Cli) -> Result<()> {
    let ctx = Context {
        store: cli.store,
        json: cli.json,
        format: cli.format,
    };
    tracing::debug!(store = %ctx.store.display(), json = ctx.json, "mlops starting");
    match cli.command {
        Command::Data(cmd) => data::run(&ctx, cmd),
        Command::Runs(cmd) => runs::run(&ctx, cmd),
        Command::Models(cmd) => models::run(&ctx, cmd),
        Command::Drift(args) => drift::run(&ctx, &args),
        Command::Report(args) => report::run(&ctx, &args),
        Command::Score(args) => score::run(&ctx, args),
        Command::Serve(args) => serve::run(&ctx, args),
        Command::Train(args) => train::run(&ctx, &args),
    }
}
