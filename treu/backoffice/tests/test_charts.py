from __future__ import annotations

from treu.backoffice.charts import bar_chart


def test_the_highest_bar_fills_the_plot_and_others_scale():
    chart = bar_chart([("Jan", 100), ("Feb", 50), ("Mär", 0)], height=200, top=10, bottom=30)
    tallest, half, empty = chart.bars
    assert tallest.height == 160
    assert half.height == 80
    assert empty.height == 0
    assert tallest.y + tallest.height == chart.baseline
    assert empty.is_last and not tallest.is_last


def test_an_all_zero_chart_draws_flat_bars_without_dividing_by_zero():
    chart = bar_chart([("Jan", 0), ("Feb", 0)])
    assert all(b.height == 0 for b in chart.bars)
    assert chart.gridlines == []


def test_negative_months_are_drawn_as_zero():
    chart = bar_chart([("Jan", -500), ("Feb", 1000)])
    assert chart.bars[0].height == 0
