//! Experiment tracking on the embedded store: experiments, runs with a
//! lifecycle, immutable params, metric histories, tags, content-addressed
//! artifacts, dataset inputs, environment capture, and indexed search.
//!
//! Layout in the store (`keys.rs` documents the exact keys):
//!
//! - a compact [`RunSummary`] per run (status, times, params, tags, latest
//!   metric values), rewritten on every change; this is what search decodes;
//! - metric histories in append-only chunks of up to
//!   [`CHUNK_POINTS`] points, apart from the summary (a one-point history
//!   lives in the summary only);
//! - secondary indexes (`index.rs`) updated in the same atomic batch as the
//!   summary, so a search decodes only candidate runs.
//!
//! Durability: a [`Run`] buffers its params, tags and metrics and writes
//! them as one atomic batch (at its end, on [`Run::flush`], when a
//! [`MetricLogger`] writes, or at the latest [`MAX_WRITE_DELAY`] after a
//! change). A write is acknowledged once the store is flushed after it:
//! [`Run::finish`] (and `fail`, `kill`) writes and flushes;
//! [`Run::finish_unflushed`] writes only, and [`Tracker::flush`]
//! acknowledges every run finished that way so far (one disk sync for many
//! runs).
//!
//! Run and experiment ids are 128-bit random hex strings from the operating
//! system's generator: they are the one thing in mlops that is deliberately
//! not derived from a [`Seed`](crate::seed::Seed), since ids need
//! uniqueness across processes, not reproducibility.
//!
//! ```
//! use std::sync::Arc;
//! use mlops_core::store::MemoryStore;
//! use mlops_core::tracking::{RunOptions, SearchQuery, Tracker};
//!
//! let tracker = Tracker::new(Arc::new(MemoryStore::new()));
//! let exp = tracker.experiment("churn")?;
//! for (model, auc) in [("logreg", 0.84), ("rf", 0.82), ("tree", 0.71)] {
//!     let run = tracker.start_run(&exp, RunOptions::default().name(model))?;
//!     run.log_param("model", model)?;
//!     run.log_metric("auc", auc, 0)?;
//!     run.finish()?;
//! }
//! let page = tracker.search(&SearchQuery::new()
//!     .experiment("churn")
//!     .filter("metrics.auc > 0.8")
//!     .order_by("metrics.auc DESC"))?;
//! let names: Vec<_> = page.runs.iter().map(|r| r.run_name.as_str()).collect();
//! assert_eq!(names, ["logreg", "rf"]);
//! # Ok::<(), mlops_core::Error>(())
//! ```

mod artifacts;
mod dataset;
mod environment;
mod experiment;
mod index;
mod keys;
mod metrics;
mod record;
mod run;
mod search;

pub use artifacts::ArtifactRef;
pub use dataset::DatasetInput;
pub use environment::Environment;
pub use experiment::Experiment;
pub use metrics::{CHUNK_POINTS, DEFAULT_LOGGER_BATCH, MetricLogger, MetricPoint};
pub use record::{LatestMetric, RunInfo, RunStatus, RunSummary, utc_text};
pub use run::{MAX_NAME_LEN, MAX_WRITE_DELAY, Run, RunGuard, RunOptions};
pub use search::{DEFAULT_SEARCH_LIMIT, MAX_SEARCH_LIMIT, SearchPage, SearchQuery};

use std::time::{SystemTime, UNIX_EPOCH};

use crate::error::{Error, Result};
use crate::store::{SharedStore, codec};

/// Milliseconds since the Unix epoch (0 if the clock is before it).
pub(crate) fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// A new 128-bit random id, 32 lowercase hex characters.
pub(crate) fn new_id() -> String {
    format!("{:032x}", rand::random::<u128>())
}

/// The entry point of tracking: experiments, runs and search over one store.
/// Cheap to clone; clones share the store.
#[derive(Debug, Clone)]
pub struct Tracker {
    store: SharedStore,
}

impl Tracker {
    /// A tracker over `store`.
    pub fn new(store: SharedStore) -> Self {
        Self { store }
    }

    /// The underlying store.
    pub fn store(&self) -> &SharedStore {
        &self.store
    }

    /// Flushes the store: every run write so far (in particular every
    /// [`Run::finish_unflushed`]) is acknowledged, durable across a crash,
    /// when this returns `Ok`. Changes still buffered in a live [`Run`]
    /// handle are not written by this; call [`Run::flush`] first.
    pub fn flush(&self) -> Result<()> {
        self.store.flush()
    }

    /// Gets the experiment called `name`, creating it if needed. Safe to
    /// call concurrently: all callers get the same experiment.
    pub fn experiment(&self, name: &str) -> Result<Experiment> {
        if name.is_empty() {
            return Err(Error::InvalidParameter {
                name: "experiment",
                reason: "experiment name is empty".into(),
            });
        }
        experiment::get_or_create(self.store.as_ref(), name)
    }

    /// The experiment called `name`, if it exists.
    pub fn get_experiment(&self, name: &str) -> Result<Option<Experiment>> {
        experiment::get(self.store.as_ref(), name)
    }

    /// All experiments, by name.
    pub fn list_experiments(&self) -> Result<Vec<Experiment>> {
        experiment::list(self.store.as_ref())
    }

    /// Starts a run in `experiment`. With `options.parent`, the parent must
    /// exist ([`Error::RunNotFound`] otherwise).
    pub fn start_run(&self, experiment: &Experiment, options: RunOptions) -> Result<Run> {
        let run_id = new_id();
        if let Some(parent) = &options.parent {
            self.get_summary(parent)?;
        }
        for key in options.tags.keys() {
            run::check_name(&run_id, "tag", key)?;
        }
        let summary = RunSummary {
            run_name: options
                .name
                .unwrap_or_else(|| format!("run-{}", &run_id[..8])),
            run_id,
            experiment: experiment.name.clone(),
            experiment_id: experiment.id.clone(),
            parent: options.parent,
            status: RunStatus::Running,
            start_time: now_ms(),
            end_time: None,
            seed: options.seed.map(|s| s.0),
            reason: None,
            params: Default::default(),
            tags: options.tags,
            metrics: Default::default(),
        };
        Run::create(self.store.clone(), summary)
    }

    /// A writing handle on an existing run. Writes to a run that has ended
    /// fail with [`Error::RunNotActive`]. Only one handle should write a
    /// run at a time.
    pub fn resume_run(&self, run_id: &str) -> Result<Run> {
        Run::resume(self.store.clone(), self.get_summary(run_id)?)
    }

    /// The compact summary of a run.
    pub fn get_summary(&self, run_id: &str) -> Result<RunSummary> {
        let bytes = self
            .store
            .get(keys::TREE, &keys::RUNS.key(run_id.as_bytes()))?
            .ok_or_else(|| Error::RunNotFound {
                run_id: run_id.to_owned(),
            })?;
        codec::decode(&bytes, &format!("run {run_id} summary"))
    }

    /// Everything recorded about a run except metric histories and artifact
    /// bytes.
    pub fn get_run(&self, run_id: &str) -> Result<RunInfo> {
        let summary = self.get_summary(run_id)?;
        let store = self.store.as_ref();
        let inputs = store
            .scan_prefix(keys::TREE, &keys::INPUTS.key(run_id.as_bytes()))?
            .map(|e| {
                let (_, v) = e?;
                codec::decode(&v, &format!("dataset input of run {run_id}"))
            })
            .collect::<Result<Vec<DatasetInput>>>()?;
        let environment = store
            .get(keys::TREE, &keys::ENVIRONMENT.key(run_id.as_bytes()))?
            .map(|b| codec::decode(&b, &format!("environment of run {run_id}")))
            .transpose()?;
        Ok(RunInfo {
            summary,
            inputs,
            artifacts: artifacts::list(store, run_id)?,
            environment,
        })
    }

    /// The full history of metric `key` of a run, in logging order; empty
    /// if the run never logged it.
    pub fn run_metrics_history(&self, run_id: &str, key: &str) -> Result<Vec<MetricPoint>> {
        let summary = self.get_summary(run_id)?;
        metrics::history(
            self.store.as_ref(),
            run_id,
            key,
            summary.metrics.get(key).copied(),
        )
    }

    /// The bytes of an artifact, verified against their BLAKE3 digest
    /// ([`Error::Corrupt`] on mismatch).
    pub fn read_artifact(&self, run_id: &str, name: &str) -> Result<Vec<u8>> {
        let art = artifacts::get_ref(self.store.as_ref(), run_id, name)?.ok_or_else(|| {
            Error::ArtifactNotFound {
                run_id: run_id.to_owned(),
                name: name.to_owned(),
            }
        })?;
        artifacts::read_blob(self.store.as_ref(), run_id, &art)
    }

    /// Runs of an experiment, by start time.
    pub fn list_runs(&self, experiment: &Experiment) -> Result<Vec<RunSummary>> {
        let ids = index::ids_with_prefix(
            self.store.as_ref(),
            &index::str_prefix(index::EXPERIMENT, &experiment.name),
        )?;
        self.summaries_by_start(&ids)
    }

    /// Direct children of a run (nested runs), by start time.
    pub fn children(&self, run_id: &str) -> Result<Vec<RunSummary>> {
        let ids = index::ids_with_prefix(self.store.as_ref(), &index::child_prefix(run_id))?;
        self.summaries_by_start(&ids)
    }

    fn summaries_by_start(&self, ids: &[String]) -> Result<Vec<RunSummary>> {
        let mut runs = ids
            .iter()
            .map(|id| self.get_summary(id))
            .collect::<Result<Vec<_>>>()?;
        runs.sort_by(|a, b| (a.start_time, &a.run_id).cmp(&(b.start_time, &b.run_id)));
        Ok(runs)
    }
}

#[cfg(test)]
mod tests;
