//! Self-contained HTML reports: one file each, charts as inline SVG, no
//! script and no network access needed to view them.
//!
//! - [`drift_html`]: per-column drift verdicts with reference and current
//!   distributions.
//! - [`run_html`]: a tracked run's params, metrics, metric histories, ROC and
//!   calibration curves ([`Evaluation`]), feature importance bar charts
//!   ([`FeatureImportance`]) and training-data summary.

mod drift;
mod html;
mod importance;
mod run;
mod svg;

pub use drift::drift_html;
pub use importance::{FeatureImportance, IMPORTANCE_ARTIFACT, PermutationImportance};
pub use run::{CalibrationPoint, EVALUATION_ARTIFACT, Evaluation, PROFILE_ARTIFACT, run_html};
