//! Predictor on real Telco models: records, frames, typed errors, unknown
//! categories, model ids.

mod common;

use mlops_core::data::Value;
use mlops_serve::{CorrelationId, Error, Predictor, Record, TypeMismatch, UnknownCategories};

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
            wrong_type,
        }) => {
            assert_eq!((model.as_str(), column.as_str()), ("churn/1", "tenure"));
            assert!(others.is_empty() && wrong_type.is_empty());
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

/// A multiclass package (Telco's 3-class `Contract`) serves through the
/// predictor and the batch scorer with the package's own probabilities,
/// the most probable class as label, and monitoring of the confidence.
#[test]
fn multiclass_packages_serve_class_probabilities() {
    use mlops_serve::batch::{BatchConfig, BatchScorer};

    let (package, frame) = common::contract_package();
    let classes = package.classes().expect("multiclass").to_vec();
    assert_eq!(classes, ["Month-to-month", "One year", "Two year"]);
    let expected = package.predict_proba_frame(&frame).expect("proba");
    let p = Predictor::from_package(&package).expect("multiclass predictor");
    let names: Vec<&str> = p.classes().iter().map(|c| &**c).collect();
    assert_eq!(names, classes);

    // Record by record: every Telco row.
    let mut predicted = vec![0usize; 3];
    for row in 0..frame.n_rows() {
        let s = p
            .predict(&Record::from_frame_row(&frame, row))
            .expect("score");
        let want = expected.row(row);
        assert_eq!(s.probabilities.len(), 3);
        for (a, b) in s.probabilities.iter().zip(want.iter()) {
            assert!((a - b).abs() < 1e-12, "row {row}: {a} vs {b}");
        }
        let best = (0..3)
            .max_by(|&a, &b| want[a].total_cmp(&want[b]).then(b.cmp(&a)))
            .expect("3 classes");
        assert_eq!(
            s.class.as_deref(),
            Some(classes[best].as_str()),
            "row {row}"
        );
        assert_eq!(s.value, want[best]);
        assert_eq!(s.label, None);
        predicted[best] += 1;
    }
    // A real model predicts every class somewhere.
    assert!(predicted.iter().all(|&n| n > 0), "{predicted:?}");
    let snap = p.monitor().snapshot();
    assert_eq!(snap.predictions, frame.n_rows() as u64);
    assert!(
        snap.score_drift.is_some(),
        "score drift against the confidence profile"
    );

    // The whole frame at once gives the same answers.
    let f = p.predict_frame(&frame).expect("frame");
    assert_eq!(
        f.probabilities,
        expected.iter().copied().collect::<Vec<_>>()
    );
    assert_eq!(f.labels, None);
    let idx = f.classes.as_ref().expect("class per row");
    assert_eq!(idx.len(), frame.n_rows());
    for (row, &c) in idx.iter().enumerate() {
        assert_eq!(f.values[row], expected[[row, c]]);
    }

    // The batch scorer: a frame and CSV with `p_<class>` columns.
    let scorer = BatchScorer::new(&package, BatchConfig::default().id_column("customerID"))
        .expect("multiclass batch");
    let scored = scorer.score_frame(&frame).expect("batch frame");
    assert_eq!(scored.classes, classes);
    assert_eq!(scored.scores, f.probabilities);
    let mut out = Vec::new();
    let csv = std::fs::read(common::TELCO).expect("csv");
    let summary = scorer
        .score_csv(&csv[..], "telco", &mut out, None, None)
        .expect("batch csv");
    assert_eq!(summary.scored, frame.n_rows() as u64);
    let text = String::from_utf8(out).expect("utf8");
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some("customerID,p_Month-to-month,p_One year,p_Two year,label")
    );
    for (row, line) in lines.enumerate() {
        let fields: Vec<&str> = line.split(',').collect();
        assert_eq!(fields.len(), 5, "{line}");
        for c in 0..3 {
            let v: f64 = fields[1 + c].parse().expect("probability");
            assert_eq!(v, expected[[row, c]], "row {row}");
        }
        assert_eq!(fields[4], classes[idx[row]], "row {row}");
    }
}

/// Several absent and several wrong-typed columns: one error names them all,
/// for a record and for a frame.
#[test]
fn one_error_names_every_missing_and_wrong_typed_column() {
    let t = common::telco();
    let p = common::predictor(&t, common::logistic(&t), "churn", 1);
    let mismatch = |column: &str, expected, found| TypeMismatch {
        column: column.to_owned(),
        expected,
        found,
    };
    // Wrong types only: WrongType lists every one, in signature order.
    let wrong = base_record()
        .text("tenure", "twelve")
        .number("Contract", 1.0)
        .text("MonthlyCharges", "cheap");
    match p.predict(&wrong) {
        Err(Error::WrongType {
            column,
            expected,
            found,
            others,
            ..
        }) => {
            assert_eq!(
                (column.as_str(), expected, found),
                ("tenure", "numeric", "text")
            );
            assert_eq!(
                others,
                [
                    mismatch("Contract", "categorical", "number"),
                    mismatch("MonthlyCharges", "numeric", "text"),
                ]
            );
        }
        other => panic!("expected WrongType, got {other:?}"),
    }
    let text = p.predict(&wrong).expect_err("wrong types").to_string();
    assert!(
        text.contains("3 input columns have the wrong type"),
        "{text}"
    );
    // Missing and wrong-typed together: MissingColumn carries both lists.
    let gone = ["gender", "Partner", "TotalCharges"];
    let both: Record<'_> = wrong.iter().filter(|(n, _)| !gone.contains(n)).collect();
    let err = p.predict(&both).expect_err("missing and wrong");
    let text = err.to_string();
    match err {
        Error::MissingColumn {
            column,
            others,
            wrong_type,
            ..
        } => {
            assert_eq!(column, "gender");
            assert_eq!(others, ["Partner", "TotalCharges"]);
            assert_eq!(wrong_type.len(), 3, "{wrong_type:?}");
            assert_eq!(wrong_type[1], mismatch("Contract", "categorical", "number"));
        }
        other => panic!("expected MissingColumn, got {other:?}"),
    }
    assert!(text.contains("3 input columns are missing"), "{text}");
    assert!(text.contains("3 columns have the wrong type"), "{text}");
    for column in gone.iter().chain(&["tenure", "Contract", "MonthlyCharges"]) {
        assert!(text.contains(&format!("`{column}`")), "{column} in {text}");
    }

    // A frame: two columns dropped, two re-typed.
    let cols: Vec<(String, mlops_core::data::Column)> = t
        .test
        .columns()
        .filter(|(n, _)| !["gender", "Partner"].contains(n))
        .map(|(n, c)| {
            let c = match n {
                // A numeric column as text, a categorical one as numbers.
                "tenure" => mlops_core::data::Column::Categorical(
                    mlops_core::data::CategoricalColumn::from_options(
                        (0..t.test.n_rows()).map(|_| Some("twelve")),
                    ),
                ),
                "Contract" => mlops_core::data::Column::Numeric(
                    mlops_core::data::NumericColumn::from_raw(vec![1.0; t.test.n_rows()]),
                ),
                _ => c.clone(),
            };
            (n.to_owned(), c)
        })
        .collect();
    let frame = mlops_core::data::Frame::new(cols).expect("frame");
    match p.predict_frame(&frame) {
        Err(Error::MissingColumn {
            column,
            others,
            wrong_type,
            ..
        }) => {
            assert_eq!(
                (column.as_str(), others.as_slice()),
                ("gender", &["Partner".to_owned()][..])
            );
            assert_eq!(
                wrong_type,
                [
                    mismatch("tenure", "numeric", "categorical"),
                    mismatch("Contract", "categorical", "numeric"),
                ]
            );
        }
        other => panic!("expected MissingColumn, got {other:?}"),
    }
    let full = mlops_core::data::Frame::new(
        t.test
            .columns()
            .filter(|(n, _)| ["gender", "Partner"].contains(n))
            .map(|(n, c)| (n.to_owned(), c.clone()))
            .chain(frame.columns().map(|(n, c)| (n.to_owned(), c.clone())))
            .collect(),
    )
    .expect("frame");
    match p.predict_frame(&full) {
        Err(Error::WrongType { column, others, .. }) => {
            assert_eq!(column, "tenure");
            assert_eq!(others, [mismatch("Contract", "categorical", "numeric")]);
        }
        other => panic!("expected WrongType, got {other:?}"),
    }
}

/// `UnknownCategories` on real Telco rows: `"month-to-month"` (wrong case).
#[test]
fn unknown_categories_policy_on_telco_rows() {
    let t = common::telco();
    let p = common::predictor(&t, common::logistic(&t), "churn", 1);
    assert_eq!(p.unknown_categories(), UnknownCategories::Report);
    let typo = base_record().text("Contract", "month-to-month");

    // Report (default): scored in the unknown bucket and counted.
    let reported = p.predict(&typo).expect("report");
    assert_eq!(reported.unknown_categories, 1);

    // Ignore: the same score, not counted, not in the monitor.
    let ignore = p.clone().with_unknown_categories(UnknownCategories::Ignore);
    let ignored = ignore.predict(&typo).expect("ignore");
    assert_eq!(ignored.value, reported.value);
    assert_eq!(ignored.unknown_categories, 0);
    assert_eq!(p.monitor().snapshot().unknown_categories, 1);

    // Error: refused, naming the column, the value and the known values.
    let strict = p
        .clone()
        .with_unknown_categories("error".parse().expect("policy"));
    match strict.predict(&typo) {
        Err(Error::UnknownCategory {
            model,
            column,
            value,
            row,
            known,
            n_known,
        }) => {
            assert_eq!(model, "churn/1");
            assert_eq!(
                (column.as_str(), value.as_str(), row),
                ("Contract", "month-to-month", None)
            );
            assert_eq!(known, ["Month-to-month", "One year", "Two year"]);
            assert_eq!(n_known, 3);
        }
        other => panic!("expected UnknownCategory, got {other:?}"),
    }
    let err = strict.predict(&typo).expect_err("error");
    assert!(err.is_input_error());
    let text = err.to_string();
    assert!(
        text.contains("`Contract`")
            && text.contains("`month-to-month`")
            && text.contains("`Month-to-month`"),
        "{text}"
    );
    // Known rows still score under Error; the refusals count as errors.
    assert_eq!(
        strict.predict(&base_record()).expect("known").value,
        p.predict(&base_record()).expect("known").value
    );
    assert_eq!(p.monitor().snapshot().errors["unknown_category"], 2);

    // A column with more than ten known values lists ten and says how many more.
    let wide = {
        let mut b = mlops_core::features::FeatureSpec::new();
        b = b.categorical(mlops_core::features::CategoricalFeature::new("code"));
        let codes: Vec<String> = (0..14).map(|i| format!("c{i:02}")).collect();
        let frame = mlops_core::data::Frame::new(vec![(
            "code".into(),
            mlops_core::data::Column::Categorical(
                mlops_core::data::CategoricalColumn::from_options(
                    codes.iter().map(|c| Some(c.as_str())),
                ),
            ),
        )])
        .expect("frame");
        let features = b.fit(&frame).expect("fit");
        let n = features.n_outputs();
        let model = mlops_core::model::InferenceModel::Linear(
            mlops_core::model::LinearModel::new(
                vec![0.0; n],
                0.0,
                mlops_core::model::Link::Logistic,
            )
            .expect("linear"),
        );
        Predictor::builder("codes", features, model)
            .unknown_categories(UnknownCategories::Error)
            .build()
            .expect("build")
    };
    let text = wide
        .predict(&Record::new().text("code", "zz"))
        .expect_err("unknown")
        .to_string();
    assert!(text.contains("`c09` and 4 more"), "{text}");
    assert!(!text.contains("`c10`"), "{text}");

    // A frame: Report counts, Ignore does not, Error fails it naming the row.
    let mut contract: Vec<Option<String>> = t
        .test
        .categorical("Contract")
        .expect("contract")
        .iter()
        .map(|v| v.map(str::to_owned))
        .collect();
    contract[5] = Some("month-to-month".into());
    contract[9] = Some("two year".into());
    let cols: Vec<(String, mlops_core::data::Column)> = t
        .test
        .columns()
        .map(|(n, c)| {
            let c = if n == "Contract" {
                mlops_core::data::Column::Categorical(
                    mlops_core::data::CategoricalColumn::from_options(
                        contract.iter().map(Option::as_deref),
                    ),
                )
            } else {
                c.clone()
            };
            (n.to_owned(), c)
        })
        .collect();
    let frame = mlops_core::data::Frame::new(cols).expect("frame");
    let reported = p.predict_frame(&frame).expect("report");
    assert_eq!(reported.unknown_categories, 2);
    let ignored = ignore.predict_frame(&frame).expect("ignore");
    assert_eq!(ignored.unknown_categories, 0);
    assert_eq!(ignored.values, reported.values);
    match strict.predict_frame(&frame) {
        Err(Error::UnknownCategory {
            column, value, row, ..
        }) => {
            assert_eq!(
                (column.as_str(), value.as_str(), row),
                ("Contract", "month-to-month", Some(5))
            );
        }
        other => panic!("expected UnknownCategory, got {other:?}"),
    }
    assert!(
        strict.predict_frame(&t.test).is_ok(),
        "a frame of known values scores"
    );
}
