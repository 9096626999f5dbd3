//! `mlops drift` through the real binary: the JSON contract, verdicts on
//! shifted and unshifted data, and one-line errors.

#![allow(clippy::unwrap_used)]

mod harness;

use std::path::{Path, PathBuf};

use harness::{assert_error, mlops_in, ok_json, ok_text, telco};
use mlops_core::data::CsvReader;
use mlops_core::drift::{DriftOptions, Method, compare};
use serde_json::Value;

struct Files {
    dir: tempfile::TempDir,
    /// A store path that drift must never create.
    store: PathBuf,
}

impl Files {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let store = dir.path().join("store");
        Files { dir, store }
    }

    fn path(&self, name: &str) -> String {
        self.dir.path().join(name).display().to_string()
    }

    fn write(&self, name: &str, text: &str) -> String {
        std::fs::write(self.path(name), text).unwrap();
        self.path(name)
    }

    /// Synthetic Telco-schema data with population shift `shift`.
    fn synth(&self, name: &str, shift: &str) -> String {
        let out = self.path(name);
        ok_text(
            &self.store,
            &[
                "data", "synth", "--rows", "3000", "--seed", "7", "--shift", shift, "--out", &out,
            ],
        );
        out
    }

    fn drift(&self, reference: &str, current: &str, extra: &[&str]) -> Value {
        let mut args = vec!["drift", "--reference", reference, "--current", current];
        args.extend_from_slice(extra);
        ok_json(&self.store, &args)
    }
}

/// Asserts the contract's keys on the report and on every column; returns
/// the drifted column names.
fn drifted_columns(report: &Value) -> Vec<String> {
    assert!(report["drift_share"].is_f64(), "{report}");
    assert!(report["dataset_drift"].is_boolean(), "{report}");
    let columns = report["columns"].as_object().unwrap();
    assert!(!columns.is_empty());
    for (name, c) in columns {
        let method = c["method"].as_str().unwrap();
        method.parse::<Method>().unwrap();
        assert!(c["statistic"].is_number(), "{name}: {c}");
        assert!(c["threshold"].is_number(), "{name}: {c}");
        assert!(c["drifted"].is_boolean(), "{name}: {c}");
        // Present, and null exactly for the distance methods.
        let p = c
            .get("p_value")
            .unwrap_or_else(|| panic!("{name}: no p_value"));
        let has_p = ["ks", "chisquare", "ztest"].contains(&method);
        assert_eq!(p.is_number(), has_p, "{name}: {c}");
        assert_eq!(p.is_null(), !has_p, "{name}: {c}");
    }
    let drifted: Vec<String> = columns
        .iter()
        .filter(|(_, c)| c["drifted"] == true)
        .map(|(n, _)| n.clone())
        .collect();
    let share = drifted.len() as f64 / columns.len() as f64;
    assert!((report["drift_share"].as_f64().unwrap() - share).abs() < 1e-12);
    drifted
}

#[test]
fn shifted_data_drifts_and_a_copy_does_not() {
    let f = Files::new();
    let shifted = f.synth("shifted.csv", "0.8");
    let report = f.drift(&telco(), &shifted, &[]);
    let drifted = drifted_columns(&report);
    // The shift moves contracts to month-to-month and raises charges.
    for col in ["Contract", "MonthlyCharges"] {
        assert!(drifted.iter().any(|d| d == col), "{col} not in {drifted:?}");
    }
    // Evidently's choice for 7,043 reference rows: distances, not p-values.
    assert_eq!(report["columns"]["Contract"]["method"], "jensenshannon");
    assert_eq!(report["columns"]["MonthlyCharges"]["method"], "wasserstein");
    assert_eq!(report["columns"]["tenure"]["threshold"], 0.1);
    assert!(report["skipped"]["customerID"].is_string(), "{report}");

    let copy = f.write("copy.csv", &std::fs::read_to_string(telco()).unwrap());
    let same = f.drift(&telco(), &copy, &[]);
    assert!(drifted_columns(&same).is_empty(), "{same}");
    assert_eq!(same["drift_share"], 0.0);
    assert_eq!(same["dataset_drift"], false);
    assert_eq!(same["columns"].as_object().unwrap().len(), 20);

    assert!(!f.store.exists(), "drift does not create a store");
}

#[test]
fn a_filtered_subset_drifts_on_the_filter_column() {
    let f = Files::new();
    let text = std::fs::read_to_string(telco()).unwrap();
    let mut lines = text.lines();
    let mut subset = format!("{}\n", lines.next().unwrap());
    for line in lines.filter(|l| l.contains(",Month-to-month,")) {
        subset.push_str(line);
        subset.push('\n');
    }
    let current = f.write("month_to_month.csv", &subset);
    let report = f.drift(&telco(), &current, &["--columns", "Contract,tenure,gender"]);
    let columns = report["columns"].as_object().unwrap();
    assert_eq!(
        columns.keys().collect::<Vec<_>>(),
        ["Contract", "gender", "tenure"]
    );
    let mut drifted = drifted_columns(&report);
    drifted.sort();
    // Month-to-month customers are newer; gender is unrelated to contract.
    assert_eq!(drifted, ["Contract", "tenure"]);
    assert_eq!(report["dataset_drift"], true);
}

#[test]
fn forced_method_matches_the_library_on_the_same_files() {
    let f = Files::new();
    let shifted = f.synth("shifted.csv", "0.5");
    let cli = f.drift(
        &telco(),
        &shifted,
        &["--columns", "tenure,MonthlyCharges", "--method", "ks"],
    );
    assert_eq!(cli["columns"]["tenure"]["method"], "ks");
    assert_eq!(cli["columns"]["tenure"]["threshold"], 0.05);
    assert!(cli["columns"]["tenure"]["p_value"].as_f64().unwrap() < 0.05);
    drifted_columns(&cli);

    let read = |p: &str| CsvReader::new().read_path(p).unwrap().frame;
    let library = compare(
        &read(&telco()),
        &read(&shifted),
        &DriftOptions::default()
            .columns(["tenure", "MonthlyCharges"])
            .method(Method::Ks),
    )
    .unwrap();
    // Through text on both sides: serde_json's default float parser may
    // land an ulp away from the printed value, so compare like with like.
    let library: Value = serde_json::from_str(&serde_json::to_string(&library).unwrap()).unwrap();
    assert_eq!(cli, library);

    let psi = f.drift(
        &telco(),
        &shifted,
        &["--columns", "Contract", "--method", "psi"],
    );
    assert_eq!(psi["columns"]["Contract"]["method"], "psi");
    assert!(psi["columns"]["Contract"]["p_value"].is_null());
}

#[test]
fn human_output_is_the_report_table() {
    let f = Files::new();
    let shifted = f.synth("shifted.csv", "0.8");
    let text = ok_text(
        &f.store,
        &[
            "drift",
            "--reference",
            &telco(),
            "--current",
            &shifted,
            "--columns",
            "Contract,gender",
        ],
    );
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 4, "{text}");
    assert!(lines[0].starts_with("column") && lines[0].contains("p-value"));
    assert!(lines[1].starts_with("Contract") && lines[1].ends_with("YES"));
    assert!(lines[2].starts_with("gender") && lines[2].ends_with("no"));
    assert_eq!(
        lines[3],
        "drifted columns: 1/2 (share 0.500, threshold 0.5) -> dataset drift: YES"
    );
}

#[test]
fn errors_are_one_line() {
    let f = Files::new();
    let run = |reference: &str, current: &str, extra: &[&str]| {
        let mut args = vec!["drift", "--reference", reference, "--current", current];
        args.extend_from_slice(extra);
        mlops_in(&f.store, &args)
    };
    let missing = f.path("missing.csv");
    assert_error(&run(&telco(), &missing, &[]), 1, &["missing.csv"]);
    assert_error(
        &run(&telco(), &telco(), &["--columns", "tenure,nope"]),
        1,
        &["`nope`"],
    );
    assert_error(
        &run(&telco(), &telco(), &["--method", "magic"]),
        2,
        &["unknown drift method `magic`", "auto"],
    );
    // Numeric in the reference, text in the current file: the current file
    // is read with the reference's types, so the bad cell is named.
    let reference = f.write("ref.csv", "x,y\n1,a\n2,b\n3,c\n");
    let current = f.write("cur.csv", "x,y\n1,a\nlots,b\n3,c\n");
    assert_error(
        &run(&reference, &current, &[]),
        1,
        &["cur.csv:3", "`x`", "lots"],
    );
    assert!(!Path::new(&f.store).exists());
}
