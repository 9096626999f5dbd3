//! Every learner: parameter validation, conversion equivalence (inference
//! form vs the library's own predictions, 1e-9) and seeded determinism of
//! the inference-form bytes, including across rayon thread counts and
//! processes.

mod common;

use common::{synthetic, tie_heavy};
use mlops_core::model::InferenceModel;
use mlops_core::seed::Seed;
use mlops_train::prelude::*;
use ndarray::{Array1, Array2};

fn assert_equivalent(fitted: &impl FittedModel, x: &Array2<f64>) -> InferenceModel {
    let native = fitted.predict_native(x).expect("native predict");
    let model = fitted.to_inference().expect("convert");
    let ours = model.predict(x).expect("inference predict");
    for (i, (a, b)) in native.iter().zip(&ours).enumerate() {
        assert!((a - b).abs() <= 1e-9, "row {i}: library {a}, converted {b}");
    }
    // Single-row path agrees with the batch path.
    for (i, row) in x.rows().into_iter().enumerate().take(50) {
        let r = model
            .predict_proba_row(row.as_slice().expect("row"))
            .expect("row predict");
        assert_eq!(r, ours[i]);
    }
    model
}

/// BLAKE3 digest of the rmp-serde bytes (short failure messages).
fn bytes(model: &InferenceModel) -> String {
    blake3::hash(&rmp_serde::to_vec(model).expect("encode"))
        .to_hex()
        .to_string()
}

fn data() -> (Array2<f64>, Array1<f64>, Array2<f64>) {
    let (x, y) = synthetic(600, 6, 11);
    let (x_new, _) = synthetic(300, 6, 12);
    (x, y, x_new)
}

#[test]
fn logistic_conversion_and_determinism() {
    let (x, y, x_new) = data();
    let params = LogisticParams::new().check().expect("valid");
    let fitted = params.fit(&x, &y, Seed(1)).expect("fit");
    let m = assert_equivalent(&fitted, &x_new);
    let again = params.fit(&x, &y, Seed(1)).expect("fit");
    assert_eq!(bytes(&m), bytes(&again.to_inference().expect("convert")));
    // The decoded model predicts the same.
    let back: InferenceModel =
        rmp_serde::from_slice(&rmp_serde::to_vec(&m).expect("encode")).expect("decode");
    assert_eq!(
        back.predict(&x_new).expect("p"),
        m.predict(&x_new).expect("p")
    );
}

/// Weighted fits convert exactly; weighting the positive class raises every
/// positive-class probability's average (the loss-weighting meaning itself
/// is checked against scikit-learn in `class_weights.rs`).
#[test]
fn logistic_class_weights_convert_and_favour_the_weighted_class() {
    let (x, y, x_new) = data();
    let fit = |weight: ClassWeight| {
        LogisticParams::new()
            .class_weight(weight)
            .check()
            .expect("valid")
            .fit(&x, &y, Seed(1))
            .expect("fit")
    };
    let plain = fit(ClassWeight::None);
    let weighted = fit(ClassWeight::Explicit {
        negative: 1.0,
        positive: 3.0,
    });
    assert_equivalent(&weighted, &x_new);
    assert_equivalent(&fit(ClassWeight::Balanced), &x_new);
    let mean = |m: &mlops_train::learner::FittedLogistic| {
        m.predict_native(&x_new).expect("p").mean().expect("mean")
    };
    assert!(mean(&weighted) > mean(&plain) + 0.05);
}

#[test]
fn logistic_l2_shrinks_weights() {
    let (x, y, _) = data();
    let norm = |alpha: f64| {
        let m = LogisticParams::new()
            .l2(alpha)
            .check()
            .expect("valid")
            .fit(&x, &y, Seed(0))
            .expect("fit");
        match m.to_inference().expect("convert") {
            InferenceModel::Linear(l) => l.weights().iter().map(|w| w * w).sum::<f64>(),
            other => panic!("expected linear, got {other:?}"),
        }
    };
    assert!(norm(100.0) < norm(0.01));
}

#[test]
fn tree_conversion_and_determinism() {
    let (x, y, x_new) = data();
    for depth in [Some(3), None] {
        let params = TreeParams::new().max_depth(depth).check().expect("valid");
        let fitted = params.fit(&x, &y, Seed(1)).expect("fit");
        let m = assert_equivalent(&fitted, &x_new);
        // Training rows include exact threshold values: the split rule matters.
        assert_equivalent(&fitted, &x);
        let again = params.fit(&x, &y, Seed(1)).expect("fit");
        assert_eq!(bytes(&m), bytes(&again.to_inference().expect("convert")));
        // Leaves score the positive fraction of their training rows.
        let p = m.predict(&x_new).expect("p");
        assert!(p.iter().all(|v| (0.0..=1.0).contains(v)));
        assert!(p.iter().any(|v| *v > 0.0 && *v < 1.0), "only 0/1 leaves");
    }
}

#[test]
fn tree_on_tied_counts_is_the_same_on_one_and_two_threads() {
    let (x, y) = tie_heavy(4);
    for criterion in [SplitCriterion::Gini, SplitCriterion::Entropy] {
        let params = TreeParams::new()
            .criterion(criterion)
            .check()
            .expect("valid");
        let fit = |threads: usize| {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .expect("pool");
            let m = pool.install(|| params.fit(&x, &y, Seed(3))).expect("fit");
            bytes(&m.to_inference().expect("convert"))
        };
        let one = fit(1);
        for _ in 0..5 {
            assert_eq!(one, fit(2), "{criterion:?}");
            assert_eq!(one, fit(1), "{criterion:?}");
        }
    }
}

#[test]
fn linear_regression_conversion_and_determinism() {
    let (x, _, x_new) = data();
    let y: Array1<f64> = x
        .rows()
        .into_iter()
        .map(|r| 1.5 * r[0] - 2.0 * r[3] + 0.3 + 0.01 * r[5] * r[5])
        .collect();
    let params = LinearParams::new().check().expect("valid");
    let fitted = params.fit(&x, &y, Seed(0)).expect("fit");
    let m = assert_equivalent(&fitted, &x_new);
    assert_eq!(
        bytes(&m),
        bytes(
            &params
                .fit(&x, &y, Seed(0))
                .expect("fit")
                .to_inference()
                .expect("c")
        )
    );
    let pred = m.predict(&x).expect("p");
    let r2 = mlops_train::metrics::r2(y.as_slice().expect("s"), pred.as_slice().expect("s"))
        .expect("r2");
    assert!(r2 > 0.99, "r2 {r2}");
}

fn forest_bytes(
    engine: ForestEngine,
    x: &Array2<f64>,
    y: &Array1<f64>,
    seed: u64,
    threads: usize,
) -> String {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("pool");
    let params = ForestParams::new()
        .engine(engine)
        .n_trees(20)
        .check()
        .expect("valid");
    let fitted = pool.install(|| params.fit(x, y, Seed(seed))).expect("fit");
    bytes(&fitted.to_inference().expect("convert"))
}

#[test]
fn forest_conversion_and_determinism() {
    let (x, y, x_new) = data();
    let mut by_engine = Vec::new();
    for engine in [ForestEngine::Histogram, ForestEngine::Smartcore] {
        let params = ForestParams::new()
            .engine(engine)
            .n_trees(20)
            .check()
            .expect("valid");
        assert_eq!(params.engine(), engine);
        let fitted = params.fit(&x, &y, Seed(7)).expect("fit");
        assert_eq!(fitted.n_trees(), 20);
        assert_equivalent(&fitted, &x_new);
        assert_equivalent(&fitted, &x);
        let one = forest_bytes(engine, &x, &y, 7, 1);
        assert_eq!(
            one,
            forest_bytes(engine, &x, &y, 7, 2),
            "{engine:?}: thread count changed the forest"
        );
        assert_eq!(one, forest_bytes(engine, &x, &y, 7, 4), "{engine:?}");
        assert_ne!(
            one,
            forest_bytes(engine, &x, &y, 8, 2),
            "{engine:?}: a different seed must change the forest"
        );
        by_engine.push(one);
    }
    assert_ne!(
        by_engine[0], by_engine[1],
        "the engines grow different trees"
    );
}

/// Helper run as a child process by `same_bytes_across_processes`: prints
/// the BLAKE3 digest of every learner's inference bytes.
#[test]
fn digest_child() {
    if std::env::var_os("MLOPS_DIGEST_CHILD").is_none() {
        return;
    }
    println!("DIGESTS {}", digests());
}

fn digests() -> String {
    let (x, y, _) = data();
    let (xt, yt) = tie_heavy(4);
    let s = Seed(3);
    let yr: Array1<f64> = x.column(0).mapv(|v| 2.0 * v + 1.0) + x.column(1);
    let models = [
        LogisticParams::new()
            .check()
            .expect("v")
            .fit(&x, &y, s)
            .expect("f")
            .to_inference(),
        TreeParams::new()
            .max_depth(Some(5))
            .check()
            .expect("v")
            .fit(&x, &y, s)
            .expect("f")
            .to_inference(),
        // linfa-trees on tied counts: its pruned tree varies with HashMap
        // order, the canonical package must not.
        TreeParams::new()
            .check()
            .expect("v")
            .fit(&xt, &yt, s)
            .expect("f")
            .to_inference(),
        TreeParams::new()
            .criterion(SplitCriterion::Entropy)
            .check()
            .expect("v")
            .fit(&xt, &yt, s)
            .expect("f")
            .to_inference(),
        LinearParams::new()
            .check()
            .expect("v")
            .fit(&x, &yr, s)
            .expect("f")
            .to_inference(),
        ForestParams::new()
            .n_trees(10)
            .check()
            .expect("v")
            .fit(&x, &y, s)
            .expect("f")
            .to_inference(),
        ForestParams::new()
            .engine(ForestEngine::Smartcore)
            .n_trees(10)
            .check()
            .expect("v")
            .fit(&x, &y, s)
            .expect("f")
            .to_inference(),
    ];
    models
        .iter()
        .map(|m| bytes(m.as_ref().expect("convert")))
        .collect::<Vec<_>>()
        .join(",")
}

#[test]
fn same_bytes_across_processes_and_thread_counts() {
    let exe = std::env::current_exe().expect("test binary");
    let run = |threads: &str| {
        let out = std::process::Command::new(&exe)
            .args([
                "--exact",
                "digest_child",
                "--nocapture",
                "--test-threads",
                "1",
            ])
            .env("MLOPS_DIGEST_CHILD", "1")
            .env("RAYON_NUM_THREADS", threads)
            .output()
            .expect("child runs");
        let text = String::from_utf8_lossy(&out.stdout).to_string();
        text.lines()
            .find_map(|l| l.split_once("DIGESTS ").map(|(_, d)| d.trim().to_owned()))
            .unwrap_or_else(|| panic!("no digests in child output: {text}"))
    };
    let one = run("1");
    assert_eq!(one, run("2"));
    assert_eq!(one, digests(), "child process and this process disagree");
}

#[test]
fn params_errors_name_the_parameter() {
    let cases: Vec<(Error, &str)> = vec![
        (
            LogisticParams::new().l2(f64::NAN).check().expect_err("bad"),
            "l2",
        ),
        (
            LogisticParams::new().max_iter(0).check().expect_err("bad"),
            "max_iter",
        ),
        (
            LogisticParams::new()
                .class_weight(ClassWeight::Explicit {
                    negative: 0.0,
                    positive: 1.0,
                })
                .check()
                .expect_err("bad"),
            "class_weight",
        ),
        (
            TreeParams::new()
                .max_depth(Some(0))
                .check()
                .expect_err("bad"),
            "max_depth",
        ),
        (
            TreeParams::new()
                .min_samples_split(1)
                .check()
                .expect_err("bad"),
            "min_samples_split",
        ),
        (
            ForestParams::new().n_trees(0).check().expect_err("bad"),
            "n_trees",
        ),
        (
            ForestParams::new()
                .max_features(Some(0))
                .check()
                .expect_err("bad"),
            "max_features",
        ),
        (
            // smartcore counts the root as level 1 and stops at u16::MAX.
            ForestParams::new()
                .engine(ForestEngine::Smartcore)
                .max_depth(Some(u16::MAX))
                .check()
                .expect_err("bad"),
            "max_depth",
        ),
    ];
    for (err, name) in cases {
        assert!(err.to_string().contains(&format!("`{name}`")), "{err}");
    }
    // The histogram engine honours that depth.
    assert!(
        ForestParams::new()
            .max_depth(Some(u16::MAX))
            .check()
            .is_ok()
    );
}

#[test]
fn bad_training_data_is_an_error() {
    let (x, y, _) = data();
    let lr = LogisticParams::new().check().expect("valid");
    assert!(
        lr.fit(&x, &Array1::zeros(600), Seed(0)).is_err(),
        "one class"
    );
    assert!(
        lr.fit(&x, &Array1::from_elem(600, 2.0), Seed(0)).is_err(),
        "not 0/1"
    );
    assert!(
        lr.fit(
            &x,
            &y.iter().take(10).copied().collect::<Array1<f64>>(),
            Seed(0)
        )
        .is_err(),
        "rows"
    );
    let mut bad = x.clone();
    bad[[3, 2]] = f64::NAN;
    assert!(lr.fit(&bad, &y, Seed(0)).is_err(), "NaN feature");
    for engine in [ForestEngine::Histogram, ForestEngine::Smartcore] {
        let rf = ForestParams::new()
            .engine(engine)
            .n_trees(2)
            .max_features(Some(99))
            .check()
            .expect("valid");
        let err = rf
            .fit(&x, &y, Seed(0))
            .expect_err("max_features > features");
        assert!(
            err.to_string().contains("`max_features`"),
            "{engine:?}: {err}"
        );
        let err = rf
            .fit_multiclass(&x, &y, 2, Seed(0))
            .expect_err("max_features > features");
        assert!(
            err.to_string().contains("`max_features`"),
            "{engine:?}: {err}"
        );
        let rf = ForestParams::new()
            .engine(engine)
            .n_trees(2)
            .check()
            .expect("valid");
        assert!(
            rf.fit(&x, &Array1::zeros(600), Seed(0)).is_err(),
            "{engine:?}: one class"
        );
        assert!(
            rf.fit(&bad, &y, Seed(0)).is_err(),
            "{engine:?}: NaN feature"
        );
        let fitted = rf.fit(&x, &y, Seed(0)).expect("fit");
        assert!(
            fitted.predict_native(&Array2::zeros((2, 3))).is_err(),
            "{engine:?}"
        );
    }
    let fitted = lr.fit(&x, &y, Seed(0)).expect("fit");
    assert!(fitted.predict_native(&Array2::zeros((2, 3))).is_err());
}
