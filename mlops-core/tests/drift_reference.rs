//! `mlops_core::drift` against values computed by scipy/numpy with
//! Evidently's logic (scripts/fixtures/drift_reference.py). No Python needed.

// Fixture helpers panic on a malformed fixture, which is the failure we want.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::path::PathBuf;

use mlops_core::data::{CategoricalColumn, Column, Frame, NumericColumn};
use mlops_core::drift::distance::{
    hellinger, jensen_shannon, kl_divergence, wasserstein_normed_sorted,
};
use mlops_core::drift::ks::{KsMethod, ks_2samp, kstwo_sf};
use mlops_core::drift::{ColumnKind, DriftOptions, Method, Sample, compare, test_samples};
use serde_json::Value;

fn fixture() -> Value {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/drift/reference.json");
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

fn floats(v: &Value) -> Vec<f64> {
    v.as_array().unwrap().iter().map(num).collect()
}

fn num(x: &Value) -> f64 {
    match x {
        Value::String(s) if s == "inf" => f64::INFINITY,
        Value::String(s) if s == "-inf" => f64::NEG_INFINITY,
        Value::Null => f64::NAN,
        v => v.as_f64().unwrap(),
    }
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_str().unwrap().to_owned())
        .collect()
}

/// p-values: 1e-6 relative or 1e-12 absolute.
fn close_p(got: f64, want: f64, what: &str) {
    let ok = (got - want).abs() <= 1e-12 || (got - want).abs() <= 1e-6 * want.abs();
    assert!(ok, "{what}: got {got:e}, scipy {want:e}");
}

fn close(got: f64, want: f64, what: &str) {
    let ok = (got - want).abs() <= 1e-12 || (got - want).abs() <= 1e-9 * want.abs();
    assert!(ok, "{what}: got {got:e}, reference {want:e}");
}

#[test]
fn ks_matches_scipy_exact_and_asymptotic() {
    let f = fixture();
    for case in f["ks"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let r = ks_2samp(&floats(&case["a"]), &floats(&case["b"])).unwrap();
        close(r.statistic, case["statistic"].as_f64().unwrap(), name);
        close_p(r.p_value, case["p_value"].as_f64().unwrap(), name);
    }
    let base = floats(&f["ks_large"]["base"]);
    for case in f["ks_large"]["cases"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let r = ks_2samp(&base, &floats(&case["b"])).unwrap();
        assert_eq!(r.method, KsMethod::Asymptotic, "{name}");
        close(r.statistic, case["statistic"].as_f64().unwrap(), name);
        close_p(r.p_value, case["p_value"].as_f64().unwrap(), name);
    }
}

#[test]
fn kstwo_sf_matches_scipy_on_every_branch() {
    for case in fixture()["kstwo"].as_array().unwrap() {
        let (n, d) = (case["n"].as_u64().unwrap(), case["d"].as_f64().unwrap());
        close_p(
            kstwo_sf(d, n),
            case["sf"].as_f64().unwrap(),
            &format!("kstwo.sf({d}, {n})"),
        );
    }
}

fn sample(v: &Value, kind: &str) -> Sample {
    if kind == "numerical" {
        Sample::numeric(floats(v))
    } else {
        let s = strings(v);
        Sample::categorical(s.iter().map(|x| Some(x.as_str())))
    }
}

#[test]
fn distances_match_numpy_and_scipy() {
    for case in fixture()["distances"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let kind_s = case["kind"].as_str().unwrap();
        let kind = if kind_s == "numerical" {
            ColumnKind::Numerical
        } else {
            ColumnKind::Categorical
        };
        let (a, b) = (sample(&case["a"], kind_s), sample(&case["b"], kind_s));
        for (m, key) in [
            (Method::JensenShannon, "jensenshannon"),
            (Method::Hellinger, "hellinger"),
            (Method::Psi, "psi"),
            (Method::Kl, "kl"),
            (Method::Wasserstein, "wasserstein"),
        ] {
            let Some(want) = case[key].as_f64() else {
                continue;
            };
            let got = test_samples(kind, m, m.default_threshold(), &a, &b).unwrap();
            close(got.statistic, want, &format!("{name} {key}"));
            assert_eq!(got.drifted, want >= 0.1, "{name} {key}");
        }
    }
    // The distance functions directly, on shares.
    assert!((jensen_shannon(&[0.5, 0.5], &[0.5, 0.5])).abs() < 1e-15);
    assert!((hellinger(&[0.25, 0.75], &[0.25, 0.75])).abs() < 1e-15);
    assert!(kl_divergence(&[0.5, 0.5], &[0.9, 0.1]) > 0.0);
    assert_eq!(wasserstein_normed_sorted(&[1.0, 1.0], &[1.0, 1.0]), 0.0);
}

#[test]
fn categorical_tests_match_scipy() {
    for case in fixture()["categorical_tests"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let (a, b) = (sample(&case["a"], "c"), sample(&case["b"], "c"));
        if let Some(want) = case.get("chisquare") {
            let got =
                test_samples(ColumnKind::Categorical, Method::ChiSquare, 0.05, &a, &b).unwrap();
            let w = floats(want);
            if w[0].is_finite() {
                close(got.statistic, w[0], name);
            } else {
                assert!(got.statistic.is_infinite(), "{name}");
            }
            close_p(got.p_value.unwrap(), w[1], name);
        }
        if let Some(want) = case.get("ztest") {
            let got = test_samples(ColumnKind::Categorical, Method::ZTest, 0.05, &a, &b).unwrap();
            let w = floats(want);
            close(got.statistic.abs(), w[0].abs(), name);
            close_p(got.p_value.unwrap(), w[1], name);
        }
    }
}

fn column(values: &Value) -> Column {
    let arr = values.as_array().unwrap();
    let numeric = arr.iter().any(Value::is_number);
    if numeric {
        Column::Numeric(NumericColumn::from_raw(
            arr.iter()
                .map(|v| match v {
                    Value::Number(n) => n.as_f64().unwrap(),
                    Value::String(s) if s == "inf" => f64::INFINITY,
                    Value::String(s) if s == "-inf" => f64::NEG_INFINITY,
                    _ => f64::NAN,
                })
                .collect(),
        ))
    } else {
        Column::Categorical(CategoricalColumn::from_options(
            arr.iter().map(Value::as_str),
        ))
    }
}

fn frame(v: &Value) -> Frame {
    let cols = v
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, vals)| (k.clone(), column(vals)))
        .collect();
    Frame::new(cols).unwrap()
}

fn check_column(report_col: &mlops_core::drift::ColumnDrift, want: &Value, what: &str) {
    assert_eq!(
        report_col.method.name(),
        want["method"].as_str().unwrap(),
        "{what}"
    );
    let ws = want["statistic"].as_f64().unwrap();
    if report_col.method == Method::ZTest {
        close(report_col.statistic.abs(), ws.abs(), what);
    } else {
        close(report_col.statistic, ws, what);
    }
    match want["p_value"].as_f64() {
        Some(p) => close_p(report_col.p_value.unwrap(), p, what),
        None => assert!(report_col.p_value.is_none(), "{what}"),
    }
    assert_eq!(
        report_col.drifted,
        want["drifted"].as_bool().unwrap(),
        "{what}"
    );
}

#[test]
fn compare_handles_missing_and_infinite_like_evidently() {
    for case in fixture()["compare"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let report = compare(
            &frame(&case["reference"]),
            &frame(&case["current"]),
            &DriftOptions::default(),
        )
        .unwrap();
        for (col, want) in case["expected"].as_object().unwrap() {
            check_column(&report.columns[col], want, &format!("{name}/{col}"));
        }
    }
}

#[test]
fn telco_automatic_choice_matches_evidently_logic() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../examples/data/telco_churn.csv");
    let telco = Frame::read_csv(path).unwrap();
    let contract = telco.categorical("Contract").unwrap();
    for case in fixture()["telco"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let rr = floats(&case["reference_rows"]);
        let cr = floats(&case["current_rows"]);
        let ref_rows: Vec<usize> = (rr[0] as usize..rr[1] as usize).collect();
        let cur_rows: Vec<usize> = (cr[0] as usize..cr[1] as usize)
            .filter(|&i| contract.get(i) == Some("Month-to-month"))
            .collect();
        let reference = telco.take(&ref_rows).unwrap();
        let current = telco.take(&cur_rows).unwrap();
        let report = compare(&reference, &current, &DriftOptions::default()).unwrap();
        let mut tested = BTreeMap::new();
        for (col, want) in case["columns"].as_object().unwrap() {
            if want.is_null() {
                assert!(
                    report.skipped.contains_key(col),
                    "{name}/{col} should be text"
                );
                continue;
            }
            check_column(&report.columns[col], want, &format!("{name}/{col}"));
            tested.insert(col.clone(), ());
        }
        assert_eq!(report.columns.len(), tested.len());
        close(
            report.drift_share,
            case["drift_share"].as_f64().unwrap(),
            name,
        );
    }
}
