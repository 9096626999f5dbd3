//! Per-column summaries of a [`Frame`]: counts, missing values, numeric
//! statistics and top categories, with the conventions of pandas'
//! `DataFrame.describe` (sample standard deviation, numpy's 'linear'
//! quantiles, missing values excluded).

use serde::{Deserialize, Serialize};

use super::column::{CategoricalColumn, Column, ColumnType, NumericColumn};
use super::frame::Frame;

/// How many categories [`CategoricalSummary::top`] keeps.
pub const TOP_CATEGORIES: usize = 10;

/// The summary of a whole frame, from [`Frame::describe`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FrameSummary {
    /// Number of rows.
    pub n_rows: usize,
    /// Number of columns.
    pub n_cols: usize,
    /// One summary per column, in column order.
    pub columns: Vec<ColumnSummary>,
}

impl FrameSummary {
    /// The summary of the named column.
    pub fn column(&self, name: &str) -> Option<&ColumnSummary> {
        self.columns.iter().find(|c| c.name == name)
    }
}

/// The summary of one column.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ColumnSummary {
    /// Column name.
    pub name: String,
    /// Column type.
    #[serde(rename = "type")]
    pub column_type: ColumnType,
    /// Number of present (non-missing) cells.
    pub count: usize,
    /// Number of missing cells.
    pub missing: usize,
    /// Statistics of a numeric column.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub numeric: Option<NumericSummary>,
    /// Statistics of a categorical column.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub categorical: Option<CategoricalSummary>,
}

/// Statistics of the present values of a numeric column. Every field is
/// `None` when the column has no present value; `std` is also `None` with a
/// single value (the sample standard deviation needs two).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct NumericSummary {
    /// Smallest value.
    pub min: Option<f64>,
    /// Largest value.
    pub max: Option<f64>,
    /// Arithmetic mean.
    pub mean: Option<f64>,
    /// Sample standard deviation (divisor `n - 1`, as pandas).
    pub std: Option<f64>,
    /// 5th percentile.
    pub p05: Option<f64>,
    /// 25th percentile (first quartile).
    pub p25: Option<f64>,
    /// Median.
    pub p50: Option<f64>,
    /// 75th percentile (third quartile).
    pub p75: Option<f64>,
    /// 95th percentile.
    pub p95: Option<f64>,
}

/// Category counts of a categorical column.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CategoricalSummary {
    /// Number of distinct present values.
    pub distinct: usize,
    /// The [`TOP_CATEGORIES`] most frequent values, by descending count;
    /// ties keep the order of first appearance (as pandas' `value_counts`).
    pub top: Vec<CategoryCount>,
}

/// One category and how often it occurs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CategoryCount {
    /// The category.
    pub value: String,
    /// Its number of occurrences.
    pub count: usize,
}

impl Frame {
    /// Summarises every column.
    ///
    /// ```
    /// use mlops_core::data::CsvReader;
    ///
    /// let csv = "tenure,plan\n1,basic\n3,pro\n,basic\n";
    /// let frame = CsvReader::new().read(csv.as_bytes(), "inline.csv")?.frame;
    /// let summary = frame.describe();
    /// let tenure = summary.column("tenure").unwrap();
    /// assert_eq!((tenure.count, tenure.missing), (2, 1));
    /// assert_eq!(tenure.numeric.unwrap().mean, Some(2.0));
    /// let plan = summary.column("plan").unwrap().categorical.as_ref().unwrap();
    /// assert_eq!((plan.top[0].value.as_str(), plan.top[0].count), ("basic", 2));
    /// # Ok::<(), mlops_core::Error>(())
    /// ```
    pub fn describe(&self) -> FrameSummary {
        let columns = self
            .columns()
            .map(|(name, col)| {
                let missing = col.missing_count();
                let mut summary = ColumnSummary {
                    name: name.to_owned(),
                    column_type: col.column_type(),
                    count: col.len() - missing,
                    missing,
                    numeric: None,
                    categorical: None,
                };
                match col {
                    Column::Numeric(c) => summary.numeric = Some(numeric_summary(c)),
                    Column::Categorical(c) => summary.categorical = Some(categorical_summary(c)),
                }
                summary
            })
            .collect();
        tracing::debug!(
            rows = self.n_rows(),
            cols = self.n_cols(),
            "frame described"
        );
        FrameSummary {
            n_rows: self.n_rows(),
            n_cols: self.n_cols(),
            columns,
        }
    }
}

fn numeric_summary(col: &NumericColumn) -> NumericSummary {
    let mut x: Vec<f64> = col.present().collect();
    x.sort_unstable_by(f64::total_cmp);
    let n = x.len();
    if n == 0 {
        return NumericSummary {
            min: None,
            max: None,
            mean: None,
            std: None,
            p05: None,
            p25: None,
            p50: None,
            p75: None,
            p95: None,
        };
    }
    let mean = x.iter().sum::<f64>() / n as f64;
    // Two passes: the centred sum of squares stays accurate for large means.
    let std = (n > 1).then(|| {
        let ss: f64 = x.iter().map(|v| (v - mean) * (v - mean)).sum();
        (ss / (n - 1) as f64).sqrt()
    });
    NumericSummary {
        min: x.first().copied(),
        max: x.last().copied(),
        mean: Some(mean),
        std,
        p05: quantile_sorted(&x, 0.05),
        p25: quantile_sorted(&x, 0.25),
        p50: quantile_sorted(&x, 0.5),
        p75: quantile_sorted(&x, 0.75),
        p95: quantile_sorted(&x, 0.95),
    }
}

/// numpy's default ('linear', type 7) quantile of sorted values: the value
/// at fractional position `q (n - 1)`, interpolated between neighbours.
fn quantile_sorted(sorted: &[f64], q: f64) -> Option<f64> {
    let last = sorted.len().checked_sub(1)?;
    let h = q * last as f64;
    let lo = (h.floor() as usize).min(last);
    let hi = (lo + 1).min(last);
    let t = h - lo as f64;
    let (a, b) = (sorted[lo], sorted[hi]);
    // numpy's lerp: the form that is exact at the end nearer to t.
    Some(if t < 0.5 {
        a + (b - a) * t
    } else {
        b - (b - a) * (1.0 - t)
    })
}

fn categorical_summary(col: &CategoricalColumn) -> CategoricalSummary {
    let counts = col.counts();
    // Codes are in first-appearance order, and the sort is stable, so ties
    // keep the order of first appearance.
    let mut order: Vec<usize> = (0..counts.len()).filter(|&c| counts[c] > 0).collect();
    order.sort_by(|&a, &b| counts[b].cmp(&counts[a]));
    let distinct = order.len();
    let dictionary = col.dictionary();
    let top = order
        .into_iter()
        .take(TOP_CATEGORIES)
        .map(|code| CategoryCount {
            value: dictionary.get(code).unwrap_or_default().to_owned(),
            count: counts[code],
        })
        .collect();
    CategoricalSummary { distinct, top }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::{CategoricalColumn, NumericColumn};

    fn frame(num: Vec<Option<f64>>, cat: Vec<Option<&str>>) -> Frame {
        Frame::new(vec![
            (
                "x".into(),
                Column::Numeric(NumericColumn::from_options(num)),
            ),
            (
                "c".into(),
                Column::Categorical(CategoricalColumn::from_options(cat)),
            ),
        ])
        .unwrap()
    }

    #[test]
    fn numeric_statistics_match_numpy_conventions() {
        // numpy: np.quantile([1,2,3,4,10], [.05,.25,.5,.75,.95]) =
        // [1.2, 2, 3, 4, 8.8]; std(ddof=1) = sqrt(50/4) = 3.5355...
        let f = frame(
            vec![Some(4.0), None, Some(1.0), Some(10.0), Some(3.0), Some(2.0)],
            vec![Some("a"); 6],
        );
        let s = f.describe();
        let x = s.column("x").unwrap();
        assert_eq!((x.count, x.missing), (5, 1));
        let n = x.numeric.unwrap();
        assert_eq!((n.min, n.max, n.mean), (Some(1.0), Some(10.0), Some(4.0)));
        assert!((n.std.unwrap() - 12.5f64.sqrt()).abs() < 1e-15);
        assert!((n.p05.unwrap() - 1.2).abs() < 1e-12);
        assert_eq!((n.p25, n.p50, n.p75), (Some(2.0), Some(3.0), Some(4.0)));
        assert!((n.p95.unwrap() - 8.8).abs() < 1e-12);
    }

    #[test]
    fn empty_and_single_value_columns() {
        let f = frame(vec![None, None], vec![None, None]);
        let s = f.describe();
        let x = s.column("x").unwrap();
        assert_eq!((x.count, x.missing), (0, 2));
        assert_eq!(x.numeric.unwrap().mean, None);
        let c = s.column("c").unwrap().categorical.as_ref().unwrap();
        assert_eq!(c.distinct, 0);
        assert!(c.top.is_empty());

        let one = frame(vec![Some(7.0)], vec![Some("z")]).describe();
        let n = one.column("x").unwrap().numeric.unwrap();
        assert_eq!(
            (n.mean, n.std, n.p05, n.p95),
            (Some(7.0), None, Some(7.0), Some(7.0))
        );
    }

    #[test]
    fn top_categories_by_count_then_first_appearance() {
        let mut cells = vec![Some("b"), Some("a"), None, Some("a"), Some("c"), Some("b")];
        cells.extend((0..12).map(|_| Some("d")));
        let f = frame(vec![Some(0.0); cells.len()], cells);
        let s = f.describe();
        let c = s.column("c").unwrap();
        assert_eq!(c.missing, 1);
        let cat = c.categorical.as_ref().unwrap();
        assert_eq!(cat.distinct, 4);
        let top: Vec<(&str, usize)> = cat
            .top
            .iter()
            .map(|t| (t.value.as_str(), t.count))
            .collect();
        assert_eq!(top, [("d", 12), ("b", 2), ("a", 2), ("c", 1)]);
    }

    #[test]
    fn top_is_capped() {
        let names: Vec<String> = (0..25).map(|i| format!("v{i}")).collect();
        let f = frame(
            vec![Some(0.0); 25],
            names.iter().map(|s| Some(s.as_str())).collect(),
        );
        let s = f.describe();
        let cat = s.column("c").unwrap().categorical.as_ref().unwrap();
        assert_eq!(cat.distinct, 25);
        assert_eq!(cat.top.len(), TOP_CATEGORIES);
        assert_eq!(cat.top[0].value, "v0");
    }

    #[test]
    fn summary_round_trips_through_json() {
        let f = frame(vec![Some(1.0), None], vec![Some("a"), Some("b")]);
        let s = f.describe();
        let json = serde_json::to_string(&s).unwrap();
        assert!(json.contains("\"type\":\"numeric\""));
        let back: FrameSummary = serde_json::from_str(&json).unwrap();
        assert_eq!(back, s);
    }
}
