//! Arrow interchange: [`Frame::from_record_batch`] and
//! [`Frame::into_record_batch`] (feature `arrow`).
//!
//! Arrow to `Frame`: Float64/Float32, every Int and UInt width, Boolean
//! (1/0) and Decimal32/64/128 become numeric columns; Utf8, LargeUtf8,
//! Utf8View and dictionaries of those become categorical columns; Null
//! becomes an all-missing numeric column. Arrow nulls become missing cells
//! (and so does a floating-point NaN, which a `Frame` never holds as a
//! value). Any other type is an [`Error::ArrowType`] naming the column.
//!
//! `Frame` to Arrow: numeric columns become nullable Float64 (the values
//! buffer is the column's own, moved, not copied), categorical columns
//! become `Dictionary(UInt32, Utf8)` whose keys are the column's codes and
//! whose values are its dictionary (both moved).

use std::sync::Arc;

/// The arrow-rs crates this module speaks, for matching versions.
pub use {arrow_array, arrow_buffer, arrow_schema};

use arrow_array::cast::AsArray;
use arrow_array::types::{
    Decimal32Type, Decimal64Type, Decimal128Type, Float32Type, Float64Type, Int8Type, Int16Type,
    Int32Type, Int64Type, UInt8Type, UInt16Type, UInt32Type, UInt64Type,
};
use arrow_array::{
    Array, ArrayRef, DictionaryArray, Float64Array, PrimitiveArray, RecordBatch, StringArray,
    UInt32Array,
};
use arrow_buffer::{Buffer, NullBuffer, OffsetBuffer, ScalarBuffer};
use arrow_schema::{DataType, Field as ArrowField, Schema as ArrowSchema};

use super::column::{CategoricalColumn, Column, MISSING_CODE, NumericColumn};
use super::frame::Frame;
use crate::error::{Error, Result};

impl Frame {
    /// Converts an Arrow record batch (see the [module docs](self) for the
    /// type mapping). An unsupported column type is an
    /// [`Error::ArrowType`] naming the column and its type.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use arrow_array::{Float64Array, RecordBatch, StringArray};
    /// use mlops_core::data::Frame;
    ///
    /// let batch = RecordBatch::try_from_iter([
    ///     ("tenure", Arc::new(Float64Array::from(vec![Some(1.0), None])) as _),
    ///     ("plan", Arc::new(StringArray::from(vec![Some("pro"), None])) as _),
    /// ])?;
    /// let frame = Frame::from_record_batch(&batch)?;
    /// assert_eq!(frame.numeric("tenure")?.get(1), None);
    /// assert_eq!(frame.categorical("plan")?.get(0), Some("pro"));
    /// assert_eq!(Frame::from_record_batch(&frame.clone().into_record_batch()?)?, frame);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn from_record_batch(batch: &RecordBatch) -> Result<Frame> {
        let schema = batch.schema();
        let columns = schema
            .fields()
            .iter()
            .zip(batch.columns())
            .map(|(field, array)| {
                Ok((
                    field.name().clone(),
                    column_from_arrow(field.name(), array)?,
                ))
            })
            .collect::<Result<Vec<_>>>()?;
        Frame::new(columns)
    }

    /// Converts to an Arrow record batch, moving the column buffers.
    pub fn into_record_batch(self) -> Result<RecordBatch> {
        let n_rows = self.n_rows();
        let mut fields = Vec::with_capacity(self.n_cols());
        let mut arrays: Vec<ArrayRef> = Vec::with_capacity(self.n_cols());
        for (name, column) in self.into_columns() {
            let array = column_to_arrow(&name, column)?;
            fields.push(ArrowField::new(name, array.data_type().clone(), true));
            arrays.push(array);
        }
        let options = arrow_array::RecordBatchOptions::new().with_row_count(Some(n_rows));
        RecordBatch::try_new_with_options(Arc::new(ArrowSchema::new(fields)), arrays, &options)
            .map_err(|e| Error::Shape(format!("cannot build a record batch: {e}")))
    }

    /// Converts to an Arrow record batch (a copy; see
    /// [`Frame::into_record_batch`] to move the buffers).
    pub fn to_record_batch(&self) -> Result<RecordBatch> {
        self.clone().into_record_batch()
    }
}

/// The Arrow schema [`Frame::into_record_batch`] gives a frame of this
/// schema.
pub fn schema_to_arrow(schema: &super::frame::Schema) -> ArrowSchema {
    ArrowSchema::new(
        schema
            .fields
            .iter()
            .map(|f| ArrowField::new(f.name.clone(), arrow_type(f.column_type), true))
            .collect::<Vec<_>>(),
    )
}

/// The Arrow type of a column type.
fn arrow_type(ty: super::column::ColumnType) -> DataType {
    match ty {
        super::column::ColumnType::Numeric => DataType::Float64,
        super::column::ColumnType::Categorical => {
            DataType::Dictionary(Box::new(DataType::UInt32), Box::new(DataType::Utf8))
        }
    }
}

/// An unsupported-type error for `column`.
fn unsupported(column: &str, data_type: &DataType, reason: &str) -> Error {
    Error::ArrowType {
        column: column.to_owned(),
        arrow_type: data_type.to_string(),
        reason: reason.to_owned(),
    }
}

const SUPPORTED: &str = "numeric columns need a float, integer, boolean or decimal type, \
                         categorical ones a string type or a dictionary of strings";

/// Converts one Arrow array.
pub(crate) fn column_from_arrow(name: &str, array: &dyn Array) -> Result<Column> {
    let ty = array.data_type();
    let numeric = |values: Vec<f64>| Ok(Column::Numeric(NumericColumn::from_raw(values)));
    match ty {
        DataType::Float64 => {
            let a = array.as_primitive::<Float64Type>();
            let mut values = a.values().to_vec();
            if let Some(nulls) = a.nulls() {
                for i in nulls.iter().enumerate().filter(|(_, v)| !v).map(|(i, _)| i) {
                    values[i] = f64::NAN;
                }
            }
            numeric(values)
        }
        DataType::Float32 => numeric(to_f64(array.as_primitive::<Float32Type>(), |v| v as f64)),
        DataType::Int8 => numeric(to_f64(array.as_primitive::<Int8Type>(), f64::from)),
        DataType::Int16 => numeric(to_f64(array.as_primitive::<Int16Type>(), f64::from)),
        DataType::Int32 => numeric(to_f64(array.as_primitive::<Int32Type>(), f64::from)),
        DataType::Int64 => numeric(to_f64(array.as_primitive::<Int64Type>(), |v| v as f64)),
        DataType::UInt8 => numeric(to_f64(array.as_primitive::<UInt8Type>(), f64::from)),
        DataType::UInt16 => numeric(to_f64(array.as_primitive::<UInt16Type>(), f64::from)),
        DataType::UInt32 => numeric(to_f64(array.as_primitive::<UInt32Type>(), f64::from)),
        DataType::UInt64 => numeric(to_f64(array.as_primitive::<UInt64Type>(), |v| v as f64)),
        DataType::Decimal32(_, scale) => {
            let div = 10f64.powi(i32::from(*scale));
            numeric(to_f64(array.as_primitive::<Decimal32Type>(), |v| {
                f64::from(v) / div
            }))
        }
        DataType::Decimal64(_, scale) => {
            let div = 10f64.powi(i32::from(*scale));
            numeric(to_f64(array.as_primitive::<Decimal64Type>(), |v| {
                v as f64 / div
            }))
        }
        DataType::Decimal128(_, scale) => {
            let div = 10f64.powi(i32::from(*scale));
            numeric(to_f64(array.as_primitive::<Decimal128Type>(), |v| {
                v as f64 / div
            }))
        }
        DataType::Boolean => {
            let a = array.as_boolean();
            numeric(
                a.iter()
                    .map(|v| v.map_or(f64::NAN, |b| if b { 1.0 } else { 0.0 }))
                    .collect(),
            )
        }
        DataType::Null => numeric(vec![f64::NAN; array.len()]),
        DataType::Utf8 => Ok(categorical(array.as_string::<i32>().iter())),
        DataType::LargeUtf8 => Ok(categorical(array.as_string::<i64>().iter())),
        DataType::Utf8View => Ok(categorical(array.as_string_view().iter())),
        DataType::Dictionary(_, value_type) => {
            let Some(dict) = array.as_any_dictionary_opt() else {
                return Err(unsupported(name, ty, SUPPORTED));
            };
            let values = dict.values();
            if values.is_empty() {
                // Every key is null (arrow's `normalized_keys` needs a value).
                let mut col = CategoricalColumn::default();
                (0..array.len()).for_each(|_| col.push_code(MISSING_CODE));
                return Ok(Column::Categorical(col));
            }
            let strings: Vec<Option<&str>> = match value_type.as_ref() {
                DataType::Utf8 => values.as_string::<i32>().iter().collect(),
                DataType::LargeUtf8 => values.as_string::<i64>().iter().collect(),
                DataType::Utf8View => values.as_string_view().iter().collect(),
                _ => return Err(unsupported(name, ty, SUPPORTED)),
            };
            Ok(Column::Categorical(from_dictionary(
                &dict.normalized_keys(),
                dict.keys().nulls(),
                &strings,
            )))
        }
        _ => Err(unsupported(name, ty, SUPPORTED)),
    }
}

/// A primitive array as f64 values, nulls as NaN.
fn to_f64<T: arrow_array::ArrowPrimitiveType>(
    a: &PrimitiveArray<T>,
    f: impl Fn(T::Native) -> f64,
) -> Vec<f64> {
    match a.nulls() {
        None => a.values().iter().map(|&v| f(v)).collect(),
        Some(nulls) => a
            .values()
            .iter()
            .zip(nulls.iter())
            .map(|(&v, valid)| if valid { f(v) } else { f64::NAN })
            .collect(),
    }
}

fn categorical<'a>(cells: impl Iterator<Item = Option<&'a str>>) -> Column {
    let mut col = CategoricalColumn::default();
    for cell in cells {
        col.push(cell);
    }
    col.finish();
    Column::Categorical(col)
}

/// A dictionary-encoded Arrow column: each dictionary entry is interned
/// once, when first used, so the column's dictionary keeps first-seen order.
fn from_dictionary(
    keys: &[usize],
    key_nulls: Option<&NullBuffer>,
    strings: &[Option<&str>],
) -> CategoricalColumn {
    let mut col = CategoricalColumn::default();
    col.reserve(keys.len());
    let mut codes: Vec<Option<u32>> = vec![None; strings.len()];
    for (row, &key) in keys.iter().enumerate() {
        let valid = key_nulls.is_none_or(|n| n.is_valid(row));
        match (valid, strings.get(key)) {
            (true, Some(Some(s))) => match codes[key] {
                Some(code) => col.push_code(code),
                None => {
                    col.push(Some(s));
                    codes[key] = col.last_code();
                }
            },
            _ => col.push_code(MISSING_CODE),
        }
    }
    col.finish();
    col
}

/// Converts one column, moving its buffers.
fn column_to_arrow(name: &str, column: Column) -> Result<ArrayRef> {
    match column {
        Column::Numeric(c) => {
            let values = c.into_raw();
            let nulls = values
                .iter()
                .any(|v| v.is_nan())
                .then(|| NullBuffer::from_iter(values.iter().map(|v| !v.is_nan())));
            Ok(Arc::new(Float64Array::new(
                ScalarBuffer::from(values),
                nulls,
            )))
        }
        Column::Categorical(c) => {
            let (codes, text, ends) = c.into_parts();
            let too_big = || {
                Error::Shape(format!(
                    "column `{name}`: dictionary of {} bytes is over Arrow's 2 GiB Utf8 limit",
                    text.len()
                ))
            };
            let mut offsets = Vec::with_capacity(ends.len() + 1);
            offsets.push(0i32);
            for &end in &ends {
                offsets.push(i32::try_from(end).map_err(|_| too_big())?);
            }
            let values = StringArray::try_new(
                OffsetBuffer::new(ScalarBuffer::from(offsets)),
                Buffer::from_vec(text.into_bytes()),
                None,
            )
            .map_err(|e| Error::Shape(format!("column `{name}`: {e}")))?;
            let nulls = codes
                .contains(&MISSING_CODE)
                .then(|| NullBuffer::from_iter(codes.iter().map(|&c| c != MISSING_CODE)));
            let keys = UInt32Array::new(ScalarBuffer::from(codes), nulls);
            let dict = DictionaryArray::<UInt32Type>::try_new(keys, Arc::new(values))
                .map_err(|e| Error::Shape(format!("column `{name}`: {e}")))?;
            Ok(Arc::new(dict))
        }
    }
}

/// Appends `next`'s rows to `acc` (same names and types, as consecutive
/// batches of one file have).
pub(crate) fn append_frame(acc: &mut Vec<(String, Column)>, next: Frame) -> Result<()> {
    if acc.is_empty() {
        *acc = next.into_columns();
        return Ok(());
    }
    let next = next.into_columns();
    if next.len() != acc.len() {
        return Err(Error::Shape(format!(
            "a batch has {} columns, the first had {}",
            next.len(),
            acc.len()
        )));
    }
    for ((name, a), (_, b)) in acc.iter_mut().zip(next) {
        match (a, b) {
            (Column::Numeric(a), Column::Numeric(b)) => a.append(b),
            (Column::Categorical(a), Column::Categorical(b)) => a.append(b, false),
            (a, b) => {
                return Err(Error::ColumnType {
                    column: name.clone(),
                    expected: a.column_type().name(),
                    found: b.column_type().name(),
                });
            }
        }
    }
    Ok(())
}

/// Completes columns built by [`append_frame`].
pub(crate) fn finish_frame(mut columns: Vec<(String, Column)>) -> Result<Frame> {
    for (_, c) in &mut columns {
        if let Column::Categorical(c) = c {
            c.finish();
        }
    }
    Frame::new(columns)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::CsvReader;
    use arrow_array::{
        BooleanArray, Decimal128Array, Int32Array, LargeStringArray, StringViewArray,
    };
    use proptest::prelude::*;

    #[test]
    fn telco_round_trips() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../examples/data/telco_churn.csv"
        );
        let frame = CsvReader::new().read_path(path).expect("telco").frame;
        let batch = frame.to_record_batch().expect("to arrow");
        assert_eq!(batch.num_rows(), 7043);
        assert_eq!(Frame::from_record_batch(&batch).expect("from arrow"), frame);
    }

    #[test]
    fn every_supported_type_converts() {
        let keys = arrow_array::Int8Array::from(vec![Some(1), Some(0), None, Some(1)]);
        let dict_values = StringArray::from(vec![Some("b"), None]);
        let dict = DictionaryArray::try_new(keys, Arc::new(dict_values)).expect("dict");
        let batch = RecordBatch::try_from_iter([
            (
                "i",
                Arc::new(Int32Array::from(vec![Some(1), None, Some(-3), Some(4)])) as ArrayRef,
            ),
            (
                "b",
                Arc::new(BooleanArray::from(vec![
                    Some(true),
                    Some(false),
                    None,
                    Some(true),
                ])) as _,
            ),
            (
                "d",
                Arc::new(
                    Decimal128Array::from(vec![Some(1234), None, Some(-5), Some(0)])
                        .with_precision_and_scale(10, 2)
                        .expect("decimal"),
                ) as _,
            ),
            (
                "l",
                Arc::new(LargeStringArray::from(vec![
                    Some("x"),
                    None,
                    Some("y"),
                    Some("x"),
                ])) as _,
            ),
            (
                "v",
                Arc::new(StringViewArray::from(vec![
                    Some("x"),
                    Some("z"),
                    None,
                    Some("x"),
                ])) as _,
            ),
            ("k", Arc::new(dict) as _),
        ])
        .expect("batch");
        let f = Frame::from_record_batch(&batch).expect("frame");
        let num = |n: &str| f.numeric(n).expect("numeric").iter().collect::<Vec<_>>();
        let cat = |n: &str| f.categorical(n).expect("cat").iter().collect::<Vec<_>>();
        assert_eq!(num("i"), [Some(1.0), None, Some(-3.0), Some(4.0)]);
        assert_eq!(num("b"), [Some(1.0), Some(0.0), None, Some(1.0)]);
        assert_eq!(num("d"), [Some(12.34), None, Some(-0.05), Some(0.0)]);
        assert_eq!(cat("l"), [Some("x"), None, Some("y"), Some("x")]);
        assert_eq!(cat("v"), [Some("x"), Some("z"), None, Some("x")]);
        // Key 1 points at a null dictionary value: missing as well.
        assert_eq!(cat("k"), [None, Some("b"), None, None]);
        assert_eq!(f.categorical("k").expect("k").dictionary().len(), 1);
    }

    #[test]
    fn unsupported_type_names_column_and_type() {
        let batch = RecordBatch::try_from_iter([(
            "signup",
            Arc::new(arrow_array::Date32Array::from(vec![1, 2])) as ArrayRef,
        )])
        .expect("batch");
        let err = Frame::from_record_batch(&batch).expect_err("date");
        assert!(
            matches!(&err, Error::ArrowType { column, arrow_type, .. } if column == "signup" && arrow_type == "Date32"),
            "{err}"
        );
        assert!(err.to_string().contains("`signup`"), "{err}");
    }

    fn frame_strategy() -> impl Strategy<Value = Frame> {
        (0usize..40).prop_flat_map(|rows| {
            (
                proptest::collection::vec(proptest::option::of(-1e9f64..1e9), rows),
                proptest::collection::vec(proptest::option::of("[a-c]{0,3}"), rows),
                proptest::collection::vec(proptest::option::of(any::<i32>()), rows),
            )
                .prop_map(|(x, s, i)| {
                    Frame::new(vec![
                        ("x".into(), Column::Numeric(NumericColumn::from_options(x))),
                        (
                            "s".into(),
                            Column::Categorical(CategoricalColumn::from_options(s)),
                        ),
                        (
                            "i".into(),
                            Column::Numeric(NumericColumn::from_options(
                                i.into_iter().map(|v| v.map(f64::from)),
                            )),
                        ),
                    ])
                    .expect("frame")
                })
        })
    }

    proptest! {
        #[test]
        fn round_trip_is_identity(frame in frame_strategy()) {
            let batch = frame.to_record_batch().expect("to arrow");
            prop_assert_eq!(batch.num_rows(), frame.n_rows());
            let back = Frame::from_record_batch(&batch).expect("from arrow");
            prop_assert_eq!(&back, &frame);
            // Bit for bit, not only NaN-aware equality.
            let bits = |f: &Frame| f.numeric("x").expect("x").raw().iter().map(|v| v.to_bits()).collect::<Vec<_>>();
            prop_assert_eq!(bits(&back), bits(&frame));
        }
    }
}
