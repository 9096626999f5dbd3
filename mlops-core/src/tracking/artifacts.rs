//! Content-addressed artifacts.
//!
//! Bytes are stored once per BLAKE3 digest (key space `b`), raw (no
//! envelope: the digest is the integrity check, and an envelope would copy
//! large payloads once more). A run maps artifact names to digests; reading
//! recomputes the digest and returns [`Error::Corrupt`] on mismatch.

use serde::{Deserialize, Serialize};

use super::keys;
use crate::error::{Error, Result};
use crate::store::{Store, codec};

/// An artifact of a run: a name pointing at content by digest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArtifactRef {
    /// Name within the run (`model.mlpkg`, `report.html`).
    pub name: String,
    /// BLAKE3 digest of the content, 64 lowercase hex characters.
    pub digest: String,
    /// Length in bytes.
    pub size: u64,
}

/// The hex BLAKE3 digest of `bytes`.
pub(crate) fn digest_hex(bytes: &[u8]) -> String {
    blake3::hash(bytes).to_hex().to_string()
}

/// Reads and verifies the content of an artifact reference.
pub(crate) fn read_blob(store: &dyn Store, run_id: &str, art: &ArtifactRef) -> Result<Vec<u8>> {
    let what = || format!("artifact `{}` of run {run_id}", art.name);
    let hash = blake3::Hash::from_hex(&art.digest).map_err(|e| Error::Corrupt {
        what: what(),
        reason: format!("stored digest is not valid hex: {e}"),
    })?;
    let bytes = store
        .get(keys::TREE, &keys::BLOBS.key(hash.as_bytes()))?
        .ok_or_else(|| Error::Corrupt {
            what: what(),
            reason: format!("content {} is missing from the store", art.digest),
        })?;
    let actual = blake3::hash(&bytes);
    if actual != hash {
        return Err(Error::Corrupt {
            what: what(),
            reason: format!(
                "digest mismatch: expected {}, content hashes to {actual}",
                art.digest
            ),
        });
    }
    Ok(bytes)
}

/// Reads the reference of one artifact.
pub(crate) fn get_ref(store: &dyn Store, run_id: &str, name: &str) -> Result<Option<ArtifactRef>> {
    store
        .get(keys::TREE, &keys::run_item(keys::ARTIFACTS, run_id, name))?
        .map(|b| codec::decode(&b, &format!("artifact `{name}` of run {run_id}")))
        .transpose()
}

/// All artifact references of a run, by name.
pub(crate) fn list(store: &dyn Store, run_id: &str) -> Result<Vec<ArtifactRef>> {
    store
        .scan_prefix(keys::TREE, &keys::ARTIFACTS.key(run_id.as_bytes()))?
        .map(|e| {
            let (_, v) = e?;
            codec::decode(&v, &format!("artifact of run {run_id}"))
        })
        .collect()
}
