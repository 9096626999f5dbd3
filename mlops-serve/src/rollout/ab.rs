//! A/B test: sticky assignment by key hash, outcomes per arm, and a
//! two-proportion z-test.

use std::sync::atomic::{AtomicU64, Ordering};

use mlops_core::drift::ztest::ztest_counts;

use super::{Arm, check_share, key_unit};
use crate::error::Result;
use crate::predictor::{CorrelationId, Predictor, Record, Score};

/// Outcome counts per arm and the test between them.
#[derive(Debug, Clone, PartialEq)]
pub struct AbResult {
    /// Outcomes joined for arm A (stable).
    pub trials_a: u64,
    /// Successes among them.
    pub successes_a: u64,
    /// Outcomes joined for arm B (candidate).
    pub trials_b: u64,
    /// Successes among them.
    pub successes_b: u64,
    /// Two-proportion z statistic (pooled), `NaN` without outcomes on a side.
    pub z: f64,
    /// Two-sided p-value.
    pub p_value: f64,
}

impl AbResult {
    /// Success rate of A.
    pub fn rate_a(&self) -> f64 {
        self.successes_a as f64 / self.trials_a as f64
    }

    /// Success rate of B.
    pub fn rate_b(&self) -> f64 {
        self.successes_b as f64 / self.trials_b as f64
    }

    /// True when `p_value < alpha`.
    pub fn significant(&self, alpha: f64) -> bool {
        self.p_value < alpha
    }
}

/// Assigns each key (a customer, a session) to A or B for good: the same
/// key always gets the same arm (a salted hash, stable across processes).
#[derive(Debug)]
pub struct AbTest {
    a: Predictor,
    b: Predictor,
    share_b: f64,
    salt: u64,
    /// [trials_a, successes_a, trials_b, successes_b]
    counts: [AtomicU64; 4],
}

impl AbTest {
    /// `share_b` (in `[0, 1]`) of the keys go to `b`; `salt` names the test
    /// so another test splits keys independently.
    pub fn new(a: Predictor, b: Predictor, share_b: f64, salt: u64) -> Result<Self> {
        check_share("B share", share_b)?;
        Ok(Self {
            a,
            b,
            share_b,
            salt,
            counts: Default::default(),
        })
    }

    /// The arm of `key` (B is [`Arm::Candidate`]).
    pub fn assign(&self, key: &str) -> Arm {
        if key_unit(self.salt, key) < self.share_b {
            Arm::Candidate
        } else {
            Arm::Stable
        }
    }

    /// Scores on the key's arm.
    pub fn predict(
        &self,
        record: &Record<'_>,
        key: &str,
        id: CorrelationId,
    ) -> Result<(Arm, Score)> {
        let arm = self.assign(key);
        let p = match arm {
            Arm::Stable => &self.a,
            Arm::Candidate => &self.b,
        };
        Ok((arm, p.predict_with(record, id)?))
    }

    /// Joins an outcome (success or not) for `key`, counted on its arm.
    pub fn record_outcome(&self, key: &str, success: bool) -> Arm {
        let arm = self.assign(key);
        let base = if arm == Arm::Stable { 0 } else { 2 };
        self.counts[base].fetch_add(1, Ordering::Relaxed);
        if success {
            self.counts[base + 1].fetch_add(1, Ordering::Relaxed);
        }
        arm
    }

    /// Counts and the two-proportion z-test (pooled, two-sided, as
    /// `mlops_core::drift::ztest`) of the success rates.
    pub fn result(&self) -> AbResult {
        let c: Vec<u64> = self
            .counts
            .iter()
            .map(|x| x.load(Ordering::Relaxed))
            .collect();
        let (ta, sa, tb, sb) = (c[0], c[1], c[2], c[3]);
        let (z, p_value) = if ta == 0 || tb == 0 {
            (f64::NAN, f64::NAN)
        } else {
            ztest_counts(&[sa, ta - sa], &[sb, tb - sb])
        };
        AbResult {
            trials_a: ta,
            successes_a: sa,
            trials_b: tb,
            successes_b: sb,
            z,
            p_value,
        }
    }

    /// Arm A.
    pub fn stable(&self) -> &Predictor {
        &self.a
    }

    /// Arm B.
    pub fn candidate(&self) -> &Predictor {
        &self.b
    }
}
