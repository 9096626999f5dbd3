//! Declarative feature pipelines: a [`FeatureSpec`] says what to compute,
//! [`FeatureSpec::fit`] learns statistics from training rows only, and the
//! resulting [`FittedFeatures`] transforms a whole [`Frame`](crate::data::Frame)
//! into an `ndarray` matrix or one record into a caller's buffer without
//! allocating. Training, batch scoring and serving run this same code, so
//! there is no training/serving skew. Batch code that transforms chunk after
//! chunk should reuse one matrix with [`FittedFeatures::transform_into`]:
//! a fresh multi-hundred-megabyte allocation costs more in page faults than
//! the transform itself.
//!
//! Output layout: numeric features (one output each), then one-hot blocks
//! (`column=category` for each kept category sorted by string, then
//! `column=<unknown>`), then derived features, each group in spec order.
//!
//! Numeric semantics: impute (mean / median / constant, learned on the
//! present training values) -> clip -> scale (standard with the population
//! std as scikit-learn's `StandardScaler`, or min-max; a constant column is
//! divided by 1). Missing categorical values and categories unseen at fit go
//! to the unknown bucket.

mod categorical;
mod derived;
mod fitted;
mod infer;
mod numeric;
mod spec;

#[cfg(test)]
mod proptests;
#[cfg(test)]
mod telco_tests;

pub use fitted::{FittedFeatures, UNKNOWN_CATEGORY};
pub use numeric::NumericMap;
pub use spec::{
    CategoricalFeature, Clip, DerivedFeature, FeatureSpec, Impute, NumericFeature, Scale, Target,
};
