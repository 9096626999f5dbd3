//! Search over run summaries.

use super::record::RunSummary;

/// A search request.
#[derive(Debug, Clone, Default)]
pub struct SearchQuery {
    /// Experiment names to search; empty means all.
    pub experiments: Vec<String>,
    /// Filter expression.
    pub filter: Option<String>,
    /// Order-by keys.
    pub order_by: Vec<String>,
    /// Max runs per page.
    pub limit: usize,
    /// Token from a previous page.
    pub page_token: Option<String>,
}

/// One page of results.
#[derive(Debug, Clone)]
pub struct SearchPage {
    /// Matching runs.
    pub runs: Vec<RunSummary>,
    /// Token for the next page.
    pub next_page_token: Option<String>,
}
