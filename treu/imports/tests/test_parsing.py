from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from treu.imports import parsing


@pytest.mark.parametrize(
    ("text", "cents"),
    [("12", 1200), ("12.5", 1250), ("12,50", 1250), ("1.234,56", 123456), ("1234.56", 123456),
     ("-3.00", -300), ("12,50 €", 1250), ("1.234.567", 123456700)],
)  # fmt: skip
def test_it_reads_german_and_dot_decimals(text, cents):
    assert parsing.cents(text) == cents


def test_it_refuses_what_is_not_an_amount():
    with pytest.raises(parsing.CellError):
        parsing.cents("zehn")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-03-01 14:22:05 +0100", datetime(2024, 3, 1, 13, 22, 5, tzinfo=UTC)),
        ("2024-03-01T14:22:05+01:00", datetime(2024, 3, 1, 13, 22, 5, tzinfo=UTC)),
        ("2024-03-01T13:22:05Z", datetime(2024, 3, 1, 13, 22, 5, tzinfo=UTC)),
        ("01.03.2024 14:22", datetime(2024, 3, 1, 13, 22, tzinfo=UTC)),
        ("1.7.2024", datetime(2024, 6, 30, 22, 0, tzinfo=UTC)),
        ("2024-07-01 10:00:00", datetime(2024, 7, 1, 8, 0, tzinfo=UTC)),
    ],
)
def test_it_reads_shopify_iso_and_german_dates_in_berlin_time(text, expected):
    value = parsing.when(text)
    assert value == expected
    assert value.utcoffset() is not None


@pytest.mark.parametrize("text", ["gestern", "32.01.2024", "2024-13-01", ""])
def test_it_refuses_what_is_not_a_date(text):
    with pytest.raises(parsing.CellError):
        parsing.when(text)


@pytest.mark.parametrize(
    ("text", "bp"), [("19", 1900), ("7 %", 700), ("7,0", 700), ("0.19", 1900), ("", 1900), ("0", 0)]
)
def test_it_reads_vat_rates(text, bp):
    assert parsing.vat_rate(text) == bp


def test_quantities_must_be_whole_numbers():
    assert parsing.whole_number("2") == 2
    assert parsing.whole_number("2,00") == 2
    assert parsing.whole_number("-1") == -1
    with pytest.raises(parsing.CellError):
        parsing.whole_number("1,5")


def test_shopify_apostrophes_are_stripped():
    assert parsing.shop_id("'7001234567001") == "7001234567001"
    assert parsing.when("2024-03-01 14:22:05 -0500") - parsing.when(
        "2024-03-01 14:22:05 +0100"
    ) == timedelta(hours=6)
