//! Registration from the tracking store: [`Registry::register_run`] and the
//! run/artifact check every registration goes through.

use super::{ModelVersion, NewVersion, Registry, validate_name};
use crate::error::{Error, Result};
use crate::model::{ModelPackage, PACKAGE_ARTIFACT, package::format};
use crate::tracking::{RunInfo, Tracker};

impl Registry {
    /// Registers the model package of training run `run_id` as the next
    /// version of `model`, in one call (MLflow's
    /// `register_model("runs:/<id>/model", name)`):
    ///
    /// - creates `model` if it is not registered yet;
    /// - finds the run's package artifact ([`PACKAGE_ARTIFACT`],
    ///   `model.mlpkg`) in `tracker` and verifies it before writing anything
    ///   (the artifact's BLAKE3 digest, then
    ///   [`ModelPackage::from_bytes`]: format version, checksums, content);
    /// - copies the run's latest metrics, `source` (`runs:/RUN_ID/model.mlpkg`)
    ///   and the tags `learner` and `data_source` (the run's training input)
    ///   into the version, which records both the artifact and the package
    ///   digest;
    /// - writes the version and its audit entry in one guarded batch.
    ///
    /// A package identical to the latest version's is registered as a new
    /// version with [`ModelVersion::duplicate_of`] set.
    ///
    /// Errors: [`Error::InvalidName`], [`Error::RegistrationRejected`] (no
    /// such run, or a run without a package), the tracker's and every
    /// [`ModelPackage::from_bytes`] error.
    pub fn register_run(
        &self,
        tracker: &Tracker,
        model: &str,
        run_id: &str,
    ) -> Result<ModelVersion> {
        validate_name("model", model)?;
        let run = get_run(tracker, model, run_id, "")?;
        let Some(artifact) = run.artifacts.iter().find(|a| a.name == PACKAGE_ARTIFACT) else {
            return Err(Error::RegistrationRejected {
                model: model.to_owned(),
                run_id: run_id.to_owned(),
                digest: String::new(),
                problem: format!(
                    "run {run_id} has no model package artifact `{PACKAGE_ARTIFACT}` ({})",
                    list_artifacts(&run)
                ),
            });
        };
        let bytes = tracker.read_artifact(run_id, &artifact.name)?;
        let package = ModelPackage::from_bytes(&bytes)?;
        let mut new = NewVersion::new(run_id, &artifact.digest)
            .metrics(
                run.summary
                    .metrics
                    .iter()
                    .map(|(k, m)| (k.clone(), m.value)),
            )
            .source(format!("runs:/{run_id}/{PACKAGE_ARTIFACT}"))
            .tag("learner", package.meta().learner.clone());
        if let Some(train) = run.inputs.iter().find(|i| i.name == "train") {
            new = new.tag("data_source", train.source.clone());
        }
        new.validate()?;
        self.ensure_model(model)?;
        self.register_checked(
            model,
            &new,
            artifact.digest.clone(),
            Some(package.digest().to_string()),
        )
    }

    /// Creates `model` unless it exists (a concurrent creator is fine).
    pub(crate) fn ensure_model(&self, model: &str) -> Result<()> {
        match self.get_model(model) {
            Ok(_) => Ok(()),
            Err(Error::ModelNotFound { .. }) => match self.create_model(model, "") {
                Ok(_) | Err(Error::ModelExists { .. }) => Ok(()),
                Err(e) => Err(e),
            },
            Err(e) => Err(e),
        }
    }
}

/// The run, or [`Error::RegistrationRejected`] when it does not exist.
fn get_run(tracker: &Tracker, model: &str, run_id: &str, digest: &str) -> Result<RunInfo> {
    match tracker.get_run(run_id) {
        Err(Error::RunNotFound { .. }) => Err(Error::RegistrationRejected {
            model: model.to_owned(),
            run_id: run_id.to_owned(),
            digest: digest.to_owned(),
            problem: format!("run {run_id} does not exist in the tracking store"),
        }),
        other => other,
    }
}

fn list_artifacts(run: &RunInfo) -> String {
    if run.artifacts.is_empty() {
        return "it has no artifacts".to_owned();
    }
    let listed: Vec<String> = run
        .artifacts
        .iter()
        .map(|a| format!("`{}` {}", a.name, a.digest))
        .collect();
    format!("its artifacts: {}", listed.join(", "))
}

/// Checks that run `run_id` exists in the registry's store and has an
/// artifact with digest `digest` (lower-case hex); returns the package
/// digest when that artifact is a well-formed model package.
pub(super) fn check_run_artifact(
    registry: &Registry,
    model: &str,
    run_id: &str,
    digest: &str,
) -> Result<Option<String>> {
    let tracker = Tracker::new(registry.store().clone());
    let run = get_run(&tracker, model, run_id, digest)?;
    let Some(artifact) = run.artifacts.iter().find(|a| a.digest == digest) else {
        let hint = match run.summary.params.get("package_digest") {
            Some(p) if p.eq_ignore_ascii_case(digest) => format!(
                "; {digest} is the run's package digest (`ModelPackage::digest`, the payload hash), not an artifact digest"
            ),
            _ => String::new(),
        };
        return Err(Error::RegistrationRejected {
            model: model.to_owned(),
            run_id: run_id.to_owned(),
            digest: digest.to_owned(),
            problem: format!(
                "run {run_id} has no artifact with digest {digest} ({}){hint}",
                list_artifacts(&run)
            ),
        });
    };
    let bytes = tracker.read_artifact(run_id, &artifact.name)?;
    Ok(format::split_container(&bytes)
        .ok()
        .map(|parts| blake3::hash(parts.payload).to_hex().to_string()))
}
