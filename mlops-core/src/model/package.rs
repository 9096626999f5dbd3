//! [`ModelPackage`]: the deployable artifact.
//!
//! A package holds everything needed to score raw records the way training
//! did: metadata and lineage, the fitted features, the model in inference
//! form, the training drift profiles, the input signature and the decision
//! threshold. On disk it is a small binary container (see [`format`](mod@format)):
//!
//! ```text
//! offset  0   6 bytes  magic b"MLPKG\0"
//! offset  6   2 bytes  format version, u16 little-endian
//! offset  8   8 bytes  payload length P, u64 little-endian
//! offset 16  32 bytes  BLAKE3 of the payload (the package digest)
//! offset 48   4 bytes  provenance length R, u32 little-endian (at most 4 KiB)
//! offset 52   4 bytes  CRC-32 of bytes 0..52 and of the provenance section
//! offset 56   R bytes  provenance: created time and run id (MessagePack)
//! offset 56+R P bytes  payload: MessagePack (rmp-serde, named fields)
//! ```
//!
//! The created time and the run id are provenance of one training
//! execution: they live outside the digested payload, so training twice
//! with the same seed and data gives the same
//! [`digest`](ModelPackage::digest). Loading checks magic, version, both
//! declared lengths against the bytes actually present (before any
//! allocation), the header checksum, the payload checksum, and then every
//! invariant of the content;
//! each failure is a typed [`Error`], never a panic.

pub mod format;
mod registered;
mod scan;

pub use registered::load_registered;

/// The artifact name of the model package in a training run
/// (`model.mlpkg`), what [`Registry::register_run`](crate::registry::Registry::register_run)
/// looks for.
pub const PACKAGE_ARTIFACT: &str = "model.mlpkg";

use std::collections::BTreeMap;
use std::path::Path;

use ndarray::{Array1, Array2};
use serde::{Deserialize, Serialize};

use super::InferenceModel;
use crate::data::{Field, Frame};
use crate::drift::Profile;
use crate::error::{Error, Result};
use crate::features::{FeatureSpec, FittedFeatures};
use crate::fingerprint::{self, Digest};

/// What the model predicts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Task {
    /// Binary classification: the model outputs the probability of
    /// `positive_label`.
    BinaryClassification {
        /// The label scored as 1.
        positive_label: String,
    },
    /// Regression: the model outputs the value.
    Regression,
    /// Multiclass classification: the model outputs one probability per
    /// class, in the order of `classes` (sorted training labels).
    Multiclass {
        /// The class labels, sorted; output `i` is the probability of
        /// `classes[i]`.
        classes: Vec<String>,
    },
}

/// Where a package came from.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Lineage {
    /// [`fingerprint::frame`] of the training frame, hex.
    pub dataset_fingerprint: String,
    /// [`fingerprint::spec`] of the feature spec, hex.
    pub feature_spec_digest: String,
    /// Crate name -> version of the crates that built the package.
    pub crate_versions: BTreeMap<String, String>,
}

impl Lineage {
    /// Lineage of a package trained on `train` with `spec`; records this
    /// `mlops-core` version (callers add their own crates to
    /// [`crate_versions`](Self::crate_versions)).
    pub fn of(train: &Frame, spec: &FeatureSpec) -> Self {
        Lineage {
            dataset_fingerprint: fingerprint::frame(train).to_string(),
            feature_spec_digest: fingerprint::spec(spec).to_string(),
            crate_versions: BTreeMap::from([(
                "mlops-core".to_owned(),
                env!("CARGO_PKG_VERSION").to_owned(),
            )]),
        }
    }
}

/// Package metadata (inside the digested payload).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PackageMeta {
    /// Registered model name, or a free name.
    pub name: String,
    /// Registry version. Usually `None`: the version is known only after the
    /// package's artifact digest is registered; serving takes name and
    /// version from the registry when it loads by reference.
    pub version: Option<u32>,
    /// The run that trained the model.
    pub run_id: Option<String>,
    /// Learner name: `logreg`, `tree`, `rf`, `linear`, `mlp`.
    pub learner: String,
    /// The training seed.
    pub seed: u64,
    /// What the model predicts.
    pub task: Task,
    /// Evaluation metrics (finite values).
    pub metrics: BTreeMap<String, f64>,
    /// Data and code lineage.
    pub lineage: Lineage,
}

/// The raw input columns a record must provide, in order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InputSignature {
    /// Name and type of each input column.
    pub fields: Vec<Field>,
}

/// The digested content of a package.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Payload {
    pub(crate) meta: PackageMeta,
    pub(crate) signature: InputSignature,
    pub(crate) features: FittedFeatures,
    pub(crate) model: InferenceModel,
    pub(crate) threshold: f64,
    pub(crate) profile: Option<Profile>,
    pub(crate) score_profile: Option<Profile>,
}

/// A validated, deployable model package.
///
/// ```
/// use mlops_core::data::CsvReader;
/// use mlops_core::features::{CategoricalFeature, FeatureSpec, NumericFeature, Target};
/// use mlops_core::model::{
///     InferenceModel, LinearModel, Lineage, Link, ModelPackage, PackageMeta, Task,
/// };
///
/// let csv = "tenure,contract,churn\n1,monthly,yes\n30,yearly,no\n5,monthly,yes\n40,yearly,no\n";
/// let frame = CsvReader::new().read(csv.as_bytes(), "train.csv")?.frame;
/// let spec = FeatureSpec::new()
///     .numeric(NumericFeature::new("tenure"))
///     .categorical(CategoricalFeature::new("contract"))
///     .target(Target::classification("churn", "yes"));
/// let features = spec.fit(&frame)?;
/// let inputs = frame.select(&["tenure", "contract"])?;
/// let model = InferenceModel::Linear(LinearModel::new(
///     vec![-1.0; features.n_outputs()],
///     0.0,
///     Link::Logistic,
/// )?);
/// let meta = PackageMeta {
///     name: "churn".into(),
///     version: None,
///     run_id: None,
///     learner: "logreg".into(),
///     seed: 42,
///     task: Task::BinaryClassification { positive_label: "yes".into() },
///     metrics: Default::default(),
///     lineage: Lineage::of(&frame, &spec),
/// };
/// let package = ModelPackage::builder(meta, features, model).threshold(0.4).build()?;
/// let bytes = package.to_bytes()?;
/// let back = ModelPackage::from_bytes(&bytes)?;
/// assert_eq!(back.digest(), package.digest());
/// assert_eq!(back.predict_frame(&inputs)?, package.predict_frame(&inputs)?);
/// # Ok::<(), mlops_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct ModelPackage {
    /// The digested content; its `meta.run_id` is always `None`.
    payload: Payload,
    /// The full metadata, run id included.
    meta: PackageMeta,
    created_unix_ms: u64,
    digest: Digest,
}

/// Builds a [`ModelPackage`]; see [`ModelPackage::builder`].
#[derive(Debug, Clone)]
#[must_use]
pub struct PackageBuilder {
    meta: PackageMeta,
    features: FittedFeatures,
    model: InferenceModel,
    threshold: f64,
    profile: Option<Profile>,
    score_profile: Option<Profile>,
    created_unix_ms: Option<u64>,
}

impl PackageBuilder {
    /// The training drift profile of the raw input columns (its columns must
    /// be input columns).
    pub fn profile(mut self, profile: Profile) -> Self {
        self.profile = Some(profile);
        self
    }

    /// The training score distribution.
    pub fn score_profile(mut self, profile: Profile) -> Self {
        self.score_profile = Some(profile);
        self
    }

    /// The decision threshold (default 0.5); in `[0, 1]` for classification.
    pub fn threshold(mut self, threshold: f64) -> Self {
        self.threshold = threshold;
        self
    }

    /// The creation time, Unix milliseconds (default: now). Kept outside
    /// the digest.
    pub fn created(mut self, unix_ms: u64) -> Self {
        self.created_unix_ms = Some(unix_ms);
        self
    }

    /// Validates and builds the package (computing its digest).
    ///
    /// Errors ([`Error::InvalidPackage`]): the model's input width differs
    /// from the features' output width, the threshold is not finite or (for
    /// classification) outside `[0, 1]`, an empty name or learner, a
    /// non-finite metric, or a profile column that is not an input column.
    pub fn build(self) -> Result<ModelPackage> {
        let signature = InputSignature {
            fields: self.features.input_columns().to_vec(),
        };
        let payload = Payload {
            meta: self.meta,
            signature,
            features: self.features,
            model: self.model,
            threshold: self.threshold,
            profile: self.profile,
            score_profile: self.score_profile,
        };
        validate(&payload)?;
        let created = self.created_unix_ms.unwrap_or_else(now_ms);
        ModelPackage::from_payload(payload, created)
    }
}

impl ModelPackage {
    /// Starts a package from its three required parts.
    pub fn builder(
        meta: PackageMeta,
        features: FittedFeatures,
        model: InferenceModel,
    ) -> PackageBuilder {
        PackageBuilder {
            meta,
            features,
            model,
            threshold: 0.5,
            profile: None,
            score_profile: None,
            created_unix_ms: None,
        }
    }

    fn from_payload(mut payload: Payload, created_unix_ms: u64) -> Result<Self> {
        let meta = payload.meta.clone();
        payload.meta.run_id = None;
        let digest = fingerprint::bytes(&format::encode_payload(&payload)?);
        Ok(ModelPackage {
            payload,
            meta,
            created_unix_ms,
            digest,
        })
    }

    /// Metadata and lineage (the run id included).
    pub fn meta(&self) -> &PackageMeta {
        &self.meta
    }

    /// The fitted feature pipeline.
    pub fn features(&self) -> &FittedFeatures {
        &self.payload.features
    }

    /// The model in inference form.
    pub fn model(&self) -> &InferenceModel {
        &self.payload.model
    }

    /// The training drift profile of the raw input columns.
    pub fn profile(&self) -> Option<&Profile> {
        self.payload.profile.as_ref()
    }

    /// The training score distribution.
    pub fn score_profile(&self) -> Option<&Profile> {
        self.payload.score_profile.as_ref()
    }

    /// The raw input columns, as the features read them.
    pub fn signature(&self) -> &InputSignature {
        &self.payload.signature
    }

    /// The decision threshold.
    pub fn threshold(&self) -> f64 {
        self.payload.threshold
    }

    /// Creation time, Unix milliseconds (outside the digest).
    pub fn created_unix_ms(&self) -> u64 {
        self.created_unix_ms
    }

    /// BLAKE3 of the payload bytes: identical for identical content,
    /// whatever the creation time.
    pub fn digest(&self) -> Digest {
        self.digest
    }

    /// Scores a frame of raw inputs: features, then the model
    /// (single-output models; see [`predict_proba_frame`](Self::predict_proba_frame)
    /// for multiclass).
    pub fn predict_frame(&self, frame: &Frame) -> Result<Array1<f64>> {
        let x = self.payload.features.transform(frame)?;
        self.payload.model.predict(&x)
    }

    /// Every model output for a frame of raw inputs: `rows x n_outputs`
    /// (class probabilities in the order of [`classes`](Self::classes) for a
    /// multiclass model, one column otherwise).
    pub fn predict_proba_frame(&self, frame: &Frame) -> Result<Array2<f64>> {
        let x = self.payload.features.transform(frame)?;
        self.payload.model.predict_proba_matrix(&x)
    }

    /// The class labels of a multiclass package, in output order.
    pub fn classes(&self) -> Option<&[String]> {
        match &self.payload.meta.task {
            Task::Multiclass { classes } => Some(classes),
            _ => None,
        }
    }

    /// The container bytes (header, provenance and payload).
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        let payload = format::encode_payload(&self.payload)?;
        format::encode_container(
            &payload,
            &format::Provenance {
                created_unix_ms: self.created_unix_ms,
                run_id: self.meta.run_id.clone(),
            },
        )
    }

    /// Reads container bytes, checking everything (see the module docs);
    /// never panics on arbitrary input.
    pub fn from_bytes(bytes: &[u8]) -> Result<ModelPackage> {
        let parts = format::split_container(bytes)?;
        scan::check(parts.payload).map_err(|e| Error::InvalidPackage {
            reason: format!("payload is not well-formed MessagePack: {e}"),
        })?;
        let payload: Payload =
            rmp_serde::from_slice(parts.payload).map_err(|e| Error::InvalidPackage {
                reason: format!("payload does not decode: {e}"),
            })?;
        if payload.meta.run_id.is_some() {
            return Err(Error::InvalidPackage {
                reason: "the digested payload carries a run id".into(),
            });
        }
        validate(&payload)?;
        let mut meta = payload.meta.clone();
        meta.run_id = parts.provenance.run_id;
        Ok(ModelPackage {
            digest: fingerprint::bytes(parts.payload),
            payload,
            meta,
            created_unix_ms: parts.provenance.created_unix_ms,
        })
    }

    /// Writes the package atomically (see [`crate::atomic_file`]): a
    /// temporary file in the same folder, synced, then renamed over `path`.
    pub fn save(&self, path: &Path) -> Result<()> {
        crate::atomic_file::write(path, &self.to_bytes()?)?;
        tracing::debug!(path = %path.display(), digest = %self.digest, "model package saved");
        Ok(())
    }

    /// Reads a package file written by [`save`](Self::save).
    pub fn load(path: &Path) -> Result<ModelPackage> {
        let bytes = std::fs::read(path).map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Self::from_bytes(&bytes)
    }
}

/// Every invariant of a package's content, checked when building and when
/// loading.
fn validate(p: &Payload) -> Result<()> {
    let bad = |reason: String| Err(Error::InvalidPackage { reason });
    if p.meta.name.trim().is_empty() {
        return bad("the package name is empty".into());
    }
    if p.meta.learner.trim().is_empty() {
        return bad("the learner name is empty".into());
    }
    if let Some((k, v)) = p.meta.metrics.iter().find(|(_, v)| !v.is_finite()) {
        return bad(format!("metric `{k}` is {v}"));
    }
    let (n_in, n_out) = (p.model.n_features(), p.features.n_outputs());
    if n_in != n_out {
        return bad(format!(
            "the model reads {n_in} features but the feature pipeline produces {n_out}"
        ));
    }
    if p.signature.fields != p.features.input_columns() {
        return bad("the input signature differs from the features' input columns".into());
    }
    if !p.threshold.is_finite() {
        return bad(format!("threshold is {}", p.threshold));
    }
    if let Task::BinaryClassification { positive_label } = &p.meta.task {
        if !(0.0..=1.0).contains(&p.threshold) {
            return bad(format!(
                "threshold {} is outside [0, 1] for classification",
                p.threshold
            ));
        }
        if positive_label.is_empty() {
            return bad("the positive label is empty".into());
        }
    }
    match &p.meta.task {
        Task::Multiclass { classes } => {
            if p.model.n_outputs() != classes.len() {
                return bad(format!(
                    "the task has {} classes but the model has {} outputs",
                    classes.len(),
                    p.model.n_outputs()
                ));
            }
            if p.features
                .classes()
                .is_some_and(|c| c != classes.as_slice())
            {
                return bad("the task's classes differ from the fitted target's".into());
            }
            if classes.len() < 2 || classes.windows(2).any(|w| w[0] >= w[1]) {
                return bad("classes must be at least 2, sorted and distinct".into());
            }
        }
        _ if p.model.n_outputs() != 1 => {
            return bad(format!(
                "a {} model has {} outputs; only a multiclass task has more than 1",
                p.meta.learner,
                p.model.n_outputs()
            ));
        }
        _ => {}
    }
    if let Some(profile) = &p.profile
        && let Some(col) = profile
            .columns
            .keys()
            .find(|c| !p.signature.fields.iter().any(|f| &f.name == *c))
    {
        return bad(format!(
            "the drift profile has column `{col}`, which is not an input column"
        ));
    }
    Ok(())
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests;
