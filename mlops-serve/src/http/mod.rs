//! The MLflow-compatible scoring server (cargo feature `http`).
//!
//! `POST /invocations` takes `application/json` bodies with
//! `dataframe_split`, `dataframe_records`, `instances` or `inputs`, or
//! `text/csv` with a header row, and answers
//! `{"predictions": [...], "labels": [...], "model": "NAME/VERSION"}`.
//! `GET /ping` and `/health` answer 200 once a model is loaded, `/version`
//! gives the library and model versions, `/metrics` the Prometheus text of
//! the model's monitor. Bad input gets 400 with
//! `{"error_code": "BAD_REQUEST", "message": ...}`; a body over the limit
//! 413; any scoring route 503 while no model is loaded.

mod errors;
mod protocol;
mod server;

pub use server::{DEFAULT_MAX_BODY_BYTES, ModelSlot, ServerConfig, router, serve};
