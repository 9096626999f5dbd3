//! `mlops models export`: write a registered model's package to a file.

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;

use clap::{Args, Subcommand};
use mlops_core::model::load_registered;
use mlops_core::registry::Registry;
use mlops_core::store::SledStore;
use mlops_core::tracking::Tracker;
use serde::Serialize;

use super::Context;
use crate::error::{CliError, Result};
use crate::output::{Report, emit};

/// `mlops models ...` (export only in this module; see `export::run`).
#[derive(Debug, Subcommand)]
pub enum ModelsCommand {
    /// Write the package of `NAME@ALIAS` or `NAME/VERSION` to a file.
    Export(ExportArgs),
}

/// Arguments of `mlops models export`.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// `NAME@ALIAS` or `NAME/VERSION`.
    pub reference: String,
    /// The package file to write (replaced atomically).
    #[arg(long)]
    pub out: PathBuf,
}

/// The report of `mlops models export`.
#[derive(Debug, Serialize)]
struct ExportReport {
    reference: String,
    model: String,
    version: u32,
    out: String,
    package_digest: String,
    bytes: u64,
}

/// Runs a `models` command.
pub fn run_models(ctx: &Context, cmd: ModelsCommand) -> Result<()> {
    match cmd {
        ModelsCommand::Export(args) => run(ctx, &args),
    }
}

/// Runs `mlops models export`.
pub fn run(ctx: &Context, args: &ExportArgs) -> Result<()> {
    emit(&export(ctx, args)?, ctx.json)
}

fn export(ctx: &Context, args: &ExportArgs) -> Result<ExportReport> {
    if !ctx.store.is_dir() {
        return Err(CliError::Arguments(format!(
            "no store at {} (set --store DIR or MLOPS_STORE)",
            ctx.store.display()
        )));
    }
    let store: mlops_core::store::SharedStore = Arc::new(SledStore::open(&ctx.store)?);
    let registry = Registry::new(store.clone());
    let tracker = Tracker::new(store);
    // Resolve once: an alias moved meanwhile must not mix two versions.
    let version = registry.resolve(&args.reference)?;
    let pinned = format!("{}/{}", version.model, version.version);
    let package = load_registered(&registry, &tracker, &pinned)?;
    package.save(&args.out)?;
    let bytes = std::fs::metadata(&args.out)
        .map_err(|source| CliError::Io {
            path: args.out.clone(),
            source,
        })?
        .len();
    Ok(ExportReport {
        reference: args.reference.clone(),
        model: version.model,
        version: version.version,
        out: args.out.display().to_string(),
        package_digest: package.digest().to_string(),
        bytes,
    })
}

impl Report for ExportReport {
    fn write_human(&self, out: &mut dyn Write) -> std::io::Result<()> {
        writeln!(
            out,
            "{} ({}/{}) -> {} ({} bytes, package {})",
            self.reference, self.model, self.version, self.out, self.bytes, self.package_digest
        )
    }
}
