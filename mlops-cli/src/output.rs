//! Printing a command's report: one JSON document, or human text.

use std::io::Write;

use serde::Serialize;

use crate::error::{CliError, Result};

/// A command's result that can be printed both ways.
pub trait Report: Serialize {
    /// Writes the human-readable form.
    fn write_human(&self, out: &mut dyn Write) -> std::io::Result<()>;
}

/// Prints `report` on stdout as pretty JSON when `json` is set, as text
/// otherwise.
pub fn emit<R: Report>(report: &R, json: bool) -> Result<()> {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    if json {
        serde_json::to_writer_pretty(&mut out, report)?;
        writeln!(out).map_err(CliError::Output)?;
    } else {
        report.write_human(&mut out).map_err(CliError::Output)?;
    }
    out.flush().map_err(CliError::Output)
}

/// Formats an optional statistic for a table cell.
pub fn stat(v: Option<f64>) -> String {
    match v {
        None => "-".into(),
        Some(v) if v == v.trunc() && v.abs() < 1e15 => format!("{v:.0}"),
        Some(v) => format!("{v:.4}")
            .trim_end_matches('0')
            .trim_end_matches('.')
            .to_owned(),
    }
}

/// Formats milliseconds since the Unix epoch as UTC, `2026-11-23 11:13:58Z`.
pub fn utc(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let (days, sod) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Howard Hinnant's days-to-civil algorithm (proleptic Gregorian).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02}Z",
        sod / 3600,
        sod % 3600 / 60,
        sod % 60
    )
}

/// Parses `KEY=VALUE` (split at the first `=`; the key must not be empty).
pub fn key_value(s: &str) -> std::result::Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_owned(), v.to_owned())),
        _ => Err(format!("`{s}` is not KEY=VALUE")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_matches_known_instants() {
        assert_eq!(utc(0), "1970-01-01 00:00:00Z");
        // date -u -d @1700000000
        assert_eq!(utc(1_700_000_000_123), "2023-11-14 22:13:20Z");
        // A leap day, and a year-2000 boundary (divisible by 400).
        assert_eq!(utc(951_782_400_000), "2000-02-29 00:00:00Z");
        assert_eq!(utc(-1_000), "1969-12-31 23:59:59Z");
    }

    #[test]
    fn key_value_splits_at_the_first_equals() {
        assert_eq!(key_value("a=b=c"), Ok(("a".into(), "b=c".into())));
        assert_eq!(key_value("a="), Ok(("a".into(), String::new())));
        assert!(key_value("=b").is_err());
        assert!(key_value("ab").is_err());
    }
}
