//! `Frame::describe` on the Telco file against pandas/numpy reference values
//! written by `scripts/fixtures/describe_reference.py`.

// Helpers outside #[test] fns unwrap too: failing loudly is their job.
#![allow(clippy::unwrap_used)]

use mlops_core::data::{ColumnType, Frame};
use serde_json::Value;

fn close(ours: Option<f64>, theirs: &Value, what: &str) {
    let theirs = theirs
        .as_f64()
        .unwrap_or_else(|| panic!("{what}: no reference"));
    let ours = ours.unwrap_or_else(|| panic!("{what}: missing"));
    let tol = 1e-9 * theirs.abs().max(1.0);
    assert!(
        (ours - theirs).abs() <= tol,
        "{what}: ours {ours}, pandas {theirs}"
    );
}

#[test]
fn telco_summary_matches_pandas() {
    let root = env!("CARGO_MANIFEST_DIR");
    let reference: Value = serde_json::from_str(
        &std::fs::read_to_string(format!("{root}/tests/fixtures/describe/telco_churn.json"))
            .unwrap(),
    )
    .unwrap();
    let frame = Frame::read_csv(format!("{root}/../examples/data/telco_churn.csv")).unwrap();
    let summary = frame.describe();
    assert_eq!(summary.n_rows as u64, reference["n_rows"].as_u64().unwrap());
    assert_eq!(summary.n_cols as u64, reference["n_cols"].as_u64().unwrap());
    let cols = reference["columns"].as_array().unwrap();
    assert_eq!(cols.len(), summary.columns.len());
    for (ours, theirs) in summary.columns.iter().zip(cols) {
        let name = theirs["name"].as_str().unwrap();
        assert_eq!(ours.name, name);
        assert_eq!(
            ours.count as u64,
            theirs["count"].as_u64().unwrap(),
            "{name} count"
        );
        assert_eq!(
            ours.missing as u64,
            theirs["missing"].as_u64().unwrap(),
            "{name} missing"
        );
        match theirs["type"].as_str().unwrap() {
            "numeric" => {
                assert_eq!(ours.column_type, ColumnType::Numeric, "{name}");
                let n = ours.numeric.unwrap();
                for (stat, value) in [
                    ("min", n.min),
                    ("max", n.max),
                    ("mean", n.mean),
                    ("std", n.std),
                    ("p05", n.p05),
                    ("p25", n.p25),
                    ("p50", n.p50),
                    ("p75", n.p75),
                    ("p95", n.p95),
                ] {
                    close(value, &theirs[stat], &format!("{name}.{stat}"));
                }
            }
            _ => {
                assert_eq!(ours.column_type, ColumnType::Categorical, "{name}");
                let c = ours.categorical.as_ref().unwrap();
                assert_eq!(
                    c.distinct as u64,
                    theirs["distinct"].as_u64().unwrap(),
                    "{name}"
                );
                let top: Vec<(String, u64)> = theirs["top"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|pair| {
                        (
                            pair[0].as_str().unwrap().to_owned(),
                            pair[1].as_u64().unwrap(),
                        )
                    })
                    .collect();
                let ours_top: Vec<(String, u64)> = c
                    .top
                    .iter()
                    .map(|t| (t.value.clone(), t.count as u64))
                    .collect();
                assert_eq!(ours_top, top, "{name} top categories");
            }
        }
    }
    // The Done-when figure of the issue.
    assert_eq!(summary.column("TotalCharges").unwrap().missing, 11);
}
