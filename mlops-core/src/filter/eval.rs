//! Evaluating a filter against anything that exposes a run's values.

use std::cmp::Ordering;

use super::ast::{Attribute, Expr, FieldRef, Literal};

/// The value of a run attribute, as a [`Searchable`] reports it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum AttrValue<'a> {
    /// Text: the status name (`"FINISHED"`, any case), run name, experiment
    /// name or run id.
    Text(&'a str),
    /// A time in milliseconds since the Unix epoch.
    Time(i64),
}

/// What a filter or an order-by clause reads from a run.
///
/// The tracking side implements it on its compact run summary; lookups
/// should not allocate, so evaluating a filter does not either.
pub trait Searchable {
    /// The latest value of metric `key`, if the run logged it.
    fn metric(&self, key: &str) -> Option<f64>;
    /// The value of param `key`, if set.
    fn param(&self, key: &str) -> Option<&str>;
    /// The value of tag `key`, if set.
    fn tag(&self, key: &str) -> Option<&str>;
    /// The value of an attribute, if it has one (`end_time` of a running
    /// run, for example, has none). `status` is reported as
    /// [`AttrValue::Text`] of its name, times as [`AttrValue::Time`].
    fn attribute(&self, attr: Attribute) -> Option<AttrValue<'_>>;
}

/// A field's value, read from a [`Searchable`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Value<'a> {
    Number(f64),
    Text(&'a str),
}

pub(crate) fn lookup<'s, S: Searchable + ?Sized>(
    item: &'s S,
    field: &FieldRef,
) -> Option<Value<'s>> {
    match field {
        FieldRef::Metric(k) => item.metric(k).map(Value::Number),
        FieldRef::Param(k) => item.param(k).map(Value::Text),
        FieldRef::Tag(k) => item.tag(k).map(Value::Text),
        FieldRef::Attribute(a) => item.attribute(*a).map(|v| match v {
            // Times are far below 2^53 ms, so the conversion is exact.
            AttrValue::Time(ms) => Value::Number(ms as f64),
            AttrValue::Text(s) => Value::Text(s),
        }),
    }
}

/// Compares a value with a literal; `None` when they cannot be compared (a
/// NaN metric, or a value of the wrong type from the `Searchable`).
fn compare(field: &FieldRef, value: Value<'_>, literal: &Literal) -> Option<Ordering> {
    match (value, literal) {
        (Value::Number(v), Literal::Number(l)) => v.partial_cmp(l),
        (Value::Text(v), Literal::Text(l)) => {
            if matches!(field, FieldRef::Attribute(Attribute::Status)) {
                // Status literals are canonical upper case; stored names may not be.
                Some(if v.eq_ignore_ascii_case(l) {
                    Ordering::Equal
                } else {
                    v.cmp(l)
                })
            } else {
                Some(v.cmp(l.as_str()))
            }
        }
        _ => None,
    }
}

/// Three-valued evaluation: `Some(true)`, `Some(false)` or `None` for
/// unknown (see [`Expr`] for the rules).
pub(crate) fn eval<S: Searchable + ?Sized>(expr: &Expr, item: &S) -> Option<bool> {
    match expr {
        Expr::And(items) => {
            let mut unknown = false;
            for e in items {
                match eval(e, item) {
                    Some(false) => return Some(false),
                    None => unknown = true,
                    Some(true) => {}
                }
            }
            if unknown { None } else { Some(true) }
        }
        Expr::Or(items) => {
            let mut unknown = false;
            for e in items {
                match eval(e, item) {
                    Some(true) => return Some(true),
                    None => unknown = true,
                    Some(false) => {}
                }
            }
            if unknown { None } else { Some(false) }
        }
        Expr::Not(e) => eval(e, item).map(|b| !b),
        Expr::Compare { field, op, value } => {
            let v = lookup(item, field)?;
            compare(field, v, value).map(|ord| op.holds(ord))
        }
        Expr::Like {
            field,
            pattern,
            negated,
        } => match lookup(item, field)? {
            Value::Text(s) => Some(pattern.matches(s) != *negated),
            Value::Number(_) => None,
        },
        Expr::In {
            field,
            values,
            negated,
        } => {
            let v = lookup(item, field)?;
            let mut found = false;
            for l in values {
                match compare(field, v, l) {
                    Some(Ordering::Equal) => {
                        found = true;
                        break;
                    }
                    Some(_) => {}
                    // NaN or a type mismatch: unknown, as in SQL.
                    None => return None,
                }
            }
            Some(found != *negated)
        }
        Expr::IsNull { field, negated } => Some(lookup(item, field).is_none() != *negated),
    }
}
