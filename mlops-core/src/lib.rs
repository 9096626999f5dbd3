//! `mlops-core`: the foundation of the `mlops` SDK.
//!
//! - [`data`]: [`Frame`](data::Frame), a typed columnar table, and CSV reading.
//! - [`features`]: declarative feature pipelines fitted on training rows.
//! - [`filter`]: the run search language: filters, order-by, index hints.
//! - [`drift`]: reference profiles, drift tests matching scipy and Evidently, a streaming monitor and concept-drift detectors.
//! - [`seed`]: explicit seeds and the random generators derived from them.
//! - [`model`]: models in the library's own inference form (linear, tree ensembles).
//! - [`fingerprint`]: stable digests of data, specs and fitted pipelines.
//! - [`tracking`]: experiments, runs, metric histories, artifacts and search.
//! - [`synth`]: a seeded synthetic churn data generator.
//! - [`store`]: the key-value [`Store`](store::Store) trait, [`SledStore`](store::SledStore) and the record codec.
//! - [`registry`]: registered models, versions, aliases with an audit log, promotion gates.
//! - [`report`]: self-contained HTML reports of runs and drift checks.
//! - [`atomic_file`]: files that appear whole or not at all (packages, reports, scored outputs).
#![warn(missing_docs)]

pub mod atomic_file;
pub mod data;
mod error;
pub mod features;
pub mod filter;
pub mod fingerprint;
mod huge_pages;

pub mod drift;
pub mod model;
pub mod registry;
pub mod report;
pub mod seed;
pub mod store;
pub mod synth;
pub mod tracking;

pub use error::{Error, Result};
