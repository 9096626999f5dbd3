//! For every learner, the model inside a package, after the bytes round
//! trip, predicts what the learning library's own model predicts (1e-9).

mod common;

use common::TELCO;
use mlops_core::data::Frame;
use mlops_core::features::{FeatureSpec, NumericFeature, Target};
use mlops_core::model::{Lineage, ModelPackage, PackageMeta, Task};
use mlops_core::seed::Seed;
use mlops_train::prelude::*;
use ndarray::{Array1, Array2};

fn telco() -> Frame {
    let frame = Frame::read_csv(TELCO).expect("telco");
    let rows: Vec<usize> = (0..frame.n_rows()).step_by(9).collect();
    frame.take(&rows).expect("subsample")
}

/// Packs `fitted` with its features, round-trips the bytes and compares the
/// package's scores on raw rows with the library's on the same features.
fn check(
    name: &str,
    fitted: &impl FittedModel,
    spec: &FeatureSpec,
    frame: &Frame,
    x: &Array2<f64>,
    task: Task,
) {
    let features = spec.fit(frame).expect("fit");
    let meta = PackageMeta {
        name: "equivalence".into(),
        version: None,
        run_id: None,
        learner: name.into(),
        seed: 3,
        task,
        metrics: Default::default(),
        lineage: Lineage::of(frame, spec),
    };
    let package = ModelPackage::builder(meta, features, fitted.to_inference().expect("convert"))
        .build()
        .expect("package");
    let back = ModelPackage::from_bytes(&package.to_bytes().expect("bytes")).expect("decode");
    let ours = back.predict_frame(frame).expect("package scores");
    let native = fitted.predict_native(x).expect("library scores");
    assert_eq!(ours.len(), native.len());
    for (i, (a, b)) in native.iter().zip(&ours).enumerate() {
        assert!(
            (a - b).abs() <= 1e-9,
            "{name} row {i}: library {a}, package {b}"
        );
    }
}

#[test]
fn every_learner_predicts_through_its_package_as_the_library_does() {
    let frame = telco();
    let churn = FeatureSpec::infer(&frame, "Churn", Some("Yes")).expect("spec");
    let fitted = churn.fit(&frame).expect("fit");
    let (x, y): (Array2<f64>, Array1<f64>) = (
        fitted.transform(&frame).expect("x"),
        fitted.target(&frame).expect("y"),
    );
    let classification = || Task::BinaryClassification {
        positive_label: "Yes".into(),
    };
    let seed = Seed(3);
    let lr = LogisticParams::new()
        .check()
        .expect("lr")
        .fit(&x, &y, seed)
        .expect("fit");
    check("logreg", &lr, &churn, &frame, &x, classification());
    let tree = TreeParams::new()
        .max_depth(Some(6))
        .check()
        .expect("tree")
        .fit(&x, &y, seed)
        .expect("fit");
    check("tree", &tree, &churn, &frame, &x, classification());
    let rf = ForestParams::new()
        .n_trees(20)
        .check()
        .expect("rf")
        .fit(&x, &y, seed)
        .expect("fit");
    check("rf", &rf, &churn, &frame, &x, classification());
    let smartcore_rf = ForestParams::new()
        .engine(ForestEngine::Smartcore)
        .n_trees(20)
        .check()
        .expect("rf")
        .fit(&x, &y, seed)
        .expect("fit");
    check("rf", &smartcore_rf, &churn, &frame, &x, classification());

    let charges = FeatureSpec::new()
        .numeric(NumericFeature::new("tenure"))
        .numeric(NumericFeature::new("TotalCharges"))
        .target(Target::regression("MonthlyCharges"));
    let fitted = charges.fit(&frame).expect("fit");
    let (x, y) = (
        fitted.transform(&frame).expect("x"),
        fitted.target(&frame).expect("y"),
    );
    let linear = LinearParams::new()
        .check()
        .expect("linear")
        .fit(&x, &y, seed)
        .expect("fit");
    check("linear", &linear, &charges, &frame, &x, Task::Regression);
}
