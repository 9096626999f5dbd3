//! The drift report page: verdicts per column and reference-vs-current
//! histograms.

use std::collections::HashMap;

use super::html::{Cell, Page, number};
use super::svg::BarChart;
use crate::Result;
use crate::data::{Column, Frame};
use crate::drift::{ColumnKind, DriftReport};

/// Equal-width bins per numeric histogram.
const NUMERIC_BINS: usize = 20;
/// Categories drawn per categorical histogram; the rest are summed as `other`.
const TOP_CATEGORIES: usize = 15;

/// Renders a drift report as one self-contained HTML page: the dataset
/// verdict, a table of per-column results (drifted columns first) and, for
/// every tested column, the reference and current distributions as shares
/// (numeric columns in 20 equal-width bins over both datasets' range;
/// categorical columns as their 15 most frequent labels plus `other`).
///
/// `reference` and `current` are the frames `report` was computed from;
/// a tested column missing from either is an error.
///
/// ```
/// use mlops_core::data::{Column, Frame, NumericColumn};
/// use mlops_core::drift::{DriftOptions, compare};
/// use mlops_core::report::drift_html;
///
/// let frame = |shift: f64| Frame::new(vec![(
///     "x".to_string(),
///     Column::Numeric(NumericColumn::from_raw((0..200).map(|i| f64::from(i) + shift).collect())),
/// )]);
/// let (reference, current) = (frame(0.0)?, frame(80.0)?);
/// let report = compare(&reference, &current, &DriftOptions::default())?;
/// let html = drift_html("Drift", &reference, &current, &report)?;
/// assert!(html.starts_with("<!DOCTYPE html>") && html.contains("<svg"));
/// # Ok::<(), mlops_core::Error>(())
/// ```
pub fn drift_html(
    title: &str,
    reference: &Frame,
    current: &Frame,
    report: &DriftReport,
) -> Result<String> {
    let mut page = Page::new(title);
    page.paragraph(&format!(
        "Reference {} rows, current {} rows. {} of {} tested columns drifted (share {:.2}, threshold {:.2}): {}.",
        reference.n_rows(),
        current.n_rows(),
        report.n_drifted,
        report.columns.len(),
        report.drift_share,
        report.share_threshold,
        if report.dataset_drift {
            "dataset drift"
        } else {
            "no dataset drift"
        }
    ));

    let mut names: Vec<&String> = report.columns.keys().collect();
    names.sort_by_key(|n| (!report.columns[*n].drifted, n.as_str()));

    page.heading("Columns");
    page.table(
        &[
            "column",
            "kind",
            "method",
            "statistic",
            "p-value",
            "threshold",
            "drifted",
            "reference n",
            "current n",
        ],
        names.iter().map(|name| {
            let c = &report.columns[*name];
            vec![
                Cell::Text((*name).clone()),
                Cell::Text(format!("{:?}", c.kind).to_lowercase()),
                Cell::Text(c.method.name().into()),
                Cell::Num(Some(c.statistic)),
                Cell::Num(c.p_value),
                Cell::Num(Some(c.threshold)),
                if c.drifted {
                    Cell::Styled("drift".into(), "bad")
                } else {
                    Cell::Styled("ok".into(), "good")
                },
                Cell::Num(Some(c.n_reference as f64)),
                Cell::Num(Some(c.n_current as f64)),
            ]
        }),
    );
    if !report.skipped.is_empty() {
        page.heading("Not tested");
        page.table(
            &["column", "reason"],
            report
                .skipped
                .iter()
                .map(|(k, v)| vec![Cell::Text(k.clone()), Cell::Text(v.clone())]),
        );
    }

    page.heading("Distributions (share of rows)");
    let mut charts = Vec::with_capacity(names.len());
    for name in names {
        let kind = report.columns[name].kind;
        let (r, c) = (reference.column(name)?, current.column(name)?);
        let chart = match (kind, r, c) {
            (ColumnKind::Numerical, Column::Numeric(r), Column::Numeric(c)) => numeric_chart(
                name,
                &r.present().collect::<Vec<_>>(),
                &c.present().collect::<Vec<_>>(),
            ),
            _ => categorical_chart(name, labels(r), labels(c)),
        };
        charts.push(chart.to_svg());
    }
    page.charts(charts);
    Ok(page.finish())
}

/// Non-missing values of any column as labels.
fn labels(column: &Column) -> Vec<String> {
    match column {
        Column::Numeric(n) => n.present().map(number).collect(),
        Column::Categorical(c) => c.iter().flatten().map(str::to_owned).collect(),
    }
}

fn numeric_chart(name: &str, reference: &[f64], current: &[f64]) -> BarChart {
    let (lo, hi) = reference
        .iter()
        .chain(current)
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(*v), hi.max(*v))
        });
    let width = if hi > lo {
        (hi - lo) / NUMERIC_BINS as f64
    } else {
        1.0
    };
    let shares = |values: &[f64]| {
        let mut counts = [0.0; NUMERIC_BINS];
        let mut n = 0.0;
        for &v in values {
            let bin = (((v - lo) / width) as usize).min(NUMERIC_BINS - 1);
            counts[bin] += 1.0;
            n += 1.0;
        }
        counts
            .iter()
            .map(|c| if n > 0.0 { c / n } else { 0.0 })
            .collect()
    };
    BarChart {
        title: name.to_owned(),
        y_label: "share".into(),
        labels: (0..NUMERIC_BINS)
            .map(|i| number(lo + width * i as f64))
            .collect(),
        series: vec![
            ("reference".into(), shares(reference)),
            ("current".into(), shares(current)),
        ],
    }
}

fn count(values: &[String]) -> HashMap<&str, f64> {
    let mut m: HashMap<&str, f64> = HashMap::new();
    for v in values {
        *m.entry(v.as_str()).or_default() += 1.0;
    }
    m
}

fn categorical_chart(name: &str, reference: Vec<String>, current: Vec<String>) -> BarChart {
    let (rc, cc) = (count(&reference), count(&current));
    let (rn, cn) = (reference.len().max(1) as f64, current.len().max(1) as f64);
    // Most frequent labels by combined share; ties by name, so the chart is
    // the same on every run.
    let mut all: Vec<(&str, f64)> = rc
        .keys()
        .chain(cc.keys())
        .map(|k| {
            let share =
                rc.get(k).copied().unwrap_or(0.0) / rn + cc.get(k).copied().unwrap_or(0.0) / cn;
            (*k, share)
        })
        .collect();
    all.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(b.0)));
    all.dedup_by(|a, b| a.0 == b.0);
    let shown: Vec<&str> = all.iter().take(TOP_CATEGORIES).map(|(k, _)| *k).collect();
    let shares = |m: &HashMap<&str, f64>, n: f64| {
        let mut v: Vec<f64> = shown
            .iter()
            .map(|k| m.get(k).copied().unwrap_or(0.0) / n)
            .collect();
        if all.len() > TOP_CATEGORIES {
            v.push(1.0 - v.iter().sum::<f64>());
        }
        v
    };
    let mut labels: Vec<String> = shown.iter().map(|s| (*s).to_owned()).collect();
    if all.len() > TOP_CATEGORIES {
        labels.push("other".into());
    }
    BarChart {
        title: name.to_owned(),
        y_label: "share".into(),
        series: vec![
            ("reference".into(), shares(&rc, rn)),
            ("current".into(), shares(&cc, cn)),
        ],
        labels,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::{CategoricalColumn, NumericColumn};
    use crate::drift::{DriftOptions, compare};

    fn frame(shift: f64, label: &str) -> Frame {
        Frame::new(vec![
            (
                "amount".into(),
                Column::Numeric(NumericColumn::from_raw(
                    (0..300).map(|i| f64::from(i % 50) + shift).collect(),
                )),
            ),
            (
                "plan <b>".into(),
                Column::Categorical(CategoricalColumn::from_options(
                    (0..300).map(|i| Some(if i % 3 == 0 { label } else { "basic" })),
                )),
            ),
        ])
        .unwrap()
    }

    #[test]
    fn page_lists_every_column_with_its_verdict_and_a_chart() {
        let (r, c) = (frame(0.0, "pro"), frame(30.0, "pro"));
        let report = compare(&r, &c, &DriftOptions::default()).unwrap();
        let html = drift_html("Drift <check>", &r, &c, &report).unwrap();
        assert!(html.contains("<title>Drift &lt;check&gt;</title>"));
        assert!(html.contains("plan &lt;b&gt;"), "column names are escaped");
        assert!(!html.contains("<b>"));
        assert_eq!(html.matches("<svg").count(), 2);
        // The shifted numeric column drifted, the categorical did not.
        assert!(report.columns["amount"].drifted);
        assert!(!report.columns["plan <b>"].drifted);
        assert_eq!(html.matches("class=\"bad\">drift").count(), 1);
        assert!(html.contains("1 of 2 tested columns drifted"));
        // No external resources: nothing to fetch when viewing offline.
        assert_eq!(
            html.matches("http://").count(),
            html.matches("xmlns=\"http://www.w3.org/2000/svg\"").count()
        );
        assert!(!html.contains("https://") && !html.contains("<script"));
    }

    #[test]
    fn numeric_shares_sum_to_one_and_follow_the_data() {
        let chart = numeric_chart("x", &[0.0, 0.0, 10.0], &[10.0]);
        let (r, c) = (&chart.series[0].1, &chart.series[1].1);
        assert!((r.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        assert!((r[0] - 2.0 / 3.0).abs() < 1e-12 && (r[19] - 1.0 / 3.0).abs() < 1e-12);
        assert_eq!(c[19], 1.0);
    }

    #[test]
    fn many_categories_fold_into_other() {
        let r: Vec<String> = (0..40).map(|i| format!("c{i:02}")).collect();
        let chart = categorical_chart("x", r.clone(), r);
        assert_eq!(chart.labels.len(), TOP_CATEGORIES + 1);
        assert_eq!(chart.labels.last().map(String::as_str), Some("other"));
        let other = chart.series[0].1[TOP_CATEGORIES];
        assert!((other - 25.0 / 40.0).abs() < 1e-12);
    }

    #[test]
    fn a_tested_column_missing_from_a_frame_is_an_error() {
        let (r, c) = (frame(0.0, "pro"), frame(1.0, "pro"));
        let report = compare(&r, &c, &DriftOptions::default()).unwrap();
        let narrow = r.select(&["amount"]).unwrap();
        assert!(drift_html("t", &narrow, &c, &report).is_err());
    }
}
