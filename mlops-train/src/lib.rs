//! `mlops-train`: learners, seeded splits and evaluation metrics.
//!
//! - [`learner`]: logistic regression and linear regression (linfa),
//!   decision tree and random forest (smartcore) behind the [`Learner`] /
//!   [`FittedModel`] pair, with validated parameter builders; each fitted
//!   model converts to `mlops_core::model::InferenceModel`. With the `burn`
//!   cargo feature, an MLP (`MlpParams`) trained with burn on the CPU.
//! - [`split`]: stratified train/test, stratified k-fold and time-based
//!   splits from an explicit `Seed`.
//! - [`metrics`]: ROC AUC, average precision, log loss, Brier, thresholded
//!   counts, calibration table; RMSE, MAE, R².
#![warn(missing_docs)]

mod error;
pub mod learner;
pub mod metrics;
pub mod split;

pub use error::{Error, Result};
pub use learner::{FittedModel, Learner};

/// The everyday API in one `use`.
pub mod prelude {
    pub use crate::learner::{
        ClassWeight, FittedModel, ForestParams, Learner, LinearParams, LogisticParams,
        SplitCriterion, TreeParams,
    };
    #[cfg(feature = "burn")]
    pub use crate::learner::{MlpParams, MlpTask};
    pub use crate::metrics::{BinaryMetrics, RegressionMetrics};
    pub use crate::split::{Split, stratified_k_fold, stratified_split, time_split};
    pub use crate::{Error, Result};
}
