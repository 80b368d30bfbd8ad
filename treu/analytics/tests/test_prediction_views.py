"""The customer value forecast page, the churn-risk drill-down, the CSV and the rate setting."""

from __future__ import annotations

import pytest
from django.urls import reverse

from treu.analytics.models import (
    AnalyticsSettings,
    ChurnRisk,
    CustomerPrediction,
    PredictionFit,
    RecomputeRun,
)
from treu.analytics.tests.helpers import berlin, order, recompute
from treu.analytics.tests.test_prediction import NOW, simulated_shop, small_thresholds  # noqa: F401
from treu.customers.tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

PAGE = reverse("analytics:prediction")


@pytest.fixture
def forecast(small_thresholds):  # noqa: F811
    customers = simulated_shop(40, seed=11)
    recompute(NOW)
    return customers


def test_owner_and_marketing_see_the_forecast(client_of, owner, marketer):
    for user in (owner, marketer):
        assert client_of(user).get(PAGE).status_code == 200


def test_support_cashier_and_outsiders_get_403(client_of, agent, cashier, outsider):
    for user in (agent, cashier, outsider):
        assert client_of(user).get(PAGE).status_code == 403


def test_anonymous_visitors_go_to_the_login(client):
    response = client.get(PAGE)
    assert response.status_code == 302 and "login" in response["Location"]


def test_before_any_recompute_the_page_says_how_the_forecast_comes(client_of, owner):
    html = client_of(owner).get(PAGE).content.decode()
    assert 'id="no-prediction"' in html and "Noch keine Prognose" in html


def test_a_small_shop_reads_why_there_is_no_forecast_and_what_to_do(client_of, owner):
    anna = CustomerFactory()
    order(anna, berlin(2025, 5, 1))
    recompute(NOW)
    html = client_of(owner).get(PAGE).content.decode()
    assert "Noch zu wenige Daten für eine Prognose" in html
    assert "Weniger als 200 Kunden haben bestellt (bisher 1)" in html
    assert "erscheint von selbst" in html  # the advice
    assert 'id="churn-bands"' not in html


def test_the_forecast_shows_bands_parameters_and_the_holdout_chart(
    client_of, owner, forecast, django_assert_num_queries
):
    client = client_of(owner)
    client.get(PAGE)
    with django_assert_num_queries(7):  # 5 for the shell; the runs, the fit
        response = client.get(PAGE)
    html = response.content.decode()
    fit = PredictionFit.objects.get()
    for band in ChurnRisk:
        n = CustomerPrediction.objects.filter(churn_risk=band).count()
        assert fit.bands[band.value][0] == n
        assert f"metric=churn&amp;band={band.value}" in html
    assert 'id="parameter-table"' in html and f"{fit.r:.3f}".replace(".", ",") in html
    assert "<svg" in html and 'id="chart-calibration-title"' in html
    assert "Wiederkäufe vor dem Stichtag" in html  # the chart table's first column
    overview = response.context["p"]
    assert overview.customers == len(forecast)


def test_the_churn_drill_down_lists_the_band_most_valuable_first(client_of, owner, forecast):
    client = client_of(owner)
    for band in ChurnRisk:
        response = client.get(reverse("analytics:customers"), {"metric": "churn", "band": band})
        assert response.status_code == 200
        listed = list(response.context["page"].object_list)
        expected = CustomerPrediction.objects.filter(churn_risk=band)
        assert {f.customer_id for f in listed} == {p.customer_id for p in expected}
        values = [f.predicted_clv_cents for f in listed]
        assert values == sorted(values, reverse=True)
        assert all(f.churn_risk == band for f in listed)


@pytest.mark.parametrize("band", ["", "doomed"])
def test_a_bad_churn_band_is_a_404(client_of, owner, band):
    response = client_of(owner).get(
        reverse("analytics:customers"), {"metric": "churn", "band": band}
    )
    assert response.status_code == 404


def test_the_customer_csv_carries_the_predictions(client_of, owner, forecast):
    response = client_of(owner).get(
        reverse("analytics:export", args=["customers"]), {"metric": "churn", "band": "low"}
    )
    text = b"".join(response.streaming_content).decode()
    header, *rows = text.strip().splitlines()
    assert "P(aktiv)" in header and "Abwanderungsrisiko" in header
    assert header.endswith("Erwartete nächste Bestellung")
    low = CustomerPrediction.objects.filter(churn_risk=ChurnRisk.LOW)
    assert len(rows) == low.count()
    assert all(";niedrig" in row for row in rows)


def test_a_new_discount_rate_is_saved_and_recomputes(
    client_of, owner, django_capture_on_commit_callbacks
):
    data = {
        "active_window_months": "12",
        "target_retention_pct": "40",
        "target_churn_pct": "50",
        "target_clv": "1.000,00",
        "target_nps": "30",
        "industry": "retail",
        "clv_discount_pct": "8",
    }
    with django_capture_on_commit_callbacks(execute=True):
        response = client_of(owner).post(reverse("analytics:settings"), data)
    assert response.status_code == 302
    assert AnalyticsSettings.objects.get().clv_discount_pct == 8
    assert RecomputeRun.objects.count() == 1
    refused = client_of(owner).post(
        reverse("analytics:settings"), {**data, "clv_discount_pct": "60"}
    )
    assert refused.status_code == 200
    assert AnalyticsSettings.objects.get().clv_discount_pct == 8


def test_a_higher_discount_rate_lowers_the_predicted_value(small_thresholds):  # noqa: F811
    simulated_shop(40, seed=11)
    AnalyticsSettings.objects.create(pk=1, clv_discount_pct=0)
    plain = recompute(NOW).run.prediction_fit
    AnalyticsSettings.objects.filter(pk=1).update(clv_discount_pct=50)
    discounted = recompute(NOW).run.prediction_fit
    assert plain.has_value and discounted.has_value
    total = sum(v[1] for v in plain.bands.values())
    assert sum(v[1] for v in discounted.bands.values()) < total
