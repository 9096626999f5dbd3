//! Tests for parsing, errors, evaluation, index hints and ordering.

use super::*;
use std::collections::BTreeMap;
use std::ops::{Bound, RangeBounds};

use proptest::prelude::*;

/// A run for tests: everything optional.
#[derive(Debug, Clone, Default)]
struct Run {
    metrics: BTreeMap<String, f64>,
    params: BTreeMap<String, String>,
    tags: BTreeMap<String, String>,
    status: Option<String>,
    start: Option<i64>,
    end: Option<i64>,
    name: Option<String>,
    experiment: Option<String>,
    id: Option<String>,
}

impl Run {
    fn new() -> Run {
        Run::default()
    }
    fn metric(mut self, k: &str, v: f64) -> Run {
        self.metrics.insert(k.into(), v);
        self
    }
    fn param(mut self, k: &str, v: &str) -> Run {
        self.params.insert(k.into(), v.into());
        self
    }
    fn tag(mut self, k: &str, v: &str) -> Run {
        self.tags.insert(k.into(), v.into());
        self
    }
    fn status(mut self, s: &str) -> Run {
        self.status = Some(s.into());
        self
    }
    fn times(mut self, start: i64, end: Option<i64>) -> Run {
        self.start = Some(start);
        self.end = end;
        self
    }
    fn name(mut self, n: &str) -> Run {
        self.name = Some(n.into());
        self
    }
}

impl Searchable for Run {
    fn metric(&self, key: &str) -> Option<f64> {
        self.metrics.get(key).copied()
    }
    fn param(&self, key: &str) -> Option<&str> {
        self.params.get(key).map(String::as_str)
    }
    fn tag(&self, key: &str) -> Option<&str> {
        self.tags.get(key).map(String::as_str)
    }
    fn attribute(&self, attr: Attribute) -> Option<AttrValue<'_>> {
        match attr {
            Attribute::Status => self.status.as_deref().map(AttrValue::Text),
            Attribute::StartTime => self.start.map(AttrValue::Time),
            Attribute::EndTime => self.end.map(AttrValue::Time),
            Attribute::RunName => self.name.as_deref().map(AttrValue::Text),
            Attribute::Experiment => self.experiment.as_deref().map(AttrValue::Text),
            Attribute::RunId => self.id.as_deref().map(AttrValue::Text),
        }
    }
}

fn parse(s: &str) -> Expr {
    match Filter::parse(s) {
        Ok(f) => f.expr().cloned().expect("non-empty filter"),
        Err(e) => panic!("{s:?} should parse: {e}"),
    }
}

fn metric(k: &str) -> FieldRef {
    FieldRef::Metric(k.into())
}
fn param(k: &str) -> FieldRef {
    FieldRef::Param(k.into())
}
fn tag(k: &str) -> FieldRef {
    FieldRef::Tag(k.into())
}
fn cmp(field: FieldRef, op: CmpOp, value: Literal) -> Expr {
    Expr::Compare { field, op, value }
}
fn num(n: f64) -> Literal {
    Literal::Number(n)
}
fn text(s: &str) -> Literal {
    Literal::Text(s.into())
}

/// The column and message of a rejected filter.
fn error_at(s: &str) -> (usize, String) {
    match Filter::parse(s) {
        Err(Error::InvalidFilter {
            input,
            column,
            message,
        }) => {
            assert_eq!(input, s);
            (column, message)
        }
        Err(other) => panic!("{s:?}: wrong error {other:?}"),
        Ok(f) => panic!("{s:?} should not parse, got {f:?}"),
    }
}

// ---------------------------------------------------------------- parsing

#[test]
fn parses_the_design_example() {
    let e = parse("metrics.auc > 0.8 AND (params.model = 'rf' OR tags.team = 'growth')");
    assert_eq!(
        e,
        Expr::And(vec![
            cmp(metric("auc"), CmpOp::Gt, num(0.8)),
            Expr::Or(vec![
                cmp(param("model"), CmpOp::Eq, text("rf")),
                cmp(tag("team"), CmpOp::Eq, text("growth")),
            ]),
        ])
    );
}

#[test]
fn and_binds_tighter_than_or_and_not_tighter_than_and() {
    let a = || cmp(metric("a"), CmpOp::Eq, num(1.0));
    let b = || cmp(metric("b"), CmpOp::Eq, num(2.0));
    let c = || cmp(metric("c"), CmpOp::Eq, num(3.0));
    assert_eq!(
        parse("metrics.a = 1 OR metrics.b = 2 AND metrics.c = 3"),
        Expr::Or(vec![a(), Expr::And(vec![b(), c()])])
    );
    assert_eq!(
        parse("metrics.a = 1 AND metrics.b = 2 OR metrics.c = 3"),
        Expr::Or(vec![Expr::And(vec![a(), b()]), c()])
    );
    assert_eq!(
        parse("NOT metrics.a = 1 AND metrics.b = 2"),
        Expr::And(vec![Expr::Not(Box::new(a())), b()])
    );
    assert_eq!(
        parse("NOT (metrics.a = 1 AND metrics.b = 2)"),
        Expr::Not(Box::new(Expr::And(vec![a(), b()])))
    );
    assert_eq!(
        parse("(metrics.a = 1 OR metrics.b = 2) AND metrics.c = 3"),
        Expr::And(vec![Expr::Or(vec![a(), b()]), c()])
    );
    assert_eq!(
        parse("NOT NOT metrics.a = 1"),
        Expr::Not(Box::new(Expr::Not(Box::new(a()))))
    );
    // Chains collect into one node; explicit groups stay nested.
    assert_eq!(
        parse("metrics.a = 1 AND metrics.b = 2 AND metrics.c = 3"),
        Expr::And(vec![a(), b(), c()])
    );
    assert_eq!(
        parse("metrics.a = 1 AND (metrics.b = 2 AND metrics.c = 3)"),
        Expr::And(vec![a(), Expr::And(vec![b(), c()])])
    );
    assert_eq!(parse("((metrics.a = 1))"), a());
}

#[test]
fn keywords_ignore_case() {
    let lower = parse(
        "metrics.a > 1 and not params.m like 'x%' or tags.t not in ('a') or status is not null",
    );
    let upper = parse(
        "metrics.a > 1 AND NOT params.m LIKE 'x%' OR tags.t NOT IN ('a') OR status IS NOT NULL",
    );
    assert_eq!(lower, upper);
    assert_eq!(parse("Metrics.a = 1"), parse("metrics.a = 1"));
    assert_eq!(parse("STATUS = 'finished'"), parse("status = 'FINISHED'"));
}

#[test]
fn operators() {
    for (text, op) in [
        ("=", CmpOp::Eq),
        ("==", CmpOp::Eq),
        ("!=", CmpOp::Ne),
        ("<>", CmpOp::Ne),
        ("<", CmpOp::Lt),
        ("<=", CmpOp::Le),
        (">", CmpOp::Gt),
        (">=", CmpOp::Ge),
    ] {
        assert_eq!(
            parse(&format!("metrics.x {text} 2")),
            cmp(metric("x"), op, num(2.0)),
            "{text}"
        );
        // No spaces needed.
        assert_eq!(
            parse(&format!("metrics.x{text}2")),
            cmp(metric("x"), op, num(2.0))
        );
    }
}

#[test]
fn numbers() {
    for (text, n) in [
        ("0.8", 0.8),
        ("-3", -3.0),
        ("+3", 3.0),
        (".5", 0.5),
        ("-.5", -0.5),
        ("5.", 5.0),
        ("1e-4", 1e-4),
        ("2.5E3", 2500.0),
        ("1700000000000", 1.7e12),
    ] {
        assert_eq!(
            parse(&format!("metrics.x < {text}")),
            cmp(metric("x"), CmpOp::Lt, num(n)),
            "{text}"
        );
    }
}

#[test]
fn strings_quotes_and_escapes() {
    let v = |s: &str| match parse(&format!("params.p = {s}")) {
        Expr::Compare {
            value: Literal::Text(t),
            ..
        } => t,
        other => panic!("{other:?}"),
    };
    assert_eq!(v("'rf'"), "rf");
    assert_eq!(v("\"rf\""), "rf");
    assert_eq!(v("''"), "");
    assert_eq!(v(r"'it\'s'"), "it's");
    assert_eq!(v("'it''s'"), "it's");
    assert_eq!(v(r#""say \"hi\"""#), "say \"hi\"");
    assert_eq!(v(r#""a 'b'""#), "a 'b'");
    assert_eq!(v(r"'a\\b'"), r"a\b");
    assert_eq!(v(r"'a\nb\tc'"), "a\nb\tc");
    assert_eq!(v("'héllo wörld'"), "héllo wörld");
    assert_eq!(v("'AND OR NOT ( )'"), "AND OR NOT ( )");
}

#[test]
fn keys_plain_and_quoted() {
    let field = |s: &str| match parse(&format!("{s} = 'x'")) {
        Expr::Compare { field, .. } => field,
        other => panic!("{other:?}"),
    };
    assert_eq!(field("tags.mlflow.source.type"), tag("mlflow.source.type"));
    assert_eq!(field("params.lr-schedule/v2:a"), param("lr-schedule/v2:a"));
    assert_eq!(field("params.`max depth`"), param("max depth"));
    assert_eq!(field("params.\"max depth\""), param("max depth"));
    assert_eq!(field("params.`a.b c`"), param("a.b c"));
    assert_eq!(field("params.1st"), param("1st"));
    assert_eq!(field("param.x"), param("x"));
    assert_eq!(field("parameters.x"), param("x"));
    assert_eq!(field("tag.x"), tag("x"));
    assert_eq!(
        parse("metrics.`val auc` >= 1"),
        cmp(metric("val auc"), CmpOp::Ge, num(1.0))
    );
    assert_eq!(
        parse("metric.auc >= 1"),
        cmp(metric("auc"), CmpOp::Ge, num(1.0))
    );
}

#[test]
fn attributes_bare_and_prefixed() {
    for a in Attribute::ALL {
        let value = if a.is_time() { "5" } else { "'FINISHED'" };
        let bare = parse(&format!("{} = {value}", a.name()));
        for prefix in ["attributes", "attribute", "attr", "run"] {
            assert_eq!(
                parse(&format!("{prefix}.{} = {value}", a.name())),
                bare,
                "{prefix}.{a}"
            );
        }
        assert!(matches!(bare, Expr::Compare { field: FieldRef::Attribute(x), .. } if x == a));
    }
}

#[test]
fn like_in_and_null_forms() {
    match parse("params.m NOT ILIKE 'RF%'") {
        Expr::Like {
            field,
            pattern,
            negated,
        } => {
            assert_eq!(field, param("m"));
            assert!(negated);
            assert!(pattern.ignores_case());
            assert_eq!(pattern.source(), "RF%");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        parse("params.m IN ('rf', \"gbm\")"),
        Expr::In {
            field: param("m"),
            values: vec![text("rf"), text("gbm")],
            negated: false
        }
    );
    assert_eq!(
        parse("metrics.k not in (1, 2.5)"),
        Expr::In {
            field: metric("k"),
            values: vec![num(1.0), num(2.5)],
            negated: true
        }
    );
    assert_eq!(
        parse("status IN ('running','Killed')"),
        Expr::In {
            field: FieldRef::Attribute(Attribute::Status),
            values: vec![text("RUNNING"), text("KILLED")],
            negated: false
        }
    );
    assert_eq!(
        parse("end_time IS NULL"),
        Expr::IsNull {
            field: FieldRef::Attribute(Attribute::EndTime),
            negated: false
        }
    );
    assert_eq!(
        parse("tags.x is not null"),
        Expr::IsNull {
            field: tag("x"),
            negated: true
        }
    );
}

#[test]
fn empty_filter_matches_everything() {
    for s in ["", "   ", "\n\t"] {
        let f = Filter::parse(s).unwrap();
        assert!(f.is_all());
        assert!(f.matches(&Run::new()));
        assert!(f.index_hints().is_empty());
        assert_eq!(f.to_string(), "");
    }
}

#[test]
fn display_is_canonical_and_reparses() {
    for (input, canonical) in [
        (
            "metrics.auc>0.8 and (params.model='rf' or tags.team=\"growth\")",
            "metrics.auc > 0.8 AND (params.model = 'rf' OR tags.team = 'growth')",
        ),
        (
            "not (metrics.a = 1 or metrics.b = 2)",
            "NOT (metrics.a = 1.0 OR metrics.b = 2.0)",
        ),
        (
            "metrics.a = 1 and (metrics.b = 2 and metrics.c = 3)",
            "metrics.a = 1.0 AND (metrics.b = 2.0 AND metrics.c = 3.0)",
        ),
        (
            "params.`max depth` != 'it''s'",
            "params.`max depth` != 'it\\'s'",
        ),
        (
            "status in ('failed', 'killed')",
            "status IN ('FAILED', 'KILLED')",
        ),
        ("attr.run_name not ilike 'A%'", "run_name NOT ILIKE 'A%'"),
        ("tags.t is not null", "tags.t IS NOT NULL"),
        (
            "start_time >= 1700000000000",
            "start_time >= 1700000000000.0",
        ),
    ] {
        let f = Filter::parse(input).unwrap();
        assert_eq!(f.to_string(), canonical, "{input}");
        assert_eq!(Filter::parse(canonical).unwrap(), f, "{canonical}");
    }
}

// ---------------------------------------------------------------- errors

#[test]
fn malformed_filters_point_at_the_offending_column() {
    let cases: &[(&str, usize, &str)] = &[
        // column 15 is the `AND` where a value should be
        (
            "metrics.auc > AND params.model = 'rf'",
            15,
            "expected a value after `>`, found `AND`",
        ),
        (
            "metrics.auc >",
            14,
            "expected a value after `>`, found the end of the input",
        ),
        (
            "metrics.auc 0.8",
            13,
            "expected an operator (=, !=, <, <=, >, >=, LIKE, ILIKE, IN, IS) after `metrics.auc`, found the number 0.8",
        ),
        (
            "metrics.auc > 0.8 AND",
            22,
            "expected a field (metrics.KEY, params.KEY, tags.KEY or an attribute), found the end of the input",
        ),
        (
            "metrics.auc > 0.8 params.x = 'a'",
            19,
            "expected AND, OR or the end of the filter, found `params.x`",
        ),
        (
            "(metrics.auc > 0.8",
            19,
            "expected `)` to close the `(` at column 1, found the end of the input",
        ),
        (
            "metrics.a = 1 AND (metrics.b = 2 OR (metrics.c = 3)",
            52,
            "expected `)` to close the `(` at column 19, found the end of the input",
        ),
        ("metrics.auc > 0.8)", 18, "unmatched `)`"),
        (
            "()",
            2,
            "expected a field (metrics.KEY, params.KEY, tags.KEY or an attribute), found `)`",
        ),
        (
            "params.model = 'rf",
            16,
            "unterminated string: missing closing '",
        ),
        (
            "params.model = 'a\\qb'",
            18,
            "unknown escape `\\q` (known: \\\\, \\', \\\", \\n, \\t, \\r, \\%, \\_)",
        ),
        (
            "metrics. > 1",
            9,
            "expected a key after `metrics.` (quote keys with spaces or symbols in backticks: metrics.`my key`)",
        ),
        (
            "metrics.`val auc > 1",
            9,
            "unterminated key: missing closing `",
        ),
        ("metrics.`` > 1", 9, "empty key after `metrics.`"),
        (
            "foo.bar = 1",
            1,
            "unknown prefix `foo.`: expected metrics., params., tags. or attributes.",
        ),
        (
            "attributes.colour = 'red'",
            12,
            "unknown attribute `colour`: expected status, start_time, end_time, run_name, experiment, run_id",
        ),
        (
            "auc > 0.8",
            1,
            "unknown field `auc`: write metrics.auc, params.auc or tags.auc, or use an attribute (status, start_time, end_time, run_name, experiment, run_id)",
        ),
        (
            "AND metrics.a = 1",
            1,
            "expected a field, found the keyword `AND`",
        ),
        (
            "params.model > 'rf'",
            14,
            "`>` does not apply to param `model`: params, tags and text attributes compare with =, !=, LIKE, ILIKE or IN (as in MLflow)",
        ),
        (
            "tags.team <= 'a'",
            11,
            "`<=` does not apply to tag `team`: params, tags and text attributes compare with =, !=, LIKE, ILIKE or IN (as in MLflow)",
        ),
        (
            "params.depth = 5",
            16,
            "param `depth` holds text: quote the value, as in '5'",
        ),
        (
            "metrics.auc = '0.8'",
            15,
            "metric `auc` is a number: compare it with a number, not a string",
        ),
        (
            "start_time > 'yesterday'",
            14,
            "attribute `start_time` is a number: compare it with a number, not a string",
        ),
        (
            "metrics.auc LIKE '0.8%'",
            13,
            "LIKE applies to text; metric `auc` is a number, compare it with =, !=, <, <=, > or >=",
        ),
        (
            "status = 'DONE'",
            10,
            "unknown run status 'DONE': expected one of RUNNING, FINISHED, FAILED, KILLED",
        ),
        (
            "status IN ('FINISHED', 'done')",
            24,
            "unknown run status 'done': expected one of RUNNING, FINISHED, FAILED, KILLED",
        ),
        ("params.m IN ()", 14, "an IN list needs at least one value"),
        (
            "params.m IN 'a'",
            13,
            "expected `(` after IN, found the string 'a'",
        ),
        (
            "params.m IN ('a' 'b')",
            18,
            "expected `,` or `)` in the IN list, found the string 'b'",
        ),
        (
            "params.m IN ('a',)",
            18,
            "expected a value after `,`, found `)`",
        ),
        (
            "params.m NOT = 'a'",
            14,
            "expected LIKE, ILIKE or IN after NOT, found `=`",
        ),
        (
            "params.m NOT BETWEEN 'a'",
            14,
            "expected LIKE, ILIKE or IN after NOT, found `BETWEEN`",
        ),
        (
            "params.m LIKE 5",
            15,
            "expected a quoted pattern after LIKE, found the number 5",
        ),
        (
            "params.m LIKE 'ab\\\\'",
            15,
            "the pattern ends with a lone backslash, which escapes nothing",
        ),
        (
            "tags.t IS 'x'",
            11,
            "expected NULL or NOT NULL after IS, found the string 'x'",
        ),
        (
            "tags.t IS NOT 1",
            15,
            "expected NULL after IS, found the number 1",
        ),
        (
            "metrics.a ! 1",
            11,
            "`!` must be followed by `=`; use NOT to negate",
        ),
        (
            "metrics.a = 1 & metrics.b = 2",
            15,
            "unexpected character `&`: write AND",
        ),
        (
            "metrics.a = 1 || metrics.b = 2",
            15,
            "unexpected character `|`: write OR",
        ),
        (
            "params.model = rf",
            16,
            "expected a value after `=`, found `rf`: quote text, as in 'rf'",
        ),
        (
            "params.model IN ('gbm', rf)",
            25,
            "expected a value after `,`, found `rf`: quote text, as in 'rf'",
        ),
        (
            "status = FINISHED",
            10,
            "expected a value after `=`, found `FINISHED`: quote text, as in 'FINISHED'",
        ),
        ("metrics.a = b", 13, "expected a value after `=`, found `b`"),
        ("metrics.a = 1.2.3", 13, "malformed number `1.2.`"),
        ("metrics.a = 12abc", 13, "malformed number `12a`"),
        ("metrics.a = 1e", 14, "exponent without digits"),
        ("metrics.a = 1e999", 13, "number `1e999` is out of range"),
        (
            "`val auc` > 1",
            1,
            "a backtick-quoted key must follow a prefix, as in metrics.`val auc`",
        ),
        // Columns count characters, not bytes.
        (
            "params.`ñame` = 'é' AND",
            24,
            "expected a field (metrics.KEY, params.KEY, tags.KEY or an attribute), found the end of the input",
        ),
        ("params.m = 'é' ~", 16, "unexpected character `~`"),
    ];
    for (input, column, message) in cases {
        let (c, m) = error_at(input);
        assert_eq!((c, m.as_str()), (*column, *message), "{input}");
    }
}

#[test]
fn non_ascii_key_needs_quotes_and_says_where() {
    // `ñ` is not a plain key character: the key stops before it.
    let (c, m) = error_at("params.ñame = 'x'");
    assert_eq!(c, 8);
    assert!(m.starts_with("expected a key after `params.`"), "{m}");
    assert_eq!(
        parse("params.`ñame` = 'x'"),
        cmp(param("ñame"), CmpOp::Eq, text("x"))
    );
}

#[test]
fn display_names_the_column_and_the_input() {
    let err = Filter::parse("metrics.auc > 0.8 AND (params.model = 'rf' OR)").unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid filter at column 46: expected a field (metrics.KEY, params.KEY, tags.KEY or an \
         attribute), found `)` (in `metrics.auc > 0.8 AND (params.model = 'rf' OR)`)"
    );
}

#[test]
fn deep_nesting_is_an_error_not_a_stack_overflow() {
    let ok = format!("{}metrics.a = 1{}", "(".repeat(60), ")".repeat(60));
    assert!(Filter::parse(&ok).is_ok());
    let deep = format!(
        "{}metrics.a = 1{}",
        "(".repeat(100_000),
        ")".repeat(100_000)
    );
    let (c, m) = error_at(&deep);
    assert_eq!(c, parser::MAX_DEPTH + 1);
    assert_eq!(m, "the filter nests parentheses and NOTs more than 64 deep");
    let nots = format!("{}metrics.a = 1", "NOT ".repeat(100_000));
    assert_eq!(error_at(&nots).0, 4 * parser::MAX_DEPTH + 1);
}

// ------------------------------------------------------------- evaluation

fn matches(filter: &str, run: &Run) -> bool {
    Filter::parse(filter).unwrap().matches(run)
}

fn three(filter: &str, run: &Run) -> Option<bool> {
    Filter::parse(filter).unwrap().evaluate(run)
}

#[test]
fn design_example_truth_table() {
    let f = Filter::parse("metrics.auc > 0.8 AND (params.model = 'rf' OR tags.team = 'growth')")
        .unwrap();
    let cases = [
        (Run::new().metric("auc", 0.9).param("model", "rf"), true),
        (Run::new().metric("auc", 0.9).tag("team", "growth"), true),
        (
            Run::new()
                .metric("auc", 0.9)
                .param("model", "gbm")
                .tag("team", "growth"),
            true,
        ),
        (
            Run::new()
                .metric("auc", 0.9)
                .param("model", "gbm")
                .tag("team", "ops"),
            false,
        ),
        (Run::new().metric("auc", 0.8).param("model", "rf"), false),
        (Run::new().param("model", "rf"), false),
        (Run::new().metric("auc", 0.9), false),
        (
            Run::new().metric("auc", f64::NAN).param("model", "rf"),
            false,
        ),
    ];
    for (run, expected) in cases {
        assert_eq!(f.matches(&run), expected, "{run:?}");
    }
}

#[test]
fn comparisons_on_numbers() {
    let r = Run::new().metric("x", 2.0).times(1000, Some(5000));
    for (f, expected) in [
        ("metrics.x = 2", true),
        ("metrics.x = 2.0000001", false),
        ("metrics.x != 2", false),
        ("metrics.x != 3", true),
        ("metrics.x < 2", false),
        ("metrics.x <= 2", true),
        ("metrics.x > 1.5", true),
        ("metrics.x >= 2.5", false),
        ("metrics.x IN (1, 2)", true),
        ("metrics.x NOT IN (1, 2)", false),
        ("metrics.x NOT IN (1, 3)", true),
        ("start_time >= 1000 AND end_time < 5001", true),
        ("start_time > 1000", false),
        ("end_time <= 5000 AND end_time > 4999.5", true),
    ] {
        assert_eq!(matches(f, &r), expected, "{f}");
    }
}

#[test]
fn comparisons_on_text() {
    let r = Run::new()
        .param("model", "rf")
        .tag("team", "Growth")
        .status("FINISHED")
        .name("brave-owl-42");
    for (f, expected) in [
        ("params.model = 'rf'", true),
        ("params.model = 'RF'", false),
        ("params.model != 'gbm'", true),
        ("params.model IN ('gbm', 'rf')", true),
        ("params.model NOT IN ('gbm', 'rf')", false),
        ("tags.team LIKE 'G%'", true),
        ("tags.team LIKE 'g%'", false),
        ("tags.team ILIKE 'g%'", true),
        ("tags.team NOT LIKE '%th'", false),
        ("tags.team NOT ILIKE '%TH'", false),
        ("status = 'finished'", true),
        ("status != 'RUNNING'", true),
        ("status IN ('FAILED', 'KILLED')", false),
        ("status LIKE 'FIN%'", true),
        ("run_name LIKE 'brave-%-__'", true),
        ("run_name = 'brave-owl-42'", true),
    ] {
        assert_eq!(matches(f, &r), expected, "{f}");
    }
    // A tracker may report the status in another case.
    let lower = Run::new().status("finished");
    assert!(matches("status = 'FINISHED'", &lower));
    assert!(matches("status IN ('FINISHED')", &lower));
}

#[test]
fn missing_values_are_unknown_and_never_match() {
    let r = Run::new().metric("auc", 0.9).times(10, None);
    for f in [
        "metrics.loss < 1",
        "metrics.loss != 1",
        "NOT metrics.loss < 1",
        "params.model = 'rf'",
        "params.model != 'rf'",
        "NOT params.model = 'rf'",
        "params.model NOT IN ('rf')",
        "params.model NOT LIKE 'r%'",
        "tags.team LIKE '%'",
        "end_time > 0",
        "NOT end_time > 0",
        "run_name != 'x'",
    ] {
        assert_eq!(three(f, &r), None, "{f}");
        assert!(!matches(f, &r), "{f}");
    }
    assert!(matches("params.model IS NULL", &r));
    assert!(!matches("params.model IS NOT NULL", &r));
    assert!(matches("end_time IS NULL", &r));
    assert!(matches("metrics.auc IS NOT NULL", &r));
    assert!(matches("NOT metrics.auc IS NULL", &r));
    assert!(matches("params.model IS NULL OR params.model != 'rf'", &r));
}

#[test]
fn nan_metric_is_present_but_incomparable() {
    let r = Run::new().metric("loss", f64::NAN);
    for f in [
        "metrics.loss = 1",
        "metrics.loss != 1",
        "metrics.loss < 1",
        "metrics.loss >= 1",
        "metrics.loss IN (1)",
        "metrics.loss NOT IN (1)",
    ] {
        assert_eq!(three(f, &r), None, "{f}");
    }
    assert!(matches("metrics.loss IS NOT NULL", &r));
}

#[test]
fn kleene_truth_tables() {
    // a: true, b: false, u: unknown (missing metric).
    let r = Run::new().metric("t", 1.0).metric("f", 0.0);
    let atom = |v: Option<bool>| match v {
        Some(true) => "metrics.t = 1",
        Some(false) => "metrics.f = 1",
        None => "metrics.u = 1",
    };
    let values = [Some(true), Some(false), None];
    for x in values {
        assert_eq!(three(&format!("NOT {}", atom(x)), &r), x.map(|b| !b));
        for y in values {
            let and = match (x, y) {
                (Some(false), _) | (_, Some(false)) => Some(false),
                (Some(true), Some(true)) => Some(true),
                _ => None,
            };
            let or = match (x, y) {
                (Some(true), _) | (_, Some(true)) => Some(true),
                (Some(false), Some(false)) => Some(false),
                _ => None,
            };
            assert_eq!(
                three(&format!("{} AND {}", atom(x), atom(y)), &r),
                and,
                "{x:?} AND {y:?}"
            );
            assert_eq!(
                three(&format!("{} OR {}", atom(x), atom(y)), &r),
                or,
                "{x:?} OR {y:?}"
            );
        }
    }
}

#[test]
fn conjuncts_are_the_top_level_and() {
    let f = Filter::parse("metrics.a > 1 AND (metrics.b > 1 OR metrics.c > 1) AND tags.x = 'y'")
        .unwrap();
    assert_eq!(f.conjuncts().len(), 3);
    assert_eq!(Filter::parse("metrics.a > 1").unwrap().conjuncts().len(), 1);
    assert_eq!(
        Filter::parse("metrics.a > 1 OR metrics.b > 1")
            .unwrap()
            .conjuncts()
            .len(),
        1
    );
    assert!(Filter::all().conjuncts().is_empty());
}

// ------------------------------------------------------------ index hints

#[test]
fn hints_for_the_design_example() {
    let f = Filter::parse("metrics.auc > 0.8 AND (params.model = 'rf' OR tags.team = 'growth')")
        .unwrap();
    assert_eq!(
        f.index_hints(),
        vec![
            IndexHint::Range {
                field: metric("auc"),
                range: NumRange {
                    lower: Bound::Excluded(0.8),
                    upper: Bound::Unbounded
                }
            },
            IndexHint::AnyOf(vec![
                vec![IndexHint::OneOf {
                    field: param("model"),
                    values: vec!["rf".into()]
                }],
                vec![IndexHint::OneOf {
                    field: tag("team"),
                    values: vec!["growth".into()]
                }],
            ]),
        ]
    );
}

#[test]
fn hints_merge_ranges_and_follow_negation() {
    let hints = |s: &str| Filter::parse(s).unwrap().index_hints();
    assert_eq!(
        hints("start_time >= 100 AND start_time < 200 AND status = 'finished'"),
        vec![
            IndexHint::Range {
                field: FieldRef::Attribute(Attribute::StartTime),
                range: NumRange {
                    lower: Bound::Included(100.0),
                    upper: Bound::Excluded(200.0)
                }
            },
            IndexHint::OneOf {
                field: FieldRef::Attribute(Attribute::Status),
                values: vec!["FINISHED".into()]
            },
        ]
    );
    // NOT (x > 5) is true exactly when x <= 5 (x present, not NaN).
    assert_eq!(
        hints("NOT metrics.x > 5"),
        vec![IndexHint::Range {
            field: metric("x"),
            range: NumRange {
                lower: Bound::Unbounded,
                upper: Bound::Included(5.0)
            }
        }]
    );
    // De Morgan: NOT (a OR b) needs both to be false.
    assert_eq!(
        hints("NOT (params.a != 'x' OR metrics.b < 1)"),
        vec![
            IndexHint::OneOf {
                field: param("a"),
                values: vec!["x".into()]
            },
            IndexHint::Range {
                field: metric("b"),
                range: NumRange {
                    lower: Bound::Included(1.0),
                    upper: Bound::Unbounded
                }
            },
        ]
    );
    assert_eq!(
        hints("run_name LIKE 'nightly-%' AND tags.t ILIKE 'x%' AND params.p != 'a'"),
        vec![
            IndexHint::Prefix {
                field: FieldRef::Attribute(Attribute::RunName),
                prefix: "nightly-".into()
            },
            IndexHint::Present { field: tag("t") },
            IndexHint::Present { field: param("p") },
        ]
    );
    assert_eq!(
        hints("metrics.k IN (1, 2)"),
        vec![IndexHint::AnyOf(vec![
            vec![IndexHint::Range {
                field: metric("k"),
                range: NumRange::from_comparison(CmpOp::Eq, 1.0).unwrap()
            }],
            vec![IndexHint::Range {
                field: metric("k"),
                range: NumRange::from_comparison(CmpOp::Eq, 2.0).unwrap()
            }],
        ])]
    );
    // Present is dropped when the field is constrained more tightly, and for
    // status, which every run has.
    assert_eq!(
        hints("params.p IS NOT NULL AND params.p = 'a' AND status != 'FAILED'"),
        vec![IndexHint::OneOf {
            field: param("p"),
            values: vec!["a".into()]
        }]
    );
    // An OR of equalities on one field is one lookup.
    assert_eq!(
        hints(
            "params.m = 'rf' OR params.m IN ('gbm', 'rf') OR (params.m = 'lr' AND metrics.a > 1)"
        ),
        vec![IndexHint::AnyOf(vec![
            vec![IndexHint::OneOf {
                field: param("m"),
                values: vec!["rf".into()]
            }],
            vec![IndexHint::OneOf {
                field: param("m"),
                values: vec!["gbm".into(), "rf".into()]
            }],
            vec![
                IndexHint::OneOf {
                    field: param("m"),
                    values: vec!["lr".into()]
                },
                IndexHint::Range {
                    field: metric("a"),
                    range: NumRange::from_comparison(CmpOp::Gt, 1.0).unwrap()
                },
            ],
        ])]
    );
    assert_eq!(
        hints("status = 'FAILED' OR status IN ('KILLED', 'failed')"),
        vec![IndexHint::OneOf {
            field: FieldRef::Attribute(Attribute::Status),
            values: vec!["FAILED".into(), "KILLED".into()]
        }]
    );
    assert_eq!(
        hints("params.m = 'rf' OR tags.m = 'rf'"),
        vec![IndexHint::AnyOf(vec![
            vec![IndexHint::OneOf {
                field: param("m"),
                values: vec!["rf".into()]
            }],
            vec![IndexHint::OneOf {
                field: tag("m"),
                values: vec!["rf".into()]
            }],
        ])]
    );
    // Nothing usable: a full scan.
    assert!(hints("params.a = 'x' OR metrics.b IS NULL").is_empty());
    assert!(hints("params.a IS NULL").is_empty());
    assert!(hints("NOT params.a IS NOT NULL").is_empty());
}

/// Whether `run` meets `hint`, read independently of the filter evaluator.
fn hint_holds(hint: &IndexHint, run: &Run) -> bool {
    let text = |field: &FieldRef| -> Option<String> {
        match field {
            FieldRef::Param(k) => run.params.get(k).cloned(),
            FieldRef::Tag(k) => run.tags.get(k).cloned(),
            FieldRef::Attribute(Attribute::Status) => run.status.clone(),
            FieldRef::Attribute(Attribute::RunName) => run.name.clone(),
            FieldRef::Attribute(Attribute::Experiment) => run.experiment.clone(),
            FieldRef::Attribute(Attribute::RunId) => run.id.clone(),
            _ => None,
        }
    };
    let number = |field: &FieldRef| -> Option<f64> {
        match field {
            FieldRef::Metric(k) => run.metrics.get(k).copied(),
            FieldRef::Attribute(Attribute::StartTime) => run.start.map(|t| t as f64),
            FieldRef::Attribute(Attribute::EndTime) => run.end.map(|t| t as f64),
            _ => None,
        }
    };
    match hint {
        IndexHint::OneOf { field, values } => text(field).is_some_and(|t| values.contains(&t)),
        IndexHint::Prefix { field, prefix } => text(field).is_some_and(|t| t.starts_with(prefix)),
        IndexHint::Range { field, range } => {
            // Check through the byte keys, as an index would.
            let (lo, hi) = range.key_bounds();
            number(field).is_some_and(|x| {
                let key = encode_f64_ordered(x);
                let in_keys = (lo, hi).contains(&key);
                assert_eq!(in_keys, range.contains(x), "{x} vs {range:?}");
                in_keys
            })
        }
        IndexHint::Present { field } => text(field).is_some() || number(field).is_some(),
        IndexHint::AnyOf(alts) => alts
            .iter()
            .any(|alt| alt.iter().all(|h| hint_holds(h, run))),
    }
}

fn arb_number() -> impl Strategy<Value = f64> {
    prop_oneof![(-2i32..4).prop_map(f64::from), Just(0.5), Just(-0.0)]
}

fn arb_text() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("rf".to_owned()),
        Just("gbm".to_owned()),
        Just("r".to_owned()),
        Just("".to_owned()),
        "[a-z %_'\"\\\\\n`]{0,5}",
    ]
}

fn arb_field() -> impl Strategy<Value = FieldRef> {
    prop_oneof![
        prop_oneof![Just("a"), Just("b"), Just("val auc")].prop_map(metric),
        prop_oneof![Just("m"), Just("x y"), Just("k\\`")].prop_map(param),
        Just(tag("t")),
        proptest::sample::select(Attribute::ALL.to_vec()).prop_map(FieldRef::Attribute),
    ]
}

fn literal_for(field: &FieldRef) -> BoxedStrategy<Literal> {
    if field.is_numeric() {
        arb_number().prop_map(Literal::Number).boxed()
    } else if *field == FieldRef::Attribute(Attribute::Status) {
        proptest::sample::select(RUN_STATUSES.to_vec())
            .prop_map(|s| Literal::Text(s.to_owned()))
            .boxed()
    } else {
        arb_text().prop_map(Literal::Text).boxed()
    }
}

fn arb_leaf() -> impl Strategy<Value = Expr> {
    arb_field().prop_flat_map(|field| {
        let ops = if field.is_numeric() {
            vec![
                CmpOp::Eq,
                CmpOp::Ne,
                CmpOp::Lt,
                CmpOp::Le,
                CmpOp::Gt,
                CmpOp::Ge,
            ]
        } else {
            vec![CmpOp::Eq, CmpOp::Ne]
        };
        let compare = (
            Just(field.clone()),
            proptest::sample::select(ops),
            literal_for(&field),
        )
            .prop_map(|(field, op, value)| Expr::Compare { field, op, value });
        let in_list = (
            Just(field.clone()),
            proptest::collection::vec(literal_for(&field), 1..4),
            any::<bool>(),
        )
            .prop_map(|(field, values, negated)| Expr::In {
                field,
                values,
                negated,
            });
        let is_null = (Just(field.clone()), any::<bool>())
            .prop_map(|(field, negated)| Expr::IsNull { field, negated });
        if field.is_numeric() {
            prop_oneof![compare, in_list, is_null].boxed()
        } else {
            let like = (Just(field), "[rgbfm%_]{0,4}", any::<bool>(), any::<bool>()).prop_map(
                |(field, source, ignore_case, negated)| Expr::Like {
                    field,
                    pattern: LikePattern::new(&source, ignore_case).unwrap(),
                    negated,
                },
            );
            prop_oneof![compare, in_list, is_null, like].boxed()
        }
    })
}

fn arb_expr() -> impl Strategy<Value = Expr> {
    arb_leaf().prop_recursive(4, 24, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 2..4).prop_map(Expr::And),
            proptest::collection::vec(inner.clone(), 2..4).prop_map(Expr::Or),
            inner.prop_map(|e| Expr::Not(Box::new(e))),
        ]
    })
}

fn arb_run() -> impl Strategy<Value = Run> {
    let num = || proptest::option::of(prop_oneof![arb_number(), Just(f64::NAN)]);
    let txt = || proptest::option::of(prop_oneof![Just("rf"), Just("gbm"), Just("r"), Just("")]);
    (
        (num(), num(), num()),
        (txt(), txt(), txt()),
        proptest::sample::select(RUN_STATUSES.to_vec()),
        (-2i64..4, proptest::option::of(-2i64..4)),
        (txt(), txt(), txt()),
    )
        .prop_map(
            |((a, b, v), (m, xy, t), status, (start, end), (name, exp, id))| {
                let mut run = Run::new().status(status).times(start, end);
                for (k, x) in [("a", a), ("b", b), ("val auc", v)] {
                    if let Some(x) = x {
                        run = run.metric(k, x);
                    }
                }
                for (k, x) in [("m", m), ("x y", xy)] {
                    if let Some(x) = x {
                        run = run.param(k, x);
                    }
                }
                if let Some(t) = t {
                    run = run.tag("t", t);
                }
                run.name = name.map(str::to_owned);
                run.experiment = exp.map(str::to_owned);
                run.id = id.map(str::to_owned);
                run
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Printing a filter and parsing it back gives the same tree.
    #[test]
    fn display_round_trips(expr in arb_expr()) {
        let text = expr.to_string();
        let parsed = Filter::parse(&text);
        prop_assert!(parsed.is_ok(), "{text}: {parsed:?}");
        let parsed = parsed.unwrap();
        prop_assert_eq!(parsed.expr(), Some(&expr), "{}", text);
    }

    /// Hints are necessary conditions: a matching run meets every one.
    #[test]
    fn hints_are_necessary(expr in arb_expr(), runs in proptest::collection::vec(arb_run(), 8)) {
        let filter = Filter::from_expr(expr);
        let hints = filter.index_hints();
        for run in &runs {
            if filter.matches(run) {
                for h in &hints {
                    prop_assert!(hint_holds(h, run), "{filter}: {h:?} fails for {run:?}");
                }
            }
        }
    }

    /// `NOT e` is true exactly when `e` is false, and unknown stays unknown.
    #[test]
    fn not_is_three_valued(expr in arb_expr(), run in arb_run()) {
        let e = Filter::from_expr(expr.clone()).evaluate(&run);
        let not = Filter::from_expr(Expr::Not(Box::new(expr))).evaluate(&run);
        prop_assert_eq!(not, e.map(|b| !b));
    }

    /// The lexer and parser return errors, never panic, on arbitrary text.
    #[test]
    fn arbitrary_input_never_panics(s in "[ -~ñé]{0,40}") {
        if let Err(Error::InvalidFilter { column, .. }) = Filter::parse(&s) {
            prop_assert!(column >= 1 && column <= s.chars().count() + 1);
        }
        let _ = OrderBy::parse(&s);
    }

    /// Small edits of a valid filter give errors with in-range columns.
    #[test]
    fn mutated_filters_never_panic(expr in arb_expr(), cut in 0usize..200, insert in "[()'\"`,.=<>!a-z0-9 ]") {
        let text = expr.to_string();
        let chars: Vec<char> = text.chars().collect();
        let at = cut % (chars.len() + 1);
        let mutated: String = chars[..at].iter().chain(insert.chars().collect::<Vec<_>>().iter()).chain(chars[at..].iter()).collect();
        if let Err(Error::InvalidFilter { column, .. }) = Filter::parse(&mutated) {
            prop_assert!(column >= 1 && column <= mutated.chars().count() + 1);
        }
    }
}

// --------------------------------------------------------------- order-by

fn order_error(s: &str) -> (usize, String) {
    match OrderBy::parse(s) {
        Err(Error::InvalidOrderBy {
            input,
            column,
            message,
        }) => {
            assert_eq!(input, s);
            (column, message)
        }
        other => panic!("{s:?}: {other:?}"),
    }
}

#[test]
fn order_by_parses_keys_and_directions() {
    let o = OrderBy::parse("metrics.auc DESC, start_time, params.`max depth` asc, tags.t desc")
        .unwrap();
    assert_eq!(
        o.keys(),
        &[
            OrderKey {
                field: metric("auc"),
                descending: true
            },
            OrderKey {
                field: FieldRef::Attribute(Attribute::StartTime),
                descending: false
            },
            OrderKey {
                field: param("max depth"),
                descending: false
            },
            OrderKey {
                field: tag("t"),
                descending: true
            },
        ]
    );
    assert_eq!(
        o.to_string(),
        "metrics.auc DESC, start_time ASC, params.`max depth` ASC, tags.t DESC"
    );
    assert_eq!(OrderBy::parse(&o.to_string()).unwrap(), o);
    assert!(OrderBy::parse("  ").unwrap().is_empty());
}

#[test]
fn malformed_order_by_points_at_the_column() {
    for (input, column, message) in [
        (
            "metrics.auc DOWN",
            13,
            "expected ASC, DESC, `,` or the end of the order-by, found `DOWN`",
        ),
        (
            "metrics.auc DESC,",
            18,
            "expected a field (metrics.KEY, params.KEY, tags.KEY or an attribute), found the end of the input",
        ),
        (
            "metrics.auc DESC start_time",
            18,
            "expected ASC, DESC, `,` or the end of the order-by, found `start_time`",
        ),
        (
            "auc DESC",
            1,
            "unknown field `auc`: write metrics.auc, params.auc or tags.auc, or use an attribute (status, start_time, end_time, run_name, experiment, run_id)",
        ),
        ("DESC", 1, "expected a field, found the keyword `DESC`"),
        (
            "metrics.a, , start_time",
            12,
            "expected a field (metrics.KEY, params.KEY, tags.KEY or an attribute), found `,`",
        ),
    ] {
        assert_eq!(order_error(input), (column, message.to_owned()), "{input}");
    }
    let err = OrderBy::parse("metrics.auc DOWN").unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid order-by at column 13: expected ASC, DESC, `,` or the end of the order-by, \
         found `DOWN` (in `metrics.auc DOWN`)"
    );
}

fn sorted_names(runs: &[Run], order: &str) -> Vec<String> {
    let order = OrderBy::parse(order).unwrap();
    let mut runs = runs.to_vec();
    // The tracker's tie-break: run name here.
    runs.sort_by(|a, b| order.compare(a, b).then_with(|| a.name.cmp(&b.name)));
    runs.into_iter().map(|r| r.name.unwrap()).collect()
}

#[test]
fn order_puts_missing_last_and_nan_before_missing() {
    let runs = vec![
        Run::new().name("missing"),
        Run::new().name("high").metric("auc", 0.9),
        Run::new().name("nan").metric("auc", f64::NAN),
        Run::new().name("low").metric("auc", 0.1),
        Run::new().name("mid").metric("auc", 0.5),
    ];
    assert_eq!(
        sorted_names(&runs, "metrics.auc"),
        ["low", "mid", "high", "nan", "missing"]
    );
    assert_eq!(
        sorted_names(&runs, "metrics.auc DESC"),
        ["high", "mid", "low", "nan", "missing"]
    );
}

#[test]
fn order_by_several_keys_text_and_times() {
    let runs = vec![
        Run::new().name("a").param("model", "rf").times(300, None),
        Run::new().name("b").param("model", "gbm").times(100, None),
        Run::new().name("c").param("model", "rf").times(200, None),
        Run::new().name("d").times(400, None),
        Run::new().name("e").param("model", "gbm").times(100, None),
    ];
    assert_eq!(
        sorted_names(&runs, "params.model, start_time DESC"),
        ["b", "e", "a", "c", "d"]
    );
    assert_eq!(
        sorted_names(&runs, "params.model DESC, start_time"),
        ["c", "a", "b", "e", "d"]
    );
    // Ties on every key are Equal; the tie-break decides.
    let o = OrderBy::parse("params.model").unwrap();
    assert_eq!(o.compare(&runs[0], &runs[2]), std::cmp::Ordering::Equal);
    assert_eq!(
        OrderBy::default().compare(&runs[0], &runs[1]),
        std::cmp::Ordering::Equal
    );
    // Zero and negative zero tie, as numbers do.
    let z = Run::new().metric("x", 0.0);
    let nz = Run::new().metric("x", -0.0);
    assert_eq!(
        order_cmp(&z, &nz, OrderBy::parse("metrics.x").unwrap().keys()),
        std::cmp::Ordering::Equal
    );
}

proptest! {
    /// The comparator is a total order: antisymmetric and transitive, so
    /// sorting with it is well defined.
    #[test]
    fn order_is_total(runs in proptest::collection::vec(arb_run(), 3), desc: [bool; 2]) {
        let order = OrderBy::from_keys(vec![
            OrderKey { field: metric("a"), descending: desc[0] },
            OrderKey { field: param("m"), descending: desc[1] },
        ]);
        let c = |x: &Run, y: &Run| order.compare(x, y);
        for x in &runs {
            for y in &runs {
                prop_assert_eq!(c(x, y), c(y, x).reverse());
                for z in &runs {
                    if c(x, y).is_le() && c(y, z).is_le() {
                        prop_assert!(c(x, z).is_le());
                    }
                }
            }
        }
    }
}
