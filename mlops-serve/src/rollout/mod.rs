//! Rollouts of a candidate model next to the serving one:
//!
//! - [`Canary`]: a weighted share of requests goes to the candidate.
//! - [`Shadow`]: the challenger scores every request too; its answer is
//!   compared, never returned.
//! - [`AbTest`]: sticky assignment by a key hash, outcomes per arm, and a
//!   two-proportion z-test ([`mlops_core::drift::ztest`]).
//! - [`BlueGreen`]: two slots, one live; an atomic switch.
//!
//! Promotion and rollback go through registry aliases ([`AliasControl`]),
//! so the registry's audit log records who moved what, when and why; a
//! [`ModelHandle`](crate::ModelHandle) following the alias then swaps.

mod ab;
mod blue_green;
mod canary;
mod shadow;

pub use ab::{AbResult, AbTest};
pub use blue_green::BlueGreen;
pub use canary::Canary;
pub use shadow::{Shadow, ShadowStats};

use mlops_core::registry::{AliasTarget, Registry};

use crate::error::{Error, Result};
use crate::predictor::Predictor;

/// Which side of a rollout answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Arm {
    /// The serving model (champion, A, blue...).
    Stable,
    /// The model being rolled out (canary, challenger, B, green...).
    Candidate,
}

/// A stable hash of a routing key under a salt, mapped to `[0, 1)`: the
/// same key always lands on the same side, in every process (FNV-1a then
/// a SplitMix64 finalizer; no per-process random state).
pub fn key_unit(salt: u64, key: &str) -> f64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ salt;
    for b in key.as_bytes() {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h = (h ^ (h >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    h = (h ^ (h >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    h ^= h >> 31;
    (h >> 11) as f64 / (1u64 << 53) as f64
}

pub(crate) fn check_share(name: &'static str, share: f64) -> Result<()> {
    if (0.0..=1.0).contains(&share) {
        Ok(())
    } else {
        Err(Error::InvalidConfig {
            name,
            reason: format!("{share} is outside [0, 1]"),
        })
    }
}

/// Moves one registry alias (e.g. `churn@champion`) on promotion and back on
/// rollback; both are audited by the registry.
#[derive(Debug, Clone)]
pub struct AliasControl {
    registry: Registry,
    model: String,
    alias: String,
}

impl AliasControl {
    /// Controls `alias` of `model`.
    pub fn new(registry: Registry, model: impl Into<String>, alias: impl Into<String>) -> Self {
        Self {
            registry,
            model: model.into(),
            alias: alias.into(),
        }
    }

    /// Points the alias at `candidate`'s registry version.
    ///
    /// Errors: the candidate is another model or has no registry version
    /// ([`Error::InvalidConfig`]); the registry's errors.
    pub fn promote(&self, candidate: &Predictor, actor: &str, reason: &str) -> Result<AliasTarget> {
        let id = candidate.id();
        let version = match id.version {
            Some(v) if id.name.as_ref() == self.model => v,
            _ => {
                return Err(Error::InvalidConfig {
                    name: "candidate",
                    reason: format!(
                        "{id} is not a registered version of `{}`: cannot move {}@{}",
                        self.model, self.model, self.alias
                    ),
                });
            }
        };
        self.registry
            .set_alias(&self.model, &self.alias, version, actor, reason)?;
        tracing::info!(model = %self.model, alias = %self.alias, version, actor, "rollout promoted");
        self.registry
            .get_alias(&self.model, &self.alias)
            .map_err(Error::from)
    }

    /// Moves the alias back to its previous target (the registry's
    /// rollback, read from the audit log).
    pub fn rollback(&self, actor: &str, reason: &str) -> Result<AliasTarget> {
        let t = self
            .registry
            .rollback(&self.model, &self.alias, actor, reason)?;
        tracing::info!(model = %self.model, alias = %self.alias, version = t.version, actor, "rollout rolled back");
        Ok(t)
    }
}
