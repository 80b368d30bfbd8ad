"""The KPI formulas on the worked examples of docs/metrics.md, and the RFM grid."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from treu.analytics import metrics, rfm
from treu.analytics.models import Segment


def test_retention_and_churn_follow_the_worked_example():
    # S = 200 active on 1 January, E = 180 on 31 December, N = 50 new, 10 came back:
    # retained = 180 − 50 − 10 = 120.
    assert metrics.retention_rate(retained=120, starting=200) == Fraction(3, 5)
    assert metrics.churn_rate(retained=120, starting=200) == Fraction(2, 5)


def test_rates_without_a_base_are_undefined_not_zero():
    assert metrics.retention_rate(retained=0, starting=0) is None
    assert metrics.churn_rate(retained=0, starting=0) is None
    assert metrics.repeat_customer_rate(repeat=0, customers=0) is None
    assert metrics.purchase_frequency(orders=0, buyers=0) is None
    assert metrics.average_order_value_cents(revenue_cents=0, orders=0) is None
    assert metrics.second_purchase_rate(within=0, new_customers=0) is None


def test_repeat_rate_frequency_and_aov():
    assert metrics.repeat_customer_rate(repeat=35, customers=100) == Fraction(7, 20)
    assert metrics.purchase_frequency(orders=150, buyers=100) == Fraction(3, 2)
    # 100,00 € over three orders: 33,333… € rounds to 33,33 €; 0,5 cent rounds up.
    assert metrics.average_order_value_cents(revenue_cents=10000, orders=3) == 3333
    assert metrics.average_order_value_cents(revenue_cents=5, orders=2) == 3


def test_historic_clv_is_revenue_per_customer_to_date():
    assert metrics.historic_clv_cents(revenue_cents=1_234_567, customers=1000) == 1235


def test_simple_clv_multiplies_aov_frequency_and_lifetime():
    # 12 months: 300 orders, 12.000,00 € from 200 customers, churn 40 %:
    # AOV 40 €, 1,5 orders a year, 2,5 years -> 150,00 €.
    assert (
        metrics.simple_clv_cents(
            revenue_cents=1_200_000, orders=300, buyers=200, annual_churn=Fraction(2, 5)
        )
        == 15000
    )


def test_simple_clv_caps_the_lifetime_and_needs_a_churn_figure():
    assert metrics.expected_lifetime_years(annual_churn=Fraction(0)) == 10
    assert metrics.expected_lifetime_years(annual_churn=Fraction(1, 50)) == 10
    assert metrics.expected_lifetime_years(annual_churn=None) is None
    assert (
        metrics.simple_clv_cents(revenue_cents=100, orders=1, buyers=1, annual_churn=None) is None
    )


def test_changes_are_relative_for_amounts_and_in_points_for_rates():
    assert metrics.change(110, 100) == Fraction(1, 10)
    assert metrics.change(5, 0) is None
    assert metrics.point_change(Fraction(32, 100), Fraction(30, 100)) == Fraction(2, 100)
    assert metrics.point_change(None, Fraction(1, 2)) is None


@given(st.integers(min_value=1, max_value=10_000), st.data())
def test_quintile_scores_are_between_1_and_5_and_rise_with_the_rank(n, data):
    rank = data.draw(st.integers(min_value=1, max_value=n))
    score = rfm.quintile(rank, n)
    assert 1 <= score <= 5
    if rank < n:
        assert rfm.quintile(rank + 1, n) >= score


def test_quintiles_split_ten_customers_in_pairs():
    assert [rfm.quintile(r, 10) for r in range(1, 11)] == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]


def test_a_rank_outside_the_customers_is_refused():
    with pytest.raises(ValueError):
        rfm.quintile(0, 5)


def test_the_grid_names_one_segment_for_every_score_and_uses_all_eleven():
    named = {rfm.segment_of(r, f, m) for r in range(1, 6) for f in range(1, 6) for m in range(1, 6)}
    assert named == set(Segment)
    assert len(rfm.SEGMENT_ORDER) == 11
    assert rfm.segment_of(5, 5, 5) == Segment.CHAMPIONS
    assert rfm.segment_of(5, 1, 1) == Segment.NEW
    assert rfm.segment_of(1, 5, 5) == Segment.CANT_LOSE
    assert rfm.segment_of(1, 1, 1) == Segment.LOST
    assert rfm.segment_of(2, 1, 2) == Segment.HIBERNATING
    assert rfm.fm_score(1, 4) == 3  # 2,5 rounds up
