from __future__ import annotations

import math
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal
from fractions import Fraction

from hypothesis import given
from hypothesis import strategies as st

from treu.loyalty.models import PointsBasis, PurchaseRuleKind, Rounding
from treu.loyalty.points import (
    Bonus,
    Line,
    Rate,
    order_points,
    paid_amounts,
    returned_share,
    share_out,
)

ONE = Rate(points_per_euro=Decimal(1))


def test_share_out_splits_exactly_in_proportion():
    assert share_out(100, [1, 1, 1]) == [34, 33, 33]
    assert share_out(10, [0, 5, 5]) == [0, 5, 5]
    assert share_out(0, [3, 4]) == [0, 0]
    assert share_out(7, [0, 0]) == [0, 0]


def test_it_rounds_once_per_order_not_per_line():
    # Three lines of 0,99 € each: 2,97 points, so 2 points rounded down, not 0 per line.
    lines = [Line(i, 99, 1900) for i in (1, 2, 3)]
    result = order_points(lines, shipping_cents=0, discount_cents=0, rate=ONE)
    assert result.total == 2
    assert sorted(result.lines.values()) == [0, 1, 1]
    half_up = Rate(points_per_euro=Decimal(1), rounding=Rounding.HALF_UP)
    assert order_points(lines, shipping_cents=0, discount_cents=0, rate=half_up).total == 3


def test_the_order_discount_reduces_the_lines_points():
    lines = [Line(1, 3000, 700), Line(2, 1000, 700)]
    result = order_points(lines, shipping_cents=0, discount_cents=1000, rate=ONE)
    # 22,5 and 7,5 points: 30 in all; the tied half point goes to the first line.
    assert result.lines == {1: 23, 2: 7}


def test_net_points_leave_out_each_lines_vat():
    lines = [Line(1, 1070, 700), Line(2, 1190, 1900)]
    net = Rate(points_per_euro=Decimal(10), basis=PointsBasis.NET)
    assert order_points(lines, shipping_cents=0, discount_cents=0, rate=net).lines == {
        1: 100,
        2: 100,
    }


def test_shipping_earns_only_when_the_settings_say_so():
    lines = [Line(1, 1000, 1900)]
    without = order_points(lines, shipping_cents=490, discount_cents=0, rate=ONE)
    assert without.shipping == 0 and without.total == 10
    with_shipping = Rate(points_per_euro=Decimal(1), include_shipping=True)
    assert order_points(lines, shipping_cents=490, discount_cents=0, rate=with_shipping).total == 14


def test_a_discount_larger_than_the_goods_eats_into_shipping():
    rate = Rate(points_per_euro=Decimal(1), include_shipping=True)
    result = order_points([Line(1, 500, 1900)], shipping_cents=1000, discount_cents=800, rate=rate)
    assert result.lines == {1: 0} and result.shipping == 7


def test_returned_share_never_exceeds_what_was_earned():
    assert returned_share(10, 1, 3) == 3
    assert returned_share(10, 3, 3) == 10
    assert returned_share(10, 5, 3) == 10


@given(
    st.lists(
        st.tuples(st.integers(0, 500_000), st.sampled_from([0, 700, 1900])), min_size=1, max_size=6
    ),
    st.integers(0, 5000),
    st.integers(0, 100),
    st.decimals(min_value=0, max_value=50, places=2),
    st.sampled_from(list(PointsBasis)),
    st.booleans(),
    st.sampled_from(list(Rounding)),
)
def test_the_lines_add_up_to_the_order_rounded_once(
    amounts, shipping, discount_share, per_euro, basis, include_shipping, rounding
):
    lines = [Line(i, cents, bp) for i, (cents, bp) in enumerate(amounts, start=1)]
    discount = sum(cents for cents, _bp in amounts) * discount_share // 100
    rate = Rate(per_euro, basis, include_shipping, rounding)
    result = order_points(lines, shipping_cents=shipping, discount_cents=discount, rate=rate)
    assert all(points >= 0 for points in result.lines.values()) and result.shipping >= 0
    goods = sum(cents for cents, _bp in amounts)
    paid = goods - discount + (shipping if include_shipping else 0)
    exact = Decimal(paid) * per_euro / 100
    mode = ROUND_HALF_UP if rounding == Rounding.HALF_UP else ROUND_DOWN
    gross_total = int(exact.quantize(Decimal(1), rounding=mode))
    if basis == PointsBasis.GROSS:
        assert result.total == gross_total  # rounded once, for the whole order
    else:
        assert result.total <= gross_total


# -- Earning rules in the arithmetic ----------------------------------------------------------

K = PurchaseRuleKind


def _bonus(key, kind, value, units, min_cents=0):
    return Bonus(key, kind, Decimal(value), units, min_cents)


def test_a_multiplier_doubles_the_purchase_points_of_its_lines_only():
    lines = [Line(1, 3000, 700), Line(2, 2000, 700)]
    double = _bonus(7, K.MULTIPLIER, 2, {1: 1})
    result = order_points(lines, shipping_cents=0, discount_cents=0, rate=ONE, bonuses=[double])
    assert result.lines == {1: 30, 2: 20}
    assert result.rule_lines == {(7, 1): 30}
    assert result.total == 80 and result.of_rule(7) == 30


def test_multipliers_and_a_tier_rate_multiply():
    # Tier ×1.5 is in the rate; campaigns ×2 and ×1.5 on top: 10 € earn 10 × 1.5 × 2 × 1.5.
    rate = Rate(points_per_euro=Decimal("1.5"))
    bonuses = [_bonus(1, K.MULTIPLIER, 2, {1: 1}), _bonus(2, K.MULTIPLIER, "1.5", {1: 1})]
    result = order_points([Line(1, 1000, 700)], shipping_cents=0, discount_cents=0, rate=rate,
                          bonuses=bonuses)  # fmt: skip
    assert result.total == 45
    # The first campaign adds 15 to the 15; the second half of the 30 before it.
    assert (result.lines[1], result.of_rule(1), result.of_rule(2)) == (15, 15, 15)


def test_rule_points_are_rounded_once_with_the_purchase_points():
    # Three coffees at 0,99 € with double points: 5.94 points in all, rounded down 5, not 2 + 2.
    lines = [Line(i, 99, 1900) for i in (1, 2, 3)]
    double = _bonus(1, K.MULTIPLIER, 2, {1: 1, 2: 1, 3: 1})
    result = order_points(lines, shipping_cents=0, discount_cents=0, rate=ONE, bonuses=[double])
    assert result.total == 5
    assert sum(result.lines.values()) + result.of_rule(1) == 5


def test_extra_points_per_euro_count_the_paid_amount_after_the_discount():
    lines = [Line(1, 3000, 700), Line(2, 1000, 700)]
    extra = _bonus(3, K.PER_EURO, 2, {1: 1})
    result = order_points(lines, shipping_cents=0, discount_cents=1000, rate=ONE, bonuses=[extra])
    # Line 1 paid 22,50 €: 45 extra points; the purchase points stay 23 + 7.
    assert result.rule_lines == {(3, 1): 45}
    assert result.total == 75


def test_points_per_item_and_per_order_are_whole():
    lines = [Line(1, 3000, 700), Line(2, 1000, 700)]
    bonuses = [_bonus(4, K.PER_ITEM, 10, {1: 3}), _bonus(5, K.PER_ORDER, 50, {1: 3, 2: 1})]
    result = order_points(lines, shipping_cents=0, discount_cents=0, rate=ONE, bonuses=bonuses)
    assert result.rule_lines == {(4, 1): 30}
    assert result.rule_orders == {5: 50}


def test_the_minimum_counts_the_goods_paid_not_shipping():
    lines = [Line(1, 4000, 700)]
    bonus = _bonus(5, K.PER_ORDER, 50, {1: 1}, min_cents=4000)
    at_minimum = order_points(lines, shipping_cents=490, discount_cents=0, rate=ONE,
                              bonuses=[bonus])  # fmt: skip
    assert at_minimum.rule_orders == {5: 50}
    discounted = order_points(lines, shipping_cents=490, discount_cents=1, rate=ONE,
                              bonuses=[bonus])  # fmt: skip
    assert discounted.rule_orders == {}
    net = Rate(points_per_euro=Decimal(1), basis=PointsBasis.NET)
    assert order_points(lines, shipping_cents=0, discount_cents=0, rate=net,
                        bonuses=[bonus]).rule_orders == {}  # 37,38 € net  # fmt: skip


def test_an_order_without_goods_in_scope_earns_nothing_by_the_rule():
    bonus = _bonus(5, K.PER_ORDER, 50, {})
    result = order_points([Line(1, 5000, 700)], shipping_cents=0, discount_cents=0, rate=ONE,
                          bonuses=[bonus])  # fmt: skip
    assert result.rule_orders == {} and result.total == 50


@given(
    st.lists(st.tuples(st.integers(0, 50_000), st.sampled_from([700, 1900])), min_size=1,
             max_size=5),
    st.integers(0, 20_000),
    st.sampled_from([Decimal("0.5"), Decimal(1), Decimal("2.75")]),
    st.lists(st.tuples(st.sampled_from(list(K)), st.integers(1, 30), st.integers(0, 60_000)),
             max_size=3),
    st.sampled_from([Rounding.DOWN, Rounding.HALF_UP]),
)  # fmt: skip
def test_rules_add_what_the_exact_sum_says_rounded_once(lines, discount, ppe, rules, rounding):
    order = [Line(i, cents, vat) for i, (cents, vat) in enumerate(lines, start=1)]
    rate = Rate(points_per_euro=ppe, rounding=rounding)
    bonuses = [
        _bonus(n, kind, Decimal(value) / 10 + 1 if kind == K.MULTIPLIER else value,
               {line.key: 2 for line in order[: n + 1]}, min_cents)
        for n, (kind, value, min_cents) in enumerate(rules)
    ]  # fmt: skip
    ruled = order_points(order, shipping_cents=0, discount_cents=discount, rate=rate,
                         bonuses=bonuses)  # fmt: skip
    assert all(p > 0 for p in [*ruled.rule_lines.values(), *ruled.rule_orders.values()])
    # Independently, in fractions: the base per line times its multipliers, plus extra
    # points per euro, rounded once; whole points per item and per order on top.
    paid, _shipping = paid_amounts(order, shipping_cents=0, discount_cents=discount,
                                   basis=PointsBasis.GROSS)  # fmt: skip
    whole = 0
    factors = [Fraction(1)] * len(order)
    extra = Fraction(0)
    for b in bonuses:
        if sum(paid) < b.min_cents:
            continue
        for key, units in b.units.items():
            if b.kind == K.MULTIPLIER:
                factors[key - 1] *= Fraction(b.value)
            elif b.kind == K.PER_EURO:
                extra += Fraction(paid[key - 1]) * Fraction(b.value) / 100
            elif b.kind == K.PER_ITEM:
                whole += int(b.value) * units
        if b.kind == K.PER_ORDER:
            whole += int(b.value)
    base = [Fraction(p) * Fraction(ppe) / 100 * f for p, f in zip(paid, factors, strict=True)]
    exact = sum(base, extra)
    rounded = math.floor(exact + (Fraction(1, 2) if rounding == Rounding.HALF_UP else 0))
    assert ruled.total == rounded + whole
