//! Running the real `mlops` binary from the integration tests, and the
//! output contract every command keeps (JSON on stdout, one-line errors).

// Not every test file uses every helper.
#![allow(dead_code)]

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

/// `mlops ARGS...` against `store`, with no log filter and a fixed user.
pub fn mlops_in(store: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mlops"))
        .args(args)
        .env("MLOPS_STORE", store)
        .env("USER", "ana")
        .env_remove("RUST_LOG")
        .output()
        .expect("run mlops")
}

/// Runs a command that must succeed; returns its stdout as text.
pub fn ok_text(store: &Path, args: &[&str]) -> String {
    let out = mlops_in(store, args);
    assert!(
        out.status.success(),
        "mlops {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8 stdout")
}

/// `mlops ARGS...` that must succeed; its stdout as one JSON document (the
/// caller passes `--json` where the command needs it).
pub fn json_ok(store: &Path, args: &[&str]) -> Value {
    serde_json::from_str(&ok_text(store, args)).expect("stdout is one JSON document")
}

/// Every `step`-th Telco data line (after the header) written to
/// `dir/telco_sub.csv`: a small real file for commands that train.
pub fn telco_every(dir: &Path, step: usize) -> std::path::PathBuf {
    let full = std::fs::read_to_string(telco()).expect("telco csv");
    let mut lines = full.lines();
    let mut out = String::from(lines.next().expect("header"));
    out.push('\n');
    for line in lines.step_by(step) {
        out.push_str(line);
        out.push('\n');
    }
    let path = dir.join("telco_sub.csv");
    std::fs::write(&path, out).expect("write subsample");
    path
}

/// Runs a command with `--json` that must succeed; returns the document.
pub fn ok_json(store: &Path, args: &[&str]) -> Value {
    let mut args = args.to_vec();
    args.push("--json");
    let text = ok_text(store, &args);
    serde_json::from_str(&text).expect("stdout is one JSON document")
}

/// Asserts a failed run with exit code `code`: exactly one stderr line
/// containing every `needle`, no panic, nothing on stdout.
pub fn assert_error(out: &Output, code: i32, needles: &[&str]) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(code), "exit code; stderr: {stderr}");
    assert!(!stderr.contains("panicked"), "panic: {stderr}");
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "stderr is not one line: {stderr:?}");
    assert!(lines[0].starts_with("error: "), "{stderr:?}");
    for needle in needles {
        assert!(lines[0].contains(needle), "`{needle}` not in {stderr:?}");
    }
    assert!(out.stdout.is_empty(), "nothing on stdout on failure");
}

/// The `run_id`s of a JSON `{"runs": [...]}` page, in order.
pub fn run_ids(page: &Value) -> Vec<String> {
    page["runs"]
        .as_array()
        .expect("runs array")
        .iter()
        .map(|r| r["run_id"].as_str().expect("run_id").to_owned())
        .collect()
}

/// The Telco churn sample shipped with the examples.
pub fn telco() -> String {
    format!(
        "{}/../examples/data/telco_churn.csv",
        env!("CARGO_MANIFEST_DIR")
    )
}

/// `mlops train` of a seeded logistic regression on `data` (Telco
/// columns), registered as `churn` (version 1 in a fresh store); returns
/// the JSON report.
pub fn train_churn_logreg(store: &Path, data: &Path) -> Value {
    train_churn(store, data, "logreg")
}

/// `mlops --json train` of learner `model` (seed 3) on `data` (Telco
/// columns, `customerID` dropped), registered as the next version of
/// `churn`; returns the JSON report.
pub fn train_churn(store: &Path, data: &Path, model: &str) -> Value {
    json_ok(
        store,
        &[
            "--json",
            "train",
            "--data",
            data.to_str().expect("utf-8 path"),
            "--target",
            "Churn",
            "--positive",
            "Yes",
            "--model",
            model,
            "--seed",
            "3",
            "--register",
            "churn",
            "--drop",
            "customerID",
        ],
    )
}

/// `--json score --model MODEL --input INPUT --output OUTPUT EXTRA...`: the
/// arguments of an `mlops score` run.
pub fn score_args<'a>(
    model: &'a str,
    input: &'a Path,
    output: &'a Path,
    extra: &[&'a str],
) -> Vec<&'a str> {
    let mut args = vec![
        "--json",
        "score",
        "--model",
        model,
        "--input",
        input.to_str().expect("utf-8 path"),
        "--output",
        output.to_str().expect("utf-8 path"),
    ];
    args.extend_from_slice(extra);
    args
}

/// An `mlops score` run ([`score_args`]) that must succeed; its JSON
/// summary.
pub fn score_ok(store: &Path, model: &str, input: &Path, output: &Path, extra: &[&str]) -> Value {
    json_ok(store, &score_args(model, input, output, extra))
}
