//! The limits on `/invocations` as tower layers: load shedding over a
//! concurrency limit (503 + `Retry-After` at once when full, no queue) and
//! a request timeout (503 + `Retry-After`); plus the records-per-request
//! check.

use std::time::Duration;

use axum::BoxError;
use axum::error_handling::HandleErrorLayer;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::MethodRouter;
use tower::ServiceBuilder;
use tower::limit::GlobalConcurrencyLimitLayer;
use tower::load_shed::error::Overloaded;
use tower::timeout::error::Elapsed;

use super::config::ServerConfig;
use super::errors::ApiError;

/// `route` behind the limit layers, outermost first: errors to replies,
/// shed when full, at most `max_concurrent_requests` in flight, each within
/// `request_timeout`. The timeout covers reading the body, so a client that
/// trickles its body is cut off too.
pub(crate) fn limit_scoring<S>(route: MethodRouter<S>, config: &ServerConfig) -> MethodRouter<S>
where
    S: Clone + Send + Sync + 'static,
{
    let retry_after = config.retry_after_secs;
    let timeout = config.request_timeout;
    route.layer(
        ServiceBuilder::new()
            .layer(HandleErrorLayer::new(move |e: BoxError| {
                std::future::ready(refusal(&e, retry_after, timeout))
            }))
            .load_shed()
            .layer(GlobalConcurrencyLimitLayer::new(
                config.max_concurrent_requests,
            ))
            .timeout(timeout),
    )
}

/// The reply to a layer's error: 503 + `Retry-After` for overload and
/// timeouts, 500 for anything else.
fn refusal(e: &BoxError, retry_after: u32, timeout: Duration) -> Response {
    let err = if e.is::<Overloaded>() {
        tracing::debug!("request shed: concurrency limit reached");
        ApiError::overloaded()
    } else if e.is::<Elapsed>() {
        tracing::debug!(?timeout, "request timed out");
        ApiError::timed_out(timeout)
    } else {
        return ApiError::internal(format!("request failed: {e}")).into_response();
    };
    let mut response = err.into_response();
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(retry_after));
    response
}

/// 413 when a request holds more than `max` records.
pub(crate) fn check_records(n: usize, max: usize) -> Result<(), ApiError> {
    if n > max {
        return Err(ApiError::too_many_records(n, max));
    }
    Ok(())
}
