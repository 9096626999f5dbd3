//! The axum application: routes, the model slot and the request limits.

use std::sync::Arc;

use arc_swap::ArcSwapOption;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Extension, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Serialize;

use super::auth::{self, Scope};
use super::config::ServerConfig;
use super::errors::ApiError;
use super::limits;
use super::protocol::{self, Rows};
use crate::rollout::{Canary, Shadow};
use crate::{CorrelationId, ModelHandle, Predictor, Record, RefreshStatus, Score};

/// Request and response header carrying the correlation id of an
/// `/invocations` call. A caller's value routes a canary (the same id always
/// takes the same side) and becomes the predictions' correlation id (row
/// `i` of a multi-row request gets `ID/i`), so outcomes can be joined to the
/// prediction log later. Without it the server generates one; either way
/// the response echoes it.
pub const CORRELATION_HEADER: &str = "x-correlation-id";

/// Where the served model comes from.
#[derive(Debug)]
enum Source {
    /// A fixed model.
    Predictor(Arc<Predictor>),
    /// A registry alias followed by a [`ModelHandle`].
    Handle(ModelHandle),
    /// A stable model and a canary sharing the traffic.
    Canary(Arc<Canary>),
    /// A primary answering every request, a challenger scoring it too.
    Shadow(Arc<Shadow>),
}

/// What scores one request: a predictor, or a shadow pair whose primary
/// answers.
#[derive(Debug, Clone)]
enum Route {
    Predictor(Arc<Predictor>),
    Shadow(Arc<Shadow>),
}

impl Route {
    /// The answering model (signature, classes, id).
    fn predictor(&self) -> &Predictor {
        match self {
            Route::Predictor(p) => p,
            Route::Shadow(s) => s.primary(),
        }
    }

    fn predict_with(&self, record: &Record<'_>, id: CorrelationId) -> crate::Result<Score> {
        match self {
            Route::Predictor(p) => p.predict_with(record, id),
            Route::Shadow(s) => s.predict(record, id),
        }
    }
}

impl Source {
    /// The model answering metadata routes (the stable side of a canary).
    fn current(&self) -> Arc<Predictor> {
        match self {
            Source::Predictor(p) => Arc::clone(p),
            Source::Handle(h) => h.current(),
            Source::Canary(c) => Arc::new(c.stable().clone()),
            Source::Shadow(s) => Arc::new(s.primary().clone()),
        }
    }

    /// The model answering a request with correlation id `id`.
    fn route(&self, id: &CorrelationId) -> Route {
        match self {
            Source::Canary(c) => Route::Predictor(Arc::new(c.pick(&id.to_string()).1.clone())),
            Source::Shadow(s) => Route::Shadow(Arc::clone(s)),
            _ => Route::Predictor(self.current()),
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

    /// Serves `canary` from now on: each `/invocations` request is scored
    /// whole by the side its correlation id routes to (the
    /// [`CORRELATION_HEADER`] when given, else a generated id, so the
    /// canary then gets its weight of the traffic at random). The response's
    /// `model` names the version that answered; `/metrics` shows both
    /// versions' monitors plus `mlops_canary_weight` and
    /// `mlops_canary_routed_total{arm}`; `/health` and `/version` name the
    /// stable model. Keep the `Arc` to ramp the weight while serving.
    pub fn canary(&self, canary: Arc<Canary>) {
        self.inner.store(Some(Arc::new(Source::Canary(canary))));
    }

    /// Serves `shadow` from now on: its primary answers every request, the
    /// challenger scores each one too (compared, never returned). `/metrics`
    /// shows both monitors plus `mlops_shadow_compared_total`,
    /// `mlops_shadow_challenger_errors_total`, `mlops_shadow_agreement` and
    /// `mlops_shadow_mean_abs_diff`.
    pub fn shadow(&self, shadow: Arc<Shadow>) {
        self.inner.store(Some(Arc::new(Source::Shadow(shadow))));
    }

    /// Stops serving (requests get 503).
    pub fn unload(&self) {
        self.inner.store(None);
    }

    /// The model serving now, if any (a canary's stable model).
    pub fn current(&self) -> Option<Arc<Predictor>> {
        self.inner.load().as_deref().map(Source::current)
    }

    fn route(&self, id: &CorrelationId) -> Option<Route> {
        self.inner.load().as_deref().map(|s| s.route(id))
    }

    /// The refresh status of an alias-following slot (`None` for a fixed
    /// model or a canary).
    fn refresh_status(&self) -> Option<RefreshStatus> {
        match self.inner.load().as_deref() {
            Some(Source::Handle(h)) => Some(h.refresh_status()),
            _ => None,
        }
    }

    fn prometheus_text(&self) -> Option<String> {
        self.inner.load().as_deref().map(|s| match s {
            Source::Handle(h) => h.prometheus_text(),
            Source::Predictor(p) => {
                let mut page = crate::monitor::PrometheusText::new();
                page.monitor(&p.monitor().snapshot());
                page.render()
            }
            Source::Canary(c) => canary_metrics(c),
            Source::Shadow(s) => shadow_metrics(s),
        })
    }
}

/// Both monitors and the shadow comparison.
fn shadow_metrics(s: &Shadow) -> String {
    let mut page = crate::monitor::PrometheusText::new();
    page.monitor(&s.primary().monitor().snapshot())
        .monitor(&s.candidate().monitor().snapshot());
    let stats = s.stats();
    let name = s.candidate().id().name.to_string();
    let version = s
        .candidate()
        .id()
        .version
        .map(|v| v.to_string())
        .unwrap_or_default();
    let labels = [("model", name.as_str()), ("version", version.as_str())];
    page.counter(
        "mlops_shadow_compared_total",
        "Requests the shadow challenger scored next to the primary.",
        &labels,
        stats.compared,
    );
    page.counter(
        "mlops_shadow_challenger_errors_total",
        "Requests the shadow challenger failed on.",
        &labels,
        stats.challenger_errors,
    );
    if stats.compared > 0 {
        page.gauge(
            "mlops_shadow_agreement",
            "Share of compared requests where challenger and primary labels agree.",
            &labels,
            stats.agreement_rate(),
        );
        page.gauge(
            "mlops_shadow_mean_abs_diff",
            "Mean absolute difference of challenger and primary scores.",
            &labels,
            stats.mean_abs_diff(),
        );
    }
    page.render()
}

/// Both sides' monitors, the canary weight and the requests routed per arm.
fn canary_metrics(c: &Canary) -> String {
    let mut page = crate::monitor::PrometheusText::new();
    page.monitor(&c.stable().monitor().snapshot())
        .monitor(&c.candidate().monitor().snapshot());
    let (stable, candidate) = c.routed();
    let name = c.candidate().id().name.to_string();
    let version = |p: &Predictor| p.id().version.map(|v| v.to_string()).unwrap_or_default();
    let (sv, cv) = (version(c.stable()), version(c.candidate()));
    page.gauge(
        "mlops_canary_weight",
        "Share of requests routed to the canary.",
        &[("model", &name), ("version", &cv)],
        c.weight(),
    );
    for (arm, v, n) in [("stable", &sv, stable), ("canary", &cv, candidate)] {
        page.counter(
            "mlops_canary_routed_total",
            "Requests routed to each side of the canary.",
            &[("model", &name), ("arm", arm), ("version", v)],
            n,
        );
    }
    page.render()
}

/// Records-per-request limit, handed to the scoring handler.
#[derive(Debug, Clone, Copy)]
struct RecordLimit(usize);

/// The MLflow-compatible routes over `slot`:
/// `POST /invocations`, `GET /ping`, `/health`, `/version`, `/metrics`.
/// With [`ServerConfig::auth`], `/invocations`, `/version` and `/metrics`
/// (unless public) need a bearer token; `/invocations` sits behind the
/// concurrency limit and the request timeout.
pub fn router(slot: ModelSlot, config: ServerConfig) -> Router {
    let mut open = Router::new()
        .route("/ping", get(ping))
        .route("/health", get(health));
    let mut protected = Router::new()
        .route(
            "/invocations",
            limits::limit_scoring(post(invocations), &config),
        )
        .route("/version", get(version));
    if config.metrics_public || config.auth.is_none() {
        open = open.route("/metrics", get(metrics));
    } else {
        protected = protected.route("/metrics", get(metrics));
    }
    if let Some(tokens) = config.auth.clone() {
        protected = protected.route_layer(axum::middleware::from_fn_with_state(
            tokens,
            auth::require_token,
        ));
    }
    open.merge(protected)
        .layer(Extension(RecordLimit(config.max_records)))
        .layer(DefaultBodyLimit::max(config.max_body_bytes))
        .layer(axum::middleware::from_fn_with_state(
            config.max_body_bytes,
            reject_declared_oversize,
        ))
        .with_state(slot)
}

/// Answers 413 before reading a body whose declared `Content-Length` is over
/// the limit, so the caller gets the reply instead of a connection closed
/// mid-upload. Bodies without a length (chunked) are cut off by
/// [`DefaultBodyLimit`] as they stream in.
async fn reject_declared_oversize(
    State(limit): State<usize>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    match declared {
        Some(n) if n > limit as u64 => {
            tracing::debug!(declared = n, limit, "request body over the limit");
            ApiError::too_large(n, limit).into_response()
        }
        _ => next.run(request).await,
    }
}

#[derive(Serialize)]
struct Predictions {
    /// Positive-class probabilities or predicted values, one per row; for a
    /// multiclass model one array of class probabilities per row (MLflow's
    /// answer for a `predict_proba` matrix).
    predictions: Vec<Prediction>,
    /// `1`/`0` per row for a binary classifier, the predicted class per row
    /// for a multiclass model; absent for a regressor.
    #[serde(skip_serializing_if = "Option::is_none")]
    labels: Option<Vec<Label>>,
    /// The class labels, in the order of each row's probabilities
    /// (multiclass only).
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    classes: Vec<String>,
    /// `NAME/VERSION` of the model that answered.
    model: String,
}

/// One row's answer.
#[derive(Serialize)]
#[serde(untagged)]
enum Prediction {
    Value(f64),
    Probabilities(Vec<f64>),
}

/// One row's label.
#[derive(Serialize)]
#[serde(untagged)]
enum Label {
    Binary(u8),
    Class(String),
}

async fn invocations(
    State(slot): State<ModelSlot>,
    scope: Option<Extension<Scope>>,
    Extension(RecordLimit(max_records)): Extension<RecordLimit>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let id = headers
        .get(CORRELATION_HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty())
        .map_or_else(CorrelationId::generate, CorrelationId::from);
    let Some(predictor) = slot.route(&id) else {
        return ApiError::no_model().into_response();
    };
    if let Some(Extension(scope)) = scope
        && !scope.allows(&predictor.predictor().id().name)
    {
        return ApiError::forbidden(&predictor.predictor().id().name).into_response();
    }
    let echo = HeaderValue::from_str(&id.to_string()).ok();
    let mut response = score_request(predictor, &headers, body, id, max_records).await;
    if let Some(v) = echo {
        response
            .headers_mut()
            .insert(HeaderName::from_static(CORRELATION_HEADER), v);
    }
    response
}

async fn score_request(
    predictor: Route,
    headers: &HeaderMap,
    body: Bytes,
    id: CorrelationId,
    max_records: usize,
) -> Response {
    // Scoring is CPU work of microseconds per row; small requests stay on
    // the async worker, large ones move off it.
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/json")
        .to_owned();
    if body.len() > 64 << 10 {
        match tokio::task::spawn_blocking(move || {
            score_body(&predictor, &content_type, &body, &id, max_records)
        })
        .await
        {
            Ok(r) => r,
            Err(e) => ApiError::internal(format!("scoring task failed: {e}")).into_response(),
        }
    } else {
        score_body(&predictor, &content_type, &body, &id, max_records)
    }
}

fn score_body(
    predictor: &Route,
    content_type: &str,
    body: &[u8],
    id: &CorrelationId,
    max_records: usize,
) -> Response {
    let score = |rows: Rows<'_>| {
        limits::check_records(rows.rows.len(), max_records)
            .and_then(|()| score_rows(predictor, &rows, id))
    };
    let mime = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    let result = match mime.as_str() {
        "application/json" | "" => match serde_json::from_slice::<serde_json::Value>(body) {
            Ok(json) => match protocol::from_json(&json, predictor.predictor().signature()) {
                Ok(rows) => score(rows),
                Err(e) => Err(ApiError::bad_request(e.0)),
            },
            Err(e) => Err(ApiError::bad_request(format!("invalid JSON: {e}"))),
        },
        "text/csv" | "application/csv" => match protocol::read_csv(body) {
            Ok((header, records)) => {
                match protocol::from_csv(&records, &header, predictor.predictor().signature()) {
                    Ok(rows) => score(rows),
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

fn score_rows(route: &Route, rows: &Rows<'_>, id: &CorrelationId) -> Result<Predictions, ApiError> {
    let mut predictions = Vec::with_capacity(rows.rows.len());
    let mut labels = Vec::with_capacity(rows.rows.len());
    for (i, row) in rows.rows.iter().enumerate() {
        let record: Record<'_> = rows
            .columns
            .iter()
            .copied()
            .zip(row.iter().copied())
            .collect();
        let row_id = if rows.rows.len() == 1 {
            id.clone()
        } else {
            CorrelationId::from(format!("{id}/{i}"))
        };
        let score = route.predict_with(&record, row_id).map_err(|e| {
            let mut err = ApiError::from_scoring(&e);
            if rows.rows.len() > 1 {
                err = err.with_row(i);
            }
            err
        })?;
        if let Some(l) = score.label {
            labels.push(Label::Binary(u8::from(l)));
        }
        if let Some(c) = score.class {
            labels.push(Label::Class(c.to_string()));
        }
        predictions.push(if score.probabilities.is_empty() {
            Prediction::Value(score.value)
        } else {
            Prediction::Probabilities(score.probabilities)
        });
    }
    Ok(Predictions {
        labels: (labels.len() == predictions.len() && !predictions.is_empty()).then_some(labels),
        predictions,
        classes: route
            .predictor()
            .classes()
            .iter()
            .map(|c| c.to_string())
            .collect(),
        model: route.predictor().id().to_string(),
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
    /// `ok`, or `degraded` while the followed alias cannot be refreshed
    /// (the held model keeps serving).
    status: &'static str,
    model: String,
    /// For a slot following an alias: how the latest refreshes went.
    #[serde(skip_serializing_if = "Option::is_none")]
    refresh: Option<RefreshHealth>,
}

#[derive(Serialize)]
struct RefreshHealth {
    ok: bool,
    consecutive_failures: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

async fn health(State(slot): State<ModelSlot>) -> Response {
    match slot.current() {
        Some(p) => {
            let refresh = slot.refresh_status();
            let degraded = refresh.as_ref().is_some_and(|r| !r.is_ok());
            axum::Json(Health {
                status: if degraded { "degraded" } else { "ok" },
                model: p.id().to_string(),
                refresh: refresh.map(|r| RefreshHealth {
                    ok: r.is_ok(),
                    consecutive_failures: r.consecutive_failures,
                    error: r.last_error,
                }),
            })
            .into_response()
        }
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
