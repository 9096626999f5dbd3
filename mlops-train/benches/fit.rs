//! Fit time on the Telco training split (seeded stratified 80/20, features
//! fitted on the training rows), side by side with
//! `scripts/bench/sklearn_fit.py`.
//!
//! `cargo bench -p mlops-train --bench fit` (add `--features burn` for the
//! MLP).

// criterion's macros generate undocumented functions.
#![allow(missing_docs)]

use criterion::{Criterion, criterion_group, criterion_main};
use mlops_core::data::Frame;
use mlops_core::features::FeatureSpec;
use mlops_core::seed::Seed;
use mlops_train::prelude::*;
use ndarray::{Array1, Array2};

const TELCO: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../examples/data/telco_churn.csv"
);

fn telco_train() -> (Frame, FeatureSpec) {
    let frame = Frame::read_csv(TELCO).expect("telco reads");
    let spec = FeatureSpec::infer(&frame, "Churn", Some("Yes")).expect("spec");
    let y = spec
        .fit(&frame)
        .expect("fit")
        .target(&frame)
        .expect("target");
    let split = stratified_split(y.as_slice().expect("contiguous"), 0.2, Seed(42)).expect("split");
    (frame.take(&split.train).expect("rows"), spec)
}

fn matrix(train: &Frame, spec: &FeatureSpec) -> (Array2<f64>, Array1<f64>) {
    let fitted = spec.fit(train).expect("fit");
    (
        fitted.transform(train).expect("x"),
        fitted.target(train).expect("y"),
    )
}

fn fit(c: &mut Criterion) {
    let (train, spec) = telco_train();
    let (x, y) = matrix(&train, &spec);
    let mut group = c.benchmark_group("telco_fit");
    group.sample_size(10);
    let lr = LogisticParams::new().check().expect("valid");
    // Feature fitting + transform + model fit: scikit-learn's Pipeline.fit.
    group.bench_function("features_and_logistic_regression", |b| {
        b.iter(|| {
            let (x, y) = matrix(&train, &spec);
            lr.fit(&x, &y, Seed(42)).expect("fit")
        })
    });
    group.bench_function("logistic_regression", |b| {
        b.iter(|| lr.fit(&x, &y, Seed(42)).expect("fit"))
    });
    // The same estimator and solver through linfa-logistic (what the learner
    // used before), same tolerance, for comparison.
    let labels = y.mapv(|v| v as usize);
    group.bench_function("logistic_regression_linfa", |b| {
        b.iter(|| {
            use linfa::prelude::*;
            linfa_logistic::LogisticRegression::default()
                .alpha(1.0)
                .gradient_tolerance(1e-4 * x.nrows() as f64)
                .fit(&Dataset::new(x.clone(), labels.clone()))
                .expect("fit")
        })
    });
    let rf = ForestParams::new().n_trees(100).check().expect("valid");
    group.bench_function("random_forest_100", |b| {
        b.iter(|| rf.fit(&x, &y, Seed(42)).expect("fit"))
    });
    // smartcore's own forest (exact splits, one tree after another).
    let smartcore_rf = ForestParams::new()
        .engine(ForestEngine::Smartcore)
        .n_trees(100)
        .check()
        .expect("valid");
    group.bench_function("random_forest_100_smartcore", |b| {
        b.iter(|| smartcore_rf.fit(&x, &y, Seed(42)).expect("fit"))
    });
    // The linfa-trees tree (fit + canonical form), unlimited (the `tree`
    // default) and at depth 6, beside smartcore's tree (the binary learner
    // before) on the same rows.
    for (name, depth) in [("decision_tree", None), ("decision_tree_depth6", Some(6))] {
        let tree = TreeParams::new().max_depth(depth).check().expect("valid");
        group.bench_function(name, |b| {
            b.iter(|| tree.fit(&x, &y, Seed(42)).expect("fit"))
        });
    }
    {
        use smartcore::linalg::basic::matrix::DenseMatrix;
        use smartcore::tree::decision_tree_classifier::{
            DecisionTreeClassifier, DecisionTreeClassifierParameters,
        };
        let labels: Vec<u32> = y.iter().map(|&v| v as u32).collect();
        group.bench_function("decision_tree_smartcore", |b| {
            b.iter(|| {
                let dense =
                    DenseMatrix::new(x.nrows(), x.ncols(), x.iter().copied().collect(), false)
                        .expect("matrix");
                DecisionTreeClassifier::fit(
                    &dense,
                    &labels,
                    DecisionTreeClassifierParameters::default(),
                )
                .expect("fit")
            })
        });
    }
    #[cfg(feature = "burn")]
    {
        // Defaults: one hidden layer of 32, batches of 64, early stopping.
        let mlp = MlpParams::new().check().expect("valid");
        group.bench_function("mlp_32", |b| {
            b.iter(|| mlp.fit(&x, &y, Seed(42)).expect("fit"))
        });
    }
    group.finish();
}

criterion_group!(benches, fit);
criterion_main!(benches);
