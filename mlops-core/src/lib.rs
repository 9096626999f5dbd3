//! `mlops-core`: the foundation of the `mlops` SDK.
//!
//! - [`data`]: [`Frame`](data::Frame), a typed columnar table, and CSV reading.
//! - [`features`]: declarative feature pipelines fitted on training rows.
//! - [`drift`]: reference profiles, drift tests matching scipy and Evidently, a streaming monitor and concept-drift detectors.
//! - [`seed`]: explicit seeds and the random generators derived from them.
//! - [`fingerprint`]: stable digests of data, specs and fitted pipelines.
//! - [`synth`]: a seeded synthetic churn data generator.
#![warn(missing_docs)]

pub mod data;
mod error;

pub mod drift;
pub mod seed;
pub mod store;

pub use error::{Error, Result};
