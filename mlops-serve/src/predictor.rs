//! [`Predictor`]: one loaded model scoring records and frames through its
//! fitted features, with every prediction fed to its [`Monitor`].

use std::cell::RefCell;
use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use mlops_core::data::{Column, ColumnType, Field, Frame, Value};
use mlops_core::drift::Profile;
use mlops_core::features::FittedFeatures;
use mlops_core::model::{InferenceModel, ModelPackage, Task};
use mlops_core::registry::Registry;
use mlops_core::tracking::Tracker;

use crate::error::{Error, Result, TypeMismatch};
use crate::monitor::{Monitor, MonitorOptions, PredictionLog};
use crate::unknown::{UnknownCategories, unknown_error};

mod frame_drift;

/// Records of up to this many columns are put in signature order on the
/// stack; wider ones allocate one buffer.
const STACK_COLUMNS: usize = 64;

/// Which model produced a result: the registered name and version.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ModelId {
    /// Registered model name (or the package's free name).
    pub name: Arc<str>,
    /// Registry version; `None` for a package loaded from a file or bytes
    /// before it was registered.
    pub version: Option<u32>,
}

impl ModelId {
    /// A model id.
    pub fn new(name: impl Into<Arc<str>>, version: Option<u32>) -> Self {
        Self {
            name: name.into(),
            version,
        }
    }
}

impl fmt::Display for ModelId {
    /// `NAME/VERSION`, or `NAME` for an unregistered package.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.version {
            Some(v) => write!(f, "{}/{v}", self.name),
            None => f.write_str(&self.name),
        }
    }
}

/// Ties a prediction to the logs, spans, the prediction log and a later
/// outcome. Supplied by the caller (its request id) or generated.
///
/// ```
/// use mlops_serve::CorrelationId;
/// let given = CorrelationId::from("req-42");
/// assert_eq!(given.to_string(), "req-42");
/// let a = CorrelationId::generate();
/// let b = CorrelationId::generate();
/// assert_ne!(a, b);
/// assert_eq!(a.to_string().len(), 16);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CorrelationId(Repr);

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Repr {
    /// Generated ids stay a number until displayed: no allocation per
    /// request.
    Generated(u64),
    Given(Arc<str>),
}

static NEXT_ID: AtomicU64 = AtomicU64::new(0);

impl CorrelationId {
    /// A new id, unique within the process and unlikely to repeat across
    /// processes: a per-process random key mixed with a counter.
    pub fn generate() -> Self {
        use std::hash::BuildHasher;
        use std::sync::OnceLock;
        static KEY: OnceLock<std::collections::hash_map::RandomState> = OnceLock::new();
        let n = NEXT_ID.fetch_add(1, Ordering::Relaxed);
        let key = KEY.get_or_init(std::collections::hash_map::RandomState::new);
        // SipHash of a counter under a random key: distinct counters give
        // distinct ids with overwhelming probability, and ids do not reveal
        // the request count.
        CorrelationId(Repr::Generated(key.hash_one(n)))
    }

    /// The id as the caller gave it, or the generated one in 16 hex digits.
    pub fn as_string(&self) -> String {
        self.to_string()
    }
}

impl fmt::Display for CorrelationId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Repr::Generated(n) => write!(f, "{n:016x}"),
            Repr::Given(s) => f.write_str(s),
        }
    }
}

impl From<&str> for CorrelationId {
    fn from(s: &str) -> Self {
        CorrelationId(Repr::Given(s.into()))
    }
}

impl From<String> for CorrelationId {
    fn from(s: String) -> Self {
        CorrelationId(Repr::Given(s.into()))
    }
}

/// One record by column name. Columns the model does not use are ignored;
/// a signature column that is absent is [`Error::MissingColumn`] (send
/// [`Value::Missing`] for a missing value the pipeline should impute).
///
/// ```
/// use mlops_core::data::Value;
/// use mlops_serve::Record;
/// let r = Record::new().number("tenure", 12.0).text("Contract", "One year").missing("TotalCharges");
/// assert_eq!(r.get("tenure"), Some(Value::Number(12.0)));
/// assert_eq!(r.len(), 3);
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Record<'a> {
    fields: Vec<(&'a str, Value<'a>)>,
}

impl<'a> Record<'a> {
    /// An empty record.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty record with room for `n` columns.
    pub fn with_capacity(n: usize) -> Self {
        Self {
            fields: Vec::with_capacity(n),
        }
    }

    /// Sets `name` to `value` (replacing an earlier value).
    pub fn insert(&mut self, name: &'a str, value: Value<'a>) {
        match self.fields.iter_mut().find(|(n, _)| *n == name) {
            Some(slot) => slot.1 = value,
            None => self.fields.push((name, value)),
        }
    }

    /// Builder form of [`insert`](Self::insert).
    pub fn set(mut self, name: &'a str, value: Value<'a>) -> Self {
        self.insert(name, value);
        self
    }

    /// Sets a number.
    pub fn number(self, name: &'a str, value: f64) -> Self {
        self.set(name, Value::Number(value))
    }

    /// Sets a category.
    pub fn text(self, name: &'a str, value: &'a str) -> Self {
        self.set(name, Value::Text(value))
    }

    /// Marks a value as missing.
    pub fn missing(self, name: &'a str) -> Self {
        self.set(name, Value::Missing)
    }

    /// The value of `name`.
    pub fn get(&self, name: &str) -> Option<Value<'a>> {
        self.fields.iter().find(|(n, _)| *n == name).map(|f| f.1)
    }

    /// Number of columns.
    pub fn len(&self) -> usize {
        self.fields.len()
    }

    /// True when the record has no column.
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    /// The columns in insertion order.
    pub fn iter(&self) -> impl Iterator<Item = (&'a str, Value<'a>)> + '_ {
        self.fields.iter().copied()
    }

    /// A record of one Frame row (every column of the frame).
    pub fn from_frame_row(frame: &'a Frame, row: usize) -> Self {
        let mut r = Record::with_capacity(frame.n_cols());
        for (i, name) in frame.names().iter().enumerate() {
            r.fields.push((name.as_str(), frame.value(row, i)));
        }
        r
    }
}

impl<'a> FromIterator<(&'a str, Value<'a>)> for Record<'a> {
    fn from_iter<I: IntoIterator<Item = (&'a str, Value<'a>)>>(iter: I) -> Self {
        let mut r = Record::new();
        for (n, v) in iter {
            r.insert(n, v);
        }
        r
    }
}

/// The answer for one record.
#[derive(Debug, Clone, PartialEq)]
pub struct Score {
    /// Positive-class probability (binary classification), predicted value
    /// (regression), or the probability of the predicted class
    /// (multiclass).
    pub value: f64,
    /// `value >= threshold` for binary classification; `None` for
    /// regression and multiclass.
    pub label: Option<bool>,
    /// The predicted class of a multiclass model (the most probable one,
    /// the first in class order on ties); `None` otherwise.
    pub class: Option<Arc<str>>,
    /// One probability per class of a multiclass model, in the order of
    /// [`Predictor::classes`]; empty otherwise.
    pub probabilities: Vec<f64>,
    /// The model that produced it.
    pub model: ModelId,
    /// The request's correlation id (given or generated).
    pub correlation_id: CorrelationId,
    /// Categorical values never seen in training (sent to the unknown
    /// bucket); always 0 under [`UnknownCategories::Ignore`].
    pub unknown_categories: u32,
}

/// The answers for every row of a frame, in row order.
#[derive(Debug, Clone, PartialEq)]
pub struct FrameScores {
    /// One value per row (for a multiclass model, the probability of the
    /// predicted class).
    pub values: Vec<f64>,
    /// One label per row for binary classification; `None` otherwise.
    pub labels: Option<Vec<bool>>,
    /// The predicted class index (into [`Predictor::classes`]) of each row
    /// for a multiclass model; `None` otherwise.
    pub classes: Option<Vec<usize>>,
    /// Class probabilities of a multiclass model, row-major: row `i` is
    /// `probabilities[i * k..(i + 1) * k]`; empty otherwise.
    pub probabilities: Vec<f64>,
    /// The model that produced them.
    pub model: ModelId,
    /// Categorical cells never seen in training; always 0 under
    /// [`UnknownCategories::Ignore`].
    pub unknown_categories: usize,
}

pub(crate) struct Inner {
    pub(crate) id: ModelId,
    pub(crate) features: FittedFeatures,
    pub(crate) model: InferenceModel,
    signature: Vec<Field>,
    index: HashMap<String, usize>,
    threshold: f64,
    task: Task,
    /// The classes of a multiclass model, in output order; empty otherwise.
    classes: Arc<[Arc<str>]>,
    pub(crate) monitor: Monitor,
    /// The reference (training) profile, for per-frame drift reports.
    profile: Option<Profile>,
}

/// A loaded model: scores one record or a frame through its fitted features,
/// feeding every prediction to its [`Monitor`]. `Send + Sync`; cloning is
/// cheap (shared state), so one predictor serves every thread.
///
/// Build one from a package (`from_package`, `from_file`, `from_bytes`,
/// `from_registry`) or from parts with [`Predictor::builder`].
///
/// ```
/// use mlops_core::data::{CategoricalColumn, Column, Frame, NumericColumn, Value};
/// use mlops_core::features::{CategoricalFeature, FeatureSpec, NumericFeature, Target};
/// use mlops_core::model::{InferenceModel, LinearModel, Link};
/// use mlops_serve::{Predictor, Record};
///
/// let frame = Frame::new(vec![
///     ("tenure".into(), Column::Numeric(NumericColumn::from_options([Some(1.0), Some(30.0), Some(5.0)]))),
///     ("plan".into(), Column::Categorical(CategoricalColumn::from_options([Some("basic"), Some("pro"), Some("basic")]))),
///     ("churn".into(), Column::Categorical(CategoricalColumn::from_options([Some("yes"), Some("no"), Some("no")]))),
/// ])?;
/// let features = FeatureSpec::new()
///     .numeric(NumericFeature::new("tenure"))
///     .categorical(CategoricalFeature::new("plan"))
///     .target(Target::classification("churn", "yes"))
///     .fit(&frame)?;
/// let model = InferenceModel::Linear(LinearModel::new(vec![-1.0, 0.5, -0.5, 0.0], 0.0, Link::Logistic)?);
/// let predictor = Predictor::builder("churn", features, model).version(3).build()?;
///
/// let score = predictor.predict(&Record::new().number("tenure", 2.0).text("plan", "gold"))?;
/// assert_eq!(score.model.to_string(), "churn/3");
/// assert_eq!(score.unknown_categories, 1); // "gold" went to the unknown bucket
/// assert!(score.value > 0.0 && score.value < 1.0);
/// assert_eq!(predictor.monitor().snapshot().predictions, 1);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct Predictor {
    pub(crate) inner: Arc<Inner>,
    log: Option<Arc<PredictionLog>>,
    unknown: UnknownCategories,
}

impl fmt::Debug for Predictor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Predictor")
            .field("model", &self.inner.id.to_string())
            .field("inputs", &self.inner.signature.len())
            .field("outputs", &self.inner.features.n_outputs())
            .field("threshold", &self.inner.threshold)
            .field("unknown_categories", &self.unknown)
            .finish_non_exhaustive()
    }
}

/// Builds a [`Predictor`] from its parts (fitted features, model, name).
/// Loading a model package fills the same parts from the package.
#[derive(Debug, Clone)]
pub struct PredictorBuilder {
    name: String,
    version: Option<u32>,
    features: FittedFeatures,
    model: InferenceModel,
    profile: Option<Profile>,
    score_profile: Option<Profile>,
    threshold: f64,
    task: Task,
    options: MonitorOptions,
    unknown: UnknownCategories,
}

impl PredictorBuilder {
    /// The registry version (none by default).
    pub fn version(mut self, version: u32) -> Self {
        self.version = Some(version);
        self
    }

    /// Sets or clears the registry version.
    pub fn version_opt(mut self, version: Option<u32>) -> Self {
        self.version = version;
        self
    }

    /// The training profile of the raw input columns: enables input drift
    /// monitoring.
    pub fn profile(mut self, profile: Profile) -> Self {
        self.profile = Some(profile);
        self
    }

    /// The training score distribution: enables score drift monitoring.
    pub fn score_profile(mut self, profile: Profile) -> Self {
        self.score_profile = Some(profile);
        self
    }

    /// Decision threshold for the label (0.5 by default), in `[0, 1]`.
    pub fn threshold(mut self, threshold: f64) -> Self {
        self.threshold = threshold;
        self
    }

    /// What the model predicts (binary classification by default).
    pub fn task(mut self, task: Task) -> Self {
        self.task = task;
        self
    }

    /// Monitoring settings.
    pub fn monitor_options(mut self, options: MonitorOptions) -> Self {
        self.options = options;
        self
    }

    /// What scoring does with a category never seen in training
    /// ([`UnknownCategories::Report`] by default); see
    /// [`Predictor::with_unknown_categories`].
    pub fn unknown_categories(mut self, policy: UnknownCategories) -> Self {
        self.unknown = policy;
        self
    }

    /// Checks the parts fit together and builds the predictor.
    ///
    /// Errors: the model's feature count differs from the features' outputs,
    /// its output count differs from the task's classes (1 for binary and
    /// regression), the threshold is outside `[0, 1]` (classification), or
    /// a monitoring setting is invalid ([`Error::InvalidConfig`]).
    pub fn build(self) -> Result<Predictor> {
        let classes: Arc<[Arc<str>]> = match &self.task {
            Task::Multiclass { classes } => classes.iter().map(|c| Arc::from(c.as_str())).collect(),
            _ => Arc::from([]),
        };
        let expected_outputs = classes.len().max(1);
        if self.model.n_outputs() != expected_outputs || classes.len() == 1 {
            return Err(Error::InvalidConfig {
                name: "model",
                reason: format!(
                    "the model has {} outputs but the task needs {expected_outputs}",
                    self.model.n_outputs()
                ),
            });
        }
        if self.model.n_features() != self.features.n_outputs() {
            return Err(Error::InvalidConfig {
                name: "model",
                reason: format!(
                    "the model takes {} features but the fitted features produce {}",
                    self.model.n_features(),
                    self.features.n_outputs()
                ),
            });
        }
        if matches!(self.task, Task::BinaryClassification { .. })
            && !(0.0..=1.0).contains(&self.threshold)
        {
            return Err(Error::InvalidConfig {
                name: "threshold",
                reason: format!("{} is outside [0, 1]", self.threshold),
            });
        }
        let id = ModelId::new(self.name, self.version);
        let signature = self.features.input_columns().to_vec();
        let index = signature
            .iter()
            .enumerate()
            .map(|(i, f)| (f.name.clone(), i))
            .collect();
        let monitor = Monitor::new(
            id.clone(),
            &signature,
            self.profile.as_ref(),
            self.score_profile.as_ref(),
            matches!(self.task, Task::BinaryClassification { .. }),
            self.threshold,
            &self.options,
        )?;
        Ok(Predictor {
            inner: Arc::new(Inner {
                id,
                features: self.features,
                model: self.model,
                signature,
                index,
                threshold: self.threshold,
                task: self.task,
                classes,
                monitor,
                profile: self.profile,
            }),
            log: None,
            unknown: self.unknown,
        })
    }
}

thread_local! {
    /// Feature buffer reused by every predictor on this thread.
    static FEATURES: RefCell<Vec<f64>> = const { RefCell::new(Vec::new()) };
}

impl Predictor {
    /// Starts a predictor from fitted features and a model (see
    /// [`PredictorBuilder`]).
    pub fn builder(
        name: impl Into<String>,
        features: FittedFeatures,
        model: InferenceModel,
    ) -> PredictorBuilder {
        PredictorBuilder {
            name: name.into(),
            version: None,
            features,
            model,
            profile: None,
            score_profile: None,
            threshold: 0.5,
            task: Task::BinaryClassification {
                positive_label: "1".into(),
            },
            options: MonitorOptions::default(),
            unknown: UnknownCategories::default(),
        }
    }

    /// A builder filled from a model package (name, version, features,
    /// model, profiles, threshold, task), to adjust before
    /// [`build`](PredictorBuilder::build) (monitoring options, version).
    pub fn package_builder(package: &ModelPackage) -> PredictorBuilder {
        let meta = package.meta();
        let mut b = Predictor::builder(
            meta.name.clone(),
            package.features().clone(),
            package.model().clone(),
        )
        .version_opt(meta.version)
        .threshold(package.threshold())
        .task(meta.task.clone());
        if let Some(p) = package.profile() {
            b = b.profile(p.clone());
        }
        if let Some(p) = package.score_profile() {
            b = b.score_profile(p.clone());
        }
        b
    }

    /// A predictor for a model package, with default monitoring. The model
    /// id is the package's name and (usually absent) version.
    pub fn from_package(package: &ModelPackage) -> Result<Predictor> {
        Self::package_builder(package).build()
    }

    /// Decodes a package (validated: corrupt bytes are an error, never a
    /// panic) and loads it.
    pub fn from_bytes(bytes: &[u8]) -> Result<Predictor> {
        Self::from_package(&ModelPackage::from_bytes(bytes)?)
    }

    /// Reads a package file and loads it.
    pub fn from_file(path: impl AsRef<std::path::Path>) -> Result<Predictor> {
        Self::from_package(&ModelPackage::load(path.as_ref())?)
    }

    /// Loads a registered version by reference (`NAME@ALIAS` or
    /// `NAME/VERSION`). The model id is the registry's name and version
    /// (the alias is resolved once, here: to follow it, use a
    /// [`ModelHandle`](crate::ModelHandle)).
    pub fn from_registry(
        registry: &Registry,
        tracker: &Tracker,
        reference: &str,
    ) -> Result<Predictor> {
        let version = registry.resolve(reference)?;
        Self::from_registry_version(
            registry,
            tracker,
            &version.model,
            version.version,
            &MonitorOptions::default(),
        )
    }

    /// Loads version `version` of `model` from the registry with the given
    /// monitoring options.
    pub fn from_registry_version(
        registry: &Registry,
        tracker: &Tracker,
        model: &str,
        version: u32,
        options: &MonitorOptions,
    ) -> Result<Predictor> {
        let package =
            mlops_core::model::load_registered(registry, tracker, &format!("{model}/{version}"))?;
        let mut b = Self::package_builder(&package)
            .version(version)
            .monitor_options(options.clone());
        b.name = model.to_owned();
        b.build()
    }

    /// Writes a sample of this predictor's predictions to `log` (see
    /// [`PredictionLog`]); clones made afterwards share it.
    pub fn with_prediction_log(mut self, log: Arc<PredictionLog>) -> Self {
        self.log = Some(log);
        self
    }

    /// Sets what scoring does with a categorical value never seen in
    /// training; clones made afterwards share it. `Report` (the default)
    /// scores it in the unknown bucket and counts it, `Error` refuses the
    /// record (or the whole frame) with [`Error::UnknownCategory`] naming
    /// the column, the value and up to ten known values, `Ignore` scores it
    /// without counting.
    ///
    /// ```
    /// # use mlops_core::data::{CategoricalColumn, Column, Frame, NumericColumn};
    /// # use mlops_core::features::{CategoricalFeature, FeatureSpec, NumericFeature, Target};
    /// # use mlops_core::model::{InferenceModel, LinearModel, Link};
    /// use mlops_serve::{Error, Predictor, Record, UnknownCategories};
    /// # let frame = Frame::new(vec![
    /// #     ("tenure".into(), Column::Numeric(NumericColumn::from_options([Some(1.0), Some(30.0)]))),
    /// #     ("plan".into(), Column::Categorical(CategoricalColumn::from_options([Some("basic"), Some("pro")]))),
    /// #     ("churn".into(), Column::Categorical(CategoricalColumn::from_options([Some("yes"), Some("no")]))),
    /// # ])?;
    /// # let features = FeatureSpec::new()
    /// #     .numeric(NumericFeature::new("tenure"))
    /// #     .categorical(CategoricalFeature::new("plan"))
    /// #     .target(Target::classification("churn", "yes"))
    /// #     .fit(&frame)?;
    /// # let model = InferenceModel::Linear(LinearModel::new(vec![-1.0, 0.5, -0.5, 0.0], 0.0, Link::Logistic)?);
    /// let strict = Predictor::builder("churn", features, model)
    ///     .build()?
    ///     .with_unknown_categories("error".parse()?);
    /// let record = Record::new().number("tenure", 2.0).text("plan", "Basic");
    /// match strict.predict(&record) {
    ///     Err(Error::UnknownCategory { column, value, known, .. }) => {
    ///         assert_eq!((column.as_str(), value.as_str()), ("plan", "Basic"));
    ///         assert_eq!(known, ["basic", "pro"]);
    ///     }
    ///     other => panic!("{other:?}"),
    /// }
    /// let lenient = strict.with_unknown_categories(UnknownCategories::Ignore);
    /// assert_eq!(lenient.predict(&record)?.unknown_categories, 0);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn with_unknown_categories(mut self, policy: UnknownCategories) -> Self {
        self.unknown = policy;
        self
    }

    /// The unknown-category policy in use.
    pub fn unknown_categories(&self) -> UnknownCategories {
        self.unknown
    }

    /// The prediction log, if one is attached.
    pub fn prediction_log(&self) -> Option<&Arc<PredictionLog>> {
        self.log.as_ref()
    }

    /// The model's name and version.
    pub fn id(&self) -> &ModelId {
        &self.inner.id
    }

    /// The raw input columns (name and type), in the order
    /// [`predict_row`](Self::predict_row) expects.
    pub fn signature(&self) -> &[Field] {
        &self.inner.signature
    }

    /// Decision threshold of the label.
    pub fn threshold(&self) -> f64 {
        self.inner.threshold
    }

    /// What the model predicts.
    pub fn task(&self) -> &Task {
        &self.inner.task
    }

    /// The class labels of a multiclass model, in the order of
    /// [`Score::probabilities`]; empty otherwise.
    pub fn classes(&self) -> &[Arc<str>] {
        &self.inner.classes
    }

    /// The fitted features.
    pub fn features(&self) -> &FittedFeatures {
        &self.inner.features
    }

    /// The model.
    pub fn model(&self) -> &InferenceModel {
        &self.inner.model
    }

    /// The built-in monitor (counters, latency, score distribution, drift).
    pub fn monitor(&self) -> &Monitor {
        &self.inner.monitor
    }

    /// Scores one record given by column name, with a generated correlation
    /// id.
    pub fn predict(&self, record: &Record<'_>) -> Result<Score> {
        self.predict_with(record, CorrelationId::generate())
    }

    /// Scores one record given by column name, under the caller's
    /// correlation id.
    pub fn predict_with(&self, record: &Record<'_>, id: CorrelationId) -> Result<Score> {
        let start = Instant::now();
        let n = self.inner.signature.len();
        if n <= STACK_COLUMNS {
            let mut row = [Value::Missing; STACK_COLUMNS];
            let mut filled = [false; STACK_COLUMNS];
            self.order(record, &mut row[..n], &mut filled[..n], start)?;
            self.score_ordered(&row[..n], id, start)
        } else {
            let mut row = vec![Value::Missing; n];
            let mut filled = vec![false; n];
            self.order(record, &mut row, &mut filled, start)?;
            self.score_ordered(&row, id, start)
        }
    }

    /// Scores one record given as one value per
    /// [`signature`](Self::signature) column, in that order, with a
    /// generated correlation id. Allocation-free on success (the feature
    /// buffer is reused per thread).
    pub fn predict_row(&self, row: &[Value<'_>]) -> Result<Score> {
        self.predict_row_with(row, CorrelationId::generate())
    }

    /// [`predict_row`](Self::predict_row) under the caller's correlation id.
    pub fn predict_row_with(&self, row: &[Value<'_>], id: CorrelationId) -> Result<Score> {
        let start = Instant::now();
        let n = self.inner.signature.len();
        if row.len() != n {
            let e = Error::Arity {
                model: self.inner.id.to_string(),
                expected: n,
                found: row.len(),
            };
            return Err(self.fail(e, start));
        }
        self.score_ordered(row, id, start)
    }

    /// Puts a named record in signature order.
    fn order<'a>(
        &self,
        record: &Record<'a>,
        row: &mut [Value<'a>],
        filled: &mut [bool],
        start: Instant,
    ) -> Result<()> {
        let sig = &self.inner.signature;
        for (pos, &(name, value)) in record.fields.iter().enumerate() {
            // Callers usually send columns in signature order: try the same
            // position before hashing.
            let i = match sig.get(pos) {
                Some(f) if f.name == name => Some(pos),
                _ => self.inner.index.get(name).copied(),
            };
            if let Some(i) = i {
                row[i] = value;
                filled[i] = true;
            }
        }
        if let Some(i) = filled.iter().position(|f| !f) {
            let e = Error::MissingColumn {
                model: self.inner.id.to_string(),
                column: sig[i].name.clone(),
                others: (i + 1..sig.len())
                    .filter(|&j| !filled[j])
                    .map(|j| sig[j].name.clone())
                    .collect(),
                wrong_type: self.mismatches(row, filled),
            };
            return Err(self.fail(e, start));
        }
        Ok(())
    }

    /// Every present value of `row` of the wrong type for its column.
    #[cold]
    fn mismatches(&self, row: &[Value<'_>], present: &[bool]) -> Vec<TypeMismatch> {
        row.iter()
            .zip(present)
            .zip(&self.inner.signature)
            .filter(|((_, present), _)| **present)
            .filter_map(|((v, _), f)| {
                let found = match (f.column_type, v) {
                    (ColumnType::Numeric, Value::Text(_)) => "text",
                    (ColumnType::Categorical, Value::Number(_)) => "number",
                    _ => return None,
                };
                Some(TypeMismatch {
                    column: f.name.clone(),
                    expected: f.column_type.name(),
                    found,
                })
            })
            .collect()
    }

    /// Type checks, transforms, predicts and monitors one ordered record.
    fn score_ordered(&self, row: &[Value<'_>], id: CorrelationId, start: Instant) -> Result<Score> {
        let inner = &*self.inner;
        let span = tracing::info_span!(
            "mlops.predict",
            model = %inner.id.name,
            version = inner.id.version,
            correlation_id = %id,
            score = tracing::field::Empty,
        );
        let _entered = span.enter();
        if let Err(e) = self.check(row) {
            return Err(self.fail(e, start));
        }
        let scored = FEATURES.with(|buf| match buf.try_borrow_mut() {
            Ok(mut buf) => self.transform_predict(row, &mut buf),
            // Only reachable if scoring re-entered itself on this thread.
            Err(_) => self.transform_predict(row, &mut Vec::new()),
        });
        let (value, unknown, probabilities) = match scored {
            Ok(s) => s,
            Err(e) => return Err(self.fail(e, start)),
        };
        if unknown > 0 && self.unknown == UnknownCategories::Error {
            let (input, seen) = inner.features.first_unseen(row).unwrap_or((0, ""));
            let e = unknown_error(&inner.features, inner.id.to_string(), input, seen, None);
            return Err(self.fail(e, start));
        }
        let unknown = self.unknown.counted(unknown);
        span.record("score", value);
        inner
            .monitor
            .record_row(row, value, unknown as u64, start.elapsed());
        let class =
            crate::batch::argmax(&probabilities).and_then(|i| inner.classes.get(i).cloned());
        let score = Score {
            value,
            label: self.label(value),
            class,
            probabilities,
            model: inner.id.clone(),
            correlation_id: id,
            unknown_categories: u32::try_from(unknown).unwrap_or(u32::MAX),
        };
        if let Some(log) = &self.log {
            log.offer(
                &score,
                score.label.map(|_| inner.threshold),
                &inner.signature,
                row,
            );
        }
        Ok(score)
    }

    /// The value, unseen-category count and (multiclass) class
    /// probabilities of one ordered record.
    fn transform_predict(
        &self,
        row: &[Value<'_>],
        buf: &mut Vec<f64>,
    ) -> Result<(f64, usize, Vec<f64>)> {
        let inner = &*self.inner;
        buf.resize(inner.features.n_outputs(), 0.0);
        let unknown = inner.features.transform_row(row, buf)?;
        if inner.classes.is_empty() {
            return Ok((inner.model.predict_proba_row(buf)?, unknown, Vec::new()));
        }
        let mut probabilities = vec![0.0; inner.classes.len()];
        inner.model.predict_proba_into(buf, &mut probabilities)?;
        Ok((confidence(&probabilities), unknown, probabilities))
    }

    fn label(&self, value: f64) -> Option<bool> {
        match self.inner.task {
            Task::BinaryClassification { .. } => Some(value >= self.inner.threshold),
            Task::Regression | Task::Multiclass { .. } => None,
        }
    }

    /// Typed input errors before the transform (which would only say "bad
    /// value"): every column of the wrong type in one error, else the first
    /// non-finite number.
    fn check(&self, row: &[Value<'_>]) -> Result<()> {
        let mut non_finite = None;
        for (v, f) in row.iter().zip(&self.inner.signature) {
            match (f.column_type, v) {
                (ColumnType::Numeric, Value::Number(x)) if !x.is_finite() => {
                    non_finite = non_finite.or(Some((f, *x)));
                }
                (ColumnType::Numeric, Value::Text(_))
                | (ColumnType::Categorical, Value::Number(_)) => {
                    let all = vec![true; row.len()];
                    return Err(self.wrong_type(self.mismatches(row, &all)));
                }
                _ => {}
            }
        }
        match non_finite {
            Some((f, value)) => Err(Error::NonFinite {
                model: self.inner.id.to_string(),
                column: f.name.clone(),
                row: None,
                value,
            }),
            None => Ok(()),
        }
    }

    /// [`Error::WrongType`] of a non-empty list of mismatches.
    #[cold]
    fn wrong_type(&self, mut all: Vec<TypeMismatch>) -> Error {
        let first = if all.is_empty() {
            TypeMismatch {
                column: String::new(),
                expected: "",
                found: "",
            }
        } else {
            all.remove(0)
        };
        Error::WrongType {
            model: self.inner.id.to_string(),
            column: first.column,
            expected: first.expected,
            found: first.found,
            others: all,
        }
    }

    #[cold]
    fn fail(&self, e: Error, start: Instant) -> Error {
        self.inner.monitor.record_error(&e, start.elapsed());
        tracing::debug!(model = %self.inner.id, error = %e, "prediction rejected");
        e
    }

    /// Scores every row of a frame (columns matched by name, other columns
    /// ignored), in row order. Rows count in the monitor's predictions and
    /// drift; the latency histogram holds single-record calls only.
    ///
    /// Errors: signature columns absent ([`Error::MissingColumn`], naming
    /// every absent column and every column of the wrong type) or of the
    /// wrong type ([`Error::WrongType`], naming them all), an infinite value
    /// ([`Error::NonFinite`] with its row), or under
    /// [`UnknownCategories::Error`] a category never seen in training
    /// ([`Error::UnknownCategory`] with its row: the frame fails whole).
    pub fn predict_frame(&self, frame: &Frame) -> Result<FrameScores> {
        let start = Instant::now();
        let inner = &*self.inner;
        let _span = tracing::info_span!(
            "mlops.predict_frame",
            model = %inner.id.name,
            version = inner.id.version,
            rows = frame.n_rows()
        )
        .entered();
        if let Err(e) = self.check_frame(frame) {
            return Err(self.fail(e, start));
        }
        let mut x = ndarray::Array2::zeros((frame.n_rows(), inner.features.n_outputs()));
        let unknown = inner
            .features
            .transform_into(frame, x.view_mut())
            .map_err(|e| self.fail(e.into(), start))?;
        if unknown > 0 && self.unknown == UnknownCategories::Error {
            let first = inner
                .features
                .first_unseen_in_frame(frame)
                .map_err(|e| self.fail(e.into(), start))?;
            let (input, row, value) = first.unwrap_or((0, 0, ""));
            let e = unknown_error(
                &inner.features,
                inner.id.to_string(),
                input,
                value,
                Some(row),
            );
            return Err(self.fail(e, start));
        }
        let unknown = self.unknown.counted(unknown);
        let (values, classes, probabilities) = if inner.classes.is_empty() {
            let values = inner
                .model
                .predict(&x)
                .map_err(|e| self.fail(e.into(), start))?
                .to_vec();
            (values, None, Vec::new())
        } else {
            let p = inner
                .model
                .predict_proba_matrix(&x)
                .map_err(|e| self.fail(e.into(), start))?;
            let probabilities = p.into_raw_vec_and_offset().0;
            let k = inner.classes.len();
            let rows = probabilities.chunks_exact(k);
            let values = rows.clone().map(confidence).collect();
            let classes = rows.map(|r| crate::batch::argmax(r).unwrap_or(0)).collect();
            (values, Some(classes), probabilities)
        };
        inner.monitor.record_frame(frame, &values, unknown as u64);
        let labels = match inner.task {
            Task::BinaryClassification { .. } => {
                Some(values.iter().map(|&v| v >= inner.threshold).collect())
            }
            Task::Regression | Task::Multiclass { .. } => None,
        };
        Ok(FrameScores {
            values,
            labels,
            classes,
            probabilities,
            model: inner.id.clone(),
            unknown_categories: unknown,
        })
    }

    fn check_frame(&self, frame: &Frame) -> Result<()> {
        let sig = &self.inner.signature;
        let mut missing = Vec::new();
        let mut wrong_type = Vec::new();
        for f in sig {
            match frame.column(&f.name) {
                Err(_) => missing.push(f.name.clone()),
                Ok(col) if col.column_type() != f.column_type => wrong_type.push(TypeMismatch {
                    column: f.name.clone(),
                    expected: f.column_type.name(),
                    found: col.column_type().name(),
                }),
                Ok(_) => {}
            }
        }
        if !missing.is_empty() {
            let column = missing.remove(0);
            return Err(Error::MissingColumn {
                model: self.inner.id.to_string(),
                column,
                others: missing,
                wrong_type,
            });
        }
        if !wrong_type.is_empty() {
            return Err(self.wrong_type(wrong_type));
        }
        for f in sig {
            let col = frame.column(&f.name)?;
            if let Column::Numeric(c) = col
                && let Some(row) = c.raw().iter().position(|v| v.is_infinite())
            {
                return Err(Error::NonFinite {
                    model: self.inner.id.to_string(),
                    column: f.name.clone(),
                    row: Some(row),
                    value: c.raw()[row],
                });
            }
        }
        Ok(())
    }
}

/// The probability of the predicted class: what a multiclass model's score
/// profile holds (the trainer profiles the same confidence).
fn confidence(probabilities: &[f64]) -> f64 {
    probabilities.iter().copied().fold(0.0, f64::max)
}
