//! `mlops-serve`: filled in by a later milestone; see ARCHITECTURE.md.
#![warn(missing_docs)]
