//! Quality on the real Telco file: seeded stratified 80/20 split, features
//! fitted on the training rows (median impute + standard scale, one-hot).
//! scikit-learn references (same preprocessing, its own 80/20 split) are in
//! `fixtures/telco_reference.json`.

mod common;

use common::telco_split;
use mlops_core::seed::Seed;
use mlops_train::metrics::roc_auc;
use mlops_train::prelude::*;

#[test]
fn telco_logistic_regression_and_random_forest() {
    let data = telco_split(Seed(42));
    let y_test = data.y_test.as_slice().expect("contiguous");
    assert_eq!(data.y_test.len(), 1409);

    let lr = LogisticParams::new()
        .check()
        .expect("valid")
        .fit(&data.x_train, &data.y_train, Seed(42))
        .expect("fit");
    let p = lr
        .to_inference()
        .expect("convert")
        .predict(&data.x_test)
        .expect("predict");
    let auc_lr = roc_auc(y_test, p.as_slice().expect("s")).expect("auc");

    let rf = ForestParams::new().n_trees(100).check().expect("valid");
    let rf = rf.fit(&data.x_train, &data.y_train, Seed(42)).expect("fit");
    let p = rf
        .to_inference()
        .expect("convert")
        .predict(&data.x_test)
        .expect("predict");
    let auc_rf = roc_auc(y_test, p.as_slice().expect("s")).expect("auc");

    eprintln!("Telco ROC AUC: logistic regression {auc_lr:.4}, random forest (100) {auc_rf:.4}");
    assert!(auc_lr >= 0.84, "logistic regression ROC AUC {auc_lr}");
    assert!(auc_rf >= 0.82, "random forest ROC AUC {auc_rf}");
}
