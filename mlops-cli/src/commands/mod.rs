//! One module per command group.

pub mod data;
pub mod export;
pub mod score;
pub mod serve;
pub mod train;

use crate::cli::{Cli, Command};
use crate::error::Result;

/// Options every command sees.
#[derive(Debug, Clone)]
pub struct Context {
    /// The store directory (`--store` / `MLOPS_STORE`).
    pub store: std::path::PathBuf,
    /// `--json`.
    pub json: bool,
}

/// Runs the parsed command.
pub fn run(cli: Cli) -> Result<()> {
    let ctx = Context {
        store: cli.store,
        json: cli.json,
    };
    tracing::debug!(store = %ctx.store.display(), json = ctx.json, "mlops starting");
    match cli.command {
        Command::Data(cmd) => data::run(&ctx, cmd),
        Command::Score(args) => score::run(&ctx, args),
        Command::Serve(args) => serve::run(&ctx, args),
        Command::Train(args) => train::run(&ctx, &args),
        Command::Models(cmd) => export::run_models(&ctx, cmd),
    }
}
