"""The predictive part of the recompute against hand-built shops (PostgreSQL and SQLite)."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest

from treu.analytics import prediction, selectors, services
from treu.analytics.models import (
    ChurnRisk,
    CustomerFigures,
    CustomerPrediction,
    FitStatus,
    PeriodFigures,
    PredictionFit,
)
from treu.analytics.predictive import bgnbd
from treu.analytics.tests.helpers import berlin, order, recompute
from treu.commerce.services import ReturnLineInput, cancel_order, record_return
from treu.customers.tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

NOW = berlin(2025, 6, 20)
TODAY = prediction._day_number(NOW.date())


@pytest.fixture
def small_thresholds(monkeypatch):
    """Hand-made shops are small: the checks' minimums scaled down with them."""
    monkeypatch.setattr(prediction, "MIN_CUSTOMERS", 30)
    monkeypatch.setattr(prediction, "MIN_REPEAT_CUSTOMERS", 10)
    monkeypatch.setattr(prediction, "MIN_SPEND_CUSTOMERS", 10)


def simulated_shop(n: int, seed: int = 3):
    """Customers whose purchase days come from the BG/NBD process (about 2 purchases a
    year while alive) and order values from Gamma-Gamma (about 30 € on average), first
    orders spread over two years before NOW."""
    rng = np.random.default_rng(seed)
    params = bgnbd.BgNbdParams(r=2.0, alpha=50.0, a=1.0, b=4.0)  # in days
    customers = []
    for _ in range(n):
        age = int(rng.integers(200, 730))
        rate = rng.gamma(params.r, 1 / params.alpha)
        dropout = rng.beta(params.a, params.b)
        nu = rng.gamma(4.0, 1 / 1500)  # Gamma-Gamma: q = 4, γ = 1500 cents, p = 6

        def cents(nu=nu):
            return max(100, int(rng.gamma(6.0, 1 / nu)))

        customer = CustomerFactory()
        start = NOW - timedelta(days=age)
        day = 0.0
        order(customer, start, cents())
        while True:
            day += rng.exponential(1 / rate)
            if day >= age:
                break
            order(customer, start + timedelta(days=day), cents())
            if rng.random() < dropout:
                break
        customers.append(customer)
    return customers


def test_a_small_shop_gets_the_reasons_and_no_predictions():
    anna = CustomerFactory()
    order(anna, berlin(2025, 5, 1))
    order(anna, berlin(2025, 6, 1))
    result = recompute(NOW)
    fit = PredictionFit.objects.get(run=result.run)
    assert fit.status == FitStatus.INSUFFICIENT
    assert [p["code"] for p in fit.problems] == ["few_customers", "few_repeat", "young_shop"]
    assert (fit.customers, fit.repeat_customers, fit.history_days) == (1, 1, 50)
    assert not CustomerPrediction.objects.exists()
    texts = [prediction.problem_text(p) for p in fit.problems]
    assert "Weniger als 200 Kunden haben bestellt (bisher 1)" in texts[0]
    # The descriptive figures are there all the same.
    assert PeriodFigures.objects.exists()


def test_the_inputs_count_berlin_days_net_of_refunds_without_cancelled_orders():
    anna, ben = CustomerFactory(), CustomerFactory()
    order(anna, berlin(2025, 1, 10, 9), 1000)
    order(anna, berlin(2025, 1, 10, 18), 500)  # same day: one purchase
    order(anna, berlin(2025, 3, 1, 23, 30), 3000)  # 22:30 UTC, still 1 March in Berlin
    returned = order(anna, berlin(2025, 3, 2, 0, 30), 2500)  # 23:30 UTC on 1 March
    record_return(
        returned,
        lines=[
            ReturnLineInput(order_line_id=returned.lines.get().pk, quantity=1, amount_cents=500)
        ],
        refunded_at=berlin(2025, 3, 20),
    )
    cancel_order(order(anna, berlin(2025, 4, 1), 9999))
    order(ben, berlin(2025, 6, 1), 4000)
    cutoff = prediction._day_number(berlin(2025, 3, 2).date())
    summary = prediction.summarise(now=NOW, today=TODAY, cutoff=cutoff)
    by_id = {int(c): i for i, c in enumerate(summary.customer_ids)}
    a, b = by_id[anna.pk], by_id[ben.pk]
    assert (summary.x[a], summary.t_x[a], summary.T[a]) == (2, 51, 161)  # 10 Jan → 2 Mar
    assert summary.mean_spend[a] == 2500  # repeat days 1 and 2 March: (3000 + 2500 − 500) / 2
    assert (summary.cal_days[a], summary.cal_last_day[a]) == (2, cutoff - 1)
    assert (summary.x[b], summary.t_x[b], summary.T[b], summary.mean_spend[b]) == (0, 0, 19, 0)
    assert summary.cal_days[b] == 0


def test_a_shop_with_enough_history_gets_predictions_for_every_customer(small_thresholds):
    customers = simulated_shop(60)
    result = recompute(NOW)
    fit = PredictionFit.objects.get(run=result.run)
    assert fit.status == FitStatus.OK, fit.problems
    assert fit.p > 0 and fit.q > 1 and fit.gamma > 0
    assert fit.r > 0 and fit.alpha > 0 and fit.a > 0 and fit.b > 0
    assert fit.diagnostics["bgnbd"]["converged"]
    predictions = {p.customer_id: p for p in CustomerPrediction.objects.all()}
    assert set(predictions) == {c.pk for c in customers}
    for p in predictions.values():
        assert 0 <= p.p_alive <= 1
        assert 0 <= p.expected_90 <= p.expected_365
        if p.repeat_purchases == 0:
            assert p.churn_risk == ChurnRisk.ONE_TIME and p.p_alive == 1
        else:
            assert p.churn_risk == _band(p.p_alive)
        if p.next_order_on is not None:
            assert NOW.date() < p.next_order_on <= NOW.date() + timedelta(days=365)
            assert p.expected_365 >= 1
        if fit.has_value:
            assert p.clv_cents is not None and p.clv_cents >= 0
    # The customer who bought most often recently is the most likely to be alive.
    figures = {f.customer_id: f for f in CustomerFigures.objects.all()}
    assert len(figures) == len(predictions)


def _band(p_alive: float) -> str:
    if p_alive >= 0.75:
        return ChurnRisk.LOW
    if p_alive >= 0.5:
        return ChurnRisk.MEDIUM
    if p_alive >= 0.25:
        return ChurnRisk.HIGH
    return ChurnRisk.VERY_HIGH


def test_the_holdout_check_compares_predicted_and_actual_purchases(small_thresholds):
    simulated_shop(60, seed=5)
    fit = recompute(NOW).run.prediction_fit
    calibration = fit.calibration
    assert calibration["holdout_days"] == 182
    assert calibration["cutoff"] == (NOW.date() - timedelta(days=181)).isoformat()
    rows = calibration["rows"]
    assert sum(r[1] for r in rows) == calibration["customers"]
    assert calibration["actual_total"] == pytest.approx(sum(r[1] * r[3] for r in rows))
    assert all(r[2] >= 0 and r[3] >= 0 for r in rows)


def test_a_broken_model_does_not_cost_the_descriptive_figures(small_thresholds, monkeypatch):
    simulated_shop(35)

    def broken(*args, **kwargs):
        raise FloatingPointError("overflow")

    monkeypatch.setattr(prediction.bgnbd, "fit", broken)
    result = recompute(NOW)
    fit = PredictionFit.objects.get(run=result.run)
    assert fit.status == FitStatus.FAILED
    assert "overflow" in prediction.problem_text(fit.problems[0])
    assert PeriodFigures.objects.exists() and not CustomerPrediction.objects.exists()


def test_the_next_recompute_replaces_the_predictions(small_thresholds):
    simulated_shop(40)
    recompute(NOW)
    first = CustomerPrediction.objects.count()
    recompute(NOW + timedelta(days=30))
    assert CustomerPrediction.objects.count() == first
    assert PredictionFit.objects.count() == 2


def test_merging_customers_drops_the_duplicates_prediction(small_thresholds):
    customers = simulated_shop(40)
    recompute(NOW)
    services.delete_customer_figures(survivor=customers[0], duplicate=customers[1])
    assert not CustomerPrediction.objects.filter(customer=customers[1]).exists()
    assert selectors.run_state().last_done is not None
