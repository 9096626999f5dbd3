//! Indexed search over run summaries.
//!
//! Plan: the filter's [`IndexHint`]s (conditions every match meets) and the
//! requested experiments are each turned into a set of candidate run ids by
//! index lookups, and the sets are intersected. Only the candidates'
//! summaries are read and decoded, and the whole filter is evaluated on
//! them, so the indexes only need to over-approximate.
//!
//! | condition | served by |
//! |---|---|
//! | `experiment` (query list or filter `=`, `IN`, `LIKE 'x%'`) | `E` index |
//! | `status`, `run_name` `=`, `IN`, `LIKE 'x%'` | `S`, `N` indexes |
//! | `params.X` / `tags.X` `=`, `IN`, `LIKE 'x%'`, `!=` or `IS NOT NULL` (has the key) | `P`, `G` indexes |
//! | `metrics.X` `< <= = >= >`, ranges, `!=` / `IS NOT NULL` (has the metric) | `M` index, one range scan |
//! | `start_time` ranges | `T` index |
//! | `run_id = '…'`, `IN` | direct lookup |
//! | `OR` of served branches | union of the branches |
//! | `end_time`, `ILIKE`, `LIKE '%x'`, `NOT LIKE`, `NOT IN`, `IS NULL` | not served: evaluated on candidates |
//!
//! Each hint is first served with a cap of 4,096 ids; the ones that stay
//! under it are intersected and the others left to the filter, so one huge
//! set (an experiment of 100,000 runs) is never read when a selective
//! condition exists. Only when every hint exceeds the cap are all sets read
//! in full.
//!
//! When nothing is served (no experiment given, no usable condition) every
//! summary is decoded: summaries are compact (no metric history), so this
//! full scan is the slow path, not a disaster.
//!
//! Ordered walk (tried first): when the first order-by key is a metric or
//! `start_time` (the default order), the search walks that key's index in
//! the requested direction, inside the range the filter allows for that
//! key, and stops as soon as it holds the page plus one match (and the rest
//! of the boundary value's ties). Before decoding a walked run it checks the
//! filter's `=` / `IN` conditions on params, tags, experiment, status and
//! name with one index key lookup each, so non-candidates are never
//! decoded. A top-100 query thus reads a few hundred index entries, however
//! many runs match. When the walk does not finish within a budget (the
//! filter matches few runs) or runs without the metric could still belong
//! on the page (they sort last), the search falls back to the plan above.
//!
//! Results are sorted by the order-by keys (default `start_time DESC`),
//! ties broken by run id, and cut into pages. The page token is opaque: the
//! offset of the next page and a fingerprint of the query, so a token is
//! rejected when used with another filter, order or experiment list.

use std::ops::Bound;

use super::Tracker;
use super::index::{self, EXPERIMENT, METRIC, NAME, PARAM, STATUS, TAG};
use super::keys::{self, RUN_ID_LEN, push_str};
use super::record::RunSummary;
use crate::error::{Error, Result};
use crate::filter::{
    AttrValue, Attribute, FieldRef, Filter, IndexHint, NumRange, OrderBy, OrderKey, Searchable,
};
use crate::store::{Store, codec};

/// Default page size.
pub const DEFAULT_SEARCH_LIMIT: usize = 100;
/// Largest accepted page size.
pub const MAX_SEARCH_LIMIT: usize = 50_000;

/// A search request; build it with the chained setters.
///
/// ```
/// use mlops_core::tracking::SearchQuery;
/// let q = SearchQuery::new()
///     .experiment("churn")
///     .filter("metrics.auc > 0.8 AND params.model IN ('rf', 'gbm')")
///     .order_by("metrics.auc DESC")
///     .limit(10);
/// assert_eq!(q.limit, 10);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchQuery {
    /// Experiment names to search; empty means every experiment.
    pub experiments: Vec<String>,
    /// Filter text (see [`crate::filter`]); `None` matches every run.
    pub filter: Option<String>,
    /// Order-by clauses, most significant first; each may hold several
    /// comma-separated keys (`metrics.auc DESC, start_time`). Empty means
    /// `start_time DESC`. Ties are broken by run id.
    pub order_by: Vec<String>,
    /// Runs per page, 1 to [`MAX_SEARCH_LIMIT`].
    pub limit: usize,
    /// The `next_page_token` of the previous page.
    pub page_token: Option<String>,
}

impl Default for SearchQuery {
    fn default() -> Self {
        Self {
            experiments: Vec::new(),
            filter: None,
            order_by: Vec::new(),
            limit: DEFAULT_SEARCH_LIMIT,
            page_token: None,
        }
    }
}

impl SearchQuery {
    /// All runs, newest first, [`DEFAULT_SEARCH_LIMIT`] per page.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds an experiment to search in.
    pub fn experiment(mut self, name: impl Into<String>) -> Self {
        self.experiments.push(name.into());
        self
    }

    /// Sets the filter.
    pub fn filter(mut self, filter: impl Into<String>) -> Self {
        self.filter = Some(filter.into());
        self
    }

    /// Appends order-by keys.
    pub fn order_by(mut self, keys: impl Into<String>) -> Self {
        self.order_by.push(keys.into());
        self
    }

    /// Sets the page size.
    pub fn limit(mut self, limit: usize) -> Self {
        self.limit = limit;
        self
    }

    /// Continues from a previous page.
    pub fn page_token(mut self, token: impl Into<String>) -> Self {
        self.page_token = Some(token.into());
        self
    }
}

/// One page of search results.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchPage {
    /// Matching runs, in order.
    pub runs: Vec<RunSummary>,
    /// Pass to [`SearchQuery::page_token`] for the next page; `None` on the
    /// last page.
    pub next_page_token: Option<String>,
    /// How many run summaries the search decoded: the candidates the
    /// indexes left, or every run when no index applied. For diagnosing
    /// slow filters.
    pub decoded: usize,
}

impl Searchable for RunSummary {
    fn metric(&self, key: &str) -> Option<f64> {
        self.metrics.get(key).map(|m| m.value)
    }

    fn param(&self, key: &str) -> Option<&str> {
        self.params.get(key).map(String::as_str)
    }

    fn tag(&self, key: &str) -> Option<&str> {
        self.tags.get(key).map(String::as_str)
    }

    fn attribute(&self, attr: Attribute) -> Option<AttrValue<'_>> {
        Some(match attr {
            Attribute::Status => AttrValue::Text(self.status.as_str()),
            Attribute::StartTime => AttrValue::Time(self.start_time),
            Attribute::EndTime => AttrValue::Time(self.end_time?),
            Attribute::RunName => AttrValue::Text(&self.run_name),
            Attribute::Experiment => AttrValue::Text(&self.experiment),
            Attribute::RunId => AttrValue::Text(&self.run_id),
        })
    }
}

/// A candidate set this small is decoded as it is rather than narrowed
/// further by range scans.
const FEW_CANDIDATES: usize = 4096;

/// Sorted, deduplicated run ids.
type IdSet = Vec<String>;

fn normalize(mut ids: Vec<String>) -> IdSet {
    ids.sort_unstable();
    ids.dedup();
    ids
}

fn intersect(a: &IdSet, b: &IdSet) -> IdSet {
    let (small, large) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    small
        .iter()
        .filter(|id| large.binary_search(id).is_ok())
        .cloned()
        .collect()
}

fn intersect_all(sets: Vec<IdSet>) -> Option<IdSet> {
    let mut sets = sets;
    sets.sort_by_key(Vec::len);
    let mut iter = sets.into_iter();
    let first = iter.next()?;
    Some(iter.fold(first, |acc, s| intersect(&acc, &s)))
}

/// The index kind and key of a text field, if it has an index.
fn text_index(field: &FieldRef) -> Option<(u8, Option<&str>)> {
    match field {
        FieldRef::Param(k) => Some((PARAM, Some(k))),
        FieldRef::Tag(k) => Some((TAG, Some(k))),
        FieldRef::Attribute(Attribute::Experiment) => Some((EXPERIMENT, None)),
        FieldRef::Attribute(Attribute::Status) => Some((STATUS, None)),
        FieldRef::Attribute(Attribute::RunName) => Some((NAME, None)),
        _ => None,
    }
}

/// The prefix under which a text field's values are indexed.
fn text_prefix(kind: u8, key: Option<&str>) -> Vec<u8> {
    let mut p = vec![kind];
    if let Some(k) = key {
        push_str(&mut p, k);
    }
    p
}

/// Conservative i64 bounds for a time range given as f64 bounds.
fn time_bounds(range: &NumRange) -> (Bound<[u8; 8]>, Bound<[u8; 8]>) {
    let enc = index::i64_bytes;
    // Widen to whole milliseconds; the filter re-checks the exact bound.
    let lower = match range.lower {
        Bound::Included(l) | Bound::Excluded(l) => Bound::Included(enc(l.floor() as i64)),
        Bound::Unbounded => Bound::Unbounded,
    };
    let upper = match range.upper {
        Bound::Included(u) | Bound::Excluded(u) => Bound::Included(enc(u.ceil() as i64)),
        Bound::Unbounded => Bound::Unbounded,
    };
    (lower, upper)
}

/// Candidate ids for one hint, or `None` when no index serves it or it
/// would give more than `cap` ids.
fn serve(store: &dyn Store, hint: &IndexHint, cap: usize) -> Result<Option<IdSet>> {
    let ids = match hint {
        IndexHint::OneOf {
            field: FieldRef::Attribute(Attribute::RunId),
            values,
        } => values.clone(),
        IndexHint::OneOf { field, values } => {
            let Some((kind, key)) = text_index(field) else {
                return Ok(None);
            };
            let mut ids = Vec::new();
            for v in values {
                let mut p = text_prefix(kind, key);
                push_str(&mut p, v);
                let left = cap.saturating_sub(ids.len());
                let Some(found) = index::ids_with_prefix_capped(store, &p, left)? else {
                    return Ok(None);
                };
                ids.extend(found);
            }
            ids
        }
        IndexHint::Prefix { field, prefix } => {
            let Some((kind, key)) = text_index(field) else {
                return Ok(None);
            };
            let mut p = text_prefix(kind, key);
            // The escape is per byte, so the escaped prefix (without its
            // terminator) prefixes every escaped value that starts with it.
            push_str(&mut p, prefix);
            p.truncate(p.len() - 2);
            let Some(ids) = index::ids_with_prefix_capped(store, &p, cap)? else {
                return Ok(None);
            };
            ids
        }
        IndexHint::Range {
            field: FieldRef::Metric(k),
            range,
        } => {
            let (lo, hi) = range.key_bounds();
            let found = index::ids_in_range(store, &index::str_prefix(METRIC, k), lo, hi, cap)?;
            let Some(ids) = found else {
                return Ok(None);
            };
            ids
        }
        IndexHint::Range {
            field: FieldRef::Attribute(Attribute::StartTime),
            range,
        } => {
            let (lo, hi) = time_bounds(range);
            let Some(ids) = index::ids_in_range(store, &[index::START], lo, hi, cap)? else {
                return Ok(None);
            };
            ids
        }
        IndexHint::Range { .. } => return Ok(None),
        IndexHint::Present { field } => {
            let prefix = match field {
                FieldRef::Metric(k) => index::str_prefix(METRIC, k),
                FieldRef::Param(k) => index::str_prefix(PARAM, k),
                FieldRef::Tag(k) => index::str_prefix(TAG, k),
                FieldRef::Attribute(_) => return Ok(None),
            };
            let Some(ids) = index::ids_with_prefix_capped(store, &prefix, cap)? else {
                return Ok(None);
            };
            ids
        }
        IndexHint::AnyOf(alternatives) => {
            let mut union = Vec::new();
            for alt in alternatives {
                let mut sets = Vec::new();
                for h in alt {
                    if let Some(s) = serve(store, h, usize::MAX)? {
                        sets.push(s);
                    }
                }
                match intersect_all(sets) {
                    Some(s) if union.len() + s.len() > cap => return Ok(None),
                    Some(s) => union.extend(s),
                    // An alternative without any served hint could match
                    // anything: the union constrains nothing.
                    None => return Ok(None),
                }
            }
            union
        }
    };
    Ok(Some(normalize(ids)))
}

/// The order-by keys of a query (default `start_time DESC`).
fn parse_order(query: &SearchQuery) -> Result<Vec<OrderKey>> {
    let mut keys = Vec::new();
    for text in &query.order_by {
        keys.extend(OrderBy::parse(text)?.keys().iter().cloned());
    }
    if keys.is_empty() {
        keys.push(OrderKey {
            field: FieldRef::Attribute(Attribute::StartTime),
            descending: true,
        });
    }
    Ok(keys)
}

/// A fingerprint of everything that defines the result list.
fn fingerprint(experiments: &[String], filter: &Filter, order: &[OrderKey]) -> u64 {
    let mut h = blake3::Hasher::new();
    h.update(b"mlops.search.v1");
    for e in experiments {
        h.update(&(e.len() as u64).to_le_bytes());
        h.update(e.as_bytes());
    }
    h.update(b"\0filter\0");
    h.update(filter.to_string().as_bytes());
    h.update(b"\0order\0");
    for k in order {
        h.update(k.to_string().as_bytes());
        h.update(b",");
    }
    let mut first = [0u8; 8];
    first.copy_from_slice(&h.finalize().as_bytes()[..8]);
    u64::from_le_bytes(first)
}

/// The index an ordered walk follows: key prefix, the range allowed by the
/// filter (already encoded), whether every match has a value in it.
struct Walk {
    prefix: Vec<u8>,
    low: Bound<[u8; 8]>,
    high: Bound<[u8; 8]>,
    descending: bool,
    /// Every run that can match has the key (so runs missing it, which
    /// sort last, need no second look).
    complete: bool,
}

/// Plans an ordered walk for the first order key, if it has an index.
fn plan_walk(order: &[OrderKey], hints: &[IndexHint]) -> Option<Walk> {
    let first = order.first()?;
    match &first.field {
        FieldRef::Metric(k) => {
            let mut range = NumRange::ALL;
            let mut complete = false;
            for h in hints {
                match h {
                    IndexHint::Range {
                        field: FieldRef::Metric(hk),
                        range: r,
                    } if hk == k => {
                        range = range.intersect(r);
                        complete = true;
                    }
                    IndexHint::Present {
                        field: FieldRef::Metric(hk),
                    } if hk == k => complete = true,
                    _ => {}
                }
            }
            let (low, high) = range.key_bounds();
            Some(Walk {
                prefix: index::str_prefix(METRIC, k),
                low,
                high,
                descending: first.descending,
                complete,
            })
        }
        FieldRef::Attribute(Attribute::StartTime) => {
            let mut range = NumRange::ALL;
            for h in hints {
                if let IndexHint::Range {
                    field: FieldRef::Attribute(Attribute::StartTime),
                    range: r,
                } = h
                {
                    range = range.intersect(r);
                }
            }
            let (low, high) = time_bounds(&range);
            Some(Walk {
                prefix: vec![index::START],
                low,
                high,
                descending: first.descending,
                complete: true,
            })
        }
        _ => None,
    }
}

/// Index key prefixes (one per accepted value) of a hint that a walked run
/// can be checked against with point lookups: `=` / `IN` on an indexed
/// text field. A run passes when one of `prefix ‖ run_id` exists.
fn membership_prefixes(hint: &IndexHint) -> Option<Vec<Vec<u8>>> {
    let IndexHint::OneOf { field, values } = hint else {
        return None;
    };
    let (kind, key) = text_index(field)?;
    Some(
        values
            .iter()
            .map(|v| {
                let mut p = text_prefix(kind, key);
                push_str(&mut p, v);
                keys::INDEX.key(&p)
            })
            .collect(),
    )
}

/// Most index entries an ordered walk reads for a page ending at `needed`
/// before it gives up for the set-based plan.
fn walk_budget(needed: usize) -> usize {
    needed.saturating_mul(8).saturating_add(1024)
}

/// Runs the ordered walk; `None` when it cannot answer exactly (budget
/// spent, or runs missing the key might belong on the page).
fn ordered_walk(
    store: &dyn Store,
    walk: &Walk,
    filter: &Filter,
    order: &[OrderKey],
    hints: &[IndexHint],
    needed: usize,
) -> Result<Option<(Vec<RunSummary>, usize)>> {
    let checks: Vec<Vec<Vec<u8>>> = hints.iter().filter_map(membership_prefixes).collect();
    let with = |n: &[u8; 8], after: bool| {
        let mut k = keys::INDEX.key(&walk.prefix);
        k.extend_from_slice(n);
        if after {
            // run ids are hex ASCII, below 0xFF
            k.push(0xFF);
        }
        k
    };
    let start = match walk.low {
        Bound::Included(n) => with(&n, false),
        Bound::Excluded(n) => with(&n, true),
        Bound::Unbounded => keys::INDEX.key(&walk.prefix),
    };
    let end = match walk.high {
        Bound::Included(n) => with(&n, true),
        Bound::Excluded(n) => with(&n, false),
        Bound::Unbounded => keys::INDEX.key(&index::prefix_end(&walk.prefix)),
    };
    let entries = if walk.descending {
        store.scan_range_rev(keys::TREE, &start, &end)?
    } else {
        store.scan_range(keys::TREE, &start, &end)?
    };
    let value_at = keys::INDEX.key(&walk.prefix).len();
    let budget = walk_budget(needed);
    let mut runs: Vec<RunSummary> = Vec::new();
    let mut boundary: Option<[u8; 8]> = None;
    let (mut walked, mut decoded) = (0usize, 0usize);
    let mut id_key = keys::RUNS.key(&[0u8; RUN_ID_LEN]);
    let mut probe = Vec::new();
    for entry in entries {
        let (k, _) = entry?;
        let (Some(value), Some(id)) = (
            k.get(value_at..value_at + 8),
            k.get(value_at + 8..).filter(|id| id.len() == RUN_ID_LEN),
        ) else {
            continue;
        };
        if let Some(b) = boundary
            && b != value
        {
            // The page and the boundary value's ties are complete.
            return finish_walk(runs, order, decoded).map(Some);
        }
        walked += 1;
        if walked > budget && boundary.is_none() {
            return Ok(None);
        }
        let mut pass = true;
        for alternatives in &checks {
            let mut any = false;
            for p in alternatives {
                probe.clear();
                probe.extend_from_slice(p);
                probe.extend_from_slice(id);
                if store.get(keys::TREE, &probe)?.is_some() {
                    any = true;
                    break;
                }
            }
            if !any {
                pass = false;
                break;
            }
        }
        if !pass {
            continue;
        }
        id_key.truncate(1);
        id_key.extend_from_slice(id);
        let Some(bytes) = store.get(keys::TREE, &id_key)? else {
            continue;
        };
        decoded += 1;
        let what = || format!("run {} summary", String::from_utf8_lossy(id));
        let s: RunSummary = codec::decode(&bytes, &what())?;
        if filter.matches(&s) {
            runs.push(s);
            if runs.len() >= needed && boundary.is_none() {
                let mut b = [0u8; 8];
                b.copy_from_slice(value);
                boundary = Some(b);
            }
        }
    }
    // The walk reached the end of the index.
    if boundary.is_some() || walk.complete {
        return finish_walk(runs, order, decoded).map(Some);
    }
    Ok(None)
}

fn finish_walk(
    mut runs: Vec<RunSummary>,
    order: &[OrderKey],
    decoded: usize,
) -> Result<(Vec<RunSummary>, usize)> {
    runs.sort_by(|a, b| {
        crate::filter::order_cmp(a, b, order).then_with(|| a.run_id.cmp(&b.run_id))
    });
    Ok((runs, decoded))
}

fn encode_token(offset: usize, fp: u64) -> String {
    format!("p1.{offset:x}.{fp:016x}")
}

fn decode_token(token: &str, fp: u64) -> Result<usize> {
    let bad = |reason: &str| Error::InvalidPageToken {
        token: token.chars().take(80).collect(),
        reason: reason.to_owned(),
    };
    let mut parts = token.split('.');
    let (Some("p1"), Some(off), Some(f), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(bad("not a token from this version of mlops search"));
    };
    let offset = usize::from_str_radix(off, 16).map_err(|_| bad("malformed offset"))?;
    let got = u64::from_str_radix(f, 16).map_err(|_| bad("malformed fingerprint"))?;
    if f.len() != 16 {
        return Err(bad("malformed fingerprint"));
    }
    if got != fp {
        return Err(bad(
            "the token belongs to a different query (experiments, filter or order-by changed)",
        ));
    }
    Ok(offset)
}

impl Tracker {
    /// Searches runs; see [`SearchQuery`] and the module-level plan.
    ///
    /// # Errors
    /// [`Error::InvalidFilter`] / [`Error::InvalidOrderBy`] with the column
    /// of the offending token, [`Error::ExperimentNotFound`],
    /// [`Error::InvalidPageToken`], [`Error::InvalidParameter`] for a limit
    /// out of range, and [`Error::Corrupt`] if a candidate summary is
    /// unreadable.
    pub fn search(&self, query: &SearchQuery) -> Result<SearchPage> {
        if query.limit == 0 || query.limit > MAX_SEARCH_LIMIT {
            return Err(Error::InvalidParameter {
                name: "limit",
                reason: format!("{} is outside 1..={MAX_SEARCH_LIMIT}", query.limit),
            });
        }
        let filter = match &query.filter {
            Some(text) => Filter::parse(text)?,
            None => Filter::all(),
        };
        let order = parse_order(query)?;
        let mut experiments = query.experiments.clone();
        experiments.sort();
        experiments.dedup();
        let fp = fingerprint(&experiments, &filter, &order);
        let offset = match &query.page_token {
            Some(t) => decode_token(t, fp)?,
            None => 0,
        };
        let store = self.store.as_ref();
        for name in &experiments {
            if self.get_experiment(name)?.is_none() {
                return Err(Error::ExperimentNotFound { name: name.clone() });
            }
        }

        let mut hints = filter.index_hints();
        if !experiments.is_empty() {
            hints.push(IndexHint::OneOf {
                field: FieldRef::Attribute(Attribute::Experiment),
                values: experiments.clone(),
            });
        }
        // `+ 1`: one match past the page tells whether a next page exists.
        let needed = offset.saturating_add(query.limit).saturating_add(1);
        if let Some(walk) = plan_walk(&order, &hints)
            && let Some((mut runs, decoded)) =
                ordered_walk(store, &walk, &filter, &order, &hints, needed)?
        {
            tracing::debug!(filter = %filter, decoded, matched = runs.len(), "run search: ordered walk");
            let total = runs.len();
            let end = offset.saturating_add(query.limit).min(total);
            let page: Vec<RunSummary> = if offset < total {
                runs.drain(offset..end).collect()
            } else {
                Vec::new()
            };
            return Ok(SearchPage {
                runs: page,
                next_page_token: (end < total).then(|| encode_token(end, fp)),
                decoded,
            });
        }

        // First every hint with a cap: the selective ones finish their scan
        // and alone narrow the candidates enough (the full filter re-checks
        // the rest). Only when none is selective are the sets read in full.
        let mut sets = Vec::new();
        for h in &hints {
            if let Some(s) = serve(store, h, FEW_CANDIDATES)? {
                sets.push(s);
            }
        }
        if sets.is_empty() {
            for h in &hints {
                if let Some(s) = serve(store, h, usize::MAX)? {
                    sets.push(s);
                }
            }
        }
        let served = sets.len();
        let mut runs = Vec::new();
        let mut decoded = 0usize;
        match intersect_all(sets) {
            Some(ids) => {
                for id in &ids {
                    // `run_id = '…'` hints may name runs that do not exist.
                    let Some(bytes) = store.get(keys::TREE, &keys::RUNS.key(id.as_bytes()))? else {
                        continue;
                    };
                    decoded += 1;
                    let s: RunSummary = codec::decode(&bytes, &format!("run {id} summary"))?;
                    if filter.matches(&s) {
                        runs.push(s);
                    }
                }
            }
            None => {
                for entry in store.scan_prefix(keys::TREE, &keys::RUNS.key(b""))? {
                    let (k, v) = entry?;
                    decoded += 1;
                    let s: RunSummary = codec::decode(
                        &v,
                        &format!(
                            "run {} summary",
                            String::from_utf8_lossy(k.get(1..).unwrap_or_default())
                        ),
                    )?;
                    if filter.matches(&s) {
                        runs.push(s);
                    }
                }
            }
        }
        runs.sort_by(|a, b| {
            crate::filter::order_cmp(a, b, &order).then_with(|| a.run_id.cmp(&b.run_id))
        });
        tracing::debug!(
            filter = %filter,
            hints_served = served,
            decoded,
            matched = runs.len(),
            "run search"
        );
        let total = runs.len();
        let end = offset.saturating_add(query.limit).min(total);
        let page: Vec<RunSummary> = if offset < total {
            runs.drain(offset..end).collect()
        } else {
            Vec::new()
        };
        Ok(SearchPage {
            runs: page,
            next_page_token: (end < total).then(|| encode_token(end, fp)),
            decoded,
        })
    }
}
