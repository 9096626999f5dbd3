//! Multiclass on the real Telco file: predict `Contract` (Month-to-month /
//! One year / Two year) from every other column but `customerID` (`Churn`
//! included: it is known for every historical customer). Seeded stratified
//! 80/20 split, features fitted on the training rows. scikit-learn's
//! multinomial `LogisticRegression` and `RandomForestClassifier(100)` on the
//! same preprocessing (its own stratified splits, 5 seeds averaged) are in
//! `fixtures/multiclass_reference.json` (`scripts/fixtures/multiclass_reference.py`).

mod common;

use std::sync::Arc;

use common::TELCO;
use mlops_core::data::Frame;
use mlops_core::features::FeatureSpec;
use mlops_core::model::{InferenceModel, Task};
use mlops_core::seed::Seed;
use mlops_core::store::MemoryStore;
use mlops_core::tracking::Tracker;
use mlops_train::metrics::MulticlassMetrics;
use mlops_train::prelude::*;
use mlops_train::split::stratified_split;
use ndarray::{Array1, Array2};
use serde::Deserialize;

const FIXTURE: &str = include_str!("fixtures/multiclass_reference.json");
/// Our accuracy may be at most this much below scikit-learn's mean, our log
/// loss at most this much above (a single split moves accuracy by ~0.01).
const ACCURACY_MARGIN: f64 = 0.02;
const LOG_LOSS_MARGIN: f64 = 0.03;

#[derive(Deserialize)]
struct Quality {
    accuracy: f64,
    log_loss: f64,
}

#[derive(Deserialize)]
struct Contract {
    classes: Vec<String>,
    logistic_regression: Quality,
    random_forest_100: Quality,
    /// scikit-learn's `MLPClassifier` (16 hidden units); read with `burn`.
    #[cfg_attr(not(feature = "burn"), allow(dead_code))]
    mlp_16: Quality,
}

#[derive(Deserialize)]
struct Fixture {
    telco_contract: Contract,
    telco_contract_weighted: Weighted,
}

#[derive(Deserialize)]
struct WeightedFit {
    /// Probabilities of the first test rows.
    proba: Vec<Vec<f64>>,
    log_loss: f64,
}

/// scikit-learn's tightly solved multinomial fits on the split `i % 5 == 0`.
#[derive(Deserialize)]
struct Weighted {
    classes: Vec<String>,
    class_weight: Vec<f64>,
    n_test: usize,
    unweighted: WeightedFit,
    weighted: WeightedFit,
}

fn reference() -> Contract {
    serde_json::from_str::<Fixture>(FIXTURE)
        .expect("fixture")
        .telco_contract
}

struct Data {
    x_train: Array2<f64>,
    y_train: Array1<f64>,
    x_test: Array2<f64>,
    y_test: Array1<f64>,
    classes: Vec<String>,
}

fn contract_split(seed: Seed) -> Data {
    let frame = Frame::read_csv(TELCO).expect("telco");
    let spec = FeatureSpec::infer(&frame, "Contract", None).expect("spec");
    assert!(spec.target.as_ref().expect("target").multiclass);
    let y = spec.fit(&frame).expect("fit").target(&frame).expect("y");
    let split = stratified_split(y.as_slice().expect("s"), 0.2, seed).expect("split");
    let (train, test) = (
        frame.take(&split.train).expect("train"),
        frame.take(&split.test).expect("test"),
    );
    let fitted = spec.fit(&train).expect("fit on train");
    Data {
        x_train: fitted.transform(&train).expect("x"),
        y_train: fitted.target(&train).expect("y"),
        x_test: fitted.transform(&test).expect("x"),
        y_test: fitted.target(&test).expect("y"),
        classes: fitted.classes().expect("classes").to_vec(),
    }
}

/// The deterministic split of the weighted fixture: test = every 5th row.
fn every_fifth_split() -> Data {
    let (split, fitted) = common::telco_every_fifth("Contract", None);
    Data {
        x_train: split.x_train,
        y_train: split.y_train,
        x_test: split.x_test,
        y_test: split.y_test,
        classes: fitted.classes().expect("classes").to_vec(),
    }
}

/// Per-class weights are scikit-learn's `class_weight` dict: each row's loss
/// term times its class's weight. Both fits are solved tightly, so the
/// probabilities agree to the solvers' precision (1e-4 absolute; measured
/// differences are printed) and the log loss to 1e-5.
#[test]
fn telco_contract_per_class_weights_match_scikit_learn() {
    let want = serde_json::from_str::<Fixture>(FIXTURE)
        .expect("fixture")
        .telco_contract_weighted;
    let data = every_fifth_split();
    assert_eq!(data.classes, want.classes);
    assert_eq!(data.y_test.len(), want.n_test);
    let fit = |weight: ClassWeight| {
        let fitted = LogisticParams::new()
            .class_weight(weight)
            .gradient_tolerance(1e-6)
            .max_iter(10_000)
            .check()
            .expect("valid")
            .fit_multiclass(&data.x_train, &data.y_train, 3, Seed(1))
            .expect("fit");
        assert!(fitted.converged(), "{} iterations", fitted.iterations());
        fitted.to_inference().expect("convert")
    };
    for (name, weight, reference) in [
        ("unweighted", ClassWeight::None, &want.unweighted),
        (
            "weighted",
            ClassWeight::PerClass(want.class_weight.clone()),
            &want.weighted,
        ),
    ] {
        let model = fit(weight);
        let p = model.predict_proba_matrix(&data.x_test).expect("proba");
        let m = MulticlassMetrics::compute(data.y_test.as_slice().expect("s"), p.view())
            .expect("metrics");
        common::assert_matches_sklearn(
            &format!("Telco Contract {name}"),
            p.rows()
                .into_iter()
                .zip(&reference.proba)
                .flat_map(|(ours, theirs)| ours.to_vec().into_iter().zip(theirs.iter().copied())),
            m.log_loss,
            reference.log_loss,
        );
    }
    // All-ones weights are the unweighted fit, bit for bit.
    let ones = fit(ClassWeight::PerClass(vec![1.0; 3]));
    assert_eq!(ones, fit(ClassWeight::None));
    // One weight per class, or a typed error.
    let err = LogisticParams::new()
        .class_weight(ClassWeight::PerClass(vec![1.0, 2.0]))
        .check()
        .expect("valid")
        .fit_multiclass(&data.x_train, &data.y_train, 3, Seed(1))
        .expect_err("two weights for three classes");
    assert!(
        matches!(
            err,
            mlops_train::Error::ClassWeightCount {
                classes: 3,
                weights: 2
            }
        ),
        "{err}"
    );
}

fn check_quality(name: &str, model: &InferenceModel, data: &Data, want: &Quality) {
    let p = model.predict_proba_matrix(&data.x_test).expect("proba");
    let m =
        MulticlassMetrics::compute(data.y_test.as_slice().expect("s"), p.view()).expect("metrics");
    assert!(
        m.accuracy >= want.accuracy - ACCURACY_MARGIN,
        "{name}: accuracy {} vs scikit-learn {}",
        m.accuracy,
        want.accuracy
    );
    assert!(
        m.log_loss <= want.log_loss + LOG_LOSS_MARGIN,
        "{name}: log loss {} vs scikit-learn {}",
        m.log_loss,
        want.log_loss
    );
}

/// The converted model predicts what the learner predicts.
fn check_conversion(native: Array2<f64>, model: &InferenceModel, x: &Array2<f64>) {
    let converted = model.predict_proba_matrix(x).expect("proba");
    assert_eq!(native.dim(), converted.dim());
    let worst = native
        .iter()
        .zip(converted.iter())
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f64::max);
    assert!(worst <= 1e-9, "conversion differs by {worst}");
    for row in converted.rows() {
        assert!((row.sum() - 1.0).abs() < 1e-12);
    }
}

#[test]
fn telco_contract_multinomial_logistic_regression() {
    let want = reference();
    let data = contract_split(Seed(42));
    assert_eq!(data.classes, want.classes);
    assert_eq!(data.y_test.len(), 1409);
    let fitted = LogisticParams::new()
        .check()
        .expect("valid")
        .fit_multiclass(&data.x_train, &data.y_train, 3, Seed(42))
        .expect("fit");
    assert!(fitted.converged() || fitted.iterations() == 100);
    let model = fitted.to_inference().expect("convert");
    assert_eq!(model.n_outputs(), 3);
    // A multiclass model refuses the single-output calls.
    assert!(model.predict(&data.x_test).is_err());
    check_conversion(
        fitted.predict_proba_native(&data.x_test).expect("native"),
        &model,
        &data.x_test,
    );
    check_quality(
        "logistic regression",
        &model,
        &data,
        &want.logistic_regression,
    );
}

#[test]
fn telco_contract_random_forest_and_tree() {
    let want = reference();
    let data = contract_split(Seed(42));
    let forest = ForestParams::new()
        .n_trees(100)
        .check()
        .expect("valid")
        .fit_multiclass(&data.x_train, &data.y_train, 3, Seed(42))
        .expect("fit");
    let model = forest.to_inference().expect("convert");
    assert!(matches!(model, InferenceModel::ClassTrees(_)));
    check_conversion(
        forest.predict_proba_native(&data.x_test).expect("native"),
        &model,
        &data.x_test,
    );
    check_quality(
        "random forest (100)",
        &model,
        &data,
        &want.random_forest_100,
    );

    // The smartcore tree: one-hot leaves, so no log loss reference; its
    // converted form routes every row as smartcore does.
    let tree = TreeParams::new()
        .max_depth(Some(6))
        .check()
        .expect("valid")
        .fit_multiclass(&data.x_train, &data.y_train, 3, Seed(42))
        .expect("fit");
    let model = tree.to_inference().expect("convert");
    check_conversion(
        tree.predict_proba_native(&data.x_test).expect("native"),
        &model,
        &data.x_test,
    );
    let p = model.predict_proba_matrix(&data.x_test).expect("proba");
    let m =
        MulticlassMetrics::compute(data.y_test.as_slice().expect("s"), p.view()).expect("metrics");
    eprintln!(
        "Telco Contract decision tree (depth 6): accuracy {:.4}",
        m.accuracy
    );
    assert!(m.accuracy >= 0.68, "tree accuracy {}", m.accuracy);
}

fn contract_trainer(learner: LearnerConfig, seed: u64) -> (Trainer, Frame) {
    let frame = Frame::read_csv(TELCO).expect("telco");
    // Every 4th row keeps the test quick; all three classes stay present.
    let rows: Vec<usize> = (0..frame.n_rows()).step_by(4).collect();
    let frame = frame.take(&rows).expect("rows");
    let spec = FeatureSpec::infer(&frame, "Contract", None).expect("spec");
    (Trainer::new(spec, learner).seed(Seed(seed)), frame)
}

fn in_pool<T: Send>(threads: usize, f: impl FnOnce() -> T + Send) -> T {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("pool")
        .install(f)
}

/// The burn MLP with `k` softmax outputs: burn's own probabilities and the
/// converted `DenseMlp`'s agree to 1e-9; quality near scikit-learn's
/// `MLPClassifier` (one hidden layer of 16, Adam) and the logistic
/// regression on the same preprocessing (their 5-split means).
#[cfg(feature = "burn")]
#[test]
fn telco_contract_mlp() {
    use mlops_train::learner::{MlpParams, MlpTask};
    let want = reference();
    let data = contract_split(Seed(42));
    let params = MlpParams::new()
        .hidden(vec![16])
        .epochs(12)
        .learning_rate(5e-3)
        .check()
        .expect("valid");
    let mlp = params
        .fit_multiclass(&data.x_train, &data.y_train, 3, Seed(42))
        .expect("fit");
    assert_eq!((mlp.task(), mlp.n_outputs()), (MlpTask::Multiclass, 3));
    // Per-epoch history: finite losses and a validation accuracy, no AUC.
    let h = mlp.history();
    for (i, s) in h.iter().enumerate() {
        assert_eq!(s.epoch, i + 1);
        assert!(
            s.train_loss.is_finite() && s.valid_loss.is_finite(),
            "{s:?}"
        );
        assert!(s.valid_roc_auc.is_none(), "{s:?}");
        let acc = s.valid_accuracy.expect("multiclass has an accuracy");
        assert!((0.0..=1.0).contains(&acc), "{s:?}");
    }
    assert!(h[h.len() - 1].train_loss < h[0].train_loss, "{h:?}");
    // burn's forward pass and softmax against the converted DenseMlp.
    let model = mlp.to_inference().expect("convert");
    assert!(matches!(model, InferenceModel::Mlp(_)));
    assert_eq!(model.n_outputs(), 3);
    assert!(mlp.predict_native(&data.x_test).is_err());
    check_conversion(
        mlp.predict_proba_native(&data.x_test).expect("native"),
        &model,
        &data.x_test,
    );
    let p = model.predict_proba_matrix(&data.x_test).expect("proba");
    let m =
        MulticlassMetrics::compute(data.y_test.as_slice().expect("s"), p.view()).expect("metrics");
    eprintln!(
        "Telco Contract MLP (16 hidden, {} epochs, best {}): accuracy {:.4}, log loss {:.4} \
         (scikit-learn MLPClassifier {:.4} / {:.4}, logistic regression {:.4} / {:.4})",
        h.len(),
        mlp.best_epoch(),
        m.accuracy,
        m.log_loss,
        want.mlp_16.accuracy,
        want.mlp_16.log_loss,
        want.logistic_regression.accuracy,
        want.logistic_regression.log_loss
    );
    check_quality("MLP (16)", &model, &data, &want.mlp_16);
    // Parameters naming regression are refused, as is `fit` on the
    // multiclass task (it does not know the class count).
    let reg = MlpParams::new()
        .task(MlpTask::Regression)
        .check()
        .expect("v");
    assert!(
        reg.fit_multiclass(&data.x_train, &data.y_train, 3, Seed(1))
            .is_err()
    );
    let multi = MlpParams::new()
        .task(MlpTask::Multiclass)
        .check()
        .expect("v");
    assert!(multi.fit(&data.x_train, &data.y_train, Seed(1)).is_err());
    // A label outside 0..k is a typed error.
    let mut bad = data.y_train.clone();
    bad[0] = 3.0;
    assert!(matches!(
        params.fit_multiclass(&data.x_train, &bad, 3, Seed(1)),
        Err(mlops_train::Error::InvalidTarget(_))
    ));
}

/// Class weights weight the MLP's training loss: up-weighting the two
/// minority contracts makes the network predict them more often, so their
/// recall rises and month-to-month's falls.
#[cfg(feature = "burn")]
#[test]
fn telco_contract_mlp_class_weights() {
    use mlops_train::learner::MlpParams;
    let data = contract_split(Seed(42));
    let params = MlpParams::new()
        .hidden(vec![16])
        .epochs(6)
        .learning_rate(5e-3);
    let recalls = |weight: ClassWeight| {
        let model = params
            .clone()
            .class_weight(weight)
            .check()
            .expect("valid")
            .fit_multiclass(&data.x_train, &data.y_train, 3, Seed(42))
            .expect("fit")
            .to_inference()
            .expect("convert");
        let p = model.predict_proba_matrix(&data.x_test).expect("proba");
        let mut hit = [0usize; 3];
        let mut n = [0usize; 3];
        for (row, &y) in p.rows().into_iter().zip(&data.y_test) {
            let pred = (0..3).fold(0, |b, c| if row[c] > row[b] { c } else { b });
            n[y as usize] += 1;
            hit[y as usize] += usize::from(pred == y as usize);
        }
        [0, 1, 2].map(|c| hit[c] as f64 / n[c] as f64)
    };
    let plain = recalls(ClassWeight::None);
    let weighted = recalls(ClassWeight::PerClass(vec![1.0, 4.0, 4.0]));
    eprintln!(
        "Contract MLP recall per class: unweighted {plain:.3?}, weights 1,4,4 {weighted:.3?}"
    );
    assert!(weighted[1] > plain[1] + 0.05, "{plain:?} -> {weighted:?}");
    assert!(weighted[0] < plain[0], "{plain:?} -> {weighted:?}");
    // Wrong count, and weights on a regression task, are errors.
    let err = params
        .clone()
        .class_weight(ClassWeight::PerClass(vec![1.0, 2.0]))
        .check()
        .expect("valid")
        .fit_multiclass(&data.x_train, &data.y_train, 3, Seed(1))
        .expect_err("2 weights, 3 classes");
    assert!(matches!(
        err,
        mlops_train::Error::ClassWeightCount {
            classes: 3,
            weights: 2
        }
    ));
    assert!(
        params
            .clone()
            .task(mlops_train::learner::MlpTask::Regression)
            .class_weight(ClassWeight::Balanced)
            .check()
            .is_err()
    );
}

#[test]
fn trainer_logs_multiclass_metrics_and_is_reproducible() {
    #[allow(unused_mut)]
    let mut names = vec!["logreg", "tree", "rf", "rf-smartcore"];
    #[cfg(feature = "burn")]
    names.push("mlp");
    for name in names {
        let mut learner =
            LearnerConfig::from_name(name.trim_end_matches("-smartcore")).expect("learner");
        if name.starts_with("rf") {
            learner = learner.set_param("n_trees", "20").expect("n_trees");
        }
        if name == "rf-smartcore" {
            learner = learner.set_param("engine", "smartcore").expect("engine");
        }
        if name == "mlp" {
            learner = learner.set_param("epochs", "5").expect("epochs");
        }
        let train = |threads: usize| {
            in_pool(threads, || {
                let (trainer, frame) = contract_trainer(learner.clone(), 7);
                let tracker = Tracker::new(Arc::new(MemoryStore::new()));
                let out = trainer.train(&tracker, &frame).expect("train");
                let run = tracker.get_run(&out.run_id).expect("run");
                // Points logged per epoch-history key (MLP only).
                let epochs: Vec<usize> = ["train_loss", "valid_loss", "valid_accuracy"]
                    .iter()
                    .map(|k| {
                        tracker
                            .run_metrics_history(&out.run_id, k)
                            .map_or(0, |p| p.len())
                    })
                    .collect();
                (out, run, epochs)
            })
        };
        let (one, run, epochs) = train(1);
        let (two, _, _) = train(2);
        assert_eq!(one.package.digest(), two.package.digest(), "{name}");
        let classes = one.package.classes().expect("classes");
        assert_eq!(classes, ["Month-to-month", "One year", "Two year"]);
        assert!(matches!(one.package.meta().task, Task::Multiclass { .. }));
        for key in ["accuracy", "macro_f1", "weighted_f1", "log_loss"] {
            let v = one.metrics[key];
            assert!(v.is_finite() && v > 0.0, "{name}: {key} = {v}");
            assert!(
                run.summary.metrics.contains_key(key),
                "{name}: {key} not logged"
            );
        }
        assert!(one.metrics["accuracy"] > 0.6, "{name}: {:?}", one.metrics);
        assert!(
            run.artifacts
                .iter()
                .any(|a| a.name == mlops_train::trainer::CONFUSION_ARTIFACT),
            "{name}: confusion matrix artifact"
        );
        if name == "mlp" {
            assert_eq!(epochs, [5, 5, 5], "{name}: epoch histories");
        }
        // Package round trip keeps the digest.
        let back = mlops_core::model::ModelPackage::from_bytes(&one.package.to_bytes().expect("b"))
            .expect("load");
        assert_eq!(back.digest(), one.package.digest());
    }
}
