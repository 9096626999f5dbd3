//! Model versions: numbered 1, 2, 3... per model, each pointing at a run and
//! an artifact digest.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::audit::{AuditAction, AuditEntry, append_audit, validate_actor};
use super::{ALIASES, AliasTarget, Registry, VERSIONS, describe_key, model_prefix, version_key};
use crate::error::{Error, Result};
use crate::store::codec;

/// What the caller supplies to register a version.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NewVersion {
    run_id: String,
    artifact_digest: String,
    metrics: BTreeMap<String, f64>,
    description: String,
    source: Option<String>,
    tags: BTreeMap<String, String>,
}

impl NewVersion {
    /// A version produced by run `run_id`, whose artifact (the model package)
    /// has the hex digest `artifact_digest`.
    pub fn new(run_id: impl Into<String>, artifact_digest: impl Into<String>) -> Self {
        Self {
            run_id: run_id.into(),
            artifact_digest: artifact_digest.into(),
            ..Self::default()
        }
    }

    /// Adds an evaluation metric (what promotion gates compare).
    pub fn metric(mut self, name: impl Into<String>, value: f64) -> Self {
        self.metrics.insert(name.into(), value);
        self
    }

    /// Adds several metrics.
    pub fn metrics<I, K>(mut self, metrics: I) -> Self
    where
        I: IntoIterator<Item = (K, f64)>,
        K: Into<String>,
    {
        self.metrics
            .extend(metrics.into_iter().map(|(k, v)| (k.into(), v)));
        self
    }

    /// Free text.
    pub fn description(mut self, text: impl Into<String>) -> Self {
        self.description = text.into();
        self
    }

    /// Where the artifact came from (a path or URI).
    pub fn source(mut self, source: impl Into<String>) -> Self {
        self.source = Some(source.into());
        self
    }

    /// Adds a tag.
    pub fn tag(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.tags.insert(key.into(), value.into());
        self
    }

    pub(super) fn validate(&self) -> Result<()> {
        if self.run_id.trim().is_empty() {
            return Err(Error::InvalidParameter {
                name: "run_id",
                reason: "empty".into(),
            });
        }
        let d = &self.artifact_digest;
        if d.is_empty() || !d.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(Error::InvalidParameter {
                name: "artifact_digest",
                reason: format!("`{d}` is not a hex digest"),
            });
        }
        if let Some((name, v)) = self.metrics.iter().find(|(_, v)| !v.is_finite()) {
            return Err(Error::InvalidParameter {
                name: "metrics",
                reason: format!("metric `{name}` is {v}; metrics must be finite"),
            });
        }
        for key in self.tags.keys() {
            super::validate_name("tag", key)?;
        }
        Ok(())
    }
}

/// A registered version of a model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelVersion {
    /// The model name.
    pub model: String,
    /// 1, 2, 3... in registration order.
    pub version: u32,
    /// The run that produced it.
    pub run_id: String,
    /// The artifact digest: BLAKE3 of the stored package bytes (lower-case
    /// hex), one of the run's artifacts; not the package digest (see the
    /// [registry docs](crate::registry#two-digests) and
    /// [`package_digest`](Self::package_digest)).
    pub artifact_digest: String,
    /// The package digest ([`ModelPackage::digest`](crate::model::ModelPackage::digest),
    /// payload only) when the artifact is a model package; `None` for
    /// versions registered before it was recorded or for other artifacts.
    #[serde(default)]
    pub package_digest: Option<String>,
    /// Set when this version's package is identical to the model's previous
    /// latest version (same artifact or package digest): the number of that
    /// version. Registration still creates a new version (its own number,
    /// metrics and audit entry); this says it changes no model.
    #[serde(default)]
    pub duplicate_of: Option<u32>,
    /// Evaluation metrics.
    pub metrics: BTreeMap<String, f64>,
    /// Free text.
    pub description: String,
    /// Where the artifact came from.
    pub source: Option<String>,
    /// Tags.
    pub tags: BTreeMap<String, String>,
    /// Registration time, ms since the Unix epoch.
    pub created_at_ms: u64,
}

impl Registry {
    /// Registers the next version of `model`. The number comes from the
    /// model record and is committed with the version in one guarded batch
    /// (see the [module docs](super)), so concurrent callers get distinct
    /// numbers and no number is ever reused.
    ///
    /// Before writing, it checks that the run exists in this registry's
    /// store and that the digest is one of its artifacts
    /// ([`Error::RegistrationRejected`] names the run, the digest given and
    /// the field wanted otherwise). A package identical to the latest
    /// version's still gets a new version, with
    /// [`duplicate_of`](ModelVersion::duplicate_of) set. To register a
    /// training run by its id alone, use [`Registry::register_run`].
    pub fn register_version(&self, model: &str, new: NewVersion) -> Result<ModelVersion> {
        new.validate()?;
        let digest = new.artifact_digest.to_ascii_lowercase();
        let package_digest = super::run::check_run_artifact(self, model, &new.run_id, &digest)?;
        self.register_checked(model, &new, digest, package_digest)
    }

    /// Writes a version whose run and artifact were checked.
    pub(super) fn register_checked(
        &self,
        model: &str,
        new: &NewVersion,
        digest: String,
        package_digest: Option<String>,
    ) -> Result<ModelVersion> {
        let record = self.mutate(model, |m, batch, now| {
            let version = m.latest_version.checked_add(1).ok_or_else(|| {
                Error::Backend(format!("model `{model}` has run out of version numbers"))
            })?;
            let duplicate_of = match m.latest_version {
                0 => None,
                latest => {
                    let key = version_key(model, latest);
                    self.get_record::<ModelVersion>(VERSIONS, &key, || {
                        describe_key(VERSIONS, &key)
                    })?
                    .filter(|prev| {
                        prev.artifact_digest == digest
                            || (package_digest.is_some() && prev.package_digest == package_digest)
                    })
                    .map(|prev| prev.version)
                }
            };
            let record = ModelVersion {
                model: model.to_owned(),
                version,
                run_id: new.run_id.clone(),
                artifact_digest: digest.clone(),
                package_digest: package_digest.clone(),
                duplicate_of,
                metrics: new.metrics.clone(),
                description: new.description.clone(),
                source: new.source.clone(),
                tags: new.tags.clone(),
                created_at_ms: now,
            };
            m.latest_version = version;
            batch.insert(
                VERSIONS,
                version_key(model, version),
                codec::encode(&record)?,
            );
            let reason = match duplicate_of {
                Some(n) => format!("run {} (same package as version {n})", record.run_id),
                None => format!("run {}", record.run_id),
            };
            let mut entry = AuditEntry::draft("registry", AuditAction::RegisterVersion, &reason);
            entry.to = Some(version);
            append_audit(batch, m, now, entry)?;
            Ok(record)
        })?;
        tracing::info!(model, version = record.version, run_id = %record.run_id, duplicate_of = record.duplicate_of, "model version registered");
        Ok(record)
    }

    /// Version `version` of `model`.
    pub fn get_version(&self, model: &str, version: u32) -> Result<ModelVersion> {
        let key = version_key(model, version);
        match self.get_record(VERSIONS, &key, || describe_key(VERSIONS, &key))? {
            Some(v) => Ok(v),
            None => {
                // Say which is missing: the model or just the version.
                self.get_model(model)?;
                Err(Error::VersionNotFound {
                    model: model.to_owned(),
                    version,
                })
            }
        }
    }

    /// Every version of `model`, oldest first.
    pub fn list_versions(&self, model: &str) -> Result<Vec<ModelVersion>> {
        self.get_model(model)?;
        self.scan_records(VERSIONS, &model_prefix(model), |k| {
            describe_key(VERSIONS, k)
        })
    }

    /// Deletes a version. Refused with [`Error::VersionInUse`] while any
    /// alias points at it. The number is not reused.
    pub fn delete_version(
        &self,
        model: &str,
        version: u32,
        actor: &str,
        reason: &str,
    ) -> Result<()> {
        validate_actor(actor)?;
        self.mutate(model, |m, batch, now| {
            self.get_version(model, version)?;
            // Read inside the guarded mutation: an alias set concurrently
            // rewrites the model record, so this check cannot go stale.
            let holders: Vec<String> = self
                .scan_records::<AliasTarget>(ALIASES, &model_prefix(model), |k| {
                    describe_key(ALIASES, k)
                })?
                .into_iter()
                .filter(|a| a.version == version)
                .map(|a| a.alias)
                .collect();
            if !holders.is_empty() {
                return Err(Error::VersionInUse {
                    model: model.to_owned(),
                    version,
                    aliases: holders,
                });
            }
            batch.remove(VERSIONS, version_key(model, version));
            let mut entry = AuditEntry::draft(actor, AuditAction::DeleteVersion, reason);
            entry.from = Some(version);
            append_audit(batch, m, now, entry)?;
            Ok(())
        })?;
        tracing::info!(model, version, actor, "model version deleted");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{backends, logged};
    use super::*;

    fn nv(reg: &Registry, run: &str) -> NewVersion {
        logged(reg, run).metric("auc", 0.8)
    }

    #[test]
    fn versions_are_numbered_per_model_and_never_reused() {
        for (_dir, reg) in backends() {
            reg.create_model("a", "").expect("create");
            reg.create_model("b", "").expect("create");
            let r1 = logged(&reg, "r1");
            let v1 = reg
                .register_version(
                    "a",
                    NewVersion::new(&r1.run_id, r1.artifact_digest.to_ascii_uppercase())
                        .metric("auc", 0.9)
                        .description("first")
                        .source("file:///m.mlpkg")
                        .tag("stage", "dev"),
                )
                .expect("register");
            assert_eq!(v1.version, 1);
            assert_eq!(v1.artifact_digest, r1.artifact_digest);
            assert_eq!(
                reg.register_version("a", nv(&reg, "r2"))
                    .expect("v2")
                    .version,
                2
            );
            assert_eq!(
                reg.register_version("b", nv(&reg, "r3"))
                    .expect("b1")
                    .version,
                1
            );
            assert_eq!(reg.get_version("a", 1).expect("get"), v1);

            reg.delete_version("a", 2, "ana", "bad build")
                .expect("delete");
            let err = reg.get_version("a", 2).expect_err("deleted");
            assert_eq!(err.to_string(), "model `a` has no version 2");
            assert_eq!(
                reg.register_version("a", nv(&reg, "r4"))
                    .expect("v3")
                    .version,
                3
            );
            let listed: Vec<u32> = reg
                .list_versions("a")
                .expect("list")
                .iter()
                .map(|v| v.version)
                .collect();
            assert_eq!(listed, [1, 3]);
            assert!(matches!(
                reg.get_version("zz", 1),
                Err(Error::ModelNotFound { .. })
            ));
            assert!(matches!(
                reg.register_version("zz", nv(&reg, "r")),
                Err(Error::ModelNotFound { .. })
            ));
        }
    }

    #[test]
    fn bad_version_input_is_rejected() {
        for (_dir, reg) in backends() {
            reg.create_model("a", "").expect("create");
            for (bad, field) in [
                (NewVersion::new("", "00"), "run_id"),
                (NewVersion::new("r", "xyz"), "artifact_digest"),
                (NewVersion::new("r", ""), "artifact_digest"),
                (
                    NewVersion::new("r", "00").metric("auc", f64::NAN),
                    "metrics",
                ),
            ] {
                let err = reg.register_version("a", bad).expect_err(field);
                assert!(
                    matches!(err, Error::InvalidParameter { name, .. } if name == field),
                    "{err}"
                );
            }
            assert_eq!(reg.get_model("a").expect("get").latest_version, 0);
        }
    }

    #[test]
    fn concurrent_registrations_get_distinct_numbers() {
        for (_dir, reg) in backends() {
            reg.create_model("m", "").expect("create");
            // Half the threads use a clone, half a separate Registry on the
            // same store: both must serialize.
            let handles: Vec<_> = (0..4)
                .map(|t| {
                    let r = if t % 2 == 0 {
                        reg.clone()
                    } else {
                        Registry::new(reg.store().clone())
                    };
                    std::thread::spawn(move || {
                        (0..10)
                            .map(|i| {
                                r.register_version("m", nv(&r, &format!("t{t}-{i}")))
                                    .expect("register")
                                    .version
                            })
                            .collect::<Vec<u32>>()
                    })
                })
                .collect();
            let mut all: Vec<u32> = handles
                .into_iter()
                .flat_map(|h| h.join().expect("join"))
                .collect();
            all.sort_unstable();
            assert_eq!(all, (1..=40).collect::<Vec<u32>>());
            assert_eq!(reg.list_versions("m").expect("list").len(), 40);
            assert_eq!(reg.get_model("m").expect("get").latest_version, 40);
        }
    }

    #[test]
    fn independent_registries_over_one_sled_store_never_collide() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = crate::store::SledStore::open(dir.path()).expect("open");
        Registry::new(std::sync::Arc::new(store.clone()))
            .create_model("m", "")
            .expect("create");
        // Each thread wraps its own clone in its own Arc: nothing in-process
        // is shared but sled itself, so only the guarded batch serializes.
        let handles: Vec<_> = (0..4)
            .map(|t| {
                let reg = Registry::new(std::sync::Arc::new(store.clone()));
                std::thread::spawn(move || {
                    for i in 0..10 {
                        let v = reg
                            .register_version("m", nv(&reg, &format!("t{t}-{i}")))
                            .expect("register");
                        reg.set_alias("m", "latest", v.version, "ci", "")
                            .expect("alias");
                    }
                })
            })
            .collect();
        for h in handles {
            h.join().expect("join");
        }
        let reg = Registry::new(std::sync::Arc::new(store));
        let versions: Vec<u32> = reg
            .list_versions("m")
            .expect("list")
            .iter()
            .map(|v| v.version)
            .collect();
        assert_eq!(versions, (1..=40).collect::<Vec<u32>>());
        let log = reg.audit_log("m").expect("log");
        let seqs: Vec<u64> = log.iter().map(|e| e.seq).collect();
        assert_eq!(seqs, (1..=80).collect::<Vec<u64>>());
        // The alias history is a chain: each move starts where the last ended.
        let moves = reg.alias_history("m", "latest").expect("history");
        for pair in moves.windows(2) {
            assert_eq!(pair[1].from, pair[0].to);
        }
        assert_eq!(
            moves.last().and_then(|e| e.to),
            Some(reg.get_alias("m", "latest").expect("alias").version)
        );
    }
}
