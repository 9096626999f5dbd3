//! Retrain triggers: events an application subscribes to, raised by the
//! concept-drift detectors over joined outcomes or by input drift.

use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::predictor::ModelId;

/// Why a retrain was triggered.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum RetrainReason {
    /// A concept-drift detector fired on the stream of prediction errors
    /// (joined outcomes).
    ConceptDrift {
        /// `adwin`, `ddm` or `page_hinkley`.
        detector: &'static str,
        /// Outcomes joined for this model so far.
        outcomes: u64,
    },
    /// A closed drift window found dataset drift in the inputs.
    InputDrift {
        /// Share of drifted columns.
        drift_share: f64,
        /// Rows in the window.
        rows: u64,
    },
}

/// A retrain event.
#[derive(Debug, Clone, PartialEq)]
pub struct RetrainTrigger {
    /// The model whose predictions or inputs degraded.
    pub model: ModelId,
    /// What was detected.
    pub reason: RetrainReason,
    /// When, ms since the Unix epoch.
    pub at_unix_ms: u64,
}

impl RetrainTrigger {
    pub(crate) fn new(model: ModelId, reason: RetrainReason) -> Self {
        let at_unix_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
        Self {
            model,
            reason,
            at_unix_ms,
        }
    }
}

/// Subscribers to [`RetrainTrigger`]s. Cloning shares the subscriber list.
///
/// ```
/// use mlops_serve::monitor::RetrainTriggers;
/// let triggers = RetrainTriggers::new();
/// let rx = triggers.subscribe();
/// assert!(rx.try_recv().is_err()); // nothing raised yet
/// ```
#[derive(Debug, Clone, Default)]
pub struct RetrainTriggers {
    subscribers: Arc<Mutex<Vec<Sender<RetrainTrigger>>>>,
}

impl RetrainTriggers {
    /// An empty subscriber list.
    pub fn new() -> Self {
        Self::default()
    }

    /// A channel receiving every trigger raised from now on. Dropping the
    /// receiver unsubscribes.
    pub fn subscribe(&self) -> Receiver<RetrainTrigger> {
        let (tx, rx) = channel();
        self.lock().push(tx);
        rx
    }

    /// Sends `trigger` to every live subscriber; returns how many got it.
    pub fn publish(&self, trigger: RetrainTrigger) -> usize {
        tracing::warn!(model = %trigger.model, reason = ?trigger.reason, "retrain triggered");
        let mut subs = self.lock();
        subs.retain(|tx| tx.send(trigger.clone()).is_ok());
        subs.len()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Sender<RetrainTrigger>>> {
        self.subscribers.lock().unwrap_or_else(|p| p.into_inner())
    }
}
