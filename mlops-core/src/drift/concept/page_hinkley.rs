//! Page-Hinkley test, as river's `drift.PageHinkley` (mode "both").

use super::Signal;

/// Page-Hinkley detector of a change in the mean of a stream.
#[derive(Debug, Clone, PartialEq)]
pub struct PageHinkley {
    min_instances: u64,
    delta: f64,
    threshold: f64,
    alpha: f64,
    n: u64,
    mean: f64,
    sum_up: f64,
    min_up: f64,
    sum_down: f64,
    max_down: f64,
}

impl Default for PageHinkley {
    /// River's defaults: 30 instances, delta 0.005, threshold 50, alpha 0.9999.
    fn default() -> Self {
        Self::new(30, 0.005, 50.0, 1.0 - 0.0001)
    }
}

impl PageHinkley {
    /// A detector with explicit parameters.
    pub fn new(min_instances: u64, delta: f64, threshold: f64, alpha: f64) -> Self {
        PageHinkley {
            min_instances,
            delta,
            threshold,
            alpha,
            n: 0,
            mean: 0.0,
            sum_up: 0.0,
            min_up: f64::INFINITY,
            sum_down: 0.0,
            max_down: f64::NEG_INFINITY,
        }
    }

    fn reset(&mut self) {
        *self = Self::new(self.min_instances, self.delta, self.threshold, self.alpha);
    }

    /// Feeds one value; resets itself after a drift.
    pub fn update(&mut self, x: f64) -> Signal {
        self.n += 1;
        self.mean += (x - self.mean) / self.n as f64;
        let dev = x - self.mean;
        self.sum_up = self.alpha * self.sum_up + dev - self.delta;
        self.min_up = self.min_up.min(self.sum_up);
        self.sum_down = self.alpha * self.sum_down + dev + self.delta;
        self.max_down = self.max_down.max(self.sum_down);
        if self.n < self.min_instances {
            return Signal::Stable;
        }
        if self.sum_up - self.min_up > self.threshold
            || self.max_down - self.sum_down > self.threshold
        {
            self.reset();
            return Signal::Drift;
        }
        Signal::Stable
    }
}
