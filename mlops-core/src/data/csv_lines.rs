//! True line numbers for records read by the `csv` parser.
//!
//! csv 1.x's `Position::line` is early in two cases: after a `\r\n`
//! terminator the `\n` is only counted when the next record is read, and a
//! record read after skipped blank lines is positioned at the first blank
//! one. Errors and rejected rows must name the line the row is on, so the
//! bytes the parser reads pass through [`LineTracked`], which keeps the
//! offsets of terminator bytes, and a record's line comes from its byte
//! position, with the terminators at that position stepped over.

use std::collections::VecDeque;
use std::io::Read;

/// A reader that notes where `\r` and `\n` bytes are, for [`line_at`](Self::line_at).
#[derive(Debug)]
pub(super) struct LineTracked<R> {
    inner: R,
    /// Bytes handed out so far.
    read: u64,
    /// Offsets of terminator bytes not yet passed, in order, with whether
    /// each is a line feed. Holds only the parser's read-ahead.
    terminators: VecDeque<(u64, bool)>,
    /// Line feeds passed.
    line_feeds: u64,
}

impl<R> LineTracked<R> {
    pub(super) fn new(inner: R) -> Self {
        Self {
            inner,
            read: 0,
            terminators: VecDeque::new(),
            line_feeds: 0,
        }
    }

    /// The 1-based line of the record the parser positioned at byte `byte`
    /// (offsets relative to the start of this reader): the line of its first
    /// byte that is not a line terminator. Calls must come in byte order.
    pub(super) fn line_at(&mut self, byte: u64) -> u64 {
        let mut next = byte;
        while let Some(&(at, line_feed)) = self.terminators.front() {
            if at > next {
                break;
            }
            if at == next {
                // A terminator at the record's position: step over it.
                next += 1;
            }
            self.line_feeds += u64::from(line_feed);
            self.terminators.pop_front();
        }
        self.line_feeds + 1
    }

    /// Line feeds in everything read so far.
    pub(super) fn total_line_feeds(&self) -> u64 {
        self.line_feeds + self.terminators.iter().filter(|(_, lf)| *lf).count() as u64
    }
}

impl<R: Read> Read for LineTracked<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        let fresh = buf.get(..n).unwrap_or_default();
        for i in memchr::memchr2_iter(b'\r', b'\n', fresh) {
            let line_feed = fresh.get(i) == Some(&b'\n');
            self.terminators
                .push_back((self.read + i as u64, line_feed));
        }
        self.read += n as u64;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::LineTracked;
    use std::io::Read;

    /// Records' start lines for `data`, from the csv parser's positions.
    fn lines(data: &str) -> Vec<(String, u64)> {
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(LineTracked::new(data.as_bytes()));
        let mut out = Vec::new();
        let mut rec = csv::StringRecord::new();
        while reader.read_record(&mut rec).unwrap() {
            let byte = rec.position().unwrap().byte();
            let line = reader.get_mut().line_at(byte);
            out.push((rec.get(0).unwrap().to_owned(), line));
        }
        out
    }

    #[test]
    fn lines_after_crlf_blank_lines_and_multiline_quotes() {
        assert_eq!(
            lines("a\nb\r\nc\r\n\r\n\nd\n\"e\nf\"\ng"),
            [
                ("a".to_owned(), 1),
                ("b".to_owned(), 2),
                ("c".to_owned(), 3),
                ("d".to_owned(), 6),
                ("e\nf".to_owned(), 7),
                ("g".to_owned(), 9),
            ]
        );
    }

    #[test]
    fn counts_every_line_feed_read() {
        let mut tracked = LineTracked::new(&b"x\r\ny\n\nz"[..]);
        let mut sink = Vec::new();
        tracked.read_to_end(&mut sink).unwrap();
        assert_eq!(tracked.total_line_feeds(), 3);
        assert_eq!(tracked.line_at(3), 2);
        assert_eq!(tracked.total_line_feeds(), 3);
    }
}
