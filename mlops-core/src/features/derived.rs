//! Derived features: the per-row formulas and their fitted statistics.

use serde::{Deserialize, Serialize};

use super::numeric::{NumericMap, median};
use super::spec::{DerivedFeature, Impute, Scale};

/// A derived feature with what fit learned.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum FittedDerived {
    Ratio {
        name: String,
        numerator: String,
        denominator: String,
        map: NumericMap,
    },
    Log1p {
        name: String,
        column: String,
        map: NumericMap,
    },
    Interaction {
        name: String,
        left: String,
        right: String,
        fill_left: f64,
        fill_right: f64,
        map: NumericMap,
    },
    Bucketize {
        name: String,
        column: String,
        edges: Vec<f64>,
    },
}

/// `a / b`; `None` when an input is missing, `b` is 0 or the result
/// overflows.
#[inline]
pub(crate) fn ratio(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    match (a, b) {
        (Some(a), Some(b)) if b != 0.0 => Some(a / b).filter(|r| r.is_finite()),
        _ => None,
    }
}

/// `ln(1 + max(x, 0))`: negative values are clipped to 0 at transform.
#[inline]
pub(crate) fn log1p(x: Option<f64>) -> Option<f64> {
    x.map(|x| x.max(0.0).ln_1p())
}

/// `a * b` with each input imputed; `None` on overflow.
#[inline]
pub(crate) fn interaction(a: Option<f64>, b: Option<f64>, fa: f64, fb: f64) -> Option<f64> {
    Some(a.unwrap_or(fa) * b.unwrap_or(fb)).filter(|p| p.is_finite())
}

/// The bucket of `x`: the number of edges `<= x`.
#[inline]
pub(crate) fn bucket(x: f64, edges: &[f64]) -> usize {
    edges.partition_point(|e| *e <= x)
}

/// Output names of a bucketize block: `name=(-inf,e0)`, `name=[e0,e1)`, ...,
/// `name=[eN,inf)`.
pub(crate) fn bucket_names(name: &str, edges: &[f64]) -> Vec<String> {
    let mut out = Vec::with_capacity(edges.len() + 1);
    let mut lo: Option<f64> = None;
    for e in edges.iter().copied().map(Some).chain([None]) {
        let left = lo.map_or("(-inf".to_owned(), |l| format!("[{l}"));
        let right = e.map_or("inf)".to_owned(), |h| format!("{h})"));
        out.push(format!("{name}={left},{right}"));
        lo = e;
    }
    out
}

/// Fits one derived feature. `column` returns the raw values of a numeric
/// column (already checked to exist and be numeric, finite or missing).
pub(crate) fn fit<'a>(
    feature: &DerivedFeature,
    column: impl Fn(&str) -> &'a [Option<f64>],
) -> Result<FittedDerived, String> {
    let fit_map = |values: Vec<Option<f64>>, scale: Scale| {
        NumericMap::fit(&values, Impute::Median, None, scale)
            .map_err(|e| format!("{e} (no training row gives a valid value)"))
    };
    Ok(match feature {
        DerivedFeature::Ratio {
            name,
            numerator,
            denominator,
            scale,
        } => {
            let values = column(numerator)
                .iter()
                .zip(column(denominator))
                .map(|(a, b)| ratio(*a, *b))
                .collect();
            FittedDerived::Ratio {
                name: name.clone(),
                numerator: numerator.clone(),
                denominator: denominator.clone(),
                map: fit_map(values, *scale)?,
            }
        }
        DerivedFeature::Log1p {
            name,
            column: col,
            scale,
        } => {
            let raw = column(col);
            if let Some((row, v)) = raw
                .iter()
                .enumerate()
                .find_map(|(i, v)| v.filter(|v| *v < 0.0).map(|v| (i, v)))
            {
                return Err(format!(
                    "log1p of column `{col}` needs non-negative values, row {row} has {v}"
                ));
            }
            FittedDerived::Log1p {
                name: name.clone(),
                column: col.clone(),
                map: fit_map(raw.iter().map(|v| log1p(*v)).collect(), *scale)?,
            }
        }
        DerivedFeature::Interaction {
            name,
            left,
            right,
            scale,
        } => {
            let fill = |col: &str| {
                let mut present: Vec<f64> = column(col).iter().flatten().copied().collect();
                if present.is_empty() {
                    Err(format!("column `{col}` has no non-missing training values"))
                } else {
                    Ok(median(&mut present))
                }
            };
            let (fill_left, fill_right) = (fill(left)?, fill(right)?);
            let values = column(left)
                .iter()
                .zip(column(right))
                .map(|(a, b)| interaction(*a, *b, fill_left, fill_right))
                .collect();
            FittedDerived::Interaction {
                name: name.clone(),
                left: left.clone(),
                right: right.clone(),
                fill_left,
                fill_right,
                map: fit_map(values, *scale)?,
            }
        }
        DerivedFeature::Bucketize {
            name,
            column: col,
            edges,
        } => FittedDerived::Bucketize {
            name: name.clone(),
            column: col.clone(),
            edges: edges.clone(),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas() {
        assert_eq!(ratio(Some(6.0), Some(3.0)), Some(2.0));
        assert_eq!(ratio(Some(6.0), Some(0.0)), None);
        assert_eq!(ratio(None, Some(1.0)), None);
        assert_eq!(log1p(Some(0.0)), Some(0.0));
        assert_eq!(log1p(Some(-4.0)), Some(0.0));
        assert_eq!(log1p(None), None);
        assert_eq!(interaction(Some(2.0), None, 0.0, 5.0), Some(10.0));
        let edges = [12.0, 24.0];
        assert_eq!(bucket(-1.0, &edges), 0);
        assert_eq!(bucket(12.0, &edges), 1);
        assert_eq!(bucket(23.9, &edges), 1);
        assert_eq!(bucket(24.0, &edges), 2);
        assert_eq!(
            bucket_names("t", &[12.0, 24.5]),
            ["t=(-inf,12)", "t=[12,24.5)", "t=[24.5,inf)"]
        );
    }

    #[test]
    fn ratio_fill_is_the_median_of_valid_ratios() {
        let a = vec![Some(2.0), Some(9.0), Some(4.0), None];
        let b = vec![Some(1.0), Some(3.0), Some(0.0), Some(1.0)];
        let f = DerivedFeature::ratio("r", "a", "b");
        let fitted = fit(&f, |c| if c == "a" { &a } else { &b }).unwrap();
        let FittedDerived::Ratio { map, .. } = fitted else {
            panic!("not a ratio")
        };
        assert_eq!(map.fill, 2.5);
    }

    #[test]
    fn log1p_rejects_negative_training_values() {
        let a = vec![Some(2.0), Some(-1.0)];
        let err = fit(&DerivedFeature::log1p("l", "a"), |_| &a).unwrap_err();
        assert!(err.contains("row 1 has -1"), "{err}");
    }
}
