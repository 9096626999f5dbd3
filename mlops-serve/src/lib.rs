//! `mlops-serve`: in-process serving of `mlops` models.
//!
//! - [`Predictor`]: one loaded model scoring a [`Record`], a positional row
//!   or a [`Frame`](mlops_core::data::Frame) through its fitted features;
//!   typed input errors; every [`Score`] names the model that produced it.
//! - [`ModelHandle`]: follows a registry alias (`NAME@ALIAS`) and swaps the
//!   model atomically when the alias moves (notified or polled).
//! - [`monitor`]: built-in monitoring of every prediction (counters,
//!   latency, scores, drift), Prometheus text, the sampled prediction log,
//!   live quality and retrain triggers.
//! - [`rollout`]: canary, shadow, A/B (sticky, with a significance test) and
//!   blue-green, promoted and rolled back through registry aliases.
//! - [`batch`]: [`BatchScorer`] streams CSV or scores a `Frame` in
//!   parallel chunks, in input order, with rejects and a drift report.
//! - `http` (feature `http`, `mlops_serve::http`): the MLflow-compatible scoring server.
//!
//! Depends on `mlops-core` only: a service that scores links no learning
//! library.
#![warn(missing_docs)]

pub mod batch;
mod error;
mod handle;
#[cfg(feature = "http")]
pub mod http;
pub mod monitor;
mod predictor;
pub mod rollout;
mod unknown;

pub use batch::{BatchConfig, BatchScorer, BatchSummary};
pub use error::{Error, Result, TypeMismatch};
pub use handle::{Loader, ModelHandle, Poller, RefreshStatus};
pub use mlops_core::model::Task;
pub use monitor::{Monitor, MonitorOptions, MonitorSnapshot, PredictionLog};
pub use predictor::{
    CorrelationId, FrameScores, ModelId, Predictor, PredictorBuilder, Record, Score,
};
pub use unknown::{KNOWN_VALUES_SHOWN, UnknownCategories};

/// The serving API in one `use mlops_serve::prelude::*;`.
pub mod prelude {
    pub use crate::{
        CorrelationId, ModelHandle, ModelId, Predictor, Record, Score, UnknownCategories,
    };
}
