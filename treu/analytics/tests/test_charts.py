"""The shared trend chart: geometry, reference lines, gaps and the data table."""

from __future__ import annotations

from treu.backoffice.charts import trend_chart


def test_lines_bars_references_and_gaps():
    chart = trend_chart(
        title="Bindung",
        description="Test",
        labels=["Jan", "Feb", "Mär"],
        series=[("Rate", "line", [0.2, None, 0.4]), ("Umsatz", "bar", [1, 2, 3])],
        references=[("Ziel", 0.3, "target")],
        fmt=lambda v: f"{v:.1f}",
    )
    line, bars = chart.series
    assert line.path.count("M") == 2  # the missing February breaks the line
    assert [p.text for p in line.points] == ["0.2", "–", "0.4"]
    assert all(p.y <= chart.baseline for p in bars.points)
    assert bars.points[2].height > bars.points[0].height > 0
    assert chart.references[0].text == "0.3"
    assert chart.references[0].y < chart.baseline
    assert chart.rows[1] == ("Feb", ["–", "2.0"])


def test_an_empty_chart_draws_nothing_above_the_axis():
    chart = trend_chart(title="t", description="d", labels=[], series=[], fmt=str)
    assert chart.series == [] and chart.rows == []
