//! What a filter tells an index: necessary conditions a run must meet to
//! match, and an order-preserving byte encoding of numbers for index keys.
//!
//! A search intersects the candidate sets of the hints it can serve from an
//! index, then evaluates the whole filter on those candidates only. Every
//! hint is *necessary*, never sufficient: a run that matches the filter
//! satisfies every hint, so a tracker may ignore any hint it has no index
//! for (with one care for [`IndexHint::AnyOf`], see there) and stays correct.

use std::ops::Bound;

use super::ast::{Attribute, CmpOp, Expr, FieldRef, Literal};

/// A necessary condition on one field (or a union of conjunctions).
#[derive(Debug, Clone, PartialEq)]
pub enum IndexHint {
    /// The field's text is exactly one of `values` (from `=` and `IN` on
    /// params, tags and text attributes). `status` values are the canonical
    /// upper-case names of [`RUN_STATUSES`](super::RUN_STATUSES).
    OneOf {
        /// A text field.
        field: FieldRef,
        /// The accepted values, at least one, without duplicates.
        values: Vec<String>,
    },
    /// The field's text starts with `prefix` (from a case-sensitive `LIKE`
    /// whose pattern starts with literal text).
    Prefix {
        /// A text field.
        field: FieldRef,
        /// The literal start of the pattern, not empty.
        prefix: String,
    },
    /// The field's number lies in `range` (from comparisons on metrics and
    /// times; a NaN metric is never in a range).
    Range {
        /// A numeric field: a metric, `start_time` or `end_time`.
        field: FieldRef,
        /// The accepted numbers.
        range: NumRange,
    },
    /// The field has a value (any predicate but `IS NULL` needs one).
    Present {
        /// The field.
        field: FieldRef,
    },
    /// At least one of the alternatives holds, each a conjunction of hints
    /// (from an `OR` whose every branch gives hints). When a tracker cannot
    /// serve a hint inside an alternative it drops that hint; when an
    /// alternative is left with no hint it must ignore the whole `AnyOf`.
    AnyOf(Vec<Vec<IndexHint>>),
}

impl IndexHint {
    /// The field the hint constrains (`None` for [`IndexHint::AnyOf`]).
    pub fn field(&self) -> Option<&FieldRef> {
        match self {
            IndexHint::OneOf { field, .. }
            | IndexHint::Prefix { field, .. }
            | IndexHint::Range { field, .. }
            | IndexHint::Present { field } => Some(field),
            IndexHint::AnyOf(_) => None,
        }
    }
}

/// An interval of numbers, as accepted by one or more comparisons.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NumRange {
    /// Lower bound.
    pub lower: Bound<f64>,
    /// Upper bound.
    pub upper: Bound<f64>,
}

impl NumRange {
    /// Every number (but NaN).
    pub const ALL: NumRange = NumRange {
        lower: Bound::Unbounded,
        upper: Bound::Unbounded,
    };

    /// The numbers `x` with `x op value`; `None` for `!=`, which is not an
    /// interval.
    pub fn from_comparison(op: CmpOp, value: f64) -> Option<NumRange> {
        use Bound::*;
        let (lower, upper) = match op {
            CmpOp::Eq => (Included(value), Included(value)),
            CmpOp::Lt => (Unbounded, Excluded(value)),
            CmpOp::Le => (Unbounded, Included(value)),
            CmpOp::Gt => (Excluded(value), Unbounded),
            CmpOp::Ge => (Included(value), Unbounded),
            CmpOp::Ne => return None,
        };
        Some(NumRange { lower, upper })
    }

    /// Whether `x` lies in the range (never for NaN; `-0.0` equals `0.0`).
    pub fn contains(&self, x: f64) -> bool {
        if x.is_nan() {
            return false;
        }
        let above = match self.lower {
            Bound::Included(l) => x >= l,
            Bound::Excluded(l) => x > l,
            Bound::Unbounded => true,
        };
        let below = match self.upper {
            Bound::Included(u) => x <= u,
            Bound::Excluded(u) => x < u,
            Bound::Unbounded => true,
        };
        above && below
    }

    /// Whether no number lies in the range (`x > 2 AND x < 1`).
    pub fn is_empty(&self) -> bool {
        match (self.lower, self.upper) {
            (Bound::Included(l), Bound::Included(u)) => l > u,
            (Bound::Included(l), Bound::Excluded(u))
            | (Bound::Excluded(l), Bound::Included(u))
            | (Bound::Excluded(l), Bound::Excluded(u)) => l >= u,
            _ => false,
        }
    }

    /// The bounds of the range over keys made with [`encode_f64_ordered`]:
    /// a key lies within them exactly when its number lies in the range.
    /// Handles the two zeros (`x >= 0` also takes `-0.0`) and leaves NaN
    /// keys (which sort beyond the infinities) out.
    pub fn key_bounds(&self) -> (Bound<[u8; 8]>, Bound<[u8; 8]>) {
        // In key order: -NaN < -inf < ... < -0.0 < 0.0 < ... < inf < NaN.
        let lower = match self.lower {
            Bound::Included(0.0) => Bound::Included(encode_f64_ordered(-0.0)),
            Bound::Excluded(0.0) => Bound::Excluded(encode_f64_ordered(0.0)),
            Bound::Included(l) => Bound::Included(encode_f64_ordered(l)),
            Bound::Excluded(l) => Bound::Excluded(encode_f64_ordered(l)),
            Bound::Unbounded => Bound::Included(encode_f64_ordered(f64::NEG_INFINITY)),
        };
        let upper = match self.upper {
            Bound::Included(0.0) => Bound::Included(encode_f64_ordered(0.0)),
            Bound::Excluded(0.0) => Bound::Excluded(encode_f64_ordered(-0.0)),
            Bound::Included(u) => Bound::Included(encode_f64_ordered(u)),
            Bound::Excluded(u) => Bound::Excluded(encode_f64_ordered(u)),
            Bound::Unbounded => Bound::Included(encode_f64_ordered(f64::INFINITY)),
        };
        (lower, upper)
    }

    /// The intersection of two ranges.
    pub fn intersect(&self, other: &NumRange) -> NumRange {
        NumRange {
            lower: tighter(self.lower, other.lower, true),
            upper: tighter(self.upper, other.upper, false),
        }
    }
}

/// The stricter of two bounds (the larger lower, the smaller upper).
fn tighter(a: Bound<f64>, b: Bound<f64>, lower: bool) -> Bound<f64> {
    use Bound::*;
    let value = |x: Bound<f64>| match x {
        Included(v) | Excluded(v) => Some(v),
        Unbounded => None,
    };
    match (value(a), value(b)) {
        (None, _) => b,
        (_, None) => a,
        (Some(x), Some(y)) => {
            if x == y {
                // Same value: exclusive is stricter.
                if matches!(a, Excluded(_)) { a } else { b }
            } else if (x > y) == lower {
                a
            } else {
                b
            }
        }
    }
}

/// Encodes `x` into 8 bytes whose lexicographic order is the IEEE total order
/// of the numbers ([`f64::total_cmp`]): negative NaN, -inf, negatives, -0.0,
/// 0.0, positives, inf, NaN. Use it for index keys so a byte range scan is a
/// numeric range scan.
pub fn encode_f64_ordered(x: f64) -> [u8; 8] {
    let bits = x.to_bits();
    // Negative numbers: flip every bit so larger magnitudes sort first;
    // positive ones: flip the sign bit so they sort after the negatives.
    let key = if bits >> 63 == 1 {
        !bits
    } else {
        bits | (1 << 63)
    };
    key.to_be_bytes()
}

/// Inverts [`encode_f64_ordered`] (bit-exact, NaN payloads included).
pub fn decode_f64_ordered(bytes: [u8; 8]) -> f64 {
    let key = u64::from_be_bytes(bytes);
    let bits = if key >> 63 == 1 {
        key & !(1 << 63)
    } else {
        !key
    };
    f64::from_bits(bits)
}

/// Necessary conditions of `expr` being true, as a conjunction.
pub(crate) fn hints(expr: &Expr) -> Vec<IndexHint> {
    let mut out = Vec::new();
    collect(expr, false, &mut out);
    merge_ranges(&mut out);
    out
}

/// Pushes hints implied by `expr` being true (`negated`: by `expr` being
/// false, which in three-valued logic is `NOT expr` being true).
fn collect(expr: &Expr, negated: bool, out: &mut Vec<IndexHint>) {
    match (expr, negated) {
        (Expr::And(items), false) | (Expr::Or(items), true) => {
            // De Morgan holds in three-valued logic too.
            for e in items {
                collect(e, negated, out);
            }
        }
        (Expr::Or(items), false) | (Expr::And(items), true) => {
            let mut alternatives = Vec::with_capacity(items.len());
            for e in items {
                let mut alt = Vec::new();
                collect(e, negated, &mut alt);
                merge_ranges(&mut alt);
                if alt.is_empty() {
                    // One unconstrained branch: the OR constrains nothing.
                    return;
                }
                alternatives.push(alt);
            }
            out.push(union(alternatives));
        }
        (Expr::Not(e), _) => collect(e, !negated, out),
        (Expr::Compare { field, op, value }, _) => {
            // NOT (x op v) is true exactly when x (op negated) v is.
            let op = if negated { complement(*op) } else { *op };
            out.push(match (value, op) {
                (_, CmpOp::Ne) => IndexHint::Present {
                    field: field.clone(),
                },
                (Literal::Number(v), op) => match NumRange::from_comparison(op, *v) {
                    Some(range) => IndexHint::Range {
                        field: field.clone(),
                        range,
                    },
                    None => IndexHint::Present {
                        field: field.clone(),
                    },
                },
                (Literal::Text(v), CmpOp::Eq) => IndexHint::OneOf {
                    field: field.clone(),
                    values: vec![v.clone()],
                },
                // Orderings on text do not parse; stay safe anyway.
                (Literal::Text(_), _) => IndexHint::Present {
                    field: field.clone(),
                },
            });
        }
        (
            Expr::Like {
                field,
                pattern,
                negated: not_like,
            },
            _,
        ) => {
            let prefix = pattern.literal_prefix();
            out.push(if *not_like == negated && !prefix.is_empty() {
                IndexHint::Prefix {
                    field: field.clone(),
                    prefix,
                }
            } else {
                IndexHint::Present {
                    field: field.clone(),
                }
            });
        }
        (
            Expr::In {
                field,
                values,
                negated: not_in,
            },
            _,
        ) => {
            if *not_in != negated {
                out.push(IndexHint::Present {
                    field: field.clone(),
                });
                return;
            }
            let mut texts: Vec<String> = Vec::new();
            let mut points = Vec::new();
            for v in values {
                match v {
                    Literal::Text(t) => {
                        if !texts.contains(t) {
                            texts.push(t.clone());
                        }
                    }
                    Literal::Number(n) => points.push(vec![IndexHint::Range {
                        field: field.clone(),
                        range: NumRange::from_comparison(CmpOp::Eq, *n).unwrap_or(NumRange::ALL),
                    }]),
                }
            }
            if !texts.is_empty() {
                out.push(IndexHint::OneOf {
                    field: field.clone(),
                    values: texts,
                });
            } else if points.len() == 1 {
                out.extend(points.into_iter().flatten());
            } else {
                out.push(IndexHint::AnyOf(points));
            }
        }
        (
            Expr::IsNull {
                field,
                negated: is_not_null,
            },
            _,
        ) => {
            // `IS NOT NULL` (or `NOT (x IS NULL)`) needs a value; `IS NULL`
            // needs its absence, which no index lists.
            if *is_not_null != negated {
                out.push(IndexHint::Present {
                    field: field.clone(),
                });
            }
        }
    }
}

/// The union of alternatives: one `OneOf` when every alternative is a
/// single `OneOf` on the same field (`a = 'x' OR a = 'y'` is `a IN ('x',
/// 'y')`), an `AnyOf` otherwise.
fn union(alternatives: Vec<Vec<IndexHint>>) -> IndexHint {
    let mut merged: Option<(FieldRef, Vec<String>)> = None;
    for alt in &alternatives {
        let [IndexHint::OneOf { field, values }] = alt.as_slice() else {
            return IndexHint::AnyOf(alternatives);
        };
        match &mut merged {
            None => merged = Some((field.clone(), values.clone())),
            Some((f, vs)) if f == field => {
                for v in values {
                    if !vs.contains(v) {
                        vs.push(v.clone());
                    }
                }
            }
            Some(_) => return IndexHint::AnyOf(alternatives),
        }
    }
    match merged {
        Some((field, values)) => IndexHint::OneOf { field, values },
        None => IndexHint::AnyOf(alternatives),
    }
}

/// The operator true exactly when `op` is false (for comparable values).
fn complement(op: CmpOp) -> CmpOp {
    match op {
        CmpOp::Eq => CmpOp::Ne,
        CmpOp::Ne => CmpOp::Eq,
        CmpOp::Lt => CmpOp::Ge,
        CmpOp::Le => CmpOp::Gt,
        CmpOp::Gt => CmpOp::Le,
        CmpOp::Ge => CmpOp::Lt,
    }
}

/// Merges ranges on the same field into one and drops `Present` hints
/// implied by another hint on the same field, so the tracker does one
/// lookup per field.
fn merge_ranges(hints: &mut Vec<IndexHint>) {
    let mut merged: Vec<IndexHint> = Vec::with_capacity(hints.len());
    for h in hints.drain(..) {
        if let IndexHint::Range { field, range } = &h
            && let Some(IndexHint::Range { range: r, .. }) = merged
                .iter_mut()
                .find(|m| matches!(m, IndexHint::Range { field: f, .. } if f == field))
        {
            *r = r.intersect(range);
            continue;
        }
        merged.push(h);
    }
    let constrained: Vec<FieldRef> = merged
        .iter()
        .filter(|h| !matches!(h, IndexHint::Present { .. }))
        .filter_map(|h| h.field().cloned())
        .collect();
    let mut seen_present: Vec<FieldRef> = Vec::new();
    merged.retain(|h| match h {
        IndexHint::Present { field } => {
            // Status is always present: the hint carries no information.
            if *field == FieldRef::Attribute(Attribute::Status)
                || constrained.contains(field)
                || seen_present.contains(field)
            {
                return false;
            }
            seen_present.push(field.clone());
            true
        }
        _ => true,
    });
    *hints = merged;
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::ops::RangeBounds;

    /// Any f64 bit pattern: NaNs with payloads, subnormals, both zeros.
    fn any_bits() -> impl Strategy<Value = f64> {
        prop_oneof![
            any::<u64>().prop_map(f64::from_bits),
            proptest::sample::select(vec![
                0.0,
                -0.0,
                f64::INFINITY,
                f64::NEG_INFINITY,
                f64::NAN,
                -f64::NAN,
                f64::MIN_POSITIVE,
                -f64::MIN_POSITIVE,
                f64::MAX,
                f64::MIN,
                1.0,
                -1.0,
            ]),
        ]
    }

    fn bound() -> impl Strategy<Value = Bound<f64>> {
        let v = prop_oneof![(-3i32..4).prop_map(f64::from), Just(-0.0), Just(0.5)];
        prop_oneof![
            v.clone().prop_map(Bound::Included),
            v.prop_map(Bound::Excluded),
            Just(Bound::Unbounded),
        ]
    }

    #[test]
    fn known_encodings() {
        assert_eq!(encode_f64_ordered(0.0), [0x80, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(
            encode_f64_ordered(-0.0),
            [0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]
        );
        assert_eq!(encode_f64_ordered(1.0), [0xbf, 0xf0, 0, 0, 0, 0, 0, 0]);
        assert!(encode_f64_ordered(f64::INFINITY) < encode_f64_ordered(f64::NAN));
        assert!(encode_f64_ordered(-f64::NAN) < encode_f64_ordered(f64::NEG_INFINITY));
    }

    #[test]
    fn ranges() {
        let gt = NumRange::from_comparison(CmpOp::Gt, 1.0).unwrap();
        let le = NumRange::from_comparison(CmpOp::Le, 2.0).unwrap();
        let both = gt.intersect(&le);
        assert_eq!(both.lower, Bound::Excluded(1.0));
        assert_eq!(both.upper, Bound::Included(2.0));
        assert!(!both.contains(1.0) && both.contains(1.5) && both.contains(2.0));
        assert!(!both.is_empty());
        let ge = NumRange::from_comparison(CmpOp::Ge, 1.0).unwrap();
        assert_eq!(gt.intersect(&ge), gt);
        let lt = NumRange::from_comparison(CmpOp::Lt, 1.0).unwrap();
        assert!(ge.intersect(&lt).is_empty());
        assert!(
            !ge.intersect(&NumRange::from_comparison(CmpOp::Le, 1.0).unwrap())
                .is_empty()
        );
        assert!(NumRange::from_comparison(CmpOp::Ne, 1.0).is_none());
        assert!(!NumRange::ALL.contains(f64::NAN));
        assert!(NumRange::ALL.contains(f64::INFINITY));
        // `x = 0` takes both zeros, in values and in keys.
        let zero = NumRange::from_comparison(CmpOp::Eq, 0.0).unwrap();
        assert!(zero.contains(-0.0));
        assert!(zero.key_bounds().contains(&encode_f64_ordered(-0.0)));
        assert!(zero.key_bounds().contains(&encode_f64_ordered(0.0)));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2048))]

        #[test]
        fn encoding_order_is_total_order(a in any_bits(), b in any_bits()) {
            prop_assert_eq!(encode_f64_ordered(a).cmp(&encode_f64_ordered(b)), a.total_cmp(&b));
        }

        #[test]
        fn decoding_inverts_encoding(a in any_bits()) {
            prop_assert_eq!(decode_f64_ordered(encode_f64_ordered(a)).to_bits(), a.to_bits());
        }

        /// A key lies within `key_bounds` exactly when its number lies in the
        /// range, zeros and NaNs included.
        #[test]
        fn key_bounds_agree_with_contains(
            lower in bound(),
            upper in bound(),
            x in prop_oneof![(-4i32..5).prop_map(f64::from), Just(-0.0), Just(0.5), any_bits()],
        ) {
            let range = NumRange { lower, upper };
            prop_assert_eq!(range.key_bounds().contains(&encode_f64_ordered(x)), range.contains(x));
        }

        #[test]
        fn intersection_is_conjunction(
            a in (bound(), bound()),
            b in (bound(), bound()),
            x in prop_oneof![(-4i32..5).prop_map(f64::from), Just(-0.0), Just(0.5)],
        ) {
            let ra = NumRange { lower: a.0, upper: a.1 };
            let rb = NumRange { lower: b.0, upper: b.1 };
            let both = ra.intersect(&rb);
            prop_assert_eq!(both.contains(x), ra.contains(x) && rb.contains(x));
            if both.is_empty() {
                prop_assert!(!both.contains(x));
            }
        }
    }
}
