//! Multiclass metrics against scikit-learn 1.9.1 values written by
//! `scripts/fixtures/multiclass_reference.py`.

use mlops_train::metrics::MulticlassMetrics;
use ndarray::Array2;
use serde::Deserialize;

const FIXTURE: &str = include_str!("fixtures/multiclass_reference.json");

#[derive(Deserialize)]
struct Case {
    name: String,
    y: Vec<f64>,
    proba: Vec<Vec<f64>>,
    accuracy: f64,
    log_loss: f64,
    confusion: Vec<Vec<u64>>,
    macro_precision: f64,
    macro_recall: f64,
    macro_f1: f64,
    weighted_precision: f64,
    weighted_recall: f64,
    weighted_f1: f64,
}

#[derive(Deserialize)]
struct Fixture {
    metrics: Vec<Case>,
}

#[test]
fn multiclass_metrics_match_scikit_learn() {
    let fixture: Fixture = serde_json::from_str(FIXTURE).expect("fixture parses");
    assert_eq!(fixture.metrics.len(), 4);
    for case in fixture.metrics {
        let k = case.proba[0].len();
        let p = Array2::from_shape_vec(
            (case.proba.len(), k),
            case.proba.iter().flatten().copied().collect(),
        )
        .expect("matrix");
        let m = MulticlassMetrics::compute(&case.y, p.view()).expect("metrics");
        assert_eq!(m.confusion, case.confusion, "{}: confusion", case.name);
        for (metric, got, want) in [
            ("accuracy", m.accuracy, case.accuracy),
            ("log_loss", m.log_loss, case.log_loss),
            ("macro_precision", m.macro_precision, case.macro_precision),
            ("macro_recall", m.macro_recall, case.macro_recall),
            ("macro_f1", m.macro_f1, case.macro_f1),
            (
                "weighted_precision",
                m.weighted_precision,
                case.weighted_precision,
            ),
            ("weighted_recall", m.weighted_recall, case.weighted_recall),
            ("weighted_f1", m.weighted_f1, case.weighted_f1),
        ] {
            assert!(
                (got - want).abs() <= 1e-12,
                "{}: {metric} is {got}, scikit-learn {want}",
                case.name
            );
        }
    }
}
