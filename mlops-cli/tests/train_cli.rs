//! `mlops train` and `mlops models export` through the real binary, on a
//! Telco subsample.

// Helpers outside #[test] fns unwrap too: failing loudly is their job.
#![allow(clippy::unwrap_used)]

mod harness;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use harness::{assert_error as assert_one_line_error, json_ok, mlops_in as mlops};
use mlops_core::data::Frame;
use mlops_core::model::{ModelPackage, load_registered};
use mlops_core::registry::Registry;
use mlops_core::store::{SharedStore, SledStore};
use mlops_core::tracking::Tracker;
use serde_json::Value;

/// Every fifth Telco line (about 1,400 rows) written to `dir`.
fn telco_subsample(dir: &Path) -> PathBuf {
    harness::telco_every(dir, 5)
}

fn open(store: &Path) -> (Registry, Tracker) {
    let store: SharedStore = Arc::new(SledStore::open(store).unwrap());
    (Registry::new(store.clone()), Tracker::new(store))
}

#[test]
fn train_registers_and_exports() {
    let dir = tempfile::tempdir().unwrap();
    let data = telco_subsample(dir.path());
    let data = data.to_str().unwrap();
    let store = dir.path().join("store");
    let train = |seed: &str| {
        json_ok(
            &store,
            &[
                "--json",
                "train",
                "--data",
                data,
                "--target",
                "Churn",
                "--positive",
                "Yes",
                "--model",
                "rf",
                "--param",
                "n_trees=15",
                "--param",
                "max_depth=8",
                "--seed",
                seed,
                "--experiment",
                "churn-cli",
                "--register",
                "churn",
                "--drop",
                "gender",
            ],
        )
    };
    let first = train("7");
    // Exactly the contract's keys.
    let mut keys: Vec<&str> = first
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "experiment",
            "metrics",
            "model",
            "package_digest",
            "registered",
            "run_id",
            "seed"
        ]
    );
    assert_eq!(first["experiment"], "churn-cli");
    assert_eq!(first["model"], "rf");
    assert_eq!(first["seed"], 7);
    for m in ["roc_auc", "accuracy", "log_loss"] {
        assert!(first["metrics"][m].is_f64(), "{m}");
    }
    assert!(first["metrics"]["roc_auc"].as_f64().unwrap() > 0.7);
    assert_eq!(first["registered"]["name"], "churn");
    assert_eq!(first["registered"]["version"], 1);

    // Same seed and data, another process: the same package digest.
    let second = train("7");
    assert_eq!(second["package_digest"], first["package_digest"]);
    assert_ne!(second["run_id"], first["run_id"]);
    assert_eq!(second["registered"]["version"], 2);
    let other = train("8");
    assert_ne!(other["package_digest"], first["package_digest"]);

    // `models register` takes a run id alone; the same package again is a
    // new version that says which one it duplicates.
    let register = |run: &Value| {
        json_ok(
            &store,
            &[
                "--json",
                "models",
                "register",
                "churn-copy",
                "--run",
                run.as_str().unwrap(),
            ],
        )
    };
    let copy = register(&first["run_id"]);
    assert_eq!(
        (copy["model"].as_str(), copy["version"].as_u64()),
        (Some("churn-copy"), Some(1))
    );
    assert_eq!(copy["package_digest"], first["package_digest"]);
    assert_eq!(copy["duplicate_of"], Value::Null);
    assert_eq!(copy["tags"]["learner"], "rf");
    assert_eq!(copy["metrics"]["roc_auc"], first["metrics"]["roc_auc"]);
    let again = register(&second["run_id"]);
    assert_eq!(
        (again["version"].as_u64(), again["duplicate_of"].as_u64()),
        (Some(2), Some(1))
    );
    let text = harness::ok_text(
        &store,
        &[
            "models",
            "register",
            "churn-copy",
            "--run",
            other["run_id"].as_str().unwrap(),
        ],
    );
    assert!(text.starts_with("model churn-copy version 3\n"), "{text}");
    assert!(text.contains("package digest  "), "{text}");
    assert_one_line_error(
        &mlops(
            &store,
            &["models", "register", "churn-copy", "--run", "0badc0de"],
        ),
        1,
        &["churn-copy", "run 0badc0de does not exist", "register_run"],
    );

    // The run holds what the CLI said; point an alias for the export.
    {
        let (registry, tracker) = open(&store);
        let run = tracker.get_run(first["run_id"].as_str().unwrap()).unwrap();
        assert_eq!(run.summary.params["n_trees"], "15");
        assert_eq!(run.summary.params["max_depth"], "8");
        assert_eq!(
            run.summary.metrics["roc_auc"].value,
            first["metrics"]["roc_auc"].as_f64().unwrap()
        );
        registry
            .set_alias("churn", "champion", 1, "test", "first")
            .unwrap();
        let p = load_registered(&registry, &tracker, "churn@champion").unwrap();
        assert!(
            !p.signature().fields.iter().any(|f| f.name == "gender"),
            "--drop gender"
        );
    }

    let out_file = dir.path().join("champion.mlpkg");
    let export = json_ok(
        &store,
        &[
            "--json",
            "models",
            "export",
            "churn@champion",
            "--out",
            out_file.to_str().unwrap(),
        ],
    );
    assert_eq!(export["model"], "churn");
    assert_eq!(export["version"], 1);
    assert_eq!(export["package_digest"], first["package_digest"]);
    let package = ModelPackage::load(&out_file).unwrap();
    assert_eq!(
        package.digest().to_string(),
        first["package_digest"].as_str().unwrap()
    );
    assert_eq!(
        export["bytes"].as_u64().unwrap(),
        std::fs::metadata(&out_file).unwrap().len()
    );
    assert_eq!(package.meta().run_id.as_deref(), first["run_id"].as_str());
    // The exported package scores raw rows.
    let frame = Frame::read_csv(data).unwrap();
    let scores = package.predict_frame(&frame).unwrap();
    assert_eq!(scores.len(), frame.n_rows());
    assert!(scores.iter().all(|p| (0.0..=1.0).contains(p)));
}

/// `--param engine=smartcore` picks the random forest's smartcore engine:
/// seeded (same digest in another process, another model for another
/// seed), logged, and its parameters checked.
#[test]
fn train_with_the_smartcore_forest_engine() {
    let dir = tempfile::tempdir().unwrap();
    let data = telco_subsample(dir.path());
    let data = data.to_str().unwrap();
    let store = dir.path().join("store");
    let args = |engine: &'static str, seed: &'static str| -> Vec<String> {
        [
            "--json",
            "train",
            "--data",
            data,
            "--target",
            "Churn",
            "--positive",
            "Yes",
            "--model",
            "rf",
            "--param",
            "n_trees=15",
            "--param",
            engine,
            "--seed",
            seed,
        ]
        .map(str::to_owned)
        .to_vec()
    };
    let train = |engine: &'static str, seed: &'static str| {
        let args = args(engine, seed);
        json_ok(&store, &args.iter().map(String::as_str).collect::<Vec<_>>())
    };
    let first = train("engine=smartcore", "7");
    assert_eq!(first["model"], "rf");
    let auc = first["metrics"]["roc_auc"].as_f64().unwrap();
    assert!(auc > 0.7, "roc_auc {auc}");
    let again = train("engine=smartcore", "7");
    assert_eq!(again["package_digest"], first["package_digest"]);
    let other_seed = train("engine=smartcore", "8");
    assert_ne!(other_seed["package_digest"], first["package_digest"]);
    let histogram = train("engine=histogram", "7");
    assert_ne!(histogram["package_digest"], first["package_digest"]);
    {
        let (_, tracker) = open(&store);
        let run = tracker.get_run(first["run_id"].as_str().unwrap()).unwrap();
        assert_eq!(run.summary.params["engine"], "smartcore");
        let run = tracker
            .get_run(histogram["run_id"].as_str().unwrap())
            .unwrap();
        assert_eq!(run.summary.params["engine"], "histogram");
    }

    let base = [
        "train",
        "--data",
        data,
        "--target",
        "Churn",
        "--positive",
        "Yes",
        "--model",
        "rf",
    ];
    let with = |extra: &[&str]| {
        let mut args = base.to_vec();
        args.extend_from_slice(extra);
        mlops(&store, &args)
    };
    assert_one_line_error(
        &with(&["--param", "engine=ranger"]),
        1,
        &["engine", "ranger", "smartcore"],
    );
    assert_one_line_error(
        &with(&["--param", "engine=smartcore", "--param", "max_depth=65535"]),
        1,
        &["max_depth", "smartcore"],
    );
}

#[test]
fn explicit_test_data_and_errors() {
    let dir = tempfile::tempdir().unwrap();
    let data = telco_subsample(dir.path());
    let data = data.to_str().unwrap();
    let store = dir.path().join("store");
    let report = json_ok(
        &store,
        &[
            "--json",
            "train",
            "--data",
            data,
            "--test-data",
            data,
            "--target",
            "Churn",
            "--positive",
            "Yes",
            "--model",
            "tree",
            "--param",
            "max_depth=3",
        ],
    );
    assert!(report["registered"].is_null());
    assert_eq!(report["experiment"], "default");
    assert_eq!(report["seed"], 42);

    // Human output names the run and the digest.
    let out = mlops(
        &store,
        &[
            "train",
            "--data",
            data,
            "--target",
            "Churn",
            "--positive",
            "Yes",
        ],
    );
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("trained logreg") && text.contains("package "),
        "{text}"
    );

    let base = [
        "train",
        "--data",
        data,
        "--target",
        "Churn",
        "--positive",
        "Yes",
    ];
    let with = |extra: &[&str]| {
        let mut args = base.to_vec();
        args.extend_from_slice(extra);
        mlops(&store, &args)
    };
    assert_one_line_error(&with(&["--param", "depth=3"]), 1, &["depth", "max_iter"]);
    assert_one_line_error(&with(&["--param", "l2=-1"]), 1, &["l2"]);
    assert_one_line_error(&with(&["--model", "svm"]), 1, &["svm", "logreg"]);
    assert_one_line_error(&with(&["--model", "linear"]), 1, &["classification"]);
    assert_one_line_error(&with(&["--drop", "Churn"]), 1, &["target"]);
    assert_one_line_error(&with(&["--test-size", "1.5"]), 1, &["test_fraction"]);
    assert_one_line_error(
        &with(&["--test-data", data, "--test-size", "0.3"]),
        2,
        &["--test-size"],
    );
    assert_one_line_error(
        &mlops(&store, &["train", "--data", data, "--target", "Nope"]),
        1,
        &["Nope"],
    );
    assert_one_line_error(
        &mlops(
            &store,
            &["models", "export", "churn@champion", "--out", "x.mlpkg"],
        ),
        1,
        &["churn"],
    );
    assert_one_line_error(
        &mlops(
            &dir.path().join("no-store"),
            &["models", "export", "churn/1", "--out", "x.mlpkg"],
        ),
        1,
        &["no store"],
    );
}

/// A text target with three labels and no `--positive` trains multiclass:
/// the multiclass metrics are reported and the package knows its classes.
#[test]
fn text_target_with_three_labels_trains_multiclass() {
    let dir = tempfile::tempdir().unwrap();
    let data = telco_subsample(dir.path());
    let data = data.to_str().unwrap();
    let store = dir.path().join("store");
    let out = json_ok(
        &store,
        &[
            "--json",
            "train",
            "--data",
            data,
            "--target",
            "Contract",
            "--model",
            "logreg",
            "--seed",
            "3",
            "--register",
            "contract",
        ],
    );
    for m in ["accuracy", "macro_f1", "weighted_f1", "log_loss"] {
        assert!(out["metrics"][m].is_f64(), "{m}: {out}");
    }
    assert!(out["metrics"]["roc_auc"].is_null(), "{out}");
    assert!(out["metrics"]["accuracy"].as_f64().unwrap() > 0.6, "{out}");
    let (registry, tracker) = open(&store);
    let package = load_registered(&registry, &tracker, "contract/1").unwrap();
    assert_eq!(
        package.classes().unwrap(),
        ["Month-to-month", "One year", "Two year"]
    );
    assert_eq!(package.digest().to_string(), out["package_digest"]);
    // Release the store's lock before running the binary again.
    drop((registry, tracker));
    // A learner without multiclass support is a one-line usage error.
    let err = mlops(
        &store,
        &[
            "train", "--data", data, "--target", "Contract", "--model", "linear",
        ],
    );
    assert!(!err.status.success());
    let stderr = String::from_utf8_lossy(&err.stderr);
    assert!(stderr.contains("multiclass"), "{stderr}");
}

/// Per-class weights for a multiclass target from the command line: the
/// text form `class_weight=1,2.5,3` (class order = sorted labels) reaches
/// the run's params; a list of the wrong length is a one-line error.
#[test]
fn train_multiclass_with_per_class_weights() {
    let dir = tempfile::tempdir().unwrap();
    let data = telco_subsample(dir.path());
    let data = data.to_str().unwrap();
    let store = dir.path().join("store");
    let args = |weights: &'static str| {
        vec![
            "--json", "train", "--data", data, "--target", "Contract", "--model", "logreg",
            "--param", weights, "--seed", "3",
        ]
    };
    let out = json_ok(&store, &args("class_weight=1,2.5,3"));
    assert!(out["metrics"]["accuracy"].as_f64().unwrap() > 0.6, "{out}");
    let (_, tracker) = open(&store);
    let run = tracker.get_run(out["run_id"].as_str().unwrap()).unwrap();
    assert_eq!(
        run.summary.params["class_weight"],
        r#"{"PerClass":[1.0,2.5,3.0]}"#
    );
    drop(tracker);
    let bad = mlops(&store, &args("class_weight=1,2"));
    assert_one_line_error(&bad, 1, &["class_weight", "2 weights for 3 classes"]);
}
