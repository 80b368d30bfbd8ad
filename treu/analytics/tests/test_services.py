"""The recompute against hand-computed shops (docs/metrics.md has the same examples)."""

from __future__ import annotations

from datetime import UTC, datetime
from fractions import Fraction

import pytest

from treu.analytics import selectors, services
from treu.analytics.models import (
    ActivitySpell,
    AnalyticsSettings,
    CohortCell,
    CustomerFigures,
    PeriodFigures,
    RecomputeRun,
    RunStatus,
    Segment,
    SegmentFigures,
    SegmentMove,
)
from treu.analytics.tests.helpers import berlin, figures, order, recompute
from treu.commerce.services import ReturnLineInput, cancel_order, record_return
from treu.customers.tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

NOW = berlin(2025, 6, 20)


def test_an_empty_shop_gets_a_stamp_and_no_figures():
    result = recompute(NOW)
    assert (result.orders, result.customers) == (0, 0)
    assert result.run.status == RunStatus.DONE
    assert PeriodFigures.objects.count() == 0
    dashboard = selectors.dashboard()
    assert dashboard.month is None and dashboard.cards == []
    assert selectors.run_state().last_done == result.run


def test_one_customer_with_one_order():
    anna = CustomerFactory()
    order(anna, berlin(2025, 3, 10), 3000)
    recompute(NOW)
    march = figures(2025, 3)
    assert (march.orders_all, march.revenue_all_cents, march.buyers) == (1, 3000, 1)
    assert (march.new_customers, march.starting, march.ending) == (1, 0, 1)
    assert march.retention_rate is None  # nobody active at the start: undefined, not 0 %
    assert march.repeat_rate == 0
    assert march.aov_cents == 3000
    assert march.historic_clv_cents == 3000
    # Months without orders are there, with zeros, and the customer stays active.
    april = figures(2025, 4)
    assert (april.orders_all, april.buyers, april.ending, april.starting) == (0, 0, 1, 1)
    assert april.retention_rate == 1
    assert april.aov_cents is None
    cf = CustomerFigures.objects.get(customer=anna)
    assert (cf.orders, cf.revenue_cents, cf.second_order_at, cf.days_to_second) == (
        1,
        3000,
        None,
        None,
    )
    assert cf.segment in Segment.values


def test_retention_churn_and_the_reactivated_on_a_hand_computed_shop():
    """Active window 3 months; the quarter April–June 2025 (S = active at the end of March).

    anna: Jan, May  -> active end of March (Jan within Jan–Mar), active end of June: retained
    ben:  Feb       -> active end of March, not end of June (Apr–Jun empty): lost
    cleo: Mar, Apr  -> retained
    dora: Oct 2024, Jun -> not active end of March (Oct not in Jan–Mar), active in June:
          came back
    emil: May       -> new
    S = 3 (anna, ben, cleo), E = 4 (anna, cleo, dora, emil), N = 1, came back = 1,
    retained = E − N − came back = 2, retention 2/3, churn 1/3.
    """
    AnalyticsSettings.objects.create(pk=1, active_window_months=3)
    anna, ben, cleo, dora, emil = (CustomerFactory() for _ in range(5))
    order(anna, berlin(2025, 1, 5))
    order(anna, berlin(2025, 5, 5))
    order(ben, berlin(2025, 2, 5))
    order(cleo, berlin(2025, 3, 5))
    order(cleo, berlin(2025, 4, 5))
    order(dora, berlin(2024, 10, 5))
    order(dora, berlin(2025, 6, 5))
    order(emil, berlin(2025, 5, 20))
    recompute(NOW)
    q = figures(2025, 6, months=3)
    assert (q.starting, q.ending, q.new_active, q.reactivated, q.retained) == (3, 4, 1, 1, 2)
    assert q.retention_rate == Fraction(2, 3)
    assert q.churn_rate == Fraction(1, 3)
    assert q.lost == 1
    assert q.buyers == 4  # anna, cleo, dora, emil ordered in April–June
    assert q.orders == 4
    assert q.purchase_frequency == 1
    assert q.new_customers == 1
    # The customers behind each number are exactly the ones named above.
    expected = {
        "retained": {anna, cleo},
        "lost": {ben},
        "reactivated": {dora},
        "new_active": {emil},
        "starting": {anna, ben, cleo},
        "ending": {anna, cleo, dora, emil},
        "buyers": {anna, cleo, dora, emil},
    }
    for metric, people in expected.items():
        drill = selectors.drill({"metric": metric, "month": "2025-06", "period": "3"})
        assert {f.customer for f in drill.figures} == people, metric
    spells = ActivitySpell.objects.filter(customer=dora).order_by("spell_no")
    assert [(s.first_month % 12 + 1, s.last_month % 12 + 1) for s in spells] == [(10, 12), (6, 8)]


def test_revenue_is_net_of_returns_and_cancelled_orders_do_not_count():
    anna, ben = CustomerFactory(), CustomerFactory()
    first = order(anna, berlin(2025, 5, 2), 5000)
    order(anna, berlin(2025, 5, 9), 1000)
    gone = order(ben, berlin(2025, 5, 3), 9000)
    cancel_order(gone)
    record_return(
        first,
        lines=[ReturnLineInput(order_line_id=first.lines.get().pk, quantity=1, amount_cents=1500)],
        refunded_at=berlin(2025, 6, 1),
    )
    order(None, berlin(2025, 5, 4), 700)  # a guest: revenue and AOV, no customer figures
    recompute(NOW)
    may = figures(2025, 5)
    assert may.orders_all == 3
    assert may.revenue_all_cents == 5000 - 1500 + 1000 + 700
    assert may.refunded_all_cents == 1500
    assert may.aov_cents == round(Fraction(5200, 3))  # 1733,33 -> 1733
    assert (may.orders, may.revenue_cents, may.buyers) == (2, 4500, 1)
    assert may.new_customers == 1  # ben's only order was cancelled: he never bought
    assert may.repeat_rate == 1
    cf = CustomerFigures.objects.get(customer=anna)
    assert (cf.orders, cf.revenue_cents, cf.days_to_second) == (2, 4500, 7)
    assert not CustomerFigures.objects.filter(customer=ben).exists()


def test_second_purchase_rates_and_time_to_second_purchase():
    """Three new customers in March: second orders after 10, 45 and never -> 1/3, 2/3, 2/3."""
    a, b, c = CustomerFactory(), CustomerFactory(), CustomerFactory()
    order(a, berlin(2025, 3, 1))
    order(a, berlin(2025, 3, 11))
    order(b, berlin(2025, 3, 2))
    order(b, berlin(2025, 4, 16))
    order(c, berlin(2025, 3, 3))
    recompute(NOW)
    march = figures(2025, 3)
    assert march.new_customers == 3
    assert (march.second_within_30, march.second_within_60, march.second_within_90) == (1, 2, 2)
    assert march.second_rate_30 == Fraction(1, 3)
    assert march.second_rate_90 == Fraction(2, 3)
    assert (march.second_orders, march.second_days_median) == (1, 10)
    quarter = figures(2025, 4, months=3)  # Feb–April: both second orders
    assert quarter.second_orders == 2
    assert quarter.second_days_median == Fraction(10 + 45, 2)
    assert quarter.second_days_mean == Fraction(55, 2)


def test_months_are_berlin_months_at_midnight():
    """00:30 on 1 April in Berlin is 22:30 UTC on 31 March: it belongs to April."""
    anna, ben = CustomerFactory(), CustomerFactory()
    order(anna, datetime(2025, 3, 31, 22, 30, tzinfo=UTC))
    order(ben, datetime(2025, 3, 31, 21, 59, tzinfo=UTC))  # 23:59 in Berlin: still March
    recompute(NOW)
    assert figures(2025, 4).orders_all == 1
    assert figures(2025, 3).orders_all == 1


def test_months_are_berlin_months_across_the_autumn_clock_change():
    """Winter time starts 26 October 2025: 1 November 00:10 Berlin is 23:10 UTC on 31 October."""
    anna = CustomerFactory()
    order(anna, datetime(2025, 10, 31, 23, 10, tzinfo=UTC))
    order(anna, datetime(2025, 10, 31, 22, 50, tzinfo=UTC))  # 23:50 Berlin: October
    recompute(berlin(2025, 11, 20))
    assert figures(2025, 11).orders_all == 1
    assert figures(2025, 10).orders_all == 1
    november = PeriodFigures.objects.get(month_index=2025 * 12 + 10, months=1)
    assert november.starts_at == datetime(2025, 10, 31, 23, 0, tzinfo=UTC)


def test_cohorts_count_customers_and_revenue_by_months_since_the_first_order():
    a, b = CustomerFactory(), CustomerFactory()
    order(a, berlin(2025, 1, 5), 1000)
    order(a, berlin(2025, 3, 5), 3000)
    order(b, berlin(2025, 1, 20), 2000)
    recompute(NOW)
    cells = {
        (c.cohort.month, c.offset): (c.customers, c.revenue_cents) for c in CohortCell.objects.all()
    }
    assert cells == {(1, 0): (2, 3000), (1, 2): (1, 3000)}
    rows = selectors.cohorts()
    assert rows[0].size == 2
    assert [cell.share for cell in rows[0].cells[:3]] == [1, 0, Fraction(1, 2)]
    assert [cell.text for cell in rows[0].cells[:3]] == ["100\u00a0%", "0\u00a0%", "50\u00a0%"]
    by_revenue = selectors.cohorts(by="revenue")
    assert by_revenue[0].cells[2].share == 1  # 3000 in month 2 against 3000 in month 0


def test_simple_clv_uses_aov_frequency_and_lifetime_from_the_rolling_year():
    """12 months to June 2025: anna 2 orders of 50 €, ben 1 order of 20 €; S = 2 (both active
    at the end of June 2024), retained 1 -> churn 1/2, lifetime 2 years.
    AOV = 120/3 = 40 €, frequency 3/2, CLV = 40 × 1.5 × 2 = 120 €."""
    anna, ben, cleo = CustomerFactory(), CustomerFactory(), CustomerFactory()
    order(anna, berlin(2024, 6, 1), 5000)
    order(cleo, berlin(2024, 6, 2), 1000)  # active at the start, nothing since: lost
    order(anna, berlin(2024, 12, 1), 5000)
    order(anna, berlin(2025, 2, 1), 5000)
    order(ben, berlin(2025, 3, 1), 2000)
    recompute(NOW)
    year = figures(2025, 6, months=12)
    # The year is July 2024 – June 2025: June 2024's orders made anna and cleo active at its start.
    assert (year.starting, year.retained) == (2, 1)
    assert year.churn_rate == Fraction(1, 2)
    assert (year.orders, year.revenue_cents, year.buyers) == (3, 12000, 2)
    card = next(c for c in selectors.dashboard(period=12).cards if c.key == "simple_clv")
    assert card.value == 12000


def test_rfm_scores_and_segments():
    """Five customers, each better on every axis than the one before: scores 1..5."""
    customers = [CustomerFactory() for _ in range(5)]
    for rank, customer in enumerate(customers, start=1):
        for n in range(rank):
            order(customer, berlin(2025, rank, 1 + n), 1000 * rank)
    recompute(NOW)
    scores = [CustomerFigures.objects.get(customer=c).recency_score for c in customers]
    assert scores == [1, 2, 3, 4, 5]
    best = CustomerFigures.objects.get(customer=customers[-1])
    assert (best.frequency_score, best.monetary_score, best.segment) == (5, 5, Segment.CHAMPIONS)
    worst = CustomerFigures.objects.get(customer=customers[0])
    assert worst.segment == Segment.LOST
    assert SegmentFigures.objects.get(segment=Segment.CHAMPIONS).customers == 1
    assert set(selectors.customers_in_segment("lost").values_list("customer_id", flat=True)) == {
        customers[0].pk
    }
    # Month over month: at the end of May the ranking was the same (no June orders); at
    # the end of April the best customer had not ordered yet.
    assert (best.month_end_segment, best.previous_segment) == (Segment.CHAMPIONS, "")
    moves = {(m.from_segment, m.to_segment): m.customers for m in SegmentMove.objects.all()}
    assert moves[("", Segment.CHAMPIONS)] == 1
    assert sum(moves.values()) == 5
    assert worst.previous_segment != ""


def test_ties_share_a_score():
    a, b = CustomerFactory(), CustomerFactory()
    order(a, berlin(2025, 5, 1), 1000)
    order(b, berlin(2025, 5, 1), 1000)
    recompute(NOW)
    scores = set(CustomerFigures.objects.values_list("frequency_score", "monetary_score"))
    assert scores == {(1, 1)}


def test_the_button_queues_one_run_that_the_worker_computes_once(
    owner, django_capture_on_commit_callbacks
):
    order(CustomerFactory(), berlin(2025, 5, 1))
    with django_capture_on_commit_callbacks(execute=True):
        run = services.request_recompute(by=owner)
    run.refresh_from_db()
    assert run.status == RunStatus.DONE and run.requested_by == owner
    assert PeriodFigures.objects.exists()
    assert services.run_queued_recompute(run.pk).status == RunStatus.DONE  # idempotent
    assert RecomputeRun.objects.count() == 1


def test_pressing_the_button_twice_queues_one_run(owner):
    first = services.request_recompute(by=owner)  # not committed in this test: stays queued
    assert services.request_recompute(by=owner) == first


def test_a_failing_recompute_is_stamped_and_keeps_the_old_figures(monkeypatch, owner):
    order(CustomerFactory(), berlin(2025, 5, 1))
    recompute(NOW)
    before = PeriodFigures.objects.count()
    run = RecomputeRun.objects.create(trigger="button")

    def broken(**kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(services.computation, "compute", broken)
    with pytest.raises(RuntimeError):
        services.run_queued_recompute(run.pk)
    run.refresh_from_db()
    assert run.status == RunStatus.FAILED and "disk full" in run.error
    assert PeriodFigures.objects.count() == before
    assert selectors.run_state().last_failed == run


def test_settings_refuse_bad_values_and_write_nothing():
    with pytest.raises(services.AnalyticsError) as error:
        services.update_settings(
            active_window_months=0,
            target_retention_pct=140,
            target_churn_pct=50,
            target_clv_cents=-1,
            target_nps=300,
            industry="mining",
        )
    assert set(error.value.message_dict) == {
        "active_window_months", "target_retention_pct", "target_clv_cents", "target_nps",
        "industry",
    }  # fmt: skip
    assert not AnalyticsSettings.objects.exists()
    saved = services.update_settings(
        active_window_months=6, target_retention_pct=35, target_churn_pct=45,
        target_clv_cents=50000, target_nps=20, industry="hospitality",
    )  # fmt: skip
    assert selectors.analytics_settings().industry_retention_pct == 55
    assert saved.active_window_months == 6


def test_merging_customers_drops_the_duplicates_figures(anna, ben):
    from treu.customers.services import merge_customers

    order(anna, berlin(2025, 5, 1))
    order(ben, berlin(2025, 5, 2))
    recompute(NOW)
    merge_customers(survivor=anna, duplicate=ben)
    assert list(CustomerFigures.objects.values_list("customer_id", flat=True)) == [anna.pk]
    recompute(NOW)
    assert CustomerFigures.objects.get(customer=anna).orders == 2


def test_the_second_order_is_found_among_several_in_the_first_month():
    anna, ben = CustomerFactory(), CustomerFactory()
    for day in (3, 1, 9):  # three orders in March, not in order of entry
        order(anna, berlin(2025, 3, day))
    order(ben, berlin(2025, 3, 1))
    order(ben, berlin(2025, 3, 20))  # two in the first month: the second is the month's last
    order(ben, berlin(2025, 5, 1))
    recompute(NOW)
    anna_figures = CustomerFigures.objects.get(customer=anna)
    assert anna_figures.second_order_at == berlin(2025, 3, 3)
    assert anna_figures.days_to_second == 2
    assert CustomerFigures.objects.get(customer=ben).second_order_at == berlin(2025, 3, 20)
