//! The burn MLP: quality on the real Telco file, conversion to `DenseMlp`,
//! reproducibility. Runs with `--features burn`.
#![cfg(feature = "burn")]

mod common;

use common::{synthetic, telco_split};
use mlops_core::model::InferenceModel;
use mlops_core::seed::Seed;
use mlops_train::learner::{EpochStats, MlpParams, MlpTask};
use mlops_train::metrics::{r2, roc_auc};
use mlops_train::prelude::*;
use ndarray::Array1;

fn max_abs_diff(a: &Array1<f64>, b: &Array1<f64>) -> f64 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f64::max)
}

fn payload(m: &InferenceModel) -> Vec<u8> {
    rmp_serde::to_vec(m).expect("encode")
}

#[test]
fn telco_mlp_quality_history_and_conversion() {
    let data = telco_split(Seed(42));
    let params = MlpParams::new().check().expect("valid");
    let mlp = params
        .fit(&data.x_train, &data.y_train, Seed(42))
        .expect("fit");

    // Per-epoch history: consecutive epochs, finite losses, a validation AUC.
    let h: &[EpochStats] = mlp.history();
    assert!(!h.is_empty());
    for (i, s) in h.iter().enumerate() {
        assert_eq!(s.epoch, i + 1);
        assert!(s.train_loss.is_finite() && s.train_loss > 0.0, "{s:?}");
        assert!(s.valid_loss.is_finite() && s.valid_loss > 0.0, "{s:?}");
        let auc = s.valid_roc_auc.expect("binary task has an AUC");
        assert!((0.5..=1.0).contains(&auc), "{s:?}");
    }
    // Training lowers the training loss.
    assert!(h[h.len() - 1].train_loss < h[0].train_loss, "{h:?}");
    // Early stopping keeps the best validation epoch.
    let best = mlp.best_epoch();
    assert!(best >= 1 && best <= h.len());
    let min_valid = h.iter().map(|s| s.valid_loss).fold(f64::INFINITY, f64::min);
    assert_eq!(h[best - 1].valid_loss, min_valid);

    // The converted model predicts what burn's forward pass predicts.
    let native = mlp.predict_native(&data.x_test).expect("native");
    let model = mlp.to_inference().expect("convert");
    assert!(matches!(model, InferenceModel::Mlp(_)));
    let converted = model.predict(&data.x_test).expect("predict");
    let diff = max_abs_diff(&native, &converted);
    assert!(diff <= 1e-9, "max |burn - DenseMlp| = {diff:e}");

    let y_test = data.y_test.as_slice().expect("contiguous");
    let auc = roc_auc(y_test, converted.as_slice().expect("s")).expect("auc");
    eprintln!(
        "Telco MLP ROC AUC {auc:.4} after {} epochs (best {best}), max |burn - DenseMlp| = {diff:e}",
        h.len()
    );
    assert!(auc >= 0.83, "MLP ROC AUC {auc}");
}

#[test]
fn same_seed_same_bytes_different_seed_different_bytes() {
    let (x, y) = synthetic(600, 5, 3);
    let params = MlpParams::new()
        .hidden(vec![16, 8])
        .epochs(5)
        .check()
        .expect("valid");
    let fit = |seed: u64| {
        let m = params.fit(&x, &y, Seed(seed)).expect("fit");
        (
            payload(&m.to_inference().expect("convert")),
            m.history().to_vec(),
        )
    };
    let (a, ha) = fit(7);
    let (b, hb) = fit(7);
    assert_eq!(a, b, "same seed, same data: identical model bytes");
    assert_eq!(ha, hb, "and identical history");
    let (c, _) = fit(8);
    assert_ne!(a, c, "a different seed gives a different model");

    // Several fits at once on other threads: burn's process-global RNG is
    // never used, so concurrency does not change a bit.
    let concurrent: Vec<Vec<u8>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..3).map(|_| s.spawn(|| fit(7).0)).collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("thread"))
            .collect()
    });
    for bytes in concurrent {
        assert_eq!(bytes, a);
    }
}

#[test]
fn regression_learns_and_converts() {
    // y = sum of |x_j| (non-linear), plus nothing: an MLP fits it well.
    let (x, _) = synthetic(800, 3, 11);
    let y: Array1<f64> = x
        .rows()
        .into_iter()
        .map(|r| r.iter().map(|v| v.abs()).sum())
        .collect();
    let mlp = MlpParams::new()
        .task(MlpTask::Regression)
        .hidden(vec![32])
        .epochs(60)
        .learning_rate(1e-2)
        .patience(None)
        .check()
        .expect("valid")
        .fit(&x, &y, Seed(1))
        .expect("fit");
    assert_eq!(mlp.history().len(), 60);
    assert_eq!(mlp.best_epoch(), 60);
    assert!(mlp.history().iter().all(|s| s.valid_roc_auc.is_none()));
    let native = mlp.predict_native(&x).expect("native");
    let converted = mlp
        .to_inference()
        .expect("convert")
        .predict(&x)
        .expect("predict");
    assert!(max_abs_diff(&native, &converted) <= 1e-9);
    let fit_r2 = r2(y.as_slice().expect("s"), converted.as_slice().expect("s")).expect("r2");
    assert!(fit_r2 > 0.9, "R² {fit_r2}");
}

#[test]
fn bad_inputs_are_errors() {
    let params = MlpParams::new().epochs(1).check().expect("valid");
    let (x, y) = synthetic(50, 2, 1);
    // Not 0/1 targets for the binary task.
    let y3 = y.mapv(|v| v * 2.0);
    assert!(matches!(
        params.fit(&x, &y3, Seed(1)),
        Err(Error::InvalidTarget(_))
    ));
    // Rows and targets disagree.
    let short = Array1::from(y.to_vec()[..10].to_vec());
    assert!(matches!(
        params.fit(&x, &short, Seed(1)),
        Err(Error::Shape(_))
    ));
    // A diverging learning rate is a typed error, not NaN weights.
    let wild = MlpParams::new()
        .task(MlpTask::Regression)
        .learning_rate(1e12)
        .epochs(5)
        .check()
        .expect("valid");
    let huge = y.mapv(|v| v * 1e300);
    match wild.fit(&x, &huge, Seed(1)) {
        Err(Error::Training { learner: "mlp", .. }) => {}
        other => panic!("expected a training error, got {other:?}"),
    }
    // Predicting with the wrong width is an error.
    let m = params.fit(&x, &y, Seed(1)).expect("fit");
    let wrong = ndarray::Array2::zeros((2, 3));
    assert!(m.predict_native(&wrong).is_err());
}
