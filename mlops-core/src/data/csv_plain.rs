//! A record splitter for the common CSV body without quotes: line feeds and
//! delimiters found together in one pass over each buffer, eight bytes at a
//! time, and UTF-8 checked once per buffer. It does what the `csv`
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
    /// The line as text, when its buffer was checked to be UTF-8.
    valid: Option<&'a str>,
    delimiters: &'a [usize],
}

impl Fields for PlainRecord<'_> {
    fn valid_text(&self) -> Option<&str> {
        self.valid
    }

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
        // The whole lines read so far (all of them at the end).
        let end = match memchr::memrchr(b'\n', data) {
            _ if eof => filled,
            Some(nl) => nl + 1,
            None => continue,
        };
        let region = data.get(..end).unwrap_or_default();
        // Most files have no carriage return at all, or only before line
        // feeds: only then is each line checked for a lone one.
        let has_cr = memchr::memchr(b'\r', region).is_some();
        // Invalid UTF-8 leaves each record to check itself, so the error
        // names its line and column.
        let text = std::str::from_utf8(region).ok();
        let mut line_start = 0;
        let mut ends = LineScanner::new(region, delimiter);
        loop {
            let (line_end, newline) = match ends.next_boundary() {
                Some((at, true)) => (at, true),
                Some((at, false)) => {
                    delimiters.push(at - line_start);
                    continue;
                }
                None if line_start < end => (end, false),
                None => break,
            };
            let mut line = region.get(line_start..line_end).unwrap_or_default();
            if let Some(stripped) = line.strip_suffix(b"\r") {
                line = stripped;
            }
            if has_cr && memchr::memchr(b'\r', line).is_some() {
                return Ok(None);
            }
            if !line.is_empty() {
                let record = PlainRecord {
                    line,
                    valid: text.and_then(|t| t.get(line_start..line_start + line.len())),
                    delimiters: &delimiters,
                };
                sink.accept(ctx, &record, line_no)?;
            }
            if newline {
                line_no += 1;
            }
            delimiters.clear();
            line_start = line_end + 1;
        }
        if eof {
            return Ok(Some((sink, line_no - 1)));
        }
        buf.copy_within(end..filled, 0);
        filled -= end;
    }
}

/// Finds line feeds and delimiters in order, testing eight bytes at a
/// time: CSV fields are a few bytes long, so a `memchr` call per field
/// costs more than the search.
struct LineScanner<'a> {
    bytes: &'a [u8],
    /// Offset of the word being scanned.
    base: usize,
    /// Delimiter and line-feed bytes of that word not yet returned (high
    /// bit of each byte).
    pending: u64,
    newlines: u64,
    delimiter: u64,
}

/// Every byte of a word set to `b`.
const fn splat(b: u8) -> u64 {
    u64::from_le_bytes([b; 8])
}

/// The high bit of every zero byte of `x`, exactly (no false positives
/// from borrows, unlike the shorter `(x - 0x01..) & !x` test).
fn zero_bytes(x: u64) -> u64 {
    let low7 = splat(0x7f);
    !((x & low7).wrapping_add(low7) | x | low7)
}

impl<'a> LineScanner<'a> {
    fn new(bytes: &'a [u8], delimiter: u8) -> Self {
        let mut this = Self {
            bytes,
            base: 0,
            pending: 0,
            newlines: 0,
            delimiter: splat(delimiter),
        };
        this.load();
        this
    }

    /// Loads the word at `base`; past the end, bytes read as `"` (never a
    /// delimiter nor a line feed here).
    fn load(&mut self) {
        let word = match self.bytes.get(self.base..self.base + 8) {
            Some(w) => <[u8; 8]>::try_from(w).map_or(0, u64::from_le_bytes),
            None => {
                let mut w = [b'"'; 8];
                let tail = self.bytes.get(self.base..).unwrap_or_default();
                for (d, s) in w.iter_mut().zip(tail) {
                    *d = *s;
                }
                u64::from_le_bytes(w)
            }
        };
        self.newlines = zero_bytes(word ^ splat(b'\n'));
        self.pending = self.newlines | zero_bytes(word ^ self.delimiter);
    }

    /// The next delimiter or line feed: its offset, and whether it is a
    /// line feed.
    fn next_boundary(&mut self) -> Option<(usize, bool)> {
        while self.pending == 0 {
            self.base += 8;
            if self.base >= self.bytes.len() {
                return None;
            }
            self.load();
        }
        let bit = self.pending.trailing_zeros();
        self.pending &= self.pending - 1;
        Some((self.base + bit as usize / 8, self.newlines >> bit & 1 == 1))
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
