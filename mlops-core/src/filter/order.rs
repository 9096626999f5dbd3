//! Order-by clauses: `metrics.auc DESC, start_time`.

use std::cmp::Ordering;
use std::fmt;

use super::ast::FieldRef;
use super::eval::{Searchable, Value, lookup};
use super::lexer::Kind;
use super::parser::{ParseError, Parser, column_of};
use crate::error::{Error, Result};

/// One sort key: a field and a direction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderKey {
    /// The field sorted on.
    pub field: FieldRef,
    /// Largest first when true.
    pub descending: bool,
}

impl fmt::Display for OrderKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let dir = if self.descending { "DESC" } else { "ASC" };
        write!(f, "{} {dir}", self.field)
    }
}

/// A parsed order-by clause: sort keys, most significant first.
///
/// Sorting follows MLflow: numbers (metrics, times) numerically, text
/// (params, tags, names, ids, status) by bytes; runs without a value for a
/// key come after every run that has one, whatever the direction, and a NaN
/// metric sorts after the numbers but before the missing values. Ties on all
/// keys are [`Ordering::Equal`]: the caller breaks them (by run id, say) so
/// pages are stable.
///
/// ```
/// use mlops_core::filter::{FieldRef, OrderBy};
///
/// let order = OrderBy::parse("metrics.auc DESC, start_time")?;
/// assert_eq!(order.keys().len(), 2);
/// assert_eq!(order.keys()[0].field, FieldRef::Metric("auc".into()));
/// assert!(order.keys()[0].descending);
/// assert!(!order.keys()[1].descending);
/// assert!(OrderBy::parse("metrics.auc DOWN").is_err());
/// # Ok::<(), mlops_core::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OrderBy {
    keys: Vec<OrderKey>,
}

impl OrderBy {
    /// Parses comma-separated keys, each a field (as in filters) followed by
    /// an optional `ASC` (the default) or `DESC`, in any case. Empty text
    /// gives no keys.
    ///
    /// # Errors
    /// [`Error::InvalidOrderBy`] pointing at the offending column.
    pub fn parse(input: &str) -> Result<OrderBy> {
        parse_keys(input).map_err(|e| Error::InvalidOrderBy {
            input: input.to_owned(),
            column: column_of(input, e.offset),
            message: e.message,
        })
    }

    /// An order-by from keys built in code.
    pub fn from_keys(keys: Vec<OrderKey>) -> OrderBy {
        OrderBy { keys }
    }

    /// The keys, most significant first.
    pub fn keys(&self) -> &[OrderKey] {
        &self.keys
    }

    /// Whether there are no keys.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Compares two runs by the keys; `Equal` when they tie on every key.
    pub fn compare<A, B>(&self, a: &A, b: &B) -> Ordering
    where
        A: Searchable + ?Sized,
        B: Searchable + ?Sized,
    {
        order_cmp(a, b, &self.keys)
    }
}

impl fmt::Display for OrderBy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, k) in self.keys.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            k.fmt(f)?;
        }
        Ok(())
    }
}

fn parse_keys(input: &str) -> Result<OrderBy, ParseError> {
    let mut p = Parser::new(input);
    let mut keys = Vec::new();
    if p.peek()?.kind == Kind::Eof {
        return Ok(OrderBy { keys });
    }
    loop {
        let (field, _) = p.field()?;
        let descending = if p.eat_keyword("DESC")? {
            true
        } else {
            p.eat_keyword("ASC")?;
            false
        };
        keys.push(OrderKey { field, descending });
        let tok = p.next()?;
        match tok.kind {
            Kind::Comma => {}
            Kind::Eof => return Ok(OrderBy { keys }),
            other => {
                return Err(ParseError {
                    offset: tok.start,
                    message: format!(
                        "expected ASC, DESC, `,` or the end of the order-by, found {}",
                        other.describe()
                    ),
                });
            }
        }
    }
}

/// Rank of a value class: present numbers and text first, then NaN, then
/// missing; independent of the direction.
fn class(v: Option<Value<'_>>) -> u8 {
    match v {
        Some(Value::Number(n)) if n.is_nan() => 1,
        Some(_) => 0,
        None => 2,
    }
}

/// Compares `a` and `b` by `keys` (see [`OrderBy`] for the rules).
pub fn order_cmp<A, B>(a: &A, b: &B, keys: &[OrderKey]) -> Ordering
where
    A: Searchable + ?Sized,
    B: Searchable + ?Sized,
{
    for key in keys {
        let va = lookup(a, &key.field);
        let vb = lookup(b, &key.field);
        let ord = class(va).cmp(&class(vb)).then_with(|| {
            let ord = match (va, vb) {
                // Both NaN (equal) or both numbers (-0 equals 0, as in SQL).
                (Some(Value::Number(x)), Some(Value::Number(y))) => {
                    x.partial_cmp(&y).unwrap_or(Ordering::Equal)
                }
                (Some(Value::Text(x)), Some(Value::Text(y))) => x.cmp(y),
                // Mixed types only come from an inconsistent Searchable;
                // keep the order total anyway.
                (Some(Value::Number(_)), Some(Value::Text(_))) => Ordering::Less,
                (Some(Value::Text(_)), Some(Value::Number(_))) => Ordering::Greater,
                _ => Ordering::Equal,
            };
            if key.descending { ord.reverse() } else { ord }
        });
        if ord != Ordering::Equal {
            return ord;
        }
    }
    Ordering::Equal
}
