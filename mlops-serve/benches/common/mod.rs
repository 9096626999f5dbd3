//! The benchmark model packages: logistic regression or a random forest
//! fitted on 5,000 synthetic Telco-schema rows.

use mlops_core::features::FeatureSpec;
use mlops_core::model::{Lineage, ModelPackage, PackageMeta, Task};
use mlops_core::seed::Seed;
use mlops_core::synth::ChurnSynth;
use mlops_train::learner::{FittedModel, ForestParams, Learner, LogisticParams};

/// A package of `learner` (`logreg`, else a forest).
pub fn package(learner: &str) -> ModelPackage {
    let train = ChurnSynth::new(Seed(1))
        .rows(5_000)
        .to_frame()
        .expect("synth");
    let spec = FeatureSpec::infer(&train, "Churn", Some("Yes")).expect("spec");
    let fitted = spec.fit(&train).expect("fit");
    let (x, y) = (
        fitted.transform(&train).expect("x"),
        fitted.target(&train).expect("y"),
    );
    let model = match learner {
        "logreg" => LogisticParams::default()
            .check()
            .expect("params")
            .fit(&x, &y, Seed(2))
            .expect("fit")
            .to_inference()
            .expect("inf"),
        _ => ForestParams::default()
            .check()
            .expect("params")
            .fit(&x, &y, Seed(2))
            .expect("fit")
            .to_inference()
            .expect("inf"),
    };
    let meta = PackageMeta {
        name: learner.into(),
        version: None,
        run_id: None,
        learner: learner.into(),
        seed: 2,
        task: Task::BinaryClassification {
            positive_label: "Yes".into(),
        },
        metrics: Default::default(),
        lineage: Lineage::of(&train, &spec),
    };
    ModelPackage::builder(meta, fitted, model)
        .build()
        .expect("package")
}
