"""Gamma-Gamma: the spend per purchase, independent of how often a customer buys.

Fader and Hardie (2005), "The Gamma-Gamma Model of Monetary Value" (note). A customer's
purchases are Gamma(p, ν) distributed; ν ~ Gamma(q, γ) across customers. Input per
customer with x ≥ 1 repeat purchases: x and their mean value m. Pure numpy/scipy.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import digamma, gammaln

from treu.analytics.predictive.optimise import Fit, minimise_log_params, standard_errors

NAMES = ("p", "q", "gamma")


@dataclass(frozen=True)
class GammaGammaParams:
    p: float
    q: float
    gamma: float

    def as_tuple(self) -> tuple[float, float, float]:
        return (self.p, self.q, self.gamma)

    @property
    def mean_spend(self) -> float | None:
        """E[Z] = pγ/(q−1): the population's mean spend per purchase (none for q ≤ 1)."""
        return self.p * self.gamma / (self.q - 1) if self.q > 1 else None


def log_likelihood_terms(params: GammaGammaParams, x, m) -> np.ndarray:
    p, q, g = params.as_tuple()
    x = np.asarray(x, dtype=float)
    m = np.asarray(m, dtype=float)
    return (
        gammaln(p * x + q)
        - gammaln(p * x)
        - gammaln(q)
        + q * np.log(g)
        + (p * x - 1) * np.log(m)
        + p * x * np.log(x)
        - (p * x + q) * np.log(x * m + g)
    )


class _Data:
    """The customers arranged for cheap, well-conditioned evaluations. With
    L = ln(1 + γ/(x m)) the per-customer part of the log-likelihood is

        (p x − 1) ln m + p x ln x − (p x + q) ln(x m + γ) = −(p x + q) L − ln m − q ln(x m),

    so per customer only L and 1/(x m + γ) depend on the parameters; every term of x alone
    is summed per distinct x (weights W_x), the rest once here."""

    def __init__(self, x, m, w) -> None:
        w = w / w.sum()
        self.xu, ix = np.unique(x, return_inverse=True)
        self.wx = np.bincount(ix, weights=w, minlength=self.xu.size)
        self.w = w
        self.wxr = w * x  # per customer: weight × x
        self.inv_xm = 1 / (x * m)
        self.s_log_m = np.sum(w * np.log(m))
        self.s_log_xm = np.sum(w * np.log(x * m))


def _objective(log_params, d: _Data, penalizer):
    """Mean negative log-likelihood and gradient in the log-parameters (weights sum to one)."""
    p, q, g = params = np.exp(log_params)
    xu, wx = d.xu, d.wx
    pxu = p * xu
    psi = digamma(pxu + q)
    ratio = g * d.inv_xm  # γ/(x m)
    big_l = np.log1p(ratio)
    inv = d.inv_xm / (1 + ratio)  # 1/(x m + γ)
    s_wx_l = np.sum(d.wxr * big_l)
    s_w_l = np.sum(d.w * big_l)
    log_g = np.log(g)
    value = (
        np.sum(wx * (gammaln(pxu + q) - gammaln(pxu)))
        - gammaln(q)
        + q * (log_g - d.s_log_xm)
        - p * s_wx_l
        - q * s_w_l
        - d.s_log_m
    )
    g_p = np.sum(wx * xu * (psi - digamma(pxu))) - s_wx_l
    g_q = np.sum(wx * psi) - digamma(q) + log_g - d.s_log_xm - s_w_l
    g_g = q / g - p * np.sum(d.wxr * inv) - q * np.sum(d.w * inv)
    value = -value + penalizer * np.sum(params**2)
    grad = -np.array([g_p, g_q, g_g]) + 2 * penalizer * params
    # No np.dot: a BLAS call on a busy machine waits for its threads (~100x slower here).
    return value, grad * params


@dataclass(frozen=True)
class GammaGammaFit(Fit):
    params: GammaGammaParams
    standard_errors: tuple[float, ...] | None = None


def check_inputs(x, m) -> None:
    x = np.asarray(x, dtype=float)
    m = np.asarray(m, dtype=float)
    if x.size == 0:
        raise ValueError("no customers with repeat purchases")
    if np.any(x < 1):
        raise ValueError("only customers with at least one repeat purchase")
    if np.any(m <= 0) or not np.all(np.isfinite(m)):
        raise ValueError("the mean spend must be positive")


def fit(x, m, *, weights=None, penalizer: float = 0.0) -> GammaGammaFit:
    """Maximum likelihood on the log-parameters; spend is scaled to mean 1 while fitting
    (γ is reported in the caller's money unit, p and q do not depend on it)."""
    check_inputs(x, m)
    x = np.asarray(x, dtype=float)
    m = np.asarray(m, dtype=float)
    weights = np.ones_like(x) if weights is None else np.asarray(weights, dtype=float)
    scale = 1.0 / np.average(m, weights=weights)
    args = (_Data(x, m * scale, weights), penalizer)
    result = minimise_log_params(_objective, np.full(3, 0.1), args, names=NAMES)
    p, q, g = np.exp(result.log_params)
    params = GammaGammaParams(float(p), float(q), float(g / scale))
    return GammaGammaFit(
        params=params,
        log_likelihood=float(np.sum(weights * log_likelihood_terms(params, x, m))),
        customers=int(weights.sum()),
        converged=result.converged,
        at_bound=result.at_bound,
        iterations=result.iterations,
        evaluations=result.evaluations,
        message=result.message,
        standard_errors=_errors(params.as_tuple(), result, args, weights.sum()),
    )


def _errors(values, result, args, customers) -> tuple[float, ...] | None:
    errors = standard_errors(_objective, result.log_params, args, customers)
    if errors is None:
        return None
    return tuple(float(v * e) for v, e in zip(values, errors, strict=True))


def conditional_expected_spend(params: GammaGammaParams, x, m) -> np.ndarray:
    """E[Z | x, m] = p(γ + x m)/(p x + q − 1): the customer's mean weighted with the
    population's, by how many purchases back it. Customers without repeat purchases
    (x = 0) get the population mean pγ/(q−1)."""
    p, q, g = params.as_tuple()
    x = np.asarray(x, dtype=float)
    m = np.where(x > 0, np.maximum(np.asarray(m, dtype=float), 0.0), 0.0)
    return p * (g + x * m) / (p * x + q - 1)


def simulate(rng: np.random.Generator, params: GammaGammaParams, x) -> np.ndarray:
    """Mean spend of x purchases per customer: ν ~ Gamma(q, 1/γ), the sum of x purchases
    Gamma(p, 1/ν) is Gamma(p x, 1/ν)."""
    x = np.asarray(x, dtype=float)
    nu = rng.gamma(params.q, 1 / params.gamma, x.size)
    return rng.gamma(params.p * x, 1 / nu) / x
