//! Grid and random search on a Telco subsample: nested runs, best trial,
//! seeded trial sequences.

mod common;

use std::sync::Arc;

use common::TELCO;
use mlops_core::data::Frame;
use mlops_core::features::FeatureSpec;
use mlops_core::seed::Seed;
use mlops_core::store::MemoryStore;
use mlops_core::tracking::{RunStatus, Tracker};
use mlops_train::search::{ParamValues, Search};
use mlops_train::trainer::{LearnerConfig, Trainer};
use serde_json::json;

/// 700 Telco rows spread over the file.
fn telco() -> Frame {
    let frame = Frame::read_csv(TELCO).expect("telco");
    let rows: Vec<usize> = (0..frame.n_rows()).step_by(10).take(700).collect();
    frame.take(&rows).expect("subsample")
}

fn trainer(frame: &Frame, learner: &str, seed: u64) -> Trainer {
    Trainer::new(
        FeatureSpec::infer(frame, "Churn", Some("Yes")).expect("spec"),
        LearnerConfig::from_name(learner).expect("learner"),
    )
    .seed(Seed(seed))
    .experiment("search")
}

#[test]
fn grid_search_nests_trials_and_refits_the_best() {
    let frame = telco();
    let tracker = Tracker::new(Arc::new(MemoryStore::new()));
    let search = Search::grid(trainer(&frame, "tree", 3))
        .param("max_depth", ParamValues::list([2, 4, 8]))
        .param("min_samples_leaf", ParamValues::list([1, 25]))
        .folds(3);
    let params = search.trial_params().expect("grid");
    assert_eq!(params.len(), 6);
    // Cartesian product, last parameter fastest.
    assert_eq!(params[0]["max_depth"], json!(2));
    assert_eq!(params[0]["min_samples_leaf"], json!(1));
    assert_eq!(params[1]["min_samples_leaf"], json!(25));
    assert_eq!(params[5]["max_depth"], json!(8));

    let outcome = search.run(&tracker, &frame).expect("search");
    assert_eq!(outcome.metric, "roc_auc");
    assert_eq!(outcome.trials.len(), 6);

    // Every trial and the refit are children of the parent.
    let parent = tracker.get_run(&outcome.parent_run_id).expect("parent");
    assert_eq!(parent.summary.status, RunStatus::Finished);
    assert_eq!(parent.summary.params["strategy"], "grid");
    assert_eq!(parent.summary.params["folds"], "3");
    let children = tracker.children(&outcome.parent_run_id).expect("children");
    assert_eq!(children.len(), 7);
    assert!(
        children
            .iter()
            .all(|c| c.parent.as_deref() == Some(outcome.parent_run_id.as_str()))
    );

    // The best trial is the argmax of the logged CV means, and each mean is
    // the mean of the logged per-fold values.
    let mut logged = Vec::new();
    for trial in &outcome.trials {
        let run = tracker.get_run(&trial.run_id).expect("trial run");
        assert_eq!(
            run.summary.parent.as_deref(),
            Some(outcome.parent_run_id.as_str())
        );
        assert_eq!(
            run.summary.params["max_depth"],
            trial.params["max_depth"].to_string()
        );
        let mean = run.summary.metrics["cv_roc_auc_mean"].value;
        assert_eq!(mean, trial.mean);
        let folds = tracker
            .run_metrics_history(&trial.run_id, "cv_roc_auc")
            .expect("history");
        assert_eq!(folds.len(), 3);
        let folds: Vec<f64> = folds.iter().map(|p| p.value).collect();
        assert_eq!(folds, trial.fold_scores);
        assert!((folds.iter().sum::<f64>() / 3.0 - mean).abs() < 1e-12);
        logged.push(mean);
    }
    let argmax = logged
        .iter()
        .enumerate()
        .fold(0, |best, (i, v)| if *v > logged[best] { i } else { best });
    assert_eq!(outcome.best, argmax);
    assert_eq!(
        parent.summary.params["best_run_id"],
        outcome.trials[argmax].run_id
    );
    // Not all trials score the same: the search had something to choose.
    assert!(logged.iter().any(|m| (m - logged[0]).abs() > 1e-6));

    // The refit: the best hyper-parameters, nested, packaged.
    let refit = tracker.get_run(&outcome.refit.run_id).expect("refit");
    assert_eq!(
        refit.summary.parent.as_deref(),
        Some(outcome.parent_run_id.as_str())
    );
    let best = &outcome.trials[argmax];
    assert_eq!(
        refit.summary.params["max_depth"],
        best.params["max_depth"].to_string()
    );
    assert_eq!(
        refit.summary.params["min_samples_leaf"],
        best.params["min_samples_leaf"].to_string()
    );
    assert_eq!(outcome.refit.package.meta().learner, "tree");
}

#[test]
fn random_search_is_seeded() {
    let frame = telco();
    let search = |seed: u64| {
        Search::random(trainer(&frame, "logreg", seed), 4)
            .param(
                "l2",
                ParamValues::FloatRange {
                    low: 0.01,
                    high: 10.0,
                    log: true,
                },
            )
            .param("max_iter", ParamValues::IntRange { low: 50, high: 150 })
            .folds(3)
            .metric("log_loss")
    };
    let a = search(11).trial_params().expect("a");
    assert_eq!(a, search(11).trial_params().expect("again"));
    assert_ne!(a, search(12).trial_params().expect("other seed"));
    for p in &a {
        let l2 = p["l2"].as_f64().expect("float");
        assert!((0.01..=10.0).contains(&l2));
        let it = p["max_iter"].as_i64().expect("int");
        assert!((50..=150).contains(&it));
    }

    // Two full runs with the same seed: same trials, same scores, same
    // best, same refit digest.
    let run = || {
        let tracker = Tracker::new(Arc::new(MemoryStore::new()));
        search(11).run(&tracker, &frame).expect("search")
    };
    let (first, second) = (run(), run());
    let summary = |o: &mlops_train::search::SearchOutcome| {
        o.trials
            .iter()
            .map(|t| (t.params.clone(), t.fold_scores.clone()))
            .collect::<Vec<_>>()
    };
    assert_eq!(summary(&first), summary(&second));
    assert_eq!(first.best, second.best);
    assert_eq!(first.refit.package.digest(), second.refit.package.digest());
    // log_loss is minimised.
    let min = first
        .trials
        .iter()
        .map(|t| t.mean)
        .fold(f64::INFINITY, f64::min);
    assert_eq!(first.trials[first.best].mean, min);
}

#[test]
fn bad_searches_fail_before_any_run() {
    let frame = telco();
    let tracker = Tracker::new(Arc::new(MemoryStore::new()));
    let range = ParamValues::IntRange { low: 1, high: 5 };
    let cases = [
        Search::grid(trainer(&frame, "tree", 1)).param("max_depth", range.clone()),
        Search::grid(trainer(&frame, "tree", 1)).param("depth", ParamValues::list([2])),
        Search::grid(trainer(&frame, "tree", 1)).param("max_depth", ParamValues::list([0])),
        Search::grid(trainer(&frame, "tree", 1))
            .param("max_depth", ParamValues::list([2]))
            .metric("rmse"),
        Search::grid(trainer(&frame, "tree", 1))
            .param("max_depth", ParamValues::list([2]))
            .folds(1),
        Search::random(trainer(&frame, "tree", 1), 0).param("max_depth", range),
        Search::grid(trainer(&frame, "tree", 1)),
    ];
    for (i, search) in cases.iter().enumerate() {
        assert!(search.run(&tracker, &frame).is_err(), "case {i}");
    }
    assert!(
        tracker
            .get_experiment("search")
            .expect("get")
            .is_none_or(|e| { tracker.list_runs(&e).expect("runs").is_empty() })
    );
}
