//! Numeric cells: `str::parse::<f64>` with a fast path for plain decimals,
//! the common case in CSV files.
//!
//! No float-parsing crate: `str::parse` already is fast-float's
//! Eisel-Lemire algorithm (adopted into `std`), and what the fast path
//! saves is its general-syntax scan on cells of a few bytes. Anything the
//! fast path does not take goes to `str::parse`; a proptest checks the two
//! bit for bit.

/// `s.parse::<f64>().ok()`, with any NaN made the canonical NaN (a missing
/// cell). Plain decimals (`[+-]digits[.digits]`, at most 19 digits, the
/// digits as an integer at most 2^53 and at most 22 after the point) take
/// Clinger's fast path: the digits and the power of ten are both exact
/// `f64`s, and one IEEE division rounds their quotient correctly, which is
/// exactly the correctly rounded value `str::parse` returns. Anything else
/// goes to `str::parse`.
#[inline]
pub(super) fn parse_f64(s: &str) -> Option<f64> {
    match parse_plain_decimal(s.as_bytes()) {
        Some(v) => Some(v),
        None => s
            .parse::<f64>()
            .ok()
            .map(|v| if v.is_nan() { f64::NAN } else { v }),
    }
}

/// Powers of ten exact in an `f64`.
const POW10: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];

/// See [`parse_f64`]: `None` when `b` is not a plain decimal in range.
#[inline]
fn parse_plain_decimal(b: &[u8]) -> Option<f64> {
    let (negative, digits) = match b.split_first() {
        Some((b'-', rest)) => (true, rest),
        Some((b'+', rest)) => (false, rest),
        _ => (false, b),
    };
    let mut mantissa = 0u64;
    let mut count = 0usize;
    let mut point = None;
    for (k, &c) in digits.iter().enumerate() {
        let d = c.wrapping_sub(b'0');
        if d < 10 {
            mantissa = mantissa.wrapping_mul(10).wrapping_add(u64::from(d));
            count += 1;
        } else if c == b'.' && point.is_none() {
            point = Some(k);
        } else {
            return None;
        }
    }
    // At least one digit on each side of a point (others go to the std
    // parser), at most 19 digits (no u64 overflow).
    let fraction = match point {
        None => 0,
        Some(k) if k > 0 && k + 1 < digits.len() => digits.len() - k - 1,
        Some(_) => return None,
    };
    if count == 0 || count > 19 || mantissa > 1 << 53 {
        return None;
    }
    let value = mantissa as f64 / *POW10.get(fraction)?;
    Some(if negative { -value } else { value })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// `parse_f64` against `str::parse`, bit for bit (NaN: the canonical
    /// one).
    fn assert_parses_as_std(s: &str) {
        let ours = parse_f64(s).map(f64::to_bits);
        let std = s
            .parse::<f64>()
            .ok()
            .map(|v| if v.is_nan() { f64::NAN } else { v })
            .map(f64::to_bits);
        assert_eq!(ours, std, "{s:?}");
    }

    #[test]
    fn parse_f64_matches_std_on_edge_cases() {
        for s in [
            "",
            "0",
            "-0",
            "+0",
            "-0.0",
            "00",
            "0.5",
            "1.",
            ".5",
            ".",
            "-",
            "+",
            "-.5",
            "+.",
            "1.0.0",
            "1..2",
            "--1",
            "+-1",
            " 1",
            "1 ",
            "1e5",
            "1E-3",
            "1.5e+2",
            "0x10",
            "1_0",
            "\u{661}",
            "NaN",
            "nan",
            "-NaN",
            "inf",
            "-infinity",
            "Infinity",
            "41",
            "79.65",
            "3200.01",
            "0.1",
            "0.3",
            "-123.456",
            "9007199254740991",
            "9007199254740992",
            "9007199254740993",
            "9007199254740993.0",
            "900719925474099.3",
            "18446744073709551615",
            "18446744073709551616",
            "1234567890123456789",
            "12345678901234567890",
            "0.0000000000000000000001",
            "0.00000000000000000000001",
            "1.0000000000000000000001",
            "00000000000000000001.5",
            "0000000000000000000000000001",
            "4.9406564584124654e-324",
            "1.7976931348623157e308",
            "2.2250738585072014e-308",
            "0.1e1",
            "5.",
            "-5.",
        ] {
            assert_parses_as_std(s);
        }
    }

    proptest! {
        /// The plain-decimal fast path is bit-for-bit `str::parse`.
        #[test]
        fn parse_f64_matches_std(
            s in "[+-]?[0-9]{0,21}(\\.[0-9]{0,25})?",
            bits in any::<u64>(),
            mantissa in 0u64..(1 << 54),
            point in 0usize..24,
        ) {
            assert_parses_as_std(&s);
            let x = f64::from_bits(bits);
            assert_parses_as_std(&format!("{x}"));
            assert_parses_as_std(&format!("{x:e}"));
            let digits = mantissa.to_string();
            let at = digits.len().saturating_sub(point);
            let (int, frac) = digits.split_at(at);
            assert_parses_as_std(&format!("{int}.{frac}"));
            assert_parses_as_std(&format!("-0{int}.{frac}0"));
        }
    }
}
