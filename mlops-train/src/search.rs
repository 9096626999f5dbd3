//! Hyper-parameter search: grid or seeded random, scored by stratified
//! k-fold cross-validation, each trial a nested run under one parent run;
//! the best trial is refit and packaged by the [`Trainer`].
//!
//! Cross-validation runs on the training rows of the trainer's own split
//! (same seed, same rows), so the test rows the refit is evaluated on are
//! never seen by the search. Every trial uses the same folds. For a
//! regression target each distinct value is its own stratum, so rows are
//! dealt to folds round-robin in target order and every fold spans the
//! target's range.
//!
//! ```
//! use std::sync::Arc;
//! use mlops_core::features::FeatureSpec;
//! use mlops_core::seed::Seed;
//! use mlops_core::store::MemoryStore;
//! use mlops_core::synth::ChurnSynth;
//! use mlops_core::tracking::Tracker;
//! use mlops_train::search::{ParamValues, Search};
//! use mlops_train::trainer::{LearnerConfig, Trainer};
//!
//! let frame = ChurnSynth::new(Seed(5)).rows(300).to_frame()?;
//! let spec = FeatureSpec::infer(&frame, "Churn", Some("Yes"))?;
//! let trainer = Trainer::new(spec, LearnerConfig::from_name("tree")?).seed(Seed(1));
//! let tracker = Tracker::new(Arc::new(MemoryStore::new()));
//! let outcome = Search::grid(trainer)
//!     .param("max_depth", ParamValues::list([2, 4]))
//!     .folds(3)
//!     .run(&tracker, &frame)?;
//! assert_eq!(outcome.trials.len(), 2);
//! assert_eq!(tracker.children(&outcome.parent_run_id)?.len(), 3); // 2 trials + the refit
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::collections::BTreeMap;

use mlops_core::data::Frame;
use mlops_core::model::Task;
use mlops_core::seed::Seed;
use mlops_core::tracking::{Run, RunOptions, Tracker};
use rand::Rng;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::invalid;
use crate::split::stratified_k_fold;
use crate::trainer::{
    LearnerConfig, TrainOutcome, Trainer, evaluate_model, fit_task, metric_names, with_classes,
};
use crate::{Error, Result};

/// The values one hyper-parameter takes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ParamValues {
    /// These values (grid and random search).
    List(Vec<Value>),
    /// Integers in `[low, high]`, uniform (random search only).
    IntRange {
        /// Smallest value.
        low: i64,
        /// Largest value.
        high: i64,
    },
    /// Reals in `[low, high]`, uniform, or log-uniform when `log` (random
    /// search only; `low > 0` for log).
    FloatRange {
        /// Smallest value.
        low: f64,
        /// Largest value.
        high: f64,
        /// Sample the logarithm uniformly.
        log: bool,
    },
}

impl ParamValues {
    /// A list of values (numbers, strings, booleans).
    pub fn list<T: Into<Value>>(values: impl IntoIterator<Item = T>) -> Self {
        ParamValues::List(values.into_iter().map(Into::into).collect())
    }

    fn check(&self, name: &str, grid: bool) -> Result<()> {
        let bad = |reason: String| invalid("search space", format!("`{name}`: {reason}"));
        match self {
            ParamValues::List(v) if v.is_empty() => Err(bad("no values".into())),
            ParamValues::List(_) => Ok(()),
            _ if grid => Err(bad("a grid needs a list of values, not a range".into())),
            ParamValues::IntRange { low, high } if low > high => {
                Err(bad(format!("low {low} > high {high}")))
            }
            ParamValues::FloatRange { low, high, log } => {
                if !(low.is_finite() && high.is_finite() && low <= high) {
                    Err(bad(format!("bad range [{low}, {high}]")))
                } else if *log && *low <= 0.0 {
                    Err(bad(format!("log range needs low > 0, got {low}")))
                } else {
                    Ok(())
                }
            }
            ParamValues::IntRange { .. } => Ok(()),
        }
    }

    fn sample(&self, rng: &mut impl Rng) -> Value {
        match self {
            ParamValues::List(v) => v[rng.gen_range(0..v.len())].clone(),
            ParamValues::IntRange { low, high } => Value::from(rng.gen_range(*low..=*high)),
            ParamValues::FloatRange { low, high, log } => {
                let u: f64 = rng.r#gen();
                let x = if *log {
                    (low.ln() + u * (high.ln() - low.ln())).exp()
                } else {
                    low + u * (high - low)
                };
                Value::from(x)
            }
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Strategy {
    Grid,
    Random { trials: usize },
}

/// A hyper-parameter search around a [`Trainer`] (which supplies the spec,
/// base learner, seed, split, experiment and registration of the refit).
#[derive(Debug, Clone)]
#[must_use]
pub struct Search {
    trainer: Trainer,
    strategy: Strategy,
    space: Vec<(String, ParamValues)>,
    folds: usize,
    metric: Option<String>,
}

/// One trial: its run, hyper-parameters and cross-validated score.
#[derive(Debug, Clone, PartialEq)]
pub struct Trial {
    /// The trial's nested run.
    pub run_id: String,
    /// The values set on the base learner.
    pub params: BTreeMap<String, Value>,
    /// The learner with those values.
    pub learner: LearnerConfig,
    /// The metric on each validation fold.
    pub fold_scores: Vec<f64>,
    /// Mean over folds.
    pub mean: f64,
    /// Population standard deviation over folds (scikit-learn's
    /// `std_test_score`).
    pub std: f64,
}

/// What [`Search::run`] produced.
#[derive(Debug, Clone)]
pub struct SearchOutcome {
    /// The parent run.
    pub parent_run_id: String,
    /// The metric optimised (`roc_auc`, `rmse`, ...).
    pub metric: String,
    /// Every trial, in the order run.
    pub trials: Vec<Trial>,
    /// Index of the best trial in [`trials`](Self::trials).
    pub best: usize,
    /// The best trial refit on all training rows, evaluated on the test
    /// rows and packaged (a nested run too).
    pub refit: TrainOutcome,
}

/// Metrics where smaller is better; all others are maximised.
fn lower_is_better(metric: &str) -> bool {
    matches!(metric, "log_loss" | "brier" | "rmse" | "mae")
}

impl Search {
    /// Every combination of the listed values.
    pub fn grid(trainer: Trainer) -> Self {
        Search {
            trainer,
            strategy: Strategy::Grid,
            space: Vec::new(),
            folds: 5,
            metric: None,
        }
    }

    /// `trials` independent draws from the space, from the trainer's seed.
    pub fn random(trainer: Trainer, trials: usize) -> Self {
        Search {
            strategy: Strategy::Random { trials },
            ..Search::grid(trainer)
        }
    }

    /// Adds a hyper-parameter to search (a field of the learner's params,
    /// as [`LearnerConfig::params`] names them).
    pub fn param(mut self, name: impl Into<String>, values: ParamValues) -> Self {
        self.space.push((name.into(), values));
        self
    }

    /// Number of cross-validation folds (default 5, at least 2).
    pub fn folds(mut self, k: usize) -> Self {
        self.folds = k;
        self
    }

    /// The metric to optimise (default `roc_auc` for classification, `rmse`
    /// for regression); `log_loss`, `brier`, `rmse` and `mae` are minimised.
    pub fn metric(mut self, metric: impl Into<String>) -> Self {
        self.metric = Some(metric.into());
        self
    }

    /// The trials' hyper-parameter values, in run order. Grid: the
    /// Cartesian product, last parameter fastest. Random: draws from a
    /// generator derived from the trainer's seed.
    pub fn trial_params(&self) -> Result<Vec<BTreeMap<String, Value>>> {
        let grid = self.strategy == Strategy::Grid;
        if self.space.is_empty() {
            return Err(invalid("search space", "no parameter to search"));
        }
        for (name, values) in &self.space {
            values.check(name, grid)?;
        }
        if let Some((dup, _)) = self
            .space
            .iter()
            .enumerate()
            .find(|(i, (n, _))| self.space[..*i].iter().any(|(m, _)| m == n))
            .map(|(_, p)| p.clone())
        {
            return Err(invalid("search space", format!("`{dup}` is listed twice")));
        }
        Ok(match self.strategy {
            Strategy::Grid => {
                let mut out = vec![BTreeMap::new()];
                for (name, values) in &self.space {
                    let ParamValues::List(values) = values else {
                        continue;
                    };
                    out = out
                        .into_iter()
                        .flat_map(|partial| {
                            values.iter().map(move |v| {
                                let mut next = partial.clone();
                                next.insert(name.clone(), v.clone());
                                next
                            })
                        })
                        .collect();
                }
                out
            }
            Strategy::Random { trials } => {
                if trials == 0 {
                    return Err(invalid("trials", "must be at least 1"));
                }
                let mut rng = self.trainer.root_seed().derive("search").rng();
                (0..trials)
                    .map(|_| {
                        self.space
                            .iter()
                            .map(|(name, values)| (name.clone(), values.sample(&mut rng)))
                            .collect()
                    })
                    .collect()
            }
        })
    }

    /// Runs the search: a parent run, one nested run per trial with its
    /// fold scores and mean/std, then the best trial refit by the trainer
    /// (nested under the parent, registered if the trainer says so).
    pub fn run(&self, tracker: &Tracker, frame: &Frame) -> Result<SearchOutcome> {
        let task = self.trainer.checked_task()?;
        if self.folds < 2 {
            return Err(invalid(
                "folds",
                format!("must be at least 2, got {}", self.folds),
            ));
        }
        let metric = self.metric.clone().unwrap_or_else(|| {
            match task {
                Task::Regression => "rmse",
                Task::BinaryClassification { .. } => "roc_auc",
                Task::Multiclass { .. } => "log_loss",
            }
            .to_owned()
        });
        if !metric_names(&task).contains(&metric.as_str()) {
            return Err(invalid(
                "metric",
                format!(
                    "`{metric}` is not computed for this task; choose one of {}",
                    metric_names(&task).join(", ")
                ),
            ));
        }
        let trial_params = self.trial_params()?;
        let base = self.trainer.learner().clone();
        let learners = trial_params
            .iter()
            .map(|params| {
                params
                    .iter()
                    .try_fold(base.clone(), |c, (k, v)| c.set_value(k, v.clone()))
            })
            .collect::<Result<Vec<_>>>()?;
        let _span = tracing::info_span!(
            "search.run",
            learner = base.name(),
            trials = learners.len(),
            folds = self.folds
        )
        .entered();

        let experiment = tracker.experiment(self.trainer.experiment_name())?;
        let seed = self.trainer.root_seed();
        let parent = tracker.start_run(
            &experiment,
            RunOptions::default()
                .name(format!("search-{}", base.name()))
                .seed(seed)
                .tag("search", self.strategy_name()),
        )?;
        let parent_id = parent.id().to_owned();
        let result = self.run_under(
            tracker,
            frame,
            &task,
            &metric,
            &parent,
            learners,
            trial_params,
        );
        match result {
            Ok((trials, best, refit)) => {
                parent.log_param("best_trial", best)?;
                parent.log_param("best_run_id", &trials[best].run_id)?;
                parent.log_param("refit_run_id", &refit.run_id)?;
                parent.log_metric(&format!("best_cv_{metric}"), trials[best].mean, 0)?;
                parent.finish()?;
                Ok(SearchOutcome {
                    parent_run_id: parent_id,
                    metric,
                    trials,
                    best,
                    refit,
                })
            }
            Err(e) => {
                if let Err(fail) = parent.fail(e.to_string()) {
                    tracing::warn!(run_id = parent_id, error = %fail, "could not mark the search failed");
                }
                Err(e)
            }
        }
    }

    fn strategy_name(&self) -> &'static str {
        match self.strategy {
            Strategy::Grid => "grid",
            Strategy::Random { .. } => "random",
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn run_under(
        &self,
        tracker: &Tracker,
        frame: &Frame,
        task: &Task,
        metric: &str,
        parent: &Run,
        learners: Vec<LearnerConfig>,
        trial_params: Vec<BTreeMap<String, Value>>,
    ) -> Result<(Vec<Trial>, usize, TrainOutcome)> {
        let seed = self.trainer.root_seed();
        let space = serde_json::to_string(&self.space)
            .map_err(|e| invalid("search space", e.to_string()))?;
        parent.log_params([
            ("learner", base_name(&learners)),
            ("strategy", self.strategy_name().to_owned()),
            ("trials", learners.len().to_string()),
            ("folds", self.folds.to_string()),
            ("metric", metric.to_owned()),
            ("seed", seed.value().to_string()),
            ("space", space),
        ])?;

        // Folds over the training rows of the trainer's split.
        let (train, _, _) = self.trainer.split_frame(frame, task)?;
        let y = self.trainer.spec().fit(&train)?.target(&train)?;
        let folds = stratified_k_fold(y.as_slice().unwrap_or(&[]), self.folds, seed.derive("cv"))?;
        let fold_frames = folds
            .iter()
            .map(|f| Ok((train.take(&f.train)?, train.take(&f.test)?)))
            .collect::<Result<Vec<_>>>()?;

        let experiment = tracker.experiment(self.trainer.experiment_name())?;
        let mut trials = Vec::with_capacity(learners.len());
        for (i, (learner, params)) in learners.into_iter().zip(trial_params).enumerate() {
            let run = tracker.start_run(
                &experiment,
                RunOptions::default()
                    .name(format!("trial-{i}"))
                    .parent(parent.id())
                    .seed(seed)
                    .tag("learner", learner.name()),
            )?;
            let scored = self.score_trial(&learner, task, metric, &fold_frames, seed);
            let scores = match scored {
                Ok(s) => s,
                Err(e) => {
                    if let Err(fail) = run.fail(e.to_string()) {
                        tracing::warn!(error = %fail, "could not mark the trial failed");
                    }
                    return Err(e);
                }
            };
            let n = scores.len() as f64;
            let mean = scores.iter().sum::<f64>() / n;
            let std = (scores.iter().map(|s| (s - mean).powi(2)).sum::<f64>() / n).sqrt();
            let mut logged = learner.params()?;
            logged.insert("learner".into(), learner.name().into());
            logged.insert("trial".into(), i.to_string());
            run.log_params(logged)?;
            for (fold, s) in scores.iter().enumerate() {
                run.log_metric(&format!("cv_{metric}"), *s, fold as i64)?;
            }
            run.log_metrics(
                &[
                    (&format!("cv_{metric}_mean"), mean),
                    (&format!("cv_{metric}_std"), std),
                ],
                0,
            )?;
            let run_id = run.id().to_owned();
            run.finish()?;
            tracing::debug!(trial = i, mean, std, "trial scored");
            trials.push(Trial {
                run_id,
                params,
                learner,
                fold_scores: scores,
                mean,
                std,
            });
        }

        // First best wins ties, so the result does not depend on float
        // noise between equal trials.
        let lower = lower_is_better(metric);
        let mut best = 0;
        for (i, t) in trials.iter().enumerate() {
            let better = if lower {
                t.mean < trials[best].mean
            } else {
                t.mean > trials[best].mean
            };
            if better {
                best = i;
            }
        }
        let refit = self
            .trainer
            .clone()
            .with_learner(trials[best].learner.clone())
            .parent_run(parent.id())
            .run_name("refit-best")
            .train(tracker, frame)?;
        Ok((trials, best, refit))
    }

    /// The metric on each fold: features fitted on the fold's training
    /// rows only.
    fn score_trial(
        &self,
        learner: &LearnerConfig,
        task: &Task,
        metric: &str,
        folds: &[(Frame, Frame)],
        seed: Seed,
    ) -> Result<Vec<f64>> {
        folds
            .iter()
            .map(|(fit_rows, val_rows)| {
                let features = self.trainer.spec().fit(fit_rows)?;
                let task = with_classes(task.clone(), &features);
                let (x, y) = (features.transform(fit_rows)?, features.target(fit_rows)?);
                let model = fit_task(learner, &task, &x, &y, seed.derive("fit"))?.model;
                let (xv, yv) = (features.transform(val_rows)?, features.target(val_rows)?);
                let all =
                    evaluate_model(&task, &model, &xv, &yv, self.trainer.decision_threshold())?;
                all.get(metric)
                    .copied()
                    .ok_or_else(|| Error::InvalidParameter {
                        name: "metric",
                        reason: format!(
                            "`{metric}` is not computed for this task; choose one of {}",
                            all.keys().cloned().collect::<Vec<_>>().join(", ")
                        ),
                    })
            })
            .collect()
    }
}

fn base_name(learners: &[LearnerConfig]) -> String {
    learners
        .first()
        .map(|l| l.name().to_owned())
        .unwrap_or_default()
}
