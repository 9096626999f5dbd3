//! Prometheus text exposition format (version 0.0.4): every family once,
//! with its `# HELP` and `# TYPE`, samples of all models grouped under it.

use std::fmt::Write;

use super::{MonitorSnapshot, QualitySnapshot};
use crate::predictor::ModelId;

struct Family {
    name: String,
    help: String,
    kind: &'static str,
    samples: String,
}

/// Builds one Prometheus text page from monitor snapshots, live quality and
/// custom gauges or counters.
///
/// ```
/// use mlops_serve::monitor::PrometheusText;
/// let mut page = PrometheusText::new();
/// page.gauge("mlops_canary_weight", "Share of traffic sent to the canary.", &[("model", "churn")], 0.1);
/// assert!(page.render().contains("mlops_canary_weight{model=\"churn\"} 0.1\n"));
/// ```
#[derive(Default)]
pub struct PrometheusText {
    families: Vec<Family>,
}

impl std::fmt::Debug for PrometheusText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PrometheusText")
            .field("families", &self.families.len())
            .finish()
    }
}

/// Escapes a label value: backslash, double quote and newline.
fn escape(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for c in v.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

fn number(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v == f64::INFINITY {
        "+Inf".into()
    } else if v == f64::NEG_INFINITY {
        "-Inf".into()
    } else {
        format!("{v}")
    }
}

fn model_labels(id: &ModelId) -> Vec<(&'static str, String)> {
    vec![
        ("model", id.name.to_string()),
        (
            "version",
            id.version.map_or_else(|| "none".into(), |v| v.to_string()),
        ),
    ]
}

impl PrometheusText {
    /// An empty page.
    pub fn new() -> Self {
        Self::default()
    }

    fn family(&mut self, name: &str, help: &str, kind: &'static str) -> &mut String {
        let i = match self.families.iter().position(|f| f.name == name) {
            Some(i) => i,
            None => {
                self.families.push(Family {
                    name: name.to_owned(),
                    help: help.to_owned(),
                    kind,
                    samples: String::new(),
                });
                self.families.len() - 1
            }
        };
        &mut self.families[i].samples
    }

    fn sample<L: AsRef<str>>(out: &mut String, name: &str, labels: &[(&str, L)], value: f64) {
        out.push_str(name);
        if !labels.is_empty() {
            out.push('{');
            for (i, (k, v)) in labels.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                let _ = write!(out, "{k}=\"{}\"", escape(v.as_ref()));
            }
            out.push('}');
        }
        let _ = writeln!(out, " {}", number(value));
    }

    /// Adds one gauge sample (`name` must be a valid metric name).
    pub fn gauge(
        &mut self,
        name: &str,
        help: &str,
        labels: &[(&str, &str)],
        value: f64,
    ) -> &mut Self {
        let out = self.family(name, help, "gauge");
        Self::sample(out, name, labels, value);
        self
    }

    /// Adds one counter sample (`name` should end in `_total`).
    pub fn counter(
        &mut self,
        name: &str,
        help: &str,
        labels: &[(&str, &str)],
        value: u64,
    ) -> &mut Self {
        let out = self.family(name, help, "counter");
        Self::sample(out, name, labels, value as f64);
        self
    }

    fn histogram(
        &mut self,
        name: &str,
        help: &str,
        labels: &[(&'static str, String)],
        buckets: &[(f64, u64)],
        count: u64,
        sum: f64,
    ) {
        let out = self.family(name, help, "histogram");
        let bucket_name = format!("{name}_bucket");
        for &(le, c) in buckets {
            let mut l: Vec<(&str, String)> = labels.to_vec();
            l.push(("le", number(le)));
            Self::sample(out, &bucket_name, &l, c as f64);
        }
        let mut l: Vec<(&str, String)> = labels.to_vec();
        l.push(("le", "+Inf".into()));
        Self::sample(out, &bucket_name, &l, count as f64);
        Self::sample(out, &format!("{name}_sum"), labels, sum);
        Self::sample(out, &format!("{name}_count"), labels, count as f64);
    }

    /// Adds a model's monitor: predictions, errors by kind, unknown
    /// categories, latency and score histograms, drift gauges.
    pub fn monitor(&mut self, s: &MonitorSnapshot) -> &mut Self {
        let labels = model_labels(&s.model);
        let out = self.family(
            "mlops_predictions_total",
            "Successful predictions (records and frame rows).",
            "counter",
        );
        Self::sample(
            out,
            "mlops_predictions_total",
            &labels,
            s.predictions as f64,
        );
        let out = self.family(
            "mlops_prediction_errors_total",
            "Failed prediction requests by kind.",
            "counter",
        );
        for (kind, n) in &s.errors {
            let mut l = labels.clone();
            l.push(("kind", (*kind).to_owned()));
            Self::sample(out, "mlops_prediction_errors_total", &l, *n as f64);
        }
        let out = self.family(
            "mlops_unknown_categories_total",
            "Categorical values unseen in training, sent to the unknown bucket.",
            "counter",
        );
        Self::sample(
            out,
            "mlops_unknown_categories_total",
            &labels,
            s.unknown_categories as f64,
        );
        let out = self.family(
            "mlops_model_loaded_timestamp_seconds",
            "When the model was loaded, seconds since the Unix epoch.",
            "gauge",
        );
        Self::sample(
            out,
            "mlops_model_loaded_timestamp_seconds",
            &labels,
            s.loaded_unix_ms as f64 / 1000.0,
        );
        let latency_sum = s.latency.mean.as_secs_f64() * s.latency.count as f64;
        self.histogram(
            "mlops_prediction_latency_seconds",
            "Latency of single-record predictions (features, model, monitor).",
            &labels,
            &s.latency.buckets,
            s.latency.count,
            latency_sum,
        );
        self.histogram(
            "mlops_score",
            "Distribution of the scores returned.",
            &labels,
            &s.scores.buckets,
            s.scores.count,
            s.scores.sum,
        );
        if let Some(rate) = s.scores.positive_rate {
            let out = self.family(
                "mlops_positive_rate",
                "Share of predictions labelled positive.",
                "gauge",
            );
            Self::sample(out, "mlops_positive_rate", &labels, rate);
        }
        if let Some(d) = &s.input_drift {
            let out = self.family(
                "mlops_input_drift_share",
                "Share of input columns drifted against the training profile (current window).",
                "gauge",
            );
            Self::sample(out, "mlops_input_drift_share", &labels, d.drift_share);
            let out = self.family(
                "mlops_input_drift_statistic",
                "Per-column drift statistic against the training profile (current window).",
                "gauge",
            );
            for (col, c) in &d.columns {
                let mut l = labels.clone();
                l.push(("column", col.clone()));
                l.push(("method", c.method.name().to_owned()));
                Self::sample(out, "mlops_input_drift_statistic", &l, c.statistic);
            }
            let out = self.family(
                "mlops_input_column_drifted",
                "1 when the column drifted (current window).",
                "gauge",
            );
            for (col, c) in &d.columns {
                let mut l = labels.clone();
                l.push(("column", col.clone()));
                Self::sample(
                    out,
                    "mlops_input_column_drifted",
                    &l,
                    f64::from(u8::from(c.drifted)),
                );
            }
        }
        if let Some(d) = &s.score_drift
            && let Some(c) = d.columns.values().next()
        {
            let out = self.family(
                "mlops_score_drift_statistic",
                "Drift of the score distribution against the training scores.",
                "gauge",
            );
            let mut l = labels.clone();
            l.push(("method", c.method.name().to_owned()));
            Self::sample(out, "mlops_score_drift_statistic", &l, c.statistic);
        }
        self
    }

    /// Adds a model's live quality over joined outcomes.
    pub fn quality(&mut self, q: &QualitySnapshot) -> &mut Self {
        let labels = model_labels(&q.model);
        let out = self.family(
            "mlops_outcomes_joined_total",
            "Outcomes joined back to logged predictions.",
            "counter",
        );
        Self::sample(
            out,
            "mlops_outcomes_joined_total",
            &labels,
            q.outcomes as f64,
        );
        let out = self.family(
            "mlops_retrain_triggers_total",
            "Retrain triggers raised by concept-drift detectors.",
            "counter",
        );
        Self::sample(
            out,
            "mlops_retrain_triggers_total",
            &labels,
            q.triggers as f64,
        );
        for (name, help, v) in [
            (
                "mlops_live_accuracy",
                "Accuracy over the recent joined outcomes.",
                q.accuracy,
            ),
            (
                "mlops_live_roc_auc",
                "ROC AUC over the recent joined outcomes.",
                q.roc_auc,
            ),
            (
                "mlops_live_log_loss",
                "Log loss over the recent joined outcomes.",
                q.log_loss,
            ),
            (
                "mlops_live_mae",
                "Mean absolute error over the recent joined outcomes.",
                q.mae,
            ),
            (
                "mlops_live_rmse",
                "RMSE over the recent joined outcomes.",
                q.rmse,
            ),
        ] {
            if let Some(v) = v {
                let out = self.family(name, help, "gauge");
                Self::sample(out, name, &labels, v);
            }
        }
        self
    }

    /// The page: every family with `# HELP` and `# TYPE`, then its samples.
    pub fn render(&self) -> String {
        let mut out = String::new();
        for f in &self.families {
            let help = f.help.replace('\\', "\\\\").replace('\n', "\\n");
            let _ = writeln!(out, "# HELP {} {help}", f.name);
            let _ = writeln!(out, "# TYPE {} {}", f.name, f.kind);
            out.push_str(&f.samples);
        }
        out
    }
}
