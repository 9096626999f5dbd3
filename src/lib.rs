//! `mlops`: the whole machine-learning lifecycle inside a Rust service.
//!
//! This facade re-exports the member crates and a [`prelude`]:
//!
//! - [`core`] (`mlops-core`): frames, CSV and (features `arrow`, `parquet`)
//!   Arrow record batches and Parquet files, feature pipelines, seeds,
//!   fingerprints, the embedded store, tracking, registry, drift checks and
//!   inference-form models and model packages.
//! - [`train`] (`mlops-train`): learners (argmin, linfa, linfa-trees, smartcore, burn), seeded
//!   splits, evaluation metrics, the `Trainer` and hyper-parameter search.
//! - [`serve`] (`mlops-serve`): the `Predictor`, the alias-following
//!   `ModelHandle`, built-in monitoring (Prometheus, prediction log, retrain
//!   triggers) and rollouts.
//!
//! ```
//! use mlops::prelude::*;
//!
//! let csv = "tenure,plan,churn\n1,basic,Yes\n30,pro,No\n5,basic,Yes\n48,pro,No\n";
//! let frame = CsvReader::new().read(csv.as_bytes(), "inline.csv")?.frame;
//! let spec = FeatureSpec::infer(&frame, "churn", Some("Yes"))?;
//! let fitted = spec.fit(&frame)?;
//! let x = fitted.transform(&frame)?;
//! assert_eq!(x.nrows(), 4);
//! assert_eq!(fitted.target(&frame)?.to_vec(), vec![1.0, 0.0, 1.0, 0.0]);
//! # Ok::<(), mlops::Error>(())
//! ```
#![warn(missing_docs)]

/// `mlops-core`: frames, features, seeds, store, tracking, registry, drift,
/// models and packages. Its error type is [`core::Error`].
pub mod core {
    #[doc(inline)]
    pub use mlops_core::*;
}

/// `mlops-train`: learners, splits, metrics, the `Trainer` and search. Its
/// error type is [`train::Error`].
pub mod train {
    #[doc(inline)]
    pub use mlops_train::*;
}

/// `mlops-serve`: the `Predictor`, `ModelHandle`, monitoring, rollouts and
/// batch scoring. Its error type is [`serve::Error`].
pub mod serve {
    #[doc(inline)]
    pub use mlops_serve::*;
}

/// The one error type of the facade: any member crate's error, with its
/// message and [`source`](std::error::Error::source) chain unchanged
/// (`Display` and `source()` are those of the wrapped error).
///
/// `?` converts [`core::Error`], [`train::Error`] and [`serve::Error`] into
/// it, so `fn main() -> mlops::Result<()>` can call `Frame::read_csv`,
/// `Trainer::train`, `Registry::*` and `Predictor::*` alike. Match on the
/// variant to get the member crate's typed error back.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// From `mlops-core` (data, features, store, tracking, registry, drift,
    /// packages).
    #[error(transparent)]
    Core(#[from] core::Error),
    /// From `mlops-train` (learners, the `Trainer`, search).
    #[error(transparent)]
    Train(#[from] train::Error),
    /// From `mlops-serve` (predictor input, batch scoring, handles).
    #[error(transparent)]
    Serve(#[from] serve::Error),
}

/// `Result` with the facade's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The everyday API in one `use mlops::prelude::*;`.
pub mod prelude {
    pub use mlops_core::data::{Column, ColumnType, CsvReader, Frame, TableFormat, Value};
    #[cfg(feature = "parquet")]
    pub use mlops_core::data::{ParquetReader, ParquetWriter};
    pub use mlops_core::drift::{DriftOptions, DriftReport, Profile};
    pub use mlops_core::features::{FeatureSpec, FittedFeatures};
    pub use mlops_core::fingerprint::Digest;
    pub use mlops_core::model::{InferenceModel, ModelPackage, load_registered};
    pub use mlops_core::registry::{NewVersion, PromotionGate, Registry};
    pub use mlops_core::seed::Seed;
    pub use mlops_core::store::{MemoryStore, SharedStore, SledStore, Store};
    pub use mlops_core::synth::ChurnSynth;
    pub use mlops_core::tracking::{DatasetInput, Environment, RunOptions, SearchQuery, Tracker};
    pub use mlops_serve::prelude::*;
    pub use mlops_serve::{BatchConfig, BatchScorer, FrameScores};
    pub use mlops_train::metrics::BinaryMetrics;
    pub use mlops_train::prelude::{
        FittedModel, ForestEngine, ForestParams, Learner, LogisticParams, TreeParams,
        stratified_split,
    };
    #[cfg(feature = "burn")]
    pub use mlops_train::prelude::{MlpParams, MlpTask};
    pub use mlops_train::search::{ParamValues, Search};
    pub use mlops_train::trainer::{LearnerConfig, TrainOutcome, Trainer};
}

/// The README's library example, compiled and run as a doc-test.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
