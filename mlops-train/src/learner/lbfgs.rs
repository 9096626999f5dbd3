//! The L-BFGS fit both logistic regressions share: argmin's L-BFGS (memory
//! 10, More-Thuente line search) on an objective that computes cost and
//! gradient in one pass. The line search asks for both at each trial point,
//! one call after the other, so the last result is kept and handed out again.

use std::cell::RefCell;

use argmin::core::{CostFunction, Executor, Gradient, State, TerminationReason, TerminationStatus};
use argmin::solver::linesearch::MoreThuenteLineSearch;
use argmin::solver::quasinewton::LBFGS;
use ndarray::Array1;

use crate::{Error, Result};

/// A smooth objective: cost and gradient at a point in one pass.
pub(super) trait Smooth {
    /// Cost and gradient at `w`.
    fn cost_and_gradient(
        &self,
        w: &[f64],
    ) -> std::result::Result<(f64, Vec<f64>), argmin::core::Error>;
}

/// A point, its cost and its gradient.
type Evaluation = (Array1<f64>, f64, Array1<f64>);

/// `O` with its last evaluation kept.
struct Cached<O> {
    objective: O,
    last: RefCell<Option<Evaluation>>,
}

impl<O: Smooth> Cached<O> {
    fn evaluate(
        &self,
        w: &Array1<f64>,
    ) -> std::result::Result<(f64, Array1<f64>), argmin::core::Error> {
        if let Some((at, cost, grad)) = self.last.borrow().as_ref()
            && at == w
        {
            return Ok((*cost, grad.clone()));
        }
        let ws = w
            .as_slice()
            .ok_or_else(|| argmin::core::Error::msg("strided parameters"))?;
        let (cost, g) = self.objective.cost_and_gradient(ws)?;
        let grad = Array1::from(g);
        *self.last.borrow_mut() = Some((w.clone(), cost, grad.clone()));
        Ok((cost, grad))
    }
}

impl<O: Smooth> CostFunction for Cached<O> {
    type Param = Array1<f64>;
    type Output = f64;

    fn cost(&self, w: &Array1<f64>) -> std::result::Result<f64, argmin::core::Error> {
        Ok(self.evaluate(w)?.0)
    }
}

impl<O: Smooth> Gradient for Cached<O> {
    type Param = Array1<f64>;
    type Gradient = Array1<f64>;

    fn gradient(&self, w: &Array1<f64>) -> std::result::Result<Array1<f64>, argmin::core::Error> {
        Ok(self.evaluate(w)?.1)
    }
}

/// Where the solver stopped.
pub(super) struct Solution {
    /// The best parameters seen.
    pub(super) params: Array1<f64>,
    /// L-BFGS iterations run.
    pub(super) iterations: u64,
    /// Whether the gradient tolerance was reached.
    pub(super) converged: bool,
}

/// Minimises `objective` from `init`, stopping on the gradient test (as
/// scikit-learn), not on a tiny cost change, or after `max_iter`
/// iterations (a warning names `what`).
pub(super) fn minimise(
    objective: impl Smooth,
    init: Array1<f64>,
    gradient_tolerance: f64,
    max_iter: u64,
    what: &str,
) -> Result<Solution> {
    let solver = LBFGS::new(MoreThuenteLineSearch::new(), 10)
        .with_tolerance_grad(gradient_tolerance)
        .map_err(optimizer)?
        .with_tolerance_cost(0.0)
        .map_err(optimizer)?;
    let cached = Cached {
        objective,
        last: RefCell::new(None),
    };
    let result = Executor::new(cached, solver)
        .configure(|state| state.param(init).max_iters(max_iter))
        .timer(false)
        .run()
        .map_err(optimizer)?;
    let state = result.state();
    let converged = matches!(
        state.get_termination_status(),
        TerminationStatus::Terminated(TerminationReason::SolverConverged)
    );
    if !converged {
        tracing::warn!(
            iterations = state.get_iter(),
            status = %state.get_termination_status(),
            "{what} stopped before the gradient tolerance"
        );
    }
    let params = state.get_best_param().ok_or_else(|| Error::Optimizer {
        learner: "logreg",
        reason: "L-BFGS returned no parameters".into(),
    })?;
    Ok(Solution {
        params: params.clone(),
        iterations: state.get_iter(),
        converged,
    })
}

fn optimizer(e: argmin::core::Error) -> Error {
    Error::Optimizer {
        learner: "logreg",
        reason: e.to_string(),
    }
}
