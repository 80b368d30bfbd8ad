from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from django.template import Context, Template
from django.utils import timezone, translation

from treu.core.templatetags import treu_ui


def test_eur_formats_cents_the_german_way():
    assert treu_ui.eur(123456) == "1.234,56\u00a0€"
    assert treu_ui.eur(None) == "–"
    assert treu_ui.eur(-250) == "-2,50\u00a0€"


def test_dates_are_german_and_in_berlin_time():
    moment = datetime(2025, 12, 31, 23, 30, tzinfo=UTC)  # already 1 January in Berlin
    assert treu_ui.de_date(moment) == "01.01.2026"
    assert treu_ui.de_datetime(moment) == "01.01.2026, 00:30"
    assert treu_ui.de_date(date(2025, 3, 7)) == "07.03.2025"
    assert treu_ui.de_date(None) == ""


def test_percent_uses_the_decimal_comma_in_german():
    with translation.override("de"):
        assert treu_ui.percent(0.125) == "12,5\u00a0%"
        assert treu_ui.signed_percent(-0.03) == "\u22123,0\u00a0%"
        assert treu_ui.signed_percent(0.5) == "+50,0\u00a0%"
    assert treu_ui.percent(None) == "–"


def test_vat_rates_show_as_percent():
    with translation.override("de"):
        assert treu_ui.vat_rate(1900) == "19\u00a0%"
        assert treu_ui.vat_rate(550) == "5,5\u00a0%"


def test_days_since_counts_whole_local_days():
    assert treu_ui.days_since(timezone.now() - timedelta(days=3)) == 3
    assert treu_ui.days_since(None) is None


def test_icons_are_inline_svg_and_unknown_names_fall_back():
    html = Template('{% load treu_ui %}{% icon "nonsense" %}').render(Context())
    assert html.startswith("<svg") and "circle" in html
