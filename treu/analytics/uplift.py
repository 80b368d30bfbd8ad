"""Did a measure work? Uplift of a treated group over its random control group.

Used for every campaign and automation that holds out a control group: conversion (share
of recipients who ordered in the attribution window) and revenue per recipient, each
with a 95 % confidence interval and a plain-German verdict. Pure functions, exact inputs
(counts, integer cents); the intervals are the usual large-sample (Wald / Welch) ones,
which is why small groups get "noch zu wenige Daten" instead of a verdict. Means and
intervals are statistics, computed in floating point and only shown rounded; no amount
is ever booked from them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

from django.utils.translation import gettext_lazy as _

Z95 = 1.959963984540054  # two-sided 95 %
# Below this many people, or this many conversions, in either group the normal
# approximation behind the interval is not to be trusted.
MIN_GROUP = 100
MIN_CONVERSIONS = 10


class Verdict(StrEnum):
    WORKS = "works"
    DOES_NOT_WORK = "does_not_work"
    TOO_LITTLE_DATA = "too_little_data"

    @property
    def label(self) -> str:
        return str(VERDICT_LABELS[self])


VERDICT_LABELS = {
    Verdict.WORKS: _("works"),
    Verdict.DOES_NOT_WORK: _("does not work"),
    Verdict.TOO_LITTLE_DATA: _("too little data yet"),
}


@dataclass(frozen=True)
class Uplift:
    treated: float  # the treated group's figure (a share, or cents per person)
    control: float
    difference: float  # treated − control
    low: float  # 95 % confidence interval of the difference
    high: float
    verdict: Verdict

    @property
    def relative(self) -> float | None:
        """The difference relative to the control figure (0.25 = 25 % more)."""
        return self.difference / self.control if self.control else None


def _verdict(low: float, high: float, enough: bool) -> Verdict:
    if not enough:
        return Verdict.TOO_LITTLE_DATA
    if low > 0:
        return Verdict.WORKS
    if high <= 0:
        return Verdict.DOES_NOT_WORK
    # The interval holds both "helps" and "does not help": a verdict needs more people.
    return Verdict.TOO_LITTLE_DATA


def conversion_uplift(
    *, treated_conversions: int, treated: int, control_conversions: int, control: int
) -> Uplift:
    """Difference of two conversion shares with its 95 % Wald interval.

    "Works" when the whole interval lies above zero; "does not work" when it lies at or
    below zero; otherwise, or with small groups, "too little data yet".
    """
    for name, value in (
        ("treated", treated),
        ("control", control),
        ("treated_conversions", treated_conversions),
        ("control_conversions", control_conversions),
    ):
        if value < 0:
            raise ValueError(f"{name} must not be negative")
    if treated_conversions > treated or control_conversions > control:
        raise ValueError("more conversions than people")
    if not treated or not control:
        return Uplift(0.0, 0.0, 0.0, -math.inf, math.inf, Verdict.TOO_LITTLE_DATA)
    p_t, p_c = treated_conversions / treated, control_conversions / control
    se = math.sqrt(p_t * (1 - p_t) / treated + p_c * (1 - p_c) / control)
    diff = p_t - p_c
    low, high = diff - Z95 * se, diff + Z95 * se
    enough = (
        min(treated, control) >= MIN_GROUP
        and min(treated_conversions, control_conversions) >= MIN_CONVERSIONS
    )
    return Uplift(p_t, p_c, diff, low, high, _verdict(low, high, enough))


@dataclass(frozen=True)
class GroupRevenue:
    """A group's revenue: people, their total and the sum of squares of each one's cents."""

    people: int
    total_cents: int
    squares: int  # Σ cents² over the people (0 for those who bought nothing)

    @property
    def mean(self) -> float:
        return self.total_cents / self.people if self.people else 0.0

    @property
    def variance(self) -> float:
        if self.people < 2:
            return 0.0
        # Exact integer arithmetic first: Σx² − (Σx)²/n, then one division.
        spread = self.squares * self.people - self.total_cents**2
        return max(spread, 0) / (self.people * (self.people - 1))


def revenue_uplift(treated: GroupRevenue, control: GroupRevenue) -> Uplift:
    """Difference of revenue per person (cents) with its 95 % Welch interval."""
    if not treated.people or not control.people:
        return Uplift(0.0, 0.0, 0.0, -math.inf, math.inf, Verdict.TOO_LITTLE_DATA)
    se = math.sqrt(treated.variance / treated.people + control.variance / control.people)
    diff = treated.mean - control.mean
    low, high = diff - Z95 * se, diff + Z95 * se
    enough = min(treated.people, control.people) >= MIN_GROUP
    return Uplift(treated.mean, control.mean, diff, low, high, _verdict(low, high, enough))
