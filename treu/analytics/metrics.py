"""The KPI formulas, on plain integers: exact fractions and whole cents, no floats.

Each returns None when the figure is undefined (nothing to divide by), so a page shows
"–" instead of a made-up 0 %. Definitions, worked examples and edge cases are in
docs/metrics.md; the tests recompute its examples.
"""

from __future__ import annotations

from fractions import Fraction

# Expected lifetime for the simple CLV is 1 / churn, but never longer than this: a shop
# that lost nobody in a year does not keep its customers forever.
MAX_LIFETIME_YEARS = 10


def ratio(part: int, whole: int) -> Fraction | None:
    return Fraction(part, whole) if whole else None


def round_cents(value: Fraction) -> int:
    """Half up to the cent (values are never negative here)."""
    return int((value * 2 + 1) // 2)


def retention_rate(*, retained: int, starting: int) -> Fraction | None:
    """(E − N − R) / S: of the customers active at the start, the share still active at the end."""
    return ratio(retained, starting)


def churn_rate(*, retained: int, starting: int) -> Fraction | None:
    """(S − retained) / S: of the customers active at the start, the share no longer active."""
    return ratio(starting - retained, starting)


def repeat_customer_rate(*, repeat: int, customers: int) -> Fraction | None:
    """Stammkundenquote: customers with two or more orders ÷ customers with at least one."""
    return ratio(repeat, customers)


def purchase_frequency(*, orders: int, buyers: int) -> Fraction | None:
    """Orders ÷ unique customers who ordered, in the period."""
    return ratio(orders, buyers)


def average_order_value_cents(*, revenue_cents: int, orders: int) -> int | None:
    return round_cents(Fraction(revenue_cents, orders)) if orders else None


def historic_clv_cents(*, revenue_cents: int, customers: int) -> int | None:
    """Revenue (net of returns) of all customers to date ÷ customers with an order to date."""
    return round_cents(Fraction(revenue_cents, customers)) if customers else None


def expected_lifetime_years(*, annual_churn: Fraction | None) -> Fraction | None:
    """1 ÷ annual churn, capped at MAX_LIFETIME_YEARS; None without a churn figure."""
    if annual_churn is None:
        return None
    if annual_churn == 0:
        return Fraction(MAX_LIFETIME_YEARS)
    return min(1 / annual_churn, Fraction(MAX_LIFETIME_YEARS))


def simple_clv_cents(
    *, revenue_cents: int, orders: int, buyers: int, annual_churn: Fraction | None
) -> int | None:
    """AOV × purchase frequency (a year) × expected lifetime (years), from a 12-month period.

    AOV × frequency is revenue ÷ buyers; computed as one fraction so nothing is rounded
    before the end.
    """
    lifetime = expected_lifetime_years(annual_churn=annual_churn)
    if not orders or not buyers or lifetime is None:
        return None
    aov = Fraction(revenue_cents, orders)
    frequency = Fraction(orders, buyers)
    return round_cents(aov * frequency * lifetime)


def second_purchase_rate(*, within: int, new_customers: int) -> Fraction | None:
    """New customers of the period whose second order came within the days ÷ new customers."""
    return ratio(within, new_customers)


def mean_days(*, total_days: int, count: int) -> Fraction | None:
    return ratio(total_days, count)


def member_share(*, members: int, active: int) -> Fraction | None:
    """Active customers at the end of the period who are loyalty members ÷ active customers."""
    return ratio(members, active)


def revenue_share(*, part_cents: int, all_cents: int) -> Fraction | None:
    """Part of the revenue (members', attributed to email) ÷ all revenue of the period.

    None when the period's revenue is not positive: refunds of earlier orders can leave a
    month at or below zero, and a share of that means nothing.
    """
    return ratio(part_cents, all_cents) if all_cents > 0 else None


def redemption_rate(*, redeemed: int, issued: int) -> Fraction | None:
    """Points redeemed ÷ points issued in the same period (may exceed 100 %: members spend
    points saved up before)."""
    return ratio(redeemed, issued) if issued > 0 else None


def change(current: Fraction | int | None, previous: Fraction | int | None) -> Fraction | None:
    """Relative change (for counts and money); None when there is nothing to compare with."""
    if current is None or previous is None or previous == 0:
        return None
    return (Fraction(current) - Fraction(previous)) / Fraction(previous)


def point_change(current: Fraction | None, previous: Fraction | None) -> Fraction | None:
    """Difference of two rates in percentage points (as a fraction: 0.02 = 2 points)."""
    if current is None or previous is None:
        return None
    return Fraction(current) - Fraction(previous)
