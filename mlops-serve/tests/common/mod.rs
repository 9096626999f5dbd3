//! Real Telco models for the integration tests (mlops-train is a
//! dev-dependency only).
#![allow(dead_code)]

use mlops_core::data::Frame;
use mlops_core::drift::{Profile, ProfileConfig};
use mlops_core::features::{FeatureSpec, FittedFeatures};
use mlops_core::model::InferenceModel;
use mlops_core::seed::Seed;
use mlops_serve::Predictor;
use mlops_train::prelude::*;

pub const TELCO: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../examples/data/telco_churn.csv"
);

/// The Telco file split 80/20 (stratified, seed 42), features fitted on the
/// training rows.
pub struct Telco {
    pub train: Frame,
    pub test: Frame,
    pub features: FittedFeatures,
    pub profile: Profile,
}

pub fn telco() -> Telco {
    let frame = Frame::read_csv(TELCO).expect("telco csv");
    let spec = FeatureSpec::infer(&frame, "Churn", Some("Yes")).expect("spec");
    let labels: Vec<f64> = frame
        .categorical("Churn")
        .expect("churn")
        .iter()
        .map(|v| f64::from(u8::from(v == Some("Yes"))))
        .collect();
    let split = stratified_split(&labels, 0.2, Seed(42).derive("split")).expect("split");
    let train = frame.take(&split.train).expect("train");
    let test = frame.take(&split.test).expect("test");
    let features = spec.fit(&train).expect("fit");
    let profile = Profile::from_frame(&train, &ProfileConfig::default()).expect("profile");
    Telco {
        train,
        test,
        features,
        profile,
    }
}

pub fn logistic(t: &Telco) -> InferenceModel {
    let x = t.features.transform(&t.train).expect("x");
    let y = t.features.target(&t.train).expect("y");
    LogisticParams::new()
        .check()
        .expect("params")
        .fit(&x, &y, Seed(1))
        .expect("fit")
        .to_inference()
        .expect("inference")
}

pub fn forest(t: &Telco, trees: u16) -> InferenceModel {
    let x = t.features.transform(&t.train).expect("x");
    let y = t.features.target(&t.train).expect("y");
    ForestParams::new()
        .n_trees(trees)
        .check()
        .expect("params")
        .fit(&x, &y, Seed(2))
        .expect("fit")
        .to_inference()
        .expect("inference")
}

/// A monitored predictor with the training profile and score profile.
pub fn predictor(t: &Telco, model: InferenceModel, name: &str, version: u32) -> Predictor {
    let x = t.features.transform(&t.train).expect("x");
    let scores = model.predict(&x).expect("scores");
    let score_profile = Profile::from_scores(
        "score",
        scores.as_slice().expect("contiguous"),
        &ProfileConfig::default(),
    )
    .expect("score profile");
    Predictor::builder(name, t.features.clone(), model)
        .version(version)
        .profile(t.profile.clone())
        .score_profile(score_profile)
        .build()
        .expect("predictor")
}

/// A real model package: features, model, input profile, score profile.
pub fn package(t: &Telco, model: InferenceModel, learner: &str) -> mlops_core::model::ModelPackage {
    use mlops_core::model::{Lineage, ModelPackage, PackageMeta, Task};
    let inputs: Vec<&str> = t
        .features
        .input_columns()
        .iter()
        .map(|f| f.name.as_str())
        .collect();
    let profile = Profile::from_frame(
        &t.train.select(&inputs).expect("inputs"),
        &ProfileConfig::default(),
    )
    .expect("profile");
    let x = t.features.transform(&t.train).expect("x");
    let scores = model.predict(&x).expect("scores");
    let score_profile = Profile::from_scores(
        "score",
        scores.as_slice().expect("contiguous"),
        &ProfileConfig::default(),
    )
    .expect("score profile");
    let meta = PackageMeta {
        name: "churn".into(),
        version: None,
        run_id: None,
        learner: learner.into(),
        seed: 1,
        task: Task::BinaryClassification {
            positive_label: "Yes".into(),
        },
        metrics: Default::default(),
        lineage: Lineage::of(&t.train, t.features.spec()),
    };
    ModelPackage::builder(meta, t.features.clone(), model)
        .profile(profile)
        .score_profile(score_profile)
        .build()
        .expect("package")
}

/// Logs the package as a run artifact and registers it as the next version
/// of `churn`; returns the version number.
pub fn register(
    tracker: &mlops_core::tracking::Tracker,
    registry: &mlops_core::registry::Registry,
    package: &mlops_core::model::ModelPackage,
) -> u32 {
    use mlops_core::registry::NewVersion;
    use mlops_core::tracking::RunOptions;
    if registry.get_model("churn").is_err() {
        registry.create_model("churn", "test").expect("model");
    }
    let exp = tracker.experiment("churn").expect("experiment");
    let run = tracker.start_run(&exp, RunOptions::default()).expect("run");
    let digest = run
        .log_artifact("model.mlpkg", &package.to_bytes().expect("bytes"))
        .expect("artifact");
    let run_id = run.id().to_owned();
    run.finish().expect("finish");
    registry
        .register_version("churn", NewVersion::new(run_id, digest))
        .expect("register")
        .version
}

/// An in-memory store with a tracker and a registry over it.
pub fn memory_registry() -> (
    mlops_core::tracking::Tracker,
    mlops_core::registry::Registry,
) {
    let store: mlops_core::store::SharedStore =
        std::sync::Arc::new(mlops_core::store::MemoryStore::new());
    (
        mlops_core::tracking::Tracker::new(store.clone()),
        mlops_core::registry::Registry::new(store),
    )
}

/// An in-memory registry holding `churn` version 1 (logistic regression) and
/// version 2 (a forest of `trees` trees); returns both version numbers.
pub fn lr_and_rf_versions(
    t: &Telco,
    trees: u16,
) -> (
    mlops_core::tracking::Tracker,
    mlops_core::registry::Registry,
    u32,
    u32,
) {
    let (tracker, registry) = memory_registry();
    let v1 = register(&tracker, &registry, &package(t, logistic(t), "logreg"));
    let v2 = register(&tracker, &registry, &package(t, forest(t, trees), "rf"));
    (tracker, registry, v1, v2)
}

/// A multinomial logistic regression trained by the `Trainer` on every
/// Telco row for the 3-class `Contract` target (seed 1), and the frame.
pub fn contract_package() -> (mlops_core::model::ModelPackage, Frame) {
    let frame = Frame::read_csv(TELCO).expect("telco csv");
    let spec = FeatureSpec::infer(&frame, "Contract", None).expect("spec");
    let tracker = mlops_core::tracking::Tracker::new(std::sync::Arc::new(
        mlops_core::store::MemoryStore::new(),
    ));
    let package = Trainer::new(spec, LearnerConfig::from_name("logreg").expect("lr"))
        .seed(Seed(1))
        .train(&tracker, &frame)
        .expect("train")
        .package;
    (package, frame)
}
