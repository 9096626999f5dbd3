//! The Telco churn file end to end: the inferred spec, fitted statistics
//! checked directly and against scikit-learn (fixture written by
//! `scripts/fixtures/features_reference.py`).

use std::collections::BTreeMap;

use serde::Deserialize;

use super::*;
use crate::data::{Frame, Value};

const TELCO: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../examples/data/telco_churn.csv"
);
const FIXTURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/features/telco_sklearn.json"
);

const NUMERIC: [&str; 4] = ["SeniorCitizen", "tenure", "MonthlyCharges", "TotalCharges"];

#[derive(Deserialize)]
struct NumericRef {
    median: f64,
    mean: f64,
    scale: f64,
}

#[derive(Deserialize)]
struct Reference {
    train_rows: usize,
    numeric: BTreeMap<String, NumericRef>,
    categories: BTreeMap<String, Vec<String>>,
    missing_total_charges_rows: Vec<usize>,
    rows: BTreeMap<String, BTreeMap<String, f64>>,
}

fn telco() -> Frame {
    Frame::read_csv(TELCO).unwrap()
}

fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol * b.abs().max(1.0)
}

#[test]
fn inferred_spec_is_sensible() {
    let frame = telco();
    let spec = FeatureSpec::infer(&frame, "Churn", Some("Yes")).unwrap();
    assert_eq!(spec.excluded, ["customerID"]);
    assert_eq!(spec.target, Some(Target::classification("Churn", "Yes")));
    let numeric: Vec<&str> = spec.numeric.iter().map(|f| f.column.as_str()).collect();
    assert_eq!(numeric, NUMERIC);
    assert!(
        spec.numeric
            .iter()
            .all(|f| f.impute == Impute::Median && f.scale == Scale::Standard)
    );
    let categorical: Vec<&str> = spec.categorical.iter().map(|f| f.column.as_str()).collect();
    assert_eq!(categorical.len(), 15);
    assert!(categorical.contains(&"Contract") && categorical.contains(&"PaymentMethod"));
    assert!(!categorical.contains(&"Churn") && !categorical.contains(&"customerID"));
    // The inferred spec survives TOML.
    assert_eq!(
        FeatureSpec::from_toml_str(&spec.to_toml_string().unwrap()).unwrap(),
        spec
    );
}

#[test]
fn fit_on_the_whole_file() {
    let frame = telco();
    let fitted = FeatureSpec::infer(&frame, "Churn", Some("Yes"))
        .unwrap()
        .fit(&frame)
        .unwrap();
    // 4 numeric + 41 categories + 15 unknown buckets.
    let categories: usize = fitted
        .spec()
        .categorical
        .iter()
        .map(|f| fitted.categories(&f.column).unwrap().len())
        .sum();
    assert_eq!(categories, 41);
    assert_eq!(fitted.n_outputs(), 60);
    assert_eq!(fitted.input_columns().len(), 19);
    assert_eq!(fitted.input_columns()[0].name, "gender");
    let x = fitted.transform(&frame).unwrap();
    assert_eq!(x.dim(), (7043, 60));

    // TotalCharges: 11 missing cells, each given the median of the others.
    let total = frame.numeric("TotalCharges").unwrap();
    let missing: Vec<usize> = (0..total.len())
        .filter(|&r| total.get(r).is_none())
        .collect();
    assert_eq!(missing.len(), 11);
    let mut present: Vec<f64> = total.present().collect();
    present.sort_by(f64::total_cmp);
    let n = present.len();
    let median = if n % 2 == 1 {
        present[n / 2]
    } else {
        (present[n / 2 - 1] + present[n / 2]) / 2.0
    };
    let map = fitted.numeric_map("TotalCharges").unwrap();
    assert_eq!(map.fill, median);
    for &r in &missing {
        assert_eq!(x[[r, 3]], (median - map.center) / map.divisor);
    }

    // Standardised on the training rows: mean 0, population std 1.
    for (j, name) in NUMERIC.iter().enumerate() {
        let col = x.column(j);
        let mean = col.mean().unwrap();
        let std = col.std(0.0);
        assert!(mean.abs() < 1e-12, "{name}: mean {mean}");
        assert!((std - 1.0).abs() < 1e-12, "{name}: std {std}");
    }
    // Exactly one hot per categorical block, never the unknown bucket here.
    let names = fitted.output_names();
    for row in x.rows() {
        let hot: f64 = row.iter().skip(4).sum();
        assert_eq!(hot, 15.0);
    }
    for (j, name) in names.iter().enumerate() {
        if name.ends_with("=<unknown>") {
            assert_eq!(x.column(j).sum(), 0.0, "{name}");
        }
    }
    let y = fitted.target(&frame).unwrap();
    assert_eq!(y.sum(), 1869.0);

    // Records give the same rows as the frame transform.
    let mut out = vec![0.0; fitted.n_outputs()];
    for r in [0, 488, 7042] {
        let rec: Vec<Value<'_>> = fitted
            .input_columns()
            .iter()
            .map(|f| frame.value(r, frame.position(&f.name).unwrap()))
            .collect();
        assert_eq!(fitted.transform_row(&rec, &mut out).unwrap(), 0);
        assert_eq!(out.as_slice(), x.row(r).as_slice().unwrap());
    }
}

#[test]
fn matches_scikit_learn_on_a_training_split() {
    let reference: Reference =
        serde_json::from_str(&std::fs::read_to_string(FIXTURE).unwrap()).unwrap();
    let frame = telco();
    let train: Vec<usize> = (0..reference.train_rows).collect();
    let spec = FeatureSpec::infer(&frame, "Churn", Some("Yes")).unwrap();
    // Statistics come from the training rows only.
    let fitted = spec.fit(&frame.take(&train).unwrap()).unwrap();
    assert_eq!(fitted.training_rows(), 5000);
    for (column, want) in &reference.numeric {
        let map = fitted.numeric_map(column).unwrap();
        assert!(
            close(map.fill, want.median, 1e-12),
            "{column} median {} vs {}",
            map.fill,
            want.median
        );
        assert!(
            close(map.center, want.mean, 1e-12),
            "{column} mean {} vs {}",
            map.center,
            want.mean
        );
        assert!(
            close(map.divisor, want.scale, 1e-12),
            "{column} std {} vs {}",
            map.divisor,
            want.scale
        );
    }
    for (column, want) in &reference.categories {
        assert_eq!(
            fitted.categories(column).unwrap(),
            want.as_slice(),
            "{column}"
        );
    }
    // Transformed rows, training and held-out, including every row with a
    // missing TotalCharges. Our unknown buckets have no scikit-learn column.
    let x = fitted.transform(&frame).unwrap();
    let mut compared = 0;
    for (row, values) in &reference.rows {
        let r: usize = row.parse().unwrap();
        for (j, name) in fitted.output_names().iter().enumerate() {
            match values.get(name) {
                Some(&want) => {
                    assert!(
                        close(x[[r, j]], want, 1e-9),
                        "row {r} {name}: {} vs {want}",
                        x[[r, j]]
                    );
                    compared += 1;
                }
                None => {
                    assert!(name.ends_with("=<unknown>"), "{name} not in the reference");
                    assert_eq!(x[[r, j]], 0.0);
                }
            }
        }
    }
    assert_eq!(compared, reference.rows.len() * 45);
    let missing: Vec<usize> = (0..frame.n_rows())
        .filter(|&r| frame.numeric("TotalCharges").unwrap().get(r).is_none())
        .collect();
    assert_eq!(missing, reference.missing_total_charges_rows);
}
