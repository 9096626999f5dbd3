//! Logistic regression coefficients against scikit-learn 1.9.1 (lbfgs solved
//! to a tight tolerance, `scripts/fixtures/logistic_reference.py`) and
//! against linfa-logistic, whose estimator and solver ours reproduces.

use linfa::prelude::*;
use mlops_core::seed::Seed;
use mlops_train::learner::FittedLogistic;
use mlops_train::prelude::*;
use ndarray::{Array1, Array2};
use serde::Deserialize;

const FIXTURE: &str = include_str!("fixtures/logistic_reference.json");

#[derive(Deserialize)]
struct Reference {
    x: Vec<Vec<f64>>,
    y: Vec<f64>,
    cases: Vec<Case>,
}

#[derive(Deserialize)]
struct Case {
    l2: f64,
    fit_intercept: bool,
    coef: Vec<f64>,
    intercept: f64,
    default_max_error: f64,
}

fn data() -> (Array2<f64>, Array1<f64>, Vec<Case>) {
    let r: Reference = serde_json::from_str(FIXTURE).expect("fixture parses");
    let p = r.x[0].len();
    let x = Array2::from_shape_vec((r.x.len(), p), r.x.concat()).expect("shape");
    (x, Array1::from(r.y), r.cases)
}

fn fit(x: &Array2<f64>, y: &Array1<f64>, case: &Case, tol: Option<f64>) -> FittedLogistic {
    let mut params = LogisticParams::new()
        .l2(case.l2)
        .fit_intercept(case.fit_intercept);
    if let Some(tol) = tol {
        params = params.gradient_tolerance(tol).max_iter(1000);
    }
    params
        .check()
        .expect("valid")
        .fit(x, y, Seed(0))
        .expect("fit")
}

fn max_diff(a: &[f64], b: &[f64]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f64::max)
}

#[test]
fn tight_fit_matches_scikit_learn_optimum() {
    let (x, y, cases) = data();
    assert_eq!(cases.len(), 3);
    for case in &cases {
        let m = fit(&x, &y, case, Some(1e-9));
        let w = m.weights().as_slice().expect("contiguous");
        let d = max_diff(w, &case.coef).max((m.intercept() - case.intercept).abs());
        assert!(
            d < 1e-5,
            "l2 {} intercept {}: max |diff| {d}, ours {w:?} {}, sklearn {:?} {}",
            case.l2,
            case.fit_intercept,
            m.intercept(),
            case.coef,
            case.intercept
        );
    }
}

#[test]
fn default_tolerance_is_as_close_to_the_optimum_as_scikit_learn() {
    let (x, y, cases) = data();
    for case in &cases {
        let m = fit(&x, &y, case, None);
        assert!(m.converged(), "l2 {}", case.l2);
        let w = m.weights().as_slice().expect("contiguous");
        let d = max_diff(w, &case.coef).max((m.intercept() - case.intercept).abs());
        // No further from the optimum than scikit-learn's default fit (or
        // within 1e-3): the default tolerance is as strict as theirs.
        let bound = case.default_max_error.max(1e-3);
        assert!(
            d <= bound,
            "l2 {}: max |diff| {d}, scikit-learn's default fit {}",
            case.l2,
            case.default_max_error
        );
    }
}

#[test]
fn matches_linfa_logistic() {
    let (x, y, cases) = data();
    let labels: Array1<usize> = y.mapv(|v| v as usize);
    for case in &cases {
        let ours = fit(&x, &y, case, Some(1e-9));
        let linfa = linfa_logistic::LogisticRegression::default()
            .alpha(case.l2)
            .with_intercept(case.fit_intercept)
            .gradient_tolerance(1e-9)
            .max_iterations(1000)
            .fit(&Dataset::new(x.clone(), labels.clone()))
            .expect("linfa fits");
        // linfa models its more frequent class as "positive".
        let sign = if linfa.labels().pos.class == 1 {
            1.0
        } else {
            -1.0
        };
        let w: Vec<f64> = linfa.params().iter().map(|v| sign * v).collect();
        let d = max_diff(ours.weights().as_slice().expect("s"), &w)
            .max((ours.intercept() - sign * linfa.intercept()).abs());
        assert!(d < 1e-4, "l2 {}: max |diff| {d}", case.l2);
    }
}
