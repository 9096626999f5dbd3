//! Parquet through the real binary: `mlops train`, `data profile`, `drift`,
//! `report --drift` and `score` take a `.parquet` file where they take a
//! CSV, and give the CSV's answers.

// Helpers outside #[test] fns unwrap too: failing loudly is their job.
#![allow(clippy::unwrap_used)]

mod harness;

use std::path::{Path, PathBuf};

use harness::json_ok;
use mlops_core::data::{CsvReader, Frame};

/// Every fifth Telco line as CSV and the same rows as Parquet.
fn telco_pair(dir: &Path) -> (PathBuf, PathBuf) {
    let csv = harness::telco_every(dir, 5);
    let parquet = dir.join("telco.parquet");
    CsvReader::new()
        .read_path(&csv)
        .unwrap()
        .frame
        .write_parquet_path(&parquet)
        .unwrap();
    (csv, parquet)
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn parquet_inputs_give_the_csv_answers() {
    let dir = tempfile::tempdir().unwrap();
    let (csv, parquet) = telco_pair(dir.path());
    let (store_csv, store_pq) = (dir.path().join("s1"), dir.path().join("s2"));
    let a = harness::train_churn_logreg(&store_csv, &csv);
    let b = harness::train_churn_logreg(&store_pq, &parquet);
    assert_eq!(a["metrics"], b["metrics"]);
    assert_eq!(a["package_digest"], b["package_digest"]);

    let profile = |data: &Path| json_ok(&store_csv, &["--json", "data", "profile", s(data)]);
    let (pa, pb) = (profile(&csv), profile(&parquet));
    assert_eq!(pa["columns"], pb["columns"]);

    let drift = |r: &Path, c: &Path| {
        json_ok(
            &store_csv,
            &["--json", "drift", "--reference", s(r), "--current", s(c)],
        )
    };
    assert_eq!(drift(&csv, &csv), drift(&parquet, &parquet));
    assert_eq!(drift(&csv, &csv), drift(&csv, &parquet));

    let html = dir.path().join("drift.html");
    json_ok(
        &store_csv,
        &[
            "--json",
            "report",
            "--drift",
            s(&parquet),
            s(&csv),
            "--html",
            s(&html),
        ],
    );
    assert!(std::fs::read_to_string(&html).unwrap().contains("<html"));

    // Scores: Parquet in, Parquet out equals CSV in, CSV out, bit for bit.
    let score = |input: &Path, output: &Path| {
        harness::score_ok(
            &store_csv,
            "churn/1",
            input,
            output,
            &["--id-col", "customerID"],
        )
    };
    let (out_csv, out_pq) = (dir.path().join("o.csv"), dir.path().join("o.parquet"));
    let ra = score(&csv, &out_csv);
    let rb = score(&parquet, &out_pq);
    assert_eq!(ra["rows"], rb["rows"]);
    assert_eq!(ra["drift"], rb["drift"]);
    let got = Frame::read_parquet(&out_pq).unwrap();
    let want = Frame::read_csv(&out_csv).unwrap();
    let bits = |f: &Frame| {
        let c = f.numeric("score").unwrap();
        c.raw().iter().map(|v| v.to_bits()).collect::<Vec<_>>()
    };
    assert_eq!(bits(&got), bits(&want));
    assert_eq!(
        got.column("customerID").unwrap(),
        want.column("customerID").unwrap()
    );
}
