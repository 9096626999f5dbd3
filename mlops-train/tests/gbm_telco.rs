//! Gradient boosting on the real Telco file against scikit-learn's
//! `HistGradientBoostingClassifier` with the same settings on the same split
//! (test = every 5th row; `scripts/fixtures/gbm_reference.py` writes
//! `fixtures/gbm_reference.json`), against our random forest, and its
//! reproducibility and early stopping.

mod common;

use common::{telco_every_fifth, telco_split};
use mlops_core::model::InferenceModel;
use mlops_core::seed::Seed;
use mlops_train::metrics::{log_loss, multiclass_log_loss, roc_auc};
use mlops_train::prelude::*;
use serde_json::Value;

const FIXTURE: &str = include_str!("fixtures/gbm_reference.json");

fn fixture() -> Value {
    serde_json::from_str(FIXTURE).expect("fixture parses")
}

/// `GbmParams` with the fixture's settings and no early stopping (as the
/// scikit-learn reference).
fn reference_params(f: &Value) -> GbmParams {
    let s = &f["settings"];
    let num = |k: &str| s[k].as_f64().expect(k);
    GbmParams::new()
        .n_estimators(num("n_estimators") as u32)
        .learning_rate(num("learning_rate"))
        .max_leaves(Some(num("max_leaves") as u32))
        .min_samples_leaf(num("min_samples_leaf") as u32)
        .l2(num("l2"))
        .early_stopping_rounds(None)
}

#[test]
fn binary_quality_matches_sklearn_and_beats_the_forest() {
    let f = fixture();
    let (data, _) = telco_every_fifth("Churn", Some("Yes"));
    let y = data.y_test.as_slice().expect("contiguous");
    let fitted = reference_params(&f)
        .check()
        .expect("valid")
        .fit(&data.x_train, &data.y_train, Seed(42))
        .expect("fit");
    let model = fitted.to_inference().expect("convert");
    assert!(matches!(model, InferenceModel::Boosted(_)));
    let p = model.predict(&data.x_test).expect("predict");
    // The inference form routes every row as the binned trees do.
    let native = fitted.predict_native(&data.x_test).expect("native");
    for (a, b) in p.iter().zip(&native) {
        assert!((a - b).abs() < 1e-12, "{a} vs {b}");
    }
    let p = p.as_slice().expect("s");
    let auc = roc_auc(y, p).expect("auc");
    let loss = log_loss(y, p).expect("log loss");

    let rf = ForestParams::new()
        .n_trees(100)
        .check()
        .expect("valid")
        .fit(&data.x_train, &data.y_train, Seed(42))
        .expect("fit")
        .to_inference()
        .expect("convert")
        .predict(&data.x_test)
        .expect("predict");
    let auc_rf = roc_auc(y, rf.as_slice().expect("s")).expect("auc");

    let sk_auc = f["binary"]["roc_auc"].as_f64().expect("auc");
    let sk_loss = f["binary"]["log_loss"].as_f64().expect("loss");
    eprintln!(
        "Telco (every 5th row held out) ROC AUC: gbm {auc:.4} (scikit-learn {sk_auc:.4}), \
         random forest {auc_rf:.4}; log loss gbm {loss:.4} (scikit-learn {sk_loss:.4})"
    );
    assert!(
        auc >= sk_auc - 0.005,
        "gbm ROC AUC {auc} vs scikit-learn {sk_auc}"
    );
    assert!(
        loss <= sk_loss + 0.005,
        "gbm log loss {loss} vs scikit-learn {sk_loss}"
    );
    assert!(auc > auc_rf, "gbm {auc} vs random forest {auc_rf}");
}

#[test]
fn multiclass_contract_matches_sklearn() {
    let f = fixture();
    let (data, fitted_features) = telco_every_fifth("Contract", None);
    assert_eq!(fitted_features.classes().expect("classes").len(), 3);
    let fitted = reference_params(&f)
        .check()
        .expect("valid")
        .fit_multiclass(&data.x_train, &data.y_train, 3, Seed(42))
        .expect("fit");
    let model = fitted.to_inference().expect("convert");
    assert_eq!(model.n_outputs(), 3);
    let p = model.predict_proba_matrix(&data.x_test).expect("proba");
    let native = fitted.predict_proba_native(&data.x_test).expect("native");
    for (a, b) in p.iter().zip(&native) {
        assert!((a - b).abs() < 1e-12, "{a} vs {b}");
    }
    let y = data.y_test.as_slice().expect("contiguous");
    let loss = multiclass_log_loss(y, p.view()).expect("loss");
    let pred = mlops_train::metrics::argmax_rows(p.view());
    let accuracy = pred
        .iter()
        .zip(y)
        .filter(|(a, b)| **a as f64 == **b)
        .count() as f64
        / y.len() as f64;
    let sk_loss = f["multiclass"]["log_loss"].as_f64().expect("loss");
    let sk_acc = f["multiclass"]["accuracy"].as_f64().expect("acc");
    eprintln!(
        "Telco Contract: gbm log loss {loss:.4} (scikit-learn {sk_loss:.4}), \
         accuracy {accuracy:.4} (scikit-learn {sk_acc:.4})"
    );
    assert!(loss <= sk_loss + 0.01, "log loss {loss} vs {sk_loss}");
    assert!(accuracy >= sk_acc - 0.01, "accuracy {accuracy} vs {sk_acc}");
}

/// The defaults (early stopping on a seeded validation share) on the
/// README's split: the best ROC AUC of our learners there, a per-round loss
/// history, and the same model bytes from the same seed on 1 and 2 threads.
#[test]
fn defaults_stop_early_and_reproduce_across_threads() {
    let data = telco_split(Seed(42));
    let y = data.y_test.as_slice().expect("contiguous");
    let params = GbmParams::new().check().expect("valid");
    let fit_on = |threads: usize| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .expect("pool")
            .install(|| {
                params
                    .fit(&data.x_train, &data.y_train, Seed(7))
                    .expect("fit")
            })
    };
    let one = fit_on(1);
    let two = fit_on(2);
    let bytes = |m: &InferenceModel| rmp_serde::to_vec_named(m).expect("encode");
    let model = one.to_inference().expect("convert");
    assert_eq!(bytes(&model), bytes(&two.to_inference().expect("convert")));
    let history = one.history();
    assert!(history.iter().all(|r| r.valid.is_some()));
    assert!(one.n_rounds() <= history.len());
    assert!(history.last().expect("rounds").train < history[0].train);
    let best = history
        .iter()
        .map(|r| r.valid.expect("valid"))
        .fold(f64::INFINITY, f64::min);
    assert_eq!(history[one.n_rounds() - 1].valid, Some(best));
    let p = model.predict(&data.x_test).expect("predict");
    let auc = roc_auc(y, p.as_slice().expect("s")).expect("auc");
    eprintln!(
        "Telco (seeded 80/20) gbm defaults: ROC AUC {auc:.4}, {} of {} rounds kept",
        one.n_rounds(),
        history.len()
    );
    // logistic regression scores 0.8498 on this split (README).
    assert!(auc > 0.8498, "gbm ROC AUC {auc}");
    // Importance: every kept split counted on some feature.
    let splits: u32 = one.split_count().iter().sum();
    assert!(splits > 0);
    assert!(one.split_gain().iter().all(|g| *g >= 0.0));
}

/// Through the `Trainer`: per-round losses as metric history, the
/// importance artifact (split gain and count, permutation importance per
/// raw column) and its bar charts in the run report.
#[test]
fn trainer_logs_round_history_and_feature_importance() {
    use mlops_core::data::Frame;
    use mlops_core::features::FeatureSpec;
    use mlops_core::report::{FeatureImportance, IMPORTANCE_ARTIFACT, run_html};
    use mlops_core::store::MemoryStore;
    use mlops_core::tracking::Tracker;
    use std::sync::Arc;

    let frame = Frame::read_csv(common::TELCO).expect("telco");
    let spec = FeatureSpec::infer(&frame, "Churn", Some("Yes")).expect("spec");
    let tracker = Tracker::new(Arc::new(MemoryStore::new()));
    let learner = LearnerConfig::from_name("gbm").expect("gbm");
    let outcome = Trainer::new(spec, learner)
        .seed(Seed(42))
        .train(&tracker, &frame)
        .expect("train");
    let train_loss = tracker
        .run_metrics_history(&outcome.run_id, "train_loss")
        .expect("history");
    let valid_loss = tracker
        .run_metrics_history(&outcome.run_id, "valid_loss")
        .expect("history");
    assert!(train_loss.len() > 10 && train_loss.len() == valid_loss.len());
    assert!(train_loss.last().expect("last").value < train_loss[0].value);

    let bytes = tracker
        .read_artifact(&outcome.run_id, IMPORTANCE_ARTIFACT)
        .expect("importance artifact");
    let imp = FeatureImportance::from_json(&bytes).expect("parse");
    assert_eq!(imp.features.len(), 60);
    let gain = imp.split_gain.as_ref().expect("gbm records split gain");
    let count = imp.split_count.as_ref().expect("tree model");
    assert_eq!((gain.len(), count.len()), (60, 60));
    assert!(count.iter().sum::<u64>() > 0);
    let perm = imp.permutation.as_ref().expect("permutation");
    assert_eq!(perm.metric, "roc_auc");
    assert_eq!(perm.columns.len(), 19);
    let top = (0..19)
        .max_by(|&a, &b| perm.mean[a].total_cmp(&perm.mean[b]))
        .expect("columns");
    eprintln!(
        "permutation importance: top {} ({:.4} ROC AUC)",
        perm.columns[top], perm.mean[top]
    );
    // Contract and tenure carry most of Telco's churn signal.
    assert!(
        ["Contract", "tenure"].contains(&perm.columns[top].as_str()),
        "{:?}",
        perm.columns[top]
    );

    let html = run_html(&tracker, &outcome.run_id).expect("report");
    assert!(html.contains("Feature importance"));
    assert!(html.contains("Permutation importance (roc_auc drop)"));
    assert!(html.contains("Split gain") && html.contains("Split count"));
    assert!(html.contains("train_loss") && html.contains("valid_loss"));
}
