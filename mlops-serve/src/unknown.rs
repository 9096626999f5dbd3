//! [`UnknownCategories`]: what scoring does with a categorical value never
//! seen in training.

use std::fmt;
use std::str::FromStr;

use mlops_core::features::FittedFeatures;

use crate::error::Error;

/// Known values an [`Error::UnknownCategory`] lists at most.
pub const KNOWN_VALUES_SHOWN: usize = 10;

/// What scoring does with a categorical value never seen in training (for
/// example `"month-to-month"` where training saw `"Month-to-month"`), the
/// counterpart of scikit-learn's `OneHotEncoder(handle_unknown=...)`.
///
/// Set it on a [`Predictor`](crate::Predictor)
/// ([`with_unknown_categories`](crate::Predictor::with_unknown_categories)
/// or [`PredictorBuilder::unknown_categories`](crate::PredictorBuilder::unknown_categories)),
/// on a [`BatchConfig`](crate::BatchConfig)
/// ([`unknown_categories`](crate::BatchConfig::unknown_categories)), or with
/// `mlops score --unknown-categories` / `mlops serve --unknown-categories`.
/// Parses from `report`, `error` or `ignore`.
///
/// Values seen in training but sent to the unknown bucket by `top_k` or
/// `min_frequency` are not unknown under any policy; a missing value is
/// imputed, never unknown.
///
/// ```
/// use mlops_serve::UnknownCategories;
/// assert_eq!(UnknownCategories::default(), UnknownCategories::Report);
/// assert_eq!("error".parse::<UnknownCategories>()?, UnknownCategories::Error);
/// assert!("strict".parse::<UnknownCategories>().is_err());
/// # Ok::<(), mlops_serve::Error>(())
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum UnknownCategories {
    /// Score the value in its column's unknown bucket and count it
    /// (`Score::unknown_categories`, `FrameScores::unknown_categories`,
    /// `BatchSummary::unknown_categories`, the monitor's
    /// `mlops_unknown_categories_total`). The default.
    #[default]
    Report,
    /// Refuse it: [`Error::UnknownCategory`] naming the column, the value and
    /// up to [`KNOWN_VALUES_SHOWN`] values seen in training. A
    /// [`Predictor`](crate::Predictor) fails the call (a frame fails whole);
    /// the [`BatchScorer`](crate::BatchScorer) rejects the row instead (to
    /// the rejects output with its line or row number, counted against
    /// [`BatchConfig::max_reject_ratio`](crate::BatchConfig::max_reject_ratio)),
    /// so no row is dropped silently.
    Error,
    /// Score the value in the unknown bucket, as `Report` does, without
    /// counting it anywhere (the counts stay 0).
    Ignore,
}

impl UnknownCategories {
    /// The policy's name: `report`, `error` or `ignore`.
    pub fn as_str(self) -> &'static str {
        match self {
            UnknownCategories::Report => "report",
            UnknownCategories::Error => "error",
            UnknownCategories::Ignore => "ignore",
        }
    }

    /// The count to report for `unknown` unseen values under this policy
    /// (`Error` never gets here with a non-zero count).
    #[inline]
    pub(crate) fn counted(self, unknown: usize) -> usize {
        match self {
            UnknownCategories::Ignore => 0,
            UnknownCategories::Report | UnknownCategories::Error => unknown,
        }
    }
}

impl fmt::Display for UnknownCategories {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for UnknownCategories {
    type Err = Error;

    /// `report`, `error` or `ignore` (ASCII case-insensitive); anything
    /// else is [`Error::InvalidConfig`] listing the three.
    fn from_str(s: &str) -> Result<Self, Error> {
        match s.to_ascii_lowercase().as_str() {
            "report" => Ok(UnknownCategories::Report),
            "error" => Ok(UnknownCategories::Error),
            "ignore" => Ok(UnknownCategories::Ignore),
            _ => Err(Error::InvalidConfig {
                name: "unknown_categories",
                reason: format!("`{s}` is not one of report, error, ignore"),
            }),
        }
    }
}

/// The [`Error::UnknownCategory`] of `column` (an input position of
/// `features`) holding `value`.
#[cold]
pub(crate) fn unknown_error(
    features: &FittedFeatures,
    model: String,
    input: usize,
    value: &str,
    row: Option<usize>,
) -> Error {
    let column = features
        .input_columns()
        .get(input)
        .map(|f| f.name.clone())
        .unwrap_or_default();
    let (known, n_known) = match features.seen_categories(&column) {
        Some(seen) => {
            let mut known = Vec::new();
            let mut n = 0;
            for s in seen {
                if known.len() < KNOWN_VALUES_SHOWN {
                    known.push(s.to_owned());
                }
                n += 1;
            }
            (known, n)
        }
        None => (Vec::new(), 0),
    };
    Error::UnknownCategory {
        model,
        column,
        value: value.to_owned(),
        row,
        known,
        n_known,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_displays_the_three_names() {
        for p in [
            UnknownCategories::Report,
            UnknownCategories::Error,
            UnknownCategories::Ignore,
        ] {
            assert_eq!(p.to_string().parse::<UnknownCategories>().ok(), Some(p));
        }
        assert_eq!(
            "IGNORE".parse::<UnknownCategories>().ok(),
            Some(UnknownCategories::Ignore)
        );
        let err = "drop"
            .parse::<UnknownCategories>()
            .expect_err("not a policy");
        assert!(
            err.to_string()
                .contains("`drop` is not one of report, error, ignore"),
            "{err}"
        );
    }
}
