//! [`Predictor::predict_frame_with_drift`]: one frame's scores and the drift
//! of exactly that frame.

use mlops_core::data::Frame;
use mlops_core::drift::{DriftOptions, DriftReport};

use super::{FrameScores, Predictor};
use crate::error::{Error, Result};

impl Predictor {
    /// Scores `frame` like [`predict_frame`](Self::predict_frame) and
    /// compares exactly that frame with the package's reference (training)
    /// profile, with `mlops drift`'s default options.
    ///
    /// See [`predict_frame_with_drift_options`](Self::predict_frame_with_drift_options).
    pub fn predict_frame_with_drift(&self, frame: &Frame) -> Result<(FrameScores, DriftReport)> {
        self.predict_frame_with_drift_options(frame, &DriftOptions::default())
    }

    /// Scores `frame` and reports its drift against the reference profile
    /// under `options`.
    ///
    /// The report covers this frame only, whatever was scored before: it
    /// does not read, close or reset the streaming [`Monitor`](crate::Monitor)'s
    /// window (the frame's rows still count in the monitor, as with
    /// `predict_frame`). The methods are the batch ones of
    /// [`Profile::compare_frame`](mlops_core::drift::Profile::compare_frame),
    /// as `mlops drift` and Evidently pick them (KS or Wasserstein for
    /// numeric columns against the profile's reference sample, chi-square,
    /// z-test or Jensen-Shannon for categorical ones); each column of the
    /// report names its [`method`](mlops_core::drift::ColumnDrift::method).
    /// The streaming monitor, having no raw values, uses Jensen-Shannon on
    /// the profile's bins for numeric columns instead.
    ///
    /// Errors: those of `predict_frame`, and [`Error::InvalidConfig`] when
    /// the predictor has no reference profile (a package built without
    /// one, or a [`Predictor::builder`] without
    /// [`profile`](crate::PredictorBuilder::profile)).
    pub fn predict_frame_with_drift_options(
        &self,
        frame: &Frame,
        options: &DriftOptions,
    ) -> Result<(FrameScores, DriftReport)> {
        let Some(profile) = &self.inner.profile else {
            return Err(Error::InvalidConfig {
                name: "profile",
                reason: format!(
                    "model {} has no reference drift profile to compare the frame with",
                    self.inner.id
                ),
            });
        };
        let scores = self.predict_frame(frame)?;
        let report = profile.compare_frame(frame, options)?;
        Ok((scores, report))
    }
}
