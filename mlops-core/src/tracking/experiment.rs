//! Experiments: named groups of runs, created on first use.

use serde::{Deserialize, Serialize};

use super::keys;
use crate::error::Result;
use crate::store::{Store, codec};

/// A named group of runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Experiment {
    /// 32 hex characters, random.
    pub id: String,
    /// Unique name.
    pub name: String,
    /// Milliseconds since the Unix epoch.
    pub created_time: i64,
}

/// Reads an experiment by name.
pub(crate) fn get(store: &dyn Store, name: &str) -> Result<Option<Experiment>> {
    store
        .get(keys::TREE, &keys::EXPERIMENTS.key(name.as_bytes()))?
        .map(|b| codec::decode(&b, &format!("experiment `{name}`")))
        .transpose()
}

/// Gets or creates an experiment. Concurrent callers (threads or tracker
/// clones) creating the same name agree on one record: creation is a
/// compare-and-swap from absent, and the loser reads the winner's record.
pub(crate) fn get_or_create(store: &dyn Store, name: &str) -> Result<Experiment> {
    if let Some(e) = get(store, name)? {
        return Ok(e);
    }
    let candidate = Experiment {
        id: super::new_id(),
        name: name.to_owned(),
        created_time: super::now_ms(),
    };
    let bytes = codec::encode(&candidate)?;
    if store.compare_and_swap(
        keys::TREE,
        &keys::EXPERIMENTS.key(name.as_bytes()),
        None,
        Some(&bytes),
    )? {
        tracing::debug!(experiment = name, id = %candidate.id, "created experiment");
        return Ok(candidate);
    }
    get(store, name)?.ok_or_else(|| {
        crate::Error::Backend(format!(
            "experiment `{name}` was neither created nor found after a lost compare-and-swap"
        ))
    })
}

/// All experiments, by name.
pub(crate) fn list(store: &dyn Store) -> Result<Vec<Experiment>> {
    store
        .scan_prefix(keys::TREE, &keys::EXPERIMENTS.key(b""))?
        .map(|e| {
            let (k, v) = e?;
            codec::decode(
                &v,
                &format!(
                    "experiment `{}`",
                    String::from_utf8_lossy(k.get(1..).unwrap_or_default())
                ),
            )
        })
        .collect()
}
