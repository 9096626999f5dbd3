//! Secondary indexes over run summaries, kept in key space `i`.
//!
//! Each index entry is a key with an empty value; the run id is always the
//! last 32 bytes of the key:
//!
//! ```text
//! E ‖ esc(experiment name) ‖ run_id          runs of an experiment
//! S ‖ esc(STATUS) ‖ run_id                   runs by status
//! T ‖ i64 start_time ‖ run_id                runs by start time
//! N ‖ esc(run_name) ‖ run_id                 runs by name
//! P ‖ esc(key) ‖ esc(value) ‖ run_id         param values
//! G ‖ esc(key) ‖ esc(value) ‖ run_id         tag values
//! M ‖ esc(key) ‖ f64 latest value ‖ run_id   latest metric values, in numeric order
//! C ‖ parent run_id ‖ run_id                 children of a run
//! ```
//!
//! Numbers use the order-preserving encodings of [`super::keys`], so a
//! comparison on a metric or on the start time is one range scan. The set of
//! index keys of a run is a pure function of its summary ([`keys_for`]);
//! every write computes the new set and applies the difference in the same
//! atomic batch as the summary, so indexes and summaries never disagree
//! after a crash.

use std::collections::BTreeSet;
use std::ops::Bound;

use super::keys::{self, RUN_ID_LEN, push_f64, push_i64, push_str};
use super::record::RunSummary;
use crate::error::Result;
use crate::store::{Store, WriteBatch};

pub(crate) const EXPERIMENT: u8 = b'E';
pub(crate) const STATUS: u8 = b'S';
pub(crate) const START: u8 = b'T';
pub(crate) const NAME: u8 = b'N';
pub(crate) const PARAM: u8 = b'P';
pub(crate) const TAG: u8 = b'G';
pub(crate) const METRIC: u8 = b'M';
pub(crate) const CHILD: u8 = b'C';

/// Prefix of entries of one kind for one string (experiment, status, name).
pub(crate) fn str_prefix(kind: u8, s: &str) -> Vec<u8> {
    let mut k = vec![kind];
    push_str(&mut k, s);
    k
}

/// Prefix of entries of a param or tag with a given value.
pub(crate) fn kv_prefix(kind: u8, key: &str, value: &str) -> Vec<u8> {
    let mut k = str_prefix(kind, key);
    push_str(&mut k, value);
    k
}

/// Children index prefix of a parent.
pub(crate) fn child_prefix(parent: &str) -> Vec<u8> {
    let mut k = vec![CHILD];
    k.extend_from_slice(parent.as_bytes());
    k
}

/// The index keys of a run.
pub(crate) fn keys_for(s: &RunSummary) -> BTreeSet<Vec<u8>> {
    let id = s.run_id.as_bytes();
    let with_id = |mut k: Vec<u8>| {
        k.extend_from_slice(id);
        k
    };
    let mut out = BTreeSet::new();
    out.insert(with_id(str_prefix(EXPERIMENT, &s.experiment)));
    out.insert(with_id(str_prefix(STATUS, s.status.as_str())));
    out.insert(with_id(str_prefix(NAME, &s.run_name)));
    let mut t = vec![START];
    push_i64(&mut t, s.start_time);
    out.insert(with_id(t));
    for (k, v) in &s.params {
        out.insert(with_id(kv_prefix(PARAM, k, v)));
    }
    for (k, v) in &s.tags {
        out.insert(with_id(kv_prefix(TAG, k, v)));
    }
    for (k, m) in &s.metrics {
        let mut key = str_prefix(METRIC, k);
        push_f64(&mut key, m.value);
        out.insert(with_id(key));
    }
    if let Some(p) = &s.parent {
        out.insert(with_id(child_prefix(p)));
    }
    out
}

/// Adds to `batch` the index writes that turn `old` into `new`.
pub(crate) fn diff(old: &BTreeSet<Vec<u8>>, new: &BTreeSet<Vec<u8>>, batch: &mut WriteBatch) {
    for k in old.difference(new) {
        batch.remove(keys::TREE, keys::INDEX.key(k));
    }
    for k in new.difference(old) {
        batch.insert(keys::TREE, keys::INDEX.key(k), Vec::new());
    }
}

fn id_of(key: &[u8]) -> Option<String> {
    let start = key.len().checked_sub(RUN_ID_LEN)?;
    std::str::from_utf8(&key[start..]).ok().map(str::to_owned)
}

/// Run ids of all index entries starting with `prefix`.
pub(crate) fn ids_with_prefix(store: &dyn Store, prefix: &[u8]) -> Result<Vec<String>> {
    Ok(ids_with_prefix_capped(store, prefix, usize::MAX)?.unwrap_or_default())
}

/// Like [`ids_with_prefix`], but `None` as soon as there are more than
/// `cap` entries.
pub(crate) fn ids_with_prefix_capped(
    store: &dyn Store,
    prefix: &[u8],
    cap: usize,
) -> Result<Option<Vec<String>>> {
    let mut out = Vec::new();
    for e in store.scan_prefix(keys::TREE, &keys::INDEX.key(prefix))? {
        let (k, _) = e?;
        if out.len() >= cap {
            return Ok(None);
        }
        out.extend(id_of(&k));
    }
    Ok(Some(out))
}

/// The smallest key greater than every key starting with `prefix`.
pub(crate) fn prefix_end(prefix: &[u8]) -> Vec<u8> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < 0xFF {
            end.push(last + 1);
            return end;
        }
    }
    vec![0xFF; RUN_ID_LEN + 16]
}

/// Run ids of entries `prefix ‖ number ‖ run_id` whose 8-byte number part
/// lies between the bounds (given already encoded); `None` as soon as there
/// are more than `cap`.
pub(crate) fn ids_in_range(
    store: &dyn Store,
    prefix: &[u8],
    low: Bound<[u8; 8]>,
    high: Bound<[u8; 8]>,
    cap: usize,
) -> Result<Option<Vec<String>>> {
    let with = |n: &[u8; 8], after: bool| {
        let mut k = prefix.to_vec();
        k.extend_from_slice(n);
        if after {
            // run ids are hex ASCII, below 0xFF
            k.push(0xFF);
        }
        k
    };
    let start = match low {
        Bound::Included(n) => with(&n, false),
        Bound::Excluded(n) => with(&n, true),
        Bound::Unbounded => prefix.to_vec(),
    };
    let end = match high {
        Bound::Included(n) => with(&n, true),
        Bound::Excluded(n) => with(&n, false),
        Bound::Unbounded => prefix_end(prefix),
    };
    let mut out = Vec::new();
    for e in store.scan_range(keys::TREE, &keys::INDEX.key(&start), &keys::INDEX.key(&end))? {
        let (k, _) = e?;
        if out.len() >= cap {
            return Ok(None);
        }
        out.extend(id_of(&k));
    }
    Ok(Some(out))
}

/// The 8-byte order-preserving encoding of an i64.
pub(crate) fn i64_bytes(v: i64) -> [u8; 8] {
    let mut o = Vec::with_capacity(8);
    push_i64(&mut o, v);
    let mut a = [0u8; 8];
    a.copy_from_slice(&o);
    a
}
