//! Metrics against scikit-learn 1.9.1 values written by
//! `scripts/fixtures/train_reference.py`.

use mlops_train::metrics::*;
use serde::Deserialize;
use std::collections::BTreeMap;

const FIXTURE: &str = include_str!("fixtures/metrics_reference.json");
const TOL: f64 = 1e-12;

#[derive(Deserialize)]
struct Confusion {
    tn: u64,
    fp: u64,
    r#fn: u64,
    tp: u64,
}

#[derive(Deserialize)]
struct Curve {
    prob_true: Vec<f64>,
    prob_pred: Vec<f64>,
}

#[derive(Deserialize)]
struct ClassCase {
    name: String,
    y: Vec<f64>,
    scores: Vec<f64>,
    threshold: f64,
    roc_auc: f64,
    average_precision: f64,
    log_loss: f64,
    brier: f64,
    accuracy: f64,
    precision: f64,
    recall: f64,
    f1: f64,
    confusion: Confusion,
    calibration: BTreeMap<String, Curve>,
}

#[derive(Deserialize)]
struct RegCase {
    name: String,
    y: Vec<f64>,
    pred: Vec<f64>,
    rmse: f64,
    mae: f64,
    r2: f64,
}

#[derive(Deserialize)]
struct Fixture {
    classification: Vec<ClassCase>,
    regression: Vec<RegCase>,
}

fn close(name: &str, metric: &str, got: f64, want: f64) {
    assert!(
        (got - want).abs() <= TOL * want.abs().max(1.0),
        "{name}: {metric} = {got}, scikit-learn {want}"
    );
}

#[test]
fn classification_metrics_match_sklearn() {
    let fixture: Fixture = serde_json::from_str(FIXTURE).expect("fixture");
    assert!(fixture.classification.len() >= 8);
    for c in &fixture.classification {
        let n = &c.name;
        close(
            n,
            "roc_auc",
            roc_auc(&c.y, &c.scores).expect("auc"),
            c.roc_auc,
        );
        close(
            n,
            "pr_auc",
            pr_auc(&c.y, &c.scores).expect("ap"),
            c.average_precision,
        );
        close(
            n,
            "log_loss",
            log_loss(&c.y, &c.scores).expect("ll"),
            c.log_loss,
        );
        close(n, "brier", brier(&c.y, &c.scores).expect("brier"), c.brier);
        let m = BinaryMetrics::compute(&c.y, &c.scores, c.threshold).expect("all");
        assert_eq!(
            (
                m.confusion.tn,
                m.confusion.fp,
                m.confusion.fn_,
                m.confusion.tp
            ),
            (
                c.confusion.tn,
                c.confusion.fp,
                c.confusion.r#fn,
                c.confusion.tp
            ),
            "{n}: confusion"
        );
        close(n, "accuracy", m.accuracy, c.accuracy);
        close(n, "precision", m.precision, c.precision);
        close(n, "recall", m.recall, c.recall);
        close(n, "f1", m.f1, c.f1);
        for (bins, curve) in &c.calibration {
            let table =
                calibration_table(&c.y, &c.scores, bins.parse().expect("bins")).expect("cal");
            assert_eq!(table.len(), curve.prob_true.len(), "{n}: {bins} bins");
            for (b, (t, p)) in table
                .iter()
                .zip(curve.prob_true.iter().zip(&curve.prob_pred))
            {
                close(n, "calibration prob_true", b.fraction_positive, *t);
                close(n, "calibration prob_pred", b.mean_predicted, *p);
            }
        }
    }
}

#[test]
fn regression_metrics_match_sklearn() {
    let fixture: Fixture = serde_json::from_str(FIXTURE).expect("fixture");
    for c in &fixture.regression {
        let m = RegressionMetrics::compute(&c.y, &c.pred).expect("metrics");
        close(&c.name, "rmse", m.rmse, c.rmse);
        close(&c.name, "mae", m.mae, c.mae);
        close(&c.name, "r2", m.r2, c.r2);
    }
}

#[test]
fn undefined_metrics_are_errors() {
    assert!(roc_auc(&[1.0, 1.0], &[0.2, 0.3]).is_err());
    assert!(pr_auc(&[0.0, 0.0], &[0.2, 0.3]).is_err());
    assert!(roc_auc(&[0.0, 2.0], &[0.2, 0.3]).is_err());
    assert!(roc_auc(&[0.0, 1.0], &[0.2]).is_err());
    assert!(roc_auc(&[0.0, 1.0], &[0.2, f64::NAN]).is_err());
    assert!(log_loss(&[0.0, 1.0], &[0.2, 1.5]).is_err());
    assert!(calibration_table(&[0.0, 1.0], &[0.2, 0.5], 0).is_err());
    assert!(rmse(&[], &[]).is_err());
}
