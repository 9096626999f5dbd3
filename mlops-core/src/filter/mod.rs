//! The run search language: filters, order-by clauses and index hints.
//!
//! A filter reads like a SQL `WHERE` clause over a run:
//!
//! ```text
//! metrics.auc > 0.8 AND (params.model = 'rf' OR tags.team = 'growth')
//! ```
//!
//! - Fields: `metrics.KEY` (the latest value, a number), `params.KEY` and
//!   `tags.KEY` (text), and the attributes `status`, `start_time`,
//!   `end_time` (milliseconds since the epoch), `run_name`, `experiment`
//!   and `run_id`, also written `attributes.status` and so on. Keys with
//!   spaces or symbols are quoted: ``metrics.`val auc` `` or
//!   `metrics."val auc"`; dots, dashes, slashes and colons need no quotes
//!   (`tags.mlflow.source.type`).
//! - Comparisons: `= != < <= > >=` (`<>` and `==` are accepted too).
//!   Metrics and times compare with numbers. Params, tags and text attributes
//!   compare with quoted text (single or double quotes, `\'`, `\\`, `\n`
//!   escapes or a doubled quote) and, as in MLflow, only with `=`, `!=`,
//!   `[NOT] LIKE`, `[NOT] ILIKE` (case-insensitive) and `[NOT] IN (...)`.
//!   `status` compares with RUNNING, FINISHED, FAILED or KILLED, in any case.
//! - `LIKE` patterns: `%` is any run of characters, `_` one character, and a
//!   backslash makes the next character literal. Quoted text keeps `\%` and
//!   `\_` as written (other escapes are resolved), so `LIKE '50\%'` matches
//!   the text `50%`.
//! - `field IS NULL` / `field IS NOT NULL` test whether a value exists.
//! - `NOT` binds tighter than `AND`, which binds tighter than `OR`;
//!   parentheses group. Keywords ignore case.
//!
//! Missing values follow SQL's three-valued logic: a predicate on a metric,
//! param, tag or attribute the run does not have (or on a NaN metric) is
//! *unknown*, `NOT unknown` stays unknown, and a run matches only when the
//! filter is *true*. So `params.model != 'rf'` and `NOT params.model = 'rf'`
//! both skip runs without a `model` param, as MLflow's `!=` does.
//!
//! A malformed filter is an [`Error::InvalidFilter`] that names the column of
//! the offending token.
//!
//! For search, [`Filter::index_hints`] lists conditions every matching run
//! meets (equalities, ranges, prefixes), so a tracker can look candidates up
//! in its indexes and evaluate [`Filter::matches`] on those alone;
//! [`encode_f64_ordered`] makes index keys whose byte order is numeric order.
//! [`OrderBy`] parses and applies `metrics.auc DESC, start_time`.

mod ast;
mod eval;
mod index;
mod lexer;
mod like;
mod order;
mod parser;

use std::fmt;

pub use ast::{Attribute, CmpOp, Expr, FieldRef, Literal, RUN_STATUSES};
pub use eval::{AttrValue, Searchable};
pub use index::{IndexHint, NumRange, decode_f64_ordered, encode_f64_ordered};
pub use like::LikePattern;
pub use order::{OrderBy, OrderKey, order_cmp};

use crate::error::{Error, Result};

/// A parsed, type-checked search filter.
///
/// ```
/// use mlops_core::filter::{AttrValue, Attribute, Filter, Searchable};
///
/// struct Run { auc: f64, model: &'static str }
///
/// impl Searchable for Run {
///     fn metric(&self, key: &str) -> Option<f64> { (key == "auc").then_some(self.auc) }
///     fn param(&self, key: &str) -> Option<&str> { (key == "model").then_some(self.model) }
///     fn tag(&self, _key: &str) -> Option<&str> { None }
///     fn attribute(&self, _attr: Attribute) -> Option<AttrValue<'_>> { None }
/// }
///
/// let filter = Filter::parse(
///     "metrics.auc > 0.8 AND (params.model = 'rf' OR tags.team = 'growth')",
/// )?;
/// assert!(filter.matches(&Run { auc: 0.84, model: "rf" }));
/// assert!(!filter.matches(&Run { auc: 0.84, model: "logreg" }));
/// assert!(!filter.matches(&Run { auc: 0.70, model: "rf" }));
///
/// let err = Filter::parse("metrics.auc > AND params.model = 'rf'").unwrap_err();
/// assert_eq!(
///     err.to_string(),
///     "invalid filter at column 15: expected a value after `>`, found `AND` \
///      (in `metrics.auc > AND params.model = 'rf'`)",
/// );
/// # Ok::<(), mlops_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Filter {
    expr: Option<Expr>,
}

impl Filter {
    /// Parses and type-checks filter text. Empty (or blank) text is the
    /// filter that matches every run.
    ///
    /// # Errors
    /// [`Error::InvalidFilter`] with the 1-based column (in characters) of
    /// the offending token and what was expected there.
    pub fn parse(input: &str) -> Result<Filter> {
        let parsed = parser::Parser::new(input).filter();
        match parsed {
            Ok(expr) => Ok(Filter { expr }),
            Err(e) => {
                let column = parser::column_of(input, e.offset);
                tracing::debug!(column, message = %e.message, "invalid filter");
                Err(Error::InvalidFilter {
                    input: input.to_owned(),
                    column,
                    message: e.message,
                })
            }
        }
    }

    /// The filter that matches every run.
    pub fn all() -> Filter {
        Filter { expr: None }
    }

    /// A filter from an expression built in code.
    pub fn from_expr(expr: Expr) -> Filter {
        Filter { expr: Some(expr) }
    }

    /// The expression; `None` for the filter that matches everything.
    pub fn expr(&self) -> Option<&Expr> {
        self.expr.as_ref()
    }

    /// Whether the filter matches every run.
    pub fn is_all(&self) -> bool {
        self.expr.is_none()
    }

    /// Whether `run` satisfies the filter (the filter is *true*, not false
    /// or unknown). Does not allocate.
    pub fn matches<S: Searchable + ?Sized>(&self, run: &S) -> bool {
        match &self.expr {
            None => true,
            Some(e) => eval::eval(e, run) == Some(true),
        }
    }

    /// The filter's three-valued result for `run`: `Some(true)`,
    /// `Some(false)`, or `None` when it depends on missing values.
    pub fn evaluate<S: Searchable + ?Sized>(&self, run: &S) -> Option<bool> {
        match &self.expr {
            None => Some(true),
            Some(e) => eval::eval(e, run),
        }
    }

    /// The top-level `AND`ed parts of the filter (one part when the filter
    /// is not an `AND`; none for the match-all filter).
    pub fn conjuncts(&self) -> &[Expr] {
        match &self.expr {
            None => &[],
            Some(Expr::And(items)) => items,
            Some(e) => std::slice::from_ref(e),
        }
    }

    /// Conditions every matching run meets, to intersect index lookups with
    /// (see [`IndexHint`]). Ranges on the same field are merged into one.
    /// Empty when the filter gives no usable condition (a full scan is
    /// needed), for example `params.a = 'x' OR metrics.b IS NULL`.
    ///
    /// ```
    /// use mlops_core::filter::{FieldRef, Filter, IndexHint};
    ///
    /// let f = Filter::parse("metrics.auc > 0.8 AND metrics.auc <= 0.9 AND params.model IN ('rf', 'gbm')")?;
    /// let hints = f.index_hints();
    /// assert_eq!(hints.len(), 2);
    /// assert!(matches!(&hints[0], IndexHint::Range { range, .. } if range.contains(0.85) && !range.contains(0.8)));
    /// assert_eq!(
    ///     hints[1],
    ///     IndexHint::OneOf { field: FieldRef::Param("model".into()), values: vec!["rf".into(), "gbm".into()] },
    /// );
    /// # Ok::<(), mlops_core::Error>(())
    /// ```
    pub fn index_hints(&self) -> Vec<IndexHint> {
        match &self.expr {
            None => Vec::new(),
            Some(e) => index::hints(e),
        }
    }
}

impl fmt::Display for Filter {
    /// The canonical text of the filter, which parses back to the same
    /// filter (empty for the match-all filter).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.expr {
            None => Ok(()),
            Some(e) => e.fmt(f),
        }
    }
}

impl Default for Filter {
    /// The filter that matches every run.
    fn default() -> Filter {
        Filter::all()
    }
}

impl std::str::FromStr for Filter {
    type Err = Error;

    fn from_str(s: &str) -> Result<Filter> {
        Filter::parse(s)
    }
}

#[cfg(test)]
mod tests;
