//! Metric history in append-only chunks, and the buffered [`MetricLogger`].
//!
//! A metric's history is stored as chunks of up to [`CHUNK_POINTS`] points
//! under `run_id ‖ key ‖ chunk_no`. The run handle keeps the last, partly
//! filled chunk in memory; each time the run writes its buffered changes
//! (see [`Run`]) it rewrites only that key, and closes the chunk once it
//! holds 32 points or more, so a closed chunk is never touched again. A
//! 100,000-step history logged through a [`MetricLogger`] costs about 200
//! keys; reading it is one prefix scan.
//!
//! A metric with exactly one point (a final evaluation score, say) has no
//! chunk at all: the run summary's [`LatestMetric`](super::LatestMetric)
//! holds that point in full (value, step, timestamp), so the history is
//! read from there. This saves one key per metric per run in the common
//! "log once at the end" case (store format version 2).

use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

use super::keys;
use super::record::LatestMetric;
use super::run::Run;
use crate::error::{Error, Result};
use crate::store::{Store, WriteBatch, codec};

/// Most points in one stored chunk.
pub const CHUNK_POINTS: usize = 512;

/// An open chunk holding this many points is closed after it is written
/// instead of being rewritten by later writes, so point-by-point logging
/// rewrites at most this many points per write while batched logging still
/// fills chunks up to [`CHUNK_POINTS`].
const TAIL_REWRITE_MAX: usize = 32;

/// One logged value of a metric.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct MetricPoint {
    /// Training step (epoch, iteration) given by the caller.
    pub step: i64,
    /// Milliseconds since the Unix epoch.
    pub timestamp: i64,
    /// The value; always finite.
    pub value: f64,
}

impl From<LatestMetric> for MetricPoint {
    fn from(l: LatestMetric) -> Self {
        MetricPoint {
            step: l.step,
            timestamp: l.timestamp,
            value: l.value,
        }
    }
}

/// The stored form of a chunk: tuples, not named structs, to keep points at
/// about 20 bytes.
type StoredChunk = Vec<(i64, i64, f64)>;

/// The in-memory tail of one metric: its open chunk.
#[derive(Debug, Default, Clone)]
pub(crate) struct Tail {
    chunk_no: u32,
    points: Vec<MetricPoint>,
    /// How many of `points` the store already holds (in chunk `chunk_no`,
    /// or in the summary for a one-point history).
    stored: usize,
}

fn encode_chunk(points: &[MetricPoint]) -> Result<Vec<u8>> {
    let stored: StoredChunk = points
        .iter()
        .map(|p| (p.step, p.timestamp, p.value))
        .collect();
    codec::encode(&stored)
}

/// Appends `points` to the metric's tail in memory; chunks that fill up are
/// added to `batch` (they are final). The open chunk is written later by
/// [`write_tail`].
pub(crate) fn append(
    run_id: &str,
    key: &str,
    tail: &mut Tail,
    points: &[MetricPoint],
    batch: &mut WriteBatch,
) -> Result<()> {
    let mut rest = points;
    while !rest.is_empty() {
        let room = CHUNK_POINTS - tail.points.len();
        let (now, later) = rest.split_at(room.min(rest.len()));
        tail.points.extend_from_slice(now);
        rest = later;
        if tail.points.len() == CHUNK_POINTS {
            batch.insert(
                keys::TREE,
                keys::metric_chunk(run_id, key, tail.chunk_no),
                encode_chunk(&tail.points)?,
            );
            next_chunk(run_id, key, tail)?;
        }
    }
    Ok(())
}

/// True when the tail holds points the store does not have yet.
pub(crate) fn is_dirty(tail: &Tail) -> bool {
    tail.points.len() > tail.stored
}

/// Adds the write of the open chunk to `batch` if it changed, then closes
/// it if it is large enough not to be rewritten again.
pub(crate) fn write_tail(
    run_id: &str,
    key: &str,
    tail: &mut Tail,
    batch: &mut WriteBatch,
) -> Result<()> {
    if !is_dirty(tail) {
        return Ok(());
    }
    if tail.chunk_no == 0 && tail.points.len() == 1 {
        // The whole history is one point: the summary holds it.
        tail.stored = 1;
        return Ok(());
    }
    batch.insert(
        keys::TREE,
        keys::metric_chunk(run_id, key, tail.chunk_no),
        encode_chunk(&tail.points)?,
    );
    tail.stored = tail.points.len();
    if tail.points.len() >= TAIL_REWRITE_MAX {
        next_chunk(run_id, key, tail)?;
    }
    Ok(())
}

fn next_chunk(run_id: &str, key: &str, tail: &mut Tail) -> Result<()> {
    tail.chunk_no = tail
        .chunk_no
        .checked_add(1)
        .ok_or_else(|| Error::InvalidKey {
            run_id: run_id.to_owned(),
            what: "metric",
            name: key.to_owned(),
            reason: "history exceeds 2^32 chunks".into(),
        })?;
    tail.points.clear();
    tail.stored = 0;
    Ok(())
}

/// Loads the open chunk of a stored metric, so a resumed run appends to it.
/// `latest` is the summary's latest point of the metric.
pub(crate) fn load_tail(
    store: &dyn Store,
    run_id: &str,
    key: &str,
    latest: LatestMetric,
) -> Result<Tail> {
    let prefix = keys::metric_prefix(run_id, key);
    let mut last = None;
    for entry in store.scan_prefix(keys::TREE, &prefix)? {
        last = Some(entry?);
    }
    let Some((k, v)) = last else {
        // No chunk: a one-point history kept in the summary.
        return Ok(Tail {
            chunk_no: 0,
            points: vec![latest.into()],
            stored: 1,
        });
    };
    let what = || format!("metric `{key}` history of run {run_id}");
    let no: [u8; 4] = k
        .get(prefix.len()..)
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| Error::Corrupt {
            what: what(),
            reason: "chunk key has no 4-byte chunk number".into(),
        })?;
    let chunk_no = u32::from_be_bytes(no);
    let chunk: StoredChunk = codec::decode(&v, &what())?;
    if chunk.len() >= TAIL_REWRITE_MAX {
        let next = chunk_no.checked_add(1).ok_or_else(|| Error::Corrupt {
            what: what(),
            reason: "chunk number overflow".into(),
        })?;
        return Ok(Tail {
            chunk_no: next,
            points: Vec::new(),
            stored: 0,
        });
    }
    let points: Vec<MetricPoint> = chunk
        .into_iter()
        .map(|(step, timestamp, value)| MetricPoint {
            step,
            timestamp,
            value,
        })
        .collect();
    Ok(Tail {
        chunk_no,
        stored: points.len(),
        points,
    })
}

/// The full history of one metric, in logging order. `latest` is the
/// summary's latest point of the metric (`None`: never logged).
pub(crate) fn history(
    store: &dyn Store,
    run_id: &str,
    key: &str,
    latest: Option<LatestMetric>,
) -> Result<Vec<MetricPoint>> {
    let mut out = Vec::new();
    for entry in store.scan_prefix(keys::TREE, &keys::metric_prefix(run_id, key))? {
        let (_, v) = entry?;
        let chunk: StoredChunk =
            codec::decode(&v, &format!("metric `{key}` history of run {run_id}"))?;
        out.extend(
            chunk
                .into_iter()
                .map(|(step, timestamp, value)| MetricPoint {
                    step,
                    timestamp,
                    value,
                }),
        );
    }
    if out.is_empty()
        && let Some(l) = latest
    {
        out.push(l.into());
    }
    Ok(out)
}

/// Buffers metric points in memory and writes them in batches.
///
/// A training loop logs every step through it at the cost of a hash lookup
/// and a push; the store sees one batch every `batch_size` points, on
/// [`flush`](MetricLogger::flush) and on drop. The logger borrows its
/// [`Run`], so the compiler makes sure it is dropped (and flushed) before
/// the run is finished.
///
/// ```
/// use std::sync::Arc;
/// use mlops_core::store::MemoryStore;
/// use mlops_core::tracking::{RunOptions, Tracker};
///
/// let tracker = Tracker::new(Arc::new(MemoryStore::new()));
/// let exp = tracker.experiment("churn")?;
/// let run = tracker.start_run(&exp, RunOptions::default())?;
/// {
///     let mut logger = run.metric_logger();
///     for step in 0..1_000 {
///         logger.log("loss", 1.0 / (step as f64 + 1.0), step)?;
///     }
/// } // flushed here
/// let id = run.id().to_owned();
/// run.finish()?;
/// assert_eq!(tracker.run_metrics_history(&id, "loss")?.len(), 1_000);
/// # Ok::<(), mlops_core::Error>(())
/// ```
#[derive(Debug)]
pub struct MetricLogger<'r> {
    run: &'r Run,
    batch_size: usize,
    names: Vec<String>,
    lookup: FxHashMap<String, u32>,
    buffer: Vec<(u32, MetricPoint)>,
}

/// Default number of buffered points per write.
pub const DEFAULT_LOGGER_BATCH: usize = 4096;

impl<'r> MetricLogger<'r> {
    pub(crate) fn new(run: &'r Run, batch_size: usize) -> Self {
        let batch_size = batch_size.max(1);
        Self {
            run,
            batch_size,
            names: Vec::new(),
            lookup: FxHashMap::default(),
            buffer: Vec::with_capacity(batch_size),
        }
    }

    /// Buffers one point stamped with the current time. Rejects NaN and
    /// infinities at once, with the run id and key.
    pub fn log(&mut self, key: &str, value: f64, step: i64) -> Result<()> {
        self.log_at(key, value, step, super::now_ms())
    }

    /// Buffers one point with an explicit timestamp (ms since the epoch).
    pub fn log_at(&mut self, key: &str, value: f64, step: i64, timestamp: i64) -> Result<()> {
        if !value.is_finite() {
            return Err(Error::InvalidMetric {
                run_id: self.run.id().to_owned(),
                key: key.to_owned(),
                value,
            });
        }
        let idx = match self.lookup.get(key) {
            Some(&i) => i,
            None => {
                super::run::check_name(self.run.id(), "metric", key)?;
                let i = u32::try_from(self.names.len()).map_err(|_| Error::InvalidKey {
                    run_id: self.run.id().to_owned(),
                    what: "metric",
                    name: key.to_owned(),
                    reason: "more than 2^32 distinct metric keys in one logger".into(),
                })?;
                self.names.push(key.to_owned());
                self.lookup.insert(key.to_owned(), i);
                i
            }
        };
        self.buffer.push((
            idx,
            MetricPoint {
                step,
                timestamp,
                value,
            },
        ));
        if self.buffer.len() >= self.batch_size {
            self.flush()?;
        }
        Ok(())
    }

    /// Points buffered and not yet written.
    pub fn pending(&self) -> usize {
        self.buffer.len()
    }

    /// Writes the buffered points to the store in one batch, together with
    /// any other change buffered in the run (see [`Run`]). The points are
    /// durable once the run is finished (or the store flushed).
    pub fn flush(&mut self) -> Result<()> {
        if self.buffer.is_empty() {
            return Ok(());
        }
        // Group by key index: no string hashing per point.
        let mut by_key: Vec<Vec<MetricPoint>> = vec![Vec::new(); self.names.len()];
        for (idx, p) in &self.buffer {
            by_key[*idx as usize].push(*p);
        }
        let mut groups: Vec<(&str, Vec<MetricPoint>)> = self
            .names
            .iter()
            .map(String::as_str)
            .zip(by_key)
            .filter(|(_, points)| !points.is_empty())
            .collect();
        groups.sort_unstable_by(|a, b| a.0.cmp(b.0));
        self.run.log_points(&groups, true)?;
        self.buffer.clear();
        Ok(())
    }
}

impl Drop for MetricLogger<'_> {
    fn drop(&mut self) {
        if let Err(e) = self.flush() {
            tracing::error!(run_id = self.run.id(), error = %e, "metric logger lost buffered points on drop");
        }
    }
}
