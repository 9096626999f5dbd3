//! One-hot encoding: which categories a fit keeps, and the string -> slot
//! lookup used per record at serving time.

use rustc_hash::FxHashMap;

use crate::data::CategoricalColumn;

/// Dictionaries up to this size are scanned linearly: for the handful of
/// short strings typical of a categorical column this beats hashing.
const LINEAR_SCAN_MAX: usize = 16;

/// The categories a fit keeps (sorted by string) and the rare ones it saw
/// but sends to the unknown bucket (`top_k` / `min_frequency`).
pub(crate) fn choose_categories(
    column: &CategoricalColumn,
    top_k: Option<usize>,
    min_frequency: Option<usize>,
) -> (Vec<String>, Vec<String>) {
    let counts = column.counts();
    let mut seen: Vec<(&str, usize)> = column
        .dictionary()
        .iter()
        .zip(counts)
        .filter(|(_, n)| *n > 0)
        .collect();
    // Most frequent first, ties by string, so top-k is deterministic.
    seen.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
    let min = min_frequency.unwrap_or(1);
    let k = top_k.unwrap_or(usize::MAX);
    let mut kept = Vec::new();
    let mut rare = Vec::new();
    for (i, (s, n)) in seen.into_iter().enumerate() {
        if i < k && n >= min {
            kept.push(s.to_owned());
        } else {
            rare.push(s.to_owned());
        }
    }
    kept.sort_unstable();
    rare.sort_unstable();
    (kept, rare)
}

/// Category string -> slot in a one-hot block. Rare categories map to the
/// unknown slot but are not "unknown" (they were seen in training).
#[derive(Debug, Clone)]
pub(crate) enum Lookup {
    Small(Vec<SmallEntry>),
    Hashed(FxHashMap<Box<str>, u32>),
}

/// A category with its length and first 8 bytes as an integer, so a scan
/// rejects most candidates with two integer compares instead of a memcmp.
#[derive(Debug, Clone)]
pub(crate) struct SmallEntry {
    len: usize,
    prefix: u64,
    slot: u32,
    text: Box<str>,
}

/// The first (up to) 8 bytes, zero-padded, as a little-endian integer.
#[inline]
fn prefix(bytes: &[u8]) -> u64 {
    // A byte loop: copy_from_slice of a variable length calls memmove.
    let mut v = 0u64;
    for (i, &b) in bytes.iter().take(8).enumerate() {
        v |= u64::from(b) << (8 * i);
    }
    v
}

/// Equal bytes after the first 8 (lengths already equal), compared inline:
/// the tails are short and a memcmp call costs more than the loop.
#[inline]
fn same_tail(a: &[u8], b: &[u8]) -> bool {
    a.iter().zip(b).skip(8).all(|(x, y)| x == y)
}

impl Lookup {
    /// `kept` categories take slots `0..kept.len()`, `rare` ones the unknown
    /// slot `kept.len()`.
    pub(crate) fn new(kept: &[String], rare: &[String]) -> Self {
        let unknown = kept.len() as u32;
        let entries = kept
            .iter()
            .enumerate()
            .map(|(i, s)| (s.as_str(), i as u32))
            .chain(rare.iter().map(|s| (s.as_str(), unknown)));
        if kept.len() + rare.len() <= LINEAR_SCAN_MAX {
            Lookup::Small(
                entries
                    .map(|(s, slot)| SmallEntry {
                        len: s.len(),
                        prefix: prefix(s.as_bytes()),
                        slot,
                        text: s.into(),
                    })
                    .collect(),
            )
        } else {
            Lookup::Hashed(entries.map(|(s, slot)| (s.into(), slot)).collect())
        }
    }

    /// The slot of a category, `None` when it was never seen in training.
    #[inline]
    pub(crate) fn get(&self, category: &str) -> Option<u32> {
        match self {
            Lookup::Small(entries) => {
                let bytes = category.as_bytes();
                let (len, p) = (bytes.len(), prefix(bytes));
                entries
                    .iter()
                    .find(|e| {
                        e.len == len
                            && e.prefix == p
                            && (len <= 8 || same_tail(e.text.as_bytes(), bytes))
                    })
                    .map(|e| e.slot)
            }
            Lookup::Hashed(map) => map.get(category).copied(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn col(values: &[&str]) -> CategoricalColumn {
        CategoricalColumn::from_options(values.iter().map(|s| Some(*s)))
    }

    #[test]
    fn categories_are_sorted_by_string() {
        let (kept, rare) = choose_categories(&col(&["b", "c", "a", "b"]), None, None);
        assert_eq!(kept, ["a", "b", "c"]);
        assert!(rare.is_empty());
    }

    #[test]
    fn top_k_keeps_most_frequent_with_ties_by_string() {
        let c = col(&["z", "z", "z", "y", "y", "x", "x", "w"]);
        let (kept, rare) = choose_categories(&c, Some(2), None);
        // x and y tie on 2: x wins by string.
        assert_eq!(kept, ["x", "z"]);
        assert_eq!(rare, ["w", "y"]);
        let (kept, rare) = choose_categories(&c, None, Some(2));
        assert_eq!(kept, ["x", "y", "z"]);
        assert_eq!(rare, ["w"]);
    }

    #[test]
    fn lookup_small_and_hashed_agree() {
        let kept: Vec<String> = (0..40).map(|i| format!("c{i:02}")).collect();
        let rare = vec!["r".to_owned()];
        let hashed = Lookup::new(&kept, &rare);
        assert!(matches!(hashed, Lookup::Hashed(_)));
        let small = Lookup::new(&kept[..3], &rare);
        assert!(matches!(small, Lookup::Small(_)));
        assert_eq!(hashed.get("c07"), Some(7));
        assert_eq!(hashed.get("r"), Some(40));
        assert_eq!(hashed.get("nope"), None);
        assert_eq!(small.get("c02"), Some(2));
        assert_eq!(small.get("r"), Some(3));
        assert_eq!(small.get("c07"), None);
        // Long strings that share the 8-byte prefix and the length.
        let long = vec![
            "abcdefgh-1".to_owned(),
            "abcdefgh-2".to_owned(),
            "abcdefgh".to_owned(),
        ];
        let l = Lookup::new(&long, &[]);
        assert_eq!(l.get("abcdefgh-2"), Some(1));
        assert_eq!(l.get("abcdefgh"), Some(2));
        assert_eq!(l.get("abcdefgh-3"), None);
        assert_eq!(l.get("abcdefg"), None);
        assert_eq!(l.get(""), None);
    }
}
