//! `mlops-train`: filled in by a later milestone; see ARCHITECTURE.md.
#![warn(missing_docs)]
