//! Scoring a [`Frame`] held in memory: row ranges scored in parallel, results
//! concatenated in row order.

use mlops_core::data::{Column, Frame, Value};
use mlops_core::drift::DriftMonitor;
use rayon::prelude::*;
use serde::Serialize;

use super::block::{BLOCK_RECORDS, Block};
use super::model::Model;
use crate::error::Result;

/// A row of a [`Frame`] that could not be scored.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FrameReject {
    /// 0-based row index.
    pub row: usize,
    /// The offending column, when one is to blame.
    pub column: Option<String>,
    /// Why, in words.
    pub reason: String,
}

/// Per-range results before concatenation.
pub(crate) struct Part {
    pub scores: Vec<f64>,
    pub rejects: Vec<FrameReject>,
    pub unknown: u64,
    pub monitor: Option<DriftMonitor>,
}

/// Scores rows `start..end` of `frame`.
pub(crate) fn score_range(
    model: &Model,
    columns: &[&Column],
    monitor_columns: &[Option<&Column>],
    template: Option<&DriftMonitor>,
    start: usize,
    end: usize,
) -> Part {
    let mut part = Part {
        scores: Vec::with_capacity((end - start) * model.n_scores()),
        rejects: Vec::new(),
        unknown: 0,
        monitor: template.cloned(),
    };
    let k = model.n_scores();
    let mut values: Vec<Value<'_>> = Vec::with_capacity(columns.len());
    let mut block = Block::new(model);
    // Where each record of the block goes in `part.scores`.
    let mut slots: Vec<usize> = Vec::with_capacity(BLOCK_RECORDS);
    for row in start..end {
        values.clear();
        values.extend(columns.iter().map(|c| c.value(row)));
        match block.push(model, &values) {
            Ok(unknown) => {
                part.unknown += unknown as u64;
                slots.push(part.scores.len());
                part.scores.resize(part.scores.len() + k, f64::NAN);
                // A prepared record cannot fail prediction, so it counts now.
                if let Some(m) = part.monitor.as_mut() {
                    for (i, col) in monitor_columns.iter().enumerate() {
                        match col {
                            Some(Column::Numeric(c)) => m.observe_numeric(i, c.get(row)),
                            Some(Column::Categorical(c)) => m.observe_category(i, c.get(row)),
                            None => m.observe_numeric(i, None),
                        }
                    }
                    m.end_row();
                }
                if block.is_full() {
                    fill(&mut part.scores, &mut slots, block.predict(model), k);
                }
            }
            Err((column, reason)) => {
                part.scores.resize(part.scores.len() + k, f64::NAN);
                part.rejects.push(FrameReject {
                    row,
                    column,
                    reason,
                });
            }
        }
    }
    fill(&mut part.scores, &mut slots, block.predict(model), k);
    part
}

/// Puts a block's predictions (`k` per record) in their rows.
fn fill(scores: &mut [f64], slots: &mut Vec<usize>, predicted: &[f64], k: usize) {
    for (&slot, p) in slots.iter().zip(predicted.chunks_exact(k.max(1))) {
        if let Some(dst) = scores.get_mut(slot..slot + p.len()) {
            dst.copy_from_slice(p);
        }
    }
    slots.clear();
}

/// Scores every row, `chunk_rows` rows per task.
pub(crate) fn score_frame(
    model: &Model,
    frame: &Frame,
    template: Option<&DriftMonitor>,
    chunk_rows: usize,
) -> Result<Vec<Part>> {
    let mut columns = Vec::with_capacity(model.inputs().len());
    for (name, ty) in model.inputs() {
        let col = frame.column(name)?;
        if col.column_type() != *ty {
            return Err(mlops_core::Error::ColumnType {
                column: name.clone(),
                expected: ty.name(),
                found: col.column_type().name(),
            }
            .into());
        }
        columns.push(col);
    }
    let monitor_columns: Vec<Option<&Column>> = model
        .profile()
        .map(|p| {
            p.columns
                .keys()
                .map(|n| frame.position(n).and_then(|i| frame.column_at(i)))
                .collect()
        })
        .unwrap_or_default();
    let n = frame.n_rows();
    let step = chunk_rows.max(1);
    let starts: Vec<usize> = (0..n).step_by(step).collect();
    Ok(starts
        .into_par_iter()
        .map(|s| {
            score_range(
                model,
                &columns,
                &monitor_columns,
                template,
                s,
                (s + step).min(n),
            )
        })
        .collect())
}
