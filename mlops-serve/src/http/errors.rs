//! Error replies: a status and a JSON body `{"error_code", "message"}` in
//! the shape MLflow's scoring server uses.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// An HTTP error reply.
#[derive(Debug)]
pub(crate) struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
}

#[derive(Serialize)]
struct Body<'a> {
    error_code: &'a str,
    message: &'a str,
}

impl ApiError {
    pub(crate) fn bad_request(message: impl Into<String>) -> Self {
        ApiError {
            status: StatusCode::BAD_REQUEST,
            code: "BAD_REQUEST",
            message: message.into(),
        }
    }

    pub(crate) fn no_model() -> Self {
        ApiError {
            status: StatusCode::SERVICE_UNAVAILABLE,
            code: "MODEL_NOT_LOADED",
            message: "no model is loaded yet".into(),
        }
    }

    pub(crate) fn unsupported(content_type: &str) -> Self {
        ApiError {
            status: StatusCode::UNSUPPORTED_MEDIA_TYPE,
            code: "BAD_REQUEST",
            message: format!(
                "content type `{content_type}` is not supported: send application/json or text/csv"
            ),
        }
    }

    pub(crate) fn too_large(declared: u64, limit: usize) -> Self {
        ApiError {
            status: StatusCode::PAYLOAD_TOO_LARGE,
            code: "REQUEST_TOO_LARGE",
            message: format!("request body of {declared} bytes exceeds the {limit}-byte limit"),
        }
    }

    pub(crate) fn too_many_records(found: usize, limit: usize) -> Self {
        ApiError {
            status: StatusCode::PAYLOAD_TOO_LARGE,
            code: "TOO_MANY_RECORDS",
            message: format!("request holds {found} records; the limit is {limit}"),
        }
    }

    /// No bearer token, or not an accepted one (never echoed).
    pub(crate) fn unauthorized(token_given: bool) -> Self {
        ApiError {
            status: StatusCode::UNAUTHORIZED,
            code: "UNAUTHENTICATED",
            message: if token_given {
                "the bearer token is not valid".into()
            } else {
                "this route needs an `Authorization: Bearer TOKEN` header".into()
            },
        }
    }

    /// A valid token not allowed to use `model`.
    pub(crate) fn forbidden(model: &str) -> Self {
        ApiError {
            status: StatusCode::FORBIDDEN,
            code: "PERMISSION_DENIED",
            message: format!("this token may not use model `{model}`"),
        }
    }

    pub(crate) fn overloaded() -> Self {
        ApiError {
            status: StatusCode::SERVICE_UNAVAILABLE,
            code: "OVERLOADED",
            message: "too many requests in flight; retry later".into(),
        }
    }

    pub(crate) fn timed_out(limit: std::time::Duration) -> Self {
        ApiError {
            status: StatusCode::SERVICE_UNAVAILABLE,
            code: "REQUEST_TIMEOUT",
            message: format!("request not answered within {limit:?}"),
        }
    }

    pub(crate) fn internal(message: impl Into<String>) -> Self {
        ApiError {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            code: "INTERNAL_ERROR",
            message: message.into(),
        }
    }

    /// Names the failing row of a multi-row request.
    pub(crate) fn with_row(mut self, row: usize) -> Self {
        self.message = format!("row {row}: {}", self.message);
        self
    }

    /// A scoring error: the caller's input (400) or the server's (500).
    pub(crate) fn from_scoring(err: &crate::Error) -> Self {
        if err.is_input_error() {
            Self::bad_request(err.to_string())
        } else {
            Self::internal(err.to_string())
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = Body {
            error_code: self.code,
            message: &self.message,
        };
        (self.status, Json(body)).into_response()
    }
}
