//! Records persisted per run: the compact [`RunSummary`] that search scans,
//! and the full [`RunInfo`] returned by [`Tracker::get_run`](super::Tracker::get_run).

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use super::artifacts::ArtifactRef;
use super::dataset::DatasetInput;
use super::environment::Environment;

/// Formats milliseconds since the Unix epoch as UTC to the second, the way
/// the CLI and the HTML reports show run and registry times:
/// `2023-11-14 22:13:20Z`. An instant outside years 0 to 9999 is shown as
/// its raw milliseconds.
///
/// ```
/// use mlops_core::tracking::utc_text;
///
/// assert_eq!(utc_text(1_700_000_000_123), "2023-11-14 22:13:20Z");
/// assert_eq!(utc_text(i64::MAX), format!("{} ms", i64::MAX));
/// ```
pub fn utc_text(ms: i64) -> String {
    let format =
        time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second]Z");
    time::OffsetDateTime::from_unix_timestamp(ms.div_euclid(1000))
        .ok()
        .and_then(|t| t.format(format).ok())
        .unwrap_or_else(|| format!("{ms} ms"))
}

/// Lifecycle state of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum RunStatus {
    /// Started and accepting writes.
    Running,
    /// Ended by [`Run::finish`](super::Run::finish) (everything logged is
    /// durable) or [`Run::finish_unflushed`](super::Run::finish_unflushed)
    /// (durable after the next [`Tracker::flush`](super::Tracker::flush)).
    Finished,
    /// Ended by [`Run::fail`](super::Run::fail) or a panic under a [`RunGuard`](super::RunGuard).
    Failed,
    /// Ended by [`Run::kill`](super::Run::kill) or a [`RunGuard`](super::RunGuard)
    /// dropped without `finish` outside a panic.
    Killed,
}

impl RunStatus {
    /// The name used in filters and displays (`RUNNING`, `FINISHED`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Running => "RUNNING",
            RunStatus::Finished => "FINISHED",
            RunStatus::Failed => "FAILED",
            RunStatus::Killed => "KILLED",
        }
    }

    /// Parses a status name, case-insensitively.
    pub fn parse(s: &str) -> Option<RunStatus> {
        [
            RunStatus::Running,
            RunStatus::Finished,
            RunStatus::Failed,
            RunStatus::Killed,
        ]
        .into_iter()
        .find(|st| st.as_str().eq_ignore_ascii_case(s))
    }

    /// True once the run has ended.
    pub fn is_terminal(self) -> bool {
        self != RunStatus::Running
    }
}

impl fmt::Display for RunStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The latest point of one metric, kept in the run summary.
///
/// "Latest" means the point with the greatest `(step, timestamp)`; among
/// equal pairs the one logged last wins (the rule MLflow uses, minus its
/// value tie-break).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LatestMetric {
    /// The value.
    pub value: f64,
    /// The step it was logged at.
    pub step: i64,
    /// Milliseconds since the Unix epoch.
    pub timestamp: i64,
}

/// The compact per-run record: everything search filters and sorts on,
/// nothing that grows with training length.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunSummary {
    /// 32 hex characters.
    pub run_id: String,
    /// Experiment name.
    pub experiment: String,
    /// Experiment id.
    pub experiment_id: String,
    /// Human name of the run.
    pub run_name: String,
    /// Parent run id for nested runs.
    pub parent: Option<String>,
    /// Lifecycle state.
    pub status: RunStatus,
    /// Milliseconds since the Unix epoch.
    pub start_time: i64,
    /// Set when the run ended.
    pub end_time: Option<i64>,
    /// Root seed of the run, if given.
    pub seed: Option<u64>,
    /// Why the run failed or was killed.
    pub reason: Option<String>,
    /// Immutable params.
    pub params: BTreeMap<String, String>,
    /// Mutable tags.
    pub tags: BTreeMap<String, String>,
    /// Latest value of every metric.
    pub metrics: BTreeMap<String, LatestMetric>,
}

/// Everything recorded about a run except metric histories and artifact
/// bytes, which are read separately.
#[derive(Debug, Clone, PartialEq)]
pub struct RunInfo {
    /// The compact summary.
    pub summary: RunSummary,
    /// Datasets the run read.
    pub inputs: Vec<DatasetInput>,
    /// Artifacts, by name.
    pub artifacts: Vec<ArtifactRef>,
    /// The captured environment, if logged.
    pub environment: Option<Environment>,
}

#[cfg(test)]
mod tests {
    use super::utc_text;

    #[test]
    fn utc_text_matches_known_instants() {
        assert_eq!(utc_text(0), "1970-01-01 00:00:00Z");
        // date -u -d @1700000000
        assert_eq!(utc_text(1_700_000_000_123), "2023-11-14 22:13:20Z");
        // A leap day, and a year-2000 boundary (divisible by 400).
        assert_eq!(utc_text(951_782_400_000), "2000-02-29 00:00:00Z");
        assert_eq!(utc_text(-1_000), "1969-12-31 23:59:59Z");
        // Out of the formattable range: raw milliseconds, no panic.
        assert_eq!(utc_text(i64::MIN), format!("{} ms", i64::MIN));
    }
}
