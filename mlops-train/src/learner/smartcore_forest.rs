//! The random forest's smartcore engine: smartcore's own
//! `RandomForestClassifier`, seeded from our [`Seed`](mlops_core::seed::Seed).
//!
//! smartcore grows its trees one after another from one generator seeded
//! with a `u64` (bootstraps drawn per class, tree `i` splitting with seed
//! `u64 + i`), so the forest depends only on data, parameters and seed, not
//! on threads. Its forest predicts the majority vote of its trees (ties to
//! the lowest class); converted, every leaf holds its class and the trees'
//! mean is the vote share per class, whose argmax is smartcore's class.

use std::sync::Arc;

use mlops_core::model::{ClassTreeEnsemble, SplitRule, TreeEnsemble};
use ndarray::{Array1, Array2};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use smartcore::ensemble::random_forest_classifier::{
    RandomForestClassifier, RandomForestClassifierParameters,
};
use smartcore::linalg::basic::matrix::DenseMatrix;

use super::smartcore_tree::{SmartTree, SmartTreeView, append_tree, dense};
use crate::{Error, Result};

type SmartForest = RandomForestClassifier<f64, u32, DenseMatrix<f64>, Vec<u32>>;

/// A forest fitted by smartcore, with the sizes converting it needs.
#[derive(Debug, Clone)]
pub(super) struct SmartcoreForest {
    /// Shared so the fitted forest stays `Clone` (smartcore's is not).
    model: Arc<SmartForest>,
    n_features: usize,
    n_classes: usize,
    n_trees: usize,
}

/// The fields of smartcore's forest we read through its serde form (its
/// trees are private).
#[derive(Deserialize)]
struct ForestView<T> {
    trees: Option<Vec<T>>,
}

impl SmartcoreForest {
    /// Fits smartcore's forest on class indices `labels` (`0..n_classes`,
    /// every class present).
    pub(super) fn fit(
        x: &Array2<f64>,
        labels: &[u32],
        n_classes: usize,
        params: RandomForestClassifierParameters,
    ) -> Result<Self> {
        let n_trees = usize::from(params.n_trees);
        let model =
            SmartForest::fit(&dense(x, "rf")?, &labels.to_vec(), params).map_err(|source| {
                Error::Smartcore {
                    learner: "rf",
                    stage: "fit",
                    tree: 0,
                    source,
                }
            })?;
        Ok(SmartcoreForest {
            model: Arc::new(model),
            n_features: x.ncols(),
            n_classes,
            n_trees,
        })
    }

    pub(super) fn n_trees(&self) -> usize {
        self.n_trees
    }

    pub(super) fn n_features(&self) -> usize {
        self.n_features
    }

    /// smartcore's own forest prediction: the majority class per row.
    #[cfg(test)]
    pub(super) fn predict_class(&self, x: &Array2<f64>) -> Result<Vec<u32>> {
        self.model
            .predict(&dense(x, "rf")?)
            .map_err(|source| Error::Smartcore {
                learner: "rf",
                stage: "predict",
                tree: 0,
                source,
            })
    }

    /// Share of the trees voting for each class (`n x k`), every vote cast
    /// by smartcore's own tree (the trees deserialized from the forest), so
    /// comparing with the converted model checks the conversion.
    pub(super) fn vote_shares(&self, x: &Array2<f64>) -> Result<Array2<f64>> {
        let trees: Vec<SmartTree> = self.trees()?;
        let input = dense(x, "rf")?;
        let mut shares = Array2::zeros((x.nrows(), self.n_classes));
        for (i, tree) in trees.iter().enumerate() {
            let votes = tree.predict(&input).map_err(|source| Error::Smartcore {
                learner: "rf",
                stage: "predict",
                tree: i,
                source,
            })?;
            for (mut row, class) in shares.rows_mut().into_iter().zip(votes) {
                let slot = row
                    .get_mut(class as usize)
                    .ok_or_else(|| conversion(format!("tree {i} voted for class {class}")))?;
                *slot += 1.0;
            }
        }
        shares.mapv_inplace(|v| v / trees.len() as f64);
        Ok(shares)
    }

    /// Positive-class vote share per row (binary forests).
    pub(super) fn positive_share(&self, x: &Array2<f64>) -> Result<Array1<f64>> {
        Ok(self.vote_shares(x)?.column(1).to_owned())
    }

    /// The trees in inference form, each leaf holding its class index, so
    /// the ensemble's mean is the positive vote share of a binary forest.
    pub(super) fn to_trees(&self) -> Result<TreeEnsemble> {
        let views: Vec<SmartTreeView> = self.trees()?;
        let mut nodes = Vec::new();
        let mut roots = Vec::with_capacity(views.len());
        for view in &views {
            roots.push(u32::try_from(nodes.len()).map_err(|_| conversion("too many nodes"))?);
            append_tree(view, &mut nodes).map_err(conversion)?;
        }
        // smartcore goes left when x <= threshold.
        Ok(TreeEnsemble::new(
            self.n_features,
            SplitRule::LessOrEqual,
            roots,
            nodes,
        )?)
    }

    /// The k-class form: leaves hold class indices into the `k x k`
    /// identity table, so the mean over trees is the vote share per class.
    pub(super) fn to_class_trees(&self) -> Result<ClassTreeEnsemble> {
        let k = self.n_classes;
        let identity = (0..k * k)
            .map(|i| f64::from(u8::from(i / k == i % k)))
            .collect();
        Ok(ClassTreeEnsemble::new(self.to_trees()?, k, identity)?)
    }

    /// smartcore's trees, read through the forest's serde form as `T`.
    fn trees<T: DeserializeOwned>(&self) -> Result<Vec<T>> {
        let value = serde_json::to_value(&*self.model).map_err(|e| conversion(e.to_string()))?;
        let view: ForestView<T> =
            serde_json::from_value(value).map_err(|e| conversion(e.to_string()))?;
        view.trees
            .ok_or_else(|| conversion("the forest has no trees"))
    }
}

fn conversion(reason: impl Into<String>) -> Error {
    Error::Conversion {
        learner: "rf",
        reason: reason.into(),
    }
}

#[cfg(test)]
mod tests {
    use mlops_core::data::Frame;
    use mlops_core::features::FeatureSpec;
    use mlops_core::seed::Seed;
    use ndarray::{Array1, Array2, ArrayView1};

    use super::super::{FittedModel, ForestEngine, ForestParams, Learner, MulticlassLearner};
    use super::*;
    use crate::metrics::roc_auc;
    use crate::split::stratified_split;

    const TELCO: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../examples/data/telco_churn.csv"
    );

    struct Split {
        x_train: Array2<f64>,
        y_train: Array1<f64>,
        x_test: Array2<f64>,
        y_test: Array1<f64>,
    }

    /// Seeded stratified 80/20 split of Telco for `target`, features fitted
    /// on the training rows (as `tests/common::telco_split`).
    fn telco(target: &str, positive: Option<&str>) -> Split {
        let frame = Frame::read_csv(TELCO).expect("telco");
        let spec = FeatureSpec::infer(&frame, target, positive).expect("spec");
        let y = spec.fit(&frame).expect("fit").target(&frame).expect("y");
        let split = stratified_split(y.as_slice().expect("s"), 0.2, Seed(42)).expect("split");
        let train = frame.take(&split.train).expect("train");
        let test = frame.take(&split.test).expect("test");
        let fitted = spec.fit(&train).expect("fit on train");
        Split {
            x_train: fitted.transform(&train).expect("x"),
            y_train: fitted.target(&train).expect("y"),
            x_test: fitted.transform(&test).expect("x"),
            y_test: fitted.target(&test).expect("y"),
        }
    }

    /// smartcore's vote rule (`which_max`): the most votes, ties to the
    /// lowest class.
    fn first_argmax(row: ArrayView1<f64>) -> usize {
        let mut best = 0;
        for (i, &v) in row.iter().enumerate() {
            if v > row[best] {
                best = i;
            }
        }
        best
    }

    /// smartcore's class per row equals the argmax of the converted model's
    /// vote shares on every row, and the converted shares equal the shares
    /// of smartcore's own trees. Returns the number of tied rows.
    fn check_votes(forest: &SmartcoreForest, converted: &Array2<f64>, x: &Array2<f64>) -> usize {
        let native = forest.vote_shares(x).expect("native shares");
        assert_eq!(native.dim(), converted.dim());
        for (a, b) in native.iter().zip(converted) {
            assert!((a - b).abs() <= 1e-12, "native {a}, converted {b}");
        }
        let classes = forest.predict_class(x).expect("smartcore predicts");
        let mut ties = 0;
        for (r, (row, &class)) in converted.rows().into_iter().zip(&classes).enumerate() {
            let top = row.fold(0.0, |m: f64, &v| m.max(v));
            ties += usize::from(row.iter().filter(|&&v| v == top).count() > 1);
            assert_eq!(first_argmax(row), class as usize, "row {r}: {row}");
        }
        ties
    }

    #[test]
    fn telco_churn_100_trees_agree_with_smartcore_and_reach_the_bar() {
        let data = telco("Churn", Some("Yes"));
        let fitted = ForestParams::new()
            .engine(ForestEngine::Smartcore)
            .check()
            .expect("valid")
            .fit(&data.x_train, &data.y_train, Seed(42))
            .expect("fit");
        assert_eq!(fitted.n_trees(), 100);
        let model = fitted.to_inference().expect("convert");
        let p = model.predict(&data.x_test).expect("predict");
        let shares = Array2::from_shape_fn(
            (p.len(), 2),
            |(r, c)| {
                if c == 1 { p[r] } else { 1.0 - p[r] }
            },
        );
        let forest = fitted.smartcore().expect("smartcore engine");
        let ties = check_votes(forest, &shares, &data.x_test);
        let auc =
            roc_auc(data.y_test.as_slice().expect("s"), p.as_slice().expect("s")).expect("auc");
        eprintln!("Telco churn, smartcore forest (100): ROC AUC {auc:.4}, {ties} tied rows");
        // The bar for a 100-tree random forest.
        assert!(auc >= 0.82, "ROC AUC {auc}");
    }

    #[test]
    fn telco_contract_votes_agree_with_smartcore() {
        let data = telco("Contract", None);
        let fitted = ForestParams::new()
            .engine(ForestEngine::Smartcore)
            .n_trees(30)
            .check()
            .expect("valid")
            .fit_multiclass(&data.x_train, &data.y_train, 3, Seed(7))
            .expect("fit");
        assert_eq!((fitted.n_trees(), fitted.n_classes()), (30, 3));
        let model = fitted.to_inference().expect("convert");
        let shares = model.predict_proba_matrix(&data.x_test).expect("proba");
        let forest = fitted.smartcore().expect("smartcore engine");
        let ties = check_votes(forest, &shares, &data.x_test);
        let correct = shares
            .rows()
            .into_iter()
            .zip(&data.y_test)
            .filter(|(row, y)| first_argmax(row.view()) == **y as usize)
            .count();
        let accuracy = correct as f64 / data.y_test.len() as f64;
        eprintln!(
            "Telco contract, smartcore forest (30): accuracy {accuracy:.4}, {ties} tied rows"
        );
        assert!(accuracy > 0.7, "accuracy {accuracy}");
    }

    #[test]
    fn max_depth_counts_the_root_as_depth_zero() {
        let data = telco("Churn", Some("Yes"));
        let rows: Vec<usize> = (0..data.x_train.nrows()).step_by(5).collect();
        let x = data.x_train.select(ndarray::Axis(0), &rows);
        let y = data.y_train.select(ndarray::Axis(0), &rows);
        let sizes = |depth: u16| -> Vec<usize> {
            let fitted = ForestParams::new()
                .engine(ForestEngine::Smartcore)
                .n_trees(10)
                .max_depth(Some(depth))
                .check()
                .expect("valid")
                .fit(&x, &y, Seed(1))
                .expect("fit");
            let views: Vec<SmartTreeView> = fitted
                .smartcore()
                .expect("smartcore")
                .trees()
                .expect("views");
            views.iter().map(SmartTreeView::n_nodes).collect()
        };
        // Depth 1 (scikit-learn's meaning): at most one split (a root whose
        // drawn features cannot split stays a leaf).
        let one = sizes(1);
        assert!(one.iter().all(|&n| n <= 3) && one.contains(&3), "{one:?}");
        // Depth 2: at most seven nodes, and some tree uses more than three.
        let two = sizes(2);
        assert!(
            two.iter().all(|&n| n <= 7) && two.iter().any(|&n| n > 3),
            "{two:?}"
        );
    }
}
