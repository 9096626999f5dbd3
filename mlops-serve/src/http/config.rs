//! [`ServerConfig`]: authentication and the limits that keep the process
//! alive under load, slow clients and oversized requests.

use std::time::Duration;

use super::auth::Auth;
use crate::error::{Error, Result};

/// Default request body limit: 16 MiB.
pub const DEFAULT_MAX_BODY_BYTES: usize = 16 << 20;
/// Default limit on records (rows) per `/invocations` request.
pub const DEFAULT_MAX_RECORDS: usize = 100_000;
/// Default limit on `/invocations` requests in flight at once.
pub const DEFAULT_MAX_CONCURRENT_REQUESTS: usize = 512;
/// Default time a request may take, from its headers to its answer.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Default time a client has to send a request's headers.
pub const DEFAULT_HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// Settings of the scoring server. Build with the methods, then
/// [`validate`](Self::validate) (the server does before it listens).
///
/// ```
/// use std::time::Duration;
/// use mlops_serve::http::{Auth, ServerConfig};
///
/// let config = ServerConfig::default()
///     .auth(Auth::new().scoped("s3cr3t-t0ken-0123456789", ["churn"])?)
///     .max_records(1_000)
///     .request_timeout(Duration::from_secs(5))
///     .max_concurrent_requests(64);
/// config.validate()?;
/// # Ok::<(), mlops_serve::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Largest accepted request body; larger ones get 413.
    pub max_body_bytes: usize,
    /// Most records per `/invocations` request; more get 413.
    pub max_records: usize,
    /// Longest a request may take; a slower one gets 503 with
    /// `Retry-After` (the connection stays usable).
    pub request_timeout: Duration,
    /// Most `/invocations` requests in flight; one more gets 503 with
    /// `Retry-After` at once instead of queueing.
    pub max_concurrent_requests: usize,
    /// Seconds sent in `Retry-After` when overloaded or timed out.
    pub retry_after_secs: u32,
    /// Time a client has to send the request headers (from the first byte
    /// of a request, or from the connection's start); a slower client is
    /// disconnected.
    pub header_read_timeout: Duration,
    /// Bearer tokens: `None` serves everyone (the default, for a server
    /// reachable only by its own host).
    pub auth: Option<Auth>,
    /// Whether `/metrics` stays open when `auth` is set.
    pub metrics_public: bool,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            max_records: DEFAULT_MAX_RECORDS,
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
            max_concurrent_requests: DEFAULT_MAX_CONCURRENT_REQUESTS,
            retry_after_secs: 1,
            header_read_timeout: DEFAULT_HEADER_READ_TIMEOUT,
            auth: None,
            metrics_public: false,
        }
    }
}

impl ServerConfig {
    /// Requires a bearer token from [`Auth`] on `/invocations`, `/version`
    /// and (unless [`metrics_public`](Self::metrics_public)) `/metrics`;
    /// `/ping` and `/health` stay open.
    pub fn auth(mut self, auth: Auth) -> Self {
        self.auth = Some(auth);
        self
    }

    /// Leaves `/metrics` open to scrapers without a token.
    pub fn metrics_public(mut self, public: bool) -> Self {
        self.metrics_public = public;
        self
    }

    /// Sets [`max_body_bytes`](Self::max_body_bytes).
    pub fn max_body_bytes(mut self, bytes: usize) -> Self {
        self.max_body_bytes = bytes;
        self
    }

    /// Sets [`max_records`](Self::max_records).
    pub fn max_records(mut self, records: usize) -> Self {
        self.max_records = records;
        self
    }

    /// Sets [`request_timeout`](Self::request_timeout).
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = timeout;
        self
    }

    /// Sets [`max_concurrent_requests`](Self::max_concurrent_requests).
    pub fn max_concurrent_requests(mut self, requests: usize) -> Self {
        self.max_concurrent_requests = requests;
        self
    }

    /// Sets [`header_read_timeout`](Self::header_read_timeout).
    pub fn header_read_timeout(mut self, timeout: Duration) -> Self {
        self.header_read_timeout = timeout;
        self
    }

    /// Checks every setting: limits and timeouts positive, and an `auth`
    /// with at least one token.
    pub fn validate(&self) -> Result<()> {
        let bad = |name, reason: &str| {
            Err(Error::InvalidConfig {
                name,
                reason: reason.into(),
            })
        };
        if self.max_body_bytes == 0 {
            return bad("max_body_bytes", "must be positive");
        }
        if self.max_records == 0 {
            return bad("max_records", "must be positive");
        }
        if self.max_concurrent_requests == 0 {
            return bad("max_concurrent_requests", "must be positive");
        }
        if self.request_timeout.is_zero() {
            return bad("request_timeout", "must be positive");
        }
        if self.header_read_timeout.is_zero() {
            return bad("header_read_timeout", "must be positive");
        }
        if self.auth.as_ref().is_some_and(Auth::is_empty) {
            return bad(
                "auth",
                "no token given (an empty token list refuses everyone)",
            );
        }
        Ok(())
    }
}
