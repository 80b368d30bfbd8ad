"""The monthly report: its figures and sentences, the page, and the mail sent once a month."""

from __future__ import annotations

import re
from datetime import date
from unittest import mock

import pytest
from django.conf import settings
from django.core import mail
from django.urls import reverse
from django.utils import translation

from treu.analytics import report, services
from treu.analytics.models import ReportMail, month_index
from treu.analytics.tests.helpers import berlin, order, recompute
from treu.customers.tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

MAY = month_index(date(2025, 5, 1))
NOW = berlin(2025, 6, 2, 3)  # the night after May ended


@pytest.fixture
def shop_history(db):
    """April: one new customer at 20 €. May: two new at 30 € each, and one came back."""
    dora, emil, fritz, gerd = (CustomerFactory() for _ in range(4))
    order(gerd, berlin(2023, 1, 10), 5000)
    order(dora, berlin(2025, 4, 10), 2000)
    order(emil, berlin(2025, 5, 10), 3000)
    order(fritz, berlin(2025, 5, 11), 3000)
    order(gerd, berlin(2025, 5, 12), 3000)
    recompute(NOW)


def _by_key(cards):
    return {c.key: c for c in cards}


def test_the_months_figures_compare_with_the_month_before(shop_history):
    figures = report.monthly_report(MAY)
    month = _by_key(figures.month_cards)
    assert month["new"].value == 2 and month["new"].previous == 1
    assert month["aov"].value == 3000 and month["aov"].previous == 2000
    assert month["new"].previous_year == 0
    year = _by_key(figures.year_cards)
    assert set(year) == {"retention", "churn", "repeat", "simple_clv", "active"}
    # Active: dora, emil, fritz, gerd at the end of May; dora alone at the end of April.
    assert year["active"].value == 4 and year["active"].previous == 1


def test_the_sentences_say_what_went_well_and_what_needs_attention(shop_history):
    with translation.override("de"):
        figures = report.monthly_report(MAY)
    good = [h.text for h in figures.went_well]
    assert "Neukunden: 2, +100,0\xa0% zum Vormonat." in good
    assert "Durchschnittlicher Bestellwert: 30,00\xa0€, +50,0\xa0% zum Vormonat." in good
    assert all(h.url.startswith("/analytics/customers/") for h in figures.went_well)


def test_a_month_without_figures_has_no_report(shop_history):
    assert report.monthly_report(month_index(date(2020, 1, 1))) is None


def test_the_report_page_shows_the_last_complete_month(client_of, owner, shop_history):
    response = client_of(owner).get(reverse("analytics:report"))
    body = response.content.decode()
    assert response.status_code == 200
    assert "Mai 2025" in body and 'id="went-well"' in body and 'id="year-figures"' in body
    earlier = client_of(owner).get(reverse("analytics:report") + "?month=2025-04")
    assert "April 2025" in earlier.content.decode()
    bad = client_of(owner).get(reverse("analytics:report") + "?month=kaputt")
    assert bad.status_code == 200 and "Mai 2025" in bad.content.decode()


def test_the_report_page_without_figures_says_so(client_of, owner):
    body = client_of(owner).get(reverse("analytics:report")).content.decode()
    assert 'id="no-report"' in body


def test_the_owners_get_last_months_report_once(owner, marketer, shop_history):
    sent = services.send_monthly_report(now=NOW)
    assert sent is not None and sent.month_index == MAY
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [owner.email]  # owners only, not marketing
    assert message.subject == "Ihr Monatsbericht für Mai 2025"
    html = message.alternatives[0][0]
    assert "Neukunden" in message.body and "Neukunden" in html
    assert f"{settings.SITE_URL}/analytics/report/?month=2025-05" in message.body
    for body in (message.body, html):  # no request to any other host from the mail
        hosts = set(re.findall(r"(?:https?:)?//([^/\"'\s<>]+)", body))
        assert hosts == {settings.SITE_URL.split("/")[2]}
    assert services.send_monthly_report(now=NOW) is None
    assert len(mail.outbox) == 1 and ReportMail.objects.count() == 1


def test_nothing_is_sent_before_the_month_was_computed(owner, db):
    dora = CustomerFactory()
    order(dora, berlin(2025, 5, 10), 2000)
    recompute(berlin(2025, 5, 31, 23))  # the last run was still in May
    assert services.send_monthly_report(now=NOW) is None
    assert mail.outbox == [] and not ReportMail.objects.exists()


def test_an_owner_who_switched_it_off_gets_nothing(owner, shop_history):
    from treu.analytics.models import AnalyticsSettings

    AnalyticsSettings.objects.update(monthly_report=False)
    assert services.send_monthly_report(now=NOW) is None
    assert mail.outbox == []


def test_without_an_owner_address_nothing_is_sent(shop_history):
    assert services.send_monthly_report(now=NOW) is None
    assert not ReportMail.objects.exists()


def test_a_failing_mail_server_leaves_nothing_and_the_next_run_sends(owner, shop_history):
    with (
        mock.patch(
            "django.core.mail.EmailMultiAlternatives.send", side_effect=ConnectionRefusedError
        ),
        pytest.raises(ConnectionRefusedError),
    ):
        services.send_monthly_report(now=NOW)
    assert not ReportMail.objects.exists()
    assert services.send_monthly_report(now=NOW) is not None
    assert len(mail.outbox) == 1


def test_the_setting_is_saved_from_the_settings_page(client_of, owner):
    from treu.analytics.models import AnalyticsSettings

    form = {
        "active_window_months": 12,
        "target_retention_pct": 40,
        "target_churn_pct": 50,
        "target_clv": "1.000,00",
        "target_nps": 30,
        "industry": "retail",
    }  # the box unticked: not in the form data
    response = client_of(owner).post(reverse("analytics:settings"), form)
    assert response.status_code == 302
    assert AnalyticsSettings.objects.get().monthly_report is False
