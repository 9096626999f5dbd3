//! Scoring a Parquet file (feature `parquet`): the file is read in record
//! batches of [`BatchConfig::chunk_rows`] x threads rows (only the model's
//! inputs, the id column and the profiled columns are decoded), each batch
//! is scored in parallel like a [`Frame`], and the scores are written as
//! they come to a Parquet or CSV output, so memory is bounded by the batch
//! size, not the file.
//!
//! The output has the columns of the CSV path: the id column (its own
//! type), `score` and `label` (1/0, missing for a regressor). Rejected rows
//! go to the rejects output with the columns `row` (0-based row of the
//! input file), `column` and `reason`, followed by the row's decoded
//! columns.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::time::Instant;

use mlops_core::data::{
    CategoricalColumn, Column, Frame, NumericColumn, ParquetReader, TableFormat, TableWriter,
};

use super::{BatchScorer, BatchSummary, CsvProgress, Totals};
use crate::error::{Error, Result};

impl BatchScorer {
    /// Scores a Parquet file into `output` (Parquet or CSV by its
    /// extension), rejected rows into `rejects` (same rule) or only counted
    /// when `None`. Files are created or truncated.
    pub fn score_parquet_path(
        &self,
        input: &Path,
        output: &Path,
        rejects: Option<&Path>,
    ) -> Result<BatchSummary> {
        let create = |p: &Path| -> Result<TableWriter<BufWriter<File>>> {
            let file = File::create(p).map_err(|source| Error::File {
                path: p.to_owned(),
                source,
            })?;
            Ok(TableWriter::new(
                BufWriter::with_capacity(1 << 20, file),
                p,
                TableFormat::from_path(p),
            )?)
        };
        let out = create(output)?;
        let rej = rejects.map(create).transpose()?;
        self.score_parquet(input, out, rej, None).map(|(_, s)| s)
    }

    /// Scores the Parquet file `input` into `output`; rejected rows go to
    /// `rejects` when given (completed even when the job then fails on the
    /// reject ratio). `progress` is called after each batch, its `bytes`
    /// estimated from the rows read. Returns the completed output.
    pub fn score_parquet<W: Write + Send, R: Write + Send>(
        &self,
        input: &Path,
        mut output: TableWriter<W>,
        mut rejects: Option<TableWriter<R>>,
        progress: Option<&(dyn Fn(CsvProgress) + Sync)>,
    ) -> Result<(W, BatchSummary)> {
        let started = Instant::now();
        let source = input.display().to_string();
        let _span = tracing::info_span!("batch.score_parquet", source = %source).entered();
        let in_file = ParquetReader::file_columns(input)?;
        let id = self.config.id_column.as_deref();
        if let Some(id) = id
            && !in_file.iter().any(|c| c == id)
        {
            return Err(Error::BadHeader {
                source_name: source,
                reason: format!("id column `{id}` is absent"),
            });
        }
        // The model's inputs (absent ones fail when scored, with their
        // name), the id column, then profiled columns present in the file.
        let mut wanted: Vec<String> = Vec::new();
        let inputs = self.model.inputs().iter().map(|(n, _)| n.as_str());
        let profiled = self
            .model
            .profile()
            .into_iter()
            .flat_map(|p| p.columns.keys().map(String::as_str));
        for name in inputs.chain(id).chain(profiled) {
            if in_file.iter().any(|c| c == name) && !wanted.iter().any(|w| w == name) {
                wanted.push(name.to_owned());
            }
        }
        if let Some((name, _)) = self
            .model
            .inputs()
            .iter()
            .find(|(n, _)| !in_file.contains(n))
        {
            return Err(Error::BadHeader {
                source_name: source,
                reason: format!("model input column `{name}` is absent"),
            });
        }
        let batch_rows = self.config.chunk_rows.saturating_mul(self.threads()).max(1);
        let batches = ParquetReader::new()
            .columns(wanted)
            .batch_rows(batch_rows)
            .batches(input)?;
        let total_rows = batches.total_rows();
        let file_bytes = std::fs::metadata(input).map(|m| m.len()).unwrap_or(0);
        let mut totals = Totals::default();
        let mut monitor = self.monitor.clone();
        let mut first_out: Option<Frame> = None;
        let mut first_rej: Option<Frame> = None;
        for batch in batches {
            let batch = batch?;
            let offset = totals.rows as usize;
            let part = self.score_part(&batch)?;
            totals.rows += batch.n_rows() as u64;
            totals.rejected += part.rejects.len() as u64;
            totals.unknown += part.unknown;
            if totals.first_reject.is_none() {
                totals.first_reject = part
                    .rejects
                    .first()
                    .map(|r| format!("row {}: {}", r.row + offset, r.reason));
            }
            if let (Some(all), Some(m)) = (monitor.as_mut(), part.monitor.as_ref()) {
                all.merge(m)?;
            }
            let scored = self.output_frame(&batch, &part.scores, &part.rejects, id)?;
            first_out.get_or_insert_with(|| scored.clone());
            output.write(scored)?;
            if let Some(rej) = rejects.as_mut()
                && !part.rejects.is_empty()
            {
                let frame = rejects_frame(&batch, &part.rejects, offset)?;
                first_rej.get_or_insert_with(|| frame.clone());
                rej.write(frame)?;
            }
            if let Some(p) = progress {
                p(CsvProgress {
                    rows: totals.rows,
                    rejected: totals.rejected,
                    bytes: file_bytes
                        .saturating_mul(totals.rows)
                        .checked_div(total_rows)
                        .unwrap_or(0),
                });
            }
        }
        totals.bytes = file_bytes;
        let empty_out = match first_out {
            Some(f) => f,
            None => self.output_frame(&Frame::default(), &[], &[], None)?,
        };
        let out = output.finish(&empty_out)?;
        if let Some(rej) = rejects {
            let empty = first_rej.unwrap_or(rejects_frame(&Frame::default(), &[], 0)?);
            rej.finish(&empty)?;
        }
        let summary = self.finish(totals, monitor, started)?;
        Ok((out, summary))
    }

    /// `[id,] score, label` of the scored (not rejected) rows of `batch`.
    fn output_frame(
        &self,
        batch: &Frame,
        scores: &[f64],
        rejects: &[super::FrameReject],
        id: Option<&str>,
    ) -> Result<Frame> {
        let mut rejected = rejects.iter().map(|r| r.row).peekable();
        let k = self.model.n_scores().max(1);
        let n_rows = scores.len() / k;
        let kept: Vec<usize> = (0..n_rows)
            .filter(|&i| {
                let hit = rejected.peek() == Some(&i);
                if hit {
                    rejected.next();
                }
                !hit
            })
            .collect();
        let mut columns = Vec::with_capacity(3);
        if let Some(id) = id {
            let col = batch.column(id)?;
            let col = if kept.len() == n_rows {
                col.clone()
            } else {
                batch.select(&[id])?.take(&kept)?.into_columns().remove(0).1
            };
            columns.push((id.to_owned(), col));
        }
        if k > 1 {
            // Multiclass: `p_<class>` per class, then the predicted class.
            for (c, class) in self.model.classes().iter().enumerate() {
                let p: Vec<f64> = kept.iter().map(|&i| scores[i * k + c]).collect();
                columns.push((
                    format!("p_{class}"),
                    Column::Numeric(NumericColumn::from_raw(p)),
                ));
            }
            let labels = CategoricalColumn::from_options(
                kept.iter()
                    .map(|&i| Some(self.model.label(&scores[i * k..(i + 1) * k]))),
            );
            columns.push(("label".into(), Column::Categorical(labels)));
            return Ok(Frame::new(columns)?);
        }
        let score: Vec<f64> = kept.iter().map(|&i| scores[i]).collect();
        let label = score
            .iter()
            .map(|s| match self.model.label(std::slice::from_ref(s)) {
                "1" => 1.0,
                "0" => 0.0,
                _ => f64::NAN,
            })
            .collect();
        columns.push((
            "score".into(),
            Column::Numeric(NumericColumn::from_raw(score)),
        ));
        columns.push((
            "label".into(),
            Column::Numeric(NumericColumn::from_raw(label)),
        ));
        Ok(Frame::new(columns)?)
    }
}

/// `row, column, reason` and the decoded columns of the rejected rows.
fn rejects_frame(batch: &Frame, rejects: &[super::FrameReject], offset: usize) -> Result<Frame> {
    let rows: Vec<usize> = rejects.iter().map(|r| r.row).collect();
    let mut columns = vec![
        (
            "row".to_owned(),
            Column::Numeric(NumericColumn::from_raw(
                rejects.iter().map(|r| (r.row + offset) as f64).collect(),
            )),
        ),
        (
            "column".to_owned(),
            Column::Categorical(CategoricalColumn::from_options(
                rejects.iter().map(|r| r.column.as_deref()),
            )),
        ),
        (
            "reason".to_owned(),
            Column::Categorical(CategoricalColumn::from_options(
                rejects.iter().map(|r| Some(r.reason.as_str())),
            )),
        ),
    ];
    columns.extend(batch.take(&rows)?.into_columns());
    Ok(Frame::new(columns)?)
}
