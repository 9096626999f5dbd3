//! `mlops models export`: write a registered model's package to a file.

use std::io::Write;
use std::path::PathBuf;

use clap::Args;
use mlops_core::model::load_registered;
use mlops_core::registry::Registry;
use mlops_core::tracking::Tracker;
use serde::Serialize;

use super::Context;
use crate::error::{CliError, Result};
use crate::output::{Report, emit};

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

/// Runs `mlops models export`.
pub fn run(ctx: &Context, args: &ExportArgs) -> Result<()> {
    emit(&export(ctx, args)?, ctx.json)
}

fn export(ctx: &Context, args: &ExportArgs) -> Result<ExportReport> {
    let store = ctx.open_existing_store()?;
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
