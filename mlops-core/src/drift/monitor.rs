//! The streaming drift monitor of the serving path.
//!
//! Memory is fixed by the profile: per numeric column `bins + 2` integer
//! counts, per categorical column `categories + 1`. Every state is an
//! integer count, so merging per-thread monitors is exact: the merged
//! monitor equals one monitor fed every record.
//!
//! Without raw values KS and Wasserstein cannot run; the monitor's
//! automatic choice is therefore: categorical columns as Evidently (chi-square
//! or z-test for a reference of 1,000 values or fewer, Jensen-Shannon
//! otherwise), numeric columns Jensen-Shannon on the profile's fixed bins.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use super::options::DriftOptions;
use super::profile::{ColumnProfile, Profile, binned_verdict};
use super::report::DriftReport;
use super::select::{ColumnKind, Method, auto_method};
use crate::data::{Column, Frame};
use crate::{Error, Result};

/// When a monitor closes a window.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MonitorConfig {
    /// Close a window every N rows.
    pub every_rows: Option<u64>,
    /// Close a window when this much time has passed since it opened.
    pub every: Option<Duration>,
}

/// A closed window and its report.
#[derive(Debug, Clone, PartialEq)]
pub struct Window {
    /// Rows in the window.
    pub rows: u64,
    /// Drift of the window against the profile.
    pub report: DriftReport,
}

/// Slot of `v` in `[below, bins..., above]` for the profile's edges
/// (same rule as [`super::NumericProfile::slot`]).
#[inline]
fn slot(edges: &[f64], v: f64) -> Option<usize> {
    let (&first, &last) = (edges.first()?, edges.last()?);
    if !v.is_finite() {
        None
    } else if v < first {
        Some(0)
    } else if v > last {
        Some(edges.len())
    } else if v == last {
        Some(edges.len() - 1)
    } else {
        Some(edges.partition_point(|&e| e <= v))
    }
}

#[derive(Debug, Clone, PartialEq)]
enum State {
    Numeric {
        edges: Vec<f64>,
        counts: Vec<u64>,
        missing: u64,
    },
    Categorical {
        counts: Vec<u64>,
        missing: u64,
    },
}

/// Streaming, bounded-memory, mergeable drift monitor (see module docs).
#[derive(Debug, Clone)]
pub struct DriftMonitor {
    profile: Profile,
    names: Vec<String>,
    states: Vec<State>,
    lookups: Vec<rustc_hash::FxHashMap<String, u32>>,
    rows: u64,
    opened: Instant,
    config: MonitorConfig,
    options: DriftOptions,
}

impl DriftMonitor {
    /// A monitor against `profile`, reporting with `options`.
    pub fn new(profile: &Profile, config: MonitorConfig, options: DriftOptions) -> Result<Self> {
        options.validate()?;
        if config.every_rows == Some(0) {
            return Err(Error::InvalidParameter {
                name: "every_rows",
                reason: "a window needs at least one row".into(),
            });
        }
        let mut names = Vec::new();
        let mut states = Vec::new();
        let mut lookups = Vec::new();
        for (name, col) in &profile.columns {
            names.push(name.clone());
            match col {
                ColumnProfile::Numeric(p) => {
                    states.push(State::Numeric {
                        edges: p.edges.clone(),
                        counts: vec![0; p.counts.len()],
                        missing: 0,
                    });
                    lookups.push(Default::default());
                }
                ColumnProfile::Categorical(p) => {
                    states.push(State::Categorical {
                        counts: vec![0; p.categories.len() + 1],
                        missing: 0,
                    });
                    lookups.push(
                        p.categories
                            .iter()
                            .enumerate()
                            .map(|(i, (l, _))| (l.clone(), i as u32))
                            .collect(),
                    );
                }
            }
        }
        Ok(DriftMonitor {
            profile: profile.clone(),
            names,
            states,
            lookups,
            rows: 0,
            opened: Instant::now(),
            config,
            options,
        })
    }

    /// Index of a column for the `observe_*` calls.
    pub fn column_index(&self, name: &str) -> Option<usize> {
        self.names.iter().position(|n| n == name)
    }

    /// Records one numeric value (`None` or non-finite = missing). Unknown
    /// indices and categorical columns are ignored.
    #[inline]
    pub fn observe_numeric(&mut self, column: usize, value: Option<f64>) {
        let Some(State::Numeric {
            edges,
            counts,
            missing,
        }) = self.states.get_mut(column)
        else {
            return;
        };
        match value.and_then(|v| slot(edges, v)) {
            Some(s) => counts[s] += 1,
            None => *missing += 1,
        }
    }

    /// Records one label (`None` = missing); labels unseen in the profile
    /// count in the "other" bucket.
    #[inline]
    pub fn observe_category(&mut self, column: usize, label: Option<&str>) {
        let Some(State::Categorical { counts, missing }) = self.states.get_mut(column) else {
            return;
        };
        match label {
            None => *missing += 1,
            Some(l) => {
                let other = counts.len() - 1;
                let i = self.lookups[column].get(l).map_or(other, |&i| i as usize);
                counts[i] += 1;
            }
        }
    }

    /// Marks the end of a record; returns a window when one closes (by row
    /// count or by time).
    pub fn end_row(&mut self) -> Option<Window> {
        self.rows += 1;
        if self.config.every_rows.is_some_and(|n| self.rows >= n) {
            return Some(self.close());
        }
        None
    }

    /// Closes the window when its time is up (call from a timer or per
    /// request with the current instant).
    pub fn poll(&mut self, now: Instant) -> Option<Window> {
        match self.config.every {
            Some(t) if self.rows > 0 && now.duration_since(self.opened) >= t => Some(self.close()),
            _ => None,
        }
    }

    /// Records every row of a Frame (columns matched by name; absent columns
    /// are missing), closing windows as they fill.
    pub fn observe_frame(&mut self, frame: &Frame) -> Result<Vec<Window>> {
        let map: Vec<Option<&Column>> = self
            .names
            .iter()
            .map(|n| frame.position(n).and_then(|i| frame.column_at(i)))
            .collect();
        let mut windows = Vec::new();
        for row in 0..frame.n_rows() {
            for (i, col) in map.iter().enumerate() {
                match col {
                    Some(Column::Numeric(c)) => self.observe_numeric(i, c.get(row)),
                    Some(Column::Categorical(c)) => self.observe_category(i, c.get(row)),
                    None => self.observe_numeric(i, None),
                }
            }
            windows.extend(self.end_row());
        }
        Ok(windows)
    }

    /// Adds another monitor's counts (same profile) into this one.
    pub fn merge(&mut self, other: &DriftMonitor) -> Result<()> {
        if self.profile != other.profile {
            return Err(Error::InvalidParameter {
                name: "monitor",
                reason: "monitors built on different profiles cannot be merged".into(),
            });
        }
        for (a, b) in self.states.iter_mut().zip(&other.states) {
            match (a, b) {
                (
                    State::Numeric {
                        counts: ca,
                        missing: ma,
                        ..
                    },
                    State::Numeric {
                        counts: cb,
                        missing: mb,
                        ..
                    },
                )
                | (
                    State::Categorical {
                        counts: ca,
                        missing: ma,
                    },
                    State::Categorical {
                        counts: cb,
                        missing: mb,
                    },
                ) => {
                    for (x, y) in ca.iter_mut().zip(cb) {
                        *x += y;
                    }
                    *ma += mb;
                }
                _ => {}
            }
        }
        self.rows += other.rows;
        Ok(())
    }

    /// Rows in the open window.
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// Drift of the open window against the profile.
    pub fn report(&self) -> DriftReport {
        let mut columns = BTreeMap::new();
        let mut skipped = BTreeMap::new();
        for ((name, state), prof) in self
            .names
            .iter()
            .zip(&self.states)
            .zip(self.profile.columns.values())
        {
            if let Some(cols) = &self.options.columns
                && !cols.contains(name)
            {
                continue;
            }
            let forced = self.options.method_for(name);
            let (kind, reference, current, ref_n) = match (state, prof) {
                (State::Numeric { counts, .. }, ColumnProfile::Numeric(p)) => {
                    (p.kind, p.counts.clone(), counts.clone(), p.count)
                }
                (State::Categorical { counts, .. }, ColumnProfile::Categorical(p)) => {
                    let mut r: Vec<u64> = p.categories.iter().map(|c| c.1).collect();
                    r.push(p.other);
                    (p.kind, r, counts.clone(), p.count)
                }
                _ => continue,
            };
            if kind == ColumnKind::Text && forced.is_none() {
                skipped.insert(name.clone(), "text column".into());
                continue;
            }
            if ref_n == 0 || current.iter().sum::<u64>() == 0 {
                skipped.insert(name.clone(), "no non-missing values on one side".into());
                continue;
            }
            let method = forced.unwrap_or_else(|| match (state, kind) {
                (State::Categorical { .. }, _) | (_, ColumnKind::Categorical) => {
                    let distinct = reference
                        .iter()
                        .zip(&current)
                        .filter(|(a, b)| **a + **b > 0)
                        .count();
                    auto_method(ColumnKind::Categorical, ref_n as usize, distinct)
                        .unwrap_or(Method::JensenShannon)
                }
                _ => Method::JensenShannon,
            });
            let threshold = self.options.threshold_for(name, method);
            columns.insert(
                name.clone(),
                binned_verdict(kind, method, threshold, &reference, &current),
            );
        }
        super::compare::finish_report(columns, skipped, &self.options)
    }

    fn close(&mut self) -> Window {
        let report = self.report();
        let rows = self.rows;
        for s in &mut self.states {
            match s {
                State::Numeric {
                    counts, missing, ..
                }
                | State::Categorical { counts, missing } => {
                    counts.iter_mut().for_each(|c| *c = 0);
                    *missing = 0;
                }
            }
        }
        self.rows = 0;
        self.opened = Instant::now();
        tracing::info!(
            rows,
            drift_share = report.drift_share,
            dataset_drift = report.dataset_drift,
            "drift window closed"
        );
        Window { rows, report }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::NumericColumn;
    use crate::drift::ProfileConfig;

    fn values(n: usize, seed: u64, shift: f64) -> Vec<f64> {
        use rand::Rng;
        let mut rng = crate::seed::Seed(seed).rng();
        (0..n).map(|_| rng.r#gen::<f64>() * 10.0 + shift).collect()
    }

    fn profile() -> Profile {
        let f = Frame::new(vec![(
            "x".into(),
            Column::Numeric(NumericColumn::from_raw(values(5_000, 1, 0.0))),
        )])
        .unwrap();
        Profile::from_frame(&f, &ProfileConfig::default()).unwrap()
    }

    #[test]
    fn merged_threads_equal_one_monitor() {
        let p = profile();
        let stream = values(40_000, 2, 1.0);
        let mut single =
            DriftMonitor::new(&p, MonitorConfig::default(), DriftOptions::default()).unwrap();
        for &v in &stream {
            single.observe_numeric(0, Some(v));
            single.end_row();
        }
        let parts: Vec<DriftMonitor> = std::thread::scope(|s| {
            let handles: Vec<_> = stream
                .chunks(10_000)
                .map(|chunk| {
                    let p = &p;
                    s.spawn(move || {
                        let mut m =
                            DriftMonitor::new(p, MonitorConfig::default(), DriftOptions::default())
                                .unwrap();
                        for &v in chunk {
                            m.observe_numeric(0, Some(v));
                            m.end_row();
                        }
                        m
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let mut merged =
            DriftMonitor::new(&p, MonitorConfig::default(), DriftOptions::default()).unwrap();
        for m in &parts {
            merged.merge(m).unwrap();
        }
        assert_eq!(merged.states, single.states);
        assert_eq!(merged.report(), single.report());
        assert!(single.report().columns["x"].drifted);
    }

    #[test]
    fn windows_close_every_n_rows() {
        let p = profile();
        let cfg = MonitorConfig {
            every_rows: Some(1_000),
            every: None,
        };
        let mut m = DriftMonitor::new(&p, cfg, DriftOptions::default()).unwrap();
        let mut windows = Vec::new();
        for (i, v) in values(2_500, 3, 0.0).into_iter().enumerate() {
            m.observe_numeric(0, Some(if i >= 1_000 { v + 5.0 } else { v }));
            windows.extend(m.end_row());
        }
        assert_eq!(windows.len(), 2);
        assert!(!windows[0].report.columns["x"].drifted);
        assert!(windows[1].report.columns["x"].drifted);
        assert_eq!(m.rows(), 500);
    }

    #[test]
    fn time_windows_close_on_poll() {
        let p = profile();
        let cfg = MonitorConfig {
            every_rows: None,
            every: Some(Duration::from_secs(60)),
        };
        let mut m = DriftMonitor::new(&p, cfg, DriftOptions::default()).unwrap();
        m.observe_numeric(0, Some(1.0));
        m.end_row();
        let now = Instant::now();
        assert!(m.poll(now).is_none());
        let w = m.poll(now + Duration::from_secs(61)).unwrap();
        assert_eq!(w.rows, 1);
        assert_eq!(m.rows(), 0);
    }
}
