//! Comparing two samples of one column, and two Frames column by column.

use std::collections::BTreeMap;

use rayon::prelude::*;

use super::binning::{histogram, sturges_edges};
use super::chisquare::chisquare_counts;
use super::correction::adjust;
use super::distance::{hellinger, jensen_shannon, kl_divergence, wasserstein_normed_sorted};
use super::ks::ks_2samp_sorted;
use super::options::DriftOptions;
use super::psi::{fill_zeroes, psi};
use super::report::{ColumnDrift, DriftReport};
use super::select::{ColumnKind, Method, auto_method};
use super::ztest::ztest_counts;
use crate::data::{Column, Frame};
use crate::{Error, Result};

/// The non-missing values of one column on one side.
#[derive(Debug, Clone, PartialEq)]
pub enum Sample {
    /// Finite values sorted ascending (missing and infinite values removed).
    Numeric(Vec<f64>),
    /// Count per category label (missing removed).
    Categorical(BTreeMap<String, u64>),
}

impl Sample {
    /// Builds a numeric sample: drops NaN and infinities (Evidently turns
    /// infinities into missing values) and sorts.
    pub fn numeric(values: impl IntoIterator<Item = f64>) -> Self {
        let mut v: Vec<f64> = values.into_iter().filter(|x| x.is_finite()).collect();
        // Values equal under `total_cmp` are bit-identical, so an unstable
        // sort gives the same vector as a stable one.
        v.sort_unstable_by(f64::total_cmp);
        Sample::Numeric(v)
    }

    /// Builds a categorical sample from labels (`None` = missing, dropped).
    pub fn categorical<'a>(labels: impl IntoIterator<Item = Option<&'a str>>) -> Self {
        let mut m = BTreeMap::new();
        for l in labels.into_iter().flatten() {
            *m.entry(l.to_owned()).or_insert(0u64) += 1;
        }
        Sample::Categorical(m)
    }

    /// Number of values.
    pub fn len(&self) -> usize {
        match self {
            Sample::Numeric(v) => v.len(),
            Sample::Categorical(m) => m.values().sum::<u64>() as usize,
        }
    }

    /// True when there is no value.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn distinct(&self) -> usize {
        match self {
            Sample::Numeric(v) => {
                v.windows(2).filter(|w| w[0] != w[1]).count() + usize::from(!v.is_empty())
            }
            Sample::Categorical(m) => m.values().filter(|&&c| c > 0).count(),
        }
    }
}

/// Runs of equal values of a sorted sample, in one linear pass: `(value,
/// count)` ascending. -0.0 and 0.0 are one value (as in pandas
/// `value_counts`); they are adjacent in `total_cmp` order, so `==` joins
/// them and the run is keyed 0.0.
fn runs(sorted: &[f64]) -> Vec<(f64, u64)> {
    let mut out: Vec<(f64, u64)> = Vec::new();
    for &x in sorted {
        match out.last_mut() {
            Some((v, n)) if *v == x => *n += 1,
            _ => out.push((if x == 0.0 { 0.0 } else { x }, 1)),
        }
    }
    out
}

/// Merges two ascending `(key, count)` sequences into counts aligned over
/// the union of their keys.
fn merge_aligned<K>(
    a: impl IntoIterator<Item = (K, u64)>,
    b: impl IntoIterator<Item = (K, u64)>,
    cmp: impl Fn(&K, &K) -> std::cmp::Ordering,
) -> (Vec<u64>, Vec<u64>) {
    use std::cmp::Ordering;
    let (mut a, mut b) = (a.into_iter().peekable(), b.into_iter().peekable());
    let (mut ra, mut rb) = (Vec::new(), Vec::new());
    loop {
        let order = match (a.peek(), b.peek()) {
            (Some(x), Some(y)) => cmp(&x.0, &y.0),
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (None, None) => break,
        };
        let (x, y) = match order {
            Ordering::Less => (a.next().map_or(0, |p| p.1), 0),
            Ordering::Greater => (0, b.next().map_or(0, |p| p.1)),
            Ordering::Equal => (a.next().map_or(0, |p| p.1), b.next().map_or(0, |p| p.1)),
        };
        ra.push(x);
        rb.push(y);
    }
    (ra, rb)
}

/// Aligned counts over the union of non-missing values of both sides, in
/// ascending order of value (numbers before labels when the sides differ).
fn aligned_counts(reference: &Sample, current: &Sample) -> (Vec<u64>, Vec<u64>) {
    let num = |x: &f64, y: &f64| x.total_cmp(y);
    let text = |x: &&String, y: &&String| x.cmp(y);
    fn labels(m: &BTreeMap<String, u64>) -> impl Iterator<Item = (&String, u64)> {
        m.iter().map(|(k, &n)| (k, n))
    }
    match (reference, current) {
        (Sample::Numeric(r), Sample::Numeric(c)) => merge_aligned(runs(r), runs(c), num),
        (Sample::Categorical(r), Sample::Categorical(c)) => {
            merge_aligned(labels(r), labels(c), text)
        }
        // Mixed sides share no value: every number sorts before every label.
        (Sample::Numeric(r), Sample::Categorical(c)) => {
            let (mut rv, mut cv) = merge_aligned(runs(r), [], num);
            let (rt, ct) = merge_aligned([], labels(c), text);
            rv.extend(rt);
            cv.extend(ct);
            (rv, cv)
        }
        (Sample::Categorical(_), Sample::Numeric(_)) => {
            let (cv, rv) = aligned_counts(current, reference);
            (rv, cv)
        }
    }
}

fn distinct_union(reference: &Sample, current: &Sample) -> usize {
    let (Sample::Numeric(r), Sample::Numeric(c)) = (reference, current) else {
        return aligned_counts(reference, current).0.len();
    };
    // Sorted merge without building the counts.
    let (mut i, mut j, mut n) = (0usize, 0usize, 0usize);
    while let Some(v) = match (r.get(i), c.get(j)) {
        (Some(&a), Some(&b)) => Some(a.min(b)),
        (a, b) => a.or(b).copied(),
    } {
        while r.get(i) == Some(&v) {
            i += 1;
        }
        while c.get(j) == Some(&v) {
            j += 1;
        }
        n += 1;
    }
    n
}

/// Evidently's `get_binned_data`: shares per Sturges bin (numeric with more
/// than 20 distinct reference values) or per category.
fn binned_shares(kind: ColumnKind, reference: &Sample, current: &Sample) -> (Vec<f64>, Vec<f64>) {
    let (nr, nc) = (reference.len() as f64, current.len() as f64);
    if let (ColumnKind::Numerical, Sample::Numeric(r), Sample::Numeric(c)) =
        (kind, reference, current)
        && reference.distinct() > 20
        && let (Some(r0), Some(rl), Some(c0), Some(cl)) = (r.first(), r.last(), c.first(), c.last())
    {
        let edges = sturges_edges(r0.min(*c0), rl.max(*cl), r.len() + c.len());
        let rs = histogram(r, &edges)
            .iter()
            .map(|&x| x as f64 / nr)
            .collect();
        let cs = histogram(c, &edges)
            .iter()
            .map(|&x| x as f64 / nc)
            .collect();
        return (rs, cs);
    }
    let (r, c) = aligned_counts(reference, current);
    (
        r.iter().map(|&x| x as f64 / nr).collect(),
        c.iter().map(|&x| x as f64 / nc).collect(),
    )
}

/// Runs one test on two non-empty samples of one column.
///
/// Errors when the method needs numbers and a side is categorical.
pub fn test_samples(
    kind: ColumnKind,
    method: Method,
    threshold: f64,
    reference: &Sample,
    current: &Sample,
) -> Result<ColumnDrift> {
    if reference.is_empty() || current.is_empty() {
        return Err(Error::InvalidParameter {
            name: "sample",
            reason: "a drift test needs values on both sides".into(),
        });
    }
    let (statistic, p_value) = match method {
        Method::Ks | Method::Wasserstein => {
            let (Sample::Numeric(r), Sample::Numeric(c)) = (reference, current) else {
                return Err(Error::InvalidParameter {
                    name: "method",
                    reason: format!("{method} needs a numeric column"),
                });
            };
            if method == Method::Ks {
                let o = ks_2samp_sorted(r, c);
                (o.statistic, Some(o.p_value))
            } else {
                (wasserstein_normed_sorted(r, c), None)
            }
        }
        Method::ChiSquare => {
            let (r, c) = aligned_counts(reference, current);
            let (s, p) = chisquare_counts(&r, &c);
            (s, Some(p))
        }
        Method::ZTest => {
            let (r, c) = aligned_counts(reference, current);
            let (z, p) = ztest_counts(&r, &c);
            (z, Some(p))
        }
        Method::JensenShannon | Method::Hellinger => {
            let (r, c) = binned_shares(kind, reference, current);
            if method == Method::JensenShannon {
                (jensen_shannon(&r, &c), None)
            } else {
                (hellinger(&r, &c), None)
            }
        }
        Method::Psi | Method::Kl => {
            let (mut r, mut c) = binned_shares(kind, reference, current);
            fill_zeroes(&mut r);
            fill_zeroes(&mut c);
            if method == Method::Psi {
                (psi(&r, &c), None)
            } else {
                (kl_divergence(&r, &c), None)
            }
        }
    };
    Ok(verdict(
        kind,
        method,
        threshold,
        statistic,
        p_value,
        reference.len() as u64,
        current.len() as u64,
    ))
}

pub(crate) fn verdict(
    kind: ColumnKind,
    method: Method,
    threshold: f64,
    statistic: f64,
    p_value: Option<f64>,
    n_reference: u64,
    n_current: u64,
) -> ColumnDrift {
    // A NaN p-value (no degrees of freedom) is no evidence of drift.
    let drifted = match p_value {
        Some(p) => p < threshold,
        None => statistic >= threshold,
    };
    ColumnDrift {
        method,
        kind,
        statistic,
        p_value,
        threshold,
        drifted,
        n_reference,
        n_current,
    }
}

/// Evidently's column type for a Frame column, judged on the reference
/// side: categorical columns whose distinct labels exceed half the
/// non-missing rows are text (no test); numeric columns whose values are all
/// integers with at most 10 distinct values are categorical (pandas reads
/// such a column as integers and Evidently treats it as categorical).
pub(crate) fn column_kind(column: &Column) -> ColumnKind {
    match column {
        Column::Categorical(c) => {
            let present = c.len() - c.missing_count();
            let distinct = c.counts().iter().filter(|&&n| n > 0).count();
            if distinct * 2 > present {
                ColumnKind::Text
            } else {
                ColumnKind::Categorical
            }
        }
        Column::Numeric(n) => {
            let mut seen: Vec<f64> = Vec::new();
            for v in n.present().filter(|v| v.is_finite()) {
                if v.fract() != 0.0 {
                    return ColumnKind::Numerical;
                }
                if !seen.contains(&v) {
                    seen.push(v);
                    if seen.len() > 10 {
                        return ColumnKind::Numerical;
                    }
                }
            }
            ColumnKind::Categorical
        }
    }
}

pub(crate) fn sample_of(column: &Column) -> Sample {
    match column {
        Column::Numeric(n) => Sample::numeric(n.present()),
        Column::Categorical(c) => {
            // Counted by the reader's codes, then labelled: one pass over
            // the rows, no string per row.
            let dictionary = c.dictionary();
            let mut m = BTreeMap::new();
            for (code, n) in c.counts().into_iter().enumerate() {
                if let (Some(label), true) = (dictionary.get(code), n > 0) {
                    *m.entry(label.to_owned()).or_insert(0u64) += n as u64;
                }
            }
            Sample::Categorical(m)
        }
    }
}

/// Applies the options' correction to p-values and rebuilds the report.
pub(crate) fn finish_report(
    mut columns: BTreeMap<String, ColumnDrift>,
    skipped: BTreeMap<String, String>,
    options: &DriftOptions,
) -> DriftReport {
    let names: Vec<String> = columns
        .iter()
        .filter(|(_, c)| c.p_value.is_some())
        .map(|(n, _)| n.clone())
        .collect();
    let raw: Vec<f64> = names
        .iter()
        .map(|n| columns[n].p_value.unwrap_or(f64::NAN))
        .collect();
    for (name, p) in names.iter().zip(adjust(&raw, options.correction)) {
        if let Some(c) = columns.get_mut(name) {
            c.p_value = Some(p);
            c.drifted = p < c.threshold;
        }
    }
    DriftReport::from_columns(columns, skipped, options.drift_share)
}

/// What became of one column in [`compare`].
enum Outcome {
    Tested(ColumnDrift),
    Skipped(String),
    NoTest,
}

/// One column of [`compare`].
fn test_column(
    reference: &Frame,
    current: &Frame,
    name: &str,
    options: &DriftOptions,
) -> Result<Outcome> {
    let rc = reference.column(name)?;
    let cc = current.column(name)?;
    if rc.column_type() != cc.column_type() {
        return Err(Error::ColumnType {
            column: name.to_owned(),
            expected: rc.column_type().name(),
            found: cc.column_type().name(),
        });
    }
    let forced = options.method_for(name);
    let mut kind = column_kind(rc);
    if kind == ColumnKind::Text {
        match forced {
            Some(_) => kind = ColumnKind::Categorical,
            None => {
                return Ok(Outcome::Skipped(
                    "text column (distinct values exceed half the rows)".into(),
                ));
            }
        }
    }
    let (rs, cs) = (sample_of(rc), sample_of(cc));
    if rs.is_empty() || cs.is_empty() {
        let side = if rs.is_empty() {
            "reference"
        } else {
            "current"
        };
        return Ok(Outcome::Skipped(format!(
            "no non-missing values on the {side} side"
        )));
    }
    let Some(method) = forced.or_else(|| auto_method(kind, rs.len(), distinct_union(&rs, &cs)))
    else {
        return Ok(Outcome::NoTest);
    };
    let threshold = options.threshold_for(name, method);
    let result = test_samples(kind, method, threshold, &rs, &cs).map_err(|e| match e {
        Error::InvalidParameter { name: p, reason } => Error::InvalidParameter {
            name: p,
            reason: format!("column `{name}`: {reason}"),
        },
        other => other,
    })?;
    tracing::debug!(column = %name, method = %method, statistic = result.statistic, drifted = result.drifted, "drift test");
    Ok(Outcome::Tested(result))
}

/// Compares two Frames column by column on their full data, as Evidently's
/// `DataDriftPreset` does: per column, missing values and infinities are
/// dropped, the column type is inferred ([`ColumnKind`]), the test chosen by
/// [`auto_method`] unless overridden, then the dataset verdict is the share
/// of drifted columns.
///
/// Errors when a requested column is missing on either side, when a column
/// has different types on the two sides, or when a forced method does not
/// fit a column.
pub fn compare(reference: &Frame, current: &Frame, options: &DriftOptions) -> Result<DriftReport> {
    options.validate()?;
    let _span = tracing::info_span!(
        "drift_compare",
        reference_rows = reference.n_rows(),
        current_rows = current.n_rows()
    )
    .entered();
    let names: Vec<String> = match &options.columns {
        Some(cols) => cols.clone(),
        None => reference
            .names()
            .iter()
            .filter(|n| current.position(n).is_some())
            .cloned()
            .collect(),
    };
    // Columns are tested in parallel (on the current rayon pool); the
    // report, and the first error in column order, are as a sequential run.
    let outcomes: Vec<Result<Outcome>> = names
        .par_iter()
        .map(|name| test_column(reference, current, name, options))
        .collect();
    let mut columns = BTreeMap::new();
    let mut skipped = BTreeMap::new();
    for (name, outcome) in names.into_iter().zip(outcomes) {
        match outcome? {
            Outcome::Tested(result) => {
                columns.insert(name, result);
            }
            Outcome::Skipped(reason) => {
                skipped.insert(name, reason);
            }
            Outcome::NoTest => {}
        }
    }
    let report = finish_report(columns, skipped, options);
    tracing::info!(
        drift_share = report.drift_share,
        dataset_drift = report.dataset_drift,
        "drift report"
    );
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::{CategoricalColumn, NumericColumn};
    use crate::drift::Correction;

    fn frames() -> (Frame, Frame) {
        let num = |v: Vec<f64>| Column::Numeric(NumericColumn::from_raw(v));
        let cat = |n: usize, k: usize| {
            Column::Categorical(CategoricalColumn::from_options(
                (0..n).map(|i| Some(["a", "b", "c"][(i / k) % 3])),
            ))
        };
        let r = Frame::new(vec![
            (
                "x".into(),
                num((0..300).map(|i| f64::from(i) / 3.0).collect()),
            ),
            (
                "y".into(),
                num((0..300).map(|i| f64::from(i % 50)).collect()),
            ),
            ("c".into(), cat(300, 1)),
        ])
        .unwrap();
        let c = Frame::new(vec![
            (
                "x".into(),
                num((0..200).map(|i| f64::from(i) / 3.0 + 20.0).collect()),
            ),
            (
                "y".into(),
                num((0..200).map(|i| f64::from(i % 50)).collect()),
            ),
            ("c".into(), cat(200, 7)),
        ])
        .unwrap();
        (r, c)
    }

    #[test]
    fn json_has_the_cli_shape() {
        let (r, c) = frames();
        let report = compare(
            &r,
            &c,
            &DriftOptions::default().column_method("y", Method::Psi),
        )
        .unwrap();
        let v: serde_json::Value = serde_json::to_value(&report).unwrap();
        assert!(v["drift_share"].is_number());
        assert!(v["dataset_drift"].is_boolean());
        assert_eq!(v["columns"]["x"]["method"], "ks");
        assert!(v["columns"]["x"]["p_value"].is_number());
        assert_eq!(v["columns"]["y"]["method"], "psi");
        assert!(v["columns"]["y"]["p_value"].is_null());
        assert_eq!(v["columns"]["y"]["threshold"], 0.1);
        assert!(v["columns"]["c"]["drifted"].is_boolean());
        let back: DriftReport = serde_json::from_value(v).unwrap();
        assert_eq!(back, report);
        let table = report.to_string();
        assert!(table.contains("dataset drift"), "{table}");
    }

    #[test]
    fn overrides_and_corrections_apply() {
        let (r, c) = frames();
        let opts = DriftOptions::default()
            .method(Method::JensenShannon)
            .column_method("x", Method::Wasserstein)
            .column_threshold("y", 0.5);
        let report = compare(&r, &c, &opts).unwrap();
        assert_eq!(report.columns["x"].method, Method::Wasserstein);
        assert_eq!(report.columns["c"].method, Method::JensenShannon);
        assert_eq!(report.columns["y"].threshold, 0.5);

        let plain = compare(
            &r,
            &c,
            &DriftOptions::default()
                .method(Method::Ks)
                .columns(["x", "y"]),
        )
        .unwrap();
        let bonf = compare(
            &r,
            &c,
            &DriftOptions::default()
                .method(Method::Ks)
                .columns(["x", "y"])
                .correction(Correction::Bonferroni),
        )
        .unwrap();
        let (p, q) = (
            plain.columns["y"].p_value.unwrap(),
            bonf.columns["y"].p_value.unwrap(),
        );
        assert_eq!(q, (2.0 * p).min(1.0));
    }

    #[test]
    fn bad_requests_are_errors_not_panics() {
        let (r, c) = frames();
        assert!(matches!(
            compare(&r, &c, &DriftOptions::default().columns(["nope"])),
            Err(Error::ColumnNotFound { .. })
        ));
        assert!(
            compare(
                &r,
                &c,
                &DriftOptions::default().column_method("c", Method::Ks)
            )
            .is_err()
        );
        assert!(compare(&r, &c, &DriftOptions::default().drift_share(0.0)).is_err());
        assert!(compare(&r, &c, &DriftOptions::default().threshold(f64::NAN)).is_err());
        let empty = Frame::new(vec![(
            "x".into(),
            Column::Numeric(NumericColumn::from_raw(vec![f64::NAN; 3])),
        )])
        .unwrap();
        let rep = compare(&empty, &empty, &DriftOptions::default()).unwrap();
        assert!(rep.skipped.contains_key("x"));
        assert!(!rep.dataset_drift);
    }

    #[test]
    fn method_names_round_trip() {
        for m in [
            "ks",
            "chisquare",
            "ztest",
            "psi",
            "jensenshannon",
            "wasserstein",
            "hellinger",
            "kl",
        ] {
            let parsed: Method = m.parse().unwrap();
            assert_eq!(parsed.name(), m);
            assert_eq!(serde_json::to_value(parsed).unwrap(), m);
        }
        assert!("auto".parse::<Method>().is_err());
    }
}
