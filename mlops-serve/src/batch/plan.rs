//! Where each value the model needs sits in an input record, and how a raw
//! cell becomes a [`Value`] (the same rules as `mlops_core::data::CsvReader`:
//! cells are trimmed, the default missing tokens and `NaN` are missing).

use mlops_core::data::{ColumnType, DEFAULT_MISSING, Value};
use mlops_core::drift::{ColumnProfile, Profile};

use crate::error::{Error, Result};

/// One model input: the record field that holds it and its type.
#[derive(Debug, Clone)]
pub(crate) struct InputSlot {
    pub field: usize,
    pub numeric: bool,
}

/// Where a drift-profile column's values come from.
#[derive(Debug, Clone)]
pub(crate) enum MonitorSlot {
    /// The value already parsed for model input `i`.
    Input(usize),
    /// A record field the model does not use.
    Field { field: usize, numeric: bool },
    /// The input has no such column: counted as missing.
    Absent,
}

/// The mapping from a header to the model's inputs.
#[derive(Debug, Clone)]
pub(crate) struct Plan {
    pub n_fields: usize,
    pub headers: Vec<String>,
    pub inputs: Vec<InputSlot>,
    pub id: Option<usize>,
    /// In the drift monitor's column order (the profile's sorted names).
    pub monitor: Vec<MonitorSlot>,
}

impl Plan {
    /// Resolves the model's `inputs` (name, type) and the optional id column
    /// against `headers`. A missing input column is an error: every row
    /// would fail.
    pub(crate) fn new(
        source_name: &str,
        headers: Vec<String>,
        inputs: &[(String, ColumnType)],
        id_column: Option<&str>,
        profile: Option<&Profile>,
    ) -> Result<Self> {
        let position = |name: &str| headers.iter().position(|h| h == name);
        let mut slots = Vec::with_capacity(inputs.len());
        for (name, ty) in inputs {
            let field = position(name).ok_or_else(|| Error::MissingInputColumn {
                source_name: source_name.to_owned(),
                column: name.clone(),
            })?;
            slots.push(InputSlot {
                field,
                numeric: *ty == ColumnType::Numeric,
            });
        }
        let id = match id_column {
            Some(name) => Some(position(name).ok_or_else(|| Error::MissingInputColumn {
                source_name: source_name.to_owned(),
                column: name.to_owned(),
            })?),
            None => None,
        };
        let monitor = profile
            .map(|p| {
                p.columns
                    .iter()
                    .map(|(name, col)| {
                        if let Some(i) = inputs.iter().position(|(n, _)| n == name) {
                            MonitorSlot::Input(i)
                        } else if let Some(field) = position(name) {
                            MonitorSlot::Field {
                                field,
                                numeric: matches!(col, ColumnProfile::Numeric(_)),
                            }
                        } else {
                            MonitorSlot::Absent
                        }
                    })
                    .collect()
            })
            .unwrap_or_default();
        Ok(Plan {
            n_fields: headers.len(),
            headers,
            inputs: slots,
            id,
            monitor,
        })
    }
}

/// A cell that cannot be used, with the reason in words.
#[derive(Debug)]
pub(crate) struct BadCell {
    pub field: usize,
    pub reason: String,
}

/// Reads one raw cell as a value of the given type.
#[inline]
pub(crate) fn cell_value(raw: &[u8], field: usize, numeric: bool) -> Result<Value<'_>, BadCell> {
    let text = std::str::from_utf8(raw).map_err(|e| BadCell {
        field,
        reason: format!("invalid UTF-8 at byte {} of the cell", e.valid_up_to()),
    })?;
    let t = trim(text);
    if is_missing(t) {
        return Ok(Value::Missing);
    }
    if !numeric {
        return Ok(Value::Text(t));
    }
    match t.parse::<f64>() {
        Ok(v) if v.is_nan() => Ok(Value::Missing),
        Ok(v) => Ok(Value::Number(v)),
        Err(_) => Err(BadCell {
            field,
            reason: format!("`{t}` is not a number (the column is numeric)"),
        }),
    }
}

/// A numeric reading for the drift monitor: `None` when missing or not a
/// number (the row itself is judged by the model inputs, not here).
#[inline]
pub(crate) fn monitor_number(raw: &[u8]) -> Option<f64> {
    let t = trim(std::str::from_utf8(raw).ok()?);
    t.parse::<f64>().ok().filter(|v| v.is_finite())
}

/// A category reading for the drift monitor.
#[inline]
pub(crate) fn monitor_text(raw: &[u8]) -> Option<&str> {
    let t = trim(std::str::from_utf8(raw).ok()?);
    (!is_missing(t)).then_some(t)
}

#[inline]
fn is_missing(t: &str) -> bool {
    t.len() <= 4 && DEFAULT_MISSING.contains(&t)
}

/// `str::trim` with a fast path for cells without surrounding spaces.
#[inline]
fn trim(text: &str) -> &str {
    let plain = |b: Option<&u8>| matches!(b, Some(&b) if b.is_ascii_graphic());
    let bytes = text.as_bytes();
    if plain(bytes.first()) && plain(bytes.last()) {
        text
    } else {
        text.trim()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_follow_the_csv_reader_rules() {
        assert_eq!(
            cell_value(b" 2.5 ", 0, true).expect("ok"),
            Value::Number(2.5)
        );
        assert_eq!(cell_value(b"NA", 0, true).expect("ok"), Value::Missing);
        assert_eq!(cell_value(b"NaN", 0, true).expect("ok"), Value::Missing);
        assert_eq!(cell_value(b"", 0, false).expect("ok"), Value::Missing);
        assert_eq!(
            cell_value(b" Yes", 0, false).expect("ok"),
            Value::Text("Yes")
        );
        let err = cell_value(b"abc", 3, true).expect_err("not a number");
        assert_eq!(err.field, 3);
        assert!(err.reason.contains("`abc` is not a number"));
        assert!(cell_value(&[0xff, 0x20], 0, false).is_err());
    }

    #[test]
    fn plan_needs_every_input() {
        let headers = vec!["id".to_owned(), "x".to_owned()];
        let inputs = vec![("x".to_owned(), ColumnType::Numeric)];
        let plan = Plan::new("in.csv", headers.clone(), &inputs, Some("id"), None).expect("ok");
        assert_eq!(plan.inputs[0].field, 1);
        assert_eq!(plan.id, Some(0));
        let missing = vec![("y".to_owned(), ColumnType::Numeric)];
        let err = Plan::new("in.csv", headers, &missing, None, None).expect_err("no y");
        assert!(err.to_string().contains("no column `y`"), "{err}");
    }
}
