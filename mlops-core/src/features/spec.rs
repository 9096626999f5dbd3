//! [`FeatureSpec`]: the declarative description of a feature pipeline, built
//! in code or loaded from TOML / JSON, and validated before it is fitted.

use std::collections::HashSet;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// How a missing numeric value is filled.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Impute {
    /// Mean of the present training values.
    Mean,
    /// Median of the present training values (numpy's: the mean of the two
    /// middle values for an even count).
    #[default]
    Median,
    /// A fixed value, written `{ constant = 0.0 }` in TOML.
    Constant(f64),
}

/// How a numeric value is scaled after imputation and clipping.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scale {
    /// `(x - mean) / std` with the population std (ddof 0), like
    /// scikit-learn's `StandardScaler`; a constant column is divided by 1.
    #[default]
    Standard,
    /// `(x - min) / (max - min)`; a constant column is divided by 1.
    #[serde(rename = "minmax")]
    MinMax,
    /// The value is passed through.
    None,
}

/// Bounds a numeric value is clipped to (either may be absent).
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Clip {
    /// Lower bound.
    #[serde(default)]
    pub min: Option<f64>,
    /// Upper bound.
    #[serde(default)]
    pub max: Option<f64>,
}

/// A numeric input column, turned into one output named after the column.
///
/// The value goes through impute -> clip -> scale: a missing value is
/// replaced by the fill value (a statistic of the present training values),
/// then clipped, then scaled with statistics of the clipped, imputed training
/// column.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct NumericFeature {
    /// The input column.
    pub column: String,
    /// How missing values are filled (default: median).
    #[serde(default)]
    pub impute: Impute,
    /// How values are scaled (default: standard).
    #[serde(default)]
    pub scale: Scale,
    /// Optional clipping bounds, in raw units.
    #[serde(default)]
    pub clip: Option<Clip>,
}

impl NumericFeature {
    /// Median imputation and standard scaling of `column`.
    pub fn new(column: impl Into<String>) -> Self {
        Self {
            column: column.into(),
            impute: Impute::default(),
            scale: Scale::default(),
            clip: None,
        }
    }

    /// Sets the imputation.
    pub fn impute(mut self, impute: Impute) -> Self {
        self.impute = impute;
        self
    }

    /// Sets the scaling.
    pub fn scale(mut self, scale: Scale) -> Self {
        self.scale = scale;
        self
    }

    /// Clips values to `[min, max]` (`None` leaves that side open).
    pub fn clip(mut self, min: Option<f64>, max: Option<f64>) -> Self {
        self.clip = Some(Clip { min, max });
        self
    }
}

/// A categorical input column, one-hot encoded.
///
/// Outputs are `column=category` for each kept category, sorted by string
/// (byte order, as scikit-learn's `OneHotEncoder`), then `column=<unknown>`:
/// the explicit bucket for categories unseen at fit, categories dropped by
/// `top_k` / `min_frequency`, and missing values.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct CategoricalFeature {
    /// The input column.
    pub column: String,
    /// Keep only the `k` most frequent categories (ties broken by string).
    #[serde(default)]
    pub top_k: Option<usize>,
    /// Keep only categories seen at least this many times in training.
    #[serde(default)]
    pub min_frequency: Option<usize>,
}

impl CategoricalFeature {
    /// One-hot encoding of every training category of `column`.
    pub fn new(column: impl Into<String>) -> Self {
        Self {
            column: column.into(),
            top_k: None,
            min_frequency: None,
        }
    }

    /// Keeps only the `k` most frequent categories.
    pub fn top_k(mut self, k: usize) -> Self {
        self.top_k = Some(k);
        self
    }

    /// Keeps only categories seen at least `n` times.
    pub fn min_frequency(mut self, n: usize) -> Self {
        self.min_frequency = Some(n);
        self
    }
}

/// A feature computed from raw input columns.
///
/// Inputs are the raw values (before the numeric features' own imputation
/// and scaling). Numeric-valued kinds (ratio, log1p, interaction) produce one
/// output named `name`, optionally scaled (default: none); bucketize produces
/// a one-hot block.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "DerivedRepr", into = "DerivedRepr")]
#[non_exhaustive]
pub enum DerivedFeature {
    /// `numerator / denominator`. A missing input or a zero denominator gives
    /// the fill value: the median of the valid training ratios.
    Ratio {
        /// Output name.
        name: String,
        /// Numerator column.
        numerator: String,
        /// Denominator column.
        denominator: String,
        /// Scaling of the result.
        scale: Scale,
    },
    /// `ln(1 + x)`. A negative training value is an error at fit; at
    /// transform a negative value is clipped to 0 (so it maps to 0). A
    /// missing value gives the median of the training log values.
    Log1p {
        /// Output name.
        name: String,
        /// Input column.
        column: String,
        /// Scaling of the result.
        scale: Scale,
    },
    /// `left * right`, each input imputed first with its training median.
    Interaction {
        /// Output name.
        name: String,
        /// First column.
        left: String,
        /// Second column.
        right: String,
        /// Scaling of the result.
        scale: Scale,
    },
    /// One-hot over `edges.len() + 1` buckets: bucket 0 holds `x < edges[0]`,
    /// bucket `i` holds `edges[i-1] <= x < edges[i]`, the last holds
    /// `x >= edges[last]`. A missing value sets no bucket (all zeros).
    /// Outputs are named `name=[lo,hi)`.
    Bucketize {
        /// Output name prefix.
        name: String,
        /// Input column.
        column: String,
        /// Strictly increasing, finite bucket edges.
        edges: Vec<f64>,
    },
}

/// The serialized form of a [`DerivedFeature`]: one flat record with a
/// `kind` field. Flat rather than a serde-tagged enum so that it reads the
/// same from TOML, JSON and compact MessagePack (structs as arrays).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct DerivedRepr {
    kind: DerivedKind,
    name: String,
    #[serde(default)]
    numerator: Option<String>,
    #[serde(default)]
    denominator: Option<String>,
    #[serde(default)]
    column: Option<String>,
    #[serde(default)]
    left: Option<String>,
    #[serde(default)]
    right: Option<String>,
    #[serde(default)]
    edges: Option<Vec<f64>>,
    #[serde(default)]
    scale: Option<Scale>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
enum DerivedKind {
    Ratio,
    Log1p,
    Interaction,
    Bucketize,
}

impl DerivedKind {
    /// The name used in specs (`kind = "ratio"`).
    fn as_str(self) -> &'static str {
        match self {
            DerivedKind::Ratio => "ratio",
            DerivedKind::Log1p => "log1p",
            DerivedKind::Interaction => "interaction",
            DerivedKind::Bucketize => "bucketize",
        }
    }
}

impl TryFrom<DerivedRepr> for DerivedFeature {
    type Error = String;

    fn try_from(r: DerivedRepr) -> Result<Self, String> {
        let name = r.name;
        let need = |v: Option<String>, field: &str| {
            v.ok_or_else(|| format!("derived feature `{name}` needs `{field}`"))
        };
        // Which optional fields each kind takes; any other one present is an
        // error rather than silently ignored.
        let allowed: &[&str] = match r.kind {
            DerivedKind::Ratio => &["numerator", "denominator", "scale"],
            DerivedKind::Log1p => &["column", "scale"],
            DerivedKind::Interaction => &["left", "right", "scale"],
            DerivedKind::Bucketize => &["column", "edges"],
        };
        let present = [
            ("numerator", r.numerator.is_some()),
            ("denominator", r.denominator.is_some()),
            ("column", r.column.is_some()),
            ("left", r.left.is_some()),
            ("right", r.right.is_some()),
            ("edges", r.edges.is_some()),
            ("scale", r.scale.is_some()),
        ];
        if let Some((field, _)) = present
            .iter()
            .find(|(field, set)| *set && !allowed.contains(field))
        {
            return Err(format!(
                "derived feature `{name}`: `{field}` does not apply to kind `{}`",
                r.kind.as_str()
            ));
        }
        let scale = r.scale.unwrap_or(Scale::None);
        Ok(match r.kind {
            DerivedKind::Ratio => Self::Ratio {
                numerator: need(r.numerator, "numerator")?,
                denominator: need(r.denominator, "denominator")?,
                name,
                scale,
            },
            DerivedKind::Log1p => Self::Log1p {
                column: need(r.column, "column")?,
                name,
                scale,
            },
            DerivedKind::Interaction => Self::Interaction {
                left: need(r.left, "left")?,
                right: need(r.right, "right")?,
                name,
                scale,
            },
            DerivedKind::Bucketize => Self::Bucketize {
                column: need(r.column, "column")?,
                edges: r
                    .edges
                    .ok_or_else(|| format!("derived feature `{name}` needs `edges`"))?,
                name,
            },
        })
    }
}

impl From<DerivedFeature> for DerivedRepr {
    fn from(f: DerivedFeature) -> Self {
        let mut r = DerivedRepr {
            kind: DerivedKind::Ratio,
            name: String::new(),
            numerator: None,
            denominator: None,
            column: None,
            left: None,
            right: None,
            edges: None,
            scale: None,
        };
        match f {
            DerivedFeature::Ratio {
                name,
                numerator,
                denominator,
                scale,
            } => {
                r.name = name;
                r.numerator = Some(numerator);
                r.denominator = Some(denominator);
                r.scale = Some(scale);
            }
            DerivedFeature::Log1p {
                name,
                column,
                scale,
            } => {
                r.kind = DerivedKind::Log1p;
                r.name = name;
                r.column = Some(column);
                r.scale = Some(scale);
            }
            DerivedFeature::Interaction {
                name,
                left,
                right,
                scale,
            } => {
                r.kind = DerivedKind::Interaction;
                r.name = name;
                r.left = Some(left);
                r.right = Some(right);
                r.scale = Some(scale);
            }
            DerivedFeature::Bucketize {
                name,
                column,
                edges,
            } => {
                r.kind = DerivedKind::Bucketize;
                r.name = name;
                r.column = Some(column);
                r.edges = Some(edges);
            }
        }
        r
    }
}

impl DerivedFeature {
    /// `numerator / denominator`, unscaled.
    pub fn ratio(
        name: impl Into<String>,
        numerator: impl Into<String>,
        denominator: impl Into<String>,
    ) -> Self {
        Self::Ratio {
            name: name.into(),
            numerator: numerator.into(),
            denominator: denominator.into(),
            scale: Scale::None,
        }
    }

    /// `ln(1 + column)`, unscaled.
    pub fn log1p(name: impl Into<String>, column: impl Into<String>) -> Self {
        Self::Log1p {
            name: name.into(),
            column: column.into(),
            scale: Scale::None,
        }
    }

    /// `left * right`, unscaled.
    pub fn interaction(
        name: impl Into<String>,
        left: impl Into<String>,
        right: impl Into<String>,
    ) -> Self {
        Self::Interaction {
            name: name.into(),
            left: left.into(),
            right: right.into(),
            scale: Scale::None,
        }
    }

    /// Buckets of `column` split at `edges`.
    pub fn bucketize(name: impl Into<String>, column: impl Into<String>, edges: Vec<f64>) -> Self {
        Self::Bucketize {
            name: name.into(),
            column: column.into(),
            edges,
        }
    }

    /// Sets the scaling of a numeric-valued derived feature (no effect on
    /// bucketize).
    pub fn with_scale(mut self, new: Scale) -> Self {
        match &mut self {
            Self::Ratio { scale, .. }
            | Self::Log1p { scale, .. }
            | Self::Interaction { scale, .. } => *scale = new,
            Self::Bucketize { .. } => {}
        }
        self
    }

    /// The feature's name.
    pub fn name(&self) -> &str {
        match self {
            Self::Ratio { name, .. }
            | Self::Log1p { name, .. }
            | Self::Interaction { name, .. }
            | Self::Bucketize { name, .. } => name,
        }
    }

    /// The raw columns it reads.
    pub fn columns(&self) -> Vec<&str> {
        match self {
            Self::Ratio {
                numerator,
                denominator,
                ..
            } => vec![numerator, denominator],
            Self::Log1p { column, .. } | Self::Bucketize { column, .. } => vec![column],
            Self::Interaction { left, right, .. } => vec![left, right],
        }
    }
}

/// The column to predict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct Target {
    /// The target column.
    pub column: String,
    /// The positive label for classification (`1.0`; every other value is
    /// `0.0`). Absent for regression on a numeric column. For a numeric
    /// column it is parsed as a number.
    #[serde(default)]
    pub positive: Option<String>,
    /// Multiclass classification on a categorical column: the classes are
    /// the labels seen at fit, sorted, and the target of a row is the index
    /// of its label. Excludes `positive`. Written only when set, so binary
    /// and regression specs (and the packages holding them) keep their bytes.
    #[serde(default, skip_serializing_if = "is_false")]
    pub multiclass: bool,
}

fn is_false(b: &bool) -> bool {
    !*b
}

impl Target {
    /// A binary classification target.
    pub fn classification(column: impl Into<String>, positive: impl Into<String>) -> Self {
        Self {
            column: column.into(),
            positive: Some(positive.into()),
            multiclass: false,
        }
    }

    /// Multiclass classification on a categorical column: one class per
    /// training label (sorted), targets are class indices `0..k`.
    pub fn multiclass(column: impl Into<String>) -> Self {
        Self {
            column: column.into(),
            positive: None,
            multiclass: true,
        }
    }

    /// A regression target (a numeric column).
    pub fn regression(column: impl Into<String>) -> Self {
        Self {
            column: column.into(),
            positive: None,
            multiclass: false,
        }
    }
}

/// A declarative feature pipeline.
///
/// Outputs come in a fixed order: numeric features, then categorical
/// one-hot blocks, then derived features, each group in spec order.
///
/// ```
/// use mlops_core::features::{CategoricalFeature, FeatureSpec, NumericFeature, Scale, Target};
///
/// let spec = FeatureSpec::new()
///     .numeric(NumericFeature::new("tenure").scale(Scale::MinMax))
///     .categorical(CategoricalFeature::new("Contract"))
///     .target(Target::classification("Churn", "Yes"));
/// let toml = spec.to_toml_string()?;
/// assert_eq!(FeatureSpec::from_toml_str(&toml)?, spec);
///
/// let from_toml = FeatureSpec::from_toml_str(r#"
///     [[numeric]]
///     column = "tenure"
///     impute = { constant = 0.0 }
///     scale = "none"
///
///     [[derived]]
///     kind = "log1p"
///     name = "log_charges"
///     column = "TotalCharges"
/// "#)?;
/// assert_eq!(from_toml.numeric.len(), 1);
/// # Ok::<(), mlops_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct FeatureSpec {
    /// The column to predict, if any.
    #[serde(default)]
    pub target: Option<Target>,
    /// Columns deliberately left out (ids, leaky columns). Informational,
    /// except that an excluded column may not also be used as an input.
    #[serde(default)]
    pub excluded: Vec<String>,
    /// Numeric features.
    #[serde(default)]
    pub numeric: Vec<NumericFeature>,
    /// Categorical features.
    #[serde(default)]
    pub categorical: Vec<CategoricalFeature>,
    /// Derived features.
    #[serde(default)]
    pub derived: Vec<DerivedFeature>,
}

impl FeatureSpec {
    /// An empty spec; add features with the builder methods.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a numeric feature.
    pub fn numeric(mut self, feature: NumericFeature) -> Self {
        self.numeric.push(feature);
        self
    }

    /// Adds a categorical feature.
    pub fn categorical(mut self, feature: CategoricalFeature) -> Self {
        self.categorical.push(feature);
        self
    }

    /// Adds a derived feature.
    pub fn derived(mut self, feature: DerivedFeature) -> Self {
        self.derived.push(feature);
        self
    }

    /// Sets the target.
    pub fn target(mut self, target: Target) -> Self {
        self.target = Some(target);
        self
    }

    /// Records a column as deliberately excluded.
    pub fn exclude(mut self, column: impl Into<String>) -> Self {
        self.excluded.push(column.into());
        self
    }

    /// Parses and validates a TOML spec.
    pub fn from_toml_str(text: &str) -> Result<Self> {
        let spec: Self = toml::from_str(text).map_err(|e| Error::Parse {
            what: "feature spec (TOML)".into(),
            reason: e.to_string(),
        })?;
        spec.validate()?;
        Ok(spec)
    }

    /// Parses and validates a JSON spec.
    pub fn from_json_str(text: &str) -> Result<Self> {
        let spec: Self = serde_json::from_str(text).map_err(|e| Error::Parse {
            what: "feature spec (JSON)".into(),
            reason: e.to_string(),
        })?;
        spec.validate()?;
        Ok(spec)
    }

    /// Reads a spec file: `.toml` or `.json`, chosen by extension.
    pub fn from_path(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
            path: path.to_owned(),
            source,
        })?;
        let parse_err = |e: Error| match e {
            Error::Parse { reason, .. } => Error::Parse {
                what: path.display().to_string(),
                reason,
            },
            other => other,
        };
        match path.extension().and_then(|e| e.to_str()) {
            Some(ext) if ext.eq_ignore_ascii_case("toml") => {
                Self::from_toml_str(&text).map_err(parse_err)
            }
            Some(ext) if ext.eq_ignore_ascii_case("json") => {
                Self::from_json_str(&text).map_err(parse_err)
            }
            _ => Err(Error::Parse {
                what: path.display().to_string(),
                reason: "a feature spec file must end in .toml or .json".into(),
            }),
        }
    }

    /// The spec as TOML.
    pub fn to_toml_string(&self) -> Result<String> {
        toml::to_string(self).map_err(|e| Error::Parse {
            what: "feature spec (TOML output)".into(),
            reason: e.to_string(),
        })
    }

    /// The spec as pretty JSON.
    pub fn to_json_string(&self) -> Result<String> {
        serde_json::to_string_pretty(self).map_err(|e| Error::Parse {
            what: "feature spec (JSON output)".into(),
            reason: e.to_string(),
        })
    }

    /// Checks the spec on its own (no data): names present and unique,
    /// parameters in range, the target not used as an input. Fitting calls
    /// this first.
    pub fn validate(&self) -> Result<()> {
        let bad = |feature: &str, reason: String| {
            Err(Error::InvalidSpec(format!("feature `{feature}`: {reason}")))
        };
        if self.numeric.is_empty() && self.categorical.is_empty() && self.derived.is_empty() {
            return Err(Error::InvalidSpec("the spec has no features".into()));
        }
        let mut names = HashSet::new();
        let mut inputs: Vec<(&str, &str)> = Vec::new();
        for f in &self.numeric {
            if f.column.is_empty() {
                return Err(Error::InvalidSpec(
                    "a numeric feature has an empty column name".into(),
                ));
            }
            if !names.insert(f.column.as_str()) {
                return bad(&f.column, "defined twice".into());
            }
            if let Impute::Constant(c) = f.impute
                && !c.is_finite()
            {
                return bad(&f.column, format!("constant fill {c} is not finite"));
            }
            if let Some(clip) = f.clip {
                for b in [clip.min, clip.max].into_iter().flatten() {
                    if !b.is_finite() {
                        return bad(&f.column, format!("clip bound {b} is not finite"));
                    }
                }
                if let (Some(lo), Some(hi)) = (clip.min, clip.max)
                    && lo > hi
                {
                    return bad(&f.column, format!("clip min {lo} is above clip max {hi}"));
                }
            }
            inputs.push((&f.column, &f.column));
        }
        for f in &self.categorical {
            if f.column.is_empty() {
                return Err(Error::InvalidSpec(
                    "a categorical feature has an empty column name".into(),
                ));
            }
            if !names.insert(f.column.as_str()) {
                return bad(&f.column, "defined twice".into());
            }
            if f.top_k == Some(0) {
                return bad(&f.column, "top_k must be at least 1".into());
            }
            if f.min_frequency == Some(0) {
                return bad(&f.column, "min_frequency must be at least 1".into());
            }
            inputs.push((&f.column, &f.column));
        }
        for f in &self.derived {
            let name = f.name();
            if name.is_empty() {
                return Err(Error::InvalidSpec(
                    "a derived feature has an empty name".into(),
                ));
            }
            if !names.insert(name) {
                return bad(name, "defined twice".into());
            }
            for col in f.columns() {
                if col.is_empty() {
                    return bad(name, "an input column name is empty".into());
                }
                inputs.push((name, col));
            }
            if let DerivedFeature::Bucketize { edges, .. } = f {
                if edges.is_empty() {
                    return bad(name, "bucketize needs at least one edge".into());
                }
                if let Some(e) = edges.iter().find(|e| !e.is_finite()) {
                    return bad(name, format!("edge {e} is not finite"));
                }
                if edges.windows(2).any(|w| w[0] >= w[1]) {
                    return bad(name, "edges must be strictly increasing".into());
                }
            }
        }
        for (feature, col) in &inputs {
            if let Some(t) = &self.target
                && t.column == *col
            {
                return bad(
                    feature,
                    format!("uses the target column `{col}` as an input"),
                );
            }
            if self.excluded.iter().any(|e| e == col) {
                return bad(feature, format!("uses the excluded column `{col}`"));
            }
        }
        if let Some(t) = &self.target
            && t.column.is_empty()
        {
            return Err(Error::InvalidSpec("the target column name is empty".into()));
        }
        if let Some(t) = &self.target
            && t.multiclass
            && t.positive.is_some()
        {
            return Err(Error::InvalidSpec(format!(
                "target `{}`: a multiclass target has no positive label",
                t.column
            )));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> FeatureSpec {
        FeatureSpec::new()
            .numeric(
                NumericFeature::new("tenure")
                    .impute(Impute::Constant(0.0))
                    .clip(Some(0.0), None),
            )
            .numeric(NumericFeature::new("charges").scale(Scale::MinMax))
            .categorical(
                CategoricalFeature::new("contract")
                    .top_k(2)
                    .min_frequency(3),
            )
            .derived(DerivedFeature::ratio("per_month", "charges", "tenure"))
            .derived(DerivedFeature::log1p("log_charges", "charges").with_scale(Scale::Standard))
            .derived(DerivedFeature::interaction("x", "charges", "tenure"))
            .derived(DerivedFeature::bucketize(
                "tenure_bin",
                "tenure",
                vec![12.0, 24.0],
            ))
            .target(Target::classification("churn", "Yes"))
            .exclude("id")
    }

    #[test]
    fn toml_and_json_round_trip() {
        let spec = sample();
        spec.validate().unwrap();
        let toml = spec.to_toml_string().unwrap();
        assert_eq!(FeatureSpec::from_toml_str(&toml).unwrap(), spec);
        let json = spec.to_json_string().unwrap();
        assert_eq!(FeatureSpec::from_json_str(&json).unwrap(), spec);
    }

    #[test]
    fn from_path_picks_format_by_extension() {
        let dir = tempfile::tempdir().unwrap();
        let spec = sample();
        let t = dir.path().join("spec.toml");
        std::fs::write(&t, spec.to_toml_string().unwrap()).unwrap();
        assert_eq!(FeatureSpec::from_path(&t).unwrap(), spec);
        let j = dir.path().join("spec.JSON");
        std::fs::write(&j, spec.to_json_string().unwrap()).unwrap();
        assert_eq!(FeatureSpec::from_path(&j).unwrap(), spec);
        let y = dir.path().join("spec.yaml");
        std::fs::write(&y, "x").unwrap();
        let err = FeatureSpec::from_path(&y).unwrap_err().to_string();
        assert!(err.contains(".toml or .json"), "{err}");
        // A parse error names the file.
        std::fs::write(&t, "[[numeric]]\ncolumn = 3\n").unwrap();
        let err = FeatureSpec::from_path(&t).unwrap_err().to_string();
        assert!(err.contains("spec.toml"), "{err}");
    }

    #[test]
    fn unknown_keys_are_rejected() {
        let err = FeatureSpec::from_toml_str("[[numeric]]\ncolumn = \"a\"\nscael = \"none\"\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("scael"), "{err}");
    }

    #[test]
    fn derived_fields_must_fit_their_kind() {
        let derived = |fields: &str| {
            FeatureSpec::from_toml_str(&format!("[[derived]]\nname = \"d\"\n{fields}"))
                .map_err(|e| e.to_string())
        };
        let spec = derived("kind = \"bucketize\"\ncolumn = \"a\"\nedges = [1.0, 2.0]\n").unwrap();
        assert_eq!(spec.derived.len(), 1);
        for (fields, message) in [
            (
                "kind = \"bucketize\"\ncolumn = \"a\"\nedges = [1.0]\nscale = \"standard\"\n",
                "`scale` does not apply to kind `bucketize`",
            ),
            (
                "kind = \"ratio\"\nnumerator = \"a\"\ndenominator = \"b\"\nedges = [1.0]\n",
                "`edges` does not apply to kind `ratio`",
            ),
            (
                "kind = \"log1p\"\ncolumn = \"a\"\nleft = \"b\"\n",
                "`left` does not apply to kind `log1p`",
            ),
            (
                "kind = \"interaction\"\nleft = \"a\"\n",
                "derived feature `d` needs `right`",
            ),
        ] {
            let err = derived(fields).unwrap_err();
            assert!(err.contains(message), "{fields}: {err}");
        }
    }

    #[test]
    fn validation_names_the_offending_feature() {
        let cases: Vec<(FeatureSpec, &str)> = vec![
            (FeatureSpec::new(), "no features"),
            (
                FeatureSpec::new()
                    .numeric(NumericFeature::new("a"))
                    .numeric(NumericFeature::new("a")),
                "`a`: defined twice",
            ),
            (
                FeatureSpec::new()
                    .numeric(NumericFeature::new("a"))
                    .categorical(CategoricalFeature::new("a")),
                "`a`: defined twice",
            ),
            (
                FeatureSpec::new().numeric(NumericFeature::new("a").clip(Some(2.0), Some(1.0))),
                "`a`: clip min",
            ),
            (
                FeatureSpec::new()
                    .numeric(NumericFeature::new("a").impute(Impute::Constant(f64::NAN))),
                "`a`: constant fill",
            ),
            (
                FeatureSpec::new().categorical(CategoricalFeature::new("c").top_k(0)),
                "`c`: top_k",
            ),
            (
                FeatureSpec::new().categorical(CategoricalFeature::new("c").min_frequency(0)),
                "`c`: min_frequency",
            ),
            (
                FeatureSpec::new().derived(DerivedFeature::bucketize("b", "a", vec![2.0, 1.0])),
                "`b`: edges must be strictly increasing",
            ),
            (
                FeatureSpec::new().derived(DerivedFeature::bucketize("b", "a", vec![])),
                "`b`: bucketize needs",
            ),
            (
                FeatureSpec::new()
                    .numeric(NumericFeature::new("y"))
                    .target(Target::regression("y")),
                "`y`: uses the target column",
            ),
            (
                FeatureSpec::new()
                    .derived(DerivedFeature::ratio("r", "a", "id"))
                    .exclude("id"),
                "`r`: uses the excluded column `id`",
            ),
        ];
        for (spec, want) in cases {
            let err = spec.validate().unwrap_err();
            assert!(matches!(err, Error::InvalidSpec(_)), "{err:?}");
            assert!(err.to_string().contains(want), "{err} lacks {want}");
        }
    }
}
