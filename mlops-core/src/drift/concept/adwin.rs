//! ADWIN2 (Bifet & Gavaldà, "Learning from time-changing data with adaptive
//! windowing", 2007), with the exponential histogram and cut test of
//! scikit-multiflow / river: at most 5 buckets per size, a cut check every
//! 32 values once the window holds more than 10, sub-windows of at least 5.

use std::collections::VecDeque;

use super::Signal;
use crate::{Error, Result};

const MAX_BUCKETS: usize = 5;
const CLOCK: u64 = 32;
const MIN_WINDOW: f64 = 5.0;
const GRACE: f64 = 10.0;

#[derive(Debug, Clone, Copy, PartialEq)]
struct Bucket {
    total: f64,
    variance: f64,
}

/// ADWIN over a real-valued stream (errors, losses).
#[derive(Debug, Clone, PartialEq)]
pub struct Adwin {
    delta: f64,
    /// `rows[i]` holds buckets of 2^i values, oldest first.
    rows: Vec<VecDeque<Bucket>>,
    width: f64,
    total: f64,
    variance: f64,
    ticks: u64,
}

impl Default for Adwin {
    /// delta = 0.002.
    fn default() -> Self {
        Adwin {
            delta: 0.002,
            rows: Vec::new(),
            width: 0.0,
            total: 0.0,
            variance: 0.0,
            ticks: 0,
        }
    }
}

impl Adwin {
    /// A detector with confidence `delta` in (0, 1).
    pub fn new(delta: f64) -> Result<Self> {
        if !(delta > 0.0 && delta < 1.0) {
            return Err(Error::InvalidParameter {
                name: "delta",
                reason: format!("must be in (0, 1), got {delta}"),
            });
        }
        Ok(Adwin {
            delta,
            ..Default::default()
        })
    }

    /// Values in the current window.
    pub fn width(&self) -> u64 {
        self.width as u64
    }

    /// Mean of the current window.
    pub fn mean(&self) -> f64 {
        if self.width > 0.0 {
            self.total / self.width
        } else {
            0.0
        }
    }

    /// Feeds one value; on drift the window has dropped its old part.
    pub fn update(&mut self, x: f64) -> Signal {
        self.insert(x);
        if self.detect() {
            Signal::Drift
        } else {
            Signal::Stable
        }
    }

    fn insert(&mut self, x: f64) {
        self.width += 1.0;
        if self.width > 1.0 {
            let mean_old = self.total / (self.width - 1.0);
            self.variance += (self.width - 1.0) * (x - mean_old).powi(2) / self.width;
        }
        self.total += x;
        if self.rows.is_empty() {
            self.rows.push(VecDeque::new());
        }
        self.rows[0].push_back(Bucket {
            total: x,
            variance: 0.0,
        });
        // Compress: a row with too many buckets merges its two oldest.
        let mut i = 0;
        while i < self.rows.len() {
            if self.rows[i].len() <= MAX_BUCKETS {
                break;
            }
            let size = 2f64.powi(i as i32);
            let (Some(a), Some(b)) = (self.rows[i].pop_front(), self.rows[i].pop_front()) else {
                break;
            };
            let diff = a.total / size - b.total / size;
            let merged = Bucket {
                total: a.total + b.total,
                variance: a.variance + b.variance + size * size * diff * diff / (2.0 * size),
            };
            if i + 1 == self.rows.len() {
                self.rows.push(VecDeque::new());
            }
            self.rows[i + 1].push_back(merged);
            i += 1;
        }
    }

    fn drop_oldest(&mut self) {
        let Some(last) = self.rows.iter().rposition(|r| !r.is_empty()) else {
            return;
        };
        let size = 2f64.powi(last as i32);
        let Some(b) = self.rows[last].pop_front() else {
            return;
        };
        self.width -= size;
        self.total -= b.total;
        if self.width > 0.0 {
            let u0 = self.total / self.width;
            let u1 = b.total / size;
            self.variance -=
                b.variance + size * self.width * (u1 - u0).powi(2) / (size + self.width);
        } else {
            self.variance = 0.0;
        }
        self.variance = self.variance.max(0.0);
        while self.rows.last().is_some_and(VecDeque::is_empty) {
            self.rows.pop();
        }
    }

    fn detect(&mut self) -> bool {
        self.ticks += 1;
        if !self.ticks.is_multiple_of(CLOCK) || self.width <= GRACE {
            return false;
        }
        let mut changed = false;
        'outer: loop {
            let (mut n0, mut n1) = (0.0, self.width);
            let (mut u0, mut u1) = (0.0, self.total);
            let v = self.variance / self.width;
            let dd = (2.0 * self.width.ln() / self.delta).ln();
            // Oldest buckets first: largest row, front of each row.
            for i in (0..self.rows.len()).rev() {
                let size = 2f64.powi(i as i32);
                for k in 0..self.rows[i].len() {
                    let b = self.rows[i][k];
                    n0 += size;
                    n1 -= size;
                    u0 += b.total;
                    u1 -= b.total;
                    if n1 < MIN_WINDOW {
                        break 'outer;
                    }
                    if n0 < MIN_WINDOW {
                        continue;
                    }
                    let m = 1.0 / (n0 - MIN_WINDOW + 1.0) + 1.0 / (n1 - MIN_WINDOW + 1.0);
                    let eps = (2.0 * m * v * dd).sqrt() + 2.0 / 3.0 * dd * m;
                    if (u0 / n0 - u1 / n1).abs() > eps {
                        changed = true;
                        self.drop_oldest();
                        if self.width <= GRACE {
                            break 'outer;
                        }
                        continue 'outer;
                    }
                }
            }
            break;
        }
        changed
    }
}
