//! [`Trainer`]: one call from a [`Frame`] to a tracked, packaged and
//! optionally registered model.
//!
//! The trainer splits the data (or takes an explicit test frame), fits the
//! feature pipeline on the training rows only, fits the learner, scores the
//! test rows, builds a [`ModelPackage`] and logs everything to a run: params,
//! metrics (and per-epoch or per-round history), the dataset fingerprints,
//! the seed, the feature spec, the environment, the package, its drift
//! profile and the feature importance (split counts and gains of tree
//! models, permutation importance on the test rows, `feature_importance.json`,
//! drawn by `mlops report --run`). With
//! [`register`](Trainer::register) the package becomes a new model version,
//! and with [`promote`](Trainer::promote) a promotion gate decides whether it
//! takes an alias.
//!
//! All randomness derives from the one [`Seed`] (`split`, `fit`, `profile`,
//! `permutation-importance`),
//! and the package digest excludes the run id and created time, so the same
//! seed and data give the same [`ModelPackage::digest`] whatever the rayon
//! thread count.

mod config;

pub use config::{FitOutput, LearnerConfig, TaskKind};

use std::collections::BTreeMap;

use mlops_core::data::Frame;
use mlops_core::drift::{Profile, ProfileConfig};
use mlops_core::features::{FeatureSpec, FittedFeatures};
use mlops_core::fingerprint;
use mlops_core::model::{InferenceModel, Lineage, ModelPackage, PackageMeta, Task};
use mlops_core::registry::{GateDecision, ModelVersion, NewVersion, PromotionGate, Registry};
use mlops_core::seed::Seed;
use mlops_core::tracking::{DatasetInput, Environment, Run, RunOptions, Tracker};
use ndarray::{Array1, Array2};

use crate::error::invalid;
use crate::importance;
use crate::metrics::{
    BinaryMetrics, MulticlassMetrics, RegressionMetrics, calibration_table, roc_curve,
};
use crate::split::{Split, shuffle_split, stratified_split};
use crate::{Error, Result};
use mlops_core::report::{
    CalibrationPoint, EVALUATION_ARTIFACT, Evaluation, FeatureImportance, IMPORTANCE_ARTIFACT,
};

/// Artifact name of the package in the training run.
pub const PACKAGE_ARTIFACT: &str = mlops_core::model::PACKAGE_ARTIFACT;
/// Artifact name of the feature spec (JSON) in the training run.
pub const SPEC_ARTIFACT: &str = "feature_spec.json";
/// Run artifact of a multiclass run: classes and the test confusion matrix
/// (JSON); binary runs log the ROC/calibration evaluation instead.
pub const CONFUSION_ARTIFACT: &str = "confusion_matrix.json";
/// Shuffles per input column of the permutation importance the trainer logs
/// (under [`IMPORTANCE_ARTIFACT`], with split counts and gains).
const PERMUTATION_REPEATS: usize = 5;
/// Artifact name of the training drift profile (store codec bytes).
pub const PROFILE_ARTIFACT: &str = mlops_core::report::PROFILE_ARTIFACT;

/// Where the test rows come from.
#[derive(Debug, Clone)]
enum TestSet {
    /// A seeded split of the training frame (stratified for classification).
    Fraction(f64),
    /// A separate frame.
    Frame(Box<Frame>),
}

/// Registration and gating of the trained package.
#[derive(Debug, Clone)]
struct Registration {
    model: String,
    promote: Option<(String, PromotionGate)>,
}

/// Trains, evaluates, packages and tracks one model.
///
/// ```
/// use std::sync::Arc;
/// use mlops_core::features::FeatureSpec;
/// use mlops_core::seed::Seed;
/// use mlops_core::store::MemoryStore;
/// use mlops_core::synth::ChurnSynth;
/// use mlops_core::tracking::Tracker;
/// use mlops_train::trainer::{LearnerConfig, Trainer};
///
/// let frame = ChurnSynth::new(Seed(3)).rows(400).to_frame()?;
/// let spec = FeatureSpec::infer(&frame, "Churn", Some("Yes"))?;
/// let tracker = Tracker::new(Arc::new(MemoryStore::new()));
/// let outcome = Trainer::new(spec, LearnerConfig::from_name("logreg")?)
///     .seed(Seed(42))
///     .experiment("churn")
///     .train(&tracker, &frame)?;
/// assert!(outcome.metrics["roc_auc"] > 0.5);
/// let run = tracker.get_run(&outcome.run_id)?;
/// assert_eq!(run.summary.params["learner"], "logreg");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
#[must_use]
pub struct Trainer {
    spec: FeatureSpec,
    learner: LearnerConfig,
    seed: Seed,
    test: TestSet,
    threshold: f64,
    experiment: String,
    run_name: Option<String>,
    parent_run: Option<String>,
    model_name: Option<String>,
    data_source: String,
    registration: Option<Registration>,
}

/// What [`Trainer::train`] produced.
#[derive(Debug, Clone)]
pub struct TrainOutcome {
    /// The training run.
    pub run_id: String,
    /// The package (also logged as [`PACKAGE_ARTIFACT`]).
    pub package: ModelPackage,
    /// Digest of the package bytes as stored (the registry's artifact
    /// digest); differs from [`ModelPackage::digest`], which covers the
    /// payload only.
    pub artifact_digest: String,
    /// Test metrics, as logged.
    pub metrics: BTreeMap<String, f64>,
    /// The row split of the input frame, when the test rows came from it.
    pub split: Option<Split>,
    /// The registered version, when [`Trainer::register`] was used.
    pub registered: Option<ModelVersion>,
    /// The promotion gate's decision, when [`Trainer::promote`] was used.
    pub gate: Option<GateDecision>,
}

/// The evaluated model before anything is logged.
struct Fitted {
    features: FittedFeatures,
    fit: crate::trainer::FitOutput,
    task: Task,
    metrics: BTreeMap<String, f64>,
    train_scores: Array1<f64>,
    evaluation: Option<Evaluation>,
    /// Multiclass confusion matrix (JSON), logged as an artifact.
    confusion: Option<serde_json::Value>,
    importance: FeatureImportance,
    train: Frame,
    test: Frame,
    split: Option<Split>,
}

impl Trainer {
    /// A trainer for `spec` (which must name a target) and `learner`, with
    /// seed 0, a 20 % test split, threshold 0.5 and experiment `default`.
    pub fn new(spec: FeatureSpec, learner: LearnerConfig) -> Self {
        Trainer {
            spec,
            learner,
            seed: Seed(0),
            test: TestSet::Fraction(0.2),
            threshold: 0.5,
            experiment: "default".into(),
            run_name: None,
            parent_run: None,
            model_name: None,
            data_source: "frame".into(),
            registration: None,
        }
    }

    /// The root seed of everything random (split, learner, profile).
    pub fn seed(mut self, seed: Seed) -> Self {
        self.seed = seed;
        self
    }

    /// Holds out this share of the frame's rows as the test set, in (0, 1).
    pub fn test_fraction(mut self, fraction: f64) -> Self {
        self.test = TestSet::Fraction(fraction);
        self
    }

    /// Evaluates on this frame instead of a split: every row of the frame
    /// given to [`train`](Self::train) is a training row.
    pub fn test_frame(mut self, test: Frame) -> Self {
        self.test = TestSet::Frame(Box::new(test));
        self
    }

    /// The decision threshold stored in the package and used for the
    /// thresholded metrics (classification; default 0.5).
    pub fn threshold(mut self, threshold: f64) -> Self {
        self.threshold = threshold;
        self
    }

    /// The experiment to log the run in (default `default`).
    pub fn experiment(mut self, name: impl Into<String>) -> Self {
        self.experiment = name.into();
        self
    }

    /// The run name.
    pub fn run_name(mut self, name: impl Into<String>) -> Self {
        self.run_name = Some(name.into());
        self
    }

    /// Nests the run under `run_id` (a search's parent run).
    pub fn parent_run(mut self, run_id: impl Into<String>) -> Self {
        self.parent_run = Some(run_id.into());
        self
    }

    /// The name recorded in the package (default: the registered model name,
    /// else the experiment name).
    pub fn model_name(mut self, name: impl Into<String>) -> Self {
        self.model_name = Some(name.into());
        self
    }

    /// Where the data came from (a path), recorded with the dataset inputs.
    pub fn data_source(mut self, source: impl Into<String>) -> Self {
        self.data_source = source.into();
        self
    }

    /// Registers the package as a new version of `model` (created if
    /// needed) in the registry on the tracker's store.
    pub fn register(mut self, model: impl Into<String>) -> Self {
        let promote = self.registration.and_then(|r| r.promote);
        self.registration = Some(Registration {
            model: model.into(),
            promote,
        });
        self
    }

    /// After registering, runs `gate` to decide whether the new version
    /// takes `alias`. Needs [`register`](Self::register).
    pub fn promote(mut self, alias: impl Into<String>, gate: PromotionGate) -> Self {
        let model = self.registration.map(|r| r.model).unwrap_or_default();
        self.registration = Some(Registration {
            model,
            promote: Some((alias.into(), gate)),
        });
        self
    }

    /// The learner configuration.
    pub fn learner(&self) -> &LearnerConfig {
        &self.learner
    }

    /// The root seed.
    pub fn root_seed(&self) -> Seed {
        self.seed
    }

    fn validate(&self) -> Result<Task> {
        self.learner.check()?;
        let target = self
            .spec
            .target
            .as_ref()
            .ok_or_else(|| invalid("spec", "the feature spec names no target"))?;
        let task = match &target.positive {
            // The classes are known once the features are fitted.
            _ if target.multiclass => Task::Multiclass {
                classes: Vec::new(),
            },
            Some(p) => Task::BinaryClassification {
                positive_label: p.clone(),
            },
            None => Task::Regression,
        };
        let fits = match &task {
            Task::Multiclass { .. } => self.learner.supports_multiclass(),
            _ => matches!(
                (&task, self.learner.task()),
                (
                    Task::BinaryClassification { .. },
                    TaskKind::BinaryClassification
                ) | (Task::Regression, TaskKind::Regression)
            ),
        };
        if !fits {
            return Err(invalid(
                "model",
                format!(
                    "{} does not fit a {} target `{}`",
                    self.learner.name(),
                    match task {
                        Task::Regression => "regression",
                        Task::BinaryClassification { .. } => "classification",
                        Task::Multiclass { .. } => "multiclass",
                    },
                    target.column
                ),
            ));
        }
        if !self.threshold.is_finite() || !(0.0..=1.0).contains(&self.threshold) {
            return Err(invalid(
                "threshold",
                format!("must be in [0, 1], got {}", self.threshold),
            ));
        }
        if let TestSet::Fraction(f) = self.test
            && !(f > 0.0 && f < 1.0)
        {
            return Err(invalid(
                "test_fraction",
                format!("must be in (0, 1), got {f}"),
            ));
        }
        if let Some(r) = &self.registration
            && r.model.is_empty()
        {
            return Err(invalid("register", "promote needs register(model)"));
        }
        Ok(task)
    }

    /// Replaces the learner (a search's best trial).
    pub fn with_learner(mut self, learner: LearnerConfig) -> Self {
        self.learner = learner;
        self
    }

    /// The feature spec.
    pub fn spec(&self) -> &FeatureSpec {
        &self.spec
    }

    /// The experiment name.
    pub fn experiment_name(&self) -> &str {
        &self.experiment
    }

    /// The decision threshold.
    pub(crate) fn decision_threshold(&self) -> f64 {
        self.threshold
    }

    /// Checks the configuration and returns the task the spec's target
    /// defines.
    pub(crate) fn checked_task(&self) -> Result<Task> {
        self.validate()
    }

    /// The training and test frames [`train`](Self::train) uses: a seeded
    /// split of `frame`, or `frame` and the explicit test frame.
    pub(crate) fn split_frame(
        &self,
        frame: &Frame,
        task: &Task,
    ) -> Result<(Frame, Frame, Option<Split>)> {
        Ok(match &self.test {
            TestSet::Frame(test) => (frame.clone(), (**test).clone(), None),
            TestSet::Fraction(fraction) => {
                // The target under the spec's rules, for stratification.
                let y = self.spec.fit(frame)?.target(frame)?;
                let y = y.as_slice().unwrap_or(&[]);
                let seed = self.seed.derive("split");
                let split = match task {
                    Task::BinaryClassification { .. } | Task::Multiclass { .. } => {
                        stratified_split(y, *fraction, seed)?
                    }
                    Task::Regression => shuffle_split(y.len(), *fraction, seed)?,
                };
                (
                    frame.take(&split.train)?,
                    frame.take(&split.test)?,
                    Some(split),
                )
            }
        })
    }

    /// Splits, fits and evaluates; nothing is logged.
    fn fit_and_evaluate(&self, frame: &Frame, task: Task) -> Result<Fitted> {
        let (train, test, split) = self.split_frame(frame, &task)?;
        let features = self.spec.fit(&train)?;
        let task = with_classes(task, &features);
        let (x_train, y_train) = (features.transform(&train)?, features.target(&train)?);
        let (x_test, y_test) = (features.transform(&test)?, features.target(&test)?);
        let fit = fit_task(
            &self.learner,
            &task,
            &x_train,
            &y_train,
            self.seed.derive("fit"),
        )?;
        let (metrics, evaluation, train_scores, confusion) = match &task {
            Task::Multiclass { classes } => {
                let p = fit.model.predict_proba_matrix(&x_test)?;
                let y = y_test.as_slice().unwrap_or(&[]);
                let m = MulticlassMetrics::compute(y, p.view())?;
                let metrics = finite_metrics(m.named().to_vec())?;
                // The score profile holds the probability of the predicted
                // class (the model's confidence); ROC and calibration curves
                // are binary, so the evaluation artifact is skipped and the
                // confusion matrix logged instead.
                let train_p = fit.model.predict_proba_matrix(&x_train)?;
                let confidence = train_p
                    .rows()
                    .into_iter()
                    .map(|r| r.iter().copied().fold(0.0, f64::max))
                    .collect();
                tracing::info!(
                    classes = classes.len(),
                    "multiclass target: no ROC/calibration evaluation, confusion matrix logged"
                );
                let confusion = serde_json::json!({
                    "classes": classes,
                    "confusion": m.confusion,
                    "note": "rows are true classes, columns predicted classes; ROC and calibration curves are binary-only",
                });
                (metrics, None, confidence, Some(confusion))
            }
            _ => {
                let test_scores = fit.model.predict(&x_test)?;
                let metrics = evaluate(&task, &y_test, &test_scores, self.threshold)?;
                let evaluation = match task {
                    Task::BinaryClassification { .. } => Some(evaluation(&y_test, &test_scores)?),
                    _ => None,
                };
                (metrics, evaluation, fit.model.predict(&x_train)?, None)
            }
        };
        let importance = FeatureImportance {
            features: features.output_names().to_vec(),
            split_count: importance::split_counts(&fit.model),
            split_gain: fit.split_gain.clone(),
            permutation: Some(importance::permutation_importance(
                &fit.model,
                &task,
                &x_test,
                &y_test,
                &importance::input_groups(&features),
                PERMUTATION_REPEATS,
                self.seed.derive("permutation-importance"),
            )?),
        };
        Ok(Fitted {
            confusion,
            importance,
            features,
            fit,
            task,
            metrics,
            train_scores,
            evaluation,
            train,
            test,
            split,
        })
    }

    /// [`Trainer::train`] on a CSV or Parquet file (by its extension; see
    /// [`mlops_core::data::read_table`]), recorded as the data source
    /// unless one was set.
    pub fn train_path(&self, tracker: &Tracker, path: &std::path::Path) -> Result<TrainOutcome> {
        let frame = mlops_core::data::read_table(path, None, &mlops_core::data::CsvReader::new())?;
        if self.data_source == "frame" {
            let mut with_source = self.clone();
            with_source.data_source = path.display().to_string();
            return with_source.train(tracker, &frame);
        }
        self.train(tracker, &frame)
    }

    /// Trains, logs a run to `tracker` and, if asked, registers and gates
    /// the package in the registry on the tracker's store.
    ///
    /// The run is marked failed (with the error) if anything fails after it
    /// started; registration happens after the run finished.
    pub fn train(&self, tracker: &Tracker, frame: &Frame) -> Result<TrainOutcome> {
        let task = self.validate()?;
        let _span = tracing::info_span!(
            "trainer.train",
            learner = self.learner.name(),
            seed = self.seed.value(),
            rows = frame.n_rows()
        )
        .entered();
        let experiment = tracker.experiment(&self.experiment)?;
        let mut options = RunOptions::default()
            .seed(self.seed)
            .tag("learner", self.learner.name());
        if let Some(name) = &self.run_name {
            options = options.name(name.clone());
        }
        if let Some(parent) = &self.parent_run {
            options = options.parent(parent.clone());
        }
        let run = tracker.start_run(&experiment, options)?;
        let run_id = run.id().to_owned();
        let logged = self
            .fit_and_evaluate(frame, task)
            .and_then(|fitted| self.log(&run, fitted));
        let (package, artifact_digest, metrics, split) = match logged {
            Ok(parts) => parts,
            Err(e) => {
                if let Err(fail) = run.fail(e.to_string()) {
                    tracing::warn!(run_id, error = %fail, "could not mark the run failed");
                }
                return Err(e);
            }
        };
        run.finish()?;
        let (registered, gate) = match &self.registration {
            Some(r) => self.register_version(tracker, r, &run_id, &artifact_digest, &metrics)?,
            None => (None, None),
        };
        tracing::info!(
            run_id,
            digest = %package.digest(),
            registered = registered.as_ref().map(|v| v.version),
            "trained"
        );
        Ok(TrainOutcome {
            run_id,
            package,
            artifact_digest,
            metrics,
            split,
            registered,
            gate,
        })
    }

    /// Logs params, inputs, environment, metrics, spec, profile and package.
    #[allow(clippy::type_complexity)]
    fn log(
        &self,
        run: &Run,
        fitted: Fitted,
    ) -> Result<(ModelPackage, String, BTreeMap<String, f64>, Option<Split>)> {
        let Fitted {
            features,
            fit,
            task,
            metrics,
            train_scores,
            evaluation,
            confusion,
            importance,
            train,
            test,
            split,
        } = fitted;
        let mut params = self.learner.params()?;
        params.insert("learner".into(), self.learner.name().into());
        params.insert("seed".into(), self.seed.value().to_string());
        params.insert("threshold".into(), self.threshold.to_string());
        params.insert(
            "test".into(),
            match &self.test {
                TestSet::Fraction(f) => format!("fraction {f}"),
                TestSet::Frame(_) => "frame".into(),
            },
        );
        params.insert("n_features".into(), features.n_outputs().to_string());
        run.log_params(params)?;

        let train_fp = fingerprint::frame(&train).to_string();
        run.log_input(DatasetInput::new(
            "train",
            &self.data_source,
            &train_fp,
            train.n_rows() as u64,
        ))?;
        run.log_input(DatasetInput::new(
            "test",
            &self.data_source,
            fingerprint::frame(&test).to_string(),
            test.n_rows() as u64,
        ))?;
        run.log_environment(
            &Environment::capture()
                .with_seed(self.seed)
                .with_crate("mlops-train", env!("CARGO_PKG_VERSION")),
        )?;

        let pairs: Vec<(&str, f64)> = metrics.iter().map(|(k, v)| (k.as_str(), *v)).collect();
        run.log_metrics(&pairs, 0)?;
        for (key, values) in &fit.history {
            let mut logger = run.metric_logger();
            for (epoch, v) in values.iter().enumerate() {
                logger.log(key, *v, epoch as i64)?;
            }
            logger.flush()?;
        }

        let spec_json = serde_json::to_vec_pretty(&self.spec)
            .map_err(|e| invalid("spec", format!("does not serialize: {e}")))?;
        run.log_artifact(SPEC_ARTIFACT, &spec_json)?;
        if let Some(evaluation) = &evaluation {
            run.log_artifact(EVALUATION_ARTIFACT, &evaluation.to_json()?)?;
        }
        run.log_artifact(IMPORTANCE_ARTIFACT, &importance.to_json()?)?;
        if let Some(confusion) = &confusion {
            let bytes = serde_json::to_vec_pretty(confusion)
                .map_err(|e| invalid("confusion matrix", e.to_string()))?;
            run.log_artifact(CONFUSION_ARTIFACT, &bytes)?;
        }

        // Profiles: raw input columns of the training rows, and the
        // training score distribution.
        let input_names: Vec<&str> = features
            .input_columns()
            .iter()
            .map(|f| f.name.as_str())
            .collect();
        let profile_config = ProfileConfig {
            seed: self.seed.derive("profile"),
            ..ProfileConfig::default()
        };
        let profile = Profile::from_frame(&train.select(&input_names)?, &profile_config)?;
        run.log_artifact(PROFILE_ARTIFACT, &profile.to_bytes()?)?;
        let score_profile = Profile::from_scores(
            "score",
            train_scores.as_slice().unwrap_or(&[]),
            &profile_config,
        )?;

        let mut lineage = Lineage::of(&train, &self.spec);
        lineage
            .crate_versions
            .insert("mlops-train".into(), env!("CARGO_PKG_VERSION").into());
        let name = self
            .model_name
            .clone()
            .or_else(|| self.registration.as_ref().map(|r| r.model.clone()))
            .unwrap_or_else(|| self.experiment.clone());
        let meta = PackageMeta {
            name,
            version: None,
            run_id: Some(run.id().to_owned()),
            learner: self.learner.name().into(),
            seed: self.seed.value(),
            task,
            metrics: metrics.clone(),
            lineage,
        };
        let package = ModelPackage::builder(meta, features, fit.model)
            .profile(profile)
            .score_profile(score_profile)
            .threshold(self.threshold)
            .build()?;
        let artifact_digest = run.log_artifact(PACKAGE_ARTIFACT, &package.to_bytes()?)?;
        run.log_param("package_digest", package.digest())?;
        Ok((package, artifact_digest, metrics, split))
    }

    fn register_version(
        &self,
        tracker: &Tracker,
        r: &Registration,
        run_id: &str,
        artifact_digest: &str,
        metrics: &BTreeMap<String, f64>,
    ) -> Result<(Option<ModelVersion>, Option<GateDecision>)> {
        let registry = Registry::new(tracker.store().clone());
        match registry.get_model(&r.model) {
            Ok(_) => {}
            Err(mlops_core::Error::ModelNotFound { .. }) => {
                // Another trainer may create it between the check and here.
                match registry.create_model(&r.model, "") {
                    Ok(_) | Err(mlops_core::Error::ModelExists { .. }) => {}
                    Err(e) => return Err(e.into()),
                }
            }
            Err(e) => return Err(e.into()),
        }
        let version = registry.register_version(
            &r.model,
            NewVersion::new(run_id, artifact_digest)
                .metrics(metrics.iter().map(|(k, v)| (k.clone(), *v)))
                .source(format!("runs:/{run_id}/{PACKAGE_ARTIFACT}"))
                .tag("learner", self.learner.name()),
        )?;
        let gate = match &r.promote {
            Some((alias, gate)) => {
                Some(registry.promote(&r.model, alias, version.version, gate, "trainer")?)
            }
            None => None,
        };
        Ok((Some(version), gate))
    }
}

/// The metric keys [`evaluate`] produces for a task.
pub(crate) fn metric_names(task: &Task) -> &'static [&'static str] {
    match task {
        Task::BinaryClassification { .. } => &[
            "roc_auc",
            "pr_auc",
            "log_loss",
            "brier",
            "accuracy",
            "precision",
            "recall",
            "f1",
        ],
        Task::Regression => &["rmse", "mae", "r2"],
        Task::Multiclass { .. } => &[
            "accuracy",
            "macro_precision",
            "macro_recall",
            "macro_f1",
            "weighted_precision",
            "weighted_recall",
            "weighted_f1",
            "log_loss",
        ],
    }
}

/// Fills a multiclass task's classes from the fitted target.
pub(crate) fn with_classes(task: Task, features: &FittedFeatures) -> Task {
    match (task, features.classes()) {
        (Task::Multiclass { .. }, Some(classes)) => Task::Multiclass {
            classes: classes.to_vec(),
        },
        (task, _) => task,
    }
}

/// Fits the learner for the task: multiclass targets go through
/// [`LearnerConfig::fit_multiclass`].
pub(crate) fn fit_task(
    learner: &LearnerConfig,
    task: &Task,
    x: &Array2<f64>,
    y: &Array1<f64>,
    seed: Seed,
) -> Result<FitOutput> {
    match task {
        Task::Multiclass { classes } => learner.fit_multiclass(x, y, classes.len(), seed),
        _ => learner.fit(x, y, seed),
    }
}

/// Test metrics of a fitted model for the task (multiclass included).
pub(crate) fn evaluate_model(
    task: &Task,
    model: &InferenceModel,
    x: &Array2<f64>,
    y: &Array1<f64>,
    threshold: f64,
) -> Result<BTreeMap<String, f64>> {
    match task {
        Task::Multiclass { .. } => {
            let p = model.predict_proba_matrix(x)?;
            let m = MulticlassMetrics::compute(y.as_slice().unwrap_or(&[]), p.view())?;
            finite_metrics(m.named().to_vec())
        }
        _ => evaluate(task, y, &model.predict(x)?, threshold),
    }
}

/// Test metrics for the task.
/// Held-out ROC curve and a 10-bin calibration table, for reports.
fn evaluation(y: &Array1<f64>, scores: &Array1<f64>) -> Result<Evaluation> {
    let (y, p) = (y.to_vec(), scores.to_vec());
    Ok(Evaluation {
        roc: roc_curve(&y, &p)?,
        calibration: calibration_table(&y, &p, 10)?
            .into_iter()
            .filter(|b| b.count > 0)
            .map(|b| CalibrationPoint {
                mean_predicted: b.mean_predicted,
                fraction_positive: b.fraction_positive,
                count: b.count,
            })
            .collect(),
    })
}

pub(crate) fn evaluate(
    task: &Task,
    y: &Array1<f64>,
    scores: &Array1<f64>,
    threshold: f64,
) -> Result<BTreeMap<String, f64>> {
    let (y, p) = (
        y.as_slice().unwrap_or(&[]),
        scores.as_slice().unwrap_or(&[]),
    );
    let pairs: Vec<(&str, f64)> = match task {
        Task::BinaryClassification { .. } => {
            let m = BinaryMetrics::compute(y, p, threshold)?;
            vec![
                ("roc_auc", m.roc_auc),
                ("pr_auc", m.pr_auc),
                ("log_loss", m.log_loss),
                ("brier", m.brier),
                ("accuracy", m.accuracy),
                ("precision", m.precision),
                ("recall", m.recall),
                ("f1", m.f1),
            ]
        }
        Task::Regression => {
            let m = RegressionMetrics::compute(y, p)?;
            vec![("rmse", m.rmse), ("mae", m.mae), ("r2", m.r2)]
        }
        Task::Multiclass { .. } => {
            return Err(invalid(
                "task",
                "multiclass metrics need class probabilities (evaluate_model)",
            ));
        }
    };
    finite_metrics(pairs)
}

fn finite_metrics(pairs: Vec<(&str, f64)>) -> Result<BTreeMap<String, f64>> {
    let mut out = BTreeMap::new();
    for (k, v) in pairs {
        if !v.is_finite() {
            return Err(Error::InvalidTarget(format!(
                "test metric `{k}` is {v}; is the test set too small?"
            )));
        }
        out.insert(k.to_owned(), v);
    }
    Ok(out)
}
