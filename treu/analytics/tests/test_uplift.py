"""Uplift over a control group: the intervals against hand computation and the verdicts."""

from __future__ import annotations

import math
import statistics

import pytest
from hypothesis import given
from hypothesis import strategies as st

from treu.analytics.uplift import GroupRevenue, Verdict, conversion_uplift, revenue_uplift


def test_a_conversion_uplift_matches_the_hand_computed_interval():
    result = conversion_uplift(
        treated_conversions=120, treated=1000, control_conversions=80, control=1000
    )
    se = math.sqrt(0.12 * 0.88 / 1000 + 0.08 * 0.92 / 1000)
    assert result.difference == pytest.approx(0.04)
    assert result.low == pytest.approx(0.04 - 1.959964 * se, abs=1e-6)
    assert result.high == pytest.approx(0.04 + 1.959964 * se, abs=1e-6)
    assert result.verdict == Verdict.WORKS and result.relative == pytest.approx(0.5)


def test_no_effect_in_a_big_sample_does_not_work_and_a_small_one_is_too_little():
    worse = conversion_uplift(
        treated_conversions=500, treated=10_000, control_conversions=700, control=10_000
    )
    assert worse.verdict == Verdict.DOES_NOT_WORK and worse.high < 0
    small = conversion_uplift(treated_conversions=9, treated=50, control_conversions=2, control=50)
    assert small.verdict == Verdict.TOO_LITTLE_DATA
    unsure = conversion_uplift(
        treated_conversions=105, treated=1000, control_conversions=100, control=1000
    )
    assert unsure.low < 0 < unsure.high and unsure.verdict == Verdict.TOO_LITTLE_DATA


def test_empty_groups_and_impossible_counts():
    assert conversion_uplift(
        treated_conversions=0, treated=0, control_conversions=0, control=10
    ).verdict == (Verdict.TOO_LITTLE_DATA)
    with pytest.raises(ValueError):
        conversion_uplift(treated_conversions=5, treated=4, control_conversions=0, control=4)


def _group(cents: list[int]) -> GroupRevenue:
    return GroupRevenue(len(cents), sum(cents), sum(c * c for c in cents))


def test_revenue_per_recipient_uses_the_exact_sample_variance():
    treated = [0] * 150 + [2500, 3000, 4200] * 50
    control = [0] * 200 + [2500, 3100] * 50
    result = revenue_uplift(_group(treated), _group(control))
    se = math.sqrt(
        statistics.variance(treated) / len(treated) + statistics.variance(control) / len(control)
    )
    diff = statistics.mean(treated) - statistics.mean(control)
    assert result.difference == pytest.approx(diff)
    assert (result.low, result.high) == (
        pytest.approx(diff - 1.959964 * se, rel=1e-6),
        pytest.approx(diff + 1.959964 * se, rel=1e-6),
    )
    assert result.verdict == Verdict.WORKS


@given(st.integers(0, 5000), st.integers(1, 5000), st.integers(0, 5000), st.integers(1, 5000))
def test_the_interval_always_holds_the_difference_and_the_verdict_follows_it(a, n, b, m):
    a, b = min(a, n), min(b, m)
    result = conversion_uplift(treated_conversions=a, treated=n, control_conversions=b, control=m)
    assert result.low <= result.difference <= result.high
    if result.verdict == Verdict.WORKS:
        assert result.low > 0
    if result.verdict == Verdict.DOES_NOT_WORK:
        assert result.high <= 0
