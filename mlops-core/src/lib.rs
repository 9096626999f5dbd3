//! `mlops-core`: the foundation of the `mlops` SDK.
//!
//! - [`data`]: [`Frame`](data::Frame), a typed columnar table, and CSV reading.
//! - [`features`]: declarative feature pipelines fitted on training rows.
//! - [`seed`]: explicit seeds and the random generators derived from them.
//! - [`model`]: models in the library's own inference form (linear, tree ensembles).
//! - [`fingerprint`]: stable digests of data, specs and fitted pipelines.
//! - [`synth`]: a seeded synthetic churn data generator.
#![warn(missing_docs)]

pub mod data;
mod error;
pub mod features;
pub mod fingerprint;

pub mod model;
pub mod seed;
pub mod store;

pub use error::{Error, Result};
