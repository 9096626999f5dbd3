//! Records transformed and checked one by one, then predicted together, so a
//! tree ensemble scores them tree by tree (`InferenceModel::predict_rows`).

use mlops_core::data::Value;

use super::model::Model;

/// Records predicted together: large enough to amortize one pass over the
/// forest, small enough that the feature rows stay in L2.
pub(crate) const BLOCK_RECORDS: usize = 512;

/// Feature rows waiting for prediction.
pub(crate) struct Block {
    rows: Vec<f64>,
    scores: Vec<f64>,
    n_features: usize,
    /// Scores per record (classes of a multiclass model, or 1).
    n_scores: usize,
}

impl Block {
    pub(crate) fn new(model: &Model) -> Self {
        let n_features = model.n_outputs();
        Block {
            rows: Vec::with_capacity(BLOCK_RECORDS * n_features),
            scores: Vec::with_capacity(BLOCK_RECORDS * model.n_scores()),
            n_features,
            n_scores: model.n_scores(),
        }
    }

    /// Transforms one record (values in `Model::inputs` order) into the
    /// block and returns its unseen-category count, or the offending column
    /// and reason (the record is then not added).
    #[inline]
    pub(crate) fn push(
        &mut self,
        model: &Model,
        values: &[Value<'_>],
    ) -> std::result::Result<usize, (Option<String>, String)> {
        let start = self.rows.len();
        self.rows.resize(start + self.n_features, 0.0);
        let result = model.prepare(values, &mut self.rows[start..]);
        if result.is_err() {
            self.rows.truncate(start);
        }
        result
    }

    /// Records in the block.
    pub(crate) fn len(&self) -> usize {
        self.rows.len() / self.n_features.max(1)
    }

    pub(crate) fn is_full(&self) -> bool {
        self.len() >= BLOCK_RECORDS
    }

    /// Predicts every record of the block, in push order, and empties it:
    /// `Model::n_scores` values per record.
    pub(crate) fn predict(&mut self, model: &Model) -> &[f64] {
        self.scores.clear();
        self.scores.resize(self.len() * self.n_scores, 0.0);
        model.predict_block(&self.rows, &mut self.scores);
        self.rows.clear();
        &self.scores
    }
}
