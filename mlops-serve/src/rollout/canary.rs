//! Canary: a weighted share of requests scored by the candidate.

use std::sync::atomic::{AtomicU64, Ordering};

use super::{Arm, check_share, key_unit};
use crate::error::Result;
use crate::predictor::{CorrelationId, Predictor, Record, Score};

/// Sends `weight` of the requests to the canary, the rest to the stable
/// model. Routing hashes the routing key (the correlation id by default), so
/// a retried request takes the same side.
#[derive(Debug)]
pub struct Canary {
    stable: Predictor,
    canary: Predictor,
    /// f64 bits, so the weight can ramp up while serving.
    weight: AtomicU64,
    salt: u64,
    routed: [AtomicU64; 2],
}

impl Canary {
    /// A canary receiving `weight` (in `[0, 1]`) of the traffic; `salt`
    /// varies the split between rollouts.
    pub fn new(stable: Predictor, canary: Predictor, weight: f64, salt: u64) -> Result<Self> {
        check_share("canary weight", weight)?;
        Ok(Self {
            stable,
            canary,
            weight: AtomicU64::new(weight.to_bits()),
            salt,
            routed: [AtomicU64::new(0), AtomicU64::new(0)],
        })
    }

    /// The canary's share of traffic.
    pub fn weight(&self) -> f64 {
        f64::from_bits(self.weight.load(Ordering::Relaxed))
    }

    /// Changes the share (ramping up, or 0 to stop the canary).
    pub fn set_weight(&self, weight: f64) -> Result<()> {
        check_share("canary weight", weight)?;
        self.weight.store(weight.to_bits(), Ordering::Relaxed);
        tracing::info!(canary = %self.canary.id(), weight, "canary weight set");
        Ok(())
    }

    /// The side a routing key goes to at the current weight.
    pub fn route(&self, key: &str) -> Arm {
        if key_unit(self.salt, key) < self.weight() {
            Arm::Candidate
        } else {
            Arm::Stable
        }
    }

    /// Scores on the side the correlation id routes to.
    pub fn predict(&self, record: &Record<'_>, id: CorrelationId) -> Result<(Arm, Score)> {
        let key = id.to_string();
        self.predict_keyed(record, &key, id)
    }

    /// Scores on the side `key` routes to (e.g. a customer id, to keep a
    /// customer on one side).
    pub fn predict_keyed(
        &self,
        record: &Record<'_>,
        key: &str,
        id: CorrelationId,
    ) -> Result<(Arm, Score)> {
        let (arm, p) = self.pick(key);
        Ok((arm, p.predict_with(record, id)?))
    }

    /// Routes `key` and counts it in [`routed`](Self::routed): the side and
    /// its model. For callers that score several records of one request on
    /// one side (the HTTP server's canary slot).
    pub fn pick(&self, key: &str) -> (Arm, &Predictor) {
        let arm = self.route(key);
        self.routed[usize::from(arm == Arm::Candidate)].fetch_add(1, Ordering::Relaxed);
        match arm {
            Arm::Stable => (arm, &self.stable),
            Arm::Candidate => (arm, &self.canary),
        }
    }

    /// Requests routed so far: (stable, canary).
    pub fn routed(&self) -> (u64, u64) {
        (
            self.routed[0].load(Ordering::Relaxed),
            self.routed[1].load(Ordering::Relaxed),
        )
    }

    /// The stable model.
    pub fn stable(&self) -> &Predictor {
        &self.stable
    }

    /// The canary.
    pub fn candidate(&self) -> &Predictor {
        &self.canary
    }
}
