//! Numeric statistics learned at fit (mean, median, std, range) and the
//! impute -> clip -> scale map applied at transform.

use serde::{Deserialize, Serialize};

use super::spec::{Clip, Impute, Scale};

/// The fitted map of one numeric output: `missing -> fill`, clip to
/// `[lo, hi]`, then `(v - center) / divisor`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct NumericMap {
    /// Value used for a missing input.
    pub fill: f64,
    /// Clip bounds, if any.
    #[serde(default)]
    pub clip: Option<Clip>,
    /// Subtracted after clipping.
    pub center: f64,
    /// Divides after centering; never 0.
    pub divisor: f64,
}

impl NumericMap {
    /// Applies the map to a finite value or a missing one.
    #[inline]
    pub(crate) fn apply(&self, value: Option<f64>) -> f64 {
        let mut v = value.unwrap_or(self.fill);
        if let Some(c) = self.clip {
            // max/min rather than clamp: clamp panics on bad bounds.
            if let Some(lo) = c.min {
                v = v.max(lo);
            }
            if let Some(hi) = c.max {
                v = v.min(hi);
            }
        }
        (v - self.center) / self.divisor
    }

    /// Checks a deserialized map: every number finite, divisor non-zero.
    pub(crate) fn check(&self) -> Result<(), String> {
        let bounds = self
            .clip
            .map(|c| [c.min, c.max])
            .unwrap_or_default()
            .into_iter()
            .flatten();
        if [self.fill, self.center, self.divisor]
            .into_iter()
            .chain(bounds)
            .any(|v| !v.is_finite())
            || self.divisor == 0.0
        {
            return Err("numeric statistics are not finite or divide by zero".into());
        }
        Ok(())
    }

    /// Learns the map from training values (`None` = missing). `present` are
    /// the present values; `what` names the feature in errors.
    pub(crate) fn fit(
        values: &[Option<f64>],
        impute: Impute,
        clip: Option<Clip>,
        scale: Scale,
    ) -> Result<Self, String> {
        let fill = match impute {
            Impute::Constant(c) => c,
            Impute::Mean | Impute::Median => {
                let mut present: Vec<f64> = values.iter().flatten().copied().collect();
                if present.is_empty() {
                    return Err(format!(
                        "no non-missing training values to learn the {} from",
                        if impute == Impute::Mean {
                            "mean"
                        } else {
                            "median"
                        }
                    ));
                }
                if impute == Impute::Mean {
                    mean(&present)
                } else {
                    median(&mut present)
                }
            }
        };
        let mut map = NumericMap {
            fill,
            clip,
            center: 0.0,
            divisor: 1.0,
        };
        if scale == Scale::None {
            return Ok(map);
        }
        let column: Vec<f64> = values.iter().map(|v| map.apply(*v)).collect();
        match scale {
            Scale::Standard => {
                let m = mean(&column);
                let var =
                    column.iter().map(|v| (v - m) * (v - m)).sum::<f64>() / column.len() as f64;
                map.center = m;
                map.divisor = if is_constant(var, m, column.len()) {
                    1.0
                } else {
                    var.sqrt()
                };
            }
            Scale::MinMax => {
                let lo = column.iter().copied().fold(f64::INFINITY, f64::min);
                let hi = column.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                let range = hi - lo;
                map.center = lo;
                map.divisor = if range < 10.0 * f64::EPSILON {
                    1.0
                } else {
                    range
                };
            }
            Scale::None => {}
        }
        if !map.center.is_finite() || !map.divisor.is_finite() {
            return Err("scaling statistics overflow (values too large)".into());
        }
        Ok(map)
    }
}

/// scikit-learn's `_is_constant_feature`: a variance indistinguishable from
/// rounding error counts as zero, so the column is divided by 1.
fn is_constant(var: f64, mean: f64, n: usize) -> bool {
    let n = n as f64;
    let eps = f64::EPSILON;
    var <= n * eps * var + (n * mean * eps).powi(2)
}

/// Arithmetic mean; 0 for an empty slice (callers check emptiness first).
pub(crate) fn mean(values: &[f64]) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    values.iter().sum::<f64>() / values.len() as f64
}

/// numpy's median: the middle value, or the mean of the two middle values.
/// Reorders `values`. `values` must be non-empty and NaN-free.
pub(crate) fn median(values: &mut [f64]) -> f64 {
    let n = values.len();
    if n == 0 {
        return 0.0;
    }
    let mid = n / 2;
    let (_, upper, _) = values.select_nth_unstable_by(mid, f64::total_cmp);
    let upper = *upper;
    if n % 2 == 1 {
        upper
    } else {
        let lower = values[..mid]
            .iter()
            .copied()
            .fold(f64::NEG_INFINITY, f64::max);
        (lower + upper) / 2.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_matches_numpy() {
        assert_eq!(median(&mut [3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&mut [4.0, 1.0, 3.0, 2.0]), 2.5);
        assert_eq!(median(&mut [5.0]), 5.0);
        assert_eq!(median(&mut [-1.0, -1.0, 7.0, 7.0]), 3.0);
    }

    #[test]
    fn standard_scaling_uses_population_std() {
        let values = [Some(1.0), Some(2.0), Some(3.0), Some(4.0)];
        let m = NumericMap::fit(&values, Impute::Mean, None, Scale::Standard).unwrap();
        assert_eq!(m.center, 2.5);
        assert!((m.divisor - 1.25f64.sqrt()).abs() < 1e-15);
    }

    #[test]
    fn missing_values_take_part_in_scaling_after_imputation() {
        // Imputed with the median 2, the column is [1, 2, 3, 2]: mean 2.
        let values = [Some(1.0), None, Some(3.0), Some(2.0)];
        let m = NumericMap::fit(&values, Impute::Median, None, Scale::Standard).unwrap();
        assert_eq!(m.fill, 2.0);
        assert_eq!(m.center, 2.0);
        assert!((m.divisor - 0.5f64.sqrt()).abs() < 1e-15);
        assert_eq!(m.apply(None), 0.0);
    }

    #[test]
    fn constant_column_is_divided_by_one() {
        let values = [Some(0.1); 10];
        let m = NumericMap::fit(&values, Impute::Median, None, Scale::Standard).unwrap();
        assert_eq!(m.divisor, 1.0);
        let m = NumericMap::fit(&values, Impute::Median, None, Scale::MinMax).unwrap();
        assert_eq!(m.divisor, 1.0);
        assert_eq!(m.apply(Some(0.1)), 0.0);
    }

    #[test]
    fn clip_applies_before_scaling_and_to_the_fill() {
        let values = [Some(-5.0), Some(5.0), Some(10.0)];
        let clip = Some(Clip {
            min: Some(0.0),
            max: Some(8.0),
        });
        let m = NumericMap::fit(&values, Impute::Constant(100.0), clip, Scale::MinMax).unwrap();
        assert_eq!((m.center, m.divisor), (0.0, 8.0));
        assert_eq!(m.apply(Some(-3.0)), 0.0);
        assert_eq!(m.apply(None), 1.0);
    }

    #[test]
    fn all_missing_cannot_learn_a_median() {
        let err = NumericMap::fit(&[None, None], Impute::Median, None, Scale::None).unwrap_err();
        assert!(err.contains("median"), "{err}");
        assert!(NumericMap::fit(&[None], Impute::Constant(1.0), None, Scale::Standard).is_ok());
    }
}
