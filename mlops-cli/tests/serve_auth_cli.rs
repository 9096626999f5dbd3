//! `mlops serve --auth-token-file` through the real binary: 401 without a
//! token, 403 out of a token's scope, 200 with one; /ping and /health open.

// Helpers outside #[test] fns unwrap too: failing loudly is their job.
#![allow(clippy::unwrap_used)]

mod harness;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use serde_json::Value;

fn status(req: ureq::Request, body: Option<&str>) -> u16 {
    let r = match body {
        Some(b) => req.set("Content-Type", "text/csv").send_string(b),
        None => req.call(),
    };
    match r {
        Ok(r) => r.status(),
        Err(ureq::Error::Status(code, _)) => code,
        Err(e) => panic!("{e}"),
    }
}

#[test]
fn serve_refuses_requests_without_a_valid_token() {
    let dir = tempfile::tempdir().unwrap();
    let data = harness::telco_every(dir.path(), 7);
    let store = dir.path().join("store");
    harness::train_churn_logreg(&store, &data);
    let tokens = dir.path().join("tokens.txt");
    std::fs::write(
        &tokens,
        "# scoring clients\nchurn-client-0123456789 churn\nfraud-client-0123456789 fraud\n",
    )
    .unwrap();
    let mut server = Command::new(env!("CARGO_BIN_EXE_mlops"))
        .args(["--store", store.to_str().unwrap(), "--json", "serve"])
        .args(["--model", "churn/1", "--addr", "127.0.0.1:0"])
        .args(["--auth-token-file", tokens.to_str().unwrap()])
        .env("MLOPS_AUTH_TOKENS", "admin-token-0123456789")
        .env("RUST_LOG", "debug")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(server.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    let hello: Value = serde_json::from_str(&first).unwrap();
    let base = format!("http://{}", hello["addr"].as_str().unwrap());
    let csv: String = std::fs::read_to_string(&data)
        .unwrap()
        .lines()
        .take(3)
        .collect::<Vec<_>>()
        .join("\n");
    let post = |auth: Option<&str>| {
        let mut r = ureq::post(&format!("{base}/invocations"));
        if let Some(t) = auth {
            r = r.set("Authorization", &format!("Bearer {t}"));
        }
        status(r, Some(&csv))
    };
    assert_eq!(post(None), 401);
    assert_eq!(post(Some("nope-nope-nope-nope-nope")), 401);
    assert_eq!(post(Some("fraud-client-0123456789")), 403);
    assert_eq!(post(Some("churn-client-0123456789")), 200);
    assert_eq!(post(Some("admin-token-0123456789")), 200);
    assert_eq!(status(ureq::get(&format!("{base}/ping")), None), 200);
    assert_eq!(status(ureq::get(&format!("{base}/health")), None), 200);
    assert_eq!(status(ureq::get(&format!("{base}/metrics")), None), 401);
    let _ = Command::new("kill").arg(server.id().to_string()).status();
    let out = server.wait_with_output().unwrap();
    assert!(out.status.success(), "{:?}", out.status);
    // Debug logging on, and still no token in the log.
    let log = String::from_utf8_lossy(&out.stderr);
    for t in ["churn-client", "fraud-client", "admin-token", "nope-nope"] {
        assert!(!log.contains(t), "token `{t}` logged:\n{log}");
    }
}
