//! Logistic regression class weights mean what scikit-learn's
//! `class_weight` means: each row's loss term times its class's weight.
//! Checked on Telco against tightly solved scikit-learn fits
//! (`scripts/fixtures/class_weight_reference.py`) for a binary target
//! (explicit and balanced weights) and a multiclass one (balanced).

mod common;

use common::{assert_matches_sklearn, telco_every_fifth};
use mlops_core::seed::Seed;
use mlops_train::learner::ValidLogisticParams;
use mlops_train::metrics::{BinaryMetrics, MulticlassMetrics};
use mlops_train::prelude::*;
use serde::Deserialize;

const FIXTURE: &str = include_str!("fixtures/class_weight_reference.json");

#[derive(Deserialize)]
struct Fixture {
    n_test: usize,
    binary: Binary,
    multiclass_balanced: Fit<Vec<f64>>,
}

#[derive(Deserialize)]
struct Binary {
    unweighted: Fit<f64>,
    weighted_1_3: Fit<f64>,
    balanced: Fit<f64>,
}

#[derive(Deserialize)]
struct Fit<P> {
    proba: Vec<P>,
    log_loss: f64,
}

fn tight(weight: ClassWeight) -> ValidLogisticParams {
    LogisticParams::new()
        .class_weight(weight)
        .gradient_tolerance(1e-6)
        .max_iter(10_000)
        .check()
        .expect("valid")
}

#[test]
fn binary_class_weights_match_scikit_learn() {
    let want: Fixture = serde_json::from_str(FIXTURE).expect("fixture");
    let (data, _) = telco_every_fifth("Churn", Some("Yes"));
    assert_eq!(data.y_test.len(), want.n_test);
    let mut losses = Vec::new();
    for (name, weight, reference) in [
        ("unweighted", ClassWeight::None, &want.binary.unweighted),
        (
            "weighted 1:3",
            ClassWeight::Explicit {
                negative: 1.0,
                positive: 3.0,
            },
            &want.binary.weighted_1_3,
        ),
        ("balanced", ClassWeight::Balanced, &want.binary.balanced),
    ] {
        let fitted = tight(weight)
            .fit(&data.x_train, &data.y_train, Seed(1))
            .expect("fit");
        assert!(
            fitted.converged(),
            "{name}: {} iterations",
            fitted.iterations()
        );
        let p = fitted
            .to_inference()
            .expect("convert")
            .predict(&data.x_test)
            .expect("p");
        let m = BinaryMetrics::compute(
            data.y_test.as_slice().expect("y"),
            p.as_slice().expect("p"),
            0.5,
        )
        .expect("metrics");
        assert_matches_sklearn(
            &format!("Telco Churn {name}"),
            p.iter().copied().zip(reference.proba.iter().copied()),
            m.log_loss,
            reference.log_loss,
        );
        losses.push(m.log_loss);
    }
    // Weighting the positives moves probabilities up, so the (unweighted)
    // log loss of the weighted fits is worse: the weights did something.
    assert!(losses[1] > losses[0] + 0.05 && losses[2] > losses[0] + 0.05);
    // Two per-class weights are the explicit pair; all-ones is unweighted.
    let explicit = tight(ClassWeight::Explicit {
        negative: 1.0,
        positive: 3.0,
    })
    .fit(&data.x_train, &data.y_train, Seed(1))
    .expect("fit")
    .to_inference()
    .expect("convert");
    let per_class = tight(ClassWeight::PerClass(vec![1.0, 3.0]))
        .fit(&data.x_train, &data.y_train, Seed(1))
        .expect("fit")
        .to_inference()
        .expect("convert");
    assert_eq!(explicit, per_class);
}

#[test]
fn multiclass_balanced_weights_match_scikit_learn() {
    let want: Fixture = serde_json::from_str(FIXTURE).expect("fixture");
    let (data, _) = telco_every_fifth("Contract", None);
    let fitted = tight(ClassWeight::Balanced)
        .fit_multiclass(&data.x_train, &data.y_train, 3, Seed(1))
        .expect("fit");
    assert!(fitted.converged(), "{} iterations", fitted.iterations());
    let p = fitted
        .to_inference()
        .expect("convert")
        .predict_proba_matrix(&data.x_test)
        .expect("proba");
    let reference = &want.multiclass_balanced;
    let m =
        MulticlassMetrics::compute(data.y_test.as_slice().expect("y"), p.view()).expect("metrics");
    assert_matches_sklearn(
        "Telco Contract balanced",
        p.rows()
            .into_iter()
            .zip(&reference.proba)
            .flat_map(|(ours, theirs)| ours.to_vec().into_iter().zip(theirs.iter().copied())),
        m.log_loss,
        reference.log_loss,
    );
}
