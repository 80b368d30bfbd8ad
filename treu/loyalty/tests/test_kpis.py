"""The loyalty KPIs (treu.loyalty.kpis) and their page, against hand-computed figures."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from treu.backoffice.charts import grouped_bar_chart
from treu.commerce.models import Order
from treu.commerce.tests.factories import make_order
from treu.core.money import format_euro
from treu.customers.tests.factories import CustomerFactory
from treu.loyalty import kpis
from treu.loyalty.models import EntryKind, EntryStatus, Member, PointsEntry
from treu.loyalty.tests.conftest import make_reward

pytestmark = pytest.mark.django_db

# Mid-April 2026, summer time (UTC+2 since 29 March): the twelve months are May 2025 – April 2026.
NOW = datetime(2026, 4, 15, 10, 0, tzinfo=UTC)


def member(customer=None, *, available: int = 0, pending: int = 0) -> Member:
    """A member whose sums are set directly: the KPIs read the sums, not how they came about."""
    return Member.objects.create(
        customer=customer or CustomerFactory(),
        joined_at=NOW - timedelta(days=400),
        points_balance=available,
        pending_points=pending,
    )


def book(who: Member, kind: str, points: int, at: datetime, status=EntryStatus.AVAILABLE):
    entry = PointsEntry.objects.create(
        member=who, kind=kind, points=points, status=status, available_at=at
    )
    PointsEntry.objects.filter(pk=entry.pk).update(created_at=at)  # auto_now_add otherwise
    return entry


# -- The empty programme ----------------------------------------------------------------------


def test_an_empty_programme_has_zero_figures_and_no_rates():
    figures = kpis.loyalty_kpis(now=NOW)
    assert (figures.members, figures.active_members, figures.outstanding_points) == (0, 0, 0)
    assert figures.active_share is None
    assert figures.redemption_rate is None
    assert figures.point_value is None
    assert figures.liability_cents is None
    assert figures.revenue.group_share is None
    assert [m.month for m in figures.months] == [date(2025, n, 1) for n in range(5, 13)] + [
        date(2026, n, 1) for n in range(1, 5)
    ]
    assert all(
        (m.issued, m.taken_back, m.redeemed, m.expired) == (0, 0, 0, 0) for m in figures.months
    )


# -- Points per month -------------------------------------------------------------------------


def test_it_sums_points_per_kind_and_month():
    anna, ben = member(), member()
    april = datetime(2026, 4, 10, 9, 0, tzinfo=UTC)
    book(anna, EntryKind.EARN, 40, april, status=EntryStatus.PENDING)  # pending counts as issued
    book(ben, EntryKind.EARN, 60, april)
    book(anna, EntryKind.ADJUST, 10, april)
    book(anna, EntryKind.ADJUST, -5, april)
    book(ben, EntryKind.REVERSE, -20, april)
    book(ben, EntryKind.REDEEM, -30, april)
    book(anna, EntryKind.EXPIRE, -7, april)
    book(ben, EntryKind.EARN, 25, datetime(2025, 11, 3, 12, 0, tzinfo=UTC))

    figures = kpis.loyalty_kpis(now=NOW)
    by_month = {m.month: m for m in figures.months}
    assert by_month[date(2026, 4, 1)] == kpis.PointsMonth(date(2026, 4, 1), 110, 25, 30, 7)
    assert by_month[date(2025, 11, 1)] == kpis.PointsMonth(date(2025, 11, 1), 25, 0, 0, 0)
    assert (figures.issued, figures.taken_back, figures.redeemed, figures.expired) == (
        135,
        25,
        30,
        7,
    )
    assert figures.redemption_rate == pytest.approx(30 / 135)


def test_a_point_booked_after_midnight_berlin_time_belongs_to_the_next_month():
    anna = member()
    book(anna, EntryKind.EARN, 1, datetime(2026, 3, 31, 21, 59, tzinfo=UTC))  # 23:59 CEST
    book(anna, EntryKind.EARN, 2, datetime(2026, 3, 31, 22, 30, tzinfo=UTC))  # 00:30 on 1 April
    by_month = {m.month: m.issued for m in kpis.points_by_month(now=NOW)}
    assert by_month[date(2026, 3, 1)] == 1
    assert by_month[date(2026, 4, 1)] == 2


def test_the_twelve_months_start_at_midnight_berlin_time_of_the_first_month():
    anna = member()
    book(anna, EntryKind.EARN, 4, datetime(2025, 4, 30, 21, 59, tzinfo=UTC))  # 23:59, April 2025
    book(anna, EntryKind.EARN, 8, datetime(2025, 4, 30, 22, 0, tzinfo=UTC))  # 00:00, 1 May
    figures = kpis.loyalty_kpis(now=NOW)
    assert figures.since == datetime(2025, 5, 1, tzinfo=timezone.get_default_timezone())
    assert figures.months[0].issued == 8
    assert figures.issued == 8


def test_winter_months_are_cut_at_midnight_berlin_time_too():
    anna = member()
    book(anna, EntryKind.EARN, 3, datetime(2026, 1, 31, 22, 59, tzinfo=UTC))  # 23:59 CET
    book(anna, EntryKind.EARN, 5, datetime(2026, 1, 31, 23, 0, tzinfo=UTC))  # 00:00 on 1 Feb
    by_month = {m.month: m.issued for m in kpis.points_by_month(now=NOW)}
    assert (by_month[date(2026, 1, 1)], by_month[date(2026, 2, 1)]) == (3, 5)


# -- Members ----------------------------------------------------------------------------------


def test_active_members_earned_or_redeemed_in_the_last_ninety_days():
    earned, redeemed, lapsed, adjusted, reversed_ = (member() for _ in range(5))
    book(earned, EntryKind.EARN, 10, NOW - timedelta(days=89))
    book(redeemed, EntryKind.REDEEM, -10, NOW - timedelta(days=10))
    book(lapsed, EntryKind.EARN, 10, NOW - timedelta(days=91))
    book(adjusted, EntryKind.ADJUST, 10, NOW - timedelta(days=1))  # staff did that, not them
    book(reversed_, EntryKind.REVERSE, -3, NOW - timedelta(days=1))
    book(earned, EntryKind.EARN, 10, NOW - timedelta(days=2))  # twice is still one member

    figures = kpis.loyalty_kpis(now=NOW)
    assert (figures.members, figures.active_members) == (5, 2)
    assert figures.active_share == pytest.approx(0.4)


def test_birthday_and_anniversary_points_are_no_activity_but_a_review_is():
    birthday, anniversary, review = (member() for _ in range(3))
    for who, rule in ((birthday, "birthday"), (anniversary, "anniversary"), (review, "review")):
        entry = book(who, EntryKind.EARN, 50, NOW - timedelta(days=3))
        PointsEntry.objects.filter(pk=entry.pk).update(source_rule=rule)
    assert kpis.loyalty_kpis(now=NOW).active_members == 1


# -- The liability ----------------------------------------------------------------------------


def test_the_liability_values_available_and_pending_points_at_the_best_euro_rate(program):
    make_reward("fixed_amount", points_cost=100, amount_cents=500)  # 5 ct a point
    make_reward("store_credit", name="Guthaben 10 €", points_cost=150, amount_cents=1000)  # 6⅔
    make_reward("fixed_amount", points_cost=50, amount_cents=1000, active=False)  # 20, inactive
    make_reward("percent", points_cost=10)  # no euro amount
    member(available=1000, pending=200)
    member(available=3)

    figures = kpis.loyalty_kpis(now=NOW)
    assert (figures.available_points, figures.pending_points) == (1003, 200)
    assert figures.point_value == kpis.PointValue("Guthaben 10 €", 1000, 150)
    assert figures.liability_cents == 8020  # 1,203 points × 1000 / 150 ct


def test_a_point_value_rounds_half_up_to_the_cent():
    value = kpis.PointValue("Guthaben", 1000, 150)
    assert [value.cents_for(n) for n in (0, 1, 2, 3)] == [0, 7, 13, 20]  # 6.67, 13.33, 20
    assert kpis.PointValue("5 €", 5, 2).cents_for(1) == 3  # 2.5 rounds up


def test_without_a_euro_reward_there_is_no_liability_in_euro(program, client_of, owner):
    make_reward("free_shipping")
    member(available=500)
    figures = kpis.loyalty_kpis(now=NOW)
    assert (figures.outstanding_points, figures.liability_cents) == (500, None)
    page = client_of(owner).get(reverse("loyalty:kpis")).content.decode()
    assert "Keine aktive Prämie mit festem Rabatt oder Guthaben" in page


# -- Revenue of members -----------------------------------------------------------------------


def test_it_splits_the_revenue_of_twelve_months_between_members_and_everyone_else(anna, ben):
    member(anna)  # ben is a customer, not a member
    recent = NOW - timedelta(days=20)
    make_order(customer=anna, lines=((1, 3000, 700),), placed_at=recent)
    refunded = make_order(customer=anna, lines=((1, 2000, 700),), placed_at=recent)
    Order.objects.filter(pk=refunded.pk).update(refunded_cents=500)
    make_order(customer=anna, lines=((1, 9900, 700),), placed_at=recent, status="cancelled")
    make_order(customer=anna, lines=((1, 7700, 700),), placed_at=NOW - timedelta(days=400))
    make_order(customer=ben, lines=((1, 1000, 700),), placed_at=recent)
    make_order(customer=None, lines=((1, 1500, 700),), placed_at=recent)  # a guest

    revenue = kpis.loyalty_kpis(now=NOW).revenue
    assert (revenue.group_revenue_cents, revenue.group_orders) == (4500, 2)
    assert (revenue.other_revenue_cents, revenue.other_orders) == (2500, 2)
    assert revenue.group_share == pytest.approx(4500 / 7000)


# -- Speed ------------------------------------------------------------------------------------


def test_every_figure_takes_five_queries_however_many_members(
    program, django_assert_num_queries, anna
):
    make_reward("fixed_amount", points_cost=100, amount_cents=500)
    for _ in range(5):
        book(member(), EntryKind.EARN, 10, NOW - timedelta(days=3))
    make_order(customer=anna, placed_at=NOW - timedelta(days=3))
    with django_assert_num_queries(5):
        figures = kpis.loyalty_kpis(now=NOW)
        assert figures.liability_cents is not None


# -- The chart --------------------------------------------------------------------------------


def test_the_chart_draws_one_bar_per_series_and_month_scaled_to_the_highest():
    chart = grouped_bar_chart(["Jan", "Feb"], [[100, 50], [0, 25], [-5, 0]], height=220)
    assert [len(g.bars) for g in chart.groups] == [3, 3]
    plot_h = 220 - 16 - 28
    assert chart.groups[0].bars[0].height == plot_h
    assert chart.groups[1].bars[0].height == plot_h / 2
    assert chart.groups[0].bars[2].height == 0  # negatives drawn as zero
    assert chart.groups[0].bars[0].x < chart.groups[0].bars[1].x < chart.groups[1].bars[0].x


# -- The page ---------------------------------------------------------------------------------

ROLES = {"owner": 200, "marketer": 200, "agent": 403, "cashier": 403, "outsider": 403}


@pytest.mark.parametrize(("role", "status"), ROLES.items())
def test_only_the_owner_and_marketing_see_the_kpis(client_of, request, role, status):
    response = client_of(request.getfixturevalue(role)).get(reverse("loyalty:kpis"))
    assert response.status_code == status


def test_it_sends_anonymous_visitors_to_the_login(client):
    response = client.get(reverse("loyalty:kpis"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("backoffice:login"))


def test_the_page_asks_no_more_queries_for_more_members(program, client_of, owner):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client, url = client_of(owner), reverse("loyalty:kpis")

    def queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200
        return len(ctx.captured_queries)

    book(member(), EntryKind.EARN, 10, timezone.now())
    few = queries()
    for _ in range(20):
        book(member(), EntryKind.REDEEM, -10, timezone.now())
    assert queries() == few


def test_the_navigation_shows_the_kpis_to_marketing_but_not_to_support(client_of, marketer, agent):
    url = reverse("loyalty:kpis")
    assert url in client_of(marketer).get(reverse("backoffice:overview")).content.decode()
    assert url not in client_of(agent).get(reverse("backoffice:overview")).content.decode()


def test_the_page_shows_the_figures_in_german(program, client_of, marketer, anna):
    make_reward("store_credit", name="Guthaben 10 €", points_cost=150, amount_cents=1000)
    now = timezone.now()
    book(member(anna, available=1000, pending=200), EntryKind.EARN, 1200, now)
    make_order(customer=anna, lines=((1, 3000, 700),), placed_at=now - timedelta(hours=1))

    page = client_of(marketer).get(reverse("loyalty:kpis")).content.decode()
    assert "Kennzahlen" in page
    assert format_euro(8000) in page  # 1,200 points at 1000 ct / 150 points
    assert "1.000 verfügbar, 200 ausstehend" in page
    assert format_euro(3000) in page  # revenue of members
    assert "Vergeben" in page
    assert '<rect class="bar series-1"' in page
    assert "<svg" in page and "http" not in page.split("<svg", 1)[1].split("</svg>", 1)[0]


def test_the_page_shows_members_per_tier_once_there_are_tiers(
    program, anna_member, anna, shop, client_of, owner
):
    from treu.loyalty import services

    client, url = client_of(owner), reverse("loyalty:kpis")
    assert 'id="tier-distribution"' not in client.get(url).content.decode()  # no tiers yet
    services.update_tier_settings(basis="spend", period="rolling", notice_days=30)
    services.save_tier(name="Silber", rank=1, threshold=10_000)
    services.save_tier(name="Gold", rank=2, threshold=50_000)
    make_order(customer=anna, shop=shop, lines=((1, 15_000, 700),))
    member()  # a second member, in no tier
    services.recompute_tiers()
    html = client.get(url).content.decode()
    section = html[html.index('id="tier-distribution"') :]
    rows = [
        ("Gold", 0), ("Silber", 1), ("Keine Stufe", 1),
    ]  # fmt: skip
    for name, count in rows:
        assert f'<td>{name}</td><td class="num">{count}</td>' in section
