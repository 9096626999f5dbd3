//! Aliases (`champion`, `challenger`, any name), model references
//! (`NAME@ALIAS`, `NAME/VERSION`) and rollback.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::audit::{AuditAction, AuditEntry, append_audit, validate_actor};
use super::model::RegisteredModel;
use super::version::ModelVersion;
use super::{ALIASES, Registry, alias_key, describe_key, model_prefix, validate_name};
use crate::error::{Error, Result};
use crate::store::{WriteBatch, codec};

/// Where an alias points now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AliasTarget {
    /// The model.
    pub model: String,
    /// The alias.
    pub alias: String,
    /// The version it points at.
    pub version: u32,
    /// When it was last moved, ms since the Unix epoch.
    pub set_at_ms: u64,
    /// Who moved it last.
    pub set_by: String,
}

impl AliasTarget {
    fn new(model: &str, alias: &str, version: u32, actor: &str, now: u64) -> Self {
        Self {
            model: model.to_owned(),
            alias: alias.to_owned(),
            version,
            set_at_ms: now,
            set_by: actor.to_owned(),
        }
    }
}

/// A reference to one model version: `NAME@ALIAS` or `NAME/VERSION`.
///
/// ```
/// use mlops_core::registry::ModelRef;
/// let r: ModelRef = "churn@champion".parse().expect("valid");
/// assert_eq!(r, ModelRef::Alias { model: "churn".into(), alias: "champion".into() });
/// let r: ModelRef = "churn/3".parse().expect("valid");
/// assert_eq!(r.to_string(), "churn/3");
/// assert!("churn".parse::<ModelRef>().is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ModelRef {
    /// The version an alias points at.
    Alias {
        /// The model.
        model: String,
        /// The alias.
        alias: String,
    },
    /// A version by number.
    Version {
        /// The model.
        model: String,
        /// The version number (from 1).
        version: u32,
    },
}

impl ModelRef {
    /// The model name.
    pub fn model(&self) -> &str {
        match self {
            Self::Alias { model, .. } | Self::Version { model, .. } => model,
        }
    }
}

impl fmt::Display for ModelRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Alias { model, alias } => write!(f, "{model}@{alias}"),
            Self::Version { model, version } => write!(f, "{model}/{version}"),
        }
    }
}

impl FromStr for ModelRef {
    type Err = Error;

    fn from_str(input: &str) -> Result<Self> {
        let bad = |reason: String| Error::InvalidModelRef {
            input: input.to_owned(),
            reason,
        };
        let name_ok = |kind: &'static str, name: &str| {
            validate_name(kind, name).map_err(|e| bad(e.to_string()))
        };
        if let Some((model, alias)) = input.split_once('@') {
            name_ok("model", model)?;
            name_ok("alias", alias)?;
            Ok(Self::Alias {
                model: model.to_owned(),
                alias: alias.to_owned(),
            })
        } else if let Some((model, version)) = input.split_once('/') {
            name_ok("model", model)?;
            let version: u32 = version
                .parse()
                .ok()
                .filter(|v| *v >= 1)
                .ok_or_else(|| bad(format!("version `{version}` is not a number from 1")))?;
            Ok(Self::Version {
                model: model.to_owned(),
                version,
            })
        } else {
            Err(bad("expected NAME@ALIAS or NAME/VERSION".into()))
        }
    }
}

impl Registry {
    /// Points `alias` of `model` at `version` (creating the alias if needed)
    /// and records the move in the audit log. Setting an alias to the
    /// version it already points at changes nothing and writes nothing.
    pub fn set_alias(
        &self,
        model: &str,
        alias: &str,
        version: u32,
        actor: &str,
        reason: &str,
    ) -> Result<AliasTarget> {
        validate_name("alias", alias)?;
        validate_actor(actor)?;
        self.mutate(model, |m, batch, now| {
            self.get_version(model, version)?;
            let current = self.find_alias(model, alias)?;
            if let Some(cur) = current.as_ref().filter(|c| c.version == version) {
                return Ok(cur.clone());
            }
            let mut entry = AuditEntry::draft(actor, AuditAction::SetAlias, reason);
            entry.from = current.map(|c| c.version);
            entry.to = Some(version);
            stage_alias_move(batch, m, alias, entry, now)?;
            Ok(AliasTarget::new(model, alias, version, actor, now))
        })
    }

    /// Removes `alias` of `model`, recording the removal in the audit log.
    pub fn delete_alias(&self, model: &str, alias: &str, actor: &str, reason: &str) -> Result<()> {
        validate_actor(actor)?;
        self.mutate(model, |m, batch, now| {
            let current = self.get_alias(model, alias)?;
            let mut entry = AuditEntry::draft(actor, AuditAction::DeleteAlias, reason);
            entry.from = Some(current.version);
            stage_alias_move(batch, m, alias, entry, now)?;
            Ok(())
        })
    }

    /// Where `alias` of `model` points. Errors: [`Error::AliasNotFound`].
    pub fn get_alias(&self, model: &str, alias: &str) -> Result<AliasTarget> {
        self.find_alias(model, alias)?.ok_or_else(|| {
            if let Err(e) = self.get_model(model) {
                return e;
            }
            Error::AliasNotFound {
                model: model.to_owned(),
                alias: alias.to_owned(),
            }
        })
    }

    /// Every alias of `model`, by name.
    pub fn list_aliases(&self, model: &str) -> Result<Vec<AliasTarget>> {
        self.get_model(model)?;
        self.scan_records(ALIASES, &model_prefix(model), |k| describe_key(ALIASES, k))
    }

    /// The version a reference names: `NAME@ALIAS` or `NAME/VERSION`.
    pub fn resolve(&self, reference: &str) -> Result<ModelVersion> {
        self.resolve_ref(&reference.parse()?)
    }

    /// The version a parsed [`ModelRef`] names.
    pub fn resolve_ref(&self, reference: &ModelRef) -> Result<ModelVersion> {
        match reference {
            ModelRef::Alias { model, alias } => {
                let target = self.get_alias(model, alias)?;
                self.get_version(model, target.version)
            }
            ModelRef::Version { model, version } => self.get_version(model, *version),
        }
    }

    /// Moves `alias` back to the target it had before its latest move,
    /// read from the audit log. Rollbacks stack: after `1 -> 2 -> 3`, two
    /// rollbacks give 2, then 1. Errors: [`Error::NothingToRollBack`] when
    /// there is no earlier target (the alias was created by its first move,
    /// or every move is already rolled back); [`Error::VersionNotFound`]
    /// when the earlier target has since been deleted.
    pub fn rollback(
        &self,
        model: &str,
        alias: &str,
        actor: &str,
        reason: &str,
    ) -> Result<AliasTarget> {
        validate_actor(actor)?;
        let target = self.mutate(model, |m, batch, now| {
            let history = self.alias_history(model, alias)?;
            // Walk back from the newest entry; each rollback cancels the newest
            // forward move not yet cancelled.
            let mut undone = 0usize;
            let mut previous = None;
            for e in history.iter().rev() {
                if e.action == AuditAction::Rollback {
                    undone += 1;
                } else if e.action.moved_alias() {
                    if undone == 0 {
                        previous = Some(e.from);
                        break;
                    }
                    undone -= 1;
                }
            }
            let nothing = || Error::NothingToRollBack {
                model: model.to_owned(),
                alias: alias.to_owned(),
            };
            let target = previous.flatten().ok_or_else(nothing)?;
            self.get_version(model, target)?;
            let current = self.find_alias(model, alias)?;
            let mut entry = AuditEntry::draft(actor, AuditAction::Rollback, reason);
            entry.from = current.map(|c| c.version);
            entry.to = Some(target);
            stage_alias_move(batch, m, alias, entry, now)?;
            Ok(AliasTarget::new(model, alias, target, actor, now))
        })?;
        tracing::info!(
            model,
            alias,
            to = target.version,
            actor,
            "alias rolled back"
        );
        Ok(target)
    }

    pub(crate) fn find_alias(&self, model: &str, alias: &str) -> Result<Option<AliasTarget>> {
        let key = alias_key(model, alias);
        self.get_record(ALIASES, &key, || describe_key(ALIASES, &key))
    }
}

/// Adds the alias change described by `entry` (to `entry.to`, or removal
/// for `None`) and its audit entry to `batch`; `Registry::mutate` commits
/// them with the model record.
pub(crate) fn stage_alias_move(
    batch: &mut WriteBatch,
    m: &mut RegisteredModel,
    alias: &str,
    mut entry: AuditEntry,
    now: u64,
) -> Result<()> {
    entry.alias = Some(alias.to_owned());
    let key = alias_key(&m.name, alias);
    match entry.to {
        Some(version) => {
            let target = AliasTarget::new(&m.name, alias, version, &entry.actor, now);
            batch.insert(ALIASES, key, codec::encode(&target)?);
        }
        None => batch.remove(ALIASES, key),
    }
    let entry = append_audit(batch, m, now, entry)?;
    tracing::info!(
        model = %m.name, alias, from = ?entry.from, to = ?entry.to,
        actor = %entry.actor, action = ?entry.action, "alias move staged"
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{backends, logged};
    use super::*;

    fn setup(reg: &Registry, versions: u32) {
        reg.create_model("churn", "").expect("create");
        for i in 1..=versions {
            reg.register_version("churn", logged(reg, &format!("run{i}")))
                .expect("register");
        }
    }

    #[test]
    fn model_refs_parse_and_name_bad_input() {
        assert_eq!(
            "churn/12".parse::<ModelRef>().expect("ok"),
            ModelRef::Version {
                model: "churn".into(),
                version: 12
            }
        );
        let r: ModelRef = "fraud.eu@challenger".parse().expect("ok");
        assert_eq!(r.model(), "fraud.eu");
        assert_eq!(r.to_string(), "fraud.eu@challenger");
        for bad in [
            "churn", "churn/0", "churn/x", "churn/-1", "@champ", "churn@", "a b@c", "m@a/1", "",
        ] {
            let err = bad.parse::<ModelRef>().expect_err(bad);
            match &err {
                Error::InvalidModelRef { input, .. } => assert_eq!(input, bad),
                other => panic!("{bad}: wrong error {other}"),
            }
            assert!(err.to_string().contains(&format!("`{bad}`")), "{err}");
        }
    }

    #[test]
    fn aliases_resolve_and_every_move_is_audited() {
        for (_dir, reg) in backends() {
            setup(&reg, 3);
            let t = reg
                .set_alias("churn", "champion", 1, "ana", "first")
                .expect("set");
            assert_eq!((t.version, t.set_by.as_str()), (1, "ana"));
            reg.set_alias("churn", "champion", 2, "bo", "better auc")
                .expect("move");
            reg.set_alias("churn", "champion", 2, "bo", "again")
                .expect("no-op");
            reg.set_alias("churn", "challenger", 3, "bo", "try")
                .expect("set");
            assert_eq!(reg.resolve("churn@champion").expect("resolve").version, 2);
            let v3 = reg.get_version("churn", 3).expect("v3");
            assert_eq!(reg.resolve("churn/3").expect("resolve"), v3);
            let names: Vec<String> = reg
                .list_aliases("churn")
                .expect("list")
                .into_iter()
                .map(|a| a.alias)
                .collect();
            assert_eq!(names, ["challenger", "champion"]);

            let hist = reg.alias_history("churn", "champion").expect("history");
            let moves: Vec<(Option<u32>, Option<u32>, &str, &str)> = hist
                .iter()
                .map(|e| (e.from, e.to, e.actor.as_str(), e.reason.as_str()))
                .collect();
            assert_eq!(
                moves,
                [
                    (None, Some(1), "ana", "first"),
                    (Some(1), Some(2), "bo", "better auc")
                ]
            );
            assert!(hist[0].at_ms < hist[1].at_ms);
            let log = reg.audit_log("churn").expect("log");
            let seqs: Vec<u64> = log.iter().map(|e| e.seq).collect();
            assert_eq!(seqs, (1..=log.len() as u64).collect::<Vec<_>>());

            let err = reg
                .set_alias("churn", "champion", 9, "ana", "x")
                .expect_err("no v9");
            assert!(
                matches!(err, Error::VersionNotFound { version: 9, .. }),
                "{err}"
            );
            assert!(matches!(
                reg.set_alias("churn", "bad alias", 1, "ana", ""),
                Err(Error::InvalidName { kind: "alias", .. })
            ));
            assert!(matches!(
                reg.set_alias("churn", "champion", 1, " ", ""),
                Err(Error::InvalidParameter { name: "actor", .. })
            ));
            let err = reg.resolve("churn@nope").expect_err("no alias");
            assert_eq!(err.to_string(), "model `churn` has no alias `nope`");
            assert!(matches!(
                reg.resolve("ghost@x"),
                Err(Error::ModelNotFound { .. })
            ));
        }
    }

    #[test]
    fn aliased_versions_cannot_be_deleted() {
        for (_dir, reg) in backends() {
            setup(&reg, 2);
            reg.set_alias("churn", "champion", 2, "ana", "")
                .expect("set");
            reg.set_alias("churn", "shadow", 2, "ana", "").expect("set");
            let err = reg
                .delete_version("churn", 2, "ana", "cleanup")
                .expect_err("in use");
            assert!(
                matches!(&err, Error::VersionInUse { version: 2, aliases, .. } if aliases.len() == 2)
            );
            assert_eq!(
                err.to_string(),
                "model `churn` version 2 is the target of aliases `champion`, `shadow`; move the alias first"
            );
            reg.delete_alias("churn", "shadow", "ana", "done")
                .expect("delete alias");
            let err = reg
                .delete_version("churn", 2, "ana", "cleanup")
                .expect_err("in use");
            assert_eq!(
                err.to_string(),
                "model `churn` version 2 is the target of alias `champion`; move the alias first"
            );
            reg.set_alias("churn", "champion", 1, "ana", "")
                .expect("move");
            reg.delete_version("churn", 2, "ana", "cleanup")
                .expect("now free");
            assert!(reg.get_version("churn", 2).is_err());
        }
    }

    #[test]
    fn rollback_walks_back_through_history() {
        for (_dir, reg) in backends() {
            setup(&reg, 4);
            let err = reg
                .rollback("churn", "champion", "ana", "")
                .expect_err("no history");
            assert!(matches!(err, Error::NothingToRollBack { .. }), "{err}");
            assert_eq!(
                err.to_string(),
                "alias `champion` of model `churn` has no earlier target to roll back to"
            );
            for v in 1..=3 {
                reg.set_alias("churn", "champion", v, "ci", "")
                    .expect("set");
            }
            let rb = |reason: &str| {
                reg.rollback("churn", "champion", "ana", reason)
                    .map(|t| t.version)
            };
            assert_eq!(rb("r1").expect("rollback"), 2);
            assert_eq!(rb("r2").expect("rollback"), 1);
            assert!(matches!(rb("r3"), Err(Error::NothingToRollBack { .. })));
            // A new move after rollbacks: rolling back returns to 1 again.
            reg.set_alias("churn", "champion", 4, "ci", "")
                .expect("set");
            assert_eq!(rb("r4").expect("rollback"), 1);
            assert_eq!(reg.get_alias("churn", "champion").expect("get").version, 1);
            let last = reg.audit_log("churn").expect("log");
            let last = last.last().expect("entry");
            assert_eq!(
                (last.action, last.from, last.to, last.reason.as_str()),
                (AuditAction::Rollback, Some(4), Some(1), "r4")
            );

            // Rolling back after a delete restores the deleted alias.
            reg.delete_alias("churn", "champion", "ana", "retire")
                .expect("delete");
            assert_eq!(rb("undo delete").expect("rollback"), 1);

            // A deleted previous target is a typed error, not a dangling alias.
            reg.set_alias("churn", "c2", 3, "ci", "").expect("set");
            reg.set_alias("churn", "c2", 4, "ci", "").expect("set");
            reg.delete_version("churn", 3, "ana", "")
                .expect("delete v3");
            let err = reg
                .rollback("churn", "c2", "ana", "")
                .expect_err("target gone");
            assert!(
                matches!(err, Error::VersionNotFound { version: 3, .. }),
                "{err}"
            );
            assert_eq!(reg.get_alias("churn", "c2").expect("get").version, 4);
        }
    }
}
