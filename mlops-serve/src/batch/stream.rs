//! The CSV pipeline: one thread cuts the input into chunks of whole records,
//! rayon workers score chunks in any order, one thread writes them back in
//! input order. A fixed number of credits caps the chunks in flight, so
//! memory stays bounded whatever the input size.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{channel, sync_channel};

use mlops_core::drift::DriftMonitor;
use rayon::iter::{ParallelBridge, ParallelIterator};

use super::chunk::{ChunkOut, score_chunk};
use super::model::Model;
use super::plan::Plan;
use super::split::ChunkSplitter;
use super::{CsvProgress, Totals};
use crate::error::{Error, Result};

/// What one streaming run needs.
pub(crate) struct Job<'a, R> {
    pub model: &'a Model,
    pub plan: &'a Plan,
    pub delimiter: u8,
    pub chunk_rows: usize,
    pub in_flight: usize,
    pub source_name: &'a str,
    pub splitter: ChunkSplitter<R>,
    pub monitor: Option<DriftMonitor>,
    pub progress: Option<&'a (dyn Fn(CsvProgress) + Sync)>,
}

/// Runs the pipeline; `output` and `rejects` already hold their headers.
pub(crate) fn run<R: Read + Send>(
    job: Job<'_, R>,
    output: &mut (dyn Write + Send),
    mut rejects: Option<&mut (dyn Write + Send)>,
) -> Result<(Totals, Option<DriftMonitor>)> {
    let Job {
        model,
        plan,
        delimiter,
        chunk_rows,
        in_flight,
        source_name,
        mut splitter,
        monitor,
        progress,
    } = job;
    let in_flight = in_flight.max(1);
    let (credit_tx, credit_rx) = sync_channel::<()>(in_flight);
    for _ in 0..in_flight {
        // The channel has room for every credit.
        let _ = credit_tx.send(());
    }
    let (work_tx, work_rx) = sync_channel(in_flight);
    let (done_tx, done_rx) = channel::<ChunkOut>();
    let read_error: Mutex<Option<std::io::Error>> = Mutex::new(None);
    // Idle per-worker monitors; merged at the end (counts add exactly).
    let template = monitor;
    let monitors: Mutex<Vec<DriftMonitor>> = Mutex::new(Vec::new());
    // Bytes held by chunks in flight (input, then output), and the peak.
    let buffered = Buffered::default();

    let written = std::thread::scope(|s| {
        let read_error = &read_error;
        let buffered = &buffered;
        s.spawn(move || {
            while credit_rx.recv().is_ok() {
                match splitter.next_chunk(chunk_rows) {
                    Ok(Some(chunk)) => {
                        buffered.add(chunk.bytes.len());
                        if work_tx.send(chunk).is_err() {
                            break;
                        }
                    }
                    Ok(None) => break,
                    Err(e) => {
                        if let Ok(mut slot) = read_error.lock() {
                            *slot = Some(e);
                        }
                        break;
                    }
                }
            }
        });
        let writer = s.spawn(move || -> Result<Totals> {
            let mut totals = Totals::default();
            let mut pending = BTreeMap::new();
            let mut next = 0u64;
            for out in done_rx {
                pending.insert(out.index, out);
                while let Some(mut out) = pending.remove(&next) {
                    output
                        .write_all(&out.scores)
                        .map_err(|source| Error::Write {
                            target: "scores".into(),
                            source,
                        })?;
                    if let Some(r) = rejects.as_deref_mut() {
                        r.write_all(&out.rejects).map_err(|source| Error::Write {
                            target: "rejects".into(),
                            source,
                        })?;
                    }
                    totals.add(&mut out);
                    buffered.sub(out.scores.len() + out.rejects.len());
                    if let Some(report) = progress {
                        report(CsvProgress {
                            rows: totals.rows,
                            rejected: totals.rejected,
                            bytes: totals.bytes,
                        });
                    }
                    next += 1;
                    // The reader may be gone after an error; nothing to return.
                    let _ = credit_tx.send(());
                }
            }
            output.flush().map_err(|source| Error::Write {
                target: "scores".into(),
                source,
            })?;
            if let Some(r) = rejects {
                r.flush().map_err(|source| Error::Write {
                    target: "rejects".into(),
                    source,
                })?;
            }
            Ok(totals)
        });
        work_rx
            .into_iter()
            .par_bridge()
            .for_each_with(done_tx, |tx, chunk| {
                let mut monitor = template.as_ref().map(|t| {
                    monitors
                        .lock()
                        .ok()
                        .and_then(|mut idle| idle.pop())
                        .unwrap_or_else(|| t.clone())
                });
                let out = score_chunk(model, plan, delimiter, &chunk, monitor.as_mut());
                buffered.add(out.scores.len() + out.rejects.len());
                buffered.sub(chunk.bytes.len());
                drop(chunk);
                if let (Some(m), Ok(mut idle)) = (monitor, monitors.lock()) {
                    idle.push(m);
                }
                // The writer stops early only on an error it reports itself.
                let _ = tx.send(out);
            });
        writer.join()
    });
    let mut totals = match written {
        Ok(result) => result?,
        Err(panic) => std::panic::resume_unwind(panic),
    };
    totals.peak_buffered = buffered.peak.load(Ordering::Relaxed);
    if let Some(e) = read_error.into_inner().ok().flatten() {
        return Err(Error::Read {
            source_name: source_name.to_owned(),
            source: e,
        });
    }
    let merged = match template {
        None => None,
        Some(mut all) => {
            for m in monitors.into_inner().unwrap_or_default() {
                all.merge(&m)?;
            }
            Some(all)
        }
    };
    Ok((totals, merged))
}

/// A gauge of buffered bytes with its peak.
#[derive(Default)]
struct Buffered {
    now: AtomicU64,
    peak: AtomicU64,
}

impl Buffered {
    fn add(&self, n: usize) {
        let now = self.now.fetch_add(n as u64, Ordering::Relaxed) + n as u64;
        self.peak.fetch_max(now, Ordering::Relaxed);
    }

    fn sub(&self, n: usize) {
        self.now.fetch_sub(n as u64, Ordering::Relaxed);
    }
}
