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
    fn key_value_splits_at_the_first_equals() {
        assert_eq!(key_value("a=b=c"), Ok(("a".into(), "b=c".into())));
        assert_eq!(key_value("a="), Ok(("a".into(), String::new())));
        assert!(key_value("=b").is_err());
        assert!(key_value("ab").is_err());
    }
}
