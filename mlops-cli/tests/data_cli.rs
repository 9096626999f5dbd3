//! `mlops data ...` through the real binary: the output contract (JSON on
//! stdout, one-line errors on stderr, exit codes).

// Helpers outside #[test] fns unwrap too: failing loudly is their job.
#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

fn mlops(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mlops"))
        .args(args)
        .env_remove("RUST_LOG")
        .output()
        .expect("run mlops")
}

fn telco() -> String {
    format!(
        "{}/../examples/data/telco_churn.csv",
        env!("CARGO_MANIFEST_DIR")
    )
}

fn json_ok(args: &[&str]) -> Value {
    let out = mlops(args);
    assert!(
        out.status.success(),
        "mlops {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("stdout is one JSON document")
}

fn column<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["columns"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no column {name}"))
}

/// Asserts a failed run: non-zero exit, exactly one stderr line containing
/// every `needle`, no panic.
fn assert_one_line_error(out: &Output, needles: &[&str]) {
    assert!(!out.status.success(), "expected failure");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "panic: {stderr}");
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "stderr is not one line: {stderr:?}");
    for needle in needles {
        assert!(lines[0].contains(needle), "`{needle}` not in {stderr:?}");
    }
    assert!(out.stdout.is_empty(), "nothing on stdout on failure");
}

#[test]
fn profile_telco_json() {
    let report = json_ok(&["data", "profile", &telco(), "--json"]);
    assert_eq!(report["n_rows"], 7043);
    assert_eq!(report["n_cols"], 21);
    assert_eq!(report["columns"].as_array().unwrap().len(), 21);
    let total = column(&report, "TotalCharges");
    assert_eq!(total["type"], "numeric");
    assert_eq!(total["missing"], 11);
    assert_eq!(total["count"], 7032);
    let churn = column(&report, "Churn");
    assert_eq!(churn["type"], "categorical");
    assert_eq!(churn["categorical"]["top"][0]["value"], "No");
    assert_eq!(churn["categorical"]["top"][0]["count"], 5174);
    assert_eq!(report["rejected"].as_array().unwrap().len(), 0);
}

#[test]
fn profile_human_and_global_flag_position() {
    let out = mlops(&["--json", "data", "profile", &telco()]);
    assert!(out.status.success());
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["n_rows"], 7043);

    let out = mlops(&["data", "profile", &telco()]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.lines()
            .next()
            .unwrap()
            .ends_with("7043 rows, 21 columns")
    );
    assert!(text.contains("TotalCharges"));
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> String {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path.display().to_string()
}

#[test]
fn ragged_row_is_a_one_line_error_with_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let f = write(dir.path(), "ragged.csv", b"a,b,c\n1,2,3\n4,5,6\n7,8\n");
    assert_one_line_error(
        &mlops(&["data", "profile", &f]),
        &["ragged.csv:4", "2 fields"],
    );
}

#[test]
fn text_in_numeric_column_under_explicit_schema() {
    let dir = tempfile::tempdir().unwrap();
    let f = write(
        dir.path(),
        "text.csv",
        b"id,amount\n1,2.5\n2,3\n3,lots\n4,5\n",
    );
    let out = mlops(&["data", "profile", &f, "--schema", "amount=numeric"]);
    assert_one_line_error(&out, &["text.csv:4", "amount", "lots"]);
    // Without the schema the column is inferred categorical and reads fine.
    let report = json_ok(&["data", "profile", &f, "--json"]);
    assert_eq!(column(&report, "amount")["type"], "categorical");
    // Lenient mode reports the row instead of failing.
    let report = json_ok(&[
        "data",
        "profile",
        &f,
        "--schema",
        "amount=numeric",
        "--lenient",
        "--json",
    ]);
    assert_eq!(report["n_rows"], 3);
    assert_eq!(report["rejected"][0]["line"], 4);
    assert_eq!(report["rejected"][0]["column"], "amount");
}

#[test]
fn invalid_utf8_is_a_one_line_error_with_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let f = write(
        dir.path(),
        "bytes.csv",
        b"name,x\nok,1\nfine,2\nbad\xff\xfe,3\n",
    );
    assert_one_line_error(&mlops(&["data", "profile", &f]), &["bytes.csv:4", "UTF-8"]);
}

#[test]
fn usage_errors_are_one_line() {
    assert_one_line_error(
        &mlops(&["data", "profile", &telco(), "--schema", "tenure=date"]),
        &["date"],
    );
    assert_one_line_error(&mlops(&["data", "synth", "--out", "x.csv"]), &["--rows"]);
    assert_one_line_error(
        &mlops(&["data", "profile", "/no/such/file.csv"]),
        &["/no/such/file.csv"],
    );
    assert_one_line_error(
        &mlops(&["data", "profile", &telco(), "--schema", "nope=numeric"]),
        &["nope"],
    );
}

#[test]
fn synth_then_profile_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.csv").display().to_string();
    let b = dir.path().join("b.csv").display().to_string();
    let report = json_ok(&[
        "data", "synth", "--rows", "2000", "--seed", "9", "--out", &a, "--json",
    ]);
    assert_eq!(report["rows"], 2000);
    assert_eq!(
        report["bytes"].as_u64().unwrap(),
        std::fs::metadata(&a).unwrap().len()
    );
    json_ok(&[
        "data", "synth", "--rows", "2000", "--seed", "9", "--out", &b, "--json",
    ]);
    assert_eq!(
        std::fs::read(&a).unwrap(),
        std::fs::read(&b).unwrap(),
        "same seed, same bytes"
    );

    let synth = json_ok(&["data", "profile", &a, "--json"]);
    let real = json_ok(&["data", "profile", &telco(), "--json"]);
    assert_eq!(synth["n_rows"], 2000);
    assert_eq!(synth["n_cols"], 21);
    let names_types = |r: &Value| -> Vec<(Value, Value)> {
        r["columns"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| (c["name"].clone(), c["type"].clone()))
            .collect()
    };
    assert_eq!(names_types(&synth), names_types(&real));

    let out = mlops(&[
        "data", "synth", "--rows", "10", "--out", &a, "--shift", "1.5",
    ]);
    assert_one_line_error(&out, &["shift"]);
}

#[test]
fn a_reader_closing_the_pipe_is_not_an_error() {
    // `mlops data profile FILE | head -1`: the reader goes away before the
    // report is written. The command exits 0 without an error line.
    let mut child = Command::new(env!("CARGO_BIN_EXE_mlops"))
        .args(["data", "profile", &telco()])
        .env_remove("RUST_LOG")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn mlops");
    drop(child.stdout.take());
    let out = child.wait_with_output().expect("wait");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "exit {:?}: {stderr}", out.status);
    assert!(!stderr.contains("error"), "{stderr}");
}
