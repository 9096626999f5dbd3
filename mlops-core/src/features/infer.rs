//! A sensible default [`FeatureSpec`] read off a frame.

use super::spec::{CategoricalFeature, FeatureSpec, NumericFeature, Target};
use crate::data::{Column, Frame};
use crate::error::{Error, Result};

impl FeatureSpec {
    /// Builds a default spec from a frame's columns:
    ///
    /// - numeric columns: median imputation, standard scaling;
    /// - categorical columns: one-hot with the unknown bucket;
    /// - id-like categorical columns (more than half of the rows distinct,
    ///   which includes one distinct value per row) and all-missing columns
    ///   are listed in [`FeatureSpec::excluded`] instead;
    /// - `target` is the target, never an input; `positive` names its
    ///   positive label (required for a categorical target with two labels;
    ///   absent means multiclass on a categorical target with more than two
    ///   labels and regression on a numeric one).
    ///
    /// ```
    /// use mlops_core::data::Frame;
    /// use mlops_core::features::FeatureSpec;
    ///
    /// let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/data/telco_churn.csv");
    /// let frame = Frame::read_csv(path)?;
    /// let spec = FeatureSpec::infer(&frame, "Churn", Some("Yes"))?;
    /// assert_eq!(spec.excluded, ["customerID"]);
    /// assert_eq!(spec.numeric.len(), 4);
    /// # Ok::<(), mlops_core::Error>(())
    /// ```
    pub fn infer(frame: &Frame, target: &str, positive: Option<&str>) -> Result<FeatureSpec> {
        let target_col = frame.column(target).map_err(|_| {
            Error::InvalidSpec(format!("target column `{target}` is not in the frame"))
        })?;
        let mut spec = FeatureSpec::new().target(match positive {
            Some(p) => Target::classification(target, p),
            None if target_col.as_categorical().is_some() => {
                let distinct = target_col
                    .as_categorical()
                    .map_or(0, |c| c.counts().iter().filter(|&&n| n > 0).count());
                if distinct <= 2 {
                    return Err(Error::InvalidSpec(format!(
                        "target `{target}` is categorical with {distinct} labels: name its positive label"
                    )));
                }
                Target::multiclass(target)
            }
            None => Target::regression(target),
        });
        let rows = frame.n_rows();
        for (name, column) in frame.columns() {
            if name == target {
                continue;
            }
            let exclude = |reason: &str| {
                tracing::info!(
                    column = name,
                    reason,
                    "column excluded from inferred features"
                );
            };
            if column.missing_count() == rows {
                exclude("all values missing");
                spec.excluded.push(name.to_owned());
                continue;
            }
            match column {
                Column::Numeric(_) => {
                    spec.numeric.push(NumericFeature::new(name));
                }
                Column::Categorical(c) => {
                    let distinct = c.counts().iter().filter(|&&n| n > 0).count();
                    if distinct * 2 > rows {
                        exclude("id-like: more than half of the rows are distinct");
                        spec.excluded.push(name.to_owned());
                    } else {
                        spec.categorical.push(CategoricalFeature::new(name));
                    }
                }
            }
        }
        spec.validate()?;
        Ok(spec)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::{CategoricalColumn, NumericColumn};
    use crate::features::{Impute, Scale};

    #[test]
    fn infers_types_ids_and_target() {
        let frame = Frame::new(vec![
            (
                "id".into(),
                Column::Categorical(CategoricalColumn::from_options(
                    ["a", "b", "c", "d"].map(Some),
                )),
            ),
            (
                "x".into(),
                Column::Numeric(NumericColumn::from_options([
                    Some(1.0),
                    None,
                    Some(2.0),
                    Some(0.0),
                ])),
            ),
            (
                "empty".into(),
                Column::Numeric(NumericColumn::from_options([None, None, None, None])),
            ),
            (
                "plan".into(),
                Column::Categorical(CategoricalColumn::from_options(
                    ["p", "q", "p", "p"].map(Some),
                )),
            ),
            (
                "y".into(),
                Column::Numeric(NumericColumn::from_options([
                    Some(1.0),
                    Some(0.0),
                    Some(1.0),
                    Some(0.0),
                ])),
            ),
        ])
        .unwrap();
        let spec = FeatureSpec::infer(&frame, "y", None).unwrap();
        assert_eq!(spec.excluded, ["id", "empty"]);
        assert_eq!(spec.numeric.len(), 1);
        assert_eq!(spec.numeric[0].column, "x");
        assert_eq!(
            (spec.numeric[0].impute, spec.numeric[0].scale),
            (Impute::Median, Scale::Standard)
        );
        assert_eq!(spec.categorical.len(), 1);
        assert_eq!(spec.target, Some(Target::regression("y")));
        spec.fit(&frame).unwrap();

        let err = FeatureSpec::infer(&frame, "plan", None).unwrap_err();
        assert!(err.to_string().contains("positive label"), "{err}");
        let err = FeatureSpec::infer(&frame, "nope", None).unwrap_err();
        assert!(err.to_string().contains("`nope`"), "{err}");
    }

    #[test]
    fn text_target_with_three_labels_is_multiclass() {
        let frame = |labels: [&str; 6]| {
            Frame::new(vec![
                (
                    "x".into(),
                    Column::Numeric(NumericColumn::from_options(
                        [1.0, 2.0, 3.0, 4.0, 5.0, 6.0].map(Some),
                    )),
                ),
                (
                    "y".into(),
                    Column::Categorical(CategoricalColumn::from_options(labels.map(Some))),
                ),
            ])
            .unwrap()
        };
        let train = frame(["b", "c", "a", "c", "b", "a"]);
        let spec = FeatureSpec::infer(&train, "y", None).unwrap();
        assert_eq!(spec.target, Some(Target::multiclass("y")));
        let fitted = spec.fit(&train).unwrap();
        assert_eq!(fitted.classes().unwrap(), ["a", "b", "c"]);
        assert_eq!(
            fitted.target(&train).unwrap().to_vec(),
            [1.0, 2.0, 0.0, 2.0, 1.0, 0.0]
        );
        // A label unseen at fit is a typed error naming value and row.
        let err = fitted
            .target(&frame(["a", "b", "c", "d", "a", "a"]))
            .unwrap_err();
        assert!(
            matches!(&err, Error::UnknownTargetClass { column, value, row: 3 } if column == "y" && value == "d"),
            "{err}"
        );
        // Two labels still need a positive label.
        let err =
            FeatureSpec::infer(&frame(["a", "b", "a", "b", "a", "b"]), "y", None).unwrap_err();
        assert!(err.to_string().contains("positive label"), "{err}");
        // A positive label keeps it binary.
        let spec = FeatureSpec::infer(&train, "y", Some("a")).unwrap();
        assert!(!spec.target.as_ref().unwrap().multiclass);
        assert!(spec.fit(&train).unwrap().classes().is_none());
    }

    #[test]
    fn multiclass_flag_is_backward_compatible() {
        // Old specs (no `multiclass` field) still load, and a binary target
        // does not write the field, so its serialized bytes are unchanged.
        let old = r#"{"column":"churn","positive":"yes"}"#;
        let t: Target = serde_json::from_str(old).unwrap();
        assert_eq!(t, Target::classification("churn", "yes"));
        assert_eq!(serde_json::to_string(&t).unwrap(), old);
        let m = Target::multiclass("plan");
        let text = serde_json::to_string(&m).unwrap();
        assert_eq!(serde_json::from_str::<Target>(&text).unwrap(), m);
        let bad = FeatureSpec::new()
            .numeric(crate::features::NumericFeature::new("x"))
            .target(Target {
                positive: Some("a".into()),
                ..Target::multiclass("y")
            });
        assert!(bad.validate().is_err());
    }
}
