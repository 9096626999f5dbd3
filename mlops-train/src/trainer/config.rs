//! [`LearnerConfig`]: one learner and its hyper-parameters, chosen at run
//! time (from the command line, a search space or code).

use std::collections::BTreeMap;

use mlops_core::model::InferenceModel;
use mlops_core::seed::Seed;
use ndarray::{Array1, Array2};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::invalid;
use crate::learner::{
    FittedModel, ForestParams, GbmLoss, GbmParams, Learner, LinearParams, LogisticParams,
    MulticlassLearner, RoundLoss, TreeParams,
};
use crate::{Error, Result};

/// Which kind of target a learner fits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskKind {
    /// 0/1 targets, probability outputs.
    BinaryClassification,
    /// Real-valued targets.
    Regression,
}

/// A learner and its (unchecked) hyper-parameters.
///
/// ```
/// use mlops_train::trainer::LearnerConfig;
///
/// let rf = LearnerConfig::from_name("rf")?
///     .set_param("n_trees", "20")?
///     .set_param("max_depth", "6")?;
/// assert_eq!(rf.name(), "rf");
/// assert_eq!(rf.params()?["n_trees"], "20");
/// assert_eq!(rf.params()?["engine"], "histogram");
/// let smartcore = rf.set_param("engine", "smartcore")?;
/// assert_eq!(smartcore.params()?["engine"], "smartcore");
/// assert!(LearnerConfig::from_name("rf")?.set_param("n_trees", "0").is_err());
/// assert!(LearnerConfig::from_name("rf")?.set_param("depth", "3").is_err());
/// # Ok::<(), mlops_train::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "learner", content = "params", rename_all = "snake_case")]
#[non_exhaustive]
pub enum LearnerConfig {
    /// Logistic regression (`logreg`).
    Logistic(LogisticParams),
    /// Decision tree (`tree`).
    Tree(TreeParams),
    /// Random forest (`rf`).
    Forest(ForestParams),
    /// Linear regression (`linear`).
    Linear(LinearParams),
    /// Histogram gradient boosting (`gbm`).
    Gbm(GbmParams),
    /// Multi-layer perceptron on burn (`mlp`, `burn` feature).
    #[cfg(feature = "burn")]
    Mlp(crate::learner::MlpParams),
}

/// What fitting produced: the model in inference form and, for learners
/// that train in epochs, the per-epoch history (metric key -> one value per
/// epoch).
#[derive(Debug, Clone, PartialEq)]
pub struct FitOutput {
    /// The model in mlops' own inference form.
    pub model: InferenceModel,
    /// Per-epoch (or per boosting round) values, by metric key; empty for
    /// learners without epochs.
    pub history: BTreeMap<String, Vec<f64>>,
    /// Per model input, the summed loss reduction of its splits, for
    /// learners that record it (gradient boosting).
    pub split_gain: Option<Vec<f64>>,
}

impl LearnerConfig {
    /// Every learner name [`from_name`](Self::from_name) accepts.
    #[cfg(not(feature = "burn"))]
    pub const NAMES: &'static [&'static str] = &["logreg", "tree", "rf", "linear", "gbm"];
    /// Every learner name [`from_name`](Self::from_name) accepts.
    #[cfg(feature = "burn")]
    pub const NAMES: &'static [&'static str] = &["logreg", "tree", "rf", "linear", "gbm", "mlp"];

    /// The learner called `name` with default hyper-parameters.
    pub fn from_name(name: &str) -> Result<Self> {
        Ok(match name {
            "logreg" => LearnerConfig::Logistic(LogisticParams::new()),
            "tree" => LearnerConfig::Tree(TreeParams::new()),
            "rf" => LearnerConfig::Forest(ForestParams::new()),
            "linear" => LearnerConfig::Linear(LinearParams::new()),
            "gbm" => LearnerConfig::Gbm(GbmParams::new()),
            #[cfg(feature = "burn")]
            "mlp" => LearnerConfig::Mlp(crate::learner::MlpParams::new()),
            other => {
                return Err(invalid(
                    "model",
                    format!(
                        "unknown learner `{other}`; expected one of {}",
                        Self::NAMES.join(", ")
                    ),
                ));
            }
        })
    }

    /// Short name: `logreg`, `tree`, `rf`, `linear`, `gbm`, `mlp`.
    pub fn name(&self) -> &'static str {
        match self {
            LearnerConfig::Logistic(_) => "logreg",
            LearnerConfig::Tree(_) => "tree",
            LearnerConfig::Forest(_) => "rf",
            LearnerConfig::Linear(_) => "linear",
            LearnerConfig::Gbm(_) => "gbm",
            #[cfg(feature = "burn")]
            LearnerConfig::Mlp(_) => "mlp",
        }
    }

    /// The kind of target the learner fits.
    pub fn task(&self) -> TaskKind {
        match self {
            LearnerConfig::Linear(_) => TaskKind::Regression,
            LearnerConfig::Gbm(p) => match p.clone().check().map(|v| v.loss()) {
                Ok(GbmLoss::SquaredError) => TaskKind::Regression,
                _ => TaskKind::BinaryClassification,
            },
            #[cfg(feature = "burn")]
            LearnerConfig::Mlp(p) => match p.clone().check().map(|v| v.task()) {
                Ok(crate::learner::MlpTask::Regression) => TaskKind::Regression,
                _ => TaskKind::BinaryClassification,
            },
            _ => TaskKind::BinaryClassification,
        }
    }

    /// Validates the hyper-parameters (the learner's own `check`).
    pub fn check(&self) -> Result<()> {
        match self {
            LearnerConfig::Logistic(p) => p.clone().check().map(drop),
            LearnerConfig::Tree(p) => p.clone().check().map(drop),
            LearnerConfig::Forest(p) => p.clone().check().map(drop),
            LearnerConfig::Linear(p) => p.clone().check().map(drop),
            LearnerConfig::Gbm(p) => p.clone().check().map(drop),
            #[cfg(feature = "burn")]
            LearnerConfig::Mlp(p) => p.clone().check().map(drop),
        }
    }

    /// Fits on `x`, `y` with all randomness from `seed` and converts the
    /// result to inference form.
    pub fn fit(&self, x: &Array2<f64>, y: &Array1<f64>, seed: Seed) -> Result<FitOutput> {
        let model = match self {
            LearnerConfig::Logistic(p) => convert(p.clone().check()?.fit(x, y, seed)?)?,
            LearnerConfig::Tree(p) => convert(p.clone().check()?.fit(x, y, seed)?)?,
            LearnerConfig::Forest(p) => convert(p.clone().check()?.fit(x, y, seed)?)?,
            LearnerConfig::Linear(p) => convert(p.clone().check()?.fit(x, y, seed)?)?,
            LearnerConfig::Gbm(p) => {
                let fitted = p.clone().check()?.fit(x, y, seed)?;
                return Ok(FitOutput {
                    model: fitted.to_inference()?,
                    history: round_history(fitted.history()),
                    split_gain: Some(fitted.split_gain().to_vec()),
                });
            }
            #[cfg(feature = "burn")]
            LearnerConfig::Mlp(p) => {
                let fitted = p.clone().check()?.fit(x, y, seed)?;
                return Ok(FitOutput {
                    model: fitted.to_inference()?,
                    history: epoch_history(fitted.history()),
                    split_gain: None,
                });
            }
        };
        Ok(FitOutput {
            model,
            history: BTreeMap::new(),
            split_gain: None,
        })
    }

    /// Whether [`fit_multiclass`](Self::fit_multiclass) supports this
    /// learner (logistic regression, decision tree, random forest, gradient
    /// boosting with log loss, and the MLP unless its task is regression).
    pub fn supports_multiclass(&self) -> bool {
        match self {
            LearnerConfig::Logistic(_) | LearnerConfig::Tree(_) | LearnerConfig::Forest(_) => true,
            LearnerConfig::Gbm(p) => p
                .clone()
                .check()
                .is_ok_and(|v| v.loss() == GbmLoss::LogLoss),
            #[cfg(feature = "burn")]
            LearnerConfig::Mlp(p) => p
                .clone()
                .check()
                .is_ok_and(|v| v.task() != crate::learner::MlpTask::Regression),
            _ => false,
        }
    }

    /// Fits `n_classes` classes on class indices `y` (a multiclass target)
    /// and converts the result to inference form (`k` outputs per row).
    pub fn fit_multiclass(
        &self,
        x: &Array2<f64>,
        y: &Array1<f64>,
        n_classes: usize,
        seed: Seed,
    ) -> Result<FitOutput> {
        let model = match self {
            LearnerConfig::Logistic(p) => {
                convert(p.clone().check()?.fit_multiclass(x, y, n_classes, seed)?)?
            }
            LearnerConfig::Tree(p) => {
                convert(p.clone().check()?.fit_multiclass(x, y, n_classes, seed)?)?
            }
            LearnerConfig::Forest(p) => {
                convert(p.clone().check()?.fit_multiclass(x, y, n_classes, seed)?)?
            }
            LearnerConfig::Gbm(p) => {
                let fitted = p.clone().check()?.fit_multiclass(x, y, n_classes, seed)?;
                return Ok(FitOutput {
                    model: fitted.to_inference()?,
                    history: round_history(fitted.history()),
                    split_gain: Some(fitted.split_gain().to_vec()),
                });
            }
            #[cfg(feature = "burn")]
            LearnerConfig::Mlp(p) => {
                let fitted = p.clone().check()?.fit_multiclass(x, y, n_classes, seed)?;
                return Ok(FitOutput {
                    model: fitted.to_inference()?,
                    history: epoch_history(fitted.history()),
                    split_gain: None,
                });
            }
            _ => {
                return Err(invalid(
                    "model",
                    format!("{} does not fit multiclass targets", self.name()),
                ));
            }
        };
        Ok(FitOutput {
            model,
            history: BTreeMap::new(),
            split_gain: None,
        })
    }

    /// The hyper-parameters as a JSON object (field name -> value).
    fn to_object(&self) -> Result<serde_json::Map<String, Value>> {
        let value = serde_json::to_value(self).map_err(|e| invalid("params", e.to_string()))?;
        match value {
            Value::Object(mut outer) => match outer.remove("params") {
                Some(Value::Object(params)) => Ok(params),
                _ => Err(invalid("params", "the learner has no parameter object")),
            },
            _ => Err(invalid(
                "params",
                "the learner does not serialize to an object",
            )),
        }
    }

    /// The hyper-parameters as strings, for logging: numbers and booleans as
    /// written, `none` for an absent option, nested values as JSON.
    pub fn params(&self) -> Result<BTreeMap<String, String>> {
        Ok(self
            .to_object()?
            .into_iter()
            .map(|(k, v)| {
                let text = match v {
                    Value::Null => "none".to_owned(),
                    Value::String(s) => s,
                    other => other.to_string(),
                };
                (k, text)
            })
            .collect())
    }

    /// Sets one hyper-parameter from text (as given on a command line:
    /// `max_depth=6`, `class_weight=Balanced`, `max_depth=none`) and
    /// validates the result. Per-class weights are numbers separated by
    /// commas, in class order: `class_weight=1,2.5,3` (see
    /// [`ClassWeight`](crate::learner::ClassWeight)). Unknown names are an
    /// error listing the valid ones.
    ///
    /// ```
    /// use mlops_train::learner::ClassWeight;
    /// use mlops_train::trainer::LearnerConfig;
    ///
    /// let lr = LearnerConfig::from_name("logreg")?.set_param("class_weight", "1,2.5,3")?;
    /// let LearnerConfig::Logistic(p) = lr else { unreachable!() };
    /// assert_eq!(p.check()?.class_weight(), ClassWeight::PerClass(vec![1.0, 2.5, 3.0]));
    /// # Ok::<(), mlops_train::Error>(())
    /// ```
    pub fn set_param(self, key: &str, value: &str) -> Result<Self> {
        let parsed = match value {
            "none" | "null" => Value::Null,
            text => match serde_json::from_str(text) {
                Ok(json) => json,
                Err(_) if key == "class_weight" && text.contains(',') => per_class_weights(text)?,
                Err(_) => Value::String(text.to_owned()),
            },
        };
        self.set_value(key, parsed)
    }

    /// Sets one hyper-parameter to a JSON value and validates the result.
    pub fn set_value(self, key: &str, value: Value) -> Result<Self> {
        let mut params = self.to_object()?;
        match params.get_mut(key) {
            Some(slot) => *slot = value,
            None => {
                let known: Vec<&str> = params.keys().map(String::as_str).collect();
                return Err(Error::InvalidParameter {
                    name: "param",
                    reason: format!(
                        "`{key}` is not a parameter of {}; it has {}",
                        self.name(),
                        known.join(", ")
                    ),
                });
            }
        }
        let wrapped = serde_json::json!({ "learner": self.tag(), "params": params });
        let config: LearnerConfig =
            serde_json::from_value(wrapped).map_err(|e| Error::InvalidParameter {
                name: "param",
                reason: format!("{}: `{key}`: {e}", self.name()),
            })?;
        config.check()?;
        Ok(config)
    }

    /// The serde tag of the variant.
    fn tag(&self) -> &'static str {
        match self {
            LearnerConfig::Logistic(_) => "logistic",
            LearnerConfig::Tree(_) => "tree",
            LearnerConfig::Forest(_) => "forest",
            LearnerConfig::Linear(_) => "linear",
            LearnerConfig::Gbm(_) => "gbm",
            #[cfg(feature = "burn")]
            LearnerConfig::Mlp(_) => "mlp",
        }
    }
}

/// Per-round boosting losses as metric histories: `train_loss` and, with
/// early stopping, `valid_loss` (one value per round boosted).
fn round_history(rounds: &[RoundLoss]) -> BTreeMap<String, Vec<f64>> {
    let mut history = BTreeMap::new();
    history.insert(
        "train_loss".to_owned(),
        rounds.iter().map(|r| r.train).collect(),
    );
    let valid: Vec<f64> = rounds.iter().filter_map(|r| r.valid).collect();
    if !valid.is_empty() && valid.len() == rounds.len() {
        history.insert("valid_loss".to_owned(), valid);
    }
    history
}

/// `1,2.5,3` as the JSON form of `ClassWeight::PerClass`.
fn per_class_weights(text: &str) -> Result<Value> {
    let weights = text
        .split(',')
        .map(|w| {
            w.trim().parse::<f64>().map_err(|e| {
                invalid(
                    "class_weight",
                    format!("`{w}` in `{text}` is not a number ({e}); write e.g. 1,2.5,3"),
                )
            })
        })
        .collect::<Result<Vec<f64>>>()?;
    Ok(serde_json::json!({ "PerClass": weights }))
}

/// Per-epoch MLP statistics as metric histories (one value per epoch).
#[cfg(feature = "burn")]
fn epoch_history(epochs: &[crate::learner::EpochStats]) -> BTreeMap<String, Vec<f64>> {
    let mut history = BTreeMap::new();
    history.insert(
        "train_loss".to_owned(),
        epochs.iter().map(|e| e.train_loss).collect(),
    );
    history.insert(
        "valid_loss".to_owned(),
        epochs.iter().map(|e| e.valid_loss).collect(),
    );
    let auc: Vec<f64> = epochs.iter().filter_map(|e| e.valid_roc_auc).collect();
    if auc.len() == epochs.len() && !auc.is_empty() {
        history.insert("valid_roc_auc".to_owned(), auc);
    }
    let accuracy: Vec<f64> = epochs.iter().filter_map(|e| e.valid_accuracy).collect();
    if accuracy.len() == epochs.len() && !accuracy.is_empty() {
        history.insert("valid_accuracy".to_owned(), accuracy);
    }
    history
}

fn convert(fitted: impl FittedModel) -> Result<InferenceModel> {
    fitted.to_inference()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_params_flatten() {
        for &name in LearnerConfig::NAMES {
            let c = LearnerConfig::from_name(name).expect("known");
            assert_eq!(c.name(), name);
            assert!(c.check().is_ok());
            let params = c.params().expect("params");
            assert!(!params.is_empty(), "{name}");
            // Setting every parameter to its own logged text is a no-op.
            let mut again = c.clone();
            for (k, v) in &params {
                again = again.set_param(k, v).expect(k);
            }
            assert_eq!(again, c, "{name}");
        }
        let rf = LearnerConfig::from_name("rf").expect("rf");
        assert_eq!(rf.params().expect("p")["max_depth"], "none");
        let deep = rf.set_param("max_depth", "4").expect("depth");
        assert_eq!(deep.params().expect("p")["max_depth"], "4");
        assert!(LearnerConfig::from_name("svm").is_err());
    }

    #[test]
    fn bad_values_are_errors_naming_the_parameter() {
        let lr = LearnerConfig::from_name("logreg").expect("lr");
        let err = lr.clone().set_param("l2", "-1").expect_err("negative");
        assert!(err.to_string().contains("l2"), "{err}");
        let err = lr.clone().set_param("max_iter", "many").expect_err("text");
        assert!(err.to_string().contains("max_iter"), "{err}");
        let weighted = lr
            .clone()
            .set_param("class_weight", "Balanced")
            .expect("balanced");
        assert_eq!(weighted.params().expect("p")["class_weight"], "Balanced");
        let per_class = lr
            .clone()
            .set_param("class_weight", "1, 2.5,3")
            .expect("per class");
        let logged = &per_class.params().expect("p")["class_weight"];
        assert_eq!(logged, r#"{"PerClass":[1.0,2.5,3.0]}"#);
        // The logged form is accepted back.
        assert_eq!(
            lr.clone()
                .set_param("class_weight", logged)
                .expect("logged"),
            per_class
        );
        for bad in ["1,x,3", "1,0,3", "1,-2", "1,inf", "1,"] {
            let err = lr.clone().set_param("class_weight", bad).expect_err(bad);
            assert!(err.to_string().contains("class_weight"), "{bad}: {err}");
        }
    }
}
