"""The experiment log: baseline when written down, result when evaluated, the decision."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse

from treu.analytics import services
from treu.analytics.models import Experiment, ExperimentStatus, month_index
from treu.analytics.tests.helpers import berlin, order, recompute
from treu.customers.tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

APRIL, MAY = month_index(date(2025, 4, 1)), month_index(date(2025, 5, 1))


@pytest.fixture
def shop(db):
    """April: two orders at 20 €; May: two at 30 € (one customer's second)."""
    anna, ben, cleo = (CustomerFactory() for _ in range(3))
    order(anna, berlin(2025, 4, 3), 2000)
    order(ben, berlin(2025, 4, 9), 2000)
    order(anna, berlin(2025, 5, 3), 3000)
    order(cleo, berlin(2025, 5, 9), 3000)
    recompute(berlin(2025, 5, 20))


def test_the_baseline_is_the_figure_of_the_months_before(shop):
    experiment = services.start_experiment(
        title="Dankesmail",
        hypothesis="Mehr zweite Bestellungen",
        metric="aov",
        first_month=MAY,
        months=1,
    )
    assert experiment.baseline == Decimal("2000")
    assert experiment.status == ExperimentStatus.RUNNING and experiment.result is None


def test_it_is_evaluated_only_once_its_months_are_computed(shop):
    experiment = services.start_experiment(
        title="Dankesmail", hypothesis="x", metric="aov", first_month=MAY, months=1
    )
    with pytest.raises(services.AnalyticsError, match="Mai 2025"):
        services.evaluate_experiment(experiment)
    recompute(berlin(2025, 6, 2))
    experiment = services.evaluate_experiment(experiment)
    assert experiment.result == Decimal("3000") and experiment.status == ExperimentStatus.EVALUATED


def test_a_rate_is_kept_as_a_share(shop):
    experiment = services.start_experiment(
        title="x", hypothesis="y", metric="repeat", first_month=MAY, months=1
    )
    assert experiment.baseline == Decimal("0")  # nobody had two orders by the end of April
    recompute(berlin(2025, 6, 2))
    assert services.evaluate_experiment(experiment).result == Decimal("0.333333")


def test_bad_entries_are_explained_in_german(db):
    with pytest.raises(services.AnalyticsError) as error:
        services.start_experiment(title=" ", hypothesis="", metric="x", first_month=MAY, months=2)
    assert set(error.value.message_dict) == {"title", "hypothesis", "metric", "months"}
    assert "1, 3 oder 12 Monate" in " ".join(error.value.message_dict["months"])
    assert not Experiment.objects.exists()


def test_marketing_logs_evaluates_and_decides_on_the_pages(client_of, marketer, shop):
    client = client_of(marketer)
    response = client.post(
        reverse("analytics:experiments"),
        {
            "title": "Dankesmail nach dem ersten Kauf",
            "hypothesis": "Mehr zweite Bestellungen",
            "metric": "aov",
            "first_month": "2025-05",
            "months": "1",
        },
    )
    experiment = Experiment.objects.get()
    assert response["Location"] == reverse("analytics:experiment", args=[experiment.pk])
    page = client.get(response["Location"]).content.decode()
    assert "Dankesmail nach dem ersten Kauf" in page and "20,00" in page
    recompute(berlin(2025, 6, 2))
    client.post(response["Location"], {"action": "evaluate"})
    client.post(response["Location"], {"action": "decide", "decision": "keep", "notes": "Läuft."})
    experiment.refresh_from_db()
    assert (experiment.status, experiment.decision) == (ExperimentStatus.EVALUATED, "keep")
    log = client.get(reverse("analytics:experiments")).content.decode()
    assert "+50,0" in log and "Beibehalten" in log


def test_support_may_not_see_the_log_and_a_bad_form_writes_nothing(client_of, agent, marketer):
    assert client_of(agent).get(reverse("analytics:experiments")).status_code == 403
    response = client_of(marketer).post(reverse("analytics:experiments"), {"title": "x"})
    assert response.status_code == 400 and not Experiment.objects.exists()
