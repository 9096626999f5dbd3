//! Loading a package through the registry.

use super::ModelPackage;
use crate::error::{Error, Result};
use crate::registry::Registry;
use crate::tracking::Tracker;

/// Loads the package a registry reference names: `NAME@ALIAS` or
/// `NAME/VERSION`.
///
/// The registry version records the training run and the artifact digest;
/// the package is that run's artifact with that digest (the tracker checks
/// the bytes against it), decoded with [`ModelPackage::from_bytes`].
///
/// Errors: the registry's ([`Error::InvalidModelRef`],
/// [`Error::ModelNotFound`], [`Error::AliasNotFound`],
/// [`Error::VersionNotFound`]), [`Error::RunNotFound`],
/// [`Error::ArtifactNotFound`] when the run has no artifact with the
/// digest, and every [`ModelPackage::from_bytes`] error.
pub fn load_registered(
    registry: &Registry,
    tracker: &Tracker,
    reference: &str,
) -> Result<ModelPackage> {
    let version = registry.resolve(reference)?;
    let run = tracker.get_run(&version.run_id)?;
    let artifact = run
        .artifacts
        .iter()
        .find(|a| a.digest == version.artifact_digest)
        .ok_or_else(|| Error::ArtifactNotFound {
            run_id: version.run_id.clone(),
            name: format!("with digest {}", version.artifact_digest),
        })?;
    let bytes = tracker.read_artifact(&version.run_id, &artifact.name)?;
    let package = ModelPackage::from_bytes(&bytes)?;
    tracing::debug!(
        reference,
        model = %version.model,
        version = version.version,
        digest = %package.digest(),
        "loaded registered model package"
    );
    Ok(package)
}
