//! `mlops score` and `mlops serve` through the real binary: a model trained
//! and registered by `mlops train`, scores checked against the package's
//! own in-memory prediction (`ModelPackage::predict_frame`).

// Helpers outside #[test] fns unwrap too: failing loudly is their job.
#![allow(clippy::unwrap_used)]

mod harness;

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;

use harness::{json_ok, mlops_in as mlops};
use mlops_core::data::{ColumnType, CsvReader};
use mlops_core::model::{ModelPackage, load_registered};
use mlops_core::registry::Registry;
use mlops_core::store::{SharedStore, SledStore};
use mlops_core::tracking::Tracker;
use serde_json::Value;

/// Every seventh Telco line (about 1,000 rows).
fn telco_subsample(dir: &Path) -> PathBuf {
    harness::telco_every(dir, 7)
}

/// Trains and registers `churn` version 1 (logistic regression).
fn trained_store(dir: &Path, data: &Path) -> (PathBuf, ModelPackage) {
    let store = dir.join("store");
    harness::train_churn_logreg(&store, data);
    let s: SharedStore = Arc::new(SledStore::open(&store).unwrap());
    let package = load_registered(&Registry::new(s.clone()), &Tracker::new(s), "churn/1").unwrap();
    (store, package)
}

/// `data` with the `column` cell of data line `row` (1-based, after the
/// header) replaced by `edit(old)`, written to `dir/name`; returns the path
/// and the new cell. Telco cells hold no commas.
fn edit_cell(
    data: &Path,
    dir: &Path,
    name: &str,
    row: usize,
    column: &str,
    edit: impl FnOnce(&str) -> String,
) -> (PathBuf, String) {
    let mut lines: Vec<String> = std::fs::read_to_string(data)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect();
    let i = lines[0].split(',').position(|h| h == column).unwrap();
    let mut fields: Vec<String> = lines[row].split(',').map(str::to_owned).collect();
    fields[i] = edit(&fields[i]);
    let cell = fields[i].clone();
    lines[row] = fields.join(",");
    let path = dir.join(name);
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    (path, cell)
}

fn expected_scores(package: &ModelPackage, data: &Path) -> Vec<f64> {
    let frame = CsvReader::new()
        .column_type("TotalCharges", ColumnType::Numeric)
        .read_path(data)
        .unwrap()
        .frame;
    package.predict_frame(&frame).unwrap().to_vec()
}

#[test]
fn score_writes_ids_scores_labels_in_order_and_serve_answers_the_same() {
    let dir = tempfile::tempdir().unwrap();
    let data = telco_subsample(dir.path());
    let (store, package) = trained_store(dir.path(), &data);
    let expected = expected_scores(&package, &data);
    let out_path = dir.path().join("scores.csv");
    let summary = harness::score_ok(
        &store,
        "churn/1",
        &data,
        &out_path,
        &["--id-col", "customerID", "--chunk-rows", "64"],
    );
    for key in ["rows", "rejected", "seconds", "drift"] {
        assert!(summary.get(key).is_some(), "summary lacks {key}: {summary}");
    }
    assert_eq!(summary["rows"].as_u64(), Some(expected.len() as u64));
    assert_eq!(summary["rejected"], 0);
    assert!(summary["drift"]["columns"].is_object(), "{summary}");
    let text = std::fs::read_to_string(&out_path).unwrap();
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("customerID,score,label"));
    let input = std::fs::read_to_string(&data).unwrap();
    let ids = input.lines().skip(1).map(|l| l.split(',').next().unwrap());
    let mut n = 0;
    for ((line, id), want) in lines.zip(ids).zip(&expected) {
        let f: Vec<&str> = line.split(',').collect();
        assert_eq!(f[0], id);
        let got: f64 = f[1].parse().unwrap();
        assert!((got - want).abs() < 1e-12, "{id}: {got} vs {want}");
        assert_eq!(f[2], if got >= package.threshold() { "1" } else { "0" });
        n += 1;
    }
    assert_eq!(n, expected.len());

    // The same model over HTTP, from the registry, on a free port.
    let (server, base) = start_server(
        &store,
        &["--model", "churn/1", "--max-body-bytes", "200000"],
    );
    let csv_head: String = input.lines().take(4).collect::<Vec<_>>().join("\n");
    let resp = ureq::post(&format!("{base}/invocations"))
        .set("Content-Type", "text/csv")
        .send_string(&csv_head)
        .unwrap();
    let body: Value = serde_json::from_str(&resp.into_string().unwrap()).unwrap();
    let preds: Vec<f64> = body["predictions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    assert_eq!(preds.len(), 3);
    for (g, w) in preds.iter().zip(&expected) {
        assert!((g - w).abs() < 1e-12);
    }
    assert_eq!(body["model"], "churn/1");
    // Bad input: 400 with a JSON message naming the problem.
    let err = ureq::post(&format!("{base}/invocations"))
        .set("Content-Type", "application/json")
        .send_string(r#"{"dataframe_records": [{"tenure": "long"}]}"#)
        .unwrap_err();
    match err {
        ureq::Error::Status(400, r) => {
            let v: Value = serde_json::from_str(&r.into_string().unwrap()).unwrap();
            assert_eq!(v["error_code"], "BAD_REQUEST");
            assert!(
                v["message"].as_str().unwrap().contains("input column"),
                "{v}"
            );
        }
        other => panic!("expected 400, got {other:?}"),
    }
    // Over the size limit: 413, answered from the declared length before
    // any of the body is read (a client that kept uploading would race the
    // server closing the connection).
    let addr = base.trim_start_matches("http://");
    let mut tcp = std::net::TcpStream::connect(addr).unwrap();
    tcp.set_read_timeout(Some(std::time::Duration::from_secs(30)))
        .unwrap();
    write!(
        tcp,
        "POST /invocations HTTP/1.1\r\nHost: {addr}\r\nContent-Type: text/csv\r\n\
         Content-Length: 300000\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut reply = String::new();
    tcp.read_to_string(&mut reply).unwrap();
    assert!(reply.starts_with("HTTP/1.1 413"), "{reply}");
    assert!(reply.contains("REQUEST_TOO_LARGE"), "{reply}");
    for path in ["/ping", "/health", "/version"] {
        assert_eq!(
            ureq::get(&format!("{base}{path}")).call().unwrap().status(),
            200
        );
    }
    let metrics = ureq::get(&format!("{base}/metrics"))
        .call()
        .unwrap()
        .into_string()
        .unwrap();
    assert!(metrics.contains("# TYPE"), "{metrics}");
    // SIGTERM: graceful shutdown, exit 0.
    stop_server(server);
}

#[test]
fn score_rejects_bad_rows_and_fails_past_the_ratio() {
    let dir = tempfile::tempdir().unwrap();
    let data = telco_subsample(dir.path());
    let (store, _) = trained_store(dir.path(), &data);
    let (bad, _) = edit_cell(&data, dir.path(), "bad.csv", 9, "tenure", |_| "ten".into());
    let rows = std::fs::read_to_string(&bad).unwrap().lines().count() - 1;
    let out_path = dir.path().join("out.csv");
    let rejects = dir.path().join("rejects.csv");
    let args = |ratio: &'static str| {
        let extra = [
            "--rejects",
            rejects.to_str().unwrap(),
            "--max-reject-ratio",
            ratio,
        ];
        harness::score_args("churn/1", &bad, &out_path, &extra)
    };
    let out = mlops(&store, &args("0"));
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("1 of") && stderr.contains("line 10"),
        "{stderr}"
    );
    assert!(!out_path.exists(), "no output on failure");
    let summary = json_ok(&store, &args("0.01"));
    assert_eq!(summary["rejected"], 1);
    let rej = std::fs::read_to_string(&rejects).unwrap();
    assert!(
        rej.lines()
            .nth(1)
            .unwrap()
            .starts_with("10,tenure,`ten` is not a number"),
        "{rej}"
    );
    assert_eq!(
        std::fs::read_to_string(&out_path).unwrap().lines().count(),
        rows
    );
    // A missing model is a one-line error.
    let out = mlops(
        &store,
        &[
            "score", "--model", "nope/1", "--input", "x.csv", "--output", "y.csv",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(String::from_utf8_lossy(&out.stderr).lines().count(), 1);
}

/// The bounded-memory target: 10,000,000 synthetic rows scored with peak RSS
/// under 300 MB. Minutes of work and ~1.4 GB of disk, so opt-in:
/// `cargo test --release -p mlops-cli --test score_cli -- --ignored ten_million`
/// (needs `/usr/bin/time`). By hand: `mlops data synth --rows 10000000 --out
/// big.csv`, then `/usr/bin/time -v mlops score --model churn/1 --input
/// big.csv --output out.csv` and read "Maximum resident set size".
#[test]
#[ignore = "minutes of work; run by hand for the RSS figure"]
fn ten_million_rows_score_under_300_mb() {
    let dir = tempfile::tempdir().unwrap();
    let data = telco_subsample(dir.path());
    let (store, _) = trained_store(dir.path(), &data);
    let big = dir.path().join("big.csv");
    json_ok(
        &store,
        &[
            "--json",
            "data",
            "synth",
            "--rows",
            "10000000",
            "--out",
            big.to_str().unwrap(),
        ],
    );
    let out = Command::new("/usr/bin/time")
        .arg("-v")
        .arg(env!("CARGO_BIN_EXE_mlops"))
        .args([
            "--store",
            store.to_str().unwrap(),
            "--json",
            "score",
            "--model",
            "churn/1",
        ])
        .args(["--input", big.to_str().unwrap(), "--output"])
        .arg(dir.path().join("out.csv"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let summary: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["rows"], 10_000_000);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let kb: u64 = stderr
        .lines()
        .find_map(|l| {
            l.trim()
                .strip_prefix("Maximum resident set size (kbytes): ")
        })
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert!(kb < 300 * 1024, "peak RSS {kb} kB");
}

/// Starts `mlops serve` with `args` on a free port; returns the child and
/// the base URL it announced.
fn start_server(store: &Path, args: &[&str]) -> (std::process::Child, String) {
    let mut server = Command::new(env!("CARGO_BIN_EXE_mlops"))
        .args(["--store", store.to_str().unwrap(), "--json", "serve"])
        .args(args)
        .args(["--addr", "127.0.0.1:0"])
        .env_remove("RUST_LOG")
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
    (server, base)
}

/// SIGTERM, then checks the server shut down gracefully (exit 0).
fn stop_server(mut server: std::process::Child) {
    let _ = Command::new("kill").arg(server.id().to_string()).status();
    let status = server.wait().unwrap();
    assert!(status.success(), "{status:?}");
}

/// `mlops serve --canary`: requests split between two registered versions
/// by correlation id (sticky per id), `/metrics` per version.
#[test]
fn serve_runs_a_canary_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let data = telco_subsample(dir.path());
    let (store, _) = trained_store(dir.path(), &data);
    harness::train_churn(&store, &data, "tree");
    let (server, base) = start_server(
        &store,
        &[
            "--model",
            "churn/1",
            "--canary",
            "churn/2",
            "--canary-weight",
            "0.5",
        ],
    );
    let input = std::fs::read_to_string(&data).unwrap();
    let csv_head: String = input.lines().take(2).collect::<Vec<_>>().join("\n");
    let ask = |id: &str| -> String {
        let resp = ureq::post(&format!("{base}/invocations"))
            .set("Content-Type", "text/csv")
            .set("x-correlation-id", id)
            .send_string(&csv_head)
            .unwrap();
        let body: Value = serde_json::from_str(&resp.into_string().unwrap()).unwrap();
        body["model"].as_str().unwrap().to_owned()
    };
    let mut answered = std::collections::BTreeMap::new();
    for i in 0..60 {
        let id = format!("cust-{i}");
        let model = ask(&id);
        assert_eq!(ask(&id), model, "{id} is sticky");
        *answered.entry(model).or_insert(0) += 1;
    }
    let v1 = answered.get("churn/1").copied().unwrap_or(0);
    let v2 = answered.get("churn/2").copied().unwrap_or(0);
    assert_eq!(v1 + v2, 60, "{answered:?}");
    assert!((15..=45).contains(&v2), "{v2} of 60 at weight 0.5");
    let metrics = ureq::get(&format!("{base}/metrics"))
        .call()
        .unwrap()
        .into_string()
        .unwrap();
    let page = prometheus_parse::Scrape::parse(metrics.lines().map(|l| Ok(l.to_owned()))).unwrap();
    let weight = page
        .samples
        .iter()
        .find(|s| s.metric == "mlops_canary_weight")
        .expect("canary weight");
    assert!(matches!(weight.value, prometheus_parse::Value::Gauge(w) if w == 0.5));
    for version in ["1", "2"] {
        assert!(
            page.samples
                .iter()
                .any(|s| s.metric == "mlops_predictions_total"
                    && s.labels.get("version") == Some(version)),
            "no predictions for version {version}:\n{metrics}"
        );
    }
    stop_server(server);

    // --shadow: version 1 answers every request, version 2 scores each too.
    let (server, base) = start_server(&store, &["--model", "churn/1", "--shadow", "churn/2"]);
    for i in 0..10 {
        let resp = ureq::post(&format!("{base}/invocations"))
            .set("Content-Type", "text/csv")
            .set("x-correlation-id", &format!("cust-{i}"))
            .send_string(&csv_head)
            .unwrap();
        let body: Value = serde_json::from_str(&resp.into_string().unwrap()).unwrap();
        assert_eq!(body["model"], "churn/1");
    }
    let metrics = ureq::get(&format!("{base}/metrics"))
        .call()
        .unwrap()
        .into_string()
        .unwrap();
    let page = prometheus_parse::Scrape::parse(metrics.lines().map(|l| Ok(l.to_owned()))).unwrap();
    let compared = page
        .samples
        .iter()
        .find(|s| s.metric == "mlops_shadow_compared_total")
        .expect("shadow comparisons");
    assert!(matches!(compared.value, prometheus_parse::Value::Counter(n) if n == 10.0));
    for version in ["1", "2"] {
        let n = page
            .samples
            .iter()
            .find(|s| {
                s.metric == "mlops_predictions_total" && s.labels.get("version") == Some(version)
            })
            .map(|s| s.value.clone());
        assert!(
            matches!(n, Some(prometheus_parse::Value::Counter(n)) if n == 10.0),
            "version {version}: {n:?}\n{metrics}"
        );
    }
    stop_server(server);

    // A weight outside [0, 1] is refused before listening.
    let out = mlops(
        &store,
        &[
            "serve",
            "--model",
            "churn/1",
            "--canary",
            "churn/2",
            "--canary-weight",
            "1.5",
        ],
    );
    assert!(!out.status.success());
}

/// A multiclass target through the binary: `mlops score` writes one
/// `p_<class>` column per class and the predicted class, equal to the
/// package's probabilities.
#[test]
fn score_writes_class_probabilities_for_a_multiclass_model() {
    let dir = tempfile::tempdir().unwrap();
    let data = telco_subsample(dir.path());
    let store = dir.path().join("store");
    json_ok(
        &store,
        &[
            "--json",
            "train",
            "--data",
            data.to_str().unwrap(),
            "--target",
            "Contract",
            "--model",
            "logreg",
            "--seed",
            "3",
            "--register",
            "contract",
            "--drop",
            "customerID",
        ],
    );
    let s: SharedStore = Arc::new(SledStore::open(&store).unwrap());
    let package =
        load_registered(&Registry::new(s.clone()), &Tracker::new(s), "contract/1").unwrap();
    assert_eq!(package.classes().expect("multiclass").len(), 3);
    let frame = CsvReader::new()
        .column_type("TotalCharges", ColumnType::Numeric)
        .read_path(&data)
        .unwrap()
        .frame;
    let expected = package.predict_proba_frame(&frame).unwrap();
    let out_path = dir.path().join("classes.csv");
    let summary = harness::score_ok(
        &store,
        "contract/1",
        &data,
        &out_path,
        &["--id-col", "customerID"],
    );
    assert_eq!(summary["rejected"], 0);
    let text = std::fs::read_to_string(&out_path).unwrap();
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some("customerID,p_Month-to-month,p_One year,p_Two year,label")
    );
    let classes = package.classes().unwrap();
    let mut n = 0;
    for (row, line) in lines.enumerate() {
        let f: Vec<&str> = line.split(',').collect();
        let p: Vec<f64> = f[1..4].iter().map(|v| v.parse().unwrap()).collect();
        let want = expected.row(row);
        for (a, b) in p.iter().zip(want.iter()) {
            assert!((a - b).abs() < 1e-12, "row {row}: {a} vs {b}");
        }
        let best = (0..3).fold(0, |b, c| if want[c] > want[b] { c } else { b });
        assert_eq!(f[4], classes[best]);
        n += 1;
    }
    assert_eq!(n, frame.n_rows());
}

/// `mlops score --unknown-categories`: a real Telco row with `Contract`
/// in the wrong case is counted (`report`), scored silently (`ignore`), or
/// rejected with its line, column and the known values (`error`).
#[test]
fn score_unknown_categories_report_ignore_error() {
    let dir = tempfile::tempdir().unwrap();
    let data = telco_subsample(dir.path());
    let (store, _) = trained_store(dir.path(), &data);
    let (typo, value) = edit_cell(&data, dir.path(), "typo.csv", 4, "Contract", |_| {
        "month-to-month".into()
    });
    let (out_path, rejects) = (dir.path().join("out.csv"), dir.path().join("rejects.csv"));
    let score = |policy: &str, ratio: &str| {
        let extra = [
            "--rejects",
            rejects.to_str().unwrap(),
            "--max-reject-ratio",
            ratio,
            "--unknown-categories",
            policy,
        ];
        mlops(
            &store,
            &harness::score_args("churn/1", &typo, &out_path, &extra),
        )
    };
    let summary = |out: std::process::Output| -> Value {
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let rows = std::fs::read_to_string(&typo).unwrap().lines().count() as u64 - 1;
    let report = summary(score("report", "0"));
    assert_eq!(
        (
            report["unknown_categories"].as_u64(),
            report["rejected"].as_u64()
        ),
        (Some(1), Some(0))
    );
    let ignore = summary(score("ignore", "0"));
    assert_eq!(
        (
            ignore["unknown_categories"].as_u64(),
            ignore["scored"].as_u64()
        ),
        (Some(0), Some(rows))
    );
    // Error: the row is rejected, never dropped silently; past the default
    // ratio 0 the job fails naming it, and the rejects file says why.
    std::fs::remove_file(&out_path).unwrap();
    let out = score("error", "0");
    harness::assert_error(
        &out,
        1,
        &["1 of", "line 5", &format!("`{value}`"), "Month-to-month"],
    );
    assert!(!out_path.exists(), "no output on failure");
    let rej = std::fs::read_to_string(&rejects).unwrap();
    let line = rej.lines().nth(1).unwrap();
    assert!(
        line.starts_with(&format!(
            "5,Contract,\"category `{value}` was not seen in training; \
             known values: `Month-to-month`, `One year`, `Two year`\","
        )),
        "{rej}"
    );
    let allowed = summary(score("error", "0.01"));
    assert_eq!(
        (
            allowed["rejected"].as_u64(),
            allowed["scored"].as_u64(),
            allowed["unknown_categories"].as_u64()
        ),
        (Some(1), Some(rows - 1), Some(0))
    );
    // `mlops serve --unknown-categories error`: a 400 naming the value.
    let (server, base) = start_server(
        &store,
        &["--model", "churn/1", "--unknown-categories", "error"],
    );
    let head: String = std::fs::read_to_string(&typo)
        .unwrap()
        .lines()
        .take(5)
        .collect::<Vec<_>>()
        .join("\n");
    match ureq::post(&format!("{base}/invocations"))
        .set("Content-Type", "text/csv")
        .send_string(&head)
    {
        Err(ureq::Error::Status(400, r)) => {
            let text = r.into_string().unwrap();
            assert!(
                text.contains("month-to-month") && text.contains("Contract"),
                "{text}"
            );
        }
        other => panic!("expected 400, got {other:?}"),
    }
    stop_server(server);
    let bad = score("strict", "0");
    assert_eq!(bad.status.code(), Some(2), "clap rejects an unknown policy");
    assert!(
        String::from_utf8_lossy(&bad.stderr)
            .contains("`strict` is not one of report, error, ignore"),
        "{}",
        String::from_utf8_lossy(&bad.stderr)
    );
}
