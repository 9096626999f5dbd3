//! Cutting a CSV byte stream into chunks of whole records, so that workers can
//! parse chunks in parallel and every record keeps its line number.

use std::io::Read;

/// Bytes asked from the source per read.
const READ_BYTES: usize = 1 << 20;

/// A run of whole CSV records.
#[derive(Debug)]
pub(crate) struct RawChunk {
    /// Position of the chunk in the stream (0-based), for reordering.
    pub index: u64,
    /// 1-based line number of the chunk's first byte.
    pub first_line: u64,
    /// The records, ending after a line feed (or at the end of the input).
    pub bytes: Vec<u8>,
    /// Records (non-quoted line feeds) counted in the chunk.
    pub records: usize,
}

/// Splits a stream at record boundaries.
///
/// A quote opens a quoted field only at the start of a field (after the
/// delimiter or a line feed), as the `csv` crate reads it; inside a quoted
/// field `""` is an escaped quote. Line feeds inside quoted fields do not end
/// a record, so a chunk never splits a record.
pub(crate) struct ChunkSplitter<R> {
    reader: R,
    delimiter: u8,
    buf: Vec<u8>,
    /// Bytes of `buf` already classified.
    scanned: usize,
    /// Parser state at `scanned`.
    in_quote: bool,
    /// Line feeds seen in `buf[..scanned]`.
    lines_in_scanned: u64,
    /// Records completed in `buf[..scanned]` and the byte after the last one.
    records: usize,
    record_end: usize,
    /// Line feeds in `buf[..record_end]`.
    lines_to_record_end: u64,
    /// 1-based line of `buf[0]`.
    line: u64,
    next_index: u64,
    eof: bool,
}

impl<R: Read> ChunkSplitter<R> {
    pub(crate) fn new(reader: R, delimiter: u8) -> Self {
        Self {
            reader,
            delimiter,
            buf: Vec::new(),
            scanned: 0,
            in_quote: false,
            lines_in_scanned: 0,
            records: 0,
            record_end: 0,
            lines_to_record_end: 0,
            line: 1,
            next_index: 0,
            eof: false,
        }
    }

    /// Numbers the next chunk 0 (after the header was taken as a chunk).
    pub(crate) fn restart_numbering(&mut self) {
        self.next_index = 0;
    }

    /// The next chunk of up to `max_records` records; `None` at the end.
    pub(crate) fn next_chunk(&mut self, max_records: usize) -> std::io::Result<Option<RawChunk>> {
        let max_records = max_records.max(1);
        loop {
            self.scan(max_records);
            if self.records >= max_records {
                return Ok(Some(self.cut(self.record_end, self.lines_to_record_end)));
            }
            if self.eof {
                if self.buf.is_empty() {
                    return Ok(None);
                }
                // The last record may lack its line feed.
                let end = self.buf.len();
                let lines = self.lines_in_scanned;
                self.records += usize::from(self.record_end < end);
                return Ok(Some(self.cut(end, lines)));
            }
            self.fill()?;
        }
    }

    fn fill(&mut self) -> std::io::Result<()> {
        // `read_to_end` appends into spare capacity without zeroing it first.
        let n = (&mut self.reader)
            .take(READ_BYTES as u64)
            .read_to_end(&mut self.buf)?;
        self.eof = n == 0;
        Ok(())
    }

    /// Classifies bytes from `scanned` on until `max_records` records end.
    fn scan(&mut self, max_records: usize) {
        let buf = &self.buf;
        let mut pos = self.scanned;
        while self.records < max_records {
            let Some(off) = memchr::memchr2(b'"', b'\n', &buf[pos..]) else {
                pos = buf.len();
                break;
            };
            let at = pos + off;
            if buf[at] == b'\n' {
                self.lines_in_scanned += 1;
                if !self.in_quote {
                    self.records += 1;
                    self.record_end = at + 1;
                    self.lines_to_record_end = self.lines_in_scanned;
                }
                pos = at + 1;
            } else if self.in_quote {
                // `""` inside a quoted field is an escaped quote; a quote at
                // the very end of the buffer waits for the next byte.
                match buf.get(at + 1) {
                    Some(b'"') => pos = at + 2,
                    Some(_) => {
                        self.in_quote = false;
                        pos = at + 1;
                    }
                    None if self.eof => {
                        self.in_quote = false;
                        pos = at + 1;
                    }
                    None => {
                        pos = at;
                        break;
                    }
                }
            } else {
                let field_start = at == 0
                    || matches!(buf[at - 1], b'\n' | b'\r')
                    || buf[at - 1] == self.delimiter;
                self.in_quote = field_start;
                pos = at + 1;
            }
        }
        self.scanned = pos;
    }

    /// Hands out `buf[..end]` (holding `lines` line feeds) as a chunk.
    fn cut(&mut self, end: usize, lines: u64) -> RawChunk {
        let rest = self.buf.split_off(end);
        let bytes = std::mem::replace(&mut self.buf, rest);
        let chunk = RawChunk {
            index: self.next_index,
            first_line: self.line,
            records: self.records,
            bytes,
        };
        self.next_index += 1;
        self.line += lines;
        self.scanned -= end.min(self.scanned);
        self.lines_in_scanned -= lines;
        self.records = 0;
        self.record_end = 0;
        self.lines_to_record_end = 0;
        chunk
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reader that hands out at most `n` bytes per call, to hit every
    /// buffer boundary.
    struct Trickle<'a>(&'a [u8], usize);
    impl Read for Trickle<'_> {
        fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
            let n = self.0.len().min(self.1).min(out.len());
            out[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    fn chunks(input: &[u8], per: usize, trickle: usize) -> Vec<RawChunk> {
        let mut s = ChunkSplitter::new(Trickle(input, trickle), b',');
        let mut out = Vec::new();
        while let Some(c) = s.next_chunk(per).expect("read") {
            out.push(c);
        }
        out
    }

    #[test]
    fn chunks_reassemble_and_number_lines() {
        let input = b"a,b\n1,\"x\ny\"\n2,\"q\"\"\n\"\n3,z\n4,w";
        for trickle in [1, 2, 3, 7, 1000] {
            for per in [1, 2, 3, 10] {
                let cs = chunks(input, per, trickle);
                let joined: Vec<u8> = cs.iter().flat_map(|c| c.bytes.clone()).collect();
                assert_eq!(joined, input, "per={per} trickle={trickle}");
                let records: usize = cs.iter().map(|c| c.records).sum();
                assert_eq!(records, 5);
                if per == 1 {
                    let lines: Vec<u64> = cs.iter().map(|c| c.first_line).collect();
                    assert_eq!(lines, vec![1, 2, 4, 6, 7]);
                }
            }
        }
    }

    #[test]
    fn mid_field_quote_is_literal() {
        // The quote in `5"` does not open a quoted field (as in the csv crate),
        // so the next line feed still ends the record.
        let cs = chunks(b"a,b\n5\",x\n6,y\n", 1, 1000);
        assert_eq!(cs.len(), 3);
        assert_eq!(cs[1].bytes, b"5\",x\n");
    }

    #[test]
    fn empty_input_has_no_chunk() {
        assert!(chunks(b"", 4, 10).is_empty());
    }
}
