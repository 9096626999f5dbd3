//! A record splitter for the common CSV body without quotes: lines found
//! with `memchr`, fields cut at the delimiter. It does what the `csv`
//! parser does on such input (a trailing carriage return is part of the
//! line ending, empty lines are skipped) at a fraction of its per-byte
//! cost, and hands anything else (a quote, a lone carriage return) back to
//! the `csv` parser.

use std::io::Read;
use std::ops::Range;

use super::csv_reader::{Fields, ParseCtx, PartHint, RowSink};
use crate::error::Result;

/// One line's fields: delimiter positions in the line.
pub(super) struct PlainRecord<'a> {
    line: &'a [u8],
    delimiters: &'a [usize],
}

impl Fields for PlainRecord<'_> {
    fn field_count(&self) -> usize {
        self.delimiters.len() + 1
    }

    fn text(&self) -> &[u8] {
        self.line
    }

    fn field_range(&self, i: usize) -> Option<Range<usize>> {
        let start = match i {
            0 => 0,
            _ => self.delimiters.get(i - 1)? + 1,
        };
        let end = self.delimiters.get(i).copied().unwrap_or(self.line.len());
        Some(start..end)
    }
}

/// Parses a part of a CSV body line by line. Returns the rows and the
/// number of line feeds read, or `None` when the part holds a quote or a
/// carriage return that does not end a line: then only the `csv` parser
/// reads it as the sequential read would.
pub(super) fn parse_plain<R: Read>(
    ctx: &ParseCtx<'_>,
    mut part: R,
    hint: PartHint,
    buffer_bytes: usize,
) -> Result<Option<(RowSink, u64)>> {
    let delimiter = ctx.opts.delimiter_byte();
    if matches!(delimiter, b'"' | b'\r' | b'\n') {
        return Ok(None);
    }
    let mut sink = RowSink::new(ctx.types);
    sink.reserve(hint.rows, ctx.distinct_shares, hint.distinct_rows);
    let mut buf = vec![0u8; buffer_bytes.max(1)];
    let mut filled = 0;
    let mut line_no = 1u64;
    // The line the `csv` parser gives a record: where its read started, so
    // blank lines before a record count as the record's.
    let mut record_line = 1u64;
    let mut delimiters = Vec::with_capacity(ctx.headers.len());
    loop {
        if filled == buf.len() {
            // A line longer than the buffer.
            buf.resize(buf.len() * 2, 0);
        }
        let n = read_some(&mut part, buf.get_mut(filled..).unwrap_or_default()).map_err(|e| {
            crate::Error::Io {
                path: ctx.source.into(),
                source: e,
            }
        })?;
        let fresh = buf.get(filled..filled + n).unwrap_or_default();
        if memchr::memchr(b'"', fresh).is_some() {
            return Ok(None);
        }
        filled += n;
        let eof = n == 0;
        let data = buf.get(..filled).unwrap_or_default();
        let mut start = 0;
        while start < data.len() {
            let rest = data.get(start..).unwrap_or_default();
            let (line, next) = match memchr::memchr(b'\n', rest) {
                Some(nl) => (rest.get(..nl).unwrap_or_default(), start + nl + 1),
                None if eof => (rest, data.len()),
                None => break,
            };
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            if memchr::memchr(b'\r', line).is_some() {
                return Ok(None);
            }
            if !line.is_empty() {
                delimiters.clear();
                delimiters.extend(memchr::memchr_iter(delimiter, line));
                let record = PlainRecord {
                    line,
                    delimiters: &delimiters,
                };
                sink.accept(ctx, &record, record_line)?;
            }
            if data.get(next - 1) == Some(&b'\n') {
                line_no += 1;
            }
            if !line.is_empty() {
                record_line = line_no;
            }
            start = next;
        }
        if eof {
            return Ok(Some((sink, line_no - 1)));
        }
        buf.copy_within(start..filled, 0);
        filled -= start;
    }
}

/// `read`, retried when interrupted.
fn read_some<R: Read>(reader: &mut R, buf: &mut [u8]) -> std::io::Result<usize> {
    loop {
        match reader.read(buf) {
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            other => return other,
        }
    }
}
