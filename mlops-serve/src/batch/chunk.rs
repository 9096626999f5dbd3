//! Scoring one chunk of raw CSV records: parse the cells the model needs,
//! transform, predict, and format the output and reject lines.

use std::io::Write;

use mlops_core::data::Value;
use mlops_core::drift::DriftMonitor;

use super::block::Block;
use super::model::Model;
use super::plan::{MonitorSlot, Plan, cell_value, monitor_number, monitor_text};
use super::split::RawChunk;

/// A scored chunk, ready to be written in order.
#[derive(Debug, Default)]
pub(crate) struct ChunkOut {
    pub index: u64,
    /// Input bytes of the chunk (for progress).
    pub bytes: u64,
    /// Output CSV lines.
    pub scores: Vec<u8>,
    /// Rejects CSV lines.
    pub rejects: Vec<u8>,
    /// Data records read.
    pub rows: u64,
    pub rejected: u64,
    pub unknown: u64,
    /// `line N: reason` of the chunk's first reject.
    pub first_reject: Option<String>,
}

/// Scores every record of `chunk`.
pub(crate) fn score_chunk(
    model: &Model,
    plan: &Plan,
    delimiter: u8,
    chunk: &RawChunk,
    mut monitor: Option<&mut DriftMonitor>,
) -> ChunkOut {
    let mut out = ChunkOut {
        index: chunk.index,
        bytes: chunk.bytes.len() as u64,
        scores: Vec::with_capacity(chunk.records * 32),
        ..ChunkOut::default()
    };
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .from_reader(&chunk.bytes[..]);
    let mut rec = csv::ByteRecord::new();
    let mut block = Block::new(model);
    let mut pending = Pending::default();
    let mut store: Vec<Value<'static>> = Vec::with_capacity(plan.inputs.len());
    let mut lines = LineCounter::new(&chunk.bytes, chunk.first_line);
    loop {
        match reader.read_byte_record(&mut rec) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => {
                // Reading from memory only fails on malformed input; the rest
                // of the chunk cannot be trusted, so it is rejected as one.
                out.rows += 1;
                let line = e
                    .position()
                    .map_or(chunk.first_line, |p| lines.line_at(p.byte()));
                reject(
                    &mut out,
                    delimiter,
                    line,
                    None,
                    &format!("malformed CSV: {e}"),
                    &csv::ByteRecord::new(),
                );
                break;
            }
        }
        out.rows += 1;
        // Line numbers are only counted for rejects: scored rows pay nothing.
        let offset = rec.position().map_or(0, csv::Position::byte);
        if rec.len() != plan.n_fields {
            let reason = format!(
                "record has {} fields, the header has {}",
                rec.len(),
                plan.n_fields
            );
            reject(
                &mut out,
                delimiter,
                lines.line_at(offset),
                None,
                &reason,
                &rec,
            );
            continue;
        }
        let mut values = recycle(store);
        let mut bad = None;
        for slot in &plan.inputs {
            match cell_value(
                rec.get(slot.field).unwrap_or_default(),
                slot.field,
                slot.numeric,
            ) {
                Ok(v) => values.push(v),
                Err(cell) => {
                    bad = Some(cell);
                    break;
                }
            }
        }
        if let Some(cell) = bad {
            let column = plan.headers.get(cell.field).map(String::as_str);
            let line = lines.line_at(offset);
            reject(&mut out, delimiter, line, column, &cell.reason, &rec);
            store = recycle(values);
            continue;
        }
        match block.push(model, &values) {
            Ok(unknown) => {
                out.unknown += unknown as u64;
                if let Some(id) = plan.id {
                    push_field(&mut pending.ids, rec.get(id).unwrap_or_default(), delimiter);
                    pending.ids.push(delimiter);
                }
                pending.ends.push(pending.ids.len());
                // A prepared record cannot fail prediction, so it counts now.
                if let Some(m) = monitor.as_deref_mut() {
                    observe(m, plan, &values, &rec);
                }
                if block.is_full() {
                    pending.write(&mut out.scores, block.predict(model), model, delimiter);
                }
            }
            Err((column, reason)) => {
                let line = lines.line_at(offset);
                reject(&mut out, delimiter, line, column.as_deref(), &reason, &rec);
            }
        }
        store = recycle(values);
    }
    pending.write(&mut out.scores, block.predict(model), model, delimiter);
    out
}

/// Output fields (the id, when configured) of the records in the block.
#[derive(Default)]
struct Pending {
    /// `id,` of every record, back to back.
    ids: Vec<u8>,
    /// End of each record's part of `ids`.
    ends: Vec<usize>,
    number: String,
}

impl Pending {
    /// Writes one output line per record: its id, score (or one
    /// probability per class) and label.
    fn write(&mut self, out: &mut Vec<u8>, scores: &[f64], model: &Model, delimiter: u8) {
        let mut start = 0;
        let k = model.n_scores().max(1);
        for (&end, record) in self.ends.iter().zip(scores.chunks_exact(k)) {
            out.extend_from_slice(&self.ids[start..end]);
            start = end;
            for &score in record {
                self.number.clear();
                // Writing to a String cannot fail.
                let _ = std::fmt::Write::write_fmt(&mut self.number, format_args!("{score}"));
                out.extend_from_slice(self.number.as_bytes());
                out.push(delimiter);
            }
            push_field(out, model.label(record).as_bytes(), delimiter);
            out.push(b'\n');
        }
        self.ids.clear();
        self.ends.clear();
    }
}

/// 1-based line numbers of the records of one chunk, counted from the bytes.
///
/// The csv crate's `Position::line` cannot be used: after a `\r\n`
/// terminator it consumes the `\n` as part of the next record, and a record
/// after skipped blank lines starts at the first blank one, so records in
/// CRLF files and after blank lines were reported a line early. Offsets only grow
/// within a chunk, so counting is linear overall.
struct LineCounter<'a> {
    bytes: &'a [u8],
    /// Bytes before this offset are counted.
    counted: usize,
    /// The line of `bytes[counted]`.
    line: u64,
}

impl<'a> LineCounter<'a> {
    fn new(bytes: &'a [u8], first_line: u64) -> Self {
        Self {
            bytes,
            counted: 0,
            line: first_line,
        }
    }

    /// The line of the record whose position is byte `offset` of the chunk:
    /// leftover terminator bytes (and skipped blank lines) before its first
    /// field are stepped over.
    fn line_at(&mut self, offset: u64) -> u64 {
        let mut start = usize::try_from(offset)
            .unwrap_or(usize::MAX)
            .min(self.bytes.len());
        while matches!(self.bytes.get(start), Some(b'\r' | b'\n')) {
            start += 1;
        }
        if start > self.counted {
            let newlines = memchr::memchr_iter(b'\n', &self.bytes[self.counted..start]).count();
            self.line += newlines as u64;
            self.counted = start;
        }
        self.line
    }
}

/// Feeds one scored record's profile columns to the drift monitor.
#[inline]
fn observe(m: &mut DriftMonitor, plan: &Plan, values: &[Value<'_>], rec: &csv::ByteRecord) {
    for (i, slot) in plan.monitor.iter().enumerate() {
        match slot {
            MonitorSlot::Input(k) => match values.get(*k) {
                Some(Value::Number(x)) => m.observe_numeric(i, Some(*x)),
                Some(Value::Text(t)) => m.observe_category(i, Some(t)),
                _ => m.observe_numeric(i, None),
            },
            MonitorSlot::Field { field, numeric } => {
                let raw = rec.get(*field).unwrap_or_default();
                if *numeric {
                    m.observe_numeric(i, monitor_number(raw));
                } else {
                    m.observe_category(i, monitor_text(raw));
                }
            }
            MonitorSlot::Absent => m.observe_numeric(i, None),
        }
    }
    m.end_row();
}

/// Appends a rejects line: `line,column,reason,` then the record's fields.
fn reject(
    out: &mut ChunkOut,
    delimiter: u8,
    line: u64,
    column: Option<&str>,
    reason: &str,
    rec: &csv::ByteRecord,
) {
    out.rejected += 1;
    if out.first_reject.is_none() {
        out.first_reject = Some(format!("line {line}: {reason}"));
    }
    let r = &mut out.rejects;
    // Writing to a Vec cannot fail.
    let _ = write!(r, "{line}");
    r.push(delimiter);
    push_field(r, column.unwrap_or_default().as_bytes(), delimiter);
    r.push(delimiter);
    push_field(r, reason.as_bytes(), delimiter);
    for field in rec {
        r.push(delimiter);
        push_field(r, field, delimiter);
    }
    r.push(b'\n');
}

/// Appends one CSV field, quoted when it holds a delimiter, quote or line
/// break.
pub(crate) fn push_field(out: &mut Vec<u8>, field: &[u8], delimiter: u8) {
    let needs_quotes = field
        .iter()
        .any(|&b| b == delimiter || b == b'"' || b == b'\n' || b == b'\r');
    if !needs_quotes {
        out.extend_from_slice(field);
        return;
    }
    out.push(b'"');
    for &b in field {
        if b == b'"' {
            out.push(b'"');
        }
        out.push(b);
    }
    out.push(b'"');
}

/// Reuses a vector's allocation for values borrowing from the next record.
fn recycle<'a, 'b>(mut v: Vec<Value<'a>>) -> Vec<Value<'b>> {
    v.clear();
    // Same layout, so the in-place collect keeps the allocation.
    v.into_iter().map(|_| Value::Missing).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_quoted_only_when_needed() {
        let mut out = Vec::new();
        push_field(&mut out, b"plain", b',');
        out.push(b'|');
        push_field(&mut out, b"a,\"b\"", b',');
        assert_eq!(out, b"plain|\"a,\"\"b\"\"\"");
    }

    #[test]
    fn recycle_keeps_capacity() {
        let mut v: Vec<Value<'static>> = Vec::with_capacity(16);
        v.push(Value::Missing);
        let w: Vec<Value<'_>> = recycle(v);
        assert!(w.is_empty() && w.capacity() >= 16);
    }
}
