//! Property tests: the frame transform and the record transform agree,
//! unseen categories and missing values are handled as documented, and a
//! spec that does not fit the data fails at fit.

use proptest::prelude::*;

use super::*;
use crate::data::{CategoricalColumn, Column, Frame, NumericColumn, Value};
use crate::error::Error;

const CATS: [&str; 5] = ["a", "b", "c", "dd", "e"];

/// Frames with the fixed schema n0, n1 (any sign, zeros), n2 (>= 0),
/// c0, c1; every column has missing cells.
fn arb_frame(max_rows: usize) -> impl Strategy<Value = Frame> {
    (1..max_rows).prop_flat_map(|rows| {
        let num = |lo: f64, hi: f64| {
            proptest::collection::vec(
                proptest::option::weighted(0.85, prop_oneof![1 => Just(0.0), 4 => lo..hi]),
                rows,
            )
        };
        let cat = || {
            proptest::collection::vec(
                proptest::option::weighted(0.85, proptest::sample::select(&CATS[..])),
                rows,
            )
        };
        (
            num(-50.0, 50.0),
            num(-5.0, 5.0),
            num(0.0, 1e4),
            cat(),
            cat(),
        )
            .prop_map(|(n0, n1, n2, c0, c1)| {
                Frame::new(vec![
                    (
                        "n0".into(),
                        Column::Numeric(NumericColumn::from_options(n0)),
                    ),
                    (
                        "c0".into(),
                        Column::Categorical(CategoricalColumn::from_options(c0)),
                    ),
                    (
                        "n1".into(),
                        Column::Numeric(NumericColumn::from_options(n1)),
                    ),
                    (
                        "n2".into(),
                        Column::Numeric(NumericColumn::from_options(n2)),
                    ),
                    (
                        "c1".into(),
                        Column::Categorical(CategoricalColumn::from_options(c1)),
                    ),
                ])
                .expect("columns have equal length")
            })
    })
}

fn arb_impute() -> impl Strategy<Value = Impute> {
    prop_oneof![
        Just(Impute::Mean),
        Just(Impute::Median),
        (-10.0f64..10.0).prop_map(Impute::Constant)
    ]
}

fn arb_scale() -> impl Strategy<Value = Scale> {
    prop_oneof![
        Just(Scale::Standard),
        Just(Scale::MinMax),
        Just(Scale::None)
    ]
}

fn arb_spec() -> impl Strategy<Value = FeatureSpec> {
    (
        proptest::collection::vec((arb_impute(), arb_scale(), any::<bool>()), 3),
        proptest::option::of(1usize..4),
        proptest::option::of(1usize..4),
        proptest::collection::vec(arb_scale(), 3),
    )
        .prop_map(|(nums, top_k, min_freq, derived_scales)| {
            let mut spec = FeatureSpec::new();
            for (i, (impute, scale, clip)) in nums.into_iter().enumerate() {
                let mut f = NumericFeature::new(format!("n{i}"))
                    .impute(impute)
                    .scale(scale);
                if clip {
                    f = f.clip(Some(-1.0), Some(100.0));
                }
                spec = spec.numeric(f);
            }
            let mut c0 = CategoricalFeature::new("c0");
            c0.top_k = top_k;
            c0.min_frequency = min_freq;
            spec.categorical(c0)
                .categorical(CategoricalFeature::new("c1"))
                .derived(DerivedFeature::ratio("r", "n0", "n1").with_scale(derived_scales[0]))
                .derived(DerivedFeature::log1p("l", "n2").with_scale(derived_scales[1]))
                .derived(DerivedFeature::interaction("i", "n0", "n2").with_scale(derived_scales[2]))
                .derived(DerivedFeature::bucketize("b", "n1", vec![-1.0, 0.0, 2.5]))
        })
}

/// Fits, or `None` when a random column happened to have no present value
/// to learn a statistic from (the one legitimate fit failure here).
fn try_fit(spec: &FeatureSpec, frame: &Frame) -> Option<FittedFeatures> {
    match spec.fit(frame) {
        Ok(f) => Some(f),
        Err(Error::InvalidSpec(m))
            if m.contains("no non-missing") || m.contains("no training row") =>
        {
            None
        }
        Err(e) => panic!("unexpected fit error: {e}"),
    }
}

/// Record `row` of `frame` in the fitted input order.
fn record<'f>(fitted: &FittedFeatures, frame: &'f Frame, row: usize) -> Vec<Value<'f>> {
    fitted
        .input_columns()
        .iter()
        .map(|f| frame.value(row, frame.position(&f.name).expect("column present")))
        .collect()
}

fn numpy_median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn transform_rows_equal_transform_row(
        spec in arb_spec(), train in arb_frame(40), test in arb_frame(20),
    ) {
        let Some(fitted) = try_fit(&spec, &train) else { return Ok(()) };
        // The test frame is new data: other dictionaries, unseen categories.
        let matrix = fitted.transform(&test).unwrap();
        prop_assert_eq!(matrix.dim(), (test.n_rows(), fitted.n_outputs()));
        let mut out = vec![f64::NAN; fitted.n_outputs()];
        let mut unseen_by_rows = 0;
        for r in 0..test.n_rows() {
            unseen_by_rows += fitted.transform_row(&record(&fitted, &test, r), &mut out).unwrap();
            for (j, (a, b)) in matrix.row(r).iter().zip(&out).enumerate() {
                prop_assert!(a.to_bits() == b.to_bits(),
                    "row {} output {} ({}): transform {} vs transform_row {}",
                    r, j, fitted.output_names()[j], a, b);
            }
        }
        // A reused, dirty buffer gives the same matrix.
        let mut reused = ndarray::Array2::from_elem(matrix.dim(), f64::NAN);
        let unseen = fitted.transform_into(&test, reused.view_mut()).unwrap();
        prop_assert!(reused == matrix);
        prop_assert_eq!(unseen, unseen_by_rows);
        let mut wrong = ndarray::Array2::zeros((test.n_rows() + 1, fitted.n_outputs()));
        prop_assert!(matches!(fitted.transform_into(&test, wrong.view_mut()), Err(Error::Shape(_))));
        // Serde round trip keeps the transform.
        let back: FittedFeatures = rmp_serde::from_slice(&rmp_serde::to_vec(&fitted).unwrap()).unwrap();
        prop_assert!(back.transform(&test).unwrap() == matrix);
    }

    #[test]
    fn unseen_category_lands_in_the_unknown_bucket(
        train in arb_frame(40), unseen in "[f-z]{1,6}",
    ) {
        let spec = FeatureSpec::new()
            .numeric(NumericFeature::new("n2").impute(Impute::Constant(0.0)))
            .categorical(CategoricalFeature::new("c0"));
        let fitted = spec.fit(&train).unwrap();
        let mut out = vec![f64::NAN; fitted.n_outputs()];
        // input order follows the frame: c0 then n2.
        let unknown = fitted.transform_row(&[Value::Text(&unseen), Value::Number(1.0)], &mut out).unwrap();
        prop_assert_eq!(unknown, 1);
        let names = fitted.output_names();
        for (name, v) in names.iter().zip(&out).skip(1) {
            let want = if name == "c0=<unknown>" { 1.0 } else { 0.0 };
            prop_assert_eq!(*v, want, "{}", name);
        }
        // A known category is not counted and sets its own slot.
        let known: Vec<&String> = fitted.categories("c0").unwrap().iter().collect();
        if let Some(k) = known.first() {
            let n = fitted.transform_row(&[Value::Text(k), Value::Missing], &mut out).unwrap();
            prop_assert_eq!(n, 0);
            let slot = names.iter().position(|o| *o == format!("c0={k}")).unwrap();
            prop_assert_eq!(out[slot], 1.0);
            prop_assert_eq!(out.iter().skip(1).sum::<f64>(), 1.0);
        }
    }

    #[test]
    fn missing_values_get_the_fitted_fill(
        train in arb_frame(40), impute in arb_impute(), scale in arb_scale(),
    ) {
        let spec = FeatureSpec::new().numeric(NumericFeature::new("n0").impute(impute).scale(scale));
        let present: Vec<f64> = train.numeric("n0").unwrap().present().collect();
        let Some(fitted) = try_fit(&spec, &train) else {
            prop_assert!(present.is_empty());
            return Ok(());
        };
        let expected_fill = match impute {
            Impute::Constant(c) => c,
            Impute::Mean => present.iter().sum::<f64>() / present.len() as f64,
            Impute::Median => numpy_median(present.clone()),
        };
        let map = fitted.numeric_map("n0").unwrap();
        prop_assert!((map.fill - expected_fill).abs() <= 1e-9 * expected_fill.abs().max(1.0));
        let mut out = [f64::NAN];
        fitted.transform_row(&[Value::Missing], &mut out).unwrap();
        let mut filled = [f64::NAN];
        fitted.transform_row(&[Value::Number(map.fill)], &mut filled).unwrap();
        prop_assert_eq!(out[0], filled[0]);
        prop_assert_eq!(out[0], (map.fill - map.center) / map.divisor);
        // And in the frame transform, every missing row holds that value.
        let m = fitted.transform(&train).unwrap();
        for (r, v) in train.numeric("n0").unwrap().iter().enumerate() {
            if v.is_none() {
                prop_assert_eq!(m[[r, 0]], out[0]);
            }
        }
    }

    #[test]
    fn absent_or_mistyped_columns_fail_at_fit(train in arb_frame(10), which in 0usize..4) {
        let (spec, want) = match which {
            0 => (FeatureSpec::new().numeric(NumericFeature::new("nope")),
                  "feature `nope`: column `nope` is not in the training frame"),
            1 => (FeatureSpec::new().numeric(NumericFeature::new("c0")),
                  "feature `c0`: column `c0` is categorical, the feature needs numeric"),
            2 => (FeatureSpec::new().categorical(CategoricalFeature::new("n1")),
                  "feature `n1`: column `n1` is numeric, the feature needs categorical"),
            _ => (FeatureSpec::new().derived(DerivedFeature::ratio("r", "n0", "c1")),
                  "feature `r`: column `c1` is categorical, the feature needs numeric"),
        };
        let err = spec.fit(&train).unwrap_err();
        prop_assert!(matches!(err, Error::InvalidSpec(_)));
        prop_assert!(err.to_string().contains(want), "{} lacks {}", err, want);
    }
}

#[test]
fn fitted_features_can_be_shared_across_threads() {
    fn assert_send_sync<T: Send + Sync + 'static>() {}
    assert_send_sync::<FittedFeatures>();
    assert_send_sync::<FeatureSpec>();
}

#[test]
fn bad_record_values_are_typed_errors_naming_the_column() {
    let frame = Frame::new(vec![
        (
            "x".into(),
            Column::Numeric(NumericColumn::from_options([Some(1.0), Some(2.0)])),
        ),
        (
            "c".into(),
            Column::Categorical(CategoricalColumn::from_options([Some("a"), None])),
        ),
    ])
    .unwrap();
    let fitted = FeatureSpec::new()
        .numeric(NumericFeature::new("x"))
        .categorical(CategoricalFeature::new("c"))
        .fit(&frame)
        .unwrap();
    let mut out = vec![0.0; fitted.n_outputs()];
    let cases: [(&[Value<'_>], &str); 4] = [
        (
            &[Value::Number(f64::INFINITY), Value::Missing],
            "column `x`: non-finite value inf",
        ),
        (
            &[Value::Text("1"), Value::Missing],
            "column `x`: expected a number",
        ),
        (
            &[Value::Number(1.0), Value::Number(2.0)],
            "column `c`: expected a category",
        ),
        (&[Value::Number(1.0)], "transform_row got 1 values"),
    ];
    for (row, want) in cases {
        let err = fitted.transform_row(row, &mut out).unwrap_err();
        assert!(err.to_string().contains(want), "{err} lacks {want}");
    }
    let err = fitted
        .transform_row(&[Value::Missing, Value::Missing], &mut out[..1])
        .unwrap_err();
    assert!(matches!(err, Error::Shape(_)));
    // Infinite values in a frame are errors at fit and at transform.
    let inf = Frame::new(vec![
        (
            "x".into(),
            Column::Numeric(NumericColumn::from_options([
                Some(1.0),
                Some(f64::NEG_INFINITY),
            ])),
        ),
        (
            "c".into(),
            Column::Categorical(CategoricalColumn::from_options([Some("a"), None])),
        ),
    ])
    .unwrap();
    let err = fitted.transform(&inf).unwrap_err().to_string();
    assert!(
        err.contains("column `x`: row 1: non-finite value -inf"),
        "{err}"
    );
    let err = fitted.spec().fit(&inf).unwrap_err().to_string();
    assert!(err.contains("column `x`: row 1"), "{err}");
    // A frame without an input column, or with the wrong type.
    let err = fitted
        .transform(&frame.select(&["x"]).unwrap())
        .unwrap_err();
    assert!(
        matches!(err, Error::ColumnNotFound { ref column } if column == "c"),
        "{err}"
    );
}

#[test]
fn targets_classification_regression_and_missing() {
    let frame = Frame::new(vec![
        (
            "x".into(),
            Column::Numeric(NumericColumn::from_options([
                Some(1.0),
                Some(2.0),
                Some(3.0),
            ])),
        ),
        (
            "y".into(),
            Column::Categorical(CategoricalColumn::from_options([
                Some("no"),
                Some("yes"),
                None,
            ])),
        ),
        (
            "v".into(),
            Column::Numeric(NumericColumn::from_options([
                Some(0.5),
                Some(1.0),
                Some(2.0),
            ])),
        ),
    ])
    .unwrap();
    let base = FeatureSpec::new().numeric(NumericFeature::new("x"));
    let f = base
        .clone()
        .target(Target::classification("y", "yes"))
        .fit(&frame)
        .unwrap();
    let err = f.target(&frame).unwrap_err();
    assert!(
        matches!(err, Error::MissingTarget { ref column, row: 2 } if column == "y"),
        "{err}"
    );
    assert_eq!(
        f.target(&frame.take(&[0, 1]).unwrap()).unwrap().to_vec(),
        [0.0, 1.0]
    );
    let f = base
        .clone()
        .target(Target::regression("v"))
        .fit(&frame)
        .unwrap();
    assert_eq!(f.target(&frame).unwrap().to_vec(), [0.5, 1.0, 2.0]);
    let f = base
        .clone()
        .target(Target::classification("v", "1"))
        .fit(&frame)
        .unwrap();
    assert_eq!(f.target(&frame).unwrap().to_vec(), [0.0, 1.0, 0.0]);
    let err = base
        .clone()
        .target(Target::classification("y", "Yes"))
        .fit(&frame)
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("positive label `Yes` never occurs"),
        "{err}"
    );
    let err = base
        .clone()
        .target(Target::regression("y"))
        .fit(&frame)
        .unwrap_err();
    assert!(err.to_string().contains("name its positive label"), "{err}");
    let err = base.fit(&frame).unwrap().target(&frame).unwrap_err();
    assert!(err.to_string().contains("no target"), "{err}");
}

#[test]
fn corrupt_fitted_payload_is_an_error_not_a_panic() {
    let frame = Frame::new(vec![
        (
            "x".into(),
            Column::Numeric(NumericColumn::from_options([Some(1.0), Some(2.0)])),
        ),
        (
            "c".into(),
            Column::Categorical(CategoricalColumn::from_options([Some("a"), Some("b")])),
        ),
    ])
    .unwrap();
    let fitted = FeatureSpec::new()
        .numeric(NumericFeature::new("x"))
        .categorical(CategoricalFeature::new("c"))
        .fit(&frame)
        .unwrap();
    let json = serde_json::to_string(&fitted).unwrap();
    let mutations = [
        // an input the steps need is gone
        json.replace(
            r#"{"name":"c","type":"categorical"}"#,
            r#"{"name":"zz","type":"categorical"}"#,
        ),
        // a type flipped
        json.replace(r#""type":"categorical""#, r#""type":"numeric""#),
        // unsorted categories
        json.replace(r#"["a","b"]"#, r#"["b","a"]"#),
        // a zero divisor
        json.replace(r#""divisor":0.5"#, r#""divisor":0.0"#),
    ];
    for m in mutations {
        assert_ne!(m, json, "mutation did not apply");
        let err = serde_json::from_str::<FittedFeatures>(&m)
            .unwrap_err()
            .to_string();
        assert!(err.contains("invalid fitted features"), "{err}");
    }
    // Every truncation of the compact MessagePack form fails cleanly.
    let packed = rmp_serde::to_vec(&fitted).unwrap();
    for cut in 0..packed.len() {
        assert!(rmp_serde::from_slice::<FittedFeatures>(&packed[..cut]).is_err());
    }
}
