//! Built-in monitoring of every prediction: counters, latency, score
//! distribution and input/score drift against the training profiles
//! ([`Monitor`]); Prometheus text export ([`PrometheusText`]); a sampled
//! prediction log with outcomes joined back by correlation id, live quality
//! and concept-drift retrain triggers ([`PredictionLog`]).
//!
//! # Cost and contention
//!
//! A monitor keeps its state in shards; each thread writes to the shard of
//! its own slot (threads are numbered on first use), under a mutex that only
//! readers (a scrape) ever contend for. Every state is a count (the drift
//! monitor's bins, the latency histogram's buckets), so merging the shards
//! for a snapshot is exact: the snapshot equals one monitor fed every
//! prediction.

mod log;
mod prometheus;
mod quality;
mod trigger;

pub use log::{LoggedPrediction, LoggedValue, PredictionLog, PredictionLogOptions, Sampling};
pub use prometheus::PrometheusText;
pub use quality::{ConceptDetector, QualitySnapshot, roc_auc};
pub use trigger::{RetrainReason, RetrainTrigger, RetrainTriggers};

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use hdrhistogram::Histogram;
use mlops_core::data::{ColumnType, Field, Frame, Value};
use mlops_core::drift::{
    ColumnProfile, DriftMonitor, DriftOptions, DriftReport, MonitorConfig, Profile,
};

use crate::error::{Error, Result};
use crate::predictor::ModelId;

/// Error kinds counted by the monitor (the `kind` label), see
/// [`Error::kind`].
pub const ERROR_KINDS: [&str; 9] = [
    "missing_column",
    "wrong_type",
    "unknown_category",
    "non_finite",
    "arity",
    "invalid_config",
    "not_logged",
    "bad_outcome",
    "internal",
];

/// Upper bounds of the latency histogram's Prometheus buckets, in seconds.
const LATENCY_BUCKETS: [f64; 16] = [
    1e-6, 2.5e-6, 5e-6, 1e-5, 2.5e-5, 5e-5, 1e-4, 2.5e-4, 5e-4, 1e-3, 2.5e-3, 5e-3, 1e-2, 5e-2,
    0.1, 1.0,
];

/// Monitoring settings.
#[derive(Debug, Clone, PartialEq)]
pub struct MonitorOptions {
    /// Number of shards (threads map onto them round-robin); 8 by default,
    /// from 1 to 1,024.
    pub shards: usize,
    /// How drift of the inputs and scores is tested. When `columns` is
    /// `None`, the signature columns present in the profile are tested.
    pub drift: DriftOptions,
}

impl Default for MonitorOptions {
    fn default() -> Self {
        Self {
            shards: 8,
            drift: DriftOptions::default(),
        }
    }
}

/// Latency of single-record predictions (successful ones).
#[derive(Debug, Clone, PartialEq)]
pub struct LatencySummary {
    /// Predictions measured.
    pub count: u64,
    /// Median.
    pub p50: Duration,
    /// 90th percentile.
    pub p90: Duration,
    /// 99th percentile.
    pub p99: Duration,
    /// Slowest.
    pub max: Duration,
    /// Mean.
    pub mean: Duration,
    /// Prometheus buckets: (upper bound in seconds, cumulative count).
    pub buckets: Vec<(f64, u64)>,
}

/// Distribution of the scores returned.
#[derive(Debug, Clone, PartialEq)]
pub struct ScoreSummary {
    /// Scores seen (records and frame rows).
    pub count: u64,
    /// Sum of the scores.
    pub sum: f64,
    /// Share labelled positive (classification only).
    pub positive_rate: Option<f64>,
    /// Buckets: (upper bound, cumulative count); deciles of `[0, 1]` for
    /// classification, the score profile's bin edges for regression.
    pub buckets: Vec<(f64, u64)>,
}

impl ScoreSummary {
    /// Mean score (`NaN` before the first).
    pub fn mean(&self) -> f64 {
        self.sum / self.count as f64
    }
}

/// A consistent copy of a monitor's state.
#[derive(Debug, Clone, PartialEq)]
pub struct MonitorSnapshot {
    /// The model monitored.
    pub model: ModelId,
    /// Time since the monitor started.
    pub uptime: Duration,
    /// When the model was loaded, ms since the Unix epoch.
    pub loaded_unix_ms: u64,
    /// Successful predictions (records and frame rows).
    pub predictions: u64,
    /// Failed requests by [`Error::kind`].
    pub errors: BTreeMap<&'static str, u64>,
    /// Categorical values sent to the unknown bucket.
    pub unknown_categories: u64,
    /// Single-record latency.
    pub latency: LatencySummary,
    /// Score distribution.
    pub scores: ScoreSummary,
    /// Input drift of the current window against the training profile
    /// (`None` without a profile).
    pub input_drift: Option<DriftReport>,
    /// Score drift against the training score profile (`None` without one).
    pub score_drift: Option<DriftReport>,
}

impl MonitorSnapshot {
    /// Predictions per second since the monitor started.
    pub fn throughput(&self) -> f64 {
        self.predictions as f64 / self.uptime.as_secs_f64().max(1e-9)
    }

    /// All failed requests.
    pub fn total_errors(&self) -> u64 {
        self.errors.values().sum()
    }
}

struct State {
    predictions: u64,
    errors: [u64; ERROR_KINDS.len()],
    unknown: u64,
    latency: Histogram<u64>,
    score_sum: f64,
    positives: u64,
    /// Per score bucket (not cumulative), plus one overflow slot.
    score_counts: Vec<u64>,
    drift: Option<DriftMonitor>,
    score_drift: Option<DriftMonitor>,
}

/// Padded to its own cache lines so shards do not false-share.
#[repr(align(128))]
struct Shard(Mutex<State>);

/// Input column `i` of the signature -> column of the drift monitor.
#[derive(Debug, Clone, Copy)]
struct DriftColumn {
    monitor: usize,
    numeric: bool,
}

/// The monitor of one loaded model (see the [module docs](self)).
pub struct Monitor {
    id: ModelId,
    started: Instant,
    loaded_unix_ms: u64,
    classification: bool,
    threshold: f64,
    columns: Vec<Option<DriftColumn>>,
    score_bounds: Vec<f64>,
    drift_template: Option<DriftMonitor>,
    score_template: Option<DriftMonitor>,
    shards: Box<[Shard]>,
}

impl std::fmt::Debug for Monitor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Monitor")
            .field("model", &self.id.to_string())
            .field("shards", &self.shards.len())
            .finish_non_exhaustive()
    }
}

static NEXT_SLOT: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    static SLOT: usize = NEXT_SLOT.fetch_add(1, Ordering::Relaxed);
}

fn now_unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

fn lock(m: &Mutex<State>) -> MutexGuard<'_, State> {
    // A panic while holding the lock leaves counts that are still counts.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Monitor {
    pub(crate) fn new(
        id: ModelId,
        signature: &[Field],
        profile: Option<&Profile>,
        score_profile: Option<&Profile>,
        classification: bool,
        threshold: f64,
        options: &MonitorOptions,
    ) -> Result<Self> {
        if !(1..=1024).contains(&options.shards) {
            return Err(Error::InvalidConfig {
                name: "shards",
                reason: format!("{} is outside 1..=1024", options.shards),
            });
        }
        let config = MonitorConfig::default();
        let mut columns = vec![None; signature.len()];
        let drift_template = match profile {
            None => None,
            Some(p) => {
                let mut opts = options.drift.clone();
                if opts.columns.is_none() {
                    opts.columns = Some(
                        signature
                            .iter()
                            .filter(|f| p.columns.contains_key(&f.name))
                            .map(|f| f.name.clone())
                            .collect(),
                    );
                }
                let m = DriftMonitor::new(p, config, opts)?;
                for (slot, f) in columns.iter_mut().zip(signature) {
                    let (Some(i), Some(cp)) = (m.column_index(&f.name), p.columns.get(&f.name))
                    else {
                        continue;
                    };
                    let numeric = matches!(cp, ColumnProfile::Numeric(_));
                    // A profile column of another type than the signature's
                    // cannot be fed consistently: leave it out.
                    if numeric == (f.column_type == ColumnType::Numeric) {
                        *slot = Some(DriftColumn {
                            monitor: i,
                            numeric,
                        });
                    }
                }
                Some(m)
            }
        };
        let score_template = match score_profile {
            None => None,
            Some(p) => Some(DriftMonitor::new(
                p,
                config,
                options.drift.clone().columns_all(),
            )?),
        };
        let score_bounds: Vec<f64> = if classification {
            (1..=10).map(|i| f64::from(i) / 10.0).collect()
        } else {
            score_profile
                .and_then(|p| p.columns.values().next())
                .and_then(|c| match c {
                    ColumnProfile::Numeric(n) => Some(n.edges.clone()),
                    ColumnProfile::Categorical(_) => None,
                })
                .unwrap_or_default()
        };
        let shards = (0..options.shards)
            .map(|_| {
                Ok(Shard(Mutex::new(State {
                    predictions: 0,
                    errors: [0; ERROR_KINDS.len()],
                    unknown: 0,
                    latency: new_histogram()?,
                    score_sum: 0.0,
                    positives: 0,
                    score_counts: vec![0; score_bounds.len() + 1],
                    drift: drift_template.clone(),
                    score_drift: score_template.clone(),
                })))
            })
            .collect::<Result<Vec<_>>>()?
            .into_boxed_slice();
        Ok(Monitor {
            id,
            started: Instant::now(),
            loaded_unix_ms: now_unix_ms(),
            classification,
            threshold,
            columns,
            score_bounds,
            drift_template,
            score_template,
            shards,
        })
    }

    /// The model monitored.
    pub fn model(&self) -> &ModelId {
        &self.id
    }

    fn shard(&self) -> &Mutex<State> {
        let slot = SLOT.with(|s| *s);
        &self.shards[slot % self.shards.len()].0
    }

    fn record_score(&self, s: &mut State, value: f64) {
        s.score_sum += value;
        if self.classification && value >= self.threshold {
            s.positives += 1;
        }
        let b = self.score_bounds.partition_point(|&ub| ub < value);
        s.score_counts[b] += 1;
        if let Some(d) = &mut s.score_drift {
            d.observe_numeric(0, Some(value));
            d.end_row();
        }
    }

    /// One successful single-record prediction.
    pub(crate) fn record_row(
        &self,
        row: &[Value<'_>],
        value: f64,
        unknown: u64,
        latency: Duration,
    ) {
        let mut s = lock(self.shard());
        s.predictions += 1;
        s.unknown += unknown;
        let ns = u64::try_from(latency.as_nanos()).unwrap_or(u64::MAX).max(1);
        s.latency.saturating_record(ns);
        self.record_score(&mut s, value);
        if let Some(d) = &mut s.drift {
            for (v, c) in row.iter().zip(&self.columns) {
                let Some(c) = c else { continue };
                match (*v, c.numeric) {
                    (Value::Number(x), true) => d.observe_numeric(c.monitor, Some(x)),
                    (Value::Text(t), false) => d.observe_category(c.monitor, Some(t)),
                    (_, true) => d.observe_numeric(c.monitor, None),
                    (_, false) => d.observe_category(c.monitor, None),
                }
            }
            d.end_row();
        }
    }

    /// Every row of a scored frame.
    pub(crate) fn record_frame(&self, frame: &Frame, values: &[f64], unknown: u64) {
        let mut s = lock(self.shard());
        s.predictions += values.len() as u64;
        s.unknown += unknown;
        for &v in values {
            self.record_score(&mut s, v);
        }
        if let Some(d) = &mut s.drift {
            // Columns absent from the frame were rejected before scoring.
            let _ = d.observe_frame(frame);
        }
    }

    /// One failed request.
    pub(crate) fn record_error(&self, e: &Error, _latency: Duration) {
        let kind = e.kind();
        let i = ERROR_KINDS
            .iter()
            .position(|k| *k == kind)
            .unwrap_or(ERROR_KINDS.len() - 1);
        lock(self.shard()).errors[i] += 1;
    }

    /// A consistent merged copy of every shard.
    pub fn snapshot(&self) -> MonitorSnapshot {
        let mut predictions = 0;
        let mut errors = [0u64; ERROR_KINDS.len()];
        let mut unknown = 0;
        let mut latency: Option<Histogram<u64>> = None;
        let mut score_sum = 0.0;
        let mut positives = 0;
        let mut score_counts = vec![0u64; self.score_bounds.len() + 1];
        let mut drift = self.drift_template.clone();
        let mut score_drift = self.score_template.clone();
        for shard in self.shards.iter() {
            let s = lock(&shard.0);
            predictions += s.predictions;
            for (a, b) in errors.iter_mut().zip(s.errors) {
                *a += b;
            }
            unknown += s.unknown;
            match &mut latency {
                None => latency = Some(s.latency.clone()),
                Some(h) => {
                    // Same bounds everywhere: adding cannot fail.
                    let _ = h.add(&s.latency);
                }
            }
            score_sum += s.score_sum;
            positives += s.positives;
            for (a, b) in score_counts.iter_mut().zip(&s.score_counts) {
                *a += b;
            }
            if let (Some(m), Some(d)) = (&mut drift, &s.drift) {
                let _ = m.merge(d);
            }
            if let (Some(m), Some(d)) = (&mut score_drift, &s.score_drift) {
                let _ = m.merge(d);
            }
        }
        let latency = summarize_latency(latency.as_ref());
        let scored: u64 = score_counts.iter().sum();
        let mut cumulative = 0;
        let mut buckets = Vec::with_capacity(self.score_bounds.len());
        for (ub, c) in self.score_bounds.iter().zip(&score_counts) {
            cumulative += c;
            buckets.push((*ub, cumulative));
        }
        MonitorSnapshot {
            model: self.id.clone(),
            uptime: self.started.elapsed(),
            loaded_unix_ms: self.loaded_unix_ms,
            predictions,
            errors: ERROR_KINDS.iter().copied().zip(errors).collect(),
            unknown_categories: unknown,
            latency,
            scores: ScoreSummary {
                count: scored,
                sum: score_sum,
                positive_rate: (self.classification && scored > 0)
                    .then(|| positives as f64 / scored as f64),
                buckets,
            },
            input_drift: drift.filter(|d| d.rows() > 0).map(|d| d.report()),
            score_drift: score_drift.filter(|d| d.rows() > 0).map(|d| d.report()),
        }
    }

    /// Closes the current drift window: returns the input drift report of
    /// everything seen since the last window (`None` without a profile or
    /// without rows) and starts a new window. When the dataset drifted, a
    /// [`RetrainReason::InputDrift`] trigger goes to `triggers`.
    ///
    /// The window holds bin counts, not raw values, so numeric columns are
    /// tested with Jensen-Shannon on the profile's bins rather than the
    /// KS / Wasserstein `mlops drift` and Evidently pick. For the drift of
    /// one batch alone, with those methods and without closing this window,
    /// use [`Predictor::predict_frame_with_drift`](crate::Predictor::predict_frame_with_drift).
    pub fn close_drift_window(&self, triggers: Option<&RetrainTriggers>) -> Option<DriftReport> {
        let template = self.drift_template.as_ref()?;
        let mut merged = template.clone();
        for shard in self.shards.iter() {
            let mut s = lock(&shard.0);
            if let Some(d) = &mut s.drift {
                let _ = merged.merge(d);
                *d = template.clone();
            }
        }
        if merged.rows() == 0 {
            return None;
        }
        let report = merged.report();
        if report.dataset_drift
            && let Some(t) = triggers
        {
            t.publish(RetrainTrigger::new(
                self.id.clone(),
                RetrainReason::InputDrift {
                    drift_share: report.drift_share,
                    rows: merged.rows(),
                },
            ));
        }
        Some(report)
    }
}

trait AllColumns {
    fn columns_all(self) -> Self;
}

impl AllColumns for DriftOptions {
    /// A score profile has one column: test it whatever the input columns.
    fn columns_all(mut self) -> Self {
        self.columns = None;
        self
    }
}

fn new_histogram() -> Result<Histogram<u64>> {
    // 1 ns to 10 min at 3 significant digits (about 0.1% error).
    Histogram::new_with_bounds(1, 600_000_000_000, 3).map_err(|e| Error::InvalidConfig {
        name: "latency histogram",
        reason: e.to_string(),
    })
}

fn summarize_latency(h: Option<&Histogram<u64>>) -> LatencySummary {
    let Some(h) = h.filter(|h| !h.is_empty()) else {
        return LatencySummary {
            count: 0,
            p50: Duration::ZERO,
            p90: Duration::ZERO,
            p99: Duration::ZERO,
            max: Duration::ZERO,
            mean: Duration::ZERO,
            buckets: LATENCY_BUCKETS.iter().map(|&b| (b, 0)).collect(),
        };
    };
    let q = |x: f64| Duration::from_nanos(h.value_at_quantile(x));
    let buckets = LATENCY_BUCKETS
        .iter()
        .map(|&b| {
            // Bucket bounds in ns; counts of values up to the bound
            // (within the histogram's 0.1% precision).
            let ns = (b * 1e9) as u64;
            let below = h.count_between(0, ns);
            (b, below)
        })
        .collect();
    LatencySummary {
        count: h.len(),
        p50: q(0.5),
        p90: q(0.9),
        p99: q(0.99),
        max: Duration::from_nanos(h.max()),
        mean: Duration::from_nanos(h.mean() as u64),
        buckets,
    }
}
