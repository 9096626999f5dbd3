//! `mlops-serve`: scoring with model packages.
//!
//! - [`batch`]: [`BatchScorer`](batch::BatchScorer) streams CSV or scores a
//!   `Frame` in parallel chunks, in input order, with rejects and a drift
//!   report.
#![warn(missing_docs)]

pub mod batch;
mod error;

pub use batch::{BatchConfig, BatchScorer, BatchSummary};
pub use error::{Error, Result};
