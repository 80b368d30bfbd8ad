"""The BG/NBD and Gamma-Gamma maths (no database): published figures, parameter recovery
from data simulated with known parameters, and the edge cases."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from scipy.special import hyp2f1

from treu.analytics.predictive import bgnbd, clv, gamma_gamma
from treu.analytics.predictive.bgnbd import BgNbdParams
from treu.analytics.predictive.gamma_gamma import GammaGammaParams

# Fader, Hardie and Lee (2005), table/fit on CDNOW (2,357 customers, 39 weeks, in weeks).
CDNOW = BgNbdParams(r=0.243, alpha=4.414, a=0.793, b=2.426)
CDNOW_LL = -9582.4
# Fader and Hardie (2005), "The Gamma-Gamma Model of Monetary Value", on CDNOW's 946
# repeat buyers.
CDNOW_SPEND = GammaGammaParams(p=6.25, q=3.74, gamma=15.44)
# The CDNOW summary (x, t_x, T in weeks, mean repeat spend) as shipped with the `lifetimes`
# package (MIT) and published by Fader and Hardie; kept here so no test fetches anything.
DATA = Path(__file__).parent / "data" / "cdnow_summary.csv"


@pytest.fixture(scope="module")
def cdnow():
    with DATA.open() as f:
        rows = list(csv.DictReader(f))
    return tuple(np.array([float(r[k]) for r in rows]) for k in ("x", "t_x", "T", "zbar"))


def test_it_reproduces_the_published_bgnbd_fit_on_cdnow(cdnow):
    x, t_x, T, _ = cdnow
    assert len(x) == 2357
    fit = bgnbd.fit(x, t_x, T)
    assert fit.ok
    # As published: to three decimals (the paper's precision; three significant digits
    # and more for alpha and b).
    assert tuple(round(v, 3) for v in fit.params.as_tuple()) == CDNOW.as_tuple()
    assert fit.log_likelihood == pytest.approx(CDNOW_LL, abs=0.05)


def test_it_reproduces_the_published_gamma_gamma_fit_on_cdnow(cdnow):
    x, _, _, m = cdnow
    repeat = x > 0
    assert repeat.sum() == 946
    fit = gamma_gamma.fit(x[repeat], m[repeat])
    assert fit.ok
    # Published to two decimals; γ = 15.4477 is printed as 15.44 there (lifetimes: 15.45).
    np.testing.assert_allclose(fit.params.as_tuple(), CDNOW_SPEND.as_tuple(), atol=0.01)


def test_conditional_expectation_matches_hardies_worked_example():
    # The BG/NBD Excel note: x = 2, t_x = 30.43, T = 38.86 -> 1.226 purchases in 39 weeks.
    assert bgnbd.conditional_expected_purchases(CDNOW, 39, 2, 30.43, 38.86) == pytest.approx(
        1.226, abs=5e-4
    )


def test_the_euler_form_equals_the_papers_formula_and_stays_finite_for_big_buyers():
    r, alpha, a, b = CDNOW.as_tuple()
    for x, t_x, T, t in ((1, 5.0, 30.0, 10.0), (4, 20.0, 38.0, 52.0), (10, 70.0, 80.0, 104.0)):
        z = t / (alpha + T + t)
        tail = ((alpha + T) / (alpha + T + t)) ** (r + x) * hyp2f1(r + x, b + x, a + b + x - 1, z)
        alive = 1 / (1 + a / (b + x - 1) * ((alpha + T) / (alpha + t_x)) ** (r + x))
        paper = (a + b + x - 1) / (a - 1) * (1 - tail) * alive
        ours = bgnbd.conditional_expected_purchases(CDNOW, t, x, t_x, T)
        assert ours == pytest.approx(paper, rel=1e-9)
    big = bgnbd.conditional_expected_purchases(CDNOW, 52, 800, 155.9, 156)
    assert np.isfinite(big) and 200 < big < 300  # ~5 a week, nearly certainly alive
    assert bgnbd.probability_alive(CDNOW, 800, 100, 156) == pytest.approx(0, abs=1e-12)


def test_a_large_a_with_z_near_one_gives_the_papers_value_not_nan():
    """A fit on a handful of customers can give a of several hundred: the Euler form's
    (1 − z)^(a−1) underflows to 0 while its ₂F₁ overflows, 0 · inf = NaN (seen as a
    garbage CLV in cents on the demo data). The paper's own form is tame there."""
    params = BgNbdParams(r=0.0493, alpha=0.2759, a=294.25, b=0.005122)
    r, alpha, a, b = params.as_tuple()
    for x, t_x, T, t in ((0, 0.0, 2.3, 52.0), (0, 0.0, 2.3, 8.7), (9, 0.4, 34.7, 52.0)):
        z = t / (alpha + T + t)
        tail = ((alpha + T) / (alpha + T + t)) ** (r + x) * hyp2f1(r + x, b + x, a + b + x - 1, z)
        alive = bgnbd.probability_alive(params, x, t_x, T)
        paper = (a + b + x - 1) / (a - 1) * (1 - tail) * alive
        ours = bgnbd.conditional_expected_purchases(params, t, x, t_x, T)
        assert np.isfinite(ours)
        assert ours == pytest.approx(paper, rel=1e-9, abs=1e-15)


def test_the_analytic_gradient_matches_finite_differences(cdnow):
    x, t_x, T, m = cdnow
    data = bgnbd._Data(x, t_x / T.max(), T / T.max(), np.ones_like(x))
    point = np.log([0.3, 0.2, 0.9, 2.0])
    _, grad = bgnbd._objective(point, data, 0.01)
    for i in range(4):
        step = np.zeros(4)
        step[i] = 1e-6
        numeric = (
            bgnbd._objective(point + step, data, 0.01)[0]
            - bgnbd._objective(point - step, data, 0.01)[0]
        ) / 2e-6
        assert grad[i] == pytest.approx(numeric, rel=1e-5, abs=1e-9)
    repeat = x > 0
    xs, ms = x[repeat], m[repeat] / m[repeat].mean()
    args = (gamma_gamma._Data(xs, ms, np.ones_like(xs)), 0.01)
    point = np.log([5.0, 3.0, 0.5])
    _, grad = gamma_gamma._objective(point, *args)
    for i in range(3):
        step = np.zeros(3)
        step[i] = 1e-6
        numeric = (
            gamma_gamma._objective(point + step, *args)[0]
            - gamma_gamma._objective(point - step, *args)[0]
        ) / 2e-6
        assert grad[i] == pytest.approx(numeric, rel=1e-5, abs=1e-9)


@pytest.fixture(scope="module")
def simulated():
    """20,000 customers drawn from both models with CDNOW's parameters (fixed seed),
    observed 1 to 3 years (in weeks) after their first purchase."""
    rng = np.random.default_rng(20251126)
    x, t_x, T = bgnbd.simulate(rng, CDNOW, rng.uniform(52, 156, 20_000))
    repeat = x > 0
    m = np.zeros_like(x)
    m[repeat] = gamma_gamma.simulate(rng, CDNOW_SPEND, x[repeat])
    return x, t_x, T, m


def test_it_recovers_the_bgnbd_parameters_it_simulated_from(simulated):
    x, t_x, T, _ = simulated
    fit = bgnbd.fit(x, t_x, T)
    assert fit.ok
    for estimate, true, error in zip(
        fit.params.as_tuple(), CDNOW.as_tuple(), fit.standard_errors, strict=True
    ):
        assert abs(estimate - true) < 3 * error  # within three standard errors
        assert error < 0.1 * true  # and those are small: 20,000 customers pin them down


def test_it_recovers_the_gamma_gamma_parameters_it_simulated_from(simulated):
    x, _, _, m = simulated
    repeat = x > 0
    fit = gamma_gamma.fit(x[repeat], m[repeat])
    assert fit.ok
    for estimate, true, error in zip(
        fit.params.as_tuple(), CDNOW_SPEND.as_tuple(), fit.standard_errors, strict=True
    ):
        assert abs(estimate - true) < 3 * error
        assert error < 0.2 * true  # p and q trade off against each other: wider


def test_the_simulation_agrees_with_the_models_own_expectation():
    """Mean repeat purchases of simulated new customers over 52 weeks vs E[X(52)]."""
    rng = np.random.default_rng(7)
    x, _, _ = bgnbd.simulate(rng, CDNOW, np.full(50_000, 52.0))
    expected = bgnbd.expected_purchases_new_customer(CDNOW, 52.0)
    assert x.mean() == pytest.approx(expected, rel=0.03)


def test_the_penalizer_shrinks_the_parameters(simulated):
    x, t_x, T, _ = simulated
    plain = bgnbd.fit(x, t_x, T)
    shrunk = bgnbd.fit(x, t_x, T, penalizer=0.1)
    assert sum(v**2 for v in shrunk.params.as_tuple()[2:]) < sum(
        v**2 for v in plain.params.as_tuple()[2:]
    )
    assert shrunk.log_likelihood < plain.log_likelihood


def test_probability_alive_is_one_without_repeat_purchases_and_falls_with_silence():
    assert bgnbd.probability_alive(CDNOW, 0, 0, 50) == 1.0
    early, late = bgnbd.probability_alive(CDNOW, 3, 10, np.array([12.0, 60.0]))
    assert 0 < late < early < 1


def test_customers_without_repeat_purchases_get_predictions(simulated):
    purchases = bgnbd.conditional_expected_purchases(CDNOW, 52, 0, 0, np.array([1.0, 100.0]))
    assert 0 < purchases[1] < purchases[0]  # long silent: a slow buyer
    spend = gamma_gamma.conditional_expected_spend(CDNOW_SPEND, 0, 0)
    assert spend == pytest.approx(CDNOW_SPEND.mean_spend)


def test_degenerate_histories_do_not_give_a_usable_fit():
    # All on the same day (nobody bought again), and a shop with one customer.
    assert not bgnbd.fit([0, 0, 0], [0, 0, 0], [10, 10, 10]).ok
    assert not bgnbd.fit([0], [0], [10]).ok
    assert not gamma_gamma.fit([1], [10.0]).ok


@pytest.mark.parametrize(
    ("x", "t_x", "T"),
    [([-1], [0], [5]), ([1.5], [2], [5]), ([2], [6], [5]), ([0], [1], [5]), ([1], [0], [5])],
)
def test_it_refuses_impossible_summaries(x, t_x, T):
    with pytest.raises(ValueError):
        bgnbd.fit(x, t_x, T)


def test_it_refuses_non_positive_spend():
    with pytest.raises(ValueError):
        gamma_gamma.fit([1, 2], [10.0, 0.0])


def test_the_next_purchase_time_is_the_first_step_reaching_one_purchase():
    x, t_x, T = np.array([5.0, 0.0, 12.0]), np.array([30.0, 0.0, 50.0]), np.array([38.0] * 3)
    due = bgnbd.time_to_expected_purchases(CDNOW, x, t_x, T, horizon=52, steps=1 / 7)
    assert np.isnan(due[1])  # a one-time buyer: not within a year
    for i in (0, 2):
        assert bgnbd.conditional_expected_purchases(CDNOW, due[i], x[i], t_x[i], T[i]) >= 1
        before = due[i] - 1 / 7
        assert bgnbd.conditional_expected_purchases(CDNOW, before, x[i], t_x[i], T[i]) < 1
    assert due[2] < due[0]  # the more frequent buyer is due sooner


def test_discounted_clv_without_discount_is_spend_times_expected_purchases():
    x, t_x, T, m = np.array([2.0]), np.array([30.43]), np.array([38.86]), np.array([22.35])
    undiscounted = clv.discounted_clv(
        CDNOW, CDNOW_SPEND, x, t_x, T, m, month_length=52 / 12, monthly_discount=0.0
    )
    spend = gamma_gamma.conditional_expected_spend(CDNOW_SPEND, x, m)
    purchases = bgnbd.conditional_expected_purchases(CDNOW, 52, x, t_x, T)
    assert undiscounted == pytest.approx(spend * purchases, rel=1e-12)
    discounted = clv.discounted_clv(
        CDNOW, CDNOW_SPEND, x, t_x, T, m, month_length=52 / 12,
        monthly_discount=clv.monthly_rate(0.10),
    )  # fmt: skip
    assert spend * purchases / 1.10 < discounted < undiscounted
    assert clv.monthly_rate(0.10) == pytest.approx(1.10 ** (1 / 12) - 1)


positive = st.floats(min_value=0.05, max_value=20, allow_nan=False)


@settings(max_examples=200, deadline=None)
@given(
    r=positive,
    alpha=positive,
    a=st.floats(min_value=0.1, max_value=500).filter(lambda v: abs(v - 1) > 1e-3),
    b=positive,
    x=st.integers(min_value=0, max_value=300),
    recency=st.floats(min_value=0, max_value=1),
    T=st.floats(min_value=0.5, max_value=300),
    t=st.floats(min_value=0.1, max_value=104),
)
# scipy's hyp2f1 returns inf for this one (c = 99.5, z = 0.906): the series fallback.
@example(r=0.5, alpha=0.125, a=0.5, b=2.0, x=98, recency=0.0, T=0.5, t=3.0)
# x = 0 and a + b = 1: ₂F₁'s third parameter is 0, a pole the prefactor cancels.
@example(r=1.0, alpha=1.0, a=0.5, b=0.5, x=0, recency=0.0, T=1.0, t=1.0)
# A large a from a fit on few customers: (1 − z)^(a−1) underflows in the Euler form.
@example(r=0.05, alpha=0.28, a=294.25, b=0.05, x=0, recency=0.0, T=2.3, t=52.0)
def test_predictions_are_probabilities_and_grow_with_the_horizon(r, alpha, a, b, x, recency, T, t):
    params = BgNbdParams(r, alpha, a, b)
    t_x = recency * T if x else 0.0
    if x and t_x == 0:
        t_x = T
    p_alive = bgnbd.probability_alive(params, x, t_x, T)
    assert 0 <= p_alive <= 1
    shorter = bgnbd.conditional_expected_purchases(params, t, x, t_x, T)
    longer = bgnbd.conditional_expected_purchases(params, 2 * t, x, t_x, T)
    assert np.isfinite(shorter) and np.isfinite(longer)
    assert -1e-9 <= shorter <= longer * (1 + 1e-9) + 1e-12
    assert np.isfinite(bgnbd.log_likelihood_terms(params, x, t_x, T))
    assert 0 <= bgnbd.expected_purchases_new_customer(params, t) < np.inf


def test_a_warm_start_from_a_sample_reaches_the_same_optimum(monkeypatch):
    monkeypatch.setattr(bgnbd, "WARM_START_ABOVE", 10_000)
    rng = np.random.default_rng(99)
    x, t_x, T = bgnbd.simulate(rng, CDNOW, rng.uniform(10, 150, 12_000))
    warm = bgnbd.fit(x, t_x, T)  # 12,000 customers: above the (lowered) threshold
    monkeypatch.setattr(bgnbd, "WARM_START_ABOVE", 10**9)
    cold = bgnbd.fit(x, t_x, T)
    assert warm.ok and cold.ok
    np.testing.assert_allclose(warm.params.as_tuple(), cold.params.as_tuple(), rtol=1e-5)
