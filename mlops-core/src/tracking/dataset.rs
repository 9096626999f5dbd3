//! Dataset lineage: what a run read.

use serde::{Deserialize, Serialize};

/// A dataset a run consumed.
///
/// ```
/// use mlops_core::tracking::DatasetInput;
/// let input = DatasetInput::new("train", "data/telco_churn.csv", "b3:9f2c…", 5634);
/// assert_eq!(input.rows, 5634);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DatasetInput {
    /// Role or name of the dataset in this run (`train`, `test`).
    pub name: String,
    /// Where it came from (path, URI, table).
    pub source: String,
    /// A content digest (for example from `mlops_core::fingerprint`).
    pub fingerprint: String,
    /// Number of rows read.
    pub rows: u64,
}

impl DatasetInput {
    /// A dataset input.
    pub fn new(
        name: impl Into<String>,
        source: impl Into<String>,
        fingerprint: impl Into<String>,
        rows: u64,
    ) -> Self {
        Self {
            name: name.into(),
            source: source.into(),
            fingerprint: fingerprint.into(),
            rows,
        }
    }
}
