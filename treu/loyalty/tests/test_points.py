from __future__ import annotations

from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal

from hypothesis import given
from hypothesis import strategies as st

from treu.loyalty.models import PointsBasis, Rounding
from treu.loyalty.points import Line, Rate, order_points, returned_share, share_out

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
