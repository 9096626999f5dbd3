//! The model registry: registered models, numbered versions, aliases with an
//! append-only audit log, rollback and promotion gates.
//!
//! ```
//! use std::sync::Arc;
//! use mlops_core::registry::{NewVersion, PromotionGate, Registry};
//! use mlops_core::store::MemoryStore;
//! use mlops_core::tracking::{RunOptions, Tracker};
//! # fn main() -> mlops_core::Result<()> {
//! let store = Arc::new(MemoryStore::new());
//! let (registry, tracker) = (Registry::new(store.clone()), Tracker::new(store));
//! // A version points at a run and one of its artifacts (checked when
//! // registering); `Registry::register_run` does this for a training run.
//! let exp = tracker.experiment("churn")?;
//! let mut runs = Vec::new();
//! for bytes in [b"model one", b"model two"] {
//!     let run = tracker.start_run(&exp, RunOptions::default())?;
//!     let digest = run.log_artifact("model.bin", bytes)?;
//!     runs.push((run.id().to_owned(), digest));
//!     run.finish()?;
//! }
//! registry.create_model("churn", "monthly churn classifier")?;
//! let (run, digest) = &runs[0];
//! let v1 = registry.register_version(
//!     "churn",
//!     NewVersion::new(run, digest).metric("roc_auc", 0.81),
//! )?;
//! registry.set_alias("churn", "champion", v1.version, "ana", "first model")?;
//! let (run, digest) = &runs[1];
//! let v2 = registry.register_version(
//!     "churn",
//!     NewVersion::new(run, digest).metric("roc_auc", 0.84),
//! )?;
//! let gate = PromotionGate::builder().higher_is_better("roc_auc", 0.01).build()?;
//! let decision = registry.promote("churn", "champion", v2.version, &gate, "ci")?;
//! assert!(decision.promoted);
//! assert_eq!(registry.resolve("churn@champion")?.version, 2);
//! registry.rollback("churn", "champion", "ana", "latency regression")?;
//! assert_eq!(registry.resolve("churn@champion")?.version, 1);
//! # Ok(()) }
//! ```
//!
//! # Two digests
//!
//! Two digests describe one model package, and they are not the same hash:
//!
//! - the **artifact digest** (`ModelVersion::artifact_digest`,
//!   `TrainOutcome::artifact_digest`, `ArtifactRef::digest`): BLAKE3 of the
//!   package bytes as stored in the run, provenance (training time, run id)
//!   included, so it differs for every training run. This is what a version
//!   points at and what registration checks.
//! - the **package digest** (`ModelVersion::package_digest`,
//!   [`ModelPackage::digest`](crate::model::ModelPackage::digest), the run's
//!   `package_digest` param, printed by the examples): BLAKE3 of the payload
//!   only, so the same seed and data give the same package digest on any
//!   machine. Registration uses it to report duplicates.
//!
//! # Key layout
//!
//! Model, alias and tag names never contain a `0x00` byte (see
//! [`validate_name`]), so `NAME 0x00` is a prefix that no other model shares.
//!
//! | tree | key | value |
//! |---|---|---|
//! | `registry.models` | `NAME` | [`RegisteredModel`] (with the version and audit counters) |
//! | `registry.versions` | `NAME 0x00 VERSION(u32 BE)` | [`ModelVersion`] |
//! | `registry.aliases` | `NAME 0x00 ALIAS` | [`AliasTarget`] |
//! | `registry.audit` | `NAME 0x00 SEQ(u64 BE)` | [`AuditEntry`] |
//!
//! Big-endian numbers make key order equal numeric order. Audit keys only
//! grow: an entry is written once and never rewritten or removed.
//!
//! # Consistency and acknowledgement
//!
//! Every change to a model rewrites its model record (each change bumps the
//! audit counter), so the model record is the version stamp of everything
//! under the model. A mutation reads it, prepares all its writes (model
//! record, version, alias, audit entry) and commits them in one
//! [`Store::apply_if`](crate::store::Store::apply_if) guarded by the record
//! it read; if anyone changed the model meanwhile, it re-reads and retries.
//! So concurrent writers (threads, clones, separate `Registry` values, or
//! processes on a shared backend) never get the same version number, an alias
//! move and its audit entry are never separated, and numbers are never
//! reused, even after a crash. Each mutation flushes before returning: a call
//! that returned `Ok` is acknowledged.

mod alias;
mod audit;
mod gate;
mod model;
mod run;
mod version;

pub use alias::{AliasTarget, ModelRef};
pub use audit::{AuditAction, AuditEntry};
pub use gate::{
    Direction, GateDecision, GateEvidence, MetricComparison, PromotionGate, PromotionGateBuilder,
};
pub use model::RegisteredModel;
pub use version::{ModelVersion, NewVersion};

use std::sync::Arc;

use crate::error::{Error, Result};
use crate::store::{SharedStore, WriteBatch, codec};

pub(crate) const MODELS: &str = "registry.models";
pub(crate) const VERSIONS: &str = "registry.versions";
pub(crate) const ALIASES: &str = "registry.aliases";
pub(crate) const AUDIT: &str = "registry.audit";

/// Longest model, alias or tag name.
pub const MAX_NAME_LEN: usize = 128;

/// Checks a model, alias or tag name: 1 to [`MAX_NAME_LEN`] characters from
/// `A-Z a-z 0-9 _ - .`, starting with a letter or digit. This keeps names
/// safe in keys (no `0x00`), in [`ModelRef`] text (no `@` or `/`) and in file
/// names. `kind` names the thing in the error (`model`, `alias`, `tag`).
pub fn validate_name(kind: &'static str, name: &str) -> Result<()> {
    let bad = |reason: &str| Error::InvalidName {
        kind,
        name: name.to_owned(),
        reason: reason.to_owned(),
    };
    let Some(first) = name.chars().next() else {
        return Err(bad("empty"));
    };
    if name.len() > MAX_NAME_LEN {
        return Err(bad(&format!("longer than {MAX_NAME_LEN} bytes")));
    }
    if !first.is_ascii_alphanumeric() {
        return Err(bad("must start with a letter or digit"));
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.')))
    {
        return Err(bad(&format!(
            "character {c:?} not allowed; use letters, digits, `_`, `-`, `.`"
        )));
    }
    Ok(())
}

/// Retries of one mutation under write conflicts before giving up.
const MAX_ATTEMPTS: usize = 10_000;

/// A source of wall-clock time in milliseconds since the Unix epoch.
pub type Clock = Arc<dyn Fn() -> u64 + Send + Sync>;

fn system_clock() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

/// The model registry over a [`SharedStore`]. Cheap to clone.
#[derive(Clone)]
pub struct Registry {
    store: SharedStore,
    clock: Clock,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry")
            .field("store", &self.store)
            .finish_non_exhaustive()
    }
}

impl Registry {
    /// A registry over `store`, with the system clock.
    pub fn new(store: SharedStore) -> Self {
        Self::with_clock(store, Arc::new(system_clock))
    }

    /// A registry over `store` that reads time (ms since the Unix epoch) from
    /// `clock`; tests use a fixed or stepping clock.
    pub fn with_clock(store: SharedStore, clock: Clock) -> Self {
        Self { store, clock }
    }

    /// The store this registry writes to.
    pub fn store(&self) -> &SharedStore {
        &self.store
    }

    pub(crate) fn now_ms(&self) -> u64 {
        (self.clock)()
    }

    /// Runs `change` on the current model record and commits the model
    /// record and every write `change` added, guarded by the record it read;
    /// on a conflict it re-reads and runs `change` again. A `change` that
    /// adds no write commits nothing.
    pub(crate) fn mutate<T>(
        &self,
        model: &str,
        mut change: impl FnMut(&mut RegisteredModel, &mut WriteBatch, u64) -> Result<T>,
    ) -> Result<T> {
        for _ in 0..MAX_ATTEMPTS {
            let Some(old) = self.store.get(MODELS, model.as_bytes())? else {
                return Err(Error::ModelNotFound {
                    model: model.to_owned(),
                });
            };
            let mut m: RegisteredModel =
                codec::decode(&old, &describe_key(MODELS, model.as_bytes()))?;
            let now = self.now_ms();
            let mut batch = WriteBatch::new();
            let out = change(&mut m, &mut batch, now)?;
            if batch.is_empty() {
                return Ok(out);
            }
            m.updated_at_ms = now;
            model::put_model(&mut batch, &m)?;
            if self
                .store
                .apply_if(MODELS, model.as_bytes(), Some(&old), batch)?
            {
                self.store.flush()?;
                return Ok(out);
            }
            tracing::debug!(model, "registry write conflict, retrying");
        }
        Err(Error::Backend(format!(
            "model `{model}`: gave up after {MAX_ATTEMPTS} conflicting concurrent writes"
        )))
    }

    pub(crate) fn get_record<T: serde::de::DeserializeOwned>(
        &self,
        tree: &str,
        key: &[u8],
        what: impl FnOnce() -> String,
    ) -> Result<Option<T>> {
        match self.store.get(tree, key)? {
            Some(bytes) => codec::decode(&bytes, &what()).map(Some),
            None => Ok(None),
        }
    }

    /// Decodes every record under `prefix` in `tree`, in key order.
    pub(crate) fn scan_records<T: serde::de::DeserializeOwned>(
        &self,
        tree: &str,
        prefix: &[u8],
        what: impl Fn(&[u8]) -> String,
    ) -> Result<Vec<T>> {
        self.store
            .scan_prefix(tree, prefix)?
            .map(|entry| {
                let (key, value) = entry?;
                codec::decode(&value, &what(&key))
            })
            .collect()
    }
}

/// `NAME 0x00`: the prefix of every per-model key.
pub(crate) fn model_prefix(model: &str) -> Vec<u8> {
    let mut k = Vec::with_capacity(model.len() + 1);
    k.extend_from_slice(model.as_bytes());
    k.push(0);
    k
}

pub(crate) fn version_key(model: &str, version: u32) -> Vec<u8> {
    let mut k = model_prefix(model);
    k.extend_from_slice(&version.to_be_bytes());
    k
}

pub(crate) fn alias_key(model: &str, alias: &str) -> Vec<u8> {
    let mut k = model_prefix(model);
    k.extend_from_slice(alias.as_bytes());
    k
}

pub(crate) fn audit_key(model: &str, seq: u64) -> Vec<u8> {
    let mut k = model_prefix(model);
    k.extend_from_slice(&seq.to_be_bytes());
    k
}

/// Human name of the record under `key` in `tree`, for error messages.
pub(crate) fn describe_key(tree: &str, key: &[u8]) -> String {
    let (model, rest) = match key.iter().position(|&b| b == 0) {
        Some(i) => (&key[..i], &key[i + 1..]),
        None => (key, &[][..]),
    };
    let model = String::from_utf8_lossy(model);
    match tree {
        VERSIONS => match <[u8; 4]>::try_from(rest) {
            Ok(b) => format!("registry version {model}/{}", u32::from_be_bytes(b)),
            Err(_) => format!("registry version record of model `{model}`"),
        },
        ALIASES => format!("registry alias {model}@{}", String::from_utf8_lossy(rest)),
        AUDIT => match <[u8; 8]>::try_from(rest) {
            Ok(b) => format!("registry audit entry {model}#{}", u64::from_be_bytes(b)),
            Err(_) => format!("registry audit entry of model `{model}`"),
        },
        _ => format!("registry model `{model}`"),
    }
}

#[cfg(test)]
pub(crate) mod test_support {
    use super::*;
    use crate::store::{MemoryStore, SledStore};
    use crate::tracking::{RunOptions, Tracker};
    use std::sync::atomic::{AtomicU64, Ordering};

    /// Logs a finished run in the registry's store with one artifact
    /// holding `label`'s bytes; the version that points at it.
    pub(crate) fn logged(reg: &Registry, label: &str) -> NewVersion {
        let tracker = Tracker::new(reg.store().clone());
        let exp = tracker.experiment("registry-tests").expect("experiment");
        let run = tracker.start_run(&exp, RunOptions::default()).expect("run");
        let digest = run
            .log_artifact("artifact.bin", label.as_bytes())
            .expect("artifact");
        let id = run.id().to_owned();
        run.finish().expect("finish");
        NewVersion::new(id, digest)
    }

    /// A registry over each backend, with a clock that steps 1 ms per read.
    /// The temp dir must outlive the registry.
    pub(crate) fn backends() -> Vec<(Option<tempfile::TempDir>, Registry)> {
        let dir = tempfile::tempdir().expect("temp dir");
        let sled: SharedStore = Arc::new(SledStore::open(dir.path()).expect("open sled"));
        let memory: SharedStore = Arc::new(MemoryStore::new());
        [(None, memory), (Some(dir), sled)]
            .into_iter()
            .map(|(dir, store)| {
                let t = Arc::new(AtomicU64::new(1_700_000_000_000));
                let clock: Clock = Arc::new(move || t.fetch_add(1, Ordering::SeqCst));
                (dir, Registry::with_clock(store, clock))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_validated() {
        for good in ["churn", "Churn-v2", "fraud_model.eu", "9lives"] {
            validate_name("model", good).expect(good);
        }
        for bad in ["", "-x", "a b", "a@b", "a/b", "a\0b", "é"] {
            let err = validate_name("model", bad).expect_err(bad);
            assert!(
                matches!(err, Error::InvalidName { kind: "model", .. }),
                "{err}"
            );
        }
        let long = "a".repeat(MAX_NAME_LEN + 1);
        assert!(validate_name("alias", &long).is_err());
    }

    #[test]
    fn keys_sort_numerically_and_do_not_share_prefixes() {
        assert!(version_key("m", 2) < version_key("m", 10));
        assert!(audit_key("m", 255) < audit_key("m", 256));
        assert!(!version_key("churn2", 1).starts_with(&model_prefix("churn")));
        assert_eq!(
            describe_key(VERSIONS, &version_key("churn", 3)),
            "registry version churn/3"
        );
        assert_eq!(
            describe_key(AUDIT, &audit_key("churn", 7)),
            "registry audit entry churn#7"
        );
    }
}

#[cfg(test)]
mod corruption_tests;
