//! Bearer-token authentication: [`Auth`] holds the accepted tokens (as
//! BLAKE3 digests, compared in constant time), each allowed every model or
//! only some.
//!
//! Token lists are text, one token per line: `TOKEN` (every model) or
//! `TOKEN MODEL[,MODEL...]` (only those models). Blank lines and lines
//! starting with `#` are skipped. In one line (an environment variable)
//! entries may also be separated by `;`. A token is 16 to 512 characters
//! of RFC 6750's `b64token` alphabet: letters, digits and `-._~+/`, with
//! trailing `=`s.

use std::path::Path;
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use subtle::ConstantTimeEq;

use super::errors::ApiError;
use crate::error::{Error, Result};

/// Shortest accepted token, in bytes.
pub const MIN_TOKEN_LEN: usize = 16;
const MAX_TOKEN_LEN: usize = 512;

/// One accepted token: its digest and the models it may score (`None`:
/// all).
#[derive(Clone)]
struct Entry {
    digest: [u8; 32],
    models: Option<Arc<[String]>>,
}

/// The bearer tokens the server accepts. Without a valid
/// `Authorization: Bearer TOKEN` header a protected route answers 401 with
/// a JSON error before any model work; a valid token scoped to other models
/// gets 403 from `/invocations`. Tokens are kept only as digests and never
/// logged; `Debug` shows the count.
#[derive(Clone, Default)]
pub struct Auth {
    entries: Arc<[Entry]>,
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Auth")
            .field("tokens", &self.entries.len())
            .finish()
    }
}

/// What a valid token may do; put in the request's extensions by the
/// authentication layer.
#[derive(Debug, Clone)]
pub(crate) struct Scope(Option<Arc<[String]>>);

impl Scope {
    /// Whether the token may score model `name`.
    pub(crate) fn allows(&self, name: &str) -> bool {
        self.0
            .as_deref()
            .is_none_or(|models| models.iter().any(|m| m == name))
    }
}

impl Auth {
    /// No tokens yet (a server with an empty `Auth` refuses every protected
    /// request; [`ServerConfig::validate`](super::ServerConfig::validate)
    /// rejects it).
    pub fn new() -> Self {
        Self::default()
    }

    /// Accepts `token` for every model.
    pub fn token(self, token: &str) -> Result<Self> {
        self.push(token, None)
    }

    /// Accepts `token` for the named models only.
    pub fn scoped<S: Into<String>>(
        self,
        token: &str,
        models: impl IntoIterator<Item = S>,
    ) -> Result<Self> {
        let models: Vec<String> = models.into_iter().map(Into::into).collect();
        if models.is_empty() || models.iter().any(|m| m.trim().is_empty()) {
            return Err(invalid(
                "a scoped token needs at least one model name".into(),
            ));
        }
        self.push(token, Some(models.into()))
    }

    /// Parses a token list (see the module docs); `source` names it in
    /// errors (a file name, an environment variable). Errors give the entry
    /// number (comment lines do not count), never the token.
    pub fn parse(text: &str, source: &str) -> Result<Self> {
        let mut auth = Self::new();
        let entries = text
            .lines()
            .filter(|l| !l.trim_start().starts_with('#'))
            .flat_map(|l| l.split(';'));
        for (n, line) in entries.enumerate() {
            let line = line.trim();
            if line.is_empty() {
                continue;
            }
            let mut parts = line.split_whitespace();
            let token = parts.next().unwrap_or_default();
            let models = parts.next();
            if parts.next().is_some() {
                return Err(invalid(format!(
                    "{source} entry {}: expected `TOKEN` or `TOKEN MODEL[,MODEL...]`",
                    n + 1
                )));
            }
            let at = |e: Error| match e {
                Error::InvalidConfig { reason, .. } => {
                    invalid(format!("{source} entry {}: {reason}", n + 1))
                }
                other => other,
            };
            auth = match models {
                None => auth.token(token),
                Some(list) => auth.scoped(token, list.split(',')),
            }
            .map_err(at)?;
        }
        Ok(auth)
    }

    /// Reads a token list from `path`.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| Error::File {
            path: path.to_owned(),
            source,
        })?;
        Self::parse(&text, &path.display().to_string())
    }

    /// The tokens of both lists.
    pub fn union(self, other: Auth) -> Self {
        let mut entries = self.entries.to_vec();
        entries.extend(other.entries.iter().cloned());
        Auth {
            entries: entries.into(),
        }
    }

    /// Number of tokens.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when no token is accepted.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    fn push(self, token: &str, models: Option<Arc<[String]>>) -> Result<Self> {
        if !(MIN_TOKEN_LEN..=MAX_TOKEN_LEN).contains(&token.len()) {
            return Err(invalid(format!(
                "a token must be {MIN_TOKEN_LEN} to {MAX_TOKEN_LEN} bytes long (got {})",
                token.len()
            )));
        }
        let body = token.trim_end_matches('=');
        if body.is_empty()
            || !body
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-._~+/".contains(&b))
        {
            return Err(invalid(
                "a token may hold only letters, digits, `-._~+/` and trailing `=`".into(),
            ));
        }
        let mut entries = self.entries.to_vec();
        entries.push(Entry {
            digest: *blake3::hash(token.as_bytes()).as_bytes(),
            models,
        });
        Ok(Auth {
            entries: entries.into(),
        })
    }

    /// The scope of `presented`, if it is an accepted token. Every entry is
    /// compared (in constant time, on digests) whatever matched, so the
    /// time taken says nothing about which token, or how much of one, was
    /// right.
    pub(crate) fn check(&self, presented: &[u8]) -> Option<Scope> {
        let digest = blake3::hash(presented);
        let mut found: Option<&Entry> = None;
        for e in self.entries.iter() {
            let hit: bool = e.digest.ct_eq(digest.as_bytes()).into();
            if hit && found.is_none() {
                found = Some(e);
            }
        }
        found.map(|e| Scope(e.models.clone()))
    }
}

fn invalid(reason: String) -> Error {
    Error::InvalidConfig {
        name: "auth token",
        reason,
    }
}

/// The authentication layer: a request without a valid bearer token gets
/// 401 (with `WWW-Authenticate: Bearer`); a valid one continues with its
/// [`Scope`] in the extensions.
pub(crate) async fn require_token(
    State(auth): State<Auth>,
    mut request: Request,
    next: Next,
) -> Response {
    let presented = request
        .headers()
        .get(header::AUTHORIZATION)
        .map(|v| v.as_bytes())
        .and_then(|v| {
            let (scheme, rest) = v.split_at_checked(7)?;
            scheme.eq_ignore_ascii_case(b"bearer ").then_some(rest)
        })
        .map(<[u8]>::trim_ascii);
    let scope = presented.and_then(|t| auth.check(t));
    match scope {
        Some(scope) => {
            request.extensions_mut().insert(scope);
            next.run(request).await
        }
        None => {
            tracing::debug!(
                path = %request.uri().path(),
                header = presented.is_some(),
                "request refused: no valid bearer token"
            );
            let mut response = ApiError::unauthorized(presented.is_some()).into_response();
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                header::HeaderValue::from_static("Bearer"),
            );
            response
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "tok-aaaaaaaaaaaaaaaa";
    const B: &str = "tok-bbbbbbbbbbbbbbbb";

    #[test]
    fn parses_lists_with_scopes_and_checks_tokens() {
        let auth = Auth::parse(
            &format!("# tokens; not one\n\n{A}\n  {B} churn,fraud  ;\n"),
            "tokens.txt",
        )
        .expect("parse");
        assert_eq!(auth.len(), 2);
        assert!(auth.check(A.as_bytes()).expect("a").allows("anything"));
        let b = auth.check(B.as_bytes()).expect("b");
        assert!(b.allows("churn") && b.allows("fraud") && !b.allows("other"));
        assert!(auth.check(b"tok-aaaaaaaaaaaaaaab").is_none());
        assert!(auth.check(b"").is_none());
        assert_eq!(format!("{auth:?}"), "Auth { tokens: 2 }");
    }

    #[test]
    fn bad_lists_name_the_line_not_the_token() {
        for (text, want) in [
            ("short\n", "entry 1: a token must be 16"),
            (&format!("# c\n\n{A} a b\n") as &str, "entry 2: expected"),
            (&format!("{A} ,\n"), "at least one model"),
            ("tok-aaaaaaaaaaaaaaa!\n", "only letters"),
            (
                &format!("{A};{B} x;tok,aaaaaaaaaaaaaaaaa"),
                "entry 3: a token may hold only",
            ),
        ] {
            let err = Auth::parse(text, "f").expect_err(text).to_string();
            assert!(err.contains(want), "{err}");
            assert!(!err.contains(A) && !err.contains("short"), "{err}");
        }
    }
}
