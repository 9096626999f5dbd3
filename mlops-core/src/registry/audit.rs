//! The append-only audit log: every alias move, rollback, gate decision and
//! version change of a model, in order.

use serde::{Deserialize, Serialize};

use super::model::RegisteredModel;
use super::{AUDIT, Registry, audit_key, describe_key, model_prefix};
use crate::error::{Error, Result};
use crate::store::{WriteBatch, codec};

/// What an audit entry records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum AuditAction {
    /// A version was registered (`to` is its number).
    RegisterVersion,
    /// A version was deleted (`from` is its number).
    DeleteVersion,
    /// An alias was set or moved by hand.
    SetAlias,
    /// An alias was removed (`to` is `None`).
    DeleteAlias,
    /// An alias was moved back to its previous target.
    Rollback,
    /// A promotion gate compared a candidate (`to`) with the alias holder
    /// (`from`); the alias moved only when `promoted`.
    GateDecision {
        /// Whether the candidate passed and the alias moved.
        promoted: bool,
    },
}

impl AuditAction {
    /// True when the entry moved an alias forward (what a rollback undoes).
    pub fn moved_alias(&self) -> bool {
        matches!(
            self,
            Self::SetAlias | Self::DeleteAlias | Self::GateDecision { promoted: true }
        )
    }
}

/// One audit log entry. Entries are numbered 1, 2, 3... per model and never
/// rewritten.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// The model.
    pub model: String,
    /// Position in the model's log, from 1.
    pub seq: u64,
    /// When, ms since the Unix epoch.
    pub at_ms: u64,
    /// Who (a person, a CI job, a service).
    pub actor: String,
    /// What happened.
    pub action: AuditAction,
    /// The alias concerned, if any.
    pub alias: Option<String>,
    /// Version before (the alias's old target, the deleted version).
    pub from: Option<u32>,
    /// Version after (the alias's new target, the registered version).
    pub to: Option<u32>,
    /// Why, as given by the actor (or the gate's verdict).
    pub reason: String,
    /// Extra facts (for a gate decision: each metric comparison).
    pub details: String,
}

impl AuditEntry {
    /// A draft entry for `append_audit` to number and stamp.
    pub(crate) fn draft(actor: &str, action: AuditAction, reason: &str) -> Self {
        Self {
            model: String::new(),
            seq: 0,
            at_ms: 0,
            actor: actor.to_owned(),
            action,
            alias: None,
            from: None,
            to: None,
            reason: reason.to_owned(),
            details: String::new(),
        }
    }
}

/// Rejects an empty actor: an audit entry must say who.
pub(crate) fn validate_actor(actor: &str) -> Result<()> {
    if actor.trim().is_empty() {
        return Err(Error::InvalidParameter {
            name: "actor",
            reason: "empty; say who makes the change".into(),
        });
    }
    Ok(())
}

/// Numbers `entry` after the model's last entry, stamps it and adds it to
/// the batch; the caller writes the model record (with the new count) in the
/// same batch.
pub(crate) fn append_audit(
    batch: &mut WriteBatch,
    model: &mut RegisteredModel,
    now_ms: u64,
    mut entry: AuditEntry,
) -> Result<AuditEntry> {
    model.audit_len += 1;
    entry.model = model.name.clone();
    entry.seq = model.audit_len;
    entry.at_ms = now_ms;
    batch.insert(
        AUDIT,
        audit_key(&model.name, entry.seq),
        codec::encode(&entry)?,
    );
    Ok(entry)
}

impl Registry {
    /// The model's whole audit log, oldest first.
    pub fn audit_log(&self, model: &str) -> Result<Vec<AuditEntry>> {
        self.get_model(model)?;
        self.scan_records(AUDIT, &model_prefix(model), |k| describe_key(AUDIT, k))
    }

    /// The entries of the model's log that concern `alias`, oldest first.
    pub fn alias_history(&self, model: &str, alias: &str) -> Result<Vec<AuditEntry>> {
        Ok(self
            .audit_log(model)?
            .into_iter()
            .filter(|e| e.alias.as_deref() == Some(alias))
            .collect())
    }
}
