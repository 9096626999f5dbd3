//! The parsed form of a filter: expressions, field references, literals.
//!
//! Every type here prints back as filter text ([`std::fmt::Display`]) that
//! parses to the same tree, so a filter can be logged, stored in a page token
//! or compared in its canonical form.

use std::fmt;

use super::like::LikePattern;

/// A run attribute usable in filters and order-by clauses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Attribute {
    /// `status`: RUNNING, FINISHED, FAILED or KILLED (see [`RUN_STATUSES`]).
    Status,
    /// `start_time`: milliseconds since the Unix epoch.
    StartTime,
    /// `end_time`: milliseconds since the Unix epoch; missing while running.
    EndTime,
    /// `run_name`: the run's display name.
    RunName,
    /// `experiment`: the name of the run's experiment.
    Experiment,
    /// `run_id`: the run's id.
    RunId,
}

/// The run status names a filter may compare `status` with, in canonical
/// (upper-case) spelling. Filters accept them in any case.
pub const RUN_STATUSES: [&str; 4] = ["RUNNING", "FINISHED", "FAILED", "KILLED"];

impl Attribute {
    /// Every attribute, in declaration order.
    pub const ALL: [Attribute; 6] = [
        Attribute::Status,
        Attribute::StartTime,
        Attribute::EndTime,
        Attribute::RunName,
        Attribute::Experiment,
        Attribute::RunId,
    ];

    /// The name used in filter text (`start_time`, `run_name`, ...).
    pub fn name(self) -> &'static str {
        match self {
            Attribute::Status => "status",
            Attribute::StartTime => "start_time",
            Attribute::EndTime => "end_time",
            Attribute::RunName => "run_name",
            Attribute::Experiment => "experiment",
            Attribute::RunId => "run_id",
        }
    }

    /// Looks an attribute up by its filter name, ignoring ASCII case.
    pub fn from_name(name: &str) -> Option<Attribute> {
        Attribute::ALL
            .into_iter()
            .find(|a| a.name().eq_ignore_ascii_case(name))
    }

    /// Whether the attribute holds a time (compared as a number of
    /// milliseconds) rather than text.
    pub fn is_time(self) -> bool {
        matches!(self, Attribute::StartTime | Attribute::EndTime)
    }
}

impl fmt::Display for Attribute {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What a filter or order-by key refers to.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FieldRef {
    /// `metrics.KEY`: the latest value of a metric; compared as a number.
    Metric(String),
    /// `params.KEY`: a run parameter; compared as text.
    Param(String),
    /// `tags.KEY`: a run tag; compared as text.
    Tag(String),
    /// A run attribute such as `status` or `start_time`.
    Attribute(Attribute),
}

impl FieldRef {
    /// Whether values of this field are numbers (metrics and times) rather
    /// than text.
    pub fn is_numeric(&self) -> bool {
        match self {
            FieldRef::Metric(_) => true,
            FieldRef::Attribute(a) => a.is_time(),
            FieldRef::Param(_) | FieldRef::Tag(_) => false,
        }
    }

    /// A short description for error messages: "metric `auc`", "attribute
    /// `status`".
    pub(crate) fn describe(&self) -> String {
        match self {
            FieldRef::Metric(k) => format!("metric `{k}`"),
            FieldRef::Param(k) => format!("param `{k}`"),
            FieldRef::Tag(k) => format!("tag `{k}`"),
            FieldRef::Attribute(a) => format!("attribute `{a}`"),
        }
    }
}

/// Characters a key may contain without quoting (besides ASCII letters and
/// digits).
pub(crate) fn is_plain_key_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '/' | ':')
}

fn write_key(f: &mut fmt::Formatter<'_>, key: &str) -> fmt::Result {
    if !key.is_empty() && key.chars().all(is_plain_key_char) {
        f.write_str(key)
    } else {
        write_quoted(f, key, '`')
    }
}

/// Writes `s` between `quote`s, escaping what the lexer unescapes.
fn write_quoted(f: &mut fmt::Formatter<'_>, s: &str, quote: char) -> fmt::Result {
    use fmt::Write;
    f.write_char(quote)?;
    for c in s.chars() {
        match c {
            '\\' => f.write_str("\\\\")?,
            '\n' => f.write_str("\\n")?,
            '\t' => f.write_str("\\t")?,
            '\r' => f.write_str("\\r")?,
            c if c == quote => {
                f.write_char('\\')?;
                f.write_char(c)?;
            }
            c => f.write_char(c)?,
        }
    }
    f.write_char(quote)
}

impl fmt::Display for FieldRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FieldRef::Metric(k) => {
                f.write_str("metrics.")?;
                write_key(f, k)
            }
            FieldRef::Param(k) => {
                f.write_str("params.")?;
                write_key(f, k)
            }
            FieldRef::Tag(k) => {
                f.write_str("tags.")?;
                write_key(f, k)
            }
            FieldRef::Attribute(a) => a.fmt(f),
        }
    }
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CmpOp {
    /// `=`
    Eq,
    /// `!=` (also written `<>`)
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
}

impl CmpOp {
    /// The operator as written in filter text.
    pub fn symbol(self) -> &'static str {
        match self {
            CmpOp::Eq => "=",
            CmpOp::Ne => "!=",
            CmpOp::Lt => "<",
            CmpOp::Le => "<=",
            CmpOp::Gt => ">",
            CmpOp::Ge => ">=",
        }
    }

    /// Whether the operator is an ordering (`<`, `<=`, `>`, `>=`).
    pub fn is_ordering(self) -> bool {
        matches!(self, CmpOp::Lt | CmpOp::Le | CmpOp::Gt | CmpOp::Ge)
    }

    /// Applies the operator to the result of comparing the field value with
    /// the literal.
    pub(crate) fn holds(self, ord: std::cmp::Ordering) -> bool {
        use std::cmp::Ordering::*;
        match self {
            CmpOp::Eq => ord == Equal,
            CmpOp::Ne => ord != Equal,
            CmpOp::Lt => ord == Less,
            CmpOp::Le => ord != Greater,
            CmpOp::Gt => ord == Greater,
            CmpOp::Ge => ord != Less,
        }
    }
}

impl fmt::Display for CmpOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.symbol())
    }
}

/// A constant in a filter.
#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    /// A finite number, such as `0.8`, `-3` or `1e-4`.
    Number(f64),
    /// A quoted string, with escapes resolved. For `status` comparisons the
    /// text is the canonical upper-case status name.
    Text(String),
}

impl fmt::Display for Literal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            // `{:?}` prints the shortest text that parses back to the same f64.
            Literal::Number(n) => write!(f, "{n:?}"),
            Literal::Text(s) => write_quoted(f, s, '\''),
        }
    }
}

/// A filter expression.
///
/// Evaluation uses three-valued (SQL) logic: a predicate on a missing metric,
/// param, tag or attribute (or on a NaN metric) is *unknown*, `NOT unknown` is
/// unknown, and a run matches only when the whole filter is *true*. So
/// `NOT params.model = 'rf'` matches exactly the runs where
/// `params.model != 'rf'` does; neither matches a run without a `model`
/// param. Use `IS NULL` / `IS NOT NULL` to ask about missing values.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// All of the expressions hold (`a AND b AND ...`), at least two.
    And(Vec<Expr>),
    /// At least one of the expressions holds (`a OR b OR ...`), at least two.
    Or(Vec<Expr>),
    /// `NOT e`.
    Not(Box<Expr>),
    /// `field op value`.
    Compare {
        /// The field compared.
        field: FieldRef,
        /// The operator.
        op: CmpOp,
        /// The constant it is compared with (a number for numeric fields,
        /// text otherwise).
        value: Literal,
    },
    /// `field [NOT] LIKE 'pattern'` or `field [NOT] ILIKE 'pattern'`.
    Like {
        /// The text field matched.
        field: FieldRef,
        /// The compiled pattern (knows whether it ignores case).
        pattern: LikePattern,
        /// `NOT LIKE`.
        negated: bool,
    },
    /// `field [NOT] IN (v1, v2, ...)`.
    In {
        /// The field tested.
        field: FieldRef,
        /// The candidate values, at least one.
        values: Vec<Literal>,
        /// `NOT IN`.
        negated: bool,
    },
    /// `field IS [NOT] NULL`: whether the field has a value at all.
    IsNull {
        /// The field tested.
        field: FieldRef,
        /// `IS NOT NULL`.
        negated: bool,
    },
}

impl Expr {
    /// Writes `self`, parenthesised when it binds more loosely than the
    /// context (`level`: 0 = OR operand, 1 = AND operand, 2 = NOT operand).
    fn write_at(&self, f: &mut fmt::Formatter<'_>, level: u8) -> fmt::Result {
        let own = match self {
            Expr::Or(_) => 0,
            Expr::And(_) => 1,
            _ => 2,
        };
        if own < level {
            f.write_str("(")?;
            self.write_at(f, 0)?;
            return f.write_str(")");
        }
        match self {
            Expr::Or(items) | Expr::And(items) => {
                let sep = if own == 0 { " OR " } else { " AND " };
                for (i, e) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(sep)?;
                    }
                    // Operands of the same operator are parenthesised so the
                    // printed text keeps the tree's grouping.
                    e.write_at(f, own + 1)?;
                }
                Ok(())
            }
            Expr::Not(e) => {
                f.write_str("NOT ")?;
                e.write_at(f, 2)
            }
            Expr::Compare { field, op, value } => write!(f, "{field} {op} {value}"),
            Expr::Like {
                field,
                pattern,
                negated,
            } => {
                let not = if *negated { "NOT " } else { "" };
                let kw = if pattern.ignores_case() {
                    "ILIKE"
                } else {
                    "LIKE"
                };
                write!(f, "{field} {not}{kw} ")?;
                write_quoted(f, pattern.source(), '\'')
            }
            Expr::In {
                field,
                values,
                negated,
            } => {
                let not = if *negated { "NOT " } else { "" };
                write!(f, "{field} {not}IN (")?;
                for (i, v) in values.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{v}")?;
                }
                f.write_str(")")
            }
            Expr::IsNull { field, negated } => {
                let not = if *negated { "NOT " } else { "" };
                write!(f, "{field} IS {not}NULL")
            }
        }
    }
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write_at(f, 0)
    }
}
