//! `mlops-train`: learners, seeded splits and evaluation metrics.
//!
//! - [`learner`]: logistic regression (argmin's L-BFGS, as linfa-logistic),
//!   linear regression (linfa), decision tree (linfa-trees in a canonical,
//!   reproducible form; smartcore for multiclass) and a random
//!   forest (our own histogram trees, or smartcore's forest with
//!   `ForestEngine::Smartcore`), histogram gradient boosting (`GbmParams`)
//!   behind the [`Learner`] /
//!   [`FittedModel`] pair, with validated parameter builders; each fitted
//!   model converts to `mlops_core::model::InferenceModel`. With the `burn`
//!   cargo feature, an MLP (`MlpParams`) trained with burn on the CPU.
//! - [`importance`]: split counts of tree models, permutation importance
//!   of any model (the trainer logs both, with the booster's split gain).
//! - [`split`]: stratified train/test, stratified k-fold and time-based
//!   splits from an explicit `Seed`.
//! - [`metrics`]: ROC AUC, average precision, log loss, Brier, thresholded
//!   counts, calibration table; RMSE, MAE, R².
//! - [`search`]: grid and seeded random hyper-parameter search with
//!   stratified k-fold cross-validation, one nested run per trial.
//! - [`trainer`]: [`Trainer`](trainer::Trainer), one call from a frame to a
//!   tracked, packaged and optionally registered model;
//!   [`LearnerConfig`](trainer::LearnerConfig) picks the learner at run time.
#![warn(missing_docs)]

mod error;
pub mod importance;
pub mod learner;
pub mod metrics;
pub mod search;
pub mod split;
pub mod trainer;

pub use error::{Error, Result};
pub use learner::{FittedModel, Learner, MulticlassLearner};

/// The everyday API in one `use`.
pub mod prelude {
    pub use crate::learner::{
        ClassWeight, FittedModel, ForestEngine, ForestParams, GbmLoss, GbmParams, Learner,
        LinearParams, LogisticParams, MulticlassLearner, SplitCriterion, TreeParams,
    };
    #[cfg(feature = "burn")]
    pub use crate::learner::{MlpParams, MlpTask};
    pub use crate::metrics::{BinaryMetrics, MulticlassMetrics, RegressionMetrics};
    pub use crate::split::{Split, stratified_k_fold, stratified_split, time_split};
    pub use crate::trainer::{LearnerConfig, TrainOutcome, Trainer};
    pub use crate::{Error, Result};
}
