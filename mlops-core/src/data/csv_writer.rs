//! Writing a [`Frame`] as CSV, so that a slice of a frame (a holdout, a
//! sample) can be handed to anything that reads files, such as a batch
//! scoring job.

use std::io::Write;
use std::path::Path;

use super::column::Value;
use super::frame::Frame;
use crate::error::{Error, Result};

impl Frame {
    /// Streams the frame as CSV to `writer`: a header of the column names,
    /// then one record per row, and returns the number of rows written.
    ///
    /// Numbers are written in the shortest form that parses back to the same
    /// `f64` (`72`, `29.85`); missing cells are empty; text is quoted when it
    /// holds a comma, a quote or a line break. Reading the output back with
    /// [`CsvReader`](super::CsvReader) gives an equal frame, provided no text
    /// value is a missing token (`NA`, `null`, ...) or has surrounding
    /// spaces (the reader trims cells) and categorical columns whose values
    /// all look like numbers are given their type.
    ///
    /// ```
    /// use mlops_core::data::{CsvReader, Frame};
    ///
    /// let csv = "id,tenure,plan\na,1,\"basic, monthly\"\nb,,pro\n";
    /// let frame = CsvReader::new().read(csv.as_bytes(), "inline")?.frame;
    /// let mut out = Vec::new();
    /// assert_eq!(frame.write_csv(&mut out)?, 2);
    /// assert_eq!(String::from_utf8(out.clone()).unwrap(), csv);
    /// assert_eq!(CsvReader::new().read(out.as_slice(), "again")?.frame, frame);
    /// # Ok::<(), mlops_core::Error>(())
    /// ```
    pub fn write_csv<W: Write>(&self, writer: W) -> Result<u64> {
        self.write_csv_rows(writer, true)
    }

    /// [`Frame::write_csv`], with or without the header record (a later
    /// part of one output leaves it out).
    pub(crate) fn write_csv_rows<W: Write>(&self, writer: W, header: bool) -> Result<u64> {
        let mut out = csv::WriterBuilder::new()
            .has_headers(false)
            .from_writer(writer);
        let write_err = |e: csv::Error| Error::Write {
            target: "CSV output".into(),
            source: match e.into_kind() {
                csv::ErrorKind::Io(source) => source,
                other => std::io::Error::other(format!("{other:?}")),
            },
        };
        if header {
            out.write_record(self.names()).map_err(write_err)?;
        }
        let mut number = String::new();
        for row in 0..self.n_rows() {
            for col in 0..self.n_cols() {
                match self.value(row, col) {
                    Value::Number(v) => {
                        number.clear();
                        // `Display` is the shortest text that parses back to
                        // the same f64.
                        use std::fmt::Write as _;
                        let _ = write!(number, "{v}");
                        out.write_field(&number)
                    }
                    Value::Text(s) => out.write_field(s),
                    Value::Missing => out.write_field(""),
                }
                .map_err(write_err)?;
            }
            out.write_record(None::<&[u8]>).map_err(write_err)?;
        }
        out.flush().map_err(|source| Error::Write {
            target: "CSV output".into(),
            source,
        })?;
        tracing::debug!(
            rows = self.n_rows(),
            columns = self.n_cols(),
            "frame written as CSV"
        );
        Ok(self.n_rows() as u64)
    }

    /// Writes the frame as CSV to a file (created or truncated); see
    /// [`write_csv`](Self::write_csv). The file appears whole or not at all
    /// ([`atomic_file`](crate::atomic_file)); errors name it.
    pub fn write_csv_path(&self, path: impl AsRef<Path>) -> Result<u64> {
        crate::atomic_file::write_with(path.as_ref(), |out| self.write_csv(out))
    }
}

#[cfg(test)]
mod tests {
    use crate::data::{CategoricalColumn, Column, CsvReader, Frame, NumericColumn};

    fn round_trip(frame: &Frame) -> Frame {
        let mut out = Vec::new();
        let rows = frame.write_csv(&mut out).unwrap();
        assert_eq!(rows, frame.n_rows() as u64);
        CsvReader::new()
            .read(out.as_slice(), "round trip")
            .unwrap()
            .frame
    }

    #[test]
    fn awkward_values_survive_a_round_trip() {
        let frame = Frame::new(vec![
            (
                "x".into(),
                Column::Numeric(NumericColumn::from_options([
                    Some(0.1 + 0.2),
                    None,
                    Some(-1e-300),
                    Some(1889.5),
                ])),
            ),
            (
                "note, with comma".into(),
                Column::Categorical(CategoricalColumn::from_options([
                    Some("say \"hi\""),
                    Some("two\nlines"),
                    None,
                    Some("a,b"),
                ])),
            ),
        ])
        .unwrap();
        let back = round_trip(&frame);
        assert_eq!(back, frame);
        // Exactly the same bits, not just close.
        assert_eq!(back.numeric("x").unwrap().get(0), Some(0.1 + 0.2));
    }

    #[test]
    fn telco_file_survives_a_round_trip() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../examples/data/telco_churn.csv"
        );
        let frame = Frame::read_csv(path).unwrap();
        let back = round_trip(&frame);
        assert_eq!(back, frame);
        assert_eq!(
            crate::fingerprint::frame(&back),
            crate::fingerprint::frame(&frame)
        );
    }

    #[test]
    fn an_empty_frame_writes_only_the_header() {
        let frame = Frame::read_csv(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../examples/data/telco_churn.csv"
        ))
        .unwrap()
        .take(&[])
        .unwrap();
        let mut out = Vec::new();
        assert_eq!(frame.write_csv(&mut out).unwrap(), 0);
        let text = String::from_utf8(out).unwrap();
        assert_eq!(text.lines().count(), 1);
        assert!(text.starts_with("customerID,gender,"));
    }

    #[test]
    fn a_file_error_names_the_file() {
        let frame = Frame::new(vec![(
            "x".into(),
            Column::Numeric(NumericColumn::from_raw(vec![1.0])),
        )])
        .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("missing-dir").join("out.csv");
        let err = frame.write_csv_path(&path).unwrap_err();
        assert!(err.to_string().contains("missing-dir"), "{err}");
        let ok = dir.path().join("out.csv");
        assert_eq!(frame.write_csv_path(&ok).unwrap(), 1);
        assert_eq!(std::fs::read_to_string(ok).unwrap(), "x\n1\n");
    }
}
