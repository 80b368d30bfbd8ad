"""BG/NBD: the beta-geometric / negative binomial model of a customer's purchases.

Fader, Hardie and Lee (2005), "Counting Your Customers the Easy Way: An Alternative to the
Pareto/NBD Model", Marketing Science 24 (2), 275-284. While alive, a customer buys at rate
λ (Poisson; λ ~ Gamma(r, α) across customers); after every purchase they drop out with
probability p (p ~ Beta(a, b)). A customer is summarised by x (repeat purchases),
t_x (time of the last purchase since the first) and T (time since the first purchase).

Pure numpy/scipy, no Django: the time unit is whatever the caller passes (treu: weeks).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import betaln, digamma, expit, gammaln, hyp2f1

from treu.analytics.predictive.optimise import Fit, minimise_log_params, standard_errors

NAMES = ("r", "alpha", "a", "b")


@dataclass(frozen=True)
class BgNbdParams:
    r: float
    alpha: float
    a: float
    b: float

    def as_tuple(self) -> tuple[float, float, float, float]:
        return (self.r, self.alpha, self.a, self.b)


def _as_arrays(x, t_x, T):
    x = np.asarray(x, dtype=float)
    t_x = np.asarray(t_x, dtype=float)
    T = np.asarray(T, dtype=float)
    return np.broadcast_arrays(x, t_x, T)


def check_inputs(x, t_x, T) -> None:
    """Refuse impossible summaries: they would make the likelihood silently wrong."""
    x, t_x, T = _as_arrays(x, t_x, T)
    if x.size == 0:
        raise ValueError("no customers")
    if np.any(x < 0) or np.any(np.floor(x) != x):
        raise ValueError("the frequency must be a whole number of repeat purchases >= 0")
    if np.any(t_x < 0) or np.any(t_x > T):
        raise ValueError("the recency must lie between 0 and the age T")
    if np.any((x == 0) & (t_x != 0)):
        raise ValueError("a customer without repeat purchases has recency 0")
    if np.any((x > 0) & (t_x == 0)):
        raise ValueError("a repeat purchase lies after the first one (recency > 0)")


def log_likelihood_terms(params: BgNbdParams, x, t_x, T) -> np.ndarray:
    """Each customer's log-likelihood, in log space throughout.

    ln L = A1 + A2 + ln(exp(A3) + [x > 0] exp(A4)), with
    A1 = ln Γ(r+x) − ln Γ(r) + r ln α, A2 = ln B(a, b+x) − ln B(a, b),
    A3 = −(r+x) ln(α+T), A4 = ln a − ln(b+x−1) − (r+x) ln(α+t_x).
    """
    r, alpha, a, b = params.as_tuple()
    x, t_x, T = _as_arrays(x, t_x, T)
    a1 = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
    a2 = betaln(a, b + x) - betaln(a, b)
    a3 = -(r + x) * np.log(alpha + T)
    a4 = np.log(a) - np.log(b + np.maximum(x, 1) - 1) - (r + x) * np.log(alpha + t_x)
    a4 = np.where(x > 0, a4, -np.inf)
    return a1 + a2 + np.logaddexp(a3, a4)


class _Data:
    """The customers as the objective needs them, arranged so that an evaluation costs a
    handful of array operations per *repeat* customer and nothing per one-time buyer:

    - terms that depend on x alone (ln Γ, ψ) enter the weighted sum as Σ_x W_x f(x), with
      W_x the customers' weight per distinct x, computed once here;
    - one-time buyers (x = 0) contribute −r ln(α+T) only: grouped by distinct T;
    - repeat customers keep one row each, with indexes into the distinct x, T and t_x.
    """

    def __init__(self, x, t_x, T, w) -> None:
        w = w / w.sum()
        self.xu, ix = np.unique(x, return_inverse=True)
        self.wx = np.bincount(ix, weights=w, minlength=self.xu.size)
        zero = x == 0
        self.T0, i0 = np.unique(T[zero], return_inverse=True)
        self.w0 = np.bincount(i0, weights=w[zero], minlength=self.T0.size)
        rep = ~zero
        self.w = w[rep]
        self.x = x[rep]
        self.Tu, self.iT = np.unique(T[rep], return_inverse=True)
        self.tu, self.it = np.unique(t_x[rep], return_inverse=True)
        self.xr, self.ixr = np.unique(self.x, return_inverse=True)


def _objective(log_params, d: _Data, penalizer):
    """Mean negative log-likelihood (+ L2 penalty on the parameters) and its gradient with
    respect to the log-parameters. Weighted: a customer with weight k counts k times."""
    r, alpha, a, b = params = np.exp(log_params)
    xu, wx = d.xu, d.wx
    lr = np.log(alpha)
    # A1 + A2 per distinct x (B(a, b+x)/B(a, b) through ln Γ), and their derivatives.
    psi_abx = digamma(a + b + xu)
    psi_ab = digamma(a + b)
    value = np.sum(wx * (gammaln(r + xu) + gammaln(b + xu) - gammaln(a + b + xu))) + (
        r * lr - gammaln(r) + gammaln(a + b) - gammaln(b)
    )  # the weights sum to one
    g_r = np.sum(wx * digamma(r + xu)) - digamma(r) + lr
    g_alpha = r / alpha
    g_a = psi_ab - np.sum(wx * psi_abx)
    g_b = np.sum(wx * (digamma(b + xu) - psi_abx)) - digamma(b) + psi_ab
    # One-time buyers: A3 = −r ln(α+T), per distinct T.
    la0 = np.log(alpha + d.T0)
    value -= r * np.sum(d.w0 * la0)
    g_r -= np.sum(d.w0 * la0)
    g_alpha -= r * np.sum(d.w0 / (alpha + d.T0))
    # Repeat customers: ln(e^A3 + e^A4) = A3 + softplus(A4 − A3), per row.
    if d.x.size:
        w, rx = d.w, r + d.x
        la_T = np.log(alpha + d.Tu)[d.iT]
        la_t = np.log(alpha + d.tu)[d.it]
        inv_bx = (1 / (b + d.xr - 1))[d.ixr]
        diff = np.log(a) + np.log(inv_bx) + rx * (la_T - la_t)  # A4 − A3
        w4 = expit(diff)  # A4's share of e^A3 + e^A4
        value += np.sum(w * (np.logaddexp(0, diff) - rx * la_T))
        g_r -= np.sum(w * (la_T + w4 * (la_t - la_T)))
        inv_T = (1 / (alpha + d.Tu))[d.iT]
        inv_t = (1 / (alpha + d.tu))[d.it]
        g_alpha -= np.sum(w * rx * (inv_T + w4 * (inv_t - inv_T)))
        g_a += np.sum(w * w4) / a
        g_b -= np.sum(w * w4 * inv_bx)
    value = -value + penalizer * np.sum(params**2)
    grad = -np.array([g_r, g_alpha, g_a, g_b]) + 2 * penalizer * params
    # No np.dot: a BLAS call on a busy machine waits for its threads (~100x slower here).
    return value, grad * params  # chain rule: d/d ln θ = θ d/dθ


@dataclass(frozen=True)
class BgNbdFit(Fit):
    params: BgNbdParams
    standard_errors: tuple[float, ...] | None = None


def fit(x, t_x, T, *, weights=None, penalizer: float = 0.0) -> BgNbdFit:
    """Maximum-likelihood fit (L-BFGS-B on the log-parameters, analytic gradient).

    Time is scaled so that the oldest customer's age is 1 while fitting (as `lifetimes`
    does, so its penalizer means the same); α is reported in the caller's unit.
    """
    check_inputs(x, t_x, T)
    x, t_x, T = _as_arrays(x, t_x, T)
    weights = np.ones_like(x) if weights is None else np.asarray(weights, dtype=float)
    scale = 1.0 / T.max() if T.max() > 0 else 1.0
    data = _Data(x, t_x * scale, T * scale, weights)
    start = _start(x, t_x * scale, T * scale, weights, penalizer)
    result = minimise_log_params(_objective, start, (data, penalizer), names=NAMES)
    r, alpha, a, b = np.exp(result.log_params)
    params = BgNbdParams(float(r), float(alpha / scale), float(a), float(b))
    return BgNbdFit(
        params=params,
        log_likelihood=float(np.sum(weights * log_likelihood_terms(params, x, t_x, T))),
        customers=int(weights.sum()),
        converged=result.converged,
        at_bound=result.at_bound,
        iterations=result.iterations,
        evaluations=result.evaluations,
        message=result.message,
        standard_errors=_errors(params.as_tuple(), result, (data, penalizer), weights.sum()),
    )


WARM_START_ABOVE = 50_000
WARM_START_SAMPLE = 5_000


def _start(x, t_x, T, weights, penalizer) -> np.ndarray:
    """Where the search starts: ln θ = 0.1 (θ ≈ 1.1 on the scaled time, as `lifetimes`), or,
    for many customers, the optimum of a fixed random sample of 5,000 of them: it costs
    about one evaluation on all customers and saves about a third of them."""
    start = np.full(4, 0.1)
    if x.size <= WARM_START_ABOVE:
        return start
    sample = np.random.default_rng(0).choice(x.size, WARM_START_SAMPLE, replace=False)
    data = _Data(x[sample], t_x[sample], T[sample], weights[sample])
    first = minimise_log_params(_objective, start, (data, penalizer), names=NAMES)
    return first.log_params if first.converged and not first.at_bound else start


def _errors(values, result, args, customers) -> tuple[float, ...] | None:
    errors = standard_errors(_objective, result.log_params, args, customers)
    if errors is None:
        return None
    return tuple(float(v * e) for v, e in zip(values, errors, strict=True))


def probability_alive(params: BgNbdParams, x, t_x, T) -> np.ndarray:
    """P(still alive | x, t_x, T) = 1 / (1 + [x > 0] a/(b+x−1) ((α+T)/(α+t_x))^(r+x)),
    computed as a logistic of the log-odds (no overflow for frequent buyers)."""
    r, alpha, a, b = params.as_tuple()
    x, t_x, T = _as_arrays(x, t_x, T)
    log_odds_dead = (
        np.log(a)
        - np.log(b + np.maximum(x, 1) - 1)
        + (r + x) * (np.log(alpha + T) - np.log(alpha + t_x))
    )
    return np.where(x > 0, expit(-log_odds_dead), 1.0)


def conditional_expected_purchases(params: BgNbdParams, t, x, t_x, T) -> np.ndarray:
    """E[Y(t) | x, t_x, T]: expected purchases in the next `t` time units (paper, eq. 10).

    (a+b+x−1)/(a−1) · [1 − ((α+T)/(α+T+t))^(r+x) ₂F₁(r+x, b+x; a+b+x−1; z)] · P(alive),
    z = t/(α+T+t). The factor before ₂F₁ is folded in with Euler's transformation,
    (1−z)^(r+x) ₂F₁(r+x, b+x; c; z) = (1−z)^(a−1) ₂F₁(a+b−1−r, a−1; c; z), whose
    parameters do not grow with x, so frequent buyers neither overflow nor lose precision.
    """
    r, alpha, a, b = params.as_tuple()
    if abs(a - 1) < 1e-9:  # removable singularity of the closed form
        a = 1 + 1e-9
    x, t_x, T = _as_arrays(x, t_x, T)
    t = np.asarray(t, dtype=float)
    z = t / (alpha + T + t)
    weight = np.exp((a - 1) * np.log1p(-z))
    with np.errstate(over="ignore", invalid="ignore"):  # 0 · inf: handled right below
        complement = _c_times_complement(a + b + x - 1, weight, a + b - 1 - r, a - 1, z)
    tame = np.isfinite(complement)
    if not np.all(tame):
        # A large a (a fit on few customers) with z near 1: (1 − z)^(a−1) underflows to 0
        # while its ₂F₁ overflows. The paper's own form, whose parameters are r + x and
        # b + x, is tame exactly there.
        x_, z_ = np.broadcast_arrays(x, z)
        wild = ~np.broadcast_to(tame, x_.shape)
        xs, zs = x_[wild], z_[wild]
        complement = np.array(np.broadcast_to(complement, x_.shape), dtype=float)
        complement[wild] = _c_times_complement(
            a + b + xs - 1, np.exp((r + xs) * np.log1p(-zs)), r + xs, b + xs, zs
        )
    return complement / (a - 1) * probability_alive(params, x, t_x, T)


def _c_times_complement(c, weight, p1, p2, z) -> np.ndarray:
    """c · (1 − weight · ₂F₁(p1, p2; c; z)), also where c = 0 (x = 0 and a + b = 1): ₂F₁ has
    a pole there that c cancels; the limit is −weight · p1 p2 z ₂F₁(p1+1, p2+1; 2; z)."""
    c, weight, p1, p2, z = np.broadcast_arrays(
        *(np.asarray(v, dtype=float) for v in (c, weight, p1, p2, z))
    )
    result = np.empty(c.shape)
    pole = np.abs(c) < 1e-12
    ok = ~pole
    if ok.any():
        result[ok] = c[ok] * (1 - weight[ok] * _hyp2f1(p1[ok], p2[ok], c[ok], z[ok]))
    if pole.any():
        limit = p1[pole] * p2[pole] * z[pole] * _hyp2f1(p1[pole] + 1, p2[pole] + 1, 2.0, z[pole])
        result[pole] = -weight[pole] * limit
    return result if result.ndim else float(result)


def _hyp2f1(p1, p2, c, z) -> np.ndarray:
    """scipy's ₂F₁, with the plain power series where scipy gives up (it returns ±inf for
    some large c and z near 1, e.g. ₂F₁(1, −0.5; 99.5; 0.906), although the series converges
    there: z < 1 and c > 0)."""
    p1, p2, c, z = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in (p1, p2, c, z)))
    result = np.array(hyp2f1(p1, p2, c, z), dtype=float)
    bad = ~np.isfinite(result)
    if result.ndim == 0:
        result = result.reshape(1)
        p1, p2, c, z, bad = (np.reshape(v, 1) for v in (p1, p2, c, z, bad))
    if bad.any():
        a_, b_, c_, z_ = p1[bad], p2[bad], c[bad], z[bad]
        term = np.ones_like(z_)
        total = np.ones_like(z_)
        with np.errstate(over="ignore", invalid="ignore"):  # an overflow ends as inf
            for k in range(100_000):
                term = term * (a_ + k) * (b_ + k) / ((c_ + k) * (k + 1)) * z_
                total = total + term
                done = (np.abs(term) <= 1e-16 * np.abs(total)) | ~np.isfinite(total)
                if np.all(done):
                    break
        result[bad] = total
    return result


def expected_purchases_new_customer(params: BgNbdParams, t) -> np.ndarray:
    """E[X(t)] for a customer just acquired (paper, eq. 9)."""
    r, alpha, a, b = params.as_tuple()
    t = np.asarray(t, dtype=float)
    if abs(a - 1) < 1e-9:  # removable singularity of the closed form
        a = 1 + 1e-9
    z = t / (alpha + t)
    weight = np.exp(r * np.log(alpha / (alpha + t)))
    return _c_times_complement(a + b - 1, weight, r, b, z) / (a - 1)


def time_to_expected_purchases(
    params: BgNbdParams, x, t_x, T, *, purchases: float = 1.0, horizon: float, steps: int = 1
) -> np.ndarray:
    """The first time (a multiple of `steps`, at most `horizon`) by which `purchases` are
    expected, or NaN when not within the horizon. Bisection on the monotone E[Y(t)]."""
    x, t_x, T = _as_arrays(x, t_x, T)
    at_horizon = conditional_expected_purchases(params, horizon, x, t_x, T)
    result = np.full(x.shape, np.nan)
    due = at_horizon >= purchases
    if not due.any():
        return result
    xs, txs, Ts = x[due], t_x[due], T[due]
    # In whole steps: E(lo · steps) < purchases <= E(hi · steps); E(0) = 0.
    lo = np.zeros(xs.shape, dtype=np.int64)
    hi = np.full(xs.shape, int(np.ceil(horizon / steps)), dtype=np.int64)
    while np.any(hi - lo > 1):
        mid = (lo + hi) // 2
        reached = conditional_expected_purchases(params, mid * steps, xs, txs, Ts) >= purchases
        open_ = hi - lo > 1
        hi = np.where(open_ & reached, mid, hi)
        lo = np.where(open_ & ~reached, mid, lo)
    result[due] = np.minimum(hi * steps, horizon)
    return result


def simulate(rng: np.random.Generator, params: BgNbdParams, T) -> tuple[np.ndarray, ...]:
    """Draw (x, t_x, T) from the model for customers observed for T time units after their
    first purchase: λ ~ Gamma(r, 1/α), p ~ Beta(a, b), exponential waits, a coin with
    probability p after every repeat purchase."""
    T = np.asarray(T, dtype=float)
    n = T.size
    lam = rng.gamma(params.r, 1 / params.alpha, n)
    p = rng.beta(params.a, params.b, n)
    x = np.zeros(n)
    t_x = np.zeros(n)
    now = np.zeros(n)
    # Alive at the first purchase for sure: the coin follows every *repeat* purchase
    # (the likelihood of x = 0 is e^(−λT), without p).
    alive = np.ones(n, dtype=bool)
    while alive.any():
        idx = np.flatnonzero(alive)
        now[idx] += rng.exponential(1 / lam[idx])
        inside = now[idx] <= T[idx]
        bought = idx[inside]
        x[bought] += 1
        t_x[bought] = now[bought]
        alive[idx[~inside]] = False
        alive[bought] = rng.random(bought.size) >= p[bought]
    return x, t_x, T
