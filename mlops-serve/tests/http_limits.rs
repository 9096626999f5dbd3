//! Authentication and every request limit of the scoring server, each
//! tripped through real connections (ureq, or raw TCP where the test must
//! control the bytes and their timing).
#![cfg(feature = "http")]

mod common;
#[path = "common/http_server.rs"]
mod http_server;

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use http_server::{Server, connect, header, read_reply, send};
use mlops_serve::http::{Auth, ModelSlot, ServerConfig};
use serde_json::Value as Json;

const ALL: &str = "all-models-token-0123456789";
const CHURN: &str = "churn-only-token-0123456789";
const OTHER: &str = "other-only-token-0123456789";

/// The Telco split and logistic model, and one- and six-record bodies.
struct Fixture {
    telco: common::Telco,
    model: mlops_core::model::InferenceModel,
    one: String,
    six: String,
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let telco = common::telco();
        let model = common::logistic(&telco);
        let one = http_server::json_records(&telco.test, 0..1).to_string();
        let six = http_server::json_records(&telco.test, 0..6).to_string();
        Fixture {
            telco,
            model,
            one,
            six,
        }
    })
}

/// A slot serving a fresh `churn/1` (its own monitor, so tests running
/// in parallel do not count each other's predictions).
fn slot() -> ModelSlot {
    let f = fixture();
    let slot = ModelSlot::new();
    slot.load(common::predictor(&f.telco, f.model.clone(), "churn", 1));
    slot
}

/// Status, JSON body (or `null`) and the `Retry-After` header of a call.
fn call(req: ureq::Request, body: Option<&str>) -> (u16, Json, Option<String>) {
    let result = match body {
        Some(b) => req.set("Content-Type", "application/json").send_string(b),
        None => req.call(),
    };
    let resp = match result {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("transport error: {e}"),
    };
    let status = resp.status();
    let retry = resp.header("Retry-After").map(str::to_owned);
    let text = resp.into_string().expect("body");
    (
        status,
        serde_json::from_str(&text).unwrap_or(Json::Null),
        retry,
    )
}

fn predictions(slot: &ModelSlot) -> u64 {
    slot.current()
        .expect("model")
        .monitor()
        .snapshot()
        .predictions
}

#[test]
fn tokens_guard_scoring_version_and_metrics_but_not_ping_and_health() {
    let slot = slot();
    let auth = Auth::new()
        .token(ALL)
        .and_then(|a| a.scoped(CHURN, ["churn"]))
        .and_then(|a| a.scoped(OTHER, ["fraud"]))
        .expect("tokens");
    let server = Server::with_config(slot.clone(), ServerConfig::default().auth(auth.clone()));
    let one = &fixture().one;
    let url = |p: &str| format!("{}{p}", server.base);
    let bearer = |t: &str| format!("Bearer {t}");

    // Refused before any model work: 401, a JSON error, no prediction made.
    for header_value in [
        None,
        Some("Bearer wrong-token-0123456789"),
        Some(ALL),
        Some("Basic abc"),
    ] {
        let mut req = ureq::post(&url("/invocations"));
        if let Some(v) = header_value {
            req = req.set("Authorization", v);
        }
        let (status, body, _) = call(req, Some(one));
        assert_eq!(status, 401, "{header_value:?}");
        assert_eq!(body["error_code"], "UNAUTHENTICATED");
        assert!(
            !body.to_string().contains("wrong-token"),
            "token echoed: {body}"
        );
    }
    assert_eq!(predictions(&slot), 0, "no model work for refused requests");

    // Valid tokens: the all-models one and the one scoped to churn score;
    // one scoped to another model gets 403, still without scoring.
    for token in [ALL, CHURN] {
        let (status, body, _) = call(
            ureq::post(&url("/invocations")).set("Authorization", &bearer(token)),
            Some(one),
        );
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["model"], "churn/1");
    }
    // The scheme is case-insensitive (RFC 7235).
    let (status, _, _) = call(
        ureq::post(&url("/invocations")).set("Authorization", &format!("bearer {ALL}")),
        Some(one),
    );
    assert_eq!(status, 200);
    assert_eq!(predictions(&slot), 3);
    let (status, body, _) = call(
        ureq::post(&url("/invocations")).set("Authorization", &bearer(OTHER)),
        Some(one),
    );
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["error_code"], "PERMISSION_DENIED");
    assert_eq!(predictions(&slot), 3);

    // /ping and /health open; /version and /metrics need a token.
    for path in ["/ping", "/health"] {
        assert_eq!(call(ureq::get(&url(path)), None).0, 200, "{path}");
    }
    for path in ["/version", "/metrics"] {
        assert_eq!(call(ureq::get(&url(path)), None).0, 401, "{path}");
        let ok = ureq::get(&url(path)).set("Authorization", &bearer(CHURN));
        assert_eq!(call(ok, None).0, 200, "{path}");
    }
    server.shutdown();

    // --metrics-public: scrapers need no token, scoring still does.
    let server = Server::with_config(
        slot.clone(),
        ServerConfig::default().auth(auth).metrics_public(true),
    );
    assert_eq!(
        call(ureq::get(&format!("{}/metrics", server.base)), None).0,
        200
    );
    assert_eq!(
        call(
            ureq::post(&format!("{}/invocations", server.base)),
            Some(one)
        )
        .0,
        401
    );
    server.shutdown();
}

#[test]
fn records_per_request_over_the_limit_get_413() {
    let slot = slot();
    let server = Server::with_config(slot.clone(), ServerConfig::default().max_records(5));
    let url = format!("{}/invocations", server.base);
    let (status, body, _) = call(ureq::post(&url), Some(&fixture().six));
    assert_eq!(status, 413, "{body}");
    assert_eq!(body["error_code"], "TOO_MANY_RECORDS");
    assert!(
        body["message"].as_str().expect("msg").contains("6 records"),
        "{body}"
    );
    let csv = format!("tenure\n{}", "1\n".repeat(6));
    let resp = ureq::post(&url)
        .set("Content-Type", "text/csv")
        .send_string(&csv);
    assert!(matches!(resp, Err(ureq::Error::Status(413, _))), "{resp:?}");
    assert_eq!(predictions(&slot), 0);
    // At the limit: scored.
    let (status, body, _) = call(ureq::post(&url), Some(&fixture().one));
    assert_eq!(status, 200, "{body}");
    server.shutdown();
}

/// Headers and the first bytes of a body that never finishes.
fn trickle_start(addr: std::net::SocketAddr) -> std::net::TcpStream {
    let mut tcp = connect(addr);
    send(
        &mut tcp,
        format!(
            "POST /invocations HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
             Content-Length: 1000\r\n\r\n{{\"dataframe_"
        )
        .as_bytes(),
    );
    tcp
}

#[test]
fn a_request_over_the_timeout_gets_503_with_retry_after() {
    let slot = slot();
    let timeout = Duration::from_millis(300);
    let server = Server::with_config(slot, ServerConfig::default().request_timeout(timeout));
    let started = Instant::now();
    let mut tcp = trickle_start(server.addr);
    let reply = read_reply(&mut tcp).expect("a reply, not a dropped connection");
    let waited = started.elapsed();
    assert_eq!(reply.status, 503, "{reply:?}");
    assert!(reply.body.contains("REQUEST_TIMEOUT"), "{reply:?}");
    assert_eq!(header(&reply, "retry-after"), Some("1"));
    assert!(
        waited >= timeout && waited < Duration::from_secs(10),
        "{waited:?}"
    );
    // The server is fine afterwards.
    assert_eq!(
        call(
            ureq::post(&format!("{}/invocations", server.base)),
            Some(&fixture().one)
        )
        .0,
        200
    );
    server.shutdown();
}

#[test]
fn one_request_over_the_concurrency_limit_is_shed_with_503() {
    let slot = slot();
    let server = Server::with_config(
        slot,
        ServerConfig::default()
            .max_concurrent_requests(1)
            .request_timeout(Duration::from_secs(3)),
    );
    let url = format!("{}/invocations", server.base);
    // One request holds the only slot (its body is still arriving)...
    let mut held = trickle_start(server.addr);
    std::thread::sleep(Duration::from_millis(300));
    // ...so the next is refused at once, not queued.
    let started = Instant::now();
    let (status, body, retry) = call(ureq::post(&url), Some(&fixture().one));
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["error_code"], "OVERLOADED");
    assert_eq!(retry.as_deref(), Some("1"));
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "shed, not queued"
    );
    // /ping is not limited.
    assert_eq!(
        call(ureq::get(&format!("{}/ping", server.base)), None).0,
        200
    );
    // The held request finishes (its body is complete, but not valid JSON)
    // and frees the slot.
    send(&mut held, &[b' '; 989]);
    let reply = read_reply(&mut held).expect("reply");
    assert_eq!(reply.status, 400, "{reply:?}");
    assert_eq!(call(ureq::post(&url), Some(&fixture().one)).0, 200);
    server.shutdown();
}

#[test]
fn a_client_slow_to_send_headers_is_disconnected() {
    let slot = slot();
    let limit = Duration::from_millis(300);
    let server = Server::with_config(slot, ServerConfig::default().header_read_timeout(limit));
    let started = Instant::now();
    let mut tcp = connect(server.addr);
    send(
        &mut tcp,
        b"POST /invocations HTTP/1.1\r\nHost: x\r\nContent-",
    );
    // hyper answers 408 or just closes; either way the connection ends
    // soon after the limit instead of waiting for the client.
    let reply = read_reply(&mut tcp);
    let waited = started.elapsed();
    assert!(reply.as_ref().is_none_or(|r| r.status == 408), "{reply:?}");
    assert!(
        waited >= limit && waited < Duration::from_secs(10),
        "{waited:?}"
    );
    // A normal client on another connection is served.
    assert_eq!(
        call(ureq::get(&format!("{}/ping", server.base)), None).0,
        200
    );
    server.shutdown();
}

#[test]
fn invalid_configs_are_refused_before_listening() {
    for config in [
        ServerConfig::default().max_records(0),
        ServerConfig::default().max_concurrent_requests(0),
        ServerConfig::default().request_timeout(Duration::ZERO),
        ServerConfig::default().auth(Auth::new()),
    ] {
        assert!(config.validate().is_err(), "{config:?}");
    }
}
