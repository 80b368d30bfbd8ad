"""Loyalty and email figures in the period rows (treu.analytics.channels), their cards and
the customers behind them, against hand-counted figures."""

from __future__ import annotations

from fractions import Fraction

import pytest
from django.urls import reverse

from treu.analytics import report, selectors
from treu.analytics.tests.helpers import berlin, book, figures, join, mail, order, recompute
from treu.customers.tests.factories import CustomerFactory
from treu.loyalty.models import EntryKind, EntryStatus

pytestmark = pytest.mark.django_db

NOW = berlin(2025, 6, 20)


@pytest.fixture
def shop_with_programme(db):
    """January – May 2025. anna orders on the 3rd of every month and joined in December;
    ben orders in February and twice in April, joining between those two April orders;
    cleo orders once in March and never joins; dora joins in May and never orders; a guest
    orders in March. Mails: a campaign to anna two days before her March order, an
    automation to ben two days before his second April order, a campaign to cleo in
    January (her March order is far outside the five days)."""
    anna, ben, cleo, dora = (CustomerFactory() for _ in range(4))
    for month in range(1, 6):
        order(anna, berlin(2025, month, 3), 2000)
    order(ben, berlin(2025, 2, 10), 2000)
    order(ben, berlin(2025, 4, 3), 2000)
    order(ben, berlin(2025, 4, 20), 2000)
    order(cleo, berlin(2025, 3, 10), 2000)
    order(None, berlin(2025, 3, 11), 900)
    anna_m = join(anna, berlin(2024, 12, 10))
    ben_m = join(ben, berlin(2025, 4, 15))
    join(dora, berlin(2025, 5, 5))
    book(anna_m, EntryKind.EARN, 100, berlin(2025, 1, 3))
    book(anna_m, EntryKind.REDEEM, -50, berlin(2025, 3, 3))
    book(ben_m, EntryKind.EARN, 40, berlin(2025, 4, 20), status=EntryStatus.PENDING)
    book(anna_m, EntryKind.EXPIRE, -10, berlin(2025, 6, 1, 0, 30))  # 22:30 UTC on 31 May
    book(anna_m, EntryKind.ADJUST, 5, berlin(2025, 5, 4))
    book(ben_m, EntryKind.REVERSE, -20, berlin(2025, 5, 6))
    mail(anna, f"campaign:7:customer:{anna.pk}", berlin(2025, 3, 1))
    mail(ben, f"flow:3:customer:{ben.pk}", berlin(2025, 4, 18))
    mail(cleo, f"campaign:7:customer:{cleo.pk}", berlin(2025, 1, 1))
    recompute(NOW)
    return anna, ben, cleo, dora


def test_members_count_from_their_joining_month_on(shop_with_programme):
    # anna joined before the shop's first order month: a member from January on.
    assert [figures(2025, m).members_to_date for m in range(1, 7)] == [1, 1, 1, 2, 3, 3]
    assert [figures(2025, m).new_members for m in range(1, 7)] == [0, 0, 0, 1, 1, 0]
    assert figures(2025, 1, months=12).new_members == 1  # December 2024 is in the year


def test_active_members_are_the_active_customers_who_had_joined(shop_with_programme):
    march, april = figures(2025, 3), figures(2025, 4)
    assert (march.ending, march.ending_members) == (3, 1)  # ben joins in April
    assert (april.ending, april.ending_members) == (3, 2)  # dora is no active customer
    assert april.member_share == Fraction(2, 3)


def test_members_revenue_counts_from_the_month_of_joining(shop_with_programme):
    march, april = figures(2025, 3), figures(2025, 4)
    assert (march.member_orders, march.member_revenue_cents) == (1, 2000)
    assert march.revenue_all_cents == 4900
    assert march.member_revenue_share == Fraction(2000, 4900)
    # ben's last April order came after he joined: his whole April counts (see metrics.md).
    assert (april.member_orders, april.member_revenue_cents) == (3, 6000)
    assert april.member_revenue_share == 1
    feb = figures(2025, 2)
    assert (feb.member_orders, feb.member_revenue_cents) == (1, 2000)  # anna, not ben


def test_points_flow_per_month_and_the_redemption_rate(shop_with_programme):
    may = figures(2025, 5)
    assert (may.points_issued, may.points_taken_back, may.points_redeemed) == (5, 20, 0)
    # 00:30 on 1 June Berlin time (22:30 UTC on 31 May) belongs to June.
    assert (may.points_expired, figures(2025, 6).points_expired) == (0, 10)
    assert figures(2025, 4).points_issued == 40  # pending points count as issued
    assert figures(2025, 3).redemption_rate is None  # nothing issued in March
    year = figures(2025, 5, months=12)
    assert (year.points_issued, year.points_redeemed) == (145, 50)
    assert year.redemption_rate == Fraction(50, 145)


def test_email_revenue_is_the_last_touch_revenue_by_the_order_month(shop_with_programme):
    assert [figures(2025, m).email_mails for m in range(1, 6)] == [1, 0, 1, 1, 0]
    march, april = figures(2025, 3), figures(2025, 4)
    assert (march.email_orders, march.email_revenue_cents) == (1, 2000)
    assert (march.email_campaign_cents, march.email_flow_cents) == (2000, 0)
    assert (april.email_orders, april.email_revenue_cents, april.email_flow_cents) == (
        1,
        2000,
        2000,
    )
    assert april.email_revenue_share == Fraction(2000, 6000)
    assert figures(2025, 1).email_orders == 0  # cleo's March order came too late
    quarter = figures(2025, 5, months=3)
    assert (quarter.email_revenue_cents, quarter.email_other_cents) == (4000, 0)


def test_without_programme_or_mails_the_columns_are_zero_and_the_cards_absent(db):
    order(CustomerFactory(), berlin(2025, 3, 3))
    recompute(NOW)
    row = figures(2025, 3)
    assert (row.members_to_date, row.ending_members, row.points_issued) == (0, 0, 0)
    assert (row.email_mails, row.email_revenue_cents) == (0, 0)
    assert row.member_share == 0 and row.email_revenue_share == 0
    keys = {card.key for card in selectors.dashboard(period=1, month=row.month_index).cards}
    assert not keys & {"members", "member_share", "redemption", "email_revenue", "email_share"}


def test_the_cards_compare_with_the_previous_period_and_year(shop_with_programme):
    april = figures(2025, 4).month_index
    cards = {c.key: c for c in selectors.dashboard(period=1, month=april).cards}
    members = cards["members"]
    assert (members.value, members.previous, members.previous_year) == (2, 1, None)
    share = cards["member_share"]
    assert (share.value, share.previous) == (Fraction(2, 3), Fraction(1, 3))
    assert share.change_previous == Fraction(1, 3)  # percentage points
    email = cards["email_revenue"]
    assert (email.value, email.previous, email.change_previous) == (2000, 2000, 0)
    assert cards["email_share"].value == Fraction(1, 3)
    assert cards["redemption"].value == 0 and cards["redemption"].drill == ""
    assert [label for label, _n, _url in cards["email_revenue"].parts] == [
        "versendete Werbe-Mails",
        "zugeordnete Bestellungen",
    ]


@pytest.mark.parametrize(
    ("metric", "period", "expected"),
    [
        ("members", 1, {"anna", "ben"}),  # dora has no order, so no figures to list
        ("new_members", 1, {"ben"}),
        ("active_members", 1, {"anna", "ben"}),
        ("member_buyers", 1, {"anna", "ben"}),
        ("email_buyers", 1, {"ben"}),
        ("email_buyers", 3, {"anna", "ben"}),
    ],
)
def test_the_drill_down_lists_the_customers_behind_the_figures(
    client_of, owner, shop_with_programme, metric, period, expected
):
    names = dict(zip(("anna", "ben", "cleo", "dora"), shop_with_programme, strict=True))
    page = client_of(owner).get(
        reverse("analytics:customers"), {"metric": metric, "month": "2025-04", "period": period}
    )
    assert page.status_code == 200
    found = {f.customer_id for f in page.context["page"].object_list}
    assert found == {names[n].pk for n in expected}


def test_the_dashboard_shows_the_new_cards_in_german(client_of, owner, shop_with_programme):
    html = (
        client_of(owner)
        .get(reverse("analytics:dashboard"), {"period": "1", "month": "2025-04"})
        .content.decode()
    )
    for label in (
        "Mitglieder des Treueprogramms",
        "Mitglieder unter den aktiven Kunden",
        "Umsatzanteil der Mitglieder",
        "Einlösequote der Punkte",
        "E-Mail-Umsatz",
        "E-Mail-Anteil am Umsatz",
    ):
        assert label in html
    assert 'id="chart-loyalty"' in html and 'id="chart-email"' in html
    assert "metric=member_buyers&amp;month=2025-04&amp;period=1" in html


def test_the_dashboard_with_the_new_cards_costs_the_same_queries(
    client_of, owner, shop_with_programme, django_assert_num_queries
):
    client = client_of(owner)
    client.get(reverse("analytics:dashboard"))  # warm the session and permission caches
    with django_assert_num_queries(10):  # as without them: the figures are in the period rows
        page = client.get(reverse("analytics:dashboard"), {"period": "3"})
    assert {"members", "email_revenue"} <= page.context["d"].card_keys


def test_the_csv_has_the_loyalty_and_email_columns_once_they_are_shown(
    client_of, owner, shop_with_programme
):
    response = client_of(owner).get(
        reverse("analytics:export", args=["kpis"]), {"period": "1", "month": "2025-04"}
    )
    lines = b"".join(response.streaming_content).decode("utf-8-sig").splitlines()
    header = lines[0].split(";")
    cells = next(x for x in lines if x.startswith("2025-04;")).split(";")
    april = dict(zip(header, cells, strict=True))
    assert april["Mitglieder des Treueprogramms"] == "2"
    assert april["Mitglieder unter den aktiven Kunden (%)"] == "66,7"
    assert april["E-Mail-Umsatz (€)"] == "20,00"
    assert april["davon Automationen (€)"] == "20,00"


def test_the_monthly_report_has_the_email_revenue_and_the_member_share(shop_with_programme):
    figures_of_april = report.monthly_report(figures(2025, 4).month_index)
    month = {c.key: c for c in figures_of_april.month_cards}
    year = {c.key: c for c in figures_of_april.year_cards}
    assert month["email_revenue"].value == 2000 and month["redemption"].value == 0
    assert year["member_share"].value == Fraction(2, 3)
    assert year["member_share"].previous == Fraction(1, 3)  # the 12 months ending in March
