//! `mlops serve` flags for authentication and request limits.

use std::path::PathBuf;

use clap::Args;
use mlops_serve::http::{self, Auth, ServerConfig};

use crate::error::Result;

/// Authentication and limits of `mlops serve`.
#[derive(Debug, Args)]
pub struct LimitArgs {
    /// Bearer tokens, one per line: `TOKEN` (every model) or
    /// `TOKEN MODEL[,MODEL...]` (only those). Protects /invocations,
    /// /version and /metrics; /ping and /health stay open.
    #[arg(long, value_name = "FILE")]
    pub auth_token_file: Option<PathBuf>,
    /// Bearer tokens in the same format, entries separated by `;` (added to
    /// --auth-token-file's).
    #[arg(long, env = "MLOPS_AUTH_TOKENS", hide_env_values = true, hide = true)]
    pub auth_tokens: Option<String>,
    /// Leave /metrics open without a token when authentication is on.
    #[arg(long)]
    pub metrics_public: bool,
    /// Most records per /invocations request (more: 413).
    #[arg(long, default_value_t = http::DEFAULT_MAX_RECORDS)]
    pub max_records: usize,
    /// Longest a request may take, in milliseconds (then 503 + Retry-After).
    #[arg(long, default_value_t = http::DEFAULT_REQUEST_TIMEOUT.as_millis() as u64)]
    pub request_timeout_ms: u64,
    /// Most /invocations requests in flight (more: 503 + Retry-After).
    #[arg(long, default_value_t = http::DEFAULT_MAX_CONCURRENT_REQUESTS)]
    pub max_concurrent_requests: usize,
    /// Time a client has to send its request headers, in milliseconds.
    #[arg(long, default_value_t = http::DEFAULT_HEADER_READ_TIMEOUT.as_millis() as u64)]
    pub header_read_timeout_ms: u64,
}

impl LimitArgs {
    /// The validated server configuration.
    pub fn config(&self, max_body_bytes: usize) -> Result<ServerConfig> {
        let mut config = ServerConfig::default()
            .max_body_bytes(max_body_bytes)
            .max_records(self.max_records)
            .request_timeout(std::time::Duration::from_millis(self.request_timeout_ms))
            .max_concurrent_requests(self.max_concurrent_requests)
            .header_read_timeout(std::time::Duration::from_millis(
                self.header_read_timeout_ms,
            ))
            .metrics_public(self.metrics_public);
        let mut lists = Vec::new();
        if let Some(path) = &self.auth_token_file {
            lists.push(Auth::from_file(path)?);
        }
        if let Some(text) = &self.auth_tokens {
            lists.push(Auth::parse(text, "MLOPS_AUTH_TOKENS")?);
        }
        if !lists.is_empty() {
            config = config.auth(lists.into_iter().fold(Auth::new(), Auth::union));
        }
        config.validate()?;
        Ok(config)
    }
}
