//! Live model quality over joined outcomes, and the concept-drift detectors
//! fed by the error stream.

use std::collections::VecDeque;

use mlops_core::drift::concept::{Adwin, Ddm, PageHinkley, Signal};

use crate::predictor::ModelId;

/// ROC AUC of `scores` against 0/1 `labels` by the rank-sum
/// (Mann-Whitney) formula, tied scores sharing their average rank (as
/// scikit-learn's trapezoid rule counts a tie as half). `None` when either
/// class is absent or lengths differ.
///
/// ```
/// use mlops_serve::monitor::roc_auc;
/// assert_eq!(roc_auc(&[0.1, 0.4, 0.35, 0.8], &[0.0, 0.0, 1.0, 1.0]), Some(0.75));
/// assert_eq!(roc_auc(&[0.5, 0.5], &[0.0, 1.0]), Some(0.5));
/// assert_eq!(roc_auc(&[0.5], &[1.0]), None);
/// ```
pub fn roc_auc(scores: &[f64], labels: &[f64]) -> Option<f64> {
    if scores.len() != labels.len() || scores.iter().any(|s| s.is_nan()) {
        return None;
    }
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]));
    let mut rank_sum_pos = 0.0;
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        while j + 1 < order.len() && scores[order[j + 1]] == scores[order[i]] {
            j += 1;
        }
        // Ranks i+1..=j+1 share their mean.
        let avg = (i + j + 2) as f64 / 2.0;
        for &k in &order[i..=j] {
            if labels[k] == 1.0 {
                rank_sum_pos += avg;
            }
        }
        i = j + 1;
    }
    let n_pos = labels.iter().filter(|&&l| l == 1.0).count() as f64;
    let n_neg = labels.len() as f64 - n_pos;
    if n_pos == 0.0 || n_neg == 0.0 {
        return None;
    }
    Some((rank_sum_pos - n_pos * (n_pos + 1.0) / 2.0) / (n_pos * n_neg))
}

/// Live quality of one model over its joined outcomes.
#[derive(Debug, Clone, PartialEq)]
pub struct QualitySnapshot {
    /// The model.
    pub model: ModelId,
    /// Outcomes joined since the log started.
    pub outcomes: u64,
    /// Outcomes in the quality window (the most recent ones).
    pub window: usize,
    /// Classification: share of window labels equal to the outcome.
    pub accuracy: Option<f64>,
    /// Classification: ROC AUC over the window (needs both classes).
    pub roc_auc: Option<f64>,
    /// Classification: mean log loss over the window (probabilities
    /// clipped to `[eps, 1 - eps]` with the f64 machine epsilon, as
    /// scikit-learn).
    pub log_loss: Option<f64>,
    /// Regression: mean absolute error over the window.
    pub mae: Option<f64>,
    /// Regression: root mean squared error over the window.
    pub rmse: Option<f64>,
    /// Retrain triggers raised by the concept-drift detectors.
    pub triggers: u64,
}

/// A concept-drift detector run over the error stream of joined outcomes
/// (see [`mlops_core::drift::concept`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConceptDetector {
    /// ADWIN with delta 0.002 (errors: 0/1 for classification, absolute
    /// error for regression).
    Adwin,
    /// DDM with its defaults (classification only; ignored for regression).
    Ddm,
    /// Page-Hinkley with river's defaults.
    PageHinkley,
}

#[derive(Debug, Clone)]
enum Detector {
    Adwin(Adwin),
    Ddm(Ddm),
    PageHinkley(PageHinkley),
}

impl Detector {
    fn name(&self) -> &'static str {
        match self {
            Detector::Adwin(_) => "adwin",
            Detector::Ddm(_) => "ddm",
            Detector::PageHinkley(_) => "page_hinkley",
        }
    }
}

/// Window of (score, outcome) pairs and detectors of one model.
#[derive(Debug, Clone)]
pub(crate) struct QualityState {
    model: ModelId,
    classification: bool,
    threshold: f64,
    capacity: usize,
    window: VecDeque<(f64, f64)>,
    outcomes: u64,
    triggers: u64,
    detectors: Vec<Detector>,
}

impl QualityState {
    pub(crate) fn new(
        model: ModelId,
        classification: bool,
        threshold: f64,
        capacity: usize,
        detectors: &[ConceptDetector],
    ) -> Self {
        let detectors = detectors
            .iter()
            .filter_map(|d| match d {
                ConceptDetector::Adwin => Adwin::new(0.002).ok().map(Detector::Adwin),
                // DDM needs 0/1 errors: classification only.
                ConceptDetector::Ddm if classification => Some(Detector::Ddm(Ddm::default())),
                ConceptDetector::Ddm => None,
                ConceptDetector::PageHinkley => Some(Detector::PageHinkley(PageHinkley::default())),
            })
            .collect();
        Self {
            model,
            classification,
            threshold,
            capacity,
            window: VecDeque::with_capacity(capacity.min(1 << 16)),
            outcomes: 0,
            triggers: 0,
            detectors,
        }
    }

    /// Adds one joined pair; returns the detectors that fired.
    pub(crate) fn push(&mut self, score: f64, outcome: f64) -> Vec<&'static str> {
        if self.window.len() == self.capacity {
            self.window.pop_front();
        }
        self.window.push_back((score, outcome));
        self.outcomes += 1;
        let error = if self.classification {
            f64::from(u8::from((score >= self.threshold) != (outcome == 1.0)))
        } else {
            (score - outcome).abs()
        };
        let mut fired = Vec::new();
        for d in &mut self.detectors {
            let signal = match d {
                Detector::Adwin(a) => a.update(error),
                Detector::Ddm(x) => x.update(error),
                Detector::PageHinkley(p) => p.update(error),
            };
            if signal == Signal::Drift {
                fired.push(d.name());
            }
        }
        self.triggers += fired.len() as u64;
        fired
    }

    pub(crate) fn outcomes(&self) -> u64 {
        self.outcomes
    }

    pub(crate) fn snapshot(&self) -> QualitySnapshot {
        let n = self.window.len();
        let mut s = QualitySnapshot {
            model: self.model.clone(),
            outcomes: self.outcomes,
            window: n,
            accuracy: None,
            roc_auc: None,
            log_loss: None,
            mae: None,
            rmse: None,
            triggers: self.triggers,
        };
        if n == 0 {
            return s;
        }
        let nf = n as f64;
        if self.classification {
            let correct = self
                .window
                .iter()
                .filter(|(p, y)| (*p >= self.threshold) == (*y == 1.0))
                .count();
            s.accuracy = Some(correct as f64 / nf);
            let (scores, labels): (Vec<f64>, Vec<f64>) = self.window.iter().copied().unzip();
            s.roc_auc = roc_auc(&scores, &labels);
            // scikit-learn >= 1.5 clips at the float's machine epsilon.
            let eps = f64::EPSILON;
            let ll: f64 = self
                .window
                .iter()
                .map(|&(p, y)| {
                    let p = p.clamp(eps, 1.0 - eps);
                    -(y * p.ln() + (1.0 - y) * (1.0 - p).ln())
                })
                .sum();
            s.log_loss = Some(ll / nf);
        } else {
            let (abs, sq) = self.window.iter().fold((0.0, 0.0), |(a, q), &(p, y)| {
                (a + (p - y).abs(), q + (p - y).powi(2))
            });
            s.mae = Some(abs / nf);
            s.rmse = Some((sq / nf).sqrt());
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// scikit-learn values from `scripts/fixtures/serve_quality_reference.py`.
    #[test]
    fn auc_and_log_loss_match_scikit_learn() {
        let fixture: serde_json::Value =
            serde_json::from_str(include_str!("../../tests/fixtures/serve_quality.json"))
                .expect("fixture");
        let cases = fixture["quality"].as_array().expect("cases");
        assert_eq!(cases.len(), 4);
        for case in cases {
            let v = |k: &str| -> Vec<f64> {
                case[k]
                    .as_array()
                    .expect("array")
                    .iter()
                    .map(|x| x.as_f64().expect("number"))
                    .collect()
            };
            let (scores, labels) = (v("scores"), v("labels"));
            let auc = roc_auc(&scores, &labels).expect("both classes");
            let expected_auc = case["roc_auc"].as_f64().expect("auc");
            assert!(
                (auc - expected_auc).abs() < 1e-12,
                "{auc} vs {expected_auc}"
            );

            let mut q = QualityState::new(ModelId::new("m", Some(1)), true, 0.5, scores.len(), &[]);
            for (s, y) in scores.iter().zip(&labels) {
                q.push(*s, *y);
            }
            let snap = q.snapshot();
            assert!((snap.roc_auc.expect("auc") - expected_auc).abs() < 1e-12);
            let ll = case["log_loss"].as_f64().expect("log loss");
            assert!(
                (snap.log_loss.expect("ll") - ll).abs() < 1e-9,
                "{:?} vs {ll}",
                snap.log_loss
            );
        }
    }

    #[test]
    fn window_keeps_the_latest_outcomes() {
        let mut q = QualityState::new(ModelId::new("m", None), true, 0.5, 3, &[]);
        for (s, y) in [(0.9, 0.0), (0.9, 0.0), (0.9, 1.0), (0.1, 0.0), (0.8, 1.0)] {
            q.push(s, y);
        }
        let s = q.snapshot();
        assert_eq!((s.outcomes, s.window, s.accuracy), (5, 3, Some(1.0)));
        let mut r = QualityState::new(ModelId::new("m", None), false, 0.5, 10, &[]);
        r.push(1.0, 2.0);
        r.push(3.0, 0.0);
        let s = r.snapshot();
        assert_eq!((s.mae, s.rmse), (Some(2.0), Some(5.0_f64.sqrt())));
    }
}
