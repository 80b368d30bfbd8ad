"""Hypothesis properties: for any order history the set-based recompute agrees with a plain
Python count of the same definitions, rates stay between 0 and 100 %, cohort cells never
exceed their cohort, and every customer has scores 1–5 and exactly the grid's segment."""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta

from django.utils import timezone
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase

from treu.analytics import rfm, services
from treu.analytics.models import (
    AnalyticsSettings,
    CohortCell,
    CustomerFigures,
    PeriodFigures,
    SegmentFigures,
    month_index,
)
from treu.analytics.tests.helpers import berlin, order
from treu.commerce.services import cancel_order
from treu.customers.tests.factories import CustomerFactory

NOW = berlin(2025, 6, 20, 12)
START = berlin(2023, 1, 1, 0)
SPAN_HOURS = int((NOW - START).total_seconds() // 3600) - 1

history = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=4),  # customer (4 = a guest)
        st.integers(min_value=0, max_value=SPAN_HOURS),  # hours after START
        st.integers(min_value=100, max_value=20_000),  # cents
        st.booleans(),  # cancelled afterwards
    ),
    min_size=0,
    max_size=14,
)


def reference(orders, window: int) -> dict:
    """The definitions of docs/metrics.md, counted one customer at a time."""
    months = defaultdict(set)  # customer -> purchase months
    for who, at, _cents, cancelled in orders:
        if who is not None and not cancelled:
            months[who].add(month_index(timezone.localtime(at).date()))

    def active(c, m):
        return any(m - window < k <= m for k in months[c])

    figures = {}
    live = [k for c in months for k in months[c]]
    if not live:
        return figures
    all_live = [
        month_index(timezone.localtime(at).date())
        for _w, at, _c, cancelled in orders
        if not cancelled
    ]
    first, last = min(all_live), month_index(timezone.localdate(NOW))
    for m in range(first, last + 1):
        for p in (1, 3, 12):
            start = [c for c in months if active(c, m - p)]
            end = [c for c in months if active(c, m)]
            kept = [c for c in start if active(c, m)]
            new = [c for c in months if m - p < min(months[c]) <= m]
            buyers = [c for c in months if any(m - p < k <= m for k in months[c])]
            figures[(m, p)] = {
                "starting": len(start),
                "ending": len(end),
                "retained": len(kept),
                "new_customers": len(new),
                "buyers": len(buyers),
                "customers_to_date": sum(1 for c in months if min(months[c]) <= m),
            }
    return figures


class TestRecomputeAgreesWithTheDefinitions(TestCase):
    @given(history, st.sampled_from([1, 3, 12]))
    @settings(max_examples=25, deadline=None)
    def test_set_based_figures_match_a_plain_count(self, spec, window):
        AnalyticsSettings.objects.update_or_create(pk=1, defaults={"active_window_months": window})
        people = [CustomerFactory() for _ in range(4)]
        orders = []
        for who, hours, cents, cancelled in spec:
            at = START + timedelta(hours=hours)
            customer = people[who] if who < 4 else None
            placed = order(customer, at, cents)
            if cancelled:
                cancel_order(placed)
            orders.append((customer.pk if customer else None, at, cents, cancelled))
        services.recompute_analytics(now=NOW)

        expected = reference(orders, window)
        rows = {(r.month_index, r.months): r for r in PeriodFigures.objects.all()}
        assert set(rows) == set(expected) or not expected
        for key, values in expected.items():
            row = rows[key]
            for name, value in values.items():
                assert getattr(row, name) == value, (key, name)
            assert row.retained + row.new_active + row.reactivated == row.ending
            for rate in (row.retention_rate, row.churn_rate, row.repeat_rate):
                assert rate is None or 0 <= rate <= 1
            for days in (30, 60, 90):
                rate = row.second_rate(days)
                assert rate is None or 0 <= rate <= 1

        sizes = {c.cohort_index: c.customers for c in CohortCell.objects.filter(offset=0)}
        for cell in CohortCell.objects.all():
            assert 0 < cell.customers <= sizes[cell.cohort_index]

        figures = list(CustomerFigures.objects.all())
        bought = defaultdict(list)
        for who, at, cents, cancelled in orders:
            if who is not None and not cancelled:
                bought[who].append((at, cents))
        assert {f.customer_id for f in figures} == set(bought)
        for f in figures:
            mine = sorted(bought[f.customer_id], key=lambda o: o[0])
            assert (f.orders, f.revenue_cents) == (len(mine), sum(c for _a, c in mine))
            assert (f.first_order_at, f.last_order_at) == (mine[0][0], mine[-1][0])
            assert f.second_order_at == (mine[1][0] if len(mine) > 1 else None)
            scores = (f.recency_score, f.frequency_score, f.monetary_score, f.fm_score)
            assert all(1 <= s <= 5 for s in scores)
            assert f.fm_score == rfm.fm_score(f.frequency_score, f.monetary_score)
            assert f.segment == rfm.GRID[f.recency_score][f.fm_score]
        # The scores are the quintiles of the ranks (ties share the lowest rank).
        for name, key in (
            ("recency_score", lambda f: f.last_order_at),
            ("frequency_score", lambda f: f.orders),
            ("monetary_score", lambda f: f.revenue_cents),
        ):
            values = [key(f) for f in figures]
            for f in figures:
                rank = 1 + sum(1 for v in values if v < key(f))
                assert getattr(f, name) == rfm.quintile(rank, len(figures)), name
        assert sum(s.customers for s in SegmentFigures.objects.all()) == len(figures)
        assert sum(s.revenue_cents for s in SegmentFigures.objects.all()) == sum(
            f.revenue_cents for f in figures
        )
