//! The axum application: routes, the model slot, limits and graceful
//! shutdown.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use arc_swap::ArcSwapOption;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::serve::ListenerExt;
use serde::Serialize;

use super::errors::ApiError;
use super::protocol::{self, Rows};
use crate::{ModelHandle, Predictor, Record};

/// Default request body limit: 16 MiB.
pub const DEFAULT_MAX_BODY_BYTES: usize = 16 << 20;

/// Where the served model comes from.
#[derive(Debug)]
enum Source {
    /// A fixed model.
    Predictor(Arc<Predictor>),
    /// A registry alias followed by a [`ModelHandle`].
    Handle(ModelHandle),
}

impl Source {
    fn current(&self) -> Arc<Predictor> {
        match self {
            Source::Predictor(p) => Arc::clone(p),
            Source::Handle(h) => h.current(),
        }
    }
}

/// The model slot the server reads on every request; empty until a model
/// is loaded (requests then get 503).
#[derive(Debug, Clone, Default)]
pub struct ModelSlot {
    inner: Arc<ArcSwapOption<Source>>,
}

impl ModelSlot {
    /// An empty slot.
    pub fn new() -> Self {
        Self::default()
    }

    /// Serves `predictor` from now on.
    pub fn load(&self, predictor: Predictor) {
        self.inner
            .store(Some(Arc::new(Source::Predictor(Arc::new(predictor)))));
    }

    /// Serves whatever `handle`'s alias points at from now on.
    pub fn follow(&self, handle: ModelHandle) {
        self.inner.store(Some(Arc::new(Source::Handle(handle))));
    }

    /// Stops serving (requests get 503).
    pub fn unload(&self) {
        self.inner.store(None);
    }

    /// The model serving now, if any.
    pub fn current(&self) -> Option<Arc<Predictor>> {
        self.inner.load().as_deref().map(Source::current)
    }

    fn prometheus_text(&self) -> Option<String> {
        self.inner.load().as_deref().map(|s| match s {
            Source::Handle(h) => h.prometheus_text(),
            Source::Predictor(p) => {
                let mut page = crate::monitor::PrometheusText::new();
                page.monitor(&p.monitor().snapshot());
                page.render()
            }
        })
    }
}

/// Settings of the scoring server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServerConfig {
    /// Largest accepted request body; larger ones get 413.
    pub max_body_bytes: usize,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
        }
    }
}

/// The MLflow-compatible routes over `slot`:
/// `POST /invocations`, `GET /ping`, `/health`, `/version`, `/metrics`.
pub fn router(slot: ModelSlot, config: ServerConfig) -> Router {
    Router::new()
        .route("/invocations", post(invocations))
        .route("/ping", get(ping))
        .route("/health", get(health))
        .route("/version", get(version))
        .route("/metrics", get(metrics))
        .layer(DefaultBodyLimit::max(config.max_body_bytes))
        .with_state(slot)
}

/// Serves `slot` on `listener` until `shutdown` completes, then finishes the
/// requests in flight and returns.
pub async fn serve(
    listener: tokio::net::TcpListener,
    slot: ModelSlot,
    config: ServerConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let addr: Option<SocketAddr> = listener.local_addr().ok();
    tracing::info!(?addr, "scoring server listening");
    // Responses are small and written once; no Nagle wait behind an
    // unacknowledged segment on a keep-alive connection.
    let listener = listener.tap_io(|tcp| {
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!(error = %e, "TCP_NODELAY not set");
        }
    });
    axum::serve(listener, router(slot, config))
        .with_graceful_shutdown(shutdown)
        .await?;
    tracing::info!("scoring server stopped");
    Ok(())
}

#[derive(Serialize)]
struct Predictions {
    /// Positive-class probabilities, or predicted values.
    predictions: Vec<f64>,
    /// `1`/`0` per row for a classifier; absent for a regressor.
    #[serde(skip_serializing_if = "Option::is_none")]
    labels: Option<Vec<u8>>,
    /// `NAME/VERSION` of the model that answered.
    model: String,
}

async fn invocations(State(slot): State<ModelSlot>, headers: HeaderMap, body: Bytes) -> Response {
    let Some(predictor) = slot.current() else {
        return ApiError::no_model().into_response();
    };
    // Scoring is CPU work of microseconds per row; small requests stay on
    // the async worker, large ones move off it.
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/json")
        .to_owned();
    if body.len() > 64 << 10 {
        match tokio::task::spawn_blocking(move || score_body(&predictor, &content_type, &body))
            .await
        {
            Ok(r) => r,
            Err(e) => ApiError::internal(format!("scoring task failed: {e}")).into_response(),
        }
    } else {
        score_body(&predictor, &content_type, &body)
    }
}

fn score_body(predictor: &Predictor, content_type: &str, body: &[u8]) -> Response {
    let mime = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    let result = match mime.as_str() {
        "application/json" | "" => match serde_json::from_slice::<serde_json::Value>(body) {
            Ok(json) => match protocol::from_json(&json, predictor.signature()) {
                Ok(rows) => score_rows(predictor, &rows),
                Err(e) => Err(ApiError::bad_request(e.0)),
            },
            Err(e) => Err(ApiError::bad_request(format!("invalid JSON: {e}"))),
        },
        "text/csv" | "application/csv" => match protocol::read_csv(body) {
            Ok((header, records)) => {
                match protocol::from_csv(&records, &header, predictor.signature()) {
                    Ok(rows) => score_rows(predictor, &rows),
                    Err(e) => Err(ApiError::bad_request(e.0)),
                }
            }
            Err(e) => Err(ApiError::bad_request(e.0)),
        },
        other => Err(ApiError::unsupported(other)),
    };
    match result {
        Ok(p) => axum::Json(p).into_response(),
        Err(e) => e.into_response(),
    }
}

fn score_rows(predictor: &Predictor, rows: &Rows<'_>) -> Result<Predictions, ApiError> {
    let mut predictions = Vec::with_capacity(rows.rows.len());
    let mut labels = Vec::with_capacity(rows.rows.len());
    for (i, row) in rows.rows.iter().enumerate() {
        let record: Record<'_> = rows
            .columns
            .iter()
            .copied()
            .zip(row.iter().copied())
            .collect();
        let score = predictor.predict(&record).map_err(|e| {
            let mut err = ApiError::from_scoring(&e);
            if rows.rows.len() > 1 {
                err = err.with_row(i);
            }
            err
        })?;
        predictions.push(score.value);
        if let Some(l) = score.label {
            labels.push(u8::from(l));
        }
    }
    Ok(Predictions {
        labels: (labels.len() == predictions.len() && !predictions.is_empty()).then_some(labels),
        predictions,
        model: predictor.id().to_string(),
    })
}

async fn ping(State(slot): State<ModelSlot>) -> Response {
    match slot.current() {
        Some(_) => (StatusCode::OK, "\n").into_response(),
        None => ApiError::no_model().into_response(),
    }
}

#[derive(Serialize)]
struct Health {
    status: &'static str,
    model: String,
}

async fn health(State(slot): State<ModelSlot>) -> Response {
    match slot.current() {
        Some(p) => axum::Json(Health {
            status: "ok",
            model: p.id().to_string(),
        })
        .into_response(),
        None => ApiError::no_model().into_response(),
    }
}

#[derive(Serialize)]
struct Version {
    mlops: &'static str,
    model: Option<String>,
}

async fn version(State(slot): State<ModelSlot>) -> Response {
    axum::Json(Version {
        mlops: env!("CARGO_PKG_VERSION"),
        model: slot.current().map(|p| p.id().to_string()),
    })
    .into_response()
}

async fn metrics(State(slot): State<ModelSlot>) -> Response {
    match slot.prometheus_text() {
        Some(text) => ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text).into_response(),
        None => ApiError::no_model().into_response(),
    }
}
