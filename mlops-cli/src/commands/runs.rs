//! `mlops runs`: list, show, search and record tracked runs.

use std::io::Write;

use clap::{Args, Subcommand};
use mlops_core::tracking::{
    ArtifactRef, DEFAULT_SEARCH_LIMIT, DatasetInput, Environment, RunOptions, RunSummary,
    SearchQuery, Tracker,
};
use serde::Serialize;

use super::Context;
use crate::error::{CliError, Result};
use crate::output::{Report, emit, key_value, stat};
use mlops_core::tracking::utc_text;

/// `mlops runs ...`
#[derive(Debug, Subcommand)]
pub enum RunsCommand {
    /// List runs, oldest first.
    List(ListArgs),
    /// Everything recorded about one run.
    Show(ShowArgs),
    /// Search runs with a filter, order and page size.
    Search(SearchArgs),
    /// Record one finished run with params, metrics and tags; prints its id.
    Create(CreateArgs),
}

/// Arguments of `mlops runs list`.
#[derive(Debug, Args)]
pub struct ListArgs {
    /// Only this experiment's runs.
    #[arg(long)]
    pub experiment: Option<String>,
}

/// Arguments of `mlops runs show`.
#[derive(Debug, Args)]
pub struct ShowArgs {
    /// The run id (32 hex characters).
    pub run_id: String,
}

/// Arguments of `mlops runs search`.
#[derive(Debug, Args)]
pub struct SearchArgs {
    /// Filter, e.g. `metrics.auc > 0.8 AND params.model = 'rf'`.
    #[arg(long)]
    pub filter: Option<String>,
    /// Only these experiments; repeatable.
    #[arg(long)]
    pub experiment: Vec<String>,
    /// Sort key, optionally followed by ASC or DESC; repeatable, most
    /// significant first (default: start_time DESC).
    #[arg(long = "order-by", value_name = "KEY [DESC]", num_args = 1..=2)]
    pub order_by: Vec<String>,
    /// Runs per page.
    #[arg(long, default_value_t = DEFAULT_SEARCH_LIMIT)]
    pub limit: usize,
    /// The `next_page_token` of the previous page.
    #[arg(long = "page-token")]
    pub page_token: Option<String>,
}

/// Arguments of `mlops runs create`.
#[derive(Debug, Args)]
pub struct CreateArgs {
    /// Experiment name (created if needed).
    #[arg(long)]
    pub experiment: String,
    /// Run name (default: `run-` and the id's first 8 characters).
    #[arg(long)]
    pub name: Option<String>,
    /// A param; repeatable.
    #[arg(long = "param", value_name = "KEY=VALUE", value_parser = key_value)]
    pub params: Vec<(String, String)>,
    /// A metric, logged at step 0; repeatable.
    #[arg(long = "metric", value_name = "KEY=NUMBER", value_parser = metric_value)]
    pub metrics: Vec<(String, f64)>,
    /// A tag; repeatable.
    #[arg(long = "tag", value_name = "KEY=VALUE", value_parser = key_value)]
    pub tags: Vec<(String, String)>,
}

fn metric_value(s: &str) -> std::result::Result<(String, f64), String> {
    let (k, v) = key_value(s)?;
    match v.trim().parse::<f64>() {
        Ok(x) if x.is_finite() => Ok((k, x)),
        _ => Err(format!("metric `{k}`: `{v}` is not a finite number")),
    }
}

/// Runs a `runs` command.
pub fn run(ctx: &Context, cmd: RunsCommand) -> Result<()> {
    match cmd {
        RunsCommand::List(args) => {
            let tracker = Tracker::new(ctx.open_existing_store()?);
            emit(&list(&tracker, &args)?, ctx.json)
        }
        RunsCommand::Show(args) => {
            let tracker = Tracker::new(ctx.open_existing_store()?);
            emit(&show(&tracker, &args.run_id)?, ctx.json)
        }
        RunsCommand::Search(args) => {
            let tracker = Tracker::new(ctx.open_existing_store()?);
            emit(&search(&tracker, args)?, ctx.json)
        }
        RunsCommand::Create(args) => {
            let tracker = Tracker::new(ctx.open_or_create_store()?);
            emit(&Created(create(&tracker, args)?), ctx.json)
        }
    }
}

/// A page of runs: `runs list` and `runs search`.
#[derive(Debug, Serialize)]
struct RunsPage {
    runs: Vec<RunSummary>,
    /// Set by `search` when more runs match.
    #[serde(skip_serializing_if = "Option::is_none")]
    next_page_token: Option<String>,
}

fn list(tracker: &Tracker, args: &ListArgs) -> Result<RunsPage> {
    let experiments = match &args.experiment {
        Some(name) => vec![
            tracker
                .get_experiment(name)?
                .ok_or_else(|| mlops_core::Error::ExperimentNotFound { name: name.clone() })?,
        ],
        None => tracker.list_experiments()?,
    };
    let mut runs = Vec::new();
    for exp in &experiments {
        runs.extend(tracker.list_runs(exp)?);
    }
    runs.sort_by(|a, b| (a.start_time, &a.run_id).cmp(&(b.start_time, &b.run_id)));
    Ok(RunsPage {
        runs,
        next_page_token: None,
    })
}

fn search(tracker: &Tracker, args: SearchArgs) -> Result<RunsPage> {
    let mut query = SearchQuery::new().limit(args.limit);
    query.experiments = args.experiment;
    query.filter = args.filter;
    query.page_token = args.page_token;
    query.order_by = order_clauses(&args.order_by);
    let page = tracker.search(&query)?;
    Ok(RunsPage {
        runs: page.runs,
        next_page_token: page.next_page_token,
    })
}

/// Regroups `--order-by` words into clauses: clap hands over the values of
/// every occurrence as one list, and a direction word belongs to the key
/// before it.
fn order_clauses(words: &[String]) -> Vec<String> {
    let is_direction = |w: &str| ["ASC", "DESC"].iter().any(|d| w.eq_ignore_ascii_case(d));
    let mut clauses: Vec<String> = Vec::new();
    for word in words {
        match clauses.last_mut() {
            Some(last)
                if is_direction(word.trim())
                    && !last.split_whitespace().last().is_some_and(is_direction) =>
            {
                last.push(' ');
                last.push_str(word.trim());
            }
            _ => clauses.push(word.clone()),
        }
    }
    clauses
}

impl Report for RunsPage {
    fn write_human(&self, out: &mut dyn Write) -> std::io::Result<()> {
        let w_exp = column_width(self.runs.iter().map(|r| r.experiment.as_str()), 10);
        let w_name = column_width(self.runs.iter().map(|r| r.run_name.as_str()), 4);
        writeln!(
            out,
            "{:32}  {:w_exp$}  {:w_name$}  {:8}  {:20}  metrics",
            "run id", "experiment", "name", "status", "started"
        )?;
        for r in &self.runs {
            let metrics: Vec<String> = r
                .metrics
                .iter()
                .map(|(k, m)| format!("{k}={}", stat(Some(m.value))))
                .collect();
            writeln!(
                out,
                "{:32}  {:w_exp$}  {:w_name$}  {:8}  {:20}  {}",
                r.run_id,
                r.experiment,
                r.run_name,
                r.status.as_str(),
                utc_text(r.start_time),
                metrics.join(" ")
            )?;
        }
        writeln!(out, "{} runs", self.runs.len())?;
        if let Some(token) = &self.next_page_token {
            writeln!(out, "more: --page-token {token}")?;
        }
        Ok(())
    }
}

fn column_width<'a>(values: impl Iterator<Item = &'a str>, min: usize) -> usize {
    values
        .map(|v| v.chars().count())
        .max()
        .unwrap_or(0)
        .max(min)
}

/// The report of `mlops runs show`.
#[derive(Debug, Serialize)]
struct RunDetail {
    #[serde(flatten)]
    summary: RunSummary,
    inputs: Vec<DatasetInput>,
    artifacts: Vec<ArtifactRef>,
    environment: Option<Environment>,
    /// Ids of the direct child runs, oldest first.
    children: Vec<String>,
}

fn show(tracker: &Tracker, run_id: &str) -> Result<RunDetail> {
    let info = tracker.get_run(run_id)?;
    let children = tracker
        .children(run_id)?
        .into_iter()
        .map(|c| c.run_id)
        .collect();
    Ok(RunDetail {
        summary: info.summary,
        inputs: info.inputs,
        artifacts: info.artifacts,
        environment: info.environment,
        children,
    })
}

impl Report for RunDetail {
    fn write_human(&self, out: &mut dyn Write) -> std::io::Result<()> {
        let s = &self.summary;
        writeln!(out, "run {} ({})", s.run_id, s.run_name)?;
        writeln!(out, "  experiment  {}", s.experiment)?;
        writeln!(out, "  status      {}", s.status)?;
        if let Some(reason) = &s.reason {
            writeln!(out, "  reason      {reason}")?;
        }
        writeln!(out, "  started     {}", utc_text(s.start_time))?;
        if let Some(end) = s.end_time {
            let secs = (end - s.start_time) as f64 / 1000.0;
            writeln!(out, "  ended       {} ({secs:.3} s)", utc_text(end))?;
        }
        if let Some(parent) = &s.parent {
            writeln!(out, "  parent      {parent}")?;
        }
        if let Some(seed) = s.seed {
            writeln!(out, "  seed        {seed}")?;
        }
        section(
            out,
            "params",
            s.params.iter().map(|(k, v)| format!("{k} = {v}")),
        )?;
        section(
            out,
            "metrics (latest)",
            s.metrics
                .iter()
                .map(|(k, m)| format!("{k} = {} (step {})", m.value, m.step)),
        )?;
        section(
            out,
            "tags",
            s.tags.iter().map(|(k, v)| format!("{k} = {v}")),
        )?;
        section(
            out,
            "inputs",
            self.inputs.iter().map(|i| {
                format!(
                    "{} ({} rows) from {}, fingerprint {}",
                    i.name, i.rows, i.source, i.fingerprint
                )
            }),
        )?;
        section(
            out,
            "artifacts",
            self.artifacts
                .iter()
                .map(|a| format!("{} ({} bytes) blake3 {}", a.name, a.size, a.digest)),
        )?;
        section(out, "children", self.children.iter().cloned())
    }
}

/// Writes `title` and one indented line per item; nothing when empty.
fn section(
    out: &mut dyn Write,
    title: &str,
    items: impl Iterator<Item = String>,
) -> std::io::Result<()> {
    let mut items = items.peekable();
    if items.peek().is_some() {
        writeln!(out, "{title}")?;
        for item in items {
            writeln!(out, "  {item}")?;
        }
    }
    Ok(())
}

/// Starts the run, logs everything, finishes it (the flush that
/// acknowledges it). A write that fails marks the run failed, so no run is
/// left `RUNNING`.
fn create(tracker: &Tracker, args: CreateArgs) -> Result<RunSummary> {
    let experiment = tracker.experiment(&args.experiment)?;
    let mut options = RunOptions::default();
    if let Some(name) = args.name {
        options = options.name(name);
    }
    for (k, v) in args.tags {
        options = options.tag(k, v);
    }
    let run = tracker.start_run(&experiment, options)?;
    let metrics: Vec<(&str, f64)> = args.metrics.iter().map(|(k, v)| (k.as_str(), *v)).collect();
    let logged = run
        .log_params(args.params.iter().map(|(k, v)| (k, v)))
        .and_then(|()| run.log_metrics(&metrics, 0));
    let run_id = run.id().to_owned();
    match logged {
        Ok(()) => run.finish()?,
        Err(e) => {
            // The logging error is the one to report; a failure to mark the
            // run failed is secondary.
            if let Err(fail) = run.fail(e.to_string()) {
                tracing::warn!(%run_id, error = %fail, "could not mark the run failed");
            }
            return Err(CliError::Core(e));
        }
    }
    tracing::info!(%run_id, "run recorded");
    Ok(tracker.get_summary(&run_id)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_by_words_regroup_into_clauses() {
        let words = |w: &[&str]| w.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            order_clauses(&words(&[
                "metrics.auc",
                "DESC",
                "params.model",
                "start_time",
                "asc"
            ])),
            ["metrics.auc DESC", "params.model", "start_time asc"]
        );
        // A quoted clause stays whole; a stray direction becomes its own
        // clause, for the library to reject with its position.
        assert_eq!(
            order_clauses(&words(&["metrics.auc DESC", "DESC"])),
            ["metrics.auc DESC", "DESC"]
        );
    }
}

/// The report of `mlops runs create`: the id alone in human form, so that
/// `RUN=$(mlops runs create ...)` works.
#[derive(Debug, Serialize)]
#[serde(transparent)]
struct Created(RunSummary);

impl Report for Created {
    fn write_human(&self, out: &mut dyn Write) -> std::io::Result<()> {
        writeln!(out, "{}", self.0.run_id)
    }
}
