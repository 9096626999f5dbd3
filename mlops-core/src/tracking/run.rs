//! The [`Run`] handle that writes a run, and [`RunGuard`], which ends a run
//! that was not finished.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Display;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use super::artifacts::{self, ArtifactRef};
use super::dataset::DatasetInput;
use super::environment::Environment;
use super::metrics::{self, DEFAULT_LOGGER_BATCH, MetricLogger, MetricPoint, Tail};
use super::record::{LatestMetric, RunStatus, RunSummary};
use super::{index, keys, now_ms};
use crate::error::{Error, Result};
use crate::seed::Seed;
use crate::store::{SharedStore, WriteBatch, codec};

/// Longest accepted param, metric, tag, artifact or dataset name, in bytes.
pub const MAX_NAME_LEN: usize = 500;

/// Longest time a [`Run`] keeps a change buffered: the next logging call
/// after this writes everything buffered to the store.
pub const MAX_WRITE_DELAY: Duration = Duration::from_secs(1);

/// Options for [`Tracker::start_run`](super::Tracker::start_run).
///
/// ```
/// use mlops_core::seed::Seed;
/// use mlops_core::tracking::RunOptions;
/// let opts = RunOptions::default()
///     .name("logreg-baseline")
///     .seed(Seed(42))
///     .tag("team", "growth");
/// assert_eq!(opts.tags["team"], "growth");
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunOptions {
    /// Human name; defaults to `run-` and the first 8 characters of the id.
    pub name: Option<String>,
    /// Parent run id, for nested runs (a grid-search trial under its search).
    pub parent: Option<String>,
    /// Root seed of the run, recorded in the summary.
    pub seed: Option<Seed>,
    /// Initial tags.
    pub tags: BTreeMap<String, String>,
}

impl RunOptions {
    /// Sets the run name.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Nests the run under `parent_run_id`.
    pub fn parent(mut self, parent_run_id: impl Into<String>) -> Self {
        self.parent = Some(parent_run_id.into());
        self
    }

    /// Records the root seed.
    pub fn seed(mut self, seed: Seed) -> Self {
        self.seed = Some(seed);
        self
    }

    /// Adds an initial tag.
    pub fn tag(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.tags.insert(key.into(), value.into());
        self
    }
}

/// Checks a param, metric, tag, artifact or dataset name.
pub(crate) fn check_name(run_id: &str, what: &'static str, name: &str) -> Result<()> {
    let reason = if name.is_empty() {
        "empty name".to_owned()
    } else if name.len() > MAX_NAME_LEN {
        format!("{} bytes, longer than {MAX_NAME_LEN}", name.len())
    } else {
        return Ok(());
    };
    Err(Error::InvalidKey {
        run_id: run_id.to_owned(),
        what,
        name: name.chars().take(64).collect(),
        reason,
    })
}

#[derive(Debug)]
struct RunState {
    summary: RunSummary,
    /// The index keys currently stored (those of the stored summary).
    index: BTreeSet<Vec<u8>>,
    /// Open history chunk of each metric.
    tails: HashMap<String, Tail>,
    /// Buffered changes not yet written to the store: `summary` differs
    /// from the stored one, tails hold unwritten points, or `closed` holds
    /// full chunks.
    pending: Option<Pending>,
}

/// What a run has buffered since its last write.
#[derive(Debug)]
struct Pending {
    /// When the oldest buffered change was made.
    since: Instant,
    /// Metric points buffered.
    points: usize,
    /// Writes of chunks that filled up (final).
    closed: WriteBatch,
}

impl RunState {
    fn pending(&mut self) -> &mut Pending {
        self.pending.get_or_insert_with(|| Pending {
            since: Instant::now(),
            points: 0,
            closed: WriteBatch::new(),
        })
    }

    /// True when the buffer is old or large enough to be written now.
    fn due(&self) -> bool {
        self.pending.as_ref().is_some_and(|p| {
            p.points >= DEFAULT_LOGGER_BATCH || p.since.elapsed() >= MAX_WRITE_DELAY
        })
    }
}

/// A handle that writes one run. `Send + Sync`: threads may log through a
/// shared `&Run`.
///
/// # When writes reach the store, and when they are acknowledged
///
/// Starting a run writes it at once (it is visible as `Running`). After
/// that the handle *buffers* params, tags and metric points in memory and
/// writes all of them as one atomic batch (summary, index changes, metric
/// chunks) when:
///
/// - the run ends ([`finish`](Run::finish), [`fail`](Run::fail),
///   [`kill`](Run::kill), [`finish_unflushed`](Run::finish_unflushed)),
/// - [`Run::flush`] is called or a [`MetricLogger`] writes a batch,
/// - a logging call finds the buffer older than [`MAX_WRITE_DELAY`] or
///   holding [`DEFAULT_LOGGER_BATCH`] points or more,
/// - the handle is dropped.
///
/// So a complete run with a few params and metrics costs two store writes
/// (start and end), not one per call. Searches and other handles see the
/// buffered changes once they are written. The delay is checked on logging
/// calls only (there is no background thread): before a long step that
/// logs nothing, call [`Run::flush`] (then
/// [`Tracker::flush`](super::Tracker::flush) to make it durable) so that a
/// crash during the step keeps the params logged so far.
///
/// A write is *acknowledged* (survives a crash or power loss) once the
/// store has been flushed after it. [`Run::finish`] (also `fail`, `kill`)
/// writes and flushes: when it returns `Ok`, the run and everything logged
/// to it is durable. [`Run::finish_unflushed`] writes without flushing, for
/// many short runs: they are acknowledged by the next
/// [`Tracker::flush`](super::Tracker::flush) (or any later `finish`). A
/// crash never leaves a half-written batch; it may lose unacknowledged
/// writes. A run dropped without ending stays `Running`; wrap it in a
/// [`RunGuard`] to end it on drop.
///
/// ```
/// use std::sync::Arc;
/// use mlops_core::store::MemoryStore;
/// use mlops_core::tracking::{RunOptions, RunStatus, Tracker};
///
/// let tracker = Tracker::new(Arc::new(MemoryStore::new()));
/// let exp = tracker.experiment("churn")?;
/// let run = tracker.start_run(&exp, RunOptions::default().name("baseline"))?;
/// run.log_param("model", "logreg")?;
/// run.log_param("model", "logreg")?; // same value again: fine
/// assert!(run.log_param("model", "rf").is_err()); // params are immutable
/// run.log_metric("auc", 0.84, 0)?;
/// assert!(run.log_metric("auc", f64::NAN, 1).is_err());
/// let digest = run.log_artifact("notes.txt", b"hello")?;
/// let id = run.id().to_owned();
/// run.finish()?;
///
/// let info = tracker.get_run(&id)?;
/// assert_eq!(info.summary.status, RunStatus::Finished);
/// assert_eq!(info.summary.metrics["auc"].value, 0.84);
/// assert_eq!(tracker.read_artifact(&id, "notes.txt")?, b"hello");
/// assert_eq!(info.artifacts[0].digest, digest);
/// # Ok::<(), mlops_core::Error>(())
/// ```
#[derive(Debug)]
pub struct Run {
    store: SharedStore,
    id: String,
    state: Mutex<RunState>,
}

impl Run {
    /// Writes a new run (summary and indexes) and returns its handle.
    pub(crate) fn create(store: SharedStore, summary: RunSummary) -> Result<Run> {
        let index = index::keys_for(&summary);
        let mut batch = WriteBatch::new();
        batch.insert(
            keys::TREE,
            keys::RUNS.key(summary.run_id.as_bytes()),
            codec::encode(&summary)?,
        );
        index::diff(&BTreeSet::new(), &index, &mut batch);
        store.apply(batch)?;
        tracing::debug!(run_id = %summary.run_id, experiment = %summary.experiment, "started run");
        Ok(Run {
            store,
            id: summary.run_id.clone(),
            state: Mutex::new(RunState {
                summary,
                index,
                tails: HashMap::new(),
                pending: None,
            }),
        })
    }

    /// A handle on a stored run, with the open chunk of every metric loaded
    /// so that further points append to it.
    pub(crate) fn resume(store: SharedStore, summary: RunSummary) -> Result<Run> {
        let mut tails = HashMap::new();
        for (key, latest) in &summary.metrics {
            let tail = metrics::load_tail(store.as_ref(), &summary.run_id, key, *latest)?;
            tails.insert(key.clone(), tail);
        }
        Ok(Run {
            id: summary.run_id.clone(),
            state: Mutex::new(RunState {
                index: index::keys_for(&summary),
                summary,
                tails,
                pending: None,
            }),
            store,
        })
    }

    /// The run id: 32 hex characters.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The current status.
    pub fn status(&self) -> RunStatus {
        self.lock().summary.status
    }

    /// A copy of the current summary, buffered changes included.
    pub fn summary(&self) -> RunSummary {
        self.lock().summary.clone()
    }

    fn lock(&self) -> MutexGuard<'_, RunState> {
        // Every change to the state is checked before it is made, and a
        // failed write leaves the buffer in place to be retried, so the
        // state stays consistent even if a panic poisoned the lock.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn active<'a>(&'a self) -> Result<MutexGuard<'a, RunState>> {
        let st = self.lock();
        if st.summary.status.is_terminal() {
            return Err(Error::RunNotActive {
                run_id: self.id.clone(),
                status: st.summary.status.to_string(),
            });
        }
        Ok(st)
    }

    /// Writes everything buffered (summary, index difference, metric
    /// chunks) as one atomic batch. On error the buffer stays for a retry.
    fn commit(&self, st: &mut RunState) -> Result<()> {
        let Some(pending) = st.pending.take() else {
            return Ok(());
        };
        let mut batch = pending.closed.clone();
        let mut tails = Vec::new();
        for (key, tail) in &st.tails {
            if metrics::is_dirty(tail) {
                let mut t = tail.clone();
                metrics::write_tail(&self.id, key, &mut t, &mut batch)?;
                tails.push((key.clone(), t));
            }
        }
        let index = index::keys_for(&st.summary);
        index::diff(&st.index, &index, &mut batch);
        batch.insert(
            keys::TREE,
            keys::RUNS.key(self.id.as_bytes()),
            codec::encode(&st.summary)?,
        );
        if let Err(e) = self.store.apply(batch) {
            st.pending = Some(pending);
            return Err(e);
        }
        st.index = index;
        st.tails.extend(tails);
        Ok(())
    }

    /// Writes the buffer if it is due (see [`RunState::due`]).
    fn commit_if_due(&self, st: &mut RunState) -> Result<()> {
        if st.due() {
            self.commit(st)?;
        }
        Ok(())
    }

    /// Writes every buffered change of this run to the store, as one atomic
    /// batch. Not durable by itself: see the acknowledgement rules on
    /// [`Run`].
    pub fn flush(&self) -> Result<()> {
        let mut st = self.lock();
        self.commit(&mut st)
    }

    /// Logs a param. Params are immutable: logging the same value again is a
    /// no-op, a different value is [`Error::ParamConflict`].
    pub fn log_param(&self, key: &str, value: impl Display) -> Result<()> {
        self.log_params([(key, value)])
    }

    /// Logs several params in one write; nothing is written if any conflicts.
    pub fn log_params<K: AsRef<str>, V: Display>(
        &self,
        params: impl IntoIterator<Item = (K, V)>,
    ) -> Result<()> {
        let mut st = self.active()?;
        let mut added: Vec<(String, String)> = Vec::new();
        for (k, v) in params {
            let (k, v) = (k.as_ref(), v.to_string());
            check_name(&self.id, "param", k)?;
            let existing = st
                .summary
                .params
                .get(k)
                .or_else(|| added.iter().find(|(ak, _)| ak == k).map(|(_, av)| av));
            match existing {
                Some(existing) if *existing == v => {}
                Some(existing) => {
                    return Err(Error::ParamConflict {
                        run_id: self.id.clone(),
                        key: k.to_owned(),
                        existing: existing.clone(),
                        new: v,
                    });
                }
                None => added.push((k.to_owned(), v)),
            }
        }
        if !added.is_empty() {
            st.summary.params.extend(added);
            st.pending();
            self.commit_if_due(&mut st)?;
        }
        Ok(())
    }

    /// Sets a tag; tags are mutable.
    pub fn set_tag(&self, key: &str, value: impl Display) -> Result<()> {
        check_name(&self.id, "tag", key)?;
        let mut st = self.active()?;
        st.summary.tags.insert(key.to_owned(), value.to_string());
        st.pending();
        self.commit_if_due(&mut st)
    }

    /// Logs one metric point at `step`, stamped with the current time.
    /// For one point per training step, prefer [`Run::metric_logger`].
    pub fn log_metric(&self, key: &str, value: f64, step: i64) -> Result<()> {
        self.log_metrics(&[(key, value)], step)
    }

    /// Logs several metrics at one step, in one write. Nothing is written if
    /// any value is NaN or infinite ([`Error::InvalidMetric`]).
    pub fn log_metrics(&self, values: &[(&str, f64)], step: i64) -> Result<()> {
        let timestamp = now_ms();
        let mut groups = Vec::with_capacity(values.len());
        for &(key, value) in values {
            if !value.is_finite() {
                return Err(Error::InvalidMetric {
                    run_id: self.id.clone(),
                    key: key.to_owned(),
                    value,
                });
            }
            check_name(&self.id, "metric", key)?;
            groups.push((
                key,
                vec![MetricPoint {
                    step,
                    timestamp,
                    value,
                }],
            ));
        }
        self.log_points(&groups, false)
    }

    /// Buffers checked points, grouped by metric; writes the buffer when
    /// `write_now` or when it is due.
    pub(crate) fn log_points<K: AsRef<str>>(
        &self,
        groups: &[(K, Vec<MetricPoint>)],
        write_now: bool,
    ) -> Result<()> {
        let mut st = self.active()?;
        let st = &mut *st;
        for (key, points) in groups {
            let key = key.as_ref();
            if points.is_empty() {
                continue;
            }
            let pending = st.pending.get_or_insert_with(|| Pending {
                since: Instant::now(),
                points: 0,
                closed: WriteBatch::new(),
            });
            pending.points += points.len();
            let tail = match st.tails.get_mut(key) {
                Some(t) => t,
                None => st.tails.entry(key.to_owned()).or_default(),
            };
            // Only `next_chunk` overflow can fail here, after 2^32 chunks.
            metrics::append(&self.id, key, tail, points, &mut pending.closed)?;
            let mut latest = st.summary.metrics.get(key).copied();
            for p in points {
                if latest.is_none_or(|l| (p.step, p.timestamp) >= (l.step, l.timestamp)) {
                    latest = Some(LatestMetric {
                        value: p.value,
                        step: p.step,
                        timestamp: p.timestamp,
                    });
                }
            }
            if let Some(l) = latest {
                st.summary.metrics.insert(key.to_owned(), l);
            }
        }
        if write_now {
            self.commit(st)
        } else {
            self.commit_if_due(st)
        }
    }

    /// A buffered logger for this run, writing every
    /// [`DEFAULT_LOGGER_BATCH`] points.
    pub fn metric_logger(&self) -> MetricLogger<'_> {
        MetricLogger::new(self, DEFAULT_LOGGER_BATCH)
    }

    /// A buffered logger writing every `batch_size` points (at least 1).
    pub fn metric_logger_with_batch(&self, batch_size: usize) -> MetricLogger<'_> {
        MetricLogger::new(self, batch_size)
    }

    /// Stores `bytes` under `name` and returns their BLAKE3 digest (hex).
    /// Identical content is stored once, whatever run or name refers to it.
    /// A name is immutable: the same content again is fine, other content
    /// is [`Error::ArtifactConflict`].
    pub fn log_artifact(&self, name: &str, bytes: &[u8]) -> Result<String> {
        check_name(&self.id, "artifact", name)?;
        let _st = self.active()?;
        let hash = blake3::hash(bytes);
        let digest = hash.to_hex().to_string();
        if let Some(existing) = artifacts::get_ref(self.store.as_ref(), &self.id, name)? {
            if existing.digest == digest {
                return Ok(digest);
            }
            return Err(Error::ArtifactConflict {
                run_id: self.id.clone(),
                name: name.to_owned(),
                existing: existing.digest,
                new: digest,
            });
        }
        let art = ArtifactRef {
            name: name.to_owned(),
            digest: digest.clone(),
            size: bytes.len() as u64,
        };
        let mut batch = WriteBatch::new();
        let blob_key = keys::BLOBS.key(hash.as_bytes());
        if self.store.get(keys::TREE, &blob_key)?.is_none() {
            batch.insert(keys::TREE, blob_key, bytes.to_vec());
        }
        batch.insert(
            keys::TREE,
            keys::run_item(keys::ARTIFACTS, &self.id, name),
            codec::encode(&art)?,
        );
        self.store.apply(batch)?;
        debug_assert_eq!(artifacts::digest_hex(bytes), digest);
        Ok(digest)
    }

    /// Records a dataset the run read. Logging the same name again replaces
    /// the record.
    pub fn log_input(&self, input: DatasetInput) -> Result<()> {
        check_name(&self.id, "dataset", &input.name)?;
        let _st = self.active()?;
        self.store.insert(
            keys::TREE,
            &keys::run_item(keys::INPUTS, &self.id, &input.name),
            &codec::encode(&input)?,
        )
    }

    /// Records the environment the run executed in.
    pub fn log_environment(&self, env: &Environment) -> Result<()> {
        let _st = self.active()?;
        self.store.insert(
            keys::TREE,
            &keys::ENVIRONMENT.key(self.id.as_bytes()),
            &codec::encode(env)?,
        )
    }

    fn end(&self, status: RunStatus, reason: Option<String>, durable: bool) -> Result<()> {
        let mut st = self.active()?;
        let before = (
            st.summary.status,
            st.summary.end_time,
            st.summary.reason.take(),
        );
        st.summary.status = status;
        st.summary.end_time = Some(now_ms());
        st.summary.reason = reason;
        st.pending();
        if let Err(e) = self.commit(&mut st) {
            // Still running: the caller may retry.
            (st.summary.status, st.summary.end_time, st.summary.reason) = before;
            return Err(e);
        }
        drop(st);
        if durable {
            self.store.flush()?;
        }
        tracing::debug!(run_id = %self.id, %status, durable, "ended run");
        Ok(())
    }

    /// Marks the run `Finished`, writes it and flushes the store. When this
    /// returns `Ok`, the run and everything logged to it is durable.
    pub fn finish(self) -> Result<()> {
        self.end(RunStatus::Finished, None, true)
    }

    /// Marks the run `Finished` and writes it, without flushing the store:
    /// the run is acknowledged (durable) only after a later
    /// [`Tracker::flush`](super::Tracker::flush) or any later durable
    /// `finish`. For many short runs (a grid search's trials), finish each
    /// this way and flush once: one disk sync instead of one per run. A
    /// crash before that flush may lose the run's end (it then reads as
    /// `Running`, or is lost entirely), never leaves it half-written.
    pub fn finish_unflushed(self) -> Result<()> {
        self.end(RunStatus::Finished, None, false)
    }

    /// Marks the run `Failed` with a reason, writes it and flushes.
    pub fn fail(self, reason: impl Into<String>) -> Result<()> {
        self.end(RunStatus::Failed, Some(reason.into()), true)
    }

    /// Marks the run `Killed` (stopped on purpose before completion), writes
    /// it and flushes.
    pub fn kill(self) -> Result<()> {
        self.end(RunStatus::Killed, None, true)
    }

    /// Wraps the run in a [`RunGuard`].
    pub fn guard(self) -> RunGuard {
        RunGuard { run: Some(self) }
    }
}

/// Owns a [`Run`] and ends it if it goes out of scope still running:
///
/// - during a panic (`std::thread::panicking()`): `Failed`, reason
///   `"panicked"`;
/// - otherwise (an early return, typically `?` on an error): `Killed`,
///   reason `"dropped without finish"`. It is not `Failed` because the guard
///   cannot know that anything went wrong, only that the run was abandoned.
///
/// Errors while ending the run on drop are reported through `tracing`.
/// Derefs to [`Run`] for logging.
///
/// ```
/// use std::sync::Arc;
/// use mlops_core::store::MemoryStore;
/// use mlops_core::tracking::{RunOptions, RunStatus, Tracker};
///
/// let tracker = Tracker::new(Arc::new(MemoryStore::new()));
/// let exp = tracker.experiment("churn")?;
/// let guard = tracker.start_run(&exp, RunOptions::default())?.guard();
/// let id = guard.id().to_owned();
/// let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || {
///     guard.log_metric("loss", 0.5, 0).unwrap();
///     panic!("training diverged");
/// }));
/// assert!(outcome.is_err());
/// assert_eq!(tracker.get_run(&id)?.summary.status, RunStatus::Failed);
/// # Ok::<(), mlops_core::Error>(())
/// ```
#[derive(Debug)]
pub struct RunGuard {
    run: Option<Run>,
}

impl RunGuard {
    /// Finishes the run (see [`Run::finish`]).
    pub fn finish(mut self) -> Result<()> {
        match self.run.take() {
            Some(run) => run.finish(),
            None => Ok(()),
        }
    }

    /// Fails the run (see [`Run::fail`]).
    pub fn fail(mut self, reason: impl Into<String>) -> Result<()> {
        match self.run.take() {
            Some(run) => run.fail(reason),
            None => Ok(()),
        }
    }

    /// Takes the run back without ending it.
    pub fn into_inner(mut self) -> Option<Run> {
        self.run.take()
    }
}

impl std::ops::Deref for RunGuard {
    type Target = Run;

    fn deref(&self) -> &Run {
        // `run` is only taken by methods that consume the guard.
        match &self.run {
            Some(run) => run,
            None => unreachable!("RunGuard used after its run was taken"),
        }
    }
}

impl Drop for RunGuard {
    fn drop(&mut self) {
        let Some(run) = self.run.take() else { return };
        if run.status().is_terminal() {
            return;
        }
        let id = run.id.clone();
        let (status, result) = if std::thread::panicking() {
            (
                RunStatus::Failed,
                run.end(RunStatus::Failed, Some("panicked".into()), true),
            )
        } else {
            (
                RunStatus::Killed,
                run.end(
                    RunStatus::Killed,
                    Some("dropped without finish".into()),
                    true,
                ),
            )
        };
        match result {
            Ok(()) => tracing::warn!(run_id = %id, %status, "run guard ended an unfinished run"),
            Err(e) => tracing::error!(run_id = %id, error = %e, "run guard could not end the run"),
        }
    }
}

impl Drop for Run {
    /// Writes what is still buffered (a run dropped while `Running` keeps
    /// everything it logged); errors are reported through `tracing`.
    fn drop(&mut self) {
        let st = self.state.get_mut().unwrap_or_else(|e| e.into_inner());
        if st.pending.is_none() {
            return;
        }
        let mut st = self.lock();
        if let Err(e) = self.commit(&mut st) {
            tracing::error!(run_id = %self.id, error = %e, "run dropped with unwritten changes");
        }
    }
}
