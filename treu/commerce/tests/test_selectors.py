from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from django.utils import timezone

from treu.commerce import selectors, services
from treu.commerce.tests.factories import make_order
from treu.customers.tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def test_the_dashboard_counts_revenue_less_refunds_without_cancelled_orders(anna, ben, shop):
    kept = make_order(customer=anna, shop=shop, lines=((2, 1000, 700),))
    make_order(customer=anna, shop=shop, lines=((1, 3000, 700),))
    make_order(customer=ben, shop=shop, lines=((1, 9999, 700),), status="cancelled")
    make_order(customer=ben, shop=shop, placed_at=timezone.now() - timedelta(days=45))
    line = kept.lines.get()
    services.record_return(kept, lines=[services.ReturnLineInput(line.pk, 1)])

    figures = selectors.dashboard()

    assert figures.orders_30d == 2
    assert figures.revenue_30d_cents == 2000 + 3000 - 1000
    assert figures.orders_prev_30d == 1
    assert figures.revenue_prev_30d_cents == 1490
    assert figures.average_order_cents == 2500
    assert figures.return_rate == 0.5
    assert figures.revenue_change == pytest.approx((4000 - 1490) / 1490)


def test_the_dashboard_has_twelve_months_ending_with_the_current_one(anna, shop):
    now = timezone.now()
    make_order(
        customer=anna, shop=shop, lines=((1, 5000, 700),), placed_at=now - timedelta(hours=1)
    )
    figures = selectors.dashboard(now=now)
    months = [m.month for m in figures.months]
    assert len(months) == 12
    assert months[-1] == timezone.localdate(now).replace(day=1)
    assert months == sorted(months)
    assert figures.months[-1].revenue_cents == 5000
    assert sum(m.revenue_cents for m in figures.months) == 5000


def test_the_dashboard_puts_an_order_in_its_berlin_month(anna, shop):
    berlin = timezone.get_current_timezone()
    # 31 January 23:30 in Berlin is still January, although it is 22:30 UTC.
    placed = datetime(2025, 1, 31, 23, 30, tzinfo=berlin)
    make_order(customer=anna, shop=shop, lines=((1, 700, 700),), placed_at=placed)
    figures = selectors.dashboard(now=datetime(2025, 3, 15, 12, tzinfo=berlin))
    by_month = {m.month: m.revenue_cents for m in figures.months}
    assert by_month[date(2025, 1, 1)] == 700
    assert by_month[date(2025, 2, 1)] == 0


def test_an_empty_shop_has_no_rates_instead_of_dividing_by_zero(db):
    figures = selectors.dashboard()
    assert figures.orders_30d == 0
    assert figures.average_order_cents is None
    assert figures.return_rate is None
    assert figures.revenue_change is None


def test_the_dashboard_takes_three_queries_however_many_orders(shop, django_assert_num_queries):
    for i in range(10):
        make_order(
            customer=CustomerFactory(), shop=shop, placed_at=timezone.now() - timedelta(days=i * 30)
        )
    with django_assert_num_queries(3):
        figures = selectors.dashboard()
        [o.customer for o in figures.latest_orders]


def test_order_detail_knows_how_much_of_each_line_was_returned(anna, shop):
    order = make_order(customer=anna, shop=shop, lines=((3, 1000, 700), (1, 500, 700)))
    first = order.lines.order_by("id").first()
    services.record_return(order, lines=[services.ReturnLineInput(first.pk, 2)])
    loaded = selectors.order_detail(order.pk)
    assert [line.returned_quantity for line in loaded.lines.all()] == [2, 0]


def test_order_search_matches_the_number_start(shop):
    order = make_order(shop=shop)
    assert list(selectors.order_list(selectors.OrderFilters(query=order.number[:3]))) == [order]
    assert list(selectors.order_list(selectors.OrderFilters(query="#99999999"))) == []
