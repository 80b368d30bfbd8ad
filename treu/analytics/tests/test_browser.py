"""In a real browser: the owner opens the analytics from the navigation, reads the charts
and follows a number to the customers behind it and on to one customer's page. Nothing
is loaded from another host (the `page` fixture fails the test otherwise)."""

from __future__ import annotations

import pytest
from django.utils import timezone

from treu.analytics import services
from treu.analytics.tests.helpers import order
from treu.customers.tests.factories import CustomerFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_owner_follows_the_retention_rate_to_a_customer(logged_in_page, live_server, owner):
    from playwright.sync_api import expect

    now = timezone.now()
    anna = CustomerFactory(first_name="Anna", last_name="Treu")
    ben = CustomerFactory(first_name="Ben", last_name="Einmal")
    for days in (400, 300, 200, 40):
        order(anna, now - timezone.timedelta(days=days), 3000)
    order(ben, now - timezone.timedelta(days=390), 2000)
    services.recompute_analytics()

    page = logged_in_page(owner)
    page.get_by_role("link", name="Auswertungen").click()
    expect(page.locator("h1")).to_contain_text("Auswertungen")
    expect(page.locator("#run-state")).to_contain_text("Zuletzt aktualisiert")
    expect(page.locator("#kpi-retention")).to_contain_text("Kundenbindungsrate")
    chart = page.locator("#chart-retention svg")
    expect(chart.locator("title").first).to_contain_text("Kundenbindungs")
    expect(chart.locator("line.reference")).to_have_count(3)
    expect(page.locator("#cohort-table")).to_be_visible()

    # Rolling year: anna and ben were active a year ago, only anna still is.
    page.locator("#kpi-retention .kpi-value a").click()
    expect(page.locator("h1")).to_contain_text("Gehalten")
    expect(page.locator("#drill-list")).to_contain_text("Anna Treu")
    expect(page.locator("#drill-list")).not_to_contain_text("Ben Einmal")
    page.get_by_role("link", name="Anna Treu").click()
    expect(page.locator("h1")).to_contain_text("Anna Treu")


def test_owner_reads_the_forecast_and_follows_a_churn_band(
    logged_in_page, live_server, owner, monkeypatch
):
    from playwright.sync_api import expect

    from treu.analytics import prediction
    from treu.analytics.models import ChurnRisk, CustomerPrediction
    from treu.analytics.tests.test_prediction import NOW, simulated_shop

    monkeypatch.setattr(prediction, "MIN_CUSTOMERS", 30)
    monkeypatch.setattr(prediction, "MIN_REPEAT_CUSTOMERS", 10)
    monkeypatch.setattr(prediction, "MIN_SPEND_CUSTOMERS", 10)
    simulated_shop(40, seed=11)
    services.recompute_analytics(now=NOW)
    low = CustomerPrediction.objects.filter(churn_risk=ChurnRisk.LOW).count()
    assert low

    page = logged_in_page(owner)
    page.get_by_role("link", name="Auswertungen").click()
    page.get_by_role("link", name="Kundenwert-Prognose").click()
    expect(page.locator("h1")).to_contain_text("Kundenwert-Prognose")
    expect(page.locator("#churn-bands")).to_contain_text("niedrig")
    expect(page.locator("#parameters")).to_contain_text("Käufe pro Jahr eines aktiven Kunden")
    expect(page.locator("#chart-calibration-title")).to_contain_text("Prüfzeitraum")

    page.locator("#churn-bands tr.risk-low a").first.click()
    expect(page.locator("h1")).to_contain_text("Abwanderungsrisiko (Prognose)")
    expect(page.locator("#drill-list tbody tr")).to_have_count(min(low, 50))
    expect(page.locator("#drill-list")).to_contain_text("niedrig")
