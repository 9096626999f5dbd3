//! The error type of `mlops-train`.

/// Everything that can go wrong while splitting, fitting or scoring.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An error from `mlops-core` (model validation, data access).
    #[error(transparent)]
    Core(#[from] mlops_core::Error),

    /// A hyper-parameter or argument is out of range.
    #[error("invalid parameter `{name}`: {reason}")]
    InvalidParameter {
        /// The parameter.
        name: &'static str,
        /// Why it was rejected.
        reason: String,
    },

    /// Inputs disagree in shape or are empty.
    #[error("shape mismatch: {0}")]
    Shape(String),

    /// A target or score vector is unusable for the requested task
    /// (not 0/1, a single class, non-finite).
    #[error("invalid target: {0}")]
    InvalidTarget(String),

    /// The numerical optimiser (argmin's L-BFGS) failed.
    #[error("{learner} optimisation failed: {reason}")]
    Optimizer {
        /// The learner (`logreg`).
        learner: &'static str,
        /// argmin's message.
        reason: String,
    },

    /// linfa-linear failed to fit.
    #[error("linear regression fit failed: {0}")]
    Linear(#[from] linfa_linear::LinearError<f64>),

    /// smartcore failed to fit or predict a decision tree or forest.
    #[error("{learner} {stage} failed (tree {tree}): {source}")]
    Smartcore {
        /// The learner (`tree`, or `rf` with the smartcore engine).
        learner: &'static str,
        /// `input`, `fit` or `predict`.
        stage: &'static str,
        /// The tree index.
        tree: usize,
        /// smartcore's error.
        #[source]
        source: smartcore::error::Failed,
    },

    /// linfa-trees failed to fit a decision tree.
    #[error("{learner} fit failed (linfa-trees): {source}")]
    LinfaTree {
        /// The learner (`tree`).
        learner: &'static str,
        /// linfa's error.
        #[source]
        source: linfa::Error,
    },
    /// A per-class weight list does not have one weight per class.
    #[error(
        "class_weight has {weights} weights for {classes} classes; give one per class, in class order"
    )]
    ClassWeightCount {
        /// Classes in the target.
        classes: usize,
        /// Weights given.
        weights: usize,
    },

    // learner/mlp
    /// Iterative training failed (the loss diverged).
    #[error("{learner} training failed at epoch {epoch}: {reason}")]
    Training {
        /// The learner.
        learner: &'static str,
        /// The 1-based epoch where it failed.
        epoch: usize,
        /// What went wrong and what to try.
        reason: String,
    },

    /// A fitted library model could not be read for conversion.
    #[error("cannot convert {learner} model: {reason}")]
    Conversion {
        /// The learner.
        learner: &'static str,
        /// What went wrong.
        reason: String,
    },
}

/// `Result` with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

pub(crate) fn invalid(name: &'static str, reason: impl Into<String>) -> Error {
    Error::InvalidParameter {
        name,
        reason: reason.into(),
    }
}
