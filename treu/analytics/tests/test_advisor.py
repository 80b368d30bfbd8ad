"""The next-steps advisor: each app's advice from the shop's figures, the largest stake first."""

from __future__ import annotations

import pytest
from django.urls import reverse

from treu.analytics import advisor
from treu.analytics.models import Segment, SegmentFigures
from treu.analytics.tests.helpers import berlin, order, recompute
from treu.customers.tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

NOW = berlin(2025, 6, 20)


@pytest.fixture
def one_time_shop(db):
    """Ten customers who each bought once (30 €) in the last year, one of them twice."""
    customers = [CustomerFactory() for _ in range(10)]
    for n, customer in enumerate(customers):
        order(customer, berlin(2024, 9, 1 + n), 3000)
    order(customers[0], berlin(2024, 10, 20), 3000)
    recompute(NOW)
    return customers


def _keys(found):
    return [a.key for a in found]


def test_without_a_programme_the_first_timers_are_the_finding(one_time_shop):
    figures, found = advisor.advice(now_month=None)
    programme = next(a for a in found if a.key == "loyalty_programme")
    assert programme.title == "90 % Ihrer Neukunden kaufen innerhalb von 90 Tagen nicht wieder"
    # 9 of 10 new customers without a second order × 30,00 € average order value
    assert figures.first_timers_lost == 9 and programme.stake_cents == 9 * 3000
    assert programme.action_url == reverse("loyalty:settings")
    assert "9 Neukunden" in programme.stake_note


def test_a_running_programme_offers_tiers_and_referrals_instead(one_time_shop):
    from treu.loyalty import services as loyalty

    loyalty.update_program_settings(membership="opt_in")
    SegmentFigures.objects.update_or_create(
        segment=Segment.CHAMPIONS,
        defaults={"customers": 4, "revenue_cents": 0, "month_end_customers": 4,
                  "previous_customers": 4},
    )  # fmt: skip
    _, found = advisor.advice()
    assert "loyalty_programme" not in _keys(found)
    assert {"loyalty_tiers", "loyalty_referrals"} <= set(_keys(found))
    loyalty.save_tier(name="Gold", rank=1, threshold=10_000)
    assert "loyalty_tiers" not in _keys(advisor.advice()[1])


def test_the_advice_is_ordered_by_the_revenue_at_stake(one_time_shop):
    SegmentFigures.objects.update_or_create(
        segment=Segment.AT_RISK,
        defaults={"customers": 50, "revenue_cents": 0, "month_end_customers": 50,
                  "previous_customers": 50},
    )  # fmt: skip
    _, found = advisor.advice()
    stakes = [a.stake_cents for a in found]
    assert stakes == sorted(stakes, reverse=True) and found[0].key == "at_risk"
    assert "metric=segment&segment=cant_lose%2Cat_risk" in found[0].drill_url


def test_few_newsletter_consents_suggest_the_sign_up_form(one_time_shop):
    _, found = advisor.advice()
    signup = next(a for a in found if a.key == "newsletter_signup")
    assert signup.title.startswith("Nur 0 % Ihrer aktiven Kunden")
    assert signup.action_url == reverse("messaging:consent_embed")


def test_the_page_lists_the_advice_with_its_links(client_of, owner, one_time_shop):
    body = client_of(owner).get(reverse("analytics:next_steps")).content.decode()
    assert 'id="advice-loyalty_programme"' in body and reverse("loyalty:settings") in body
    assert "Umsatz im Jahr" in body


def test_a_shop_without_figures_gets_no_advice(client_of, owner):
    body = client_of(owner).get(reverse("analytics:next_steps")).content.decode()
    assert 'id="no-advice"' in body


def test_the_drill_down_takes_several_segments(client_of, owner, one_time_shop):
    url = reverse("analytics:customers") + "?metric=segment&segment=cant_lose,at_risk"
    assert client_of(owner).get(url).status_code == 200
    bad = reverse("analytics:customers") + "?metric=segment&segment=cant_lose,kaputt"
    assert client_of(owner).get(bad).status_code == 404
