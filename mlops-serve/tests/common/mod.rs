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
