//! Blue-green: two slots, one live, switched atomically.

use std::sync::Arc;

use arc_swap::ArcSwap;

use super::AliasControl;
use crate::error::Result;
use crate::predictor::{CorrelationId, Predictor, Record, Score};

struct Slots {
    live: Predictor,
    idle: Predictor,
}

/// Two deployed versions, one serving. [`switch`](Self::switch) swaps them
/// atomically (in-flight requests finish on the version they started on);
/// switching again is the instant rollback.
pub struct BlueGreen {
    slots: ArcSwap<Slots>,
}

impl std::fmt::Debug for BlueGreen {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s = self.slots.load();
        f.debug_struct("BlueGreen")
            .field("live", &s.live.id().to_string())
            .field("idle", &s.idle.id().to_string())
            .finish()
    }
}

impl BlueGreen {
    /// `live` serves; `idle` waits (warmed, checked) for the switch.
    pub fn new(live: Predictor, idle: Predictor) -> Self {
        Self {
            slots: ArcSwap::from_pointee(Slots { live, idle }),
        }
    }

    /// The serving predictor.
    pub fn live(&self) -> Predictor {
        self.slots.load().live.clone()
    }

    /// The waiting predictor.
    pub fn idle(&self) -> Predictor {
        self.slots.load().idle.clone()
    }

    /// Replaces the idle slot (deploying the next version).
    pub fn stage(&self, next: Predictor) {
        let cur = self.slots.load();
        self.slots.store(Arc::new(Slots {
            live: cur.live.clone(),
            idle: next,
        }));
    }

    /// Makes the idle slot live and the live one idle.
    pub fn switch(&self) {
        self.slots.rcu(|s| Slots {
            live: s.idle.clone(),
            idle: s.live.clone(),
        });
        tracing::info!(live = %self.live().id(), "blue-green switched");
    }

    /// Points the alias at the idle version (audited), then switches. If
    /// the registry refuses, nothing switches and the error is returned.
    pub fn switch_and_promote(
        &self,
        control: &AliasControl,
        actor: &str,
        reason: &str,
    ) -> Result<()> {
        let next = self.idle();
        control.promote(&next, actor, reason)?;
        self.switch();
        Ok(())
    }

    /// Rolls the alias back (audited), then switches back.
    pub fn rollback(&self, control: &AliasControl, actor: &str, reason: &str) -> Result<()> {
        control.rollback(actor, reason)?;
        self.switch();
        Ok(())
    }

    /// Scores on the live slot.
    pub fn predict(&self, record: &Record<'_>, id: CorrelationId) -> Result<Score> {
        self.slots.load().live.predict_with(record, id)
    }
}
