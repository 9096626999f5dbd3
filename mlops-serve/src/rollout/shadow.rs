//! Shadow: the challenger scores every request; only the primary answers.

use std::sync::Mutex;

use crate::error::Result;
use crate::predictor::{CorrelationId, Predictor, Record, Score};

/// Comparison of challenger and primary over the shadowed requests.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ShadowStats {
    /// Requests both models scored.
    pub compared: u64,
    /// Requests the challenger failed on (the primary's answer was returned
    /// all the same).
    pub challenger_errors: u64,
    /// Requests where both labels agree (classification).
    pub label_agreements: u64,
    /// Sum of |challenger - primary|.
    pub abs_diff_sum: f64,
    /// Largest |challenger - primary|.
    pub max_abs_diff: f64,
}

impl ShadowStats {
    /// Share of compared requests with the same label.
    pub fn agreement_rate(&self) -> f64 {
        self.label_agreements as f64 / self.compared as f64
    }

    /// Mean |challenger - primary|.
    pub fn mean_abs_diff(&self) -> f64 {
        self.abs_diff_sum / self.compared as f64
    }
}

/// Scores each request on the primary (returned) and the challenger
/// (compared, never returned). The challenger runs on the caller's thread
/// after the primary; its failures never fail the request.
#[derive(Debug)]
pub struct Shadow {
    primary: Predictor,
    challenger: Predictor,
    stats: Mutex<ShadowStats>,
}

impl Shadow {
    /// Shadows `primary` with `challenger`.
    pub fn new(primary: Predictor, challenger: Predictor) -> Self {
        Self {
            primary,
            challenger,
            stats: Mutex::new(ShadowStats::default()),
        }
    }

    /// The primary's score for `record`; the challenger's is only compared.
    pub fn predict(&self, record: &Record<'_>, id: CorrelationId) -> Result<Score> {
        let answer = self.primary.predict_with(record, id.clone())?;
        let shadow = self.challenger.predict_with(record, id);
        let mut s = self.stats.lock().unwrap_or_else(|p| p.into_inner());
        match shadow {
            Ok(c) => {
                s.compared += 1;
                let d = (c.value - answer.value).abs();
                s.abs_diff_sum += d;
                s.max_abs_diff = s.max_abs_diff.max(d);
                s.label_agreements += u64::from(c.label == answer.label && c.class == answer.class);
            }
            Err(e) => {
                s.challenger_errors += 1;
                tracing::debug!(challenger = %self.challenger.id(), error = %e, "shadow challenger failed");
            }
        }
        Ok(answer)
    }

    /// The comparison so far.
    pub fn stats(&self) -> ShadowStats {
        self.stats.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// The primary.
    pub fn primary(&self) -> &Predictor {
        &self.primary
    }

    /// The challenger.
    pub fn candidate(&self) -> &Predictor {
        &self.challenger
    }
}
