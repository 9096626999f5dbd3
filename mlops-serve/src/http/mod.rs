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
//! Protection ([`ServerConfig`]): bearer tokens ([`Auth`], optionally
//! scoped to some models) on every route but `/ping` and `/health` (and
//! `/metrics` when made public): 401 without one, 403 for a model out of
//! the token's scope. `/invocations` sheds load past
//! `max_concurrent_requests` (503 + `Retry-After`, no queue), answers 503 +
//! `Retry-After` past `request_timeout` (reading a trickled body included)
//! and 413 past `max_records`; a client that does not send its headers
//! within `header_read_timeout` is disconnected. `/health` says
//! `"degraded"` while an alias-following slot cannot refresh (its store is
//! unreachable) and keeps serving the model it holds.
//!
//! A [`ModelSlot`] serves one fixed `Predictor`, a `ModelHandle` following
//! a registry alias, or a [`Canary`](crate::rollout::Canary)
//! ([`ModelSlot::canary`]): each request is then scored by the side its
//! correlation id ([`CORRELATION_HEADER`], generated when absent) routes
//! to, and the response's `model` names the version that answered. The
//! correlation id is echoed in the response header.

mod auth;
mod config;
mod errors;
mod limits;
mod listen;
mod protocol;
mod server;

pub use auth::{Auth, MIN_TOKEN_LEN};
pub use config::{
    DEFAULT_HEADER_READ_TIMEOUT, DEFAULT_MAX_BODY_BYTES, DEFAULT_MAX_CONCURRENT_REQUESTS,
    DEFAULT_MAX_RECORDS, DEFAULT_REQUEST_TIMEOUT, ServerConfig,
};
pub use listen::serve;
pub use server::{CORRELATION_HEADER, ModelSlot, router};
