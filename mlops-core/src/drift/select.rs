//! The test to run per column: Evidently's documented defaults, with
//! per-column overrides.

use serde::{Deserialize, Serialize};

/// A drift test or distance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Method {
    /// Two-sample Kolmogorov-Smirnov (p-value, drift when p < 0.05).
    Ks,
    /// Chi-square on aligned category counts (p-value, p < 0.05).
    ChiSquare,
    /// Two-proportion z-test (p-value, p < 0.05).
    ZTest,
    /// Population Stability Index on binned shares (>= 0.1).
    Psi,
    /// Jensen-Shannon distance on binned shares (>= 0.1).
    JensenShannon,
    /// Wasserstein distance normed by the reference std (>= 0.1).
    Wasserstein,
    /// Hellinger distance on binned shares (>= 0.1).
    Hellinger,
    /// Kullback-Leibler divergence on binned shares (>= 0.1).
    Kl,
}

impl Method {
    /// True for tests that produce a p-value (drift when p < threshold).
    pub fn has_p_value(self) -> bool {
        matches!(self, Method::Ks | Method::ChiSquare | Method::ZTest)
    }

    /// Evidently's default threshold: 0.05 for p-values, 0.1 for distances.
    pub fn default_threshold(self) -> f64 {
        if self.has_p_value() { 0.05 } else { 0.1 }
    }

    /// The name used in reports and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Method::Ks => "ks",
            Method::ChiSquare => "chisquare",
            Method::ZTest => "ztest",
            Method::Psi => "psi",
            Method::JensenShannon => "jensenshannon",
            Method::Wasserstein => "wasserstein",
            Method::Hellinger => "hellinger",
            Method::Kl => "kl",
        }
    }
}

impl std::fmt::Display for Method {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Method {
    type Err = crate::Error;
    fn from_str(s: &str) -> crate::Result<Self> {
        Ok(match s {
            "ks" => Method::Ks,
            "chisquare" => Method::ChiSquare,
            "ztest" => Method::ZTest,
            "psi" => Method::Psi,
            "jensenshannon" => Method::JensenShannon,
            "wasserstein" => Method::Wasserstein,
            "hellinger" => Method::Hellinger,
            "kl" => Method::Kl,
            other => {
                return Err(crate::Error::InvalidParameter {
                    name: "method",
                    reason: format!(
                        "unknown drift method `{other}` (expected ks, chisquare, ztest, psi, \
                         jensenshannon, wasserstein, hellinger or kl)"
                    ),
                });
            }
        })
    }
}

/// How a column is treated by the drift tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ColumnKind {
    /// Continuous numbers.
    Numerical,
    /// A finite set of labels (or integers with few distinct values).
    Categorical,
    /// Free text (distinct values exceed half the rows): no test.
    Text,
}

/// Evidently's largest reference size for p-value tests.
pub const SMALL_REFERENCE_ROWS: usize = 1_000;

/// Evidently's default test for a column: `reference_rows` non-missing
/// reference values, `n_distinct` distinct non-missing values of reference
/// and current together.
///
/// ```
/// use mlops_core::drift::{ColumnKind, Method, auto_method};
/// assert_eq!(auto_method(ColumnKind::Numerical, 500, 40), Some(Method::Ks));
/// assert_eq!(auto_method(ColumnKind::Categorical, 500, 2), Some(Method::ZTest));
/// assert_eq!(auto_method(ColumnKind::Numerical, 5_000, 40), Some(Method::Wasserstein));
/// assert_eq!(auto_method(ColumnKind::Categorical, 5_000, 3), Some(Method::JensenShannon));
/// ```
pub fn auto_method(kind: ColumnKind, reference_rows: usize, n_distinct: usize) -> Option<Method> {
    let numeric_test = kind == ColumnKind::Numerical && n_distinct > 5;
    match kind {
        ColumnKind::Text => None,
        _ if reference_rows <= SMALL_REFERENCE_ROWS => Some(if numeric_test {
            Method::Ks
        } else if n_distinct > 2 {
            Method::ChiSquare
        } else {
            Method::ZTest
        }),
        _ => Some(if numeric_test {
            Method::Wasserstein
        } else {
            Method::JensenShannon
        }),
    }
}
