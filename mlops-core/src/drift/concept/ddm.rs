//! Drift Detection Method (Gama et al. 2004), as river's `drift.binary.DDM`.

use super::Signal;

/// DDM over a 0/1 error stream.
#[derive(Debug, Clone, PartialEq)]
pub struct Ddm {
    warm_start: u64,
    warning_sigmas: f64,
    drift_sigmas: f64,
    n: u64,
    p: f64,
    p_min: f64,
    s_min: f64,
    ps_min: f64,
}

impl Default for Ddm {
    /// 30 warm-up instances, warning at 2 sigma, drift at 3 sigma.
    fn default() -> Self {
        Self::new(30, 2.0, 3.0)
    }
}

impl Ddm {
    /// A detector with explicit parameters.
    pub fn new(warm_start: u64, warning_sigmas: f64, drift_sigmas: f64) -> Self {
        Ddm {
            warm_start,
            warning_sigmas,
            drift_sigmas,
            n: 0,
            p: 0.0,
            p_min: f64::INFINITY,
            s_min: f64::INFINITY,
            ps_min: f64::INFINITY,
        }
    }

    /// Feeds one error indicator (non-zero counts as an error); resets after
    /// a drift.
    pub fn update(&mut self, error: f64) -> Signal {
        let x = if error != 0.0 { 1.0 } else { 0.0 };
        self.n += 1;
        self.p += (x - self.p) / self.n as f64;
        let s = (self.p * (1.0 - self.p) / self.n as f64).sqrt();
        if self.n < self.warm_start {
            return Signal::Stable;
        }
        if self.p + s <= self.ps_min {
            self.p_min = self.p;
            self.s_min = s;
            self.ps_min = self.p + s;
        }
        if self.p + s > self.p_min + self.drift_sigmas * self.s_min {
            *self = Self::new(self.warm_start, self.warning_sigmas, self.drift_sigmas);
            return Signal::Drift;
        }
        if self.p + s > self.p_min + self.warning_sigmas * self.s_min {
            return Signal::Warning;
        }
        Signal::Stable
    }
}
