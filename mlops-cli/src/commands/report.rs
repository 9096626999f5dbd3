//! `mlops report`: a self-contained HTML report of a run or a drift check.

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::Args;
use mlops_core::drift::{DriftOptions, compare};
use mlops_core::report::{drift_html, run_html};
use mlops_core::tracking::Tracker;
use serde::Serialize;

use super::Context;
use super::drift::read_pair;
use crate::error::{CliError, Result};
use crate::output::{Report, emit};

/// Arguments of `mlops report`.
#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("subject").required(true).args(["run", "drift"])))]
pub struct ReportArgs {
    /// Report on this tracked run (from `--store`).
    #[arg(long, value_name = "RUN_ID")]
    pub run: Option<String>,
    /// Report on the drift between a reference and a current CSV file.
    #[arg(long, num_args = 2, value_names = ["REF.csv", "CUR.csv"])]
    pub drift: Option<Vec<PathBuf>>,
    /// Where to write the HTML file.
    #[arg(long, value_name = "OUT.html")]
    pub html: PathBuf,
}

/// What was written.
#[derive(Debug, Serialize)]
struct Written {
    html: PathBuf,
    bytes: usize,
    /// `run` or `drift`.
    kind: &'static str,
}

impl Report for Written {
    fn write_human(&self, out: &mut dyn Write) -> std::io::Result<()> {
        writeln!(
            out,
            "wrote {} report to {} ({:.1} KB)",
            self.kind,
            self.html.display(),
            self.bytes as f64 / 1024.0
        )
    }
}

/// Runs `mlops report`.
pub fn run(ctx: &Context, args: &ReportArgs) -> Result<()> {
    let (kind, html) = match (&args.run, args.drift.as_deref()) {
        (Some(run_id), _) => {
            let tracker = Tracker::new(ctx.open_existing_store()?);
            ("run", run_html(&tracker, run_id)?)
        }
        (None, Some([reference, current])) => {
            let (r, c) = read_pair(ctx, reference, current)?;
            let report = compare(&r, &c, &DriftOptions::default())?;
            let title = format!("Drift: {} vs {}", file_name(current), file_name(reference));
            ("drift", drift_html(&title, &r, &c, &report)?)
        }
        // clap's argument group and `num_args = 2` rule this out.
        _ => {
            return Err(CliError::Arguments(
                "give --run RUN_ID or --drift REF.csv CUR.csv".into(),
            ));
        }
    };
    mlops_core::atomic_file::write(&args.html, html.as_bytes())?;
    emit(
        &Written {
            html: args.html.clone(),
            bytes: html.len(),
            kind,
        },
        ctx.json,
    )
}

fn file_name(path: &Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}
