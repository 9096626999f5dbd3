//! The MLflow scoring protocol's request bodies, parsed into rows of
//! [`Value`]s keyed by column name.
//!
//! JSON bodies hold exactly one of `dataframe_split` (`{"columns": [...],
//! "data": [[...], ...]}`), `dataframe_records` (`[{"col": value}, ...]`),
//! `instances` or `inputs` (records, or positional rows in the model's
//! signature order). CSV bodies (`text/csv`) have a header row. JSON values:
//! numbers, strings, and `null` for a missing value.

use mlops_core::data::{ColumnType, Field, Value};
use serde_json::Value as Json;

use crate::batch::plan::cell_value;

/// Rows of one request: column names and one value per name per row.
#[derive(Debug)]
pub(crate) struct Rows<'a> {
    pub columns: Vec<&'a str>,
    pub rows: Vec<Vec<Value<'a>>>,
}

/// A request that cannot be scored; becomes a 400 with this message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct BadRequest(pub String);

fn bad(msg: impl Into<String>) -> BadRequest {
    BadRequest(msg.into())
}

/// Parses a JSON body (already decoded) against the model signature (used
/// for positional rows).
pub(crate) fn from_json<'a>(
    body: &'a Json,
    signature: &'a [Field],
) -> Result<Rows<'a>, BadRequest> {
    let Json::Object(map) = body else {
        return Err(bad(
            "the body must be a JSON object with one of `dataframe_split`, `dataframe_records`, `instances` or `inputs`",
        ));
    };
    let keys: Vec<&String> = map
        .keys()
        .filter(|k| {
            matches!(
                k.as_str(),
                "dataframe_split" | "dataframe_records" | "instances" | "inputs"
            )
        })
        .collect();
    let [key] = keys.as_slice() else {
        return Err(bad(format!(
            "the body must hold exactly one of `dataframe_split`, `dataframe_records`, `instances` or `inputs` (found {})",
            if keys.is_empty() {
                "none".to_owned()
            } else {
                keys.iter()
                    .map(|k| format!("`{k}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            }
        )));
    };
    let payload = &map[key.as_str()];
    match key.as_str() {
        "dataframe_split" => split(payload),
        "dataframe_records" => records(payload, key),
        _ => instances(payload, key, signature),
    }
}

fn split(payload: &Json) -> Result<Rows<'_>, BadRequest> {
    let columns = payload
        .get("columns")
        .and_then(Json::as_array)
        .ok_or_else(|| bad("`dataframe_split` needs a `columns` array"))?;
    let columns: Vec<&str> = columns
        .iter()
        .map(|c| {
            c.as_str()
                .ok_or_else(|| bad("`dataframe_split.columns` must hold strings"))
        })
        .collect::<Result<_, _>>()?;
    let data = payload
        .get("data")
        .and_then(Json::as_array)
        .ok_or_else(|| bad("`dataframe_split` needs a `data` array of rows"))?;
    let mut rows = Vec::with_capacity(data.len());
    for (i, row) in data.iter().enumerate() {
        let cells = row
            .as_array()
            .ok_or_else(|| bad(format!("`dataframe_split.data[{i}]` is not an array")))?;
        if cells.len() != columns.len() {
            return Err(bad(format!(
                "`dataframe_split.data[{i}]` has {} values for {} columns",
                cells.len(),
                columns.len()
            )));
        }
        rows.push(
            cells
                .iter()
                .zip(&columns)
                .map(|(v, c)| value(v, c, i))
                .collect::<Result<_, _>>()?,
        );
    }
    Ok(Rows { columns, rows })
}

/// Records (`[{"col": value}]`): every record must have the same columns.
fn records<'a>(payload: &'a Json, key: &str) -> Result<Rows<'a>, BadRequest> {
    let list = payload
        .as_array()
        .ok_or_else(|| bad(format!("`{key}` must be an array")))?;
    let mut columns: Vec<&str> = Vec::new();
    let mut rows = Vec::with_capacity(list.len());
    for (i, rec) in list.iter().enumerate() {
        let obj = rec
            .as_object()
            .ok_or_else(|| bad(format!("`{key}[{i}]` is not an object")))?;
        if i == 0 {
            columns = obj.keys().map(String::as_str).collect();
        }
        let mut row = Vec::with_capacity(columns.len());
        for c in &columns {
            let v = obj.get(*c).unwrap_or(&Json::Null);
            row.push(value(v, c, i)?);
        }
        if let Some(extra) = obj.keys().find(|k| !columns.contains(&k.as_str())) {
            return Err(bad(format!(
                "`{key}[{i}]` has column `{extra}`, which the first record lacks"
            )));
        }
        rows.push(row);
    }
    Ok(Rows { columns, rows })
}

/// `instances` / `inputs`: records, or positional rows in signature order.
fn instances<'a>(
    payload: &'a Json,
    key: &str,
    signature: &'a [Field],
) -> Result<Rows<'a>, BadRequest> {
    let list = payload
        .as_array()
        .ok_or_else(|| bad(format!("`{key}` must be an array")))?;
    if list.first().is_some_and(Json::is_object) {
        return records(payload, key);
    }
    let columns: Vec<&str> = signature.iter().map(|f| f.name.as_str()).collect();
    let mut rows = Vec::with_capacity(list.len());
    for (i, row) in list.iter().enumerate() {
        let cells = row
            .as_array()
            .ok_or_else(|| bad(format!("`{key}[{i}]` is neither an object nor an array")))?;
        if cells.len() != columns.len() {
            return Err(bad(format!(
                "`{key}[{i}]` has {} values; the model takes {} ({})",
                cells.len(),
                columns.len(),
                columns.join(", ")
            )));
        }
        rows.push(
            cells
                .iter()
                .zip(&columns)
                .map(|(v, c)| value(v, c, i))
                .collect::<Result<_, _>>()?,
        );
    }
    Ok(Rows { columns, rows })
}

fn value<'a>(v: &'a Json, column: &str, row: usize) -> Result<Value<'a>, BadRequest> {
    match v {
        Json::Null => Ok(Value::Missing),
        Json::String(s) => Ok(Value::Text(s)),
        Json::Number(n) => n
            .as_f64()
            .map(Value::Number)
            .ok_or_else(|| bad(format!("row {row}, column `{column}`: number out of range"))),
        Json::Bool(_) | Json::Array(_) | Json::Object(_) => Err(bad(format!(
            "row {row}, column `{column}`: expected a number, a string or null"
        ))),
    }
}

/// Parses a CSV body with a header row; cells of the signature's numeric
/// columns are read as numbers (same rules as batch scoring).
pub(crate) fn from_csv<'a>(
    records: &'a [csv::StringRecord],
    header: &'a csv::StringRecord,
    signature: &[Field],
) -> Result<Rows<'a>, BadRequest> {
    let columns: Vec<&str> = header.iter().collect();
    let numeric: Vec<bool> = columns
        .iter()
        .map(|c| {
            signature
                .iter()
                .any(|f| f.name == *c && f.column_type == ColumnType::Numeric)
        })
        .collect();
    let mut rows = Vec::with_capacity(records.len());
    for (i, rec) in records.iter().enumerate() {
        if rec.len() != columns.len() {
            return Err(bad(format!(
                "CSV row {} has {} fields, the header has {}",
                i + 1,
                rec.len(),
                columns.len()
            )));
        }
        let row = rec
            .iter()
            .enumerate()
            .map(|(j, cell)| {
                cell_value(cell.as_bytes(), j, numeric[j]).map_err(|e| {
                    bad(format!(
                        "CSV row {}, column `{}`: {}",
                        i + 1,
                        columns[j],
                        e.reason
                    ))
                })
            })
            .collect::<Result<_, _>>()?;
        rows.push(row);
    }
    Ok(Rows { columns, rows })
}

/// Reads a CSV body into records (the caller keeps them alive for
/// [`from_csv`]).
pub(crate) fn read_csv(
    body: &[u8],
) -> Result<(csv::StringRecord, Vec<csv::StringRecord>), BadRequest> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .from_reader(body);
    let header = reader
        .headers()
        .map_err(|e| bad(format!("CSV header: {e}")))?
        .clone();
    let records = reader
        .records()
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| bad(format!("CSV: {e}")))?;
    Ok((header, records))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sig() -> Vec<Field> {
        vec![
            Field {
                name: "tenure".into(),
                column_type: ColumnType::Numeric,
            },
            Field {
                name: "plan".into(),
                column_type: ColumnType::Categorical,
            },
        ]
    }

    #[test]
    fn every_json_shape_gives_the_same_rows() {
        let s = sig();
        let bodies = [
            serde_json::json!({"dataframe_split": {"columns": ["tenure", "plan"], "data": [[3, "pro"], [null, "basic"]]}}),
            serde_json::json!({"dataframe_records": [{"tenure": 3, "plan": "pro"}, {"tenure": null, "plan": "basic"}]}),
            serde_json::json!({"instances": [{"tenure": 3, "plan": "pro"}, {"tenure": null, "plan": "basic"}]}),
            serde_json::json!({"inputs": [[3, "pro"], [null, "basic"]]}),
        ];
        for body in &bodies {
            let rows = from_json(body, &s).expect("parses");
            let tenure = rows
                .columns
                .iter()
                .position(|c| *c == "tenure")
                .expect("col");
            let plan = rows.columns.iter().position(|c| *c == "plan").expect("col");
            assert_eq!(rows.rows.len(), 2, "{body}");
            assert_eq!(rows.rows[0][tenure], Value::Number(3.0));
            assert_eq!(rows.rows[1][tenure], Value::Missing);
            assert_eq!(rows.rows[1][plan], Value::Text("basic"));
        }
    }

    #[test]
    fn malformed_bodies_say_what_is_wrong() {
        let s = sig();
        let cases = [
            (serde_json::json!([1, 2]), "JSON object"),
            (serde_json::json!({"foo": 1}), "found none"),
            (
                serde_json::json!({"instances": [], "inputs": []}),
                "exactly one",
            ),
            (
                serde_json::json!({"dataframe_split": {"columns": ["a"], "data": [[1, 2]]}}),
                "2 values for 1 columns",
            ),
            (serde_json::json!({"instances": [[1]]}), "the model takes 2"),
            (
                serde_json::json!({"dataframe_records": [{"tenure": true}]}),
                "expected a number",
            ),
            (
                serde_json::json!({"dataframe_records": [{"a": 1}, {"a": 1, "b": 2}]}),
                "column `b`",
            ),
        ];
        for (body, want) in cases {
            let err = from_json(&body, &s).expect_err("bad");
            assert!(err.0.contains(want), "{body}: {}", err.0);
        }
    }

    #[test]
    fn csv_bodies_use_the_signature_types() {
        let (h, recs) = read_csv(b"plan,tenure\npro,3\nbasic,NA\n").expect("csv");
        let rows = from_csv(&recs, &h, &sig()).expect("rows");
        assert_eq!(rows.rows[0], vec![Value::Text("pro"), Value::Number(3.0)]);
        assert_eq!(rows.rows[1][1], Value::Missing);
        let (h, recs) = read_csv(b"plan,tenure\npro,x\n").expect("csv");
        assert!(
            from_csv(&recs, &h, &sig())
                .expect_err("x")
                .0
                .contains("not a number")
        );
    }
}
