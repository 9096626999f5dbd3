//! The run report page: params, metrics, metric histories, evaluation curves
//! and the training-data summary.

use serde::{Deserialize, Serialize};

use super::html::{Cell, Page};
use super::importance::{FeatureImportance, IMPORTANCE_ARTIFACT};
use super::svg::{LineChart, Series};
use crate::drift::{ColumnProfile, Profile};
use crate::tracking::{RunInfo, Tracker, utc_text};
use crate::{Error, Result};

/// Artifact name under which a trainer logs its [`Evaluation`] (JSON).
pub const EVALUATION_ARTIFACT: &str = "evaluation.json";
/// Artifact name under which a trainer logs the training-data [`Profile`]
/// ([`Profile::to_bytes`]).
pub const PROFILE_ARTIFACT: &str = "drift_profile.bin";

/// One calibration bin: mean predicted probability against the observed
/// positive rate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CalibrationPoint {
    /// Mean predicted probability in the bin.
    pub mean_predicted: f64,
    /// Observed fraction of positives in the bin.
    pub fraction_positive: f64,
    /// Rows in the bin.
    pub count: u64,
}

/// Held-out evaluation curves of a binary classifier, logged with its run.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Evaluation {
    /// ROC curve as `(false positive rate, true positive rate)` points, from
    /// `(0, 0)` to `(1, 1)`.
    pub roc: Vec<(f64, f64)>,
    /// Calibration bins (non-empty bins only).
    pub calibration: Vec<CalibrationPoint>,
}

impl Evaluation {
    /// Parses the JSON written under [`EVALUATION_ARTIFACT`].
    pub fn from_json(bytes: &[u8]) -> Result<Self> {
        serde_json::from_slice(bytes).map_err(|e| Error::Report(format!("evaluation.json: {e}")))
    }

    /// The JSON written under [`EVALUATION_ARTIFACT`].
    pub fn to_json(&self) -> Result<Vec<u8>> {
        serde_json::to_vec(self).map_err(|e| Error::Report(format!("evaluation.json: {e}")))
    }
}

/// Renders the report of one run from the store as a self-contained HTML
/// page: attributes, params, latest metrics, a chart per metric with more
/// than one point, the ROC and calibration curves when the run logged an
/// [`EVALUATION_ARTIFACT`], feature importance bar charts when it logged an
/// [`IMPORTANCE_ARTIFACT`], and a per-column summary of the training data
/// when it logged a [`PROFILE_ARTIFACT`].
pub fn run_html(tracker: &Tracker, run_id: &str) -> Result<String> {
    let info = tracker.get_run(run_id)?;
    let has = |name: &str| info.artifacts.iter().any(|a| a.name == name);
    let evaluation = if has(EVALUATION_ARTIFACT) {
        Some(Evaluation::from_json(
            &tracker.read_artifact(run_id, EVALUATION_ARTIFACT)?,
        )?)
    } else {
        None
    };
    let profile = if has(PROFILE_ARTIFACT) {
        Some(Profile::from_bytes(
            &tracker.read_artifact(run_id, PROFILE_ARTIFACT)?,
        )?)
    } else {
        None
    };
    let importance = if has(IMPORTANCE_ARTIFACT) {
        Some(FeatureImportance::from_json(
            &tracker.read_artifact(run_id, IMPORTANCE_ARTIFACT)?,
        )?)
    } else {
        None
    };
    let mut histories = Vec::new();
    for key in info.summary.metrics.keys() {
        let points = tracker.run_metrics_history(run_id, key)?;
        if points.len() > 1 {
            histories.push((key.clone(), points));
        }
    }
    let mut page = Page::new(&format!(
        "Run {} ({})",
        info.summary.run_name, info.summary.run_id
    ));
    attributes(&mut page, &info);
    key_values(&mut page, "Params", info.summary.params.iter());

    page.heading("Metrics (latest)");
    page.table(
        &["metric", "value", "step"],
        info.summary.metrics.iter().map(|(k, m)| {
            vec![
                Cell::Text(k.clone()),
                Cell::Num(Some(m.value)),
                Cell::Num(Some(m.step as f64)),
            ]
        }),
    );
    if !histories.is_empty() {
        page.heading("Metric history");
        page.charts(histories.into_iter().map(|(key, points)| {
            let mut chart = LineChart::new(&key, "step", &key);
            chart.markers = points.len() <= 50;
            chart.series.push(Series {
                name: key.clone(),
                points: points.iter().map(|p| (p.step as f64, p.value)).collect(),
            });
            chart.to_svg()
        }));
    }
    if let Some(eval) = evaluation {
        page.heading("Evaluation");
        page.charts([roc_chart(&eval), calibration_chart(&eval)]);
    }
    if let Some(importance) = importance {
        let charts = importance.charts();
        if !charts.is_empty() {
            page.heading("Feature importance");
            page.charts(charts);
        }
    }
    if let Some(profile) = profile {
        features(&mut page, &profile);
    }
    if !info.artifacts.is_empty() {
        page.heading("Artifacts");
        page.table(
            &["name", "size (bytes)", "digest"],
            info.artifacts.iter().map(|a| {
                vec![
                    Cell::Text(a.name.clone()),
                    Cell::Num(Some(a.size as f64)),
                    Cell::Styled(a.digest.clone(), "muted"),
                ]
            }),
        );
    }
    Ok(page.finish())
}

fn attributes(page: &mut Page, info: &RunInfo) {
    let s = &info.summary;
    let mut rows = vec![
        ("experiment".to_owned(), s.experiment.clone()),
        ("status".into(), s.status.as_str().into()),
        ("started".into(), utc_text(s.start_time)),
        (
            "ended".into(),
            s.end_time.map_or("-".into(), |end| {
                let secs = (end - s.start_time) as f64 / 1000.0;
                format!("{} ({secs:.3} s)", utc_text(end))
            }),
        ),
        ("seed".into(), s.seed.map_or("-".into(), |v| v.to_string())),
    ];
    if let Some(parent) = &s.parent {
        rows.push(("parent".into(), parent.clone()));
    }
    for input in &info.inputs {
        rows.push((
            format!("input {}", input.name),
            format!(
                "{} rows, {} ({})",
                input.rows, input.source, input.fingerprint
            ),
        ));
    }
    key_values(page, "Run", rows.iter().map(|(k, v)| (k, v)));
    key_values(page, "Tags", s.tags.iter());
}

fn key_values<'a>(
    page: &mut Page,
    title: &str,
    rows: impl Iterator<Item = (&'a String, &'a String)>,
) {
    let rows: Vec<Vec<Cell>> = rows
        .map(|(k, v)| vec![Cell::Text(k.clone()), Cell::Text(v.clone())])
        .collect();
    if !rows.is_empty() {
        page.heading(title);
        page.table(&["key", "value"], rows);
    }
}

fn roc_chart(eval: &Evaluation) -> String {
    let mut chart = LineChart::new("ROC curve", "false positive rate", "true positive rate");
    chart.x_range = Some((0.0, 1.0));
    chart.y_range = Some((0.0, 1.0));
    chart.diagonal = true;
    chart.series.push(Series {
        name: "model".into(),
        points: eval.roc.clone(),
    });
    chart.to_svg()
}

fn calibration_chart(eval: &Evaluation) -> String {
    let mut chart = LineChart::new("Calibration", "mean predicted", "fraction positive");
    chart.x_range = Some((0.0, 1.0));
    chart.y_range = Some((0.0, 1.0));
    chart.diagonal = true;
    chart.markers = true;
    chart.series.push(Series {
        name: "model".into(),
        points: eval
            .calibration
            .iter()
            .map(|c| (c.mean_predicted, c.fraction_positive))
            .collect(),
    });
    chart.to_svg()
}

fn features(page: &mut Page, profile: &Profile) {
    page.heading(&format!("Training data ({} rows)", profile.n_rows));
    page.table(
        &[
            "column",
            "kind",
            "missing",
            "mean",
            "std",
            "min",
            "max",
            "top categories",
        ],
        profile.columns.iter().map(|(name, col)| match col {
            ColumnProfile::Numeric(n) => vec![
                Cell::Text(name.clone()),
                Cell::Text(format!("{:?}", n.kind).to_lowercase()),
                Cell::Num(Some(n.missing as f64)),
                Cell::Num(Some(n.mean)),
                Cell::Num(Some(n.std)),
                Cell::Num(Some(n.min)),
                Cell::Num(Some(n.max)),
                Cell::Text(String::new()),
            ],
            ColumnProfile::Categorical(c) => {
                let total = c.count.max(1) as f64;
                let top: Vec<String> = c
                    .categories
                    .iter()
                    .take(3)
                    .map(|(label, n)| format!("{label} {:.0}%", 100.0 * *n as f64 / total))
                    .collect();
                vec![
                    Cell::Text(name.clone()),
                    Cell::Text(format!("{:?}", c.kind).to_lowercase()),
                    Cell::Num(Some(c.missing as f64)),
                    Cell::Num(None),
                    Cell::Num(None),
                    Cell::Num(None),
                    Cell::Num(None),
                    Cell::Text(top.join(", ")),
                ]
            }
        }),
    );
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::data::Frame;
    use crate::drift::ProfileConfig;
    use crate::store::MemoryStore;
    use crate::tracking::RunOptions;

    #[test]
    fn report_shows_params_metrics_history_curves_and_data() {
        let tracker = Tracker::new(Arc::new(MemoryStore::new()));
        let exp = tracker.experiment("churn").unwrap();
        let run = tracker
            .start_run(&exp, RunOptions::default().name("lr <1>"))
            .unwrap();
        run.log_param("model", "logreg").unwrap();
        for step in 0..5 {
            run.log_metric("loss", 1.0 / f64::from(step + 1), i64::from(step))
                .unwrap();
        }
        run.log_metric("roc_auc", 0.84, 0).unwrap();
        let eval = Evaluation {
            roc: vec![(0.0, 0.0), (0.2, 0.7), (1.0, 1.0)],
            calibration: vec![CalibrationPoint {
                mean_predicted: 0.3,
                fraction_positive: 0.28,
                count: 100,
            }],
        };
        run.log_artifact(EVALUATION_ARTIFACT, &eval.to_json().unwrap())
            .unwrap();
        let frame = Frame::read_csv(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../examples/data/telco_churn.csv"
        ))
        .unwrap();
        let profile = Profile::from_frame(&frame, &ProfileConfig::default()).unwrap();
        run.log_artifact(PROFILE_ARTIFACT, &profile.to_bytes().unwrap())
            .unwrap();
        let id = run.id().to_owned();
        run.finish().unwrap();

        let html = run_html(&tracker, &id).unwrap();
        assert!(html.contains("Run lr &lt;1&gt;"));
        assert!(html.contains("<td>model</td><td>logreg</td>"));
        let info = tracker.get_run(&id).unwrap();
        let started = utc_text(info.summary.start_time);
        assert!(html.contains(&format!("<td>started</td><td>{started}</td>")));
        assert!(html.contains("<td>ended</td><td>20"));
        assert!(html.contains("<td class=\"num\">0.8400</td>"));
        // loss has a history chart; roc_auc (one point) has none; plus ROC
        // and calibration.
        assert_eq!(html.matches("<svg").count(), 3);
        assert!(html.contains("ROC curve") && html.contains("Calibration"));
        assert!(html.contains("Training data (7043 rows)"));
        assert!(html.contains("<td>TotalCharges</td>"));
        assert!(html.contains("<td>status</td><td>FINISHED</td>"));
    }

    #[test]
    fn unknown_run_is_an_error() {
        let tracker = Tracker::new(Arc::new(MemoryStore::new()));
        assert!(run_html(&tracker, "nope").is_err());
    }

    #[test]
    fn bad_evaluation_json_is_a_typed_error() {
        assert!(matches!(
            Evaluation::from_json(b"{not json"),
            Err(Error::Report(_))
        ));
    }
}
