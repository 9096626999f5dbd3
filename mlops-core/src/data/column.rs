//! Typed columns: numeric (f64 with explicit missing values) and categorical
//! (dictionary-encoded strings).

use std::hash::BuildHasher;

use hashbrown::HashTable;
use rustc_hash::FxBuildHasher;

use serde::{Deserialize, Serialize};

/// The type of a column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ColumnType {
    /// 64-bit floats; missing cells are explicit.
    Numeric,
    /// Strings, stored as codes into a dictionary.
    Categorical,
}

impl ColumnType {
    /// A lower-case name for messages.
    pub fn name(self) -> &'static str {
        match self {
            ColumnType::Numeric => "numeric",
            ColumnType::Categorical => "categorical",
        }
    }
}

impl std::fmt::Display for ColumnType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// A numeric column. A missing cell is stored as NaN and read back as `None`:
/// NaN never stands for a value, so "missing" is always explicit at the API.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct NumericColumn {
    values: Vec<f64>,
}

impl NumericColumn {
    /// Builds a column from optional values.
    pub fn from_options<I: IntoIterator<Item = Option<f64>>>(values: I) -> Self {
        Self {
            values: values.into_iter().map(|v| v.unwrap_or(f64::NAN)).collect(),
        }
    }

    /// Builds a column from raw values, where NaN means missing.
    pub fn from_raw(values: Vec<f64>) -> Self {
        Self { values }
    }

    /// Number of cells.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// True when the column has no cells.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// The value of cell `i`, `None` when missing or out of range.
    pub fn get(&self, i: usize) -> Option<f64> {
        self.values.get(i).copied().filter(|v| !v.is_nan())
    }

    /// The raw values, NaN marking missing cells.
    pub fn raw(&self) -> &[f64] {
        &self.values
    }

    /// Iterates over the cells.
    pub fn iter(&self) -> impl Iterator<Item = Option<f64>> + '_ {
        self.values.iter().map(|v| (!v.is_nan()).then_some(*v))
    }

    /// Iterates over the present (non-missing) values.
    pub fn present(&self) -> impl Iterator<Item = f64> + '_ {
        self.values.iter().copied().filter(|v| !v.is_nan())
    }

    /// Number of missing cells.
    pub fn missing_count(&self) -> usize {
        self.values.iter().filter(|v| v.is_nan()).count()
    }

    pub(crate) fn push(&mut self, v: Option<f64>) {
        self.values.push(v.unwrap_or(f64::NAN));
    }

    pub(crate) fn take(&self, rows: &[usize]) -> Self {
        Self {
            values: rows.iter().map(|&r| self.values[r]).collect(),
        }
    }

    pub(crate) fn reserve(&mut self, rows: usize) {
        self.values.reserve(rows);
    }

    /// Appends the cells of `other`.
    pub(crate) fn append(&mut self, other: NumericColumn) {
        self.values.extend(other.values);
    }
}

/// Cell-by-cell equality where two missing cells are equal.
impl PartialEq for NumericColumn {
    fn eq(&self, other: &Self) -> bool {
        self.values.len() == other.values.len()
            && self
                .values
                .iter()
                .zip(&other.values)
                .all(|(a, b)| a == b || (a.is_nan() && b.is_nan()))
    }
}

/// String equality, inlined for the short strings of categories (a call to
/// `memcmp` per comparison showed in profiles).
fn same_text(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).all(|(x, y)| x == y)
}

/// Dictionaries up to this size are searched by a scan instead of a hash.
const SMALL_DICTIONARY: usize = 8;

/// Code of a missing cell in a [`CategoricalColumn`].
pub const MISSING_CODE: u32 = u32::MAX;

/// A categorical (string) column, dictionary-encoded: each cell is a code into
/// [`CategoricalColumn::dictionary`], in first-seen order, or
/// [`MISSING_CODE`].
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct CategoricalColumn {
    codes: Vec<u32>,
    dictionary: Vec<String>,
    /// Build-time index of `dictionary` as (hash, code) pairs: each new
    /// string is allocated once, and growing the table never re-reads the
    /// strings. Probed once per cell while reading.
    #[serde(skip)]
    lookup: HashTable<(u64, u32)>,
}

impl CategoricalColumn {
    /// Builds a column from optional strings.
    pub fn from_options<I, S>(values: I) -> Self
    where
        I: IntoIterator<Item = Option<S>>,
        S: AsRef<str>,
    {
        let mut col = Self::default();
        for v in values {
            col.push(v.as_ref().map(|s| s.as_ref()));
        }
        col.finish();
        col
    }

    /// Number of cells.
    pub fn len(&self) -> usize {
        self.codes.len()
    }

    /// True when the column has no cells.
    pub fn is_empty(&self) -> bool {
        self.codes.is_empty()
    }

    /// The string of cell `i`, `None` when missing or out of range.
    pub fn get(&self, i: usize) -> Option<&str> {
        let code = *self.codes.get(i)?;
        self.dictionary.get(code as usize).map(String::as_str)
    }

    /// The codes, [`MISSING_CODE`] marking missing cells.
    pub fn codes(&self) -> &[u32] {
        &self.codes
    }

    /// The distinct strings, indexed by code.
    pub fn dictionary(&self) -> &[String] {
        &self.dictionary
    }

    /// Iterates over the cells.
    pub fn iter(&self) -> impl Iterator<Item = Option<&str>> + '_ {
        self.codes
            .iter()
            .map(|&c| self.dictionary.get(c as usize).map(String::as_str))
    }

    /// Number of missing cells.
    pub fn missing_count(&self) -> usize {
        self.codes.iter().filter(|&&c| c == MISSING_CODE).count()
    }

    /// Count of each dictionary entry (indexed by code).
    pub fn counts(&self) -> Vec<usize> {
        let mut counts = vec![0usize; self.dictionary.len()];
        for &c in &self.codes {
            if let Some(n) = counts.get_mut(c as usize) {
                *n += 1;
            }
        }
        counts
    }

    pub(crate) fn push(&mut self, v: Option<&str>) {
        let code = match v {
            None => MISSING_CODE,
            Some(s) => self.intern(s, str::to_owned),
        };
        self.codes.push(code);
    }

    pub(crate) fn reserve(&mut self, rows: usize) {
        self.codes.reserve(rows);
    }

    /// Reserves room for `distinct` more dictionary entries, so a column of
    /// mostly unique values (an id) does not rehash as it grows.
    pub(crate) fn reserve_distinct(&mut self, distinct: usize) {
        self.dictionary.reserve(distinct);
        self.lookup.reserve(distinct, |&(h, _)| h);
    }

    /// The code of `s`, adding it (made by `owned`) to the dictionary when new.
    fn intern<S: AsRef<str>>(&mut self, s: S, owned: impl FnOnce(S) -> String) -> u32 {
        // Most categorical columns have a handful of values: a scan (length
        // first) beats hashing every cell.
        if self.dictionary.len() <= SMALL_DICTIONARY
            && let Some(c) = self
                .dictionary
                .iter()
                .position(|d| same_text(d, s.as_ref()))
        {
            return c as u32;
        }
        let hash = FxBuildHasher.hash_one(s.as_ref());
        let dictionary = &self.dictionary;
        // One probe sequence for both the lookup and the insertion.
        let entry = self.lookup.entry(
            hash,
            |&(h, c)| {
                h == hash && dictionary.get(c as usize).map(String::as_str) == Some(s.as_ref())
            },
            |&(h, _)| h,
        );
        match entry {
            hashbrown::hash_table::Entry::Occupied(e) => e.get().1,
            hashbrown::hash_table::Entry::Vacant(e) => {
                let c = dictionary.len() as u32;
                e.insert((hash, c));
                self.dictionary.push(owned(s));
                c
            }
        }
    }

    /// Appends the cells of `other` (built separately, from a later part of
    /// the same source) before [`CategoricalColumn::finish`]: codes are
    /// remapped so the dictionary stays in first-appearance order.
    pub(crate) fn append(&mut self, other: CategoricalColumn) {
        if other.dictionary.len() > SMALL_DICTIONARY {
            self.reserve_distinct(other.dictionary.len());
        }
        let remap: Vec<u32> = other
            .dictionary
            .into_iter()
            .map(|s| self.intern(s, |s| s))
            .collect();
        self.codes.extend(
            other
                .codes
                .iter()
                .map(|&c| remap.get(c as usize).copied().unwrap_or(MISSING_CODE)),
        );
    }

    /// Drops the build-time lookup table once a column is complete.
    pub(crate) fn finish(&mut self) {
        self.lookup = HashTable::new();
    }

    pub(crate) fn take(&self, rows: &[usize]) -> Self {
        let mut col = Self::default();
        for &r in rows {
            col.push(self.get(r));
        }
        col.finish();
        col
    }
}

/// Equality of the cell values, whatever the dictionary order.
impl PartialEq for CategoricalColumn {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter())
    }
}

/// One column of a [`crate::data::Frame`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Column {
    /// Numeric values.
    Numeric(NumericColumn),
    /// Categorical values.
    Categorical(CategoricalColumn),
}

impl Column {
    /// The column's type.
    pub fn column_type(&self) -> ColumnType {
        match self {
            Column::Numeric(_) => ColumnType::Numeric,
            Column::Categorical(_) => ColumnType::Categorical,
        }
    }

    /// Number of cells.
    pub fn len(&self) -> usize {
        match self {
            Column::Numeric(c) => c.len(),
            Column::Categorical(c) => c.len(),
        }
    }

    /// True when the column has no cells.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Number of missing cells.
    pub fn missing_count(&self) -> usize {
        match self {
            Column::Numeric(c) => c.missing_count(),
            Column::Categorical(c) => c.missing_count(),
        }
    }

    /// The numeric column, if it is one.
    pub fn as_numeric(&self) -> Option<&NumericColumn> {
        match self {
            Column::Numeric(c) => Some(c),
            Column::Categorical(_) => None,
        }
    }

    /// The categorical column, if it is one.
    pub fn as_categorical(&self) -> Option<&CategoricalColumn> {
        match self {
            Column::Categorical(c) => Some(c),
            Column::Numeric(_) => None,
        }
    }

    /// The value of cell `i` as a borrowed [`Value`].
    pub fn value(&self, i: usize) -> Value<'_> {
        match self {
            Column::Numeric(c) => c.get(i).map_or(Value::Missing, Value::Number),
            Column::Categorical(c) => c.get(i).map_or(Value::Missing, Value::Text),
        }
    }

    pub(crate) fn take(&self, rows: &[usize]) -> Self {
        match self {
            Column::Numeric(c) => Column::Numeric(c.take(rows)),
            Column::Categorical(c) => Column::Categorical(c.take(rows)),
        }
    }
}

/// One cell, borrowed: the unit of a single record at serving time.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Value<'a> {
    /// A number.
    Number(f64),
    /// A string.
    Text(&'a str),
    /// No value.
    Missing,
}

impl Value<'_> {
    /// True for [`Value::Missing`].
    pub fn is_missing(&self) -> bool {
        matches!(self, Value::Missing)
    }
}
