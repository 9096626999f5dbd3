//! [`FittedFeatures`]: a spec with the statistics learned from training rows,
//! applied to a whole [`Frame`] or to one record.

use std::collections::{HashMap, HashSet};

use ndarray::{Array1, Array2, ArrayViewMut2};
use serde::{Deserialize, Serialize};

use super::categorical::{Lookup, choose_categories};
use super::derived::{self, FittedDerived, bucket, bucket_names};
use super::numeric::NumericMap;
use super::spec::FeatureSpec;
use crate::data::{Column, ColumnType, Field, Frame, MISSING_CODE, Value};
use crate::error::{Error, Result};

/// Name suffix of the unknown bucket of a one-hot block: `column=<unknown>`.
pub const UNKNOWN_CATEGORY: &str = "<unknown>";

/// Rows processed together by [`FittedFeatures::transform`]: each feature
/// loops over a block that stays in cache.
const BLOCK_ROWS: usize = 64;

/// What a frame transform reads: the input columns (in input order) and,
/// per step, the frame-code -> output-slot map of a one-hot step.
struct Plan<'f> {
    columns: Vec<&'f Column>,
    slot_maps: Vec<Vec<u32>>,
}

fn log_unseen(unseen: usize) {
    if unseen > 0 {
        tracing::debug!(
            unseen,
            "categories unseen at fit sent to the unknown bucket"
        );
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct FittedNumeric {
    column: String,
    map: NumericMap,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct FittedCategorical {
    column: String,
    /// Kept categories, sorted; each has one output.
    categories: Vec<String>,
    /// Seen in training but sent to the unknown bucket.
    rare: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
enum FittedTarget {
    /// A categorical column with a positive label.
    Label { column: String, positive: String },
    /// A numeric column: the value itself, or 1/0 against `positive`.
    Numeric {
        column: String,
        positive: Option<f64>,
    },
    /// A categorical column with `k >= 2` classes (sorted, distinct): the
    /// target is the class index.
    Classes {
        column: String,
        classes: Vec<String>,
    },
}

/// What is persisted. Everything else is rebuilt from it by `compile`, which
/// also validates it, so a corrupt package cannot make transforms panic.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct FittedRepr {
    spec: FeatureSpec,
    inputs: Vec<Field>,
    training_rows: usize,
    numeric: Vec<FittedNumeric>,
    categorical: Vec<FittedCategorical>,
    derived: Vec<FittedDerived>,
    target: Option<FittedTarget>,
}

/// One output block, with input positions resolved.
#[derive(Debug, Clone)]
enum Step {
    Numeric {
        input: usize,
        out: usize,
        map: NumericMap,
    },
    OneHot {
        input: usize,
        out: usize,
        /// Kept categories + 1 (the unknown bucket, last).
        width: usize,
        lookup: Lookup,
    },
    Ratio {
        a: usize,
        b: usize,
        out: usize,
        map: NumericMap,
    },
    Log1p {
        input: usize,
        out: usize,
        map: NumericMap,
    },
    Interaction {
        a: usize,
        b: usize,
        fill_a: f64,
        fill_b: f64,
        out: usize,
        map: NumericMap,
    },
    Bucketize {
        input: usize,
        out: usize,
        edges: Vec<f64>,
    },
}

/// A [`FeatureSpec`] fitted on training rows: the one transform that
/// training, batch scoring and online serving all run.
///
/// Serializes (serde) to the spec plus the learned statistics; deserializing
/// validates them, so a corrupt or hostile payload is an error, never a panic
/// at transform time.
///
/// ```
/// use mlops_core::data::{CategoricalColumn, Column, Frame, NumericColumn, Value};
/// use mlops_core::features::{CategoricalFeature, FeatureSpec, NumericFeature, Target};
///
/// let frame = Frame::new(vec![
///     ("tenure".into(), Column::Numeric(NumericColumn::from_options([Some(1.0), Some(3.0), None]))),
///     ("plan".into(), Column::Categorical(CategoricalColumn::from_options([Some("a"), Some("b"), Some("a")]))),
///     ("churn".into(), Column::Categorical(CategoricalColumn::from_options([Some("yes"), Some("no"), Some("no")]))),
/// ])?;
/// let fitted = FeatureSpec::new()
///     .numeric(NumericFeature::new("tenure"))
///     .categorical(CategoricalFeature::new("plan"))
///     .target(Target::classification("churn", "yes"))
///     .fit(&frame)?;
/// assert_eq!(fitted.output_names(), ["tenure", "plan=a", "plan=b", "plan=<unknown>"]);
///
/// let x = fitted.transform(&frame)?;           // 3 x 4 matrix
/// assert_eq!(x[[2, 0]], 0.0);                  // missing tenure -> median 2 -> scaled 0
/// assert_eq!(fitted.target(&frame)?.to_vec(), [1.0, 0.0, 0.0]);
///
/// // One record, in `input_columns()` order, into a caller's buffer.
/// let mut out = [0.0; 4];
/// let unknown = fitted.transform_row(&[Value::Number(2.0), Value::Text("zzz")], &mut out)?;
/// assert_eq!((unknown, out), (1, [0.0, 0.0, 0.0, 1.0]));
/// # Ok::<(), mlops_core::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct FittedFeatures {
    repr: FittedRepr,
    outputs: Vec<String>,
    steps: Vec<Step>,
}

impl PartialEq for FittedFeatures {
    fn eq(&self, other: &Self) -> bool {
        self.repr == other.repr
    }
}

impl Serialize for FittedFeatures {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        self.repr.serialize(s)
    }
}

impl<'de> Deserialize<'de> for FittedFeatures {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let repr = FittedRepr::deserialize(d)?;
        compile(repr).map_err(|e| serde::de::Error::custom(format!("invalid fitted features: {e}")))
    }
}

impl FeatureSpec {
    /// Learns the statistics of every feature from `frame` (the training
    /// rows only) after validating the spec against it.
    ///
    /// Errors: [`Error::InvalidSpec`] naming the feature when a column is
    /// absent or of the wrong type, when a statistic cannot be learned (an
    /// all-missing column), or when a log1p input is negative;
    /// [`Error::BadValue`] for an infinite training value.
    pub fn fit(&self, frame: &Frame) -> Result<FittedFeatures> {
        let _span = tracing::debug_span!("features.fit", rows = frame.n_rows()).entered();
        self.validate()?;
        if frame.n_rows() == 0 {
            return Err(Error::InvalidSpec(
                "cannot fit on a frame with no rows".into(),
            ));
        }
        // Every referenced column with the type its feature needs.
        let mut wanted: Vec<(&str, &str, ColumnType)> = Vec::new();
        for f in &self.numeric {
            wanted.push((&f.column, &f.column, ColumnType::Numeric));
        }
        for f in &self.categorical {
            wanted.push((&f.column, &f.column, ColumnType::Categorical));
        }
        for f in &self.derived {
            for c in f.columns() {
                wanted.push((f.name(), c, ColumnType::Numeric));
            }
        }
        let mut numeric_values: HashMap<&str, Vec<Option<f64>>> = HashMap::new();
        for &(feature, col, ty) in &wanted {
            let column = frame.column(col).map_err(|_| {
                Error::InvalidSpec(format!(
                    "feature `{feature}`: column `{col}` is not in the training frame"
                ))
            })?;
            if column.column_type() != ty {
                return Err(Error::InvalidSpec(format!(
                    "feature `{feature}`: column `{col}` is {}, the feature needs {ty}",
                    column.column_type()
                )));
            }
            if let Column::Numeric(c) = column
                && !numeric_values.contains_key(col)
            {
                if let Some(row) = c.raw().iter().position(|v| v.is_infinite()) {
                    return Err(Error::BadValue {
                        column: col.to_owned(),
                        reason: format!("row {row}: non-finite training value {}", c.raw()[row]),
                    });
                }
                numeric_values.insert(col, c.iter().collect());
            }
        }
        let used: HashSet<&str> = wanted.iter().map(|w| w.1).collect();
        let inputs: Vec<Field> = frame
            .schema()
            .fields
            .into_iter()
            .filter(|f| used.contains(f.name.as_str()))
            .collect();
        let bad =
            |feature: &str, e: String| Error::InvalidSpec(format!("feature `{feature}`: {e}"));

        let mut numeric = Vec::with_capacity(self.numeric.len());
        for f in &self.numeric {
            let map = NumericMap::fit(
                &numeric_values[f.column.as_str()],
                f.impute,
                f.clip,
                f.scale,
            )
            .map_err(|e| bad(&f.column, e))?;
            numeric.push(FittedNumeric {
                column: f.column.clone(),
                map,
            });
        }
        let mut categorical = Vec::with_capacity(self.categorical.len());
        for f in &self.categorical {
            let col = frame.categorical(&f.column)?;
            let (categories, rare) = choose_categories(col, f.top_k, f.min_frequency);
            categorical.push(FittedCategorical {
                column: f.column.clone(),
                categories,
                rare,
            });
        }
        let mut derived = Vec::with_capacity(self.derived.len());
        for f in &self.derived {
            let fitted = derived::fit(f, |c| numeric_values.get(c).map_or(&[][..], Vec::as_slice))
                .map_err(|e| bad(f.name(), e))?;
            derived.push(fitted);
        }
        let target = match &self.target {
            None => None,
            Some(t) if t.multiclass => Some(fit_classes(&t.column, frame)?),
            Some(t) => Some(fit_target(&t.column, t.positive.as_deref(), frame)?),
        };
        let repr = FittedRepr {
            spec: self.clone(),
            inputs,
            training_rows: frame.n_rows(),
            numeric,
            categorical,
            derived,
            target,
        };
        let fitted = compile(repr).map_err(Error::InvalidSpec)?;
        tracing::debug!(
            outputs = fitted.n_outputs(),
            inputs = fitted.repr.inputs.len(),
            "fitted features"
        );
        Ok(fitted)
    }
}

fn fit_target(column: &str, positive: Option<&str>, frame: &Frame) -> Result<FittedTarget> {
    let col = frame.column(column).map_err(|_| {
        Error::InvalidSpec(format!(
            "target column `{column}` is not in the training frame"
        ))
    })?;
    match (col, positive) {
        (Column::Categorical(c), Some(p)) => {
            if !c.iter().any(|v| v == Some(p)) {
                return Err(Error::InvalidSpec(format!(
                    "target `{column}`: the positive label `{p}` never occurs in the training rows"
                )));
            }
            Ok(FittedTarget::Label {
                column: column.to_owned(),
                positive: p.to_owned(),
            })
        }
        (Column::Categorical(_), None) => Err(Error::InvalidSpec(format!(
            "target `{column}` is categorical: name its positive label"
        ))),
        (Column::Numeric(c), Some(p)) => {
            let value: f64 = p.trim().parse().map_err(|_| {
                Error::InvalidSpec(format!(
                    "target `{column}` is numeric but the positive label `{p}` is not a number"
                ))
            })?;
            if !c.present().any(|v| v == value) {
                return Err(Error::InvalidSpec(format!(
                    "target `{column}`: the positive label `{p}` never occurs in the training rows"
                )));
            }
            Ok(FittedTarget::Numeric {
                column: column.to_owned(),
                positive: Some(value),
            })
        }
        (Column::Numeric(_), None) => Ok(FittedTarget::Numeric {
            column: column.to_owned(),
            positive: None,
        }),
    }
}

fn fit_classes(column: &str, frame: &Frame) -> Result<FittedTarget> {
    let col = frame.column(column).map_err(|_| {
        Error::InvalidSpec(format!(
            "target column `{column}` is not in the training frame"
        ))
    })?;
    let Column::Categorical(c) = col else {
        return Err(Error::InvalidSpec(format!(
            "target `{column}`: a multiclass target must be a text column"
        )));
    };
    let mut classes: Vec<String> = c
        .dictionary()
        .iter()
        .zip(c.counts())
        .filter(|(_, n)| *n > 0)
        .map(|(s, _)| s.to_owned())
        .collect();
    classes.sort();
    if classes.len() < 2 {
        return Err(Error::InvalidSpec(format!(
            "target `{column}`: multiclass needs at least 2 classes in the training rows, found {}",
            classes.len()
        )));
    }
    Ok(FittedTarget::Classes {
        column: column.to_owned(),
        classes,
    })
}

/// Resolves names to positions, lays out the outputs and checks every
/// invariant the transforms rely on.
fn compile(repr: FittedRepr) -> std::result::Result<FittedFeatures, String> {
    if let Some(FittedTarget::Classes { column, classes }) = &repr.target
        && (classes.len() < 2 || classes.windows(2).any(|w| w[0] >= w[1]))
    {
        return Err(format!(
            "target `{column}`: classes must be at least 2, sorted and distinct"
        ));
    }
    let mut positions: HashMap<&str, (usize, ColumnType)> = HashMap::new();
    for (i, f) in repr.inputs.iter().enumerate() {
        if positions.insert(&f.name, (i, f.column_type)).is_some() {
            return Err(format!("input column `{}` is listed twice", f.name));
        }
    }
    let input = |name: &str, ty: ColumnType| match positions.get(name) {
        Some(&(i, t)) if t == ty => Ok(i),
        Some(_) => Err(format!("input column `{name}` is not {ty}")),
        None => Err(format!("input column `{name}` is not listed")),
    };
    let check_map =
        |name: &str, map: &NumericMap| map.check().map_err(|e| format!("feature `{name}`: {e}"));
    let mut outputs: Vec<String> = Vec::new();
    let mut steps = Vec::new();
    for f in &repr.numeric {
        check_map(&f.column, &f.map)?;
        steps.push(Step::Numeric {
            input: input(&f.column, ColumnType::Numeric)?,
            out: outputs.len(),
            map: f.map,
        });
        outputs.push(f.column.clone());
    }
    for f in &repr.categorical {
        if f.categories.windows(2).any(|w| w[0] >= w[1])
            || f.rare.iter().any(|r| f.categories.binary_search(r).is_ok())
        {
            return Err(format!(
                "feature `{}`: categories are not sorted and distinct",
                f.column
            ));
        }
        steps.push(Step::OneHot {
            input: input(&f.column, ColumnType::Categorical)?,
            out: outputs.len(),
            width: f.categories.len() + 1,
            lookup: Lookup::new(&f.categories, &f.rare),
        });
        for c in &f.categories {
            outputs.push(format!("{}={c}", f.column));
        }
        outputs.push(format!("{}={UNKNOWN_CATEGORY}", f.column));
    }
    for f in &repr.derived {
        let out = outputs.len();
        let step = match f {
            FittedDerived::Ratio {
                name,
                numerator,
                denominator,
                map,
            } => {
                check_map(name, map)?;
                outputs.push(name.clone());
                Step::Ratio {
                    a: input(numerator, ColumnType::Numeric)?,
                    b: input(denominator, ColumnType::Numeric)?,
                    out,
                    map: *map,
                }
            }
            FittedDerived::Log1p { name, column, map } => {
                check_map(name, map)?;
                outputs.push(name.clone());
                Step::Log1p {
                    input: input(column, ColumnType::Numeric)?,
                    out,
                    map: *map,
                }
            }
            FittedDerived::Interaction {
                name,
                left,
                right,
                fill_left,
                fill_right,
                map,
            } => {
                check_map(name, map)?;
                if !fill_left.is_finite() || !fill_right.is_finite() {
                    return Err(format!("feature `{name}`: input fill is not finite"));
                }
                outputs.push(name.clone());
                Step::Interaction {
                    a: input(left, ColumnType::Numeric)?,
                    b: input(right, ColumnType::Numeric)?,
                    fill_a: *fill_left,
                    fill_b: *fill_right,
                    out,
                    map: *map,
                }
            }
            FittedDerived::Bucketize {
                name,
                column,
                edges,
            } => {
                if edges.is_empty()
                    || edges.iter().any(|e| !e.is_finite())
                    || edges.windows(2).any(|w| w[0] >= w[1])
                {
                    return Err(format!("feature `{name}`: bad bucket edges"));
                }
                outputs.extend(bucket_names(name, edges));
                Step::Bucketize {
                    input: input(column, ColumnType::Numeric)?,
                    out,
                    edges: edges.clone(),
                }
            }
        };
        steps.push(step);
    }
    let mut seen = HashSet::new();
    if let Some(dup) = outputs.iter().find(|o| !seen.insert(o.as_str())) {
        return Err(format!("output name `{dup}` is produced twice"));
    }
    Ok(FittedFeatures {
        repr,
        outputs,
        steps,
    })
}

impl FittedFeatures {
    /// Output names, one per matrix column, in order.
    pub fn output_names(&self) -> &[String] {
        &self.outputs
    }

    /// Number of outputs (matrix columns).
    pub fn n_outputs(&self) -> usize {
        self.outputs.len()
    }

    /// The raw columns a record must provide to [`transform_row`], in order
    /// (the training frame's column order).
    ///
    /// [`transform_row`]: FittedFeatures::transform_row
    pub fn input_columns(&self) -> &[Field] {
        &self.repr.inputs
    }

    /// The classes of a multiclass target, sorted: the target of a row is
    /// the index of its label here. `None` for binary, regression or no
    /// target.
    pub fn classes(&self) -> Option<&[String]> {
        match &self.repr.target {
            Some(FittedTarget::Classes { classes, .. }) => Some(classes),
            _ => None,
        }
    }

    /// The spec this was fitted from.
    pub fn spec(&self) -> &FeatureSpec {
        &self.repr.spec
    }

    /// Number of training rows the statistics were learned from.
    pub fn training_rows(&self) -> usize {
        self.repr.training_rows
    }

    /// The fitted map (fill value, clip, center, divisor) of a numeric
    /// feature.
    pub fn numeric_map(&self, column: &str) -> Option<&NumericMap> {
        self.repr
            .numeric
            .iter()
            .find(|f| f.column == column)
            .map(|f| &f.map)
    }

    /// The kept categories (sorted; one output each) of a categorical
    /// feature.
    pub fn categories(&self, column: &str) -> Option<&[String]> {
        self.repr
            .categorical
            .iter()
            .find(|f| f.column == column)
            .map(|f| f.categories.as_slice())
    }

    /// Every category of a categorical feature seen in training: the kept
    /// ones (sorted), then the rare ones sent to the unknown bucket
    /// (sorted). A value outside this list is what
    /// [`transform_row`](Self::transform_row) counts as unseen.
    pub fn seen_categories(&self, column: &str) -> Option<impl Iterator<Item = &str> + '_> {
        self.repr
            .categorical
            .iter()
            .find(|f| f.column == column)
            .map(|f| f.categories.iter().chain(&f.rare).map(String::as_str))
    }

    /// The first categorical value of `row` (one value per
    /// [`input_columns`](Self::input_columns) entry) never seen in
    /// training, in output order: its input position and the value. `None`
    /// when [`transform_row`](Self::transform_row) would count no unseen
    /// category (or `row` has the wrong length).
    pub fn first_unseen<'v>(&self, row: &[Value<'v>]) -> Option<(usize, &'v str)> {
        self.steps.iter().find_map(|step| match step {
            Step::OneHot { input, lookup, .. } => match row.get(*input) {
                Some(Value::Text(s)) if lookup.get(s).is_none() => Some((*input, *s)),
                _ => None,
            },
            _ => None,
        })
    }

    /// The first cell of `frame` whose category was never seen in training
    /// (in output order, then row order): its input position, row and
    /// value. `None` when [`transform`](Self::transform) would count no
    /// unseen category. Errors as [`transform`](Self::transform) for a
    /// frame without the input columns.
    pub fn first_unseen_in_frame<'f>(
        &self,
        frame: &'f Frame,
    ) -> Result<Option<(usize, usize, &'f str)>> {
        let columns = self.resolve(frame)?;
        for step in &self.steps {
            let Step::OneHot { input, lookup, .. } = step else {
                continue;
            };
            let Column::Categorical(c) = columns[*input] else {
                continue;
            };
            let unseen: Vec<bool> = c
                .dictionary()
                .iter()
                .map(|s| lookup.get(s).is_none())
                .collect();
            if !unseen.contains(&true) {
                continue;
            }
            let hit = c.codes().iter().enumerate().find(|&(_, &code)| {
                code != MISSING_CODE && unseen.get(code as usize).copied().unwrap_or(false)
            });
            if let Some((row, &code)) = hit {
                let value = c.dictionary().get(code as usize).unwrap_or("");
                return Ok(Some((*input, row, value)));
            }
        }
        Ok(None)
    }

    /// Transforms every row of `frame` into an `n_rows x n_outputs` matrix.
    /// The frame needs the [`input_columns`](Self::input_columns) (by name,
    /// with their types); other columns are ignored.
    ///
    /// Missing values are imputed, unseen categories land in the unknown
    /// bucket; an infinite numeric value is [`Error::BadValue`].
    ///
    /// Allocates the matrix; to reuse one buffer across batches (a large
    /// fresh allocation costs page faults that can exceed the transform
    /// itself), use [`transform_into`](Self::transform_into). On Linux a
    /// large output is allocated with transparent huge pages requested
    /// (`madvise`), which removes most of those faults where the kernel
    /// allows it.
    pub fn transform(&self, frame: &Frame) -> Result<Array2<f64>> {
        let _span = tracing::debug_span!("features.transform", rows = frame.n_rows()).entered();
        let n = frame.n_rows();
        let width = self.n_outputs();
        let plan = self.plan(frame)?;
        // Each block is built in a small buffer that stays in cache, then
        // appended to the output: the large output is written once, without
        // being zeroed first (a fresh 480 MB matrix costs more in page faults
        // and zeroing than the transform itself; huge pages cut the faults).
        let mut data = crate::huge_pages::vec_with_capacity(n * width);
        let mut block = vec![0.0; BLOCK_ROWS * width];
        let mut unseen = 0;
        for start in (0..n).step_by(BLOCK_ROWS) {
            let end = (start + BLOCK_ROWS).min(n);
            let block = &mut block[..(end - start) * width];
            unseen += self.fill_block(&plan, start, end, block);
            data.extend_from_slice(block);
        }
        log_unseen(unseen);
        Array2::from_shape_vec((n, width), data).map_err(|e| Error::Shape(e.to_string()))
    }

    /// Like [`transform`](Self::transform), into a caller's row-major
    /// (standard layout) `n_rows x n_outputs` matrix, which is fully
    /// overwritten. A wrong shape or layout is [`Error::Shape`].
    ///
    /// Returns the number of categorical cells whose category was never seen
    /// at fit (as [`transform_row`](Self::transform_row) does per record).
    pub fn transform_into(&self, frame: &Frame, mut out: ArrayViewMut2<'_, f64>) -> Result<usize> {
        let _span = tracing::debug_span!("features.transform", rows = frame.n_rows()).entered();
        let n = frame.n_rows();
        let width = self.n_outputs();
        if out.dim() != (n, width) {
            return Err(Error::Shape(format!(
                "transform_into needs a {n} x {width} matrix, got {} x {}",
                out.nrows(),
                out.ncols()
            )));
        }
        let Some(buf) = out.as_slice_mut() else {
            return Err(Error::Shape(
                "transform_into needs a contiguous row-major matrix".into(),
            ));
        };
        let plan = self.plan(frame)?;
        let mut unseen = 0;
        for start in (0..n).step_by(BLOCK_ROWS) {
            let end = (start + BLOCK_ROWS).min(n);
            unseen += self.fill_block(&plan, start, end, &mut buf[start * width..end * width]);
        }
        log_unseen(unseen);
        Ok(unseen)
    }

    /// The frame's input columns (checked) and, for each one-hot step, the
    /// map from the frame's dictionary codes to output slots.
    fn plan<'f>(&self, frame: &'f Frame) -> Result<Plan<'f>> {
        let columns = self.resolve(frame)?;
        let slot_maps = self
            .steps
            .iter()
            .map(|step| match step {
                Step::OneHot {
                    input,
                    width,
                    lookup,
                    ..
                } => match columns[*input] {
                    Column::Categorical(c) => c
                        .dictionary()
                        .iter()
                        // `width` (one past the unknown slot) marks a
                        // category unseen at fit, so it can be counted.
                        .map(|s| lookup.get(s).unwrap_or(*width as u32))
                        .collect(),
                    Column::Numeric(_) => Vec::new(),
                },
                _ => Vec::new(),
            })
            .collect();
        Ok(Plan { columns, slot_maps })
    }

    /// Writes rows `start..end` into `block` (their rows of the output,
    /// row-major), which is fully overwritten; returns the unseen
    /// categories met.
    fn fill_block(&self, plan: &Plan<'_>, start: usize, end: usize, block: &mut [f64]) -> usize {
        let width = self.n_outputs();
        let columns = &plan.columns;
        let raw = |i: usize| columns[i].as_numeric().map_or(&[][..], |c| c.raw());
        let cell = |i: usize, r: usize| raw(i).get(r).copied().filter(|v| !v.is_nan());
        let mut unseen = 0;
        // One-hot blocks only set their hot slot.
        block.fill(0.0);
        for (step, slots) in self.steps.iter().zip(&plan.slot_maps) {
            match step {
                Step::Numeric { input, out, map } => {
                    let values = raw(*input).get(start..end).unwrap_or_default();
                    for (row, &x) in block.chunks_exact_mut(width).zip(values) {
                        row[*out] = map.apply((!x.is_nan()).then_some(x));
                    }
                }
                Step::OneHot {
                    input,
                    out,
                    width: w,
                    ..
                } => {
                    let Column::Categorical(c) = columns[*input] else {
                        continue;
                    };
                    let unknown = *w as u32 - 1;
                    let codes = c.codes().get(start..end).unwrap_or_default();
                    for (row, &code) in block.chunks_exact_mut(width).zip(codes) {
                        let slot = if code == MISSING_CODE {
                            unknown
                        } else {
                            slots.get(code as usize).copied().unwrap_or(unknown)
                        };
                        unseen += usize::from(slot > unknown);
                        row[*out + slot.min(unknown) as usize] = 1.0;
                    }
                }
                Step::Ratio { a, b, out, map } => {
                    for (r, row) in (start..end).zip(block.chunks_exact_mut(width)) {
                        row[*out] = map.apply(derived::ratio(cell(*a, r), cell(*b, r)));
                    }
                }
                Step::Log1p { input, out, map } => {
                    for (r, row) in (start..end).zip(block.chunks_exact_mut(width)) {
                        row[*out] = map.apply(derived::log1p(cell(*input, r)));
                    }
                }
                Step::Interaction {
                    a,
                    b,
                    fill_a,
                    fill_b,
                    out,
                    map,
                } => {
                    for (r, row) in (start..end).zip(block.chunks_exact_mut(width)) {
                        let v = derived::interaction(cell(*a, r), cell(*b, r), *fill_a, *fill_b);
                        row[*out] = map.apply(v);
                    }
                }
                Step::Bucketize { input, out, edges } => {
                    let values = raw(*input).get(start..end).unwrap_or_default();
                    for (row, &x) in block.chunks_exact_mut(width).zip(values) {
                        if !x.is_nan() {
                            row[*out + bucket(x, edges)] = 1.0;
                        }
                    }
                }
            }
        }
        unseen
    }

    /// The frame's input columns, checked for presence, type and infinite
    /// values.
    fn resolve<'f>(&self, frame: &'f Frame) -> Result<Vec<&'f Column>> {
        let mut columns = Vec::with_capacity(self.repr.inputs.len());
        for field in &self.repr.inputs {
            let col = frame.column(&field.name)?;
            if col.column_type() != field.column_type {
                return Err(Error::ColumnType {
                    column: field.name.clone(),
                    expected: field.column_type.name(),
                    found: col.column_type().name(),
                });
            }
            if let Column::Numeric(c) = col
                && let Some(row) = c.raw().iter().position(|v| v.is_infinite())
            {
                return Err(Error::BadValue {
                    column: field.name.clone(),
                    reason: format!("row {row}: non-finite value {}", c.raw()[row]),
                });
            }
            columns.push(col);
        }
        Ok(columns)
    }

    /// Transforms one record into `out` without allocating.
    ///
    /// `row` holds one value per [`input_columns`](Self::input_columns)
    /// entry, in that order; `out` must have [`n_outputs`](Self::n_outputs)
    /// slots and is fully overwritten. Returns the number of categorical
    /// values never seen in training (they land in the unknown bucket;
    /// missing values and rare categories are not counted).
    ///
    /// Errors (allocating only then): a wrong `row` or `out` length
    /// ([`Error::Shape`]); text for a numeric column, a number for a
    /// categorical one, or a non-finite number ([`Error::BadValue`] naming
    /// the column). After an error `out` holds partial results.
    pub fn transform_row(&self, row: &[Value<'_>], out: &mut [f64]) -> Result<usize> {
        if row.len() != self.repr.inputs.len() || out.len() != self.outputs.len() {
            return Err(Error::Shape(format!(
                "transform_row got {} values and {} output slots, expected {} and {}",
                row.len(),
                out.len(),
                self.repr.inputs.len(),
                self.outputs.len()
            )));
        }
        let mut unknown = 0;
        for step in &self.steps {
            match step {
                Step::Numeric { input, out: o, map } => {
                    out[*o] = map.apply(self.number(row, *input)?);
                }
                Step::OneHot {
                    input,
                    out: o,
                    width,
                    lookup,
                } => {
                    let slot = match row[*input] {
                        Value::Text(s) => lookup.get(s).unwrap_or_else(|| {
                            unknown += 1;
                            *width as u32 - 1
                        }),
                        Value::Missing => *width as u32 - 1,
                        Value::Number(x) => {
                            return Err(self.bad_value(
                                *input,
                                format!("expected a category (text), got the number {x}"),
                            ));
                        }
                    };
                    // One pass writing 0/1: blocks are a few slots, and a
                    // fill() becomes a memset call that costs more.
                    for (i, v) in out[*o..*o + *width].iter_mut().enumerate() {
                        *v = if i == slot as usize { 1.0 } else { 0.0 };
                    }
                }
                Step::Ratio { a, b, out: o, map } => {
                    let (a, b) = (self.number(row, *a)?, self.number(row, *b)?);
                    out[*o] = map.apply(derived::ratio(a, b));
                }
                Step::Log1p { input, out: o, map } => {
                    out[*o] = map.apply(derived::log1p(self.number(row, *input)?));
                }
                Step::Interaction {
                    a,
                    b,
                    fill_a,
                    fill_b,
                    out: o,
                    map,
                } => {
                    let (a, b) = (self.number(row, *a)?, self.number(row, *b)?);
                    out[*o] = map.apply(derived::interaction(a, b, *fill_a, *fill_b));
                }
                Step::Bucketize {
                    input,
                    out: o,
                    edges,
                } => {
                    let x = self.number(row, *input)?;
                    let block = &mut out[*o..=*o + edges.len()];
                    block.fill(0.0);
                    if let Some(x) = x {
                        block[bucket(x, edges)] = 1.0;
                    }
                }
            }
        }
        Ok(unknown)
    }

    #[inline]
    fn number(&self, row: &[Value<'_>], input: usize) -> Result<Option<f64>> {
        match row[input] {
            Value::Number(x) if x.is_finite() => Ok(Some(x)),
            Value::Missing => Ok(None),
            Value::Number(x) => Err(self.bad_value(input, format!("non-finite value {x}"))),
            Value::Text(t) => {
                Err(self.bad_value(input, format!("expected a number, got the text `{t}`")))
            }
        }
    }

    #[cold]
    fn bad_value(&self, input: usize, reason: String) -> Error {
        Error::BadValue {
            column: self.repr.inputs[input].name.clone(),
            reason,
        }
    }

    /// The target of every row: 1.0 for the positive label and 0.0 otherwise
    /// (classification), the class index into [`classes`](Self::classes)
    /// (multiclass), or the value itself (regression).
    ///
    /// A missing target is [`Error::MissingTarget`] naming the row, a
    /// multiclass label not seen at fit [`Error::UnknownTargetClass`]; a spec
    /// without a target is [`Error::InvalidSpec`].
    pub fn target(&self, frame: &Frame) -> Result<Array1<f64>> {
        let missing = |column: &str, row: usize| Error::MissingTarget {
            column: column.to_owned(),
            row,
        };
        match &self.repr.target {
            None => Err(Error::InvalidSpec("the feature spec has no target".into())),
            Some(FittedTarget::Label { column, positive }) => {
                let col = frame.categorical(column)?;
                let mut y = Vec::with_capacity(col.len());
                let positive_code = col.dictionary().iter().position(|s| s == positive);
                for (row, &code) in col.codes().iter().enumerate() {
                    if code == MISSING_CODE {
                        return Err(missing(column, row));
                    }
                    y.push(if Some(code as usize) == positive_code {
                        1.0
                    } else {
                        0.0
                    });
                }
                Ok(Array1::from(y))
            }
            Some(FittedTarget::Classes { column, classes }) => {
                let col = frame.categorical(column)?;
                // Dictionary code -> class index, resolved once per frame.
                let index: Vec<Option<usize>> = col
                    .dictionary()
                    .iter()
                    .map(|s| classes.binary_search_by(|c| c.as_str().cmp(s)).ok())
                    .collect();
                let mut y = Vec::with_capacity(col.len());
                for (row, &code) in col.codes().iter().enumerate() {
                    if code == MISSING_CODE {
                        return Err(missing(column, row));
                    }
                    match index.get(code as usize).copied().flatten() {
                        Some(k) => y.push(k as f64),
                        None => {
                            return Err(Error::UnknownTargetClass {
                                column: column.clone(),
                                value: col
                                    .dictionary()
                                    .get(code as usize)
                                    .map(str::to_owned)
                                    .unwrap_or_default(),
                                row,
                            });
                        }
                    }
                }
                Ok(Array1::from(y))
            }
            Some(FittedTarget::Numeric { column, positive }) => {
                let col = frame.numeric(column)?;
                let mut y = Vec::with_capacity(col.len());
                for (row, &v) in col.raw().iter().enumerate() {
                    if v.is_nan() {
                        return Err(missing(column, row));
                    }
                    if !v.is_finite() {
                        return Err(Error::BadValue {
                            column: column.clone(),
                            reason: format!("row {row}: non-finite target {v}"),
                        });
                    }
                    y.push(match positive {
                        Some(p) => f64::from(u8::from(v == *p)),
                        None => v,
                    });
                }
                Ok(Array1::from(y))
            }
        }
    }
}
