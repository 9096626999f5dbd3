//! Recursive-descent parser for filters. Precedence, loosest first:
//! `OR`, `AND`, `NOT`, then predicates and parentheses.
//!
//! ```text
//! filter    := ε | or EOF
//! or        := and ("OR" and)*
//! and       := not ("AND" not)*
//! not       := "NOT" not | "(" or ")" | predicate
//! predicate := field op literal
//!            | field ["NOT"] ("LIKE" | "ILIKE") string
//!            | field ["NOT"] "IN" "(" literal ("," literal)* ")"
//!            | field "IS" ["NOT"] "NULL"
//! ```
//!
//! Type rules are checked here, so a filter that parses can be evaluated
//! without surprises: metrics and times compare with numbers; params, tags
//! and text attributes compare with quoted text using `=`, `!=`, `LIKE`,
//! `ILIKE` and `IN` only (as in MLflow); `status` values must be run status
//! names.

use super::ast::{Attribute, Expr, FieldRef, Literal, RUN_STATUSES};
use super::lexer::{Kind, LexError, Lexer, Token};
use super::like::LikePattern;

/// Parentheses and `NOT`s nest at most this deep, so hostile input cannot
/// overflow the stack.
pub(crate) const MAX_DEPTH: usize = 64;

/// A parse error: what is wrong and the byte offset it points at.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ParseError {
    pub offset: usize,
    pub message: String,
}

impl From<LexError> for ParseError {
    fn from(e: LexError) -> Self {
        ParseError {
            offset: e.offset,
            message: e.message,
        }
    }
}

type PResult<T> = Result<T, ParseError>;

/// 1-based column (in characters) of a byte offset.
pub(crate) fn column_of(input: &str, offset: usize) -> usize {
    let offset = offset.min(input.len());
    // Offsets always come from char boundaries; fall back to bytes otherwise.
    input
        .get(..offset)
        .map_or(offset, |prefix| prefix.chars().count())
        + 1
}

fn err<T>(offset: usize, message: impl Into<String>) -> PResult<T> {
    Err(ParseError {
        offset,
        message: message.into(),
    })
}

const KEYWORDS: [&str; 10] = [
    "AND", "OR", "NOT", "LIKE", "ILIKE", "IN", "IS", "NULL", "ASC", "DESC",
];

fn is_keyword(word: &str, keyword: &str) -> bool {
    word.eq_ignore_ascii_case(keyword)
}

pub(crate) struct Parser<'a> {
    input: &'a str,
    lexer: Lexer<'a>,
    peeked: Option<Token>,
    depth: usize,
}

impl<'a> Parser<'a> {
    pub fn new(input: &'a str) -> Self {
        Parser {
            input,
            lexer: Lexer::new(input),
            peeked: None,
            depth: 0,
        }
    }

    pub fn peek(&mut self) -> PResult<&Token> {
        if self.peeked.is_none() {
            self.peeked = Some(self.lexer.next_token()?);
        }
        // Just filled above.
        match self.peeked.as_ref() {
            Some(t) => Ok(t),
            None => err(self.input.len(), "internal: no token"),
        }
    }

    pub fn next(&mut self) -> PResult<Token> {
        match self.peeked.take() {
            Some(t) => Ok(t),
            None => Ok(self.lexer.next_token()?),
        }
    }

    /// Consumes the next token when it is the keyword `kw`.
    pub fn eat_keyword(&mut self, kw: &str) -> PResult<bool> {
        let hit = matches!(&self.peek()?.kind, Kind::Word(w) if is_keyword(w, kw));
        if hit {
            self.next()?;
        }
        Ok(hit)
    }

    /// Parses a whole filter; `None` for empty (or all-blank) input.
    pub fn filter(mut self) -> PResult<Option<Expr>> {
        if self.peek()?.kind == Kind::Eof {
            return Ok(None);
        }
        let expr = self.or()?;
        let tok = self.next()?;
        match tok.kind {
            Kind::Eof => Ok(Some(expr)),
            Kind::RParen => err(tok.start, "unmatched `)`"),
            other => err(
                tok.start,
                format!(
                    "expected AND, OR or the end of the filter, found {}",
                    other.describe()
                ),
            ),
        }
    }

    fn or(&mut self) -> PResult<Expr> {
        let first = self.and()?;
        let mut items = vec![first];
        while self.eat_keyword("OR")? {
            items.push(self.and()?);
        }
        Ok(if items.len() == 1 {
            items.swap_remove(0)
        } else {
            Expr::Or(items)
        })
    }

    fn and(&mut self) -> PResult<Expr> {
        let first = self.not()?;
        let mut items = vec![first];
        while self.eat_keyword("AND")? {
            items.push(self.not()?);
        }
        Ok(if items.len() == 1 {
            items.swap_remove(0)
        } else {
            Expr::And(items)
        })
    }

    fn enter(&mut self, at: usize) -> PResult<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return err(
                at,
                format!("the filter nests parentheses and NOTs more than {MAX_DEPTH} deep"),
            );
        }
        Ok(())
    }

    fn not(&mut self) -> PResult<Expr> {
        let tok = self.peek()?.clone();
        match &tok.kind {
            Kind::Word(w) if is_keyword(w, "NOT") => {
                self.next()?;
                self.enter(tok.start)?;
                let inner = self.not()?;
                self.depth -= 1;
                Ok(Expr::Not(Box::new(inner)))
            }
            Kind::LParen => {
                self.next()?;
                self.enter(tok.start)?;
                let inner = self.or()?;
                self.depth -= 1;
                let close = self.next()?;
                if close.kind != Kind::RParen {
                    return err(
                        close.start,
                        format!(
                            "expected `)` to close the `(` at column {}, found {}",
                            column_of(self.input, tok.start),
                            close.kind.describe()
                        ),
                    );
                }
                Ok(inner)
            }
            _ => self.predicate(),
        }
    }

    /// A field reference from one token (shared with order-by parsing).
    pub fn field(&mut self) -> PResult<(FieldRef, Token)> {
        let tok = self.next()?;
        let field = match &tok.kind {
            Kind::Word(w) => match Attribute::from_name(w) {
                Some(a) => FieldRef::Attribute(a),
                None if KEYWORDS.iter().any(|k| is_keyword(w, k)) => {
                    return err(
                        tok.start,
                        format!("expected a field, found the keyword `{}`", w.to_uppercase()),
                    );
                }
                None => {
                    return err(
                        tok.start,
                        format!(
                            "unknown field `{w}`: write metrics.{w}, params.{w} or tags.{w}, \
                             or use an attribute ({})",
                            attribute_list()
                        ),
                    );
                }
            },
            Kind::Field {
                prefix,
                key,
                key_start,
            } => match prefix.to_ascii_lowercase().as_str() {
                "metrics" | "metric" => FieldRef::Metric(key.clone()),
                "params" | "param" | "parameters" | "parameter" => FieldRef::Param(key.clone()),
                "tags" | "tag" => FieldRef::Tag(key.clone()),
                "attributes" | "attribute" | "attr" | "run" => match Attribute::from_name(key) {
                    Some(a) => FieldRef::Attribute(a),
                    None => {
                        return err(
                            *key_start,
                            format!("unknown attribute `{key}`: expected {}", attribute_list()),
                        );
                    }
                },
                _ => {
                    return err(
                        tok.start,
                        format!(
                            "unknown prefix `{prefix}.`: expected metrics., params., tags. \
                             or attributes."
                        ),
                    );
                }
            },
            other => {
                return err(
                    tok.start,
                    format!(
                        "expected a field (metrics.KEY, params.KEY, tags.KEY or an attribute), \
                         found {}",
                        other.describe()
                    ),
                );
            }
        };
        Ok((field, tok))
    }

    fn predicate(&mut self) -> PResult<Expr> {
        let (field, field_tok) = self.field()?;
        let field_text = &self.input[field_tok.start..field_tok.end];
        let tok = self.next()?;
        match tok.kind {
            Kind::Op(op) => {
                if !field.is_numeric() && op.is_ordering() {
                    return err(
                        tok.start,
                        format!(
                            "`{op}` does not apply to {}: params, tags and text attributes \
                             compare with =, !=, LIKE, ILIKE or IN (as in MLflow)",
                            field.describe()
                        ),
                    );
                }
                let value = self.literal(&field, &format!("`{op}`"))?;
                Ok(Expr::Compare { field, op, value })
            }
            Kind::Word(ref w) => {
                let negated = is_keyword(w, "NOT");
                let kw_tok = if negated { self.next()? } else { tok };
                let Kind::Word(kw) = &kw_tok.kind else {
                    return err(
                        kw_tok.start,
                        format!(
                            "expected LIKE, ILIKE or IN after NOT, found {}",
                            kw_tok.kind.describe()
                        ),
                    );
                };
                if is_keyword(kw, "LIKE") || is_keyword(kw, "ILIKE") {
                    self.like(field, &kw_tok, is_keyword(kw, "ILIKE"), negated)
                } else if is_keyword(kw, "IN") {
                    self.in_list(field, negated)
                } else if !negated && is_keyword(kw, "IS") {
                    let negated = self.eat_keyword("NOT")?;
                    let null = self.next()?;
                    if !matches!(&null.kind, Kind::Word(w) if is_keyword(w, "NULL")) {
                        let expected = if negated { "NULL" } else { "NULL or NOT NULL" };
                        return err(
                            null.start,
                            format!(
                                "expected {expected} after IS, found {}",
                                null.kind.describe()
                            ),
                        );
                    }
                    Ok(Expr::IsNull { field, negated })
                } else if negated {
                    err(
                        kw_tok.start,
                        format!(
                            "expected LIKE, ILIKE or IN after NOT, found {}",
                            kw_tok.kind.describe()
                        ),
                    )
                } else {
                    err(kw_tok.start, expected_operator(field_text, &kw_tok.kind))
                }
            }
            other => err(tok.start, expected_operator(field_text, &other)),
        }
    }

    fn like(
        &mut self,
        field: FieldRef,
        kw_tok: &Token,
        ignore_case: bool,
        negated: bool,
    ) -> PResult<Expr> {
        let kw = if ignore_case { "ILIKE" } else { "LIKE" };
        if field.is_numeric() {
            return err(
                kw_tok.start,
                format!(
                    "{kw} applies to text; {} is a number, compare it with =, !=, <, <=, > or >=",
                    field.describe()
                ),
            );
        }
        let tok = self.next()?;
        let Kind::Str(source) = &tok.kind else {
            return err(
                tok.start,
                format!(
                    "expected a quoted pattern after {kw}, found {}",
                    tok.kind.describe()
                ),
            );
        };
        let pattern = LikePattern::new(source, ignore_case).map_err(|_| ParseError {
            offset: tok.start,
            message: "the pattern ends with a lone backslash, which escapes nothing".to_owned(),
        })?;
        Ok(Expr::Like {
            field,
            pattern,
            negated,
        })
    }

    fn in_list(&mut self, field: FieldRef, negated: bool) -> PResult<Expr> {
        let open = self.next()?;
        if open.kind != Kind::LParen {
            return err(
                open.start,
                format!("expected `(` after IN, found {}", open.kind.describe()),
            );
        }
        let mut values = Vec::new();
        loop {
            if values.is_empty() && self.peek()?.kind == Kind::RParen {
                let t = self.next()?;
                return err(t.start, "an IN list needs at least one value");
            }
            let context = if values.is_empty() { "`(`" } else { "`,`" };
            values.push(self.literal(&field, context)?);
            let sep = self.next()?;
            match sep.kind {
                Kind::Comma => {}
                Kind::RParen => break,
                other => {
                    return err(
                        sep.start,
                        format!(
                            "expected `,` or `)` in the IN list, found {}",
                            other.describe()
                        ),
                    );
                }
            }
        }
        Ok(Expr::In {
            field,
            values,
            negated,
        })
    }

    /// A literal compared with `field`, checked against the field's type.
    /// `after` names what precedes it, for the error message.
    fn literal(&mut self, field: &FieldRef, after: &str) -> PResult<Literal> {
        let tok = self.next()?;
        match tok.kind {
            Kind::Number(n) if field.is_numeric() => Ok(Literal::Number(n)),
            Kind::Number(_) => {
                let raw = &self.input[tok.start..tok.end];
                err(
                    tok.start,
                    format!(
                        "{} holds text: quote the value, as in '{raw}'",
                        field.describe()
                    ),
                )
            }
            Kind::Str(_) if field.is_numeric() => err(
                tok.start,
                format!(
                    "{} is a number: compare it with a number, not a string",
                    field.describe()
                ),
            ),
            Kind::Str(s) if field == &FieldRef::Attribute(Attribute::Status) => {
                let upper = s.to_ascii_uppercase();
                if RUN_STATUSES.contains(&upper.as_str()) {
                    Ok(Literal::Text(upper))
                } else {
                    err(
                        tok.start,
                        format!(
                            "unknown run status '{s}': expected one of {}",
                            RUN_STATUSES.join(", ")
                        ),
                    )
                }
            }
            Kind::Str(s) => Ok(Literal::Text(s)),
            Kind::Word(w) if !field.is_numeric() && !KEYWORDS.iter().any(|k| is_keyword(&w, k)) => {
                err(
                    tok.start,
                    format!("expected a value after {after}, found `{w}`: quote text, as in '{w}'"),
                )
            }
            other => err(
                tok.start,
                format!("expected a value after {after}, found {}", other.describe()),
            ),
        }
    }
}

fn attribute_list() -> String {
    Attribute::ALL.map(Attribute::name).join(", ")
}

fn expected_operator(field_text: &str, found: &Kind) -> String {
    format!(
        "expected an operator (=, !=, <, <=, >, >=, LIKE, ILIKE, IN, IS) after `{field_text}`, \
         found {}",
        found.describe()
    )
}
