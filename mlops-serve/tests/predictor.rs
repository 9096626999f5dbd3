//! Predictor on real Telco models: records, frames, typed errors, unknown
//! categories, model ids.

mod common;

use mlops_core::data::Value;
use mlops_serve::{CorrelationId, Error, Predictor, Record};

fn assert_send_sync<T: Send + Sync + 'static>() {}

#[test]
fn predictor_is_send_sync() {
    assert_send_sync::<Predictor>();
}

#[test]
fn records_frames_and_the_offline_pipeline_agree() {
    let t = common::telco();
    let model = common::logistic(&t);
    let offline = model
        .predict(&t.features.transform(&t.test).expect("x"))
        .expect("offline");
    let p = common::predictor(&t, model, "churn", 3);

    let batch = p.predict_frame(&t.test).expect("frame");
    assert_eq!(batch.model.to_string(), "churn/3");
    assert_eq!(batch.values.len(), t.test.n_rows());
    for (a, b) in batch.values.iter().zip(offline.iter()) {
        assert_eq!(a, b);
    }
    let labels = batch.labels.as_ref().expect("classification");
    assert_eq!(
        labels.iter().filter(|&&l| l).count(),
        offline.iter().filter(|&&v| v >= 0.5).count()
    );

    // Named records (every frame column, extra ones ignored), positional rows.
    let sig: Vec<usize> = p
        .signature()
        .iter()
        .map(|f| t.test.position(&f.name).expect("column"))
        .collect();
    for row in 0..200 {
        let named = p
            .predict(&Record::from_frame_row(&t.test, row))
            .expect("record");
        let values: Vec<Value<'_>> = sig.iter().map(|&c| t.test.value(row, c)).collect();
        let positional = p.predict_row(&values).expect("row");
        assert_eq!(named.value, offline[row]);
        assert_eq!(positional.value, offline[row]);
        assert_eq!(named.label, Some(offline[row] >= 0.5));
        assert_eq!(named.model.name.as_ref(), "churn");
        assert_eq!(named.model.version, Some(3));
        assert_ne!(named.correlation_id, positional.correlation_id);
    }
    let snap = p.monitor().snapshot();
    assert_eq!(snap.predictions, t.test.n_rows() as u64 + 400);
    assert_eq!(snap.latency.count, 400);
    assert_eq!(snap.total_errors(), 0);
    assert_eq!(snap.scores.count, snap.predictions);
    // Same distribution as training: no input drift.
    let drift = snap.input_drift.expect("profile given");
    assert!(!drift.dataset_drift, "{drift:?}");
    assert!(drift.columns.contains_key("tenure"));
    assert!(
        !drift.columns.contains_key("Churn"),
        "target is not an input"
    );
}

fn base_record<'a>() -> Record<'a> {
    Record::new()
        .text("gender", "Female")
        .number("SeniorCitizen", 0.0)
        .text("Partner", "Yes")
        .text("Dependents", "No")
        .number("tenure", 1.0)
        .text("PhoneService", "No")
        .text("MultipleLines", "No phone service")
        .text("InternetService", "DSL")
        .text("OnlineSecurity", "No")
        .text("OnlineBackup", "Yes")
        .text("DeviceProtection", "No")
        .text("TechSupport", "No")
        .text("StreamingTV", "No")
        .text("StreamingMovies", "No")
        .text("Contract", "Month-to-month")
        .text("PaperlessBilling", "Yes")
        .text("PaymentMethod", "Electronic check")
        .number("MonthlyCharges", 29.85)
        .number("TotalCharges", 29.85)
}

#[test]
fn typed_errors_and_unknown_categories() {
    let t = common::telco();
    let p = common::predictor(&t, common::logistic(&t), "churn", 1);
    let ok = p.predict(&base_record()).expect("valid record");
    assert_eq!(ok.unknown_categories, 0);
    assert!(
        ok.value > 0.5,
        "a new month-to-month customer churns: {}",
        ok.value
    );

    let missing: Record<'_> = base_record()
        .iter()
        .filter(|(n, _)| *n != "tenure")
        .collect();
    match p.predict(&missing) {
        Err(Error::MissingColumn {
            model,
            column,
            others,
        }) => {
            assert_eq!((model.as_str(), column.as_str()), ("churn/1", "tenure"));
            assert!(others.is_empty());
        }
        other => panic!("expected MissingColumn, got {other:?}"),
    }
    // Several columns missing: one error names every one of them.
    let gone = ["tenure", "Contract", "MonthlyCharges"];
    let few: Record<'_> = base_record()
        .iter()
        .filter(|(n, _)| !gone.contains(n))
        .collect();
    let err = p.predict(&few).expect_err("three missing");
    let text = err.to_string();
    assert!(text.contains("3 input columns are missing"), "{text}");
    for column in gone {
        assert!(text.contains(&format!("`{column}`")), "{column} in {text}");
    }
    match p.predict(&base_record().text("tenure", "twelve")) {
        Err(Error::WrongType {
            column,
            expected,
            found,
            ..
        }) => {
            assert_eq!(
                (column.as_str(), expected, found),
                ("tenure", "numeric", "text")
            );
        }
        other => panic!("expected WrongType, got {other:?}"),
    }
    match p.predict(&base_record().number("Contract", 1.0)) {
        Err(Error::WrongType {
            column, expected, ..
        }) => {
            assert_eq!((column.as_str(), expected), ("Contract", "categorical"));
        }
        other => panic!("expected WrongType, got {other:?}"),
    }
    for bad in [f64::INFINITY, f64::NAN] {
        match p.predict(&base_record().number("MonthlyCharges", bad)) {
            Err(Error::NonFinite {
                column, row: None, ..
            }) => assert_eq!(column, "MonthlyCharges"),
            other => panic!("expected NonFinite, got {other:?}"),
        }
    }
    match p.predict_row(&[Value::Missing; 3]) {
        Err(Error::Arity {
            expected, found: 3, ..
        }) => assert_eq!(expected, p.signature().len()),
        other => panic!("expected Arity, got {other:?}"),
    }
    // Missing values are imputed, not errors; unseen categories are counted.
    let imputed = p
        .predict(&base_record().missing("TotalCharges"))
        .expect("imputed");
    assert!(imputed.value.is_finite());
    let unknown = p
        .predict(
            &base_record()
                .text("Contract", "Ten year")
                .text("PaymentMethod", "Crypto"),
        )
        .expect("unknown categories");
    assert_eq!(unknown.unknown_categories, 2);

    let snap = p.monitor().snapshot();
    assert_eq!(snap.predictions, 3);
    assert_eq!(snap.errors["missing_column"], 2);
    assert_eq!(snap.errors["wrong_type"], 2);
    assert_eq!(snap.errors["non_finite"], 2);
    assert_eq!(snap.errors["arity"], 1);
    assert_eq!(snap.unknown_categories, 2);
}

#[test]
fn frame_errors_are_typed_with_rows() {
    let t = common::telco();
    let p = common::predictor(&t, common::logistic(&t), "churn", 1);
    let no_tenure = t.test.drop_columns(&["tenure"]).expect("drop");
    assert!(matches!(
        p.predict_frame(&no_tenure),
        Err(Error::MissingColumn { column, .. }) if column == "tenure"
    ));
    let mut raw: Vec<f64> = t
        .test
        .numeric("MonthlyCharges")
        .expect("col")
        .raw()
        .to_vec();
    raw[7] = f64::NEG_INFINITY;
    let cols: Vec<(String, mlops_core::data::Column)> = t
        .test
        .columns()
        .map(|(n, c)| {
            let c = if n == "MonthlyCharges" {
                mlops_core::data::Column::Numeric(mlops_core::data::NumericColumn::from_raw(
                    raw.clone(),
                ))
            } else {
                c.clone()
            };
            (n.to_owned(), c)
        })
        .collect();
    let bad = mlops_core::data::Frame::new(cols).expect("frame");
    assert!(matches!(
        p.predict_frame(&bad),
        Err(Error::NonFinite { row: Some(7), .. })
    ));
}

#[test]
fn correlation_ids_are_kept() {
    let t = common::telco();
    let p = common::predictor(&t, common::logistic(&t), "churn", 1);
    let s = p
        .predict_with(&base_record(), CorrelationId::from("req-1"))
        .expect("score");
    assert_eq!(s.correlation_id.to_string(), "req-1");
}

/// A multiclass package is refused with a typed error by the predictor and
/// the batch scorer, never scored as if it had one output.
#[test]
fn multiclass_packages_are_refused_not_misscored() {
    use mlops_core::data::Frame;
    use mlops_core::features::FeatureSpec;
    use mlops_core::seed::Seed;
    use mlops_core::store::MemoryStore;
    use mlops_core::tracking::Tracker;
    use mlops_serve::batch::{BatchConfig, BatchScorer};
    use mlops_train::trainer::{LearnerConfig, Trainer};

    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../examples/data/telco_churn.csv"
    );
    let frame = Frame::read_csv(path).expect("telco");
    let rows: Vec<usize> = (0..frame.n_rows()).step_by(8).collect();
    let frame = frame.take(&rows).expect("rows");
    let spec = FeatureSpec::infer(&frame, "Contract", None).expect("spec");
    let tracker = Tracker::new(std::sync::Arc::new(MemoryStore::new()));
    let package = Trainer::new(spec, LearnerConfig::from_name("logreg").expect("lr"))
        .seed(Seed(1))
        .train(&tracker, &frame)
        .expect("train")
        .package;
    assert_eq!(package.classes().expect("multiclass").len(), 3);
    let err = Predictor::from_package(&package).expect_err("refused");
    assert!(
        matches!(err, Error::MulticlassUnsupported { classes: 3, .. }),
        "{err}"
    );
    assert_eq!(err.kind(), "multiclass_unsupported");
    let err = BatchScorer::new(&package, BatchConfig::default()).expect_err("refused");
    assert!(
        matches!(err, Error::MulticlassUnsupported { classes: 3, .. }),
        "{err}"
    );
}
