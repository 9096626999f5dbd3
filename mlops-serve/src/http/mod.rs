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
//!
//! A [`ModelSlot`] serves one fixed `Predictor`, a `ModelHandle` following
//! a registry alias, or a [`Canary`](crate::rollout::Canary)
//! ([`ModelSlot::canary`]): each request is then scored by the side its
//! correlation id ([`CORRELATION_HEADER`], generated when absent) routes
//! to, and the response's `model` names the version that answered. The
//! correlation id is echoed in the response header.

mod errors;
mod protocol;
mod server;

pub use server::{
    CORRELATION_HEADER, DEFAULT_MAX_BODY_BYTES, ModelSlot, ServerConfig, router, serve,
};
