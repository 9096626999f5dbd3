//! Feature importance: split counts of any tree model (read from its
//! inference form), split gain where the learner records it, and seeded
//! permutation importance for any model.
//!
//! Permutation importance shuffles one raw input column at a time: its
//! encoded columns (the numeric value, or every one-hot column of a
//! categorical) are permuted together with the same row order. The features
//! are computed row by row, so this equals transforming the shuffled raw
//! column, without transforming again.

use mlops_core::features::FittedFeatures;
use mlops_core::model::{InferenceModel, Task, TreeEnsemble};
use mlops_core::report::PermutationImportance;
use mlops_core::seed::Seed;
use ndarray::{Array1, Array2};
use rand::seq::SliceRandom as _;

use crate::metrics::{multiclass_log_loss, rmse, roc_auc};
use crate::{Error, Result};

/// Per model input, the splits testing it over every tree, for the tree
/// forms (`None` for other models).
///
/// ```
/// use mlops_core::model::{InferenceModel, SplitRule, TreeEnsemble, TreeNode};
/// use mlops_train::importance::split_counts;
///
/// let nodes = vec![TreeNode::split(1, 0.5, 1, 2), TreeNode::leaf(0.0), TreeNode::leaf(1.0)];
/// let m = InferenceModel::Trees(TreeEnsemble::new(2, SplitRule::LessOrEqual, vec![0], nodes)?);
/// assert_eq!(split_counts(&m), Some(vec![0, 1]));
/// # Ok::<(), mlops_core::Error>(())
/// ```
pub fn split_counts(model: &InferenceModel) -> Option<Vec<u64>> {
    let trees: &TreeEnsemble = match model {
        InferenceModel::Trees(t) => t,
        InferenceModel::ClassTrees(t) => t.trees(),
        InferenceModel::Boosted(b) => b.trees(),
        _ => return None,
    };
    let mut counts = vec![0u64; trees.n_features()];
    for n in trees.nodes().iter().filter(|n| !n.is_leaf()) {
        // Split features were validated below `n_features`.
        if let Some(c) = counts.get_mut(n.feature as usize) {
            *c += 1;
        }
    }
    Some(counts)
}

/// The model inputs of each raw input column, in input order: a column's
/// own output and its `column=category` one-hot outputs; any other output
/// (a derived feature) is a group of its own.
pub fn input_groups(features: &FittedFeatures) -> Vec<(String, Vec<usize>)> {
    let mut groups: Vec<(String, Vec<usize>)> = features
        .input_columns()
        .iter()
        .map(|f| (f.name.clone(), Vec::new()))
        .collect();
    for (i, out) in features.output_names().iter().enumerate() {
        let owner = groups.iter().position(|(name, _)| {
            out == name
                || out
                    .strip_prefix(name.as_str())
                    .is_some_and(|rest| rest.starts_with('='))
        });
        match owner {
            Some(g) => groups[g].1.push(i),
            None => groups.push((out.clone(), vec![i])),
        }
    }
    groups.retain(|(_, outputs)| !outputs.is_empty());
    groups
}

/// The held-out metric permutation importance compares: ROC AUC (binary),
/// log loss (multiclass) or RMSE (regression).
fn score(model: &InferenceModel, task: &Task, x: &Array2<f64>, y: &[f64]) -> Result<f64> {
    match task {
        Task::Multiclass { .. } => {
            let p = model.predict_proba_matrix(x)?;
            multiclass_log_loss(y, p.view())
        }
        _ => {
            let p = model.predict(x)?;
            let p = p.as_slice().unwrap_or(&[]);
            match task {
                Task::Regression => rmse(y, p),
                _ => roc_auc(y, p),
            }
        }
    }
}

/// Permutation importance of each group of columns of `x` (see
/// [`input_groups`]): the mean and standard deviation over `repeats`
/// shuffles of how much the metric worsens. Shuffle `r` of group `g` draws
/// from `seed.derive_index("permutation", g * repeats + r)`, so the result
/// does not depend on the thread count.
pub fn permutation_importance(
    model: &InferenceModel,
    task: &Task,
    x: &Array2<f64>,
    y: &Array1<f64>,
    groups: &[(String, Vec<usize>)],
    repeats: usize,
    seed: Seed,
) -> Result<PermutationImportance> {
    if repeats == 0 {
        return Err(crate::error::invalid("repeats", "must be at least 1"));
    }
    if x.nrows() != y.len() {
        return Err(Error::Shape(format!(
            "x has {} rows, y has {} values",
            x.nrows(),
            y.len()
        )));
    }
    let y = y
        .as_slice()
        .ok_or_else(|| Error::Shape("y is not contiguous".into()))?;
    let (metric, higher_is_better) = match task {
        Task::Multiclass { .. } => ("log_loss", false),
        Task::Regression => ("rmse", false),
        Task::BinaryClassification { .. } => ("roc_auc", true),
    };
    let baseline = score(model, task, x, y)?;
    let mut shuffled = x.clone();
    let mut order: Vec<usize> = (0..x.nrows()).collect();
    let (mut mean, mut std) = (
        Vec::with_capacity(groups.len()),
        Vec::with_capacity(groups.len()),
    );
    for (g, (_, columns)) in groups.iter().enumerate() {
        if let Some(&c) = columns.iter().find(|&&c| c >= x.ncols()) {
            return Err(Error::Shape(format!(
                "column {c} of group {g} is out of range ({} columns)",
                x.ncols()
            )));
        }
        let mut drops = Vec::with_capacity(repeats);
        for r in 0..repeats {
            order.iter_mut().enumerate().for_each(|(i, o)| *o = i);
            order.shuffle(
                &mut seed
                    .derive_index("permutation", (g * repeats + r) as u64)
                    .rng(),
            );
            for &c in columns {
                for (i, &from) in order.iter().enumerate() {
                    shuffled[[i, c]] = x[[from, c]];
                }
            }
            let s = score(model, task, &shuffled, y)?;
            drops.push(if higher_is_better {
                baseline - s
            } else {
                s - baseline
            });
        }
        for &c in columns {
            shuffled.column_mut(c).assign(&x.column(c));
        }
        let m = drops.iter().sum::<f64>() / repeats as f64;
        let v = drops.iter().map(|d| (d - m) * (d - m)).sum::<f64>() / repeats as f64;
        mean.push(m);
        std.push(v.sqrt());
    }
    Ok(PermutationImportance {
        metric: metric.to_owned(),
        higher_is_better,
        baseline,
        repeats,
        columns: groups.iter().map(|(n, _)| n.clone()).collect(),
        mean,
        std,
    })
}
