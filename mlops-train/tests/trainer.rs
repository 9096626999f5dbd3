//! The Trainer on a Telco subsample: what it logs, what it packages, what it
//! registers.

mod common;

use std::sync::Arc;

use common::TELCO;
use mlops_core::data::Frame;
use mlops_core::drift::Profile;
use mlops_core::features::FeatureSpec;
use mlops_core::fingerprint;
use mlops_core::model::{ModelPackage, Task, load_registered};
use mlops_core::registry::{PromotionGate, Registry};
use mlops_core::seed::Seed;
use mlops_core::store::{MemoryStore, SharedStore};
use mlops_core::tracking::{RunStatus, Tracker};
use mlops_train::metrics::roc_auc;
use mlops_train::trainer::{
    LearnerConfig, PACKAGE_ARTIFACT, PROFILE_ARTIFACT, SPEC_ARTIFACT, Trainer,
};

/// 1,200 Telco rows spread over the file.
fn telco() -> Frame {
    let frame = Frame::read_csv(TELCO).expect("telco");
    let rows: Vec<usize> = (0..frame.n_rows()).step_by(5).take(1200).collect();
    frame.take(&rows).expect("subsample")
}

fn spec(frame: &Frame) -> FeatureSpec {
    FeatureSpec::infer(frame, "Churn", Some("Yes")).expect("spec")
}

#[test]
fn logs_packages_and_registers() {
    let frame = telco();
    let store: SharedStore = Arc::new(MemoryStore::new());
    let tracker = Tracker::new(store.clone());
    let gate = PromotionGate::builder()
        .higher_is_better("roc_auc", 0.0)
        .build()
        .expect("gate");
    let outcome = Trainer::new(
        spec(&frame),
        LearnerConfig::from_name("logreg").expect("lr"),
    )
    .seed(Seed(7))
    .experiment("churn")
    .data_source("telco_churn.csv")
    .threshold(0.4)
    .register("churn")
    .promote("champion", gate.clone())
    .train(&tracker, &frame)
    .expect("train");

    // The run: finished, with params, metrics, seed, inputs, environment.
    let run = tracker.get_run(&outcome.run_id).expect("run");
    let s = &run.summary;
    assert_eq!(s.status, RunStatus::Finished);
    assert_eq!(s.experiment, "churn");
    assert_eq!(s.seed, Some(7));
    assert_eq!(s.params["learner"], "logreg");
    assert_eq!(s.params["seed"], "7");
    assert_eq!(s.params["threshold"], "0.4");
    assert_eq!(s.params["l2"], "1.0");
    assert_eq!(s.params["max_iter"], "100");
    assert_eq!(
        s.params["package_digest"],
        outcome.package.digest().to_string()
    );
    for key in ["roc_auc", "pr_auc", "log_loss", "brier", "accuracy", "f1"] {
        assert_eq!(s.metrics[key].value, outcome.metrics[key], "{key}");
    }
    assert!(outcome.metrics["roc_auc"] > 0.75, "{:?}", outcome.metrics);
    let split = outcome.split.clone().expect("split from the frame");
    assert_eq!(split.train.len() + split.test.len(), frame.n_rows());
    let train = frame.take(&split.train).expect("train");
    let test = frame.take(&split.test).expect("test");
    let train_input = run
        .inputs
        .iter()
        .find(|i| i.name == "train")
        .expect("train");
    assert_eq!(
        train_input.fingerprint,
        fingerprint::frame(&train).to_string()
    );
    assert_eq!(train_input.rows, split.train.len() as u64);
    assert_eq!(train_input.source, "telco_churn.csv");
    let test_input = run.inputs.iter().find(|i| i.name == "test").expect("test");
    assert_eq!(
        test_input.fingerprint,
        fingerprint::frame(&test).to_string()
    );
    assert_eq!(run.environment.as_ref().expect("env").seed, Some(7));

    // Artifacts: the spec, the drift profile, the package.
    let spec_bytes = tracker
        .read_artifact(&outcome.run_id, SPEC_ARTIFACT)
        .expect("spec artifact");
    let logged_spec: FeatureSpec = serde_json::from_slice(&spec_bytes).expect("spec json");
    assert_eq!(logged_spec, spec(&frame));
    let profile = Profile::from_bytes(
        &tracker
            .read_artifact(&outcome.run_id, PROFILE_ARTIFACT)
            .expect("profile artifact"),
    )
    .expect("profile");
    assert_eq!(Some(&profile), outcome.package.profile());
    assert!(!profile.columns.contains_key("Churn"));

    // The evaluation curves for reports: the ROC curve's area is the logged
    // ROC AUC, and calibration bins cover every test row.
    let evaluation = mlops_core::report::Evaluation::from_json(
        &tracker
            .read_artifact(&outcome.run_id, mlops_core::report::EVALUATION_ARTIFACT)
            .expect("evaluation artifact"),
    )
    .expect("evaluation");
    assert_eq!(evaluation.roc.first(), Some(&(0.0, 0.0)));
    assert_eq!(evaluation.roc.last(), Some(&(1.0, 1.0)));
    let area: f64 = evaluation
        .roc
        .windows(2)
        .map(|w| (w[1].0 - w[0].0) * (w[1].1 + w[0].1) / 2.0)
        .sum();
    assert!((area - outcome.metrics["roc_auc"]).abs() < 1e-12);
    let binned: u64 = evaluation.calibration.iter().map(|c| c.count).sum();
    assert_eq!(binned, split.test.len() as u64);
    let html = mlops_core::report::run_html(&tracker, &outcome.run_id).expect("report");
    assert!(html.contains("ROC curve") && html.contains("Training data"));
    let bytes = tracker
        .read_artifact(&outcome.run_id, PACKAGE_ARTIFACT)
        .expect("package artifact");
    assert_eq!(
        fingerprint::bytes(&bytes).to_string(),
        outcome.artifact_digest
    );
    let package = ModelPackage::from_bytes(&bytes).expect("package");
    assert_eq!(package, outcome.package);
    let meta = package.meta();
    assert_eq!(meta.run_id.as_deref(), Some(outcome.run_id.as_str()));
    assert_eq!(meta.name, "churn");
    assert_eq!(meta.learner, "logreg");
    assert_eq!(meta.seed, 7);
    assert_eq!(
        meta.task,
        Task::BinaryClassification {
            positive_label: "Yes".into()
        }
    );
    assert_eq!(meta.metrics, outcome.metrics);
    assert_eq!(meta.lineage.dataset_fingerprint, train_input.fingerprint);
    assert_eq!(
        meta.lineage.feature_spec_digest,
        fingerprint::spec(&spec(&frame)).to_string()
    );
    assert_eq!(package.threshold(), 0.4);
    // The loaded package scores the test rows to exactly the logged metric.
    let scores = package.predict_frame(&test).expect("scores");
    let y = package.features().target(&test).expect("target");
    let auc = roc_auc(y.as_slice().expect("y"), scores.as_slice().expect("scores")).expect("auc");
    assert_eq!(auc, s.metrics["roc_auc"].value);

    // Registered as version 1 and promoted (no holder yet).
    let v1 = outcome.registered.as_ref().expect("registered");
    assert_eq!((v1.model.as_str(), v1.version), ("churn", 1));
    assert_eq!(v1.artifact_digest, outcome.artifact_digest);
    assert_eq!(v1.metrics["roc_auc"], outcome.metrics["roc_auc"]);
    assert!(outcome.gate.as_ref().expect("gate").promoted);
    let registry = Registry::new(store);
    let champion = load_registered(&registry, &tracker, "churn@champion").expect("champion");
    assert_eq!(champion.digest(), package.digest());

    // A second version that must beat the champion by a whole AUC point
    // more than is possible: registered, not promoted.
    let strict = PromotionGate::builder()
        .higher_is_better("roc_auc", 1.0)
        .build()
        .expect("gate");
    let second = Trainer::new(
        spec(&frame),
        LearnerConfig::from_name("tree")
            .expect("tree")
            .set_param("max_depth", "4")
            .expect("depth"),
    )
    .seed(Seed(7))
    .experiment("churn")
    .register("churn")
    .promote("champion", strict)
    .train(&tracker, &frame)
    .expect("train tree");
    assert_eq!(second.registered.as_ref().expect("v2").version, 2);
    assert!(!second.gate.as_ref().expect("gate").promoted);
    assert_eq!(
        registry.resolve("churn@champion").expect("alias").version,
        1
    );
    assert_eq!(
        tracker.get_run(&second.run_id).expect("run").summary.params["max_depth"],
        "4"
    );
}

#[test]
fn explicit_test_frame_and_failures() {
    let frame = telco();
    let tracker = Tracker::new(Arc::new(MemoryStore::new()));
    let (train, test) = (
        frame.take(&(0..900).collect::<Vec<_>>()).expect("train"),
        frame.take(&(900..1200).collect::<Vec<_>>()).expect("test"),
    );
    let outcome = Trainer::new(
        spec(&frame),
        LearnerConfig::from_name("rf")
            .expect("rf")
            .set_param("n_trees", "10")
            .expect("n"),
    )
    .seed(Seed(1))
    .test_frame(test.clone())
    .train(&tracker, &train)
    .expect("train");
    assert!(outcome.split.is_none());
    assert!(outcome.registered.is_none() && outcome.gate.is_none());
    let run = tracker.get_run(&outcome.run_id).expect("run");
    assert_eq!(run.summary.experiment, "default");
    let rows: Vec<u64> = ["train", "test"]
        .iter()
        .map(|n| {
            run.inputs
                .iter()
                .find(|i| i.name == *n)
                .expect("input")
                .rows
        })
        .collect();
    assert_eq!(rows, [900, 300]);
    assert_eq!(
        outcome.package.meta().lineage.dataset_fingerprint,
        fingerprint::frame(&train).to_string()
    );

    // Rejected before any run starts: regression learner, classification target.
    let err = Trainer::new(
        spec(&frame),
        LearnerConfig::from_name("linear").expect("linear"),
    )
    .train(&tracker, &frame)
    .expect_err("linear on a label");
    assert!(err.to_string().contains("classification"), "{err}");
    assert!(
        Trainer::new(
            spec(&frame),
            LearnerConfig::from_name("logreg").expect("lr")
        )
        .threshold(1.5)
        .train(&tracker, &frame)
        .is_err()
    );
    let n_runs = tracker
        .list_runs(&tracker.experiment("default").expect("exp"))
        .expect("runs")
        .len();
    assert_eq!(n_runs, 1);

    // Failing after the run started marks it failed with the reason.
    let no_contract = test.drop_columns(&["Contract"]).expect("drop");
    let err = Trainer::new(
        spec(&frame),
        LearnerConfig::from_name("logreg").expect("lr"),
    )
    .test_frame(no_contract)
    .train(&tracker, &train)
    .expect_err("test frame lacks a column");
    let runs = tracker
        .list_runs(&tracker.experiment("default").expect("exp"))
        .expect("runs");
    let failed = runs.last().expect("failed run");
    assert_eq!(failed.status, RunStatus::Failed);
    assert_eq!(failed.reason.as_deref(), Some(err.to_string().as_str()));
}

/// The MLP's per-epoch history reaches the run as metric histories.
#[cfg(feature = "burn")]
#[test]
fn mlp_logs_per_epoch_history() {
    let frame = telco();
    let tracker = Tracker::new(Arc::new(MemoryStore::new()));
    let outcome = Trainer::new(
        spec(&frame),
        LearnerConfig::from_name("mlp")
            .expect("mlp")
            .set_param("epochs", "6")
            .expect("epochs")
            .set_param("patience", "none")
            .expect("patience"),
    )
    .seed(Seed(3))
    .train(&tracker, &frame)
    .expect("train");
    for key in ["train_loss", "valid_loss", "valid_roc_auc"] {
        let points = tracker
            .run_metrics_history(&outcome.run_id, key)
            .expect("history");
        assert_eq!(points.len(), 6, "{key}");
        assert!(points.iter().all(|p| p.value.is_finite()));
    }
    assert!(outcome.metrics["roc_auc"] > 0.7, "{:?}", outcome.metrics);
}

/// `Trainer::train_path` on the same rows as CSV and as Parquet: the same
/// metrics and the same predictions, bit for bit.
#[cfg(feature = "parquet")]
#[test]
fn parquet_and_csv_files_train_the_same_package() {
    let frame = telco();
    let dir = tempfile::tempdir().expect("dir");
    let (csv, parquet) = (dir.path().join("t.csv"), dir.path().join("t.parquet"));
    frame.write_csv_path(&csv).expect("csv");
    frame.write_parquet_path(&parquet).expect("parquet");
    let train = |path: &std::path::Path| {
        let tracker = Tracker::new(Arc::new(MemoryStore::new()));
        Trainer::new(
            spec(&frame),
            LearnerConfig::from_name("logreg").expect("lr"),
        )
        .seed(Seed(7))
        .data_source("telco")
        .train_path(&tracker, path)
        .expect("train")
    };
    let (a, b) = (train(&csv), train(&parquet));
    assert_eq!(a.metrics, b.metrics);
    let bits = |p: &ModelPackage| {
        let scores = p.predict_frame(&frame).expect("predict");
        scores.iter().map(|v| v.to_bits()).collect::<Vec<_>>()
    };
    assert_eq!(bits(&a.package), bits(&b.package));
}
