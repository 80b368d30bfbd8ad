"""What the two model fits share: the bounded L-BFGS-B search over the logarithms of the
parameters, and what a fit reports."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize

# ln θ within ±15: θ from 3e-7 to 3e6 (on the fit's scaled units). A parameter that ends
# at a bound means the data cannot pin it down (e.g. nobody ever drops out).
LOG_BOUND = 15.0


@dataclass(frozen=True)
class Fit:
    log_likelihood: float  # summed over customers, at the fitted parameters
    customers: int
    converged: bool
    at_bound: tuple[str, ...]  # names of parameters stopped at a bound
    iterations: int
    evaluations: int
    message: str

    @property
    def ok(self) -> bool:
        """Converged inside the bounds with an invertible information matrix: the data pin
        every parameter down (degenerate data, e.g. nobody bought twice, do not)."""
        errors = getattr(self, "standard_errors", None)
        return self.converged and not self.at_bound and errors is not None


@dataclass(frozen=True)
class Minimum:
    log_params: np.ndarray
    converged: bool
    at_bound: tuple[str, ...]
    iterations: int
    evaluations: int
    message: str


def minimise_log_params(objective, start: np.ndarray, args: tuple, *, names) -> Minimum:
    """Minimise objective(log_params, *args) -> (value, gradient). Tight tolerances: the
    objective is a mean log-likelihood of order 1, and parameters must be stable to well
    below the three significant digits anyone reads."""
    bounds = [(-LOG_BOUND, LOG_BOUND)] * len(start)
    result = minimize(
        objective,
        start,
        args=args,
        jac=True,
        method="L-BFGS-B",
        bounds=bounds,
        options={"maxiter": 2000, "ftol": 1e-14, "gtol": 1e-9, "maxcor": 20},
    )
    log_params = np.asarray(result.x, dtype=float)
    converged = bool(result.success) and bool(np.all(np.isfinite(log_params)))
    if not converged:
        # ABNORMAL_TERMINATION_IN_LNSRCH at a point where the gradient is already tiny
        # is a converged fit that cannot improve in float64: accept it when that is so.
        _, gradient = objective(log_params, *args)
        converged = bool(np.all(np.isfinite(gradient)) and np.max(np.abs(gradient)) < 1e-5)
    at_bound = tuple(
        name
        for name, value in zip(names, log_params, strict=True)
        if abs(abs(value) - LOG_BOUND) < 1e-3
    )
    return Minimum(
        log_params=log_params,
        converged=converged,
        at_bound=at_bound,
        iterations=int(result.nit),
        evaluations=int(result.nfev),
        message=str(result.message),
    )


def standard_errors(objective, log_params: np.ndarray, args: tuple, customers: float):
    """Standard errors of the log-parameters from the observed information: the Hessian of
    the mean negative log-likelihood by forward differences of the analytic gradient
    (SE(θ) ≈ θ · SE(ln θ); a relative error of ~1e-5 is plenty for an error bar). None when
    the Hessian is not invertible."""
    k = len(log_params)
    hessian = np.empty((k, k))
    step = 1e-5
    at = objective(log_params, *args)[1]
    for i in range(k):
        up = log_params.copy()
        up[i] += step
        hessian[i] = (objective(up, *args)[1] - at) / step
    hessian = (hessian + hessian.T) / 2
    try:
        covariance = np.linalg.inv(hessian) / customers
    except np.linalg.LinAlgError:
        return None
    variances = np.diag(covariance)
    if np.any(~np.isfinite(variances)) or np.any(variances < 0):
        return None
    return np.sqrt(variances)
