from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from treu.core.money import MoneyError, format_euro, parse_euro, tax_from_gross, to_cents


def test_it_formats_euros_the_german_way():
    assert format_euro(123456789) == "1.234.567,89\u00a0€"
    assert format_euro(-5) == "-0,05\u00a0€"
    assert format_euro(0, with_symbol=False) == "0,00"
    assert format_euro(None) == "–"


@pytest.mark.parametrize(
    ("text", "cents"),
    [
        ("12,50", 1250),
        ("1.234,56 €", 123456),
        ("12.50", 1250),
        ("7", 700),
        ("0,005", 1),
        ("1.000.000", 100000000),
    ],
)
def test_it_reads_amounts_as_people_write_them(text, cents):
    assert parse_euro(text) == cents


@pytest.mark.parametrize("text", ["", "zwölf", "€", "1,2,3", "NaN", "Infinity"])
def test_it_refuses_what_is_not_an_amount(text):
    with pytest.raises(MoneyError):
        parse_euro(text)


def test_it_refuses_floats():
    with pytest.raises(MoneyError):
        to_cents(0.1)


@given(st.integers(min_value=-(10**12), max_value=10**12))
def test_formatting_and_parsing_round_trip(cents):
    assert parse_euro(format_euro(cents)) == cents


@given(st.integers(min_value=0, max_value=10**9), st.sampled_from([0, 700, 1900]))
def test_vat_is_never_more_than_the_gross_amount(gross, rate):
    tax = tax_from_gross(gross, rate)
    assert 0 <= tax <= gross
    # the net amount times the rate comes back to the tax within one cent of rounding
    net = gross - tax
    assert abs(Decimal(net) * rate / 10000 - tax) <= 1


@given(
    st.integers(min_value=-(10**12), max_value=10**12),
    st.integers(min_value=-100, max_value=10000),
)
def test_vat_rounds_half_up_exactly_like_decimal(gross, rate):
    # tax_from_gross works in integers for speed; it must round as Decimal's ROUND_HALF_UP.
    expected = 0
    if rate > 0:
        exact = Decimal(gross) * rate / (10000 + rate)
        expected = int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))
    assert tax_from_gross(gross, rate) == expected
