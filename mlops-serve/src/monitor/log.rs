//! The sampled prediction log: predictions written through the [`Store`]
//! under their correlation id, outcomes joined back by that id, live quality
//! per model, and retrain triggers from the concept-drift detectors.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use mlops_core::data::{Field, Value};
use mlops_core::seed::Seed;
use mlops_core::store::{SharedStore, codec};
use serde::{Deserialize, Serialize};

use super::quality::{ConceptDetector, QualitySnapshot, QualityState};
use super::trigger::{RetrainReason, RetrainTrigger, RetrainTriggers};
use crate::error::{Error, Result};
use crate::predictor::{CorrelationId, ModelId, Score};

/// Store tree of logged predictions, keyed by correlation id.
pub const PREDICTIONS_TREE: &str = "serve.predictions";
/// Store tree of joined outcomes, keyed by correlation id.
pub const OUTCOMES_TREE: &str = "serve.outcomes";

/// Which predictions the log keeps.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Sampling {
    /// Every prediction.
    All,
    /// Predictions 0, N, 2N... of this log (by arrival order).
    EveryNth(u64),
    /// Each prediction with probability `rate`, decided by a seeded hash of
    /// its arrival number (reproducible for a given order).
    Rate {
        /// Share kept, in `[0, 1]`.
        rate: f64,
        /// Seed of the decision.
        seed: Seed,
    },
}

/// Prediction log settings.
#[derive(Debug, Clone, PartialEq)]
pub struct PredictionLogOptions {
    /// Which predictions are written (every 100th by default).
    pub sampling: Sampling,
    /// Joined outcomes kept per model for the live quality metrics (10,000
    /// by default).
    pub quality_window: usize,
    /// Detectors over the error stream (ADWIN and DDM by default).
    pub detectors: Vec<ConceptDetector>,
}

impl Default for PredictionLogOptions {
    fn default() -> Self {
        Self {
            sampling: Sampling::EveryNth(100),
            quality_window: 10_000,
            detectors: vec![ConceptDetector::Adwin, ConceptDetector::Ddm],
        }
    }
}

impl PredictionLogOptions {
    fn validate(&self) -> Result<()> {
        match self.sampling {
            Sampling::EveryNth(0) => Err(Error::InvalidConfig {
                name: "sampling",
                reason: "every N-th needs N >= 1".into(),
            }),
            Sampling::Rate { rate, .. } if !(0.0..=1.0).contains(&rate) => {
                Err(Error::InvalidConfig {
                    name: "sampling",
                    reason: format!("rate {rate} is outside [0, 1]"),
                })
            }
            _ if self.quality_window == 0 => Err(Error::InvalidConfig {
                name: "quality_window",
                reason: "needs at least one outcome".into(),
            }),
            _ => Ok(()),
        }
    }
}

/// One input value as logged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum LoggedValue {
    /// A number.
    Number(f64),
    /// A category.
    Text(String),
    /// Missing.
    Missing,
}

/// A logged prediction, as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoggedPrediction {
    /// The correlation id (the store key).
    pub correlation_id: String,
    /// Model name.
    pub model: String,
    /// Model version.
    pub version: Option<u32>,
    /// The score returned.
    pub score: f64,
    /// Decision threshold (classification), `None` for regression.
    pub threshold: Option<f64>,
    /// When, ms since the Unix epoch.
    pub at_unix_ms: u64,
    /// The raw inputs in signature order.
    pub inputs: Vec<(String, LoggedValue)>,
}

/// An outcome joined to its prediction, as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JoinedOutcome {
    /// The prediction.
    pub prediction: LoggedPrediction,
    /// The outcome (1/0 for classification).
    pub outcome: f64,
    /// When it was joined, ms since the Unix epoch.
    pub at_unix_ms: u64,
}

/// The sampled prediction log (see the [module docs](self)). Share one
/// `Arc<PredictionLog>` between predictors (every version behind a
/// `ModelHandle`); quality is kept per model version.
///
/// Writes are best effort: a failed write is counted and traced, never
/// turned into a failed prediction; they are not flushed per prediction.
#[derive(Debug)]
pub struct PredictionLog {
    store: SharedStore,
    options: PredictionLogOptions,
    arrivals: AtomicU64,
    logged: AtomicU64,
    write_errors: AtomicU64,
    quality: Mutex<HashMap<ModelId, QualityState>>,
    triggers: RetrainTriggers,
}

fn now_unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// SplitMix64 finalizer: a cheap, well-mixed hash for sampling decisions.
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

impl PredictionLog {
    /// A log writing to `store`.
    pub fn new(store: SharedStore, options: PredictionLogOptions) -> Result<Self> {
        options.validate()?;
        Ok(Self {
            store,
            options,
            arrivals: AtomicU64::new(0),
            logged: AtomicU64::new(0),
            write_errors: AtomicU64::new(0),
            quality: Mutex::new(HashMap::new()),
            triggers: RetrainTriggers::new(),
        })
    }

    /// The retrain triggers raised by this log's detectors; subscribe here.
    pub fn triggers(&self) -> &RetrainTriggers {
        &self.triggers
    }

    /// Predictions written so far.
    pub fn logged(&self) -> u64 {
        self.logged.load(Ordering::Relaxed)
    }

    /// Writes that failed (traced as warnings).
    pub fn write_errors(&self) -> u64 {
        self.write_errors.load(Ordering::Relaxed)
    }

    fn sampled(&self) -> bool {
        let k = self.arrivals.fetch_add(1, Ordering::Relaxed);
        match self.options.sampling {
            Sampling::All => true,
            Sampling::EveryNth(n) => k.is_multiple_of(n),
            Sampling::Rate { rate, seed } => {
                let u = (mix(seed.0 ^ mix(k)) >> 11) as f64 / (1u64 << 53) as f64;
                u < rate
            }
        }
    }

    /// Called by the predictor after each successful prediction.
    pub(crate) fn offer(
        &self,
        score: &Score,
        threshold: Option<f64>,
        signature: &[Field],
        row: &[Value<'_>],
    ) {
        if !self.sampled() {
            return;
        }
        let entry = LoggedPrediction {
            correlation_id: score.correlation_id.to_string(),
            model: score.model.name.to_string(),
            version: score.model.version,
            score: score.value,
            threshold,
            at_unix_ms: now_unix_ms(),
            inputs: signature
                .iter()
                .zip(row)
                .map(|(f, v)| {
                    let v = match *v {
                        Value::Number(x) => LoggedValue::Number(x),
                        Value::Text(t) => LoggedValue::Text(t.to_owned()),
                        Value::Missing => LoggedValue::Missing,
                    };
                    (f.name.clone(), v)
                })
                .collect(),
        };
        self.write(entry);
    }

    fn write(&self, entry: LoggedPrediction) {
        let result = codec::encode(&entry).and_then(|bytes| {
            self.store
                .insert(PREDICTIONS_TREE, entry.correlation_id.as_bytes(), &bytes)
        });
        match result {
            Ok(()) => {
                self.logged.fetch_add(1, Ordering::Relaxed);
            }
            Err(e) => {
                self.write_errors.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(correlation_id = %entry.correlation_id, error = %e, "prediction log write failed");
            }
        }
    }

    /// The logged prediction of a correlation id, if it was sampled.
    pub fn get(&self, id: &CorrelationId) -> Result<Option<LoggedPrediction>> {
        let key = id.to_string();
        match self.store.get(PREDICTIONS_TREE, key.as_bytes())? {
            None => Ok(None),
            Some(bytes) => Ok(Some(codec::decode(&bytes, "logged prediction")?)),
        }
    }

    /// Joins an outcome (1.0 / 0.0 for classification, the true value for
    /// regression) to the logged prediction of `id`: stores it, updates the
    /// model's live quality and feeds the concept-drift detectors, which may
    /// raise a [`RetrainTrigger`].
    ///
    /// Errors: [`Error::PredictionNotLogged`] when `id` was not sampled;
    /// [`Error::BadOutcome`] for a non-finite outcome, a classification
    /// outcome other than 0 or 1, or a second outcome for the same id.
    pub fn record_outcome(&self, id: &CorrelationId, outcome: f64) -> Result<JoinedOutcome> {
        let key = id.to_string();
        let bad = |reason: String| Error::BadOutcome {
            correlation_id: key.clone(),
            reason,
        };
        let prediction = self
            .get(id)?
            .ok_or_else(|| Error::PredictionNotLogged(key.clone()))?;
        let classification = prediction.threshold.is_some();
        if !outcome.is_finite() {
            return Err(bad(format!("non-finite outcome {outcome}")));
        }
        if classification && outcome != 0.0 && outcome != 1.0 {
            return Err(bad(format!(
                "classification outcomes are 1 (positive) or 0, got {outcome}"
            )));
        }
        let joined = JoinedOutcome {
            prediction,
            outcome,
            at_unix_ms: now_unix_ms(),
        };
        let bytes = codec::encode(&joined)?;
        // Absent -> present only: a second outcome for the same prediction
        // would count twice in quality and detectors.
        if !self
            .store
            .compare_and_swap(OUTCOMES_TREE, key.as_bytes(), None, Some(&bytes))?
        {
            return Err(bad("an outcome was already joined".into()));
        }
        let model = ModelId::new(joined.prediction.model.as_str(), joined.prediction.version);
        let (fired, outcomes) = {
            let mut q = self.quality.lock().unwrap_or_else(|p| p.into_inner());
            let state = q.entry(model.clone()).or_insert_with(|| {
                QualityState::new(
                    model.clone(),
                    classification,
                    joined.prediction.threshold.unwrap_or(0.5),
                    self.options.quality_window,
                    &self.options.detectors,
                )
            });
            let fired = state.push(joined.prediction.score, outcome);
            (fired, state.outcomes())
        };
        for detector in fired {
            self.triggers.publish(RetrainTrigger::new(
                model.clone(),
                RetrainReason::ConceptDrift { detector, outcomes },
            ));
        }
        Ok(joined)
    }

    /// Live quality of one model version (`None` before its first outcome).
    pub fn quality(&self, model: &ModelId) -> Option<QualitySnapshot> {
        let q = self.quality.lock().unwrap_or_else(|p| p.into_inner());
        q.get(model).map(QualityState::snapshot)
    }

    /// Live quality of every model with outcomes, by name then version.
    pub fn qualities(&self) -> Vec<QualitySnapshot> {
        let q = self.quality.lock().unwrap_or_else(|p| p.into_inner());
        let mut all: Vec<QualitySnapshot> = q.values().map(QualityState::snapshot).collect();
        all.sort_by(|a, b| (&a.model.name, a.model.version).cmp(&(&b.model.name, b.model.version)));
        all
    }
}
