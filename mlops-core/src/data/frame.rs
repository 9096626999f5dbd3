//! `Frame`: a small typed columnar table.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::column::{CategoricalColumn, Column, ColumnType, NumericColumn, Value};
use crate::error::{Error, Result};

/// A named, typed column description.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Field {
    /// Column name.
    pub name: String,
    /// Column type.
    #[serde(rename = "type")]
    pub column_type: ColumnType,
}

/// The ordered list of a frame's fields.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Schema {
    /// Fields in column order.
    pub fields: Vec<Field>,
}

impl Schema {
    /// The type of the named column, if present.
    pub fn column_type(&self, name: &str) -> Option<ColumnType> {
        self.fields
            .iter()
            .find(|f| f.name == name)
            .map(|f| f.column_type)
    }
}

/// A typed columnar table: every column has the same number of rows.
///
/// ```
/// use mlops_core::data::{Column, Frame, NumericColumn, CategoricalColumn};
///
/// let frame = Frame::new(vec![
///     ("tenure".into(), Column::Numeric(NumericColumn::from_options([Some(1.0), None]))),
///     ("plan".into(), Column::Categorical(CategoricalColumn::from_options([Some("a"), Some("b")]))),
/// ])?;
/// assert_eq!(frame.n_rows(), 2);
/// assert_eq!(frame.numeric("tenure")?.get(1), None);
/// # Ok::<(), mlops_core::Error>(())
/// ```
#[derive(Clone, Default, Serialize, Deserialize)]
pub struct Frame {
    names: Vec<String>,
    columns: Vec<Column>,
    n_rows: usize,
    #[serde(skip)]
    index: HashMap<String, usize>,
}

/// Frames are equal when they have the same column names, types and cell
/// values (missing equals missing).
impl PartialEq for Frame {
    fn eq(&self, other: &Self) -> bool {
        self.names == other.names && self.columns == other.columns
    }
}

/// Shows the shape and schema, not the cells.
impl std::fmt::Debug for Frame {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Frame({} rows; ", self.n_rows)?;
        for (i, (name, col)) in self.columns().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{name}: {}", col.column_type())?;
        }
        f.write_str(")")
    }
}

impl Frame {
    /// Builds a frame from named columns. Names must be unique and columns of
    /// equal length.
    pub fn new(columns: Vec<(String, Column)>) -> Result<Self> {
        let n_rows = columns.first().map_or(0, |(_, c)| c.len());
        let mut index = HashMap::with_capacity(columns.len());
        let mut names = Vec::with_capacity(columns.len());
        let mut cols = Vec::with_capacity(columns.len());
        for (i, (name, col)) in columns.into_iter().enumerate() {
            if col.len() != n_rows {
                return Err(Error::Shape(format!(
                    "column `{name}` has {} rows, expected {n_rows}",
                    col.len()
                )));
            }
            if index.insert(name.clone(), i).is_some() {
                return Err(Error::Shape(format!("duplicate column name `{name}`")));
            }
            names.push(name);
            cols.push(col);
        }
        Ok(Self {
            names,
            columns: cols,
            n_rows,
            index,
        })
    }

    /// The named columns, in order, without a copy.
    pub fn into_columns(self) -> Vec<(String, Column)> {
        self.names.into_iter().zip(self.columns).collect()
    }

    /// Number of rows.
    pub fn n_rows(&self) -> usize {
        self.n_rows
    }

    /// Number of columns.
    pub fn n_cols(&self) -> usize {
        self.columns.len()
    }

    /// Column names in order.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// The schema (names and types).
    pub fn schema(&self) -> Schema {
        Schema {
            fields: self
                .names
                .iter()
                .zip(&self.columns)
                .map(|(name, col)| Field {
                    name: name.clone(),
                    column_type: col.column_type(),
                })
                .collect(),
        }
    }

    /// Iterates over `(name, column)` pairs.
    pub fn columns(&self) -> impl Iterator<Item = (&str, &Column)> + '_ {
        self.names.iter().map(String::as_str).zip(&self.columns)
    }

    /// Position of a column by name.
    pub fn position(&self, name: &str) -> Option<usize> {
        if self.index.len() == self.names.len() {
            self.index.get(name).copied()
        } else {
            // A deserialized frame has no index yet.
            self.names.iter().position(|n| n == name)
        }
    }

    /// The named column.
    pub fn column(&self, name: &str) -> Result<&Column> {
        self.position(name)
            .map(|i| &self.columns[i])
            .ok_or_else(|| Error::ColumnNotFound {
                column: name.to_owned(),
            })
    }

    /// The column at position `i`.
    pub fn column_at(&self, i: usize) -> Option<&Column> {
        self.columns.get(i)
    }

    /// The named column as numeric, or a typed error.
    pub fn numeric(&self, name: &str) -> Result<&NumericColumn> {
        let col = self.column(name)?;
        col.as_numeric().ok_or_else(|| Error::ColumnType {
            column: name.to_owned(),
            expected: "numeric",
            found: col.column_type().name(),
        })
    }

    /// The named column as categorical, or a typed error.
    pub fn categorical(&self, name: &str) -> Result<&CategoricalColumn> {
        let col = self.column(name)?;
        col.as_categorical().ok_or_else(|| Error::ColumnType {
            column: name.to_owned(),
            expected: "categorical",
            found: col.column_type().name(),
        })
    }

    /// Cell `(row, column position)` as a [`Value`].
    pub fn value(&self, row: usize, col: usize) -> Value<'_> {
        match self.columns.get(col) {
            Some(c) if row < self.n_rows => c.value(row),
            _ => Value::Missing,
        }
    }

    /// A new frame holding the given rows, in the given order. Indices out of
    /// range are an error.
    pub fn take(&self, rows: &[usize]) -> Result<Self> {
        if let Some(&bad) = rows.iter().find(|&&r| r >= self.n_rows) {
            return Err(Error::Shape(format!(
                "row index {bad} out of range for a frame of {} rows",
                self.n_rows
            )));
        }
        Self::new(
            self.names
                .iter()
                .cloned()
                .zip(self.columns.iter().map(|c| c.take(rows)))
                .collect(),
        )
    }

    /// A new frame with only the named columns, in the given order.
    pub fn select(&self, names: &[&str]) -> Result<Self> {
        let mut cols = Vec::with_capacity(names.len());
        for &name in names {
            cols.push((name.to_owned(), self.column(name)?.clone()));
        }
        Self::new(cols)
    }

    /// A new frame without the named columns; naming an absent column is an
    /// error.
    pub fn drop_columns(&self, names: &[&str]) -> Result<Self> {
        for &name in names {
            self.column(name)?;
        }
        Self::new(
            self.columns()
                .filter(|(n, _)| !names.contains(n))
                .map(|(n, c)| (n.to_owned(), c.clone()))
                .collect(),
        )
    }

    /// Appends the rows of `other`, which must have the same schema.
    pub fn vstack(&self, other: &Frame) -> Result<Self> {
        if self.schema() != other.schema() {
            return Err(Error::Shape(
                "cannot stack frames with different schemas".into(),
            ));
        }
        let mut cols = Vec::with_capacity(self.n_cols());
        for ((name, a), b) in self.columns().zip(&other.columns) {
            let col = match (a, b) {
                (Column::Numeric(a), Column::Numeric(b)) => Column::Numeric(
                    NumericColumn::from_raw(a.raw().iter().chain(b.raw()).copied().collect()),
                ),
                (Column::Categorical(a), Column::Categorical(b)) => {
                    Column::Categorical(CategoricalColumn::from_options(a.iter().chain(b.iter())))
                }
                _ => unreachable!("schemas were checked equal"),
            };
            cols.push((name.to_owned(), col));
        }
        Self::new(cols)
    }
}
