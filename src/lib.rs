//! `mlops`: the whole ML lifecycle in-process.
#![warn(missing_docs)]
pub use mlops_core as core;
