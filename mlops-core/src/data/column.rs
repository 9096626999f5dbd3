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

    /// Pushes a raw value (NaN: missing).
    #[inline(always)]
    pub(crate) fn push_raw(&mut self, v: f64) {
        self.values.push(v);
    }

    pub(crate) fn take(&self, rows: &[usize]) -> Self {
        Self {
            values: rows.iter().map(|&r| self.values[r]).collect(),
        }
    }

    pub(crate) fn reserve(&mut self, rows: usize) {
        self.values.reserve(rows);
    }

    /// The raw values (NaN: missing), without a copy.
    #[cfg(feature = "arrow")]
    pub(crate) fn into_raw(self) -> Vec<f64> {
        self.values
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

/// Byte-string equality, inlined for the short strings of categories (a
/// call to `memcmp` per comparison showed in profiles).
fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x == y)
}

/// The bytes of dictionary entry `c` (empty when out of range).
fn entry_bytes<'a>(text: &'a str, ends: &[usize], c: usize) -> &'a [u8] {
    entry_bytes_raw(text.as_bytes(), ends, c)
}

/// Dictionaries up to this size are searched by a scan of [`SmallKey`]s
/// instead of a hash.
const SMALL_DICTIONARY: usize = 16;

/// A string's length and up to 24 of its bytes in three words: equal keys
/// mean equal strings for strings up to 24 bytes, so most categories
/// compare in four word comparisons, without a byte loop.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(super) struct SmallKey {
    len: usize,
    head: u64,
    mid: u64,
    tail: u64,
}

impl SmallKey {
    #[inline(always)]
    pub(super) fn of(s: &[u8]) -> Self {
        let word8 = |b: Option<&[u8]>| {
            b.and_then(|b| <[u8; 8]>::try_from(b).ok())
                .map_or(0, u64::from_le_bytes)
        };
        let word4 = |b: Option<&[u8]>| {
            b.and_then(|b| <[u8; 4]>::try_from(b).ok())
                .map_or(0, |w| u64::from(u32::from_le_bytes(w)))
        };
        let byte = |i: usize| u64::from(s.get(i).copied().unwrap_or(0));
        let n = s.len();
        // First, middle and last 8 (or 4) bytes, overlapping when shorter
        // than 24 (8): together with the length they cover every byte.
        let (head, mid, tail) = if n >= 16 {
            (
                word8(s.get(..8)),
                word8(s.get(8..16)),
                word8(s.get(n - 8..)),
            )
        } else if n >= 8 {
            (word8(s.get(..8)), 0, word8(s.get(n - 8..)))
        } else if n >= 4 {
            (word4(s.get(..4)) | word4(s.get(n - 4..)) << 32, 0, 0)
        } else if n > 0 {
            (byte(0) | byte(n / 2) << 8 | byte(n - 1) << 16, 0, 0)
        } else {
            (0, 0, 0)
        };
        Self {
            len: n,
            head,
            mid,
            tail,
        }
    }

    /// The key covers the whole string.
    pub(super) fn is_exact(&self) -> bool {
        self.len <= 24
    }

    /// `self == other`, without a branch per word.
    #[inline(always)]
    fn same(&self, other: &SmallKey) -> bool {
        ((self.len ^ other.len) as u64
            | (self.head ^ other.head)
            | (self.mid ^ other.mid)
            | (self.tail ^ other.tail))
            == 0
    }
}

/// Code of a missing cell in a [`CategoricalColumn`].
pub const MISSING_CODE: u32 = u32::MAX;

/// A categorical (string) column, dictionary-encoded: each cell is a code into
/// [`CategoricalColumn::dictionary`], in first-seen order, or
/// [`MISSING_CODE`].
///
/// The distinct strings are stored back to back in one buffer with their
/// end offsets (as Arrow and pandas store strings), not one allocation per
/// string: an id column of a million distinct values is two allocations.
#[derive(Debug, Clone, Default)]
pub struct CategoricalColumn {
    codes: Vec<u32>,
    /// The distinct strings, concatenated in code order.
    text: String,
    /// End of each distinct string in `text`; entry `c` starts where entry
    /// `c - 1` ends.
    ends: Vec<usize>,
    /// Build-time index of the dictionary: codes, hashed by their string.
    /// Probed once per cell while reading, once the dictionary has more
    /// than [`SMALL_DICTIONARY`] entries.
    lookup: HashTable<u32>,
    /// Keys of the first [`SMALL_DICTIONARY`] entries, scanned before the
    /// dictionary outgrows them.
    small: Vec<SmallKey>,
    /// Cells waiting to be looked up in a batch (see
    /// [`CategoricalColumn::defer_lookups`]); `None` when cells are looked
    /// up as they come.
    pending: Option<Box<Pending>>,
}

/// Cells of a [`CategoricalColumn`] not yet looked up in its dictionary:
/// their strings and hashes, while `codes` holds their index here.
#[derive(Debug, Clone, Default)]
struct Pending {
    /// Where the codes of the batch start in `codes`.
    codes_from: usize,
    text: String,
    ends: Vec<usize>,
    hashes: Vec<u64>,
    /// Per string, its code once found (or [`MISSING_CODE`]).
    found: Vec<u32>,
}

/// Strings looked up together by a column with deferred lookups: enough
/// for the cache misses of consecutive lookups to overlap, few enough for
/// the batch to stay in the L1 cache.
const PENDING_BATCH: usize = 64;

/// The distinct strings of a [`CategoricalColumn`], indexed by code.
///
/// ```
/// use mlops_core::data::CategoricalColumn;
///
/// let col = CategoricalColumn::from_options([Some("b"), Some("a"), None, Some("b")]);
/// let dictionary = col.dictionary();
/// assert_eq!(dictionary.len(), 2);
/// assert_eq!(dictionary.get(1), Some("a"));
/// assert_eq!(dictionary.iter().collect::<Vec<_>>(), ["b", "a"]);
/// ```
#[derive(Clone, Copy)]
pub struct Dictionary<'a> {
    text: &'a str,
    ends: &'a [usize],
}

impl<'a> Dictionary<'a> {
    /// Number of distinct strings.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// True when there are none.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// The string of `code`, `None` when out of range.
    pub fn get(&self, code: usize) -> Option<&'a str> {
        let end = *self.ends.get(code)?;
        let start = match code {
            0 => 0,
            _ => *self.ends.get(code - 1)?,
        };
        self.text.get(start..end)
    }

    /// The strings in code order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = &'a str> + 'a {
        let (text, ends) = (self.text, self.ends);
        (0..ends.len()).map(move |c| Dictionary { text, ends }.get(c).unwrap_or_default())
    }
}

impl<'a> IntoIterator for Dictionary<'a> {
    type Item = &'a str;
    type IntoIter = Box<dyn ExactSizeIterator<Item = &'a str> + 'a>;

    fn into_iter(self) -> Self::IntoIter {
        Box::new(self.iter())
    }
}

/// The same strings in the same order.
impl PartialEq for Dictionary<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter())
    }
}

impl std::fmt::Debug for Dictionary<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

/// Serialized as `{codes, dictionary: [strings]}`, the layout before the
/// strings shared one buffer, so stored frames still read.
impl Serialize for CategoricalColumn {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        struct Strings<'a>(Dictionary<'a>);
        impl Serialize for Strings<'_> {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.collect_seq(self.0.iter())
            }
        }
        let mut st = serializer.serialize_struct("CategoricalColumn", 2)?;
        st.serialize_field("codes", &self.codes)?;
        st.serialize_field("dictionary", &Strings(self.dictionary()))?;
        st.end()
    }
}

impl<'de> Deserialize<'de> for CategoricalColumn {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(rename = "CategoricalColumn")]
        struct Stored {
            codes: Vec<u32>,
            dictionary: Vec<String>,
        }
        let stored = Stored::deserialize(deserializer)?;
        let mut col = CategoricalColumn {
            codes: stored.codes,
            text: String::with_capacity(stored.dictionary.iter().map(String::len).sum()),
            ends: Vec::with_capacity(stored.dictionary.len()),
            lookup: HashTable::new(),
            small: Vec::new(),
            pending: None,
        };
        for s in &stored.dictionary {
            col.text.push_str(s);
            col.ends.push(col.text.len());
        }
        Ok(col)
    }
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
        self.dictionary().get(code as usize)
    }

    /// The codes, [`MISSING_CODE`] marking missing cells.
    pub fn codes(&self) -> &[u32] {
        &self.codes
    }

    /// The distinct strings, indexed by code.
    pub fn dictionary(&self) -> Dictionary<'_> {
        Dictionary {
            text: &self.text,
            ends: &self.ends,
        }
    }

    /// Iterates over the cells.
    pub fn iter(&self) -> impl Iterator<Item = Option<&str>> + '_ {
        let dictionary = self.dictionary();
        self.codes.iter().map(move |&c| dictionary.get(c as usize))
    }

    /// Number of missing cells.
    pub fn missing_count(&self) -> usize {
        self.codes.iter().filter(|&&c| c == MISSING_CODE).count()
    }

    /// Count of each dictionary entry (indexed by code).
    pub fn counts(&self) -> Vec<usize> {
        let mut counts = vec![0usize; self.ends.len()];
        for &c in &self.codes {
            if let Some(n) = counts.get_mut(c as usize) {
                *n += 1;
            }
        }
        counts
    }

    #[inline(always)]
    pub(crate) fn push(&mut self, v: Option<&str>) {
        match v {
            None => self.codes.push(MISSING_CODE),
            // The one interning path, so a column with deferred lookups
            // queues the cell instead of mixing in a final code.
            Some(s) => self.push_unless_missing(s, |_, _| false),
        }
    }

    pub(crate) fn reserve(&mut self, rows: usize) {
        self.codes.reserve(rows);
    }

    /// Pushes a cell by its code: one returned by
    /// [`CategoricalColumn::last_code`] after an earlier push, or
    /// [`MISSING_CODE`].
    #[cfg(feature = "arrow")]
    pub(crate) fn push_code(&mut self, code: u32) {
        self.codes.push(code);
    }

    /// The code of the last pushed cell.
    #[cfg(feature = "arrow")]
    pub(crate) fn last_code(&self) -> Option<u32> {
        self.codes.last().copied()
    }

    /// Codes, dictionary text and dictionary end offsets, without a copy.
    #[cfg(feature = "arrow")]
    pub(crate) fn into_parts(mut self) -> (Vec<u32>, String, Vec<usize>) {
        self.finish();
        (self.codes, self.text, self.ends)
    }

    /// Pushes the present cell `s`, or a missing one when `is_missing(s,
    /// key)` (`key` is `s`'s [`SmallKey`], or `None` in a large
    /// dictionary). `is_missing` is asked only when `s` is not in the
    /// dictionary: a column filled only by this method never holds a
    /// missing token in its dictionary, so a string found there is present.
    /// Most cells of a categorical column repeat a known value, and this
    /// spares them the missing-token check.
    #[inline(always)]
    pub(super) fn push_unless_missing(
        &mut self,
        s: &str,
        is_missing: impl FnOnce(&str, Option<&SmallKey>) -> bool,
    ) {
        // Most categorical columns have a handful of values: a scan of
        // their keys beats hashing every cell.
        let code = if self.ends.len() <= SMALL_DICTIONARY {
            let key = SmallKey::of(s.as_bytes());
            match self.find_small(key, s) {
                Some(c) => c,
                None if is_missing(s, Some(&key)) => MISSING_CODE,
                None => {
                    let hash = FxBuildHasher.hash_one(s);
                    self.add_entry(s, Some(hash))
                }
            }
        } else if self.pending.is_some() {
            if is_missing(s, None) {
                self.codes.push(MISSING_CODE);
            } else {
                self.push_pending(s);
            }
            return;
        } else {
            self.intern_hashed_unless(s, is_missing)
        };
        self.codes.push(code);
    }

    /// From now on [`CategoricalColumn::push_unless_missing`] looks new
    /// cells up in batches, once the dictionary is large: for a column of
    /// mostly distinct values (an id), each lookup is a cache miss in a
    /// large table, and a batch of lookups in a row lets the processor
    /// wait for several misses at once instead of one per row. Codes are
    /// only final after [`CategoricalColumn::flush`] (called by `append`
    /// and `finish`).
    pub(super) fn defer_lookups(&mut self) {
        if self.pending.is_none() {
            self.pending = Some(Box::new(Pending {
                codes_from: 0,
                text: String::with_capacity(PENDING_BATCH * 16),
                ends: Vec::with_capacity(PENDING_BATCH),
                hashes: Vec::with_capacity(PENDING_BATCH),
                found: Vec::with_capacity(PENDING_BATCH),
            }));
        }
    }

    /// Queues the present, non-missing cell `s` (see
    /// [`CategoricalColumn::defer_lookups`]).
    #[inline(always)]
    fn push_pending(&mut self, s: &str) {
        let Some(p) = self.pending.as_deref_mut() else {
            return;
        };
        if p.ends.is_empty() {
            p.codes_from = self.codes.len();
        }
        self.codes.push(p.ends.len() as u32);
        p.hashes.push(FxBuildHasher.hash_one(s));
        p.text.push_str(s);
        p.ends.push(p.text.len());
        if p.ends.len() >= PENDING_BATCH {
            self.flush();
        }
    }

    /// Looks up the queued cells and writes their codes.
    pub(crate) fn flush(&mut self) {
        let Some(mut p) = self.pending.take() else {
            return;
        };
        if !p.ends.is_empty() {
            // First every lookup (independent reads whose misses overlap),
            // then the insertions, whose table lines are now cached.
            p.found.clear();
            for (k, &hash) in p.hashes.iter().enumerate() {
                let s = entry_bytes(&p.text, &p.ends, k);
                let code = self.find_hashed(hash, s).unwrap_or(MISSING_CODE);
                p.found.push(code);
            }
            for k in 0..p.ends.len() {
                if p.found.get(k) == Some(&MISSING_CODE) {
                    let s = Dictionary {
                        text: &p.text,
                        ends: &p.ends,
                    }
                    .get(k)
                    .unwrap_or_default();
                    let hash = p.hashes.get(k).copied().unwrap_or_default();
                    // Cells are only queued once the dictionary is
                    // large, so the hash table serves every insertion.
                    let code = self.intern_large(s, hash, |_| false);
                    if let Some(f) = p.found.get_mut(k) {
                        *f = code;
                    }
                }
            }
            for code in self.codes.get_mut(p.codes_from..).unwrap_or_default() {
                if *code != MISSING_CODE {
                    *code = p.found.get(*code as usize).copied().unwrap_or(MISSING_CODE);
                }
            }
            p.text.clear();
            p.ends.clear();
            p.hashes.clear();
        }
        self.pending = Some(p);
    }

    /// The code of `s` (hash `hash`) in the lookup table.
    #[inline(always)]
    fn find_hashed(&self, hash: u64, s: &[u8]) -> Option<u32> {
        let (text, ends) = (&self.text, &self.ends);
        self.lookup
            .find(hash, |&c| {
                same_bytes(entry_bytes(text, ends, c as usize), s)
            })
            .copied()
    }

    /// [`CategoricalColumn::push_unless_missing`]'s code in a large
    /// dictionary.
    #[inline(never)]
    fn intern_hashed_unless(
        &mut self,
        s: &str,
        is_missing: impl FnOnce(&str, Option<&SmallKey>) -> bool,
    ) -> u32 {
        let hash = FxBuildHasher.hash_one(s);
        self.intern_large(s, hash, |s| is_missing(s, None))
    }

    /// The code of `s` (hash `hash`) in the lookup table of a large
    /// dictionary; a new string is added, unless `is_missing` calls it a
    /// missing token ([`MISSING_CODE`]). One probe sequence serves both
    /// the lookup and the insertion.
    #[inline(always)]
    fn intern_large(&mut self, s: &str, hash: u64, is_missing: impl FnOnce(&str) -> bool) -> u32 {
        let (text, ends) = (&self.text, &self.ends);
        let entry = self.lookup.entry(
            hash,
            |&c| same_bytes(entry_bytes(text, ends, c as usize), s.as_bytes()),
            |&c| hash_entry(text, ends, c as usize),
        );
        match entry {
            hashbrown::hash_table::Entry::Occupied(e) => *e.get(),
            hashbrown::hash_table::Entry::Vacant(_) if is_missing(s) => MISSING_CODE,
            hashbrown::hash_table::Entry::Vacant(e) => {
                let c = ends.len() as u32;
                e.insert(c);
                self.text.push_str(s);
                self.ends.push(self.text.len());
                c
            }
        }
    }

    /// Reserves room for `distinct` more dictionary entries of about
    /// `bytes` bytes in all, `indexed` of them in the lookup table, so a
    /// column of mostly unique values (an id) does not rehash or copy its
    /// strings as it grows.
    pub(crate) fn reserve_distinct(&mut self, distinct: usize, indexed: usize, bytes: usize) {
        self.ends.reserve(distinct);
        self.text.reserve(bytes);
        let (text, ends) = (&self.text, &self.ends);
        self.lookup
            .reserve(indexed, |&c| hash_entry(text, ends, c as usize));
    }

    /// The code of `s` among the small-dictionary keys.
    #[inline(always)]
    fn find_small(&self, key: SmallKey, s: &str) -> Option<u32> {
        if key.is_exact() {
            // Every key compared, without an early exit: which of a few
            // categories a cell holds is a coin toss for the branch
            // predictor, a conditional move is not. Keys of distinct
            // strings that each key covers differ, so at most one matches.
            let mut hit = MISSING_CODE;
            for (c, k) in self.small.iter().take(self.ends.len()).enumerate() {
                hit = if k.same(&key) { c as u32 } else { hit };
            }
            return (hit != MISSING_CODE).then_some(hit);
        }
        // A plain loop: as an iterator chain this was not inlined.
        let mut start = 0;
        for (c, (k, &end)) in self.small.iter().zip(&self.ends).enumerate() {
            if *k == key
                && (key.is_exact()
                    || same_bytes(
                        self.text.as_bytes().get(start..end).unwrap_or_default(),
                        s.as_bytes(),
                    ))
            {
                return Some(c as u32);
            }
            start = end;
        }
        None
    }

    /// The code of `s`, `None` when it is not in the dictionary.
    fn find(&self, s: &str) -> Option<u32> {
        if self.ends.len() <= SMALL_DICTIONARY {
            return self.find_small(SmallKey::of(s.as_bytes()), s);
        }
        let (text, ends) = (&self.text, &self.ends);
        self.lookup
            .find(FxBuildHasher.hash_one(s), |&c| {
                same_bytes(entry_bytes(text, ends, c as usize), s.as_bytes())
            })
            .copied()
    }

    /// Adds `s` (not in the dictionary) as a new entry; it is indexed in
    /// the lookup table when `hash` is given.
    #[inline(never)]
    fn add_entry(&mut self, s: &str, hash: Option<u64>) -> u32 {
        let c = self.ends.len() as u32;
        if self.small.len() < SMALL_DICTIONARY && self.small.len() == self.ends.len() {
            self.small.push(SmallKey::of(s.as_bytes()));
        }
        if let Some(hash) = hash {
            let (text, ends) = (&self.text, &self.ends);
            self.lookup
                .insert_unique(hash, c, |&c| hash_entry(text, ends, c as usize));
        }
        self.text.push_str(s);
        self.ends.push(self.text.len());
        c
    }

    /// Appends the cells of `other` (built separately, from a later part of
    /// the same source) before [`CategoricalColumn::finish`]: codes are
    /// remapped so the dictionary stays in first-appearance order.
    ///
    /// `last`: no more cells will be added before `finish`, so `other`'s
    /// new strings (distinct from each other) are not indexed, which
    /// spares most of the hashing when merging an id column.
    pub(crate) fn append(&mut self, mut other: CategoricalColumn, last: bool) {
        self.flush();
        other.flush();
        if other.ends.len() > SMALL_DICTIONARY {
            self.ends.reserve(other.ends.len());
            self.text.reserve(other.text.len());
            if !last {
                self.reserve_distinct(other.ends.len(), other.ends.len(), other.text.len());
            }
        }
        // Every lookup first (in a large dictionary each is a cache miss,
        // and independent lookups in a row overlap theirs), then the new
        // strings in order. `other`'s strings are distinct, so none of
        // them is added before its own lookup.
        let mut remap: Vec<u32> = other
            .dictionary()
            .iter()
            .map(|s| self.find(s).unwrap_or(MISSING_CODE))
            .collect();
        for (s, code) in other.dictionary().iter().zip(&mut remap) {
            if *code == MISSING_CODE {
                let hash = (!last).then(|| FxBuildHasher.hash_one(s));
                *code = self.add_entry(s, hash);
            }
        }
        self.codes.extend(
            other
                .codes
                .iter()
                .map(|&c| remap.get(c as usize).copied().unwrap_or(MISSING_CODE)),
        );
    }

    /// Drops the build-time lookup table once a column is complete.
    pub(crate) fn finish(&mut self) {
        self.flush();
        self.pending = None;
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

/// The bytes of dictionary entry `c` in the dictionary's bytes.
fn entry_bytes_raw<'a>(text: &'a [u8], ends: &[usize], c: usize) -> &'a [u8] {
    let end = ends.get(c).copied().unwrap_or(0);
    let start = match c {
        0 => 0,
        _ => ends.get(c - 1).copied().unwrap_or(end),
    };
    text.get(start..end).unwrap_or_default()
}

/// The hash of dictionary entry `c` (used when the lookup table grows).
fn hash_entry(text: &str, ends: &[usize], c: usize) -> u64 {
    FxBuildHasher.hash_one(Dictionary { text, ends }.get(c).unwrap_or_default())
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn categorical_serialized_layout_is_codes_and_strings() {
        let col = CategoricalColumn::from_options([Some("b"), None, Some("héllo"), Some("b")]);
        let json = serde_json::to_string(&col).unwrap();
        assert_eq!(
            json,
            r#"{"codes":[0,4294967295,1,0],"dictionary":["b","héllo"]}"#
        );
        let back: CategoricalColumn = serde_json::from_str(&json).unwrap();
        assert_eq!(back, col);
        assert_eq!(back.dictionary(), col.dictionary());
        assert_eq!(back.get(2), Some("héllo"));
    }

    #[test]
    fn interning_past_the_small_dictionary_and_appending() {
        let values: Vec<String> = (0..50).map(|i| format!("v{}", i % 20)).collect();
        let col = CategoricalColumn::from_options(values.iter().map(Some));
        assert_eq!(col.dictionary().len(), 20);
        assert!(
            col.iter()
                .map(Option::unwrap)
                .eq(values.iter().map(String::as_str))
        );
        let head = CategoricalColumn::from_options([Some("v3"), Some("x")]);
        let mut rebuilt = CategoricalColumn::default();
        rebuilt.append(head, false);
        rebuilt.append(col.clone(), true);
        rebuilt.finish();
        assert_eq!(rebuilt.len(), 52);
        assert_eq!(rebuilt.dictionary().get(1), Some("x"));
        assert_eq!(rebuilt.get(2), Some("v0"));
        assert_eq!(rebuilt.dictionary().len(), 21);
        assert_eq!(rebuilt.dictionary().get(21), None);
    }

    #[test]
    fn batched_lookups_match_direct_interning() {
        let cells: Vec<Option<String>> = (0..1000)
            .map(|i| match i % 9 {
                0 => None,
                1 => Some(format!("v{}", i / 3)),
                2 => Some("MISS".to_owned()),
                _ => Some(format!("v{i}")),
            })
            .collect();
        let direct = CategoricalColumn::from_options(
            cells.iter().map(|c| c.as_deref().filter(|s| *s != "MISS")),
        );
        let mut batched = CategoricalColumn::default();
        batched.defer_lookups();
        for (i, c) in cells.iter().enumerate() {
            match c {
                None => batched.push(None),
                Some(s) => batched.push_unless_missing(s, |s, _| s == "MISS"),
            }
            if i == 500 {
                // A flush in the middle of a batch, as `append` does.
                batched.flush();
            }
        }
        batched.finish();
        assert_eq!(batched, direct);
        assert_eq!(batched.dictionary(), direct.dictionary());
        assert_eq!(batched.codes(), direct.codes());
    }

    #[test]
    fn plain_pushes_queue_behind_deferred_lookups() {
        // `push` mixed into a column with deferred lookups and queued
        // cells: codes stay in row order, as with direct interning.
        let cells: Vec<String> = (0..300).map(|i| format!("k{}", i % 250)).collect();
        let direct = CategoricalColumn::from_options(cells.iter().map(|s| Some(s.as_str())));
        let mut mixed = CategoricalColumn::default();
        mixed.defer_lookups();
        for (i, s) in cells.iter().enumerate() {
            if i % 2 == 0 {
                mixed.push(Some(s));
            } else {
                mixed.push_unless_missing(s, |_, _| false);
            }
        }
        mixed.finish();
        assert_eq!(mixed.codes(), direct.codes());
        assert_eq!(mixed.dictionary(), direct.dictionary());
    }

    #[test]
    fn small_keys_tell_strings_apart() {
        // Every string up to 16 bytes over a small alphabet: equal keys only
        // for equal strings.
        let mut strings = vec![String::new()];
        for len in 1..=5 {
            let mut next = Vec::new();
            for i in 0..3usize.pow(len) {
                let mut s = String::new();
                let mut k = i;
                for _ in 0..len {
                    s.push(['a', 'b', 'é'][k % 3]);
                    k /= 3;
                }
                next.push(s);
            }
            strings.extend(next);
        }
        strings.extend((0..200).map(|i| format!("{i:0>16}")));
        strings.extend((0..200).map(|i| format!("x{i:0>9}y")));
        strings.extend((0..300).map(|i| format!("{:0>20}{i:0>3}", i % 7)));
        let mut seen = std::collections::HashMap::new();
        for s in &strings {
            let k = SmallKey::of(s.as_bytes());
            if k.is_exact() {
                assert!(seen.insert(k, s).is_none(), "{s:?}");
            }
        }
        // Longer strings with the same first and last 8 bytes are compared
        // in full.
        let long = ["Bank transfer (automatic)", "Bank transfer (xautomatic)"];
        let long2 = ["Bank transfer (aXtomatic)", "Bank transfer (automatic)"];
        for pair in [long, long2] {
            let col = CategoricalColumn::from_options(pair.iter().chain(&pair).map(Some));
            assert_eq!(col.dictionary().len(), 2);
            assert!(
                col.iter()
                    .map(Option::unwrap)
                    .eq(pair.iter().chain(&pair).copied())
            );
        }
        assert_eq!(
            SmallKey::of(long2[0].as_bytes()),
            SmallKey::of(long2[1].as_bytes())
        );
    }
}
