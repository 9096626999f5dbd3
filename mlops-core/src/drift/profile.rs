//! The reference profile captured at training time.
//!
//! Size bound: per numeric column `bins + 1` edges, `bins + 2` counts
//! (under/overflow included) and at most `sample_size` sampled values, plus
//! six summary numbers; per categorical column at most `max_categories`
//! labels with counts and one "other" count. With the defaults (20 bins,
//! 1,000 samples, 100 categories) a numeric column takes about 9.5 KB
//! serialized (the sample is 1,000 x 9 bytes of MessagePack), whatever the
//! number of rows.

use std::collections::BTreeMap;

use rand::Rng;
use serde::{Deserialize, Serialize};

use super::binning::{bin_index, linspace};
use super::compare::{Sample, column_kind, finish_report, test_samples, verdict};
use super::distance::{hellinger, jensen_shannon, kl_divergence};
use super::options::DriftOptions;
use super::psi::{fill_zeroes, psi};
use super::report::{ColumnDrift, DriftReport};
use super::select::{ColumnKind, Method, auto_method};
use crate::data::{Column, Frame};
use crate::seed::Seed;
use crate::{Error, Result};

/// How a [`Profile`] is captured.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ProfileConfig {
    /// Equal-width bins over the reference [min, max] (plus two overflow bins).
    pub bins: usize,
    /// Size of the seeded reservoir sample kept for exact tests.
    pub sample_size: usize,
    /// Most frequent categories kept; the rest go to "other".
    pub max_categories: usize,
    /// Seed of the reservoir sampling.
    pub seed: Seed,
}

impl Default for ProfileConfig {
    fn default() -> Self {
        ProfileConfig {
            bins: 20,
            sample_size: 1_000,
            max_categories: 100,
            seed: Seed(0),
        }
    }
}

impl ProfileConfig {
    fn validate(&self) -> Result<()> {
        let check = |name: &'static str, v: usize, max: usize| {
            if v == 0 || v > max {
                Err(Error::InvalidParameter {
                    name,
                    reason: format!("must be in 1..={max}, got {v}"),
                })
            } else {
                Ok(())
            }
        };
        check("bins", self.bins, 1_000)?;
        check("sample_size", self.sample_size, 1_000_000)?;
        check("max_categories", self.max_categories, 100_000)
    }
}

/// Summary of a numeric column.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NumericProfile {
    /// Non-missing finite values.
    pub count: u64,
    /// Missing (or infinite) values.
    pub missing: u64,
    /// Mean of the values.
    pub mean: f64,
    /// Population standard deviation.
    pub std: f64,
    /// Smallest value.
    pub min: f64,
    /// Largest value.
    pub max: f64,
    /// Bin edges (equal width over [min, max]).
    pub edges: Vec<f64>,
    /// Counts: `[below min, bin 0, ..., bin k-1, above max]`.
    pub counts: Vec<u64>,
    /// Seeded reservoir sample (sorted).
    pub sample: Vec<f64>,
    /// Whether the column is treated as numerical or categorical.
    pub kind: ColumnKind,
}

impl NumericProfile {
    /// Index into [`Self::counts`] for a value (`None` for non-finite).
    #[inline]
    pub fn slot(&self, v: f64) -> Option<usize> {
        if !v.is_finite() {
            return None;
        }
        let first = *self.edges.first()?;
        let last = *self.edges.last()?;
        if v < first {
            Some(0)
        } else if v > last {
            Some(self.counts.len() - 1)
        } else {
            bin_index(&self.edges, v).map(|i| i + 1)
        }
    }
}

/// Summary of a categorical column.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CategoricalProfile {
    /// Non-missing values.
    pub count: u64,
    /// Missing values.
    pub missing: u64,
    /// The most frequent labels with their counts (most frequent first).
    pub categories: Vec<(String, u64)>,
    /// Values of labels beyond the cap.
    pub other: u64,
    /// Categorical, or text (distinct labels exceed half the rows).
    pub kind: ColumnKind,
}

/// One column of a [`Profile`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum ColumnProfile {
    /// A numeric column.
    Numeric(NumericProfile),
    /// A categorical column.
    Categorical(CategoricalProfile),
}

/// A bounded, serializable summary of reference data (see the module docs
/// for the size bound).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Profile {
    /// Rows profiled.
    pub n_rows: u64,
    /// Per-column summaries.
    pub columns: BTreeMap<String, ColumnProfile>,
    /// The configuration used.
    pub config: ProfileConfig,
}

fn numeric_profile(
    values: &[f64],
    kind: ColumnKind,
    cfg: &ProfileConfig,
    seed: Seed,
) -> NumericProfile {
    let finite: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    let count = finite.len() as u64;
    let missing = values.len() as u64 - count;
    let (mut min, mut max, mut sum) = (f64::INFINITY, f64::NEG_INFINITY, 0.0);
    for &v in &finite {
        min = min.min(v);
        max = max.max(v);
        sum += v;
    }
    let mean = if count > 0 {
        sum / count as f64
    } else {
        f64::NAN
    };
    let std = if count > 0 {
        (finite.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / count as f64).sqrt()
    } else {
        f64::NAN
    };
    let edges = if count == 0 {
        Vec::new()
    } else if min == max {
        vec![min - 0.5, max + 0.5]
    } else {
        linspace(min, max, cfg.bins + 1)
    };
    // Algorithm R reservoir sampling, seeded.
    let mut rng = seed.rng();
    let mut sample: Vec<f64> = Vec::with_capacity(cfg.sample_size.min(finite.len()));
    for (i, &v) in finite.iter().enumerate() {
        if sample.len() < cfg.sample_size {
            sample.push(v);
        } else {
            let j = rng.gen_range(0..=i);
            if j < cfg.sample_size {
                sample[j] = v;
            }
        }
    }
    sample.sort_by(f64::total_cmp);
    let mut p = NumericProfile {
        count,
        missing,
        mean,
        std,
        min,
        max,
        counts: vec![0; edges.len().saturating_sub(1) + 2],
        edges,
        sample,
        kind,
    };
    for &v in &finite {
        if let Some(s) = p.slot(v) {
            p.counts[s] += 1;
        }
    }
    p
}

impl Profile {
    /// Profiles every column of a Frame.
    pub fn from_frame(frame: &Frame, config: &ProfileConfig) -> Result<Self> {
        config.validate()?;
        let mut columns = BTreeMap::new();
        for (name, col) in frame.columns() {
            let kind = column_kind(col);
            let seed = config.seed.derive(name);
            let profile = match col {
                Column::Numeric(n) => {
                    ColumnProfile::Numeric(numeric_profile(n.raw(), kind, config, seed))
                }
                Column::Categorical(c) => {
                    let mut cats: Vec<(String, u64)> = c
                        .dictionary()
                        .iter()
                        .map(str::to_owned)
                        .zip(c.counts().into_iter().map(|n| n as u64))
                        .filter(|(_, n)| *n > 0)
                        .collect();
                    // Most frequent first; ties by label for determinism.
                    cats.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
                    let other = cats.iter().skip(config.max_categories).map(|c| c.1).sum();
                    cats.truncate(config.max_categories);
                    let missing = c.missing_count() as u64;
                    ColumnProfile::Categorical(CategoricalProfile {
                        count: c.len() as u64 - missing,
                        missing,
                        categories: cats,
                        other,
                        kind,
                    })
                }
            };
            columns.insert(name.to_owned(), profile);
        }
        Ok(Profile {
            n_rows: frame.n_rows() as u64,
            columns,
            config: *config,
        })
    }

    /// Profiles a score (prediction) column.
    pub fn from_scores(name: &str, scores: &[f64], config: &ProfileConfig) -> Result<Self> {
        config.validate()?;
        let p = numeric_profile(
            scores,
            ColumnKind::Numerical,
            config,
            config.seed.derive(name),
        );
        Ok(Profile {
            n_rows: scores.len() as u64,
            columns: BTreeMap::from([(name.to_owned(), ColumnProfile::Numeric(p))]),
            config: *config,
        })
    }

    /// Serializes through the store codec (version header and checksum).
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        crate::store::codec::encode(self)
    }

    /// Reads bytes written by [`Self::to_bytes`]; corrupt input is an error.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        crate::store::codec::decode(bytes, "drift profile")
    }

    /// Compares the profile with current data (see the module table for what
    /// each test uses).
    pub fn compare_frame(&self, current: &Frame, options: &DriftOptions) -> Result<DriftReport> {
        options.validate()?;
        let names: Vec<String> = match &options.columns {
            Some(c) => c.clone(),
            None => self
                .columns
                .keys()
                .filter(|n| current.position(n).is_some())
                .cloned()
                .collect(),
        };
        let mut out = BTreeMap::new();
        let mut skipped = BTreeMap::new();
        for name in names {
            let prof = self
                .columns
                .get(&name)
                .ok_or_else(|| Error::ColumnNotFound {
                    column: name.clone(),
                })?;
            let col = current.column(&name)?;
            let forced = options.method_for(&name);
            let result = match (prof, col) {
                (ColumnProfile::Numeric(p), Column::Numeric(c)) => {
                    let cur = Sample::numeric(c.present());
                    if p.count == 0 || cur.is_empty() {
                        skipped.insert(name, "no non-missing values on one side".into());
                        continue;
                    }
                    let refs = Sample::Numeric(p.sample.clone());
                    let distinct = distinct_of(&refs, &cur);
                    let method = forced
                        .or_else(|| auto_method(p.kind, p.count as usize, distinct))
                        .unwrap_or(Method::JensenShannon);
                    let threshold = options.threshold_for(&name, method);
                    match method {
                        Method::JensenShannon | Method::Hellinger | Method::Psi | Method::Kl => {
                            let mut cur_counts = vec![0u64; p.counts.len()];
                            if let Sample::Numeric(v) = &cur {
                                for &x in v {
                                    if let Some(s) = p.slot(x) {
                                        cur_counts[s] += 1;
                                    }
                                }
                            }
                            binned_verdict(p.kind, method, threshold, &p.counts, &cur_counts)
                        }
                        _ => test_samples(p.kind, method, threshold, &refs, &cur)?,
                    }
                }
                (ColumnProfile::Categorical(p), Column::Categorical(c)) => {
                    if p.kind == ColumnKind::Text && forced.is_none() {
                        skipped.insert(
                            name,
                            "text column (distinct values exceed half the rows)".into(),
                        );
                        continue;
                    }
                    let (r, k) = category_counts(p, c.iter());
                    if p.count == 0 || k.iter().sum::<u64>() == 0 {
                        skipped.insert(name, "no non-missing values on one side".into());
                        continue;
                    }
                    let distinct = r.iter().zip(&k).filter(|(a, b)| **a + **b > 0).count();
                    let method = forced
                        .or_else(|| {
                            auto_method(ColumnKind::Categorical, p.count as usize, distinct)
                        })
                        .unwrap_or(Method::JensenShannon);
                    let threshold = options.threshold_for(&name, method);
                    binned_verdict(ColumnKind::Categorical, method, threshold, &r, &k)
                }
                (_, col) => {
                    return Err(Error::ColumnType {
                        column: name,
                        expected: match prof {
                            ColumnProfile::Numeric(_) => "numeric",
                            ColumnProfile::Categorical(_) => "categorical",
                        },
                        found: col.column_type().name(),
                    });
                }
            };
            out.insert(name, result);
        }
        Ok(finish_report(out, skipped, options))
    }
}

fn distinct_of(a: &Sample, b: &Sample) -> usize {
    match (a, b) {
        (Sample::Numeric(x), Sample::Numeric(y)) => {
            let mut all: Vec<f64> = x.iter().chain(y).copied().collect();
            all.sort_by(f64::total_cmp);
            all.dedup();
            all.len()
        }
        _ => 0,
    }
}

/// Profile categories + "other" vs current labels mapped the same way
/// (labels unseen in the profile land in "other").
pub(crate) fn category_counts<'a>(
    p: &CategoricalProfile,
    labels: impl Iterator<Item = Option<&'a str>>,
) -> (Vec<u64>, Vec<u64>) {
    let index: std::collections::HashMap<&str, usize> = p
        .categories
        .iter()
        .enumerate()
        .map(|(i, (l, _))| (l.as_str(), i))
        .collect();
    let other = p.categories.len();
    let mut cur = vec![0u64; other + 1];
    for l in labels.flatten() {
        cur[index.get(l).copied().unwrap_or(other)] += 1;
    }
    let mut r: Vec<u64> = p.categories.iter().map(|c| c.1).collect();
    r.push(p.other);
    (r, cur)
}

/// A test on aligned counts (fixed bins or categories). KS and Wasserstein
/// need raw values; on counts they fall back to Jensen-Shannon, which the
/// report records as the method used.
pub(crate) fn binned_verdict(
    kind: ColumnKind,
    method: Method,
    threshold: f64,
    reference: &[u64],
    current: &[u64],
) -> ColumnDrift {
    // Drop slots empty on both sides (they carry no information and would
    // add degrees of freedom to chi-square).
    let (r, c): (Vec<u64>, Vec<u64>) = reference
        .iter()
        .zip(current)
        .filter(|(a, b)| **a + **b > 0)
        .map(|(a, b)| (*a, *b))
        .unzip();
    let (nr, nc) = (r.iter().sum::<u64>(), c.iter().sum::<u64>());
    let shares = |v: &[u64], n: u64| v.iter().map(|&x| x as f64 / n as f64).collect::<Vec<_>>();
    let (method, threshold) = match method {
        Method::Ks | Method::Wasserstein => (
            Method::JensenShannon,
            Method::JensenShannon.default_threshold(),
        ),
        m => (m, threshold),
    };
    let (stat, p) = match method {
        Method::ChiSquare => {
            let (s, p) = super::chisquare::chisquare_counts(&r, &c);
            (s, Some(p))
        }
        Method::ZTest => {
            let (z, p) = super::ztest::ztest_counts(&r, &c);
            (z, Some(p))
        }
        Method::JensenShannon => (jensen_shannon(&shares(&r, nr), &shares(&c, nc)), None),
        Method::Hellinger => (hellinger(&shares(&r, nr), &shares(&c, nc)), None),
        Method::Psi | Method::Kl | Method::Ks | Method::Wasserstein => {
            let (mut rs, mut cs) = (shares(&r, nr), shares(&c, nc));
            fill_zeroes(&mut rs);
            fill_zeroes(&mut cs);
            if method == Method::Kl {
                (kl_divergence(&rs, &cs), None)
            } else {
                (psi(&rs, &cs), None)
            }
        }
    };
    verdict(kind, method, threshold, stat, p, nr, nc)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::{CategoricalColumn, NumericColumn};

    fn frame(n: usize, shift: f64) -> Frame {
        let x: Vec<f64> = (0..n)
            .map(|i| ((i * 7919) % 1000) as f64 / 10.0 + shift)
            .collect();
        let c = (0..n).map(|i| {
            Some(if ((i as f64 + shift) as usize).is_multiple_of(3) {
                "a"
            } else {
                "b"
            })
        });
        Frame::new(vec![
            ("x".into(), Column::Numeric(NumericColumn::from_raw(x))),
            (
                "c".into(),
                Column::Categorical(CategoricalColumn::from_options(c)),
            ),
        ])
        .unwrap()
    }

    #[test]
    fn size_is_bounded_and_round_trips() {
        let cfg = ProfileConfig::default();
        let small = Profile::from_frame(&frame(2_000, 0.0), &cfg).unwrap();
        let big = Profile::from_frame(&frame(50_000, 0.0), &cfg).unwrap();
        let (a, b) = (small.to_bytes().unwrap(), big.to_bytes().unwrap());
        assert!(b.len() < 12_000, "{} bytes", b.len());
        assert!(b.len() <= a.len() + 64);
        assert_eq!(Profile::from_bytes(&b).unwrap(), big);
        assert!(Profile::from_bytes(&b[..b.len() / 2]).is_err());
    }

    #[test]
    fn sample_is_seeded() {
        let f = frame(5_000, 0.0);
        let a = Profile::from_frame(&f, &ProfileConfig::default()).unwrap();
        let b = Profile::from_frame(&f, &ProfileConfig::default()).unwrap();
        let c = Profile::from_frame(
            &f,
            &ProfileConfig {
                seed: Seed(9),
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn detects_shift_and_not_sameness() {
        let p = Profile::from_frame(&frame(5_000, 0.0), &ProfileConfig::default()).unwrap();
        let same = p
            .compare_frame(&frame(3_000, 0.0), &DriftOptions::default())
            .unwrap();
        assert!(!same.columns["x"].drifted, "{same}");
        let moved = p
            .compare_frame(&frame(3_000, 30.0), &DriftOptions::default())
            .unwrap();
        assert!(moved.columns["x"].drifted, "{moved}");
        let ks = p
            .compare_frame(
                &frame(3_000, 30.0),
                &DriftOptions::default().method(Method::Ks),
            )
            .unwrap();
        assert!(ks.columns["x"].p_value.unwrap() < 1e-6);
    }

    #[test]
    fn categories_are_capped_and_new_labels_drift() {
        let labels: Vec<String> = (0..1_200).map(|i| format!("l{}", i % 12)).collect();
        let f = Frame::new(vec![(
            "c".into(),
            Column::Categorical(CategoricalColumn::from_options(
                labels.iter().map(|s| Some(s.as_str())),
            )),
        )])
        .unwrap();
        let cfg = ProfileConfig {
            max_categories: 5,
            ..Default::default()
        };
        let p = Profile::from_frame(&f, &cfg).unwrap();
        let ColumnProfile::Categorical(c) = &p.columns["c"] else {
            panic!("categorical")
        };
        assert_eq!(c.categories.len(), 5);
        assert_eq!(c.other, 700);
        let same = p.compare_frame(&f, &DriftOptions::default()).unwrap();
        assert_eq!(same.columns["c"].method, Method::JensenShannon);
        assert!(!same.columns["c"].drifted);
        let new: Vec<&str> = (0..600)
            .map(|i| if i % 2 == 0 { "l0" } else { "brand-new" })
            .collect();
        let g = Frame::new(vec![(
            "c".into(),
            Column::Categorical(CategoricalColumn::from_options(new.into_iter().map(Some))),
        )])
        .unwrap();
        let moved = p.compare_frame(&g, &DriftOptions::default()).unwrap();
        assert!(moved.columns["c"].drifted, "{moved}");
    }

    #[test]
    fn score_profile_compares_to_scores() {
        let scores: Vec<f64> = (0..3_000)
            .map(|i| ((i * 37) % 100) as f64 / 100.0)
            .collect();
        let p = Profile::from_scores("score", &scores, &ProfileConfig::default()).unwrap();
        let ColumnProfile::Numeric(n) = &p.columns["score"] else {
            panic!("numeric")
        };
        assert_eq!(n.count, 3_000);
        assert_eq!(n.counts.iter().sum::<u64>(), 3_000);
        assert_eq!(n.sample.len(), 1_000);
        let shifted: Vec<f64> = scores.iter().map(|s| (s + 0.3).min(1.0)).collect();
        let f = Frame::new(vec![(
            "score".into(),
            Column::Numeric(NumericColumn::from_raw(shifted)),
        )])
        .unwrap();
        let r = p.compare_frame(&f, &DriftOptions::default()).unwrap();
        assert_eq!(r.columns["score"].method, Method::Wasserstein);
        assert!(r.columns["score"].drifted);
    }
}
