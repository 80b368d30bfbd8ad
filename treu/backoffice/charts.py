"""Server-side charts: geometry computed here, drawn as inline SVG by a template."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str
    value: int
    is_last: bool

    @property
    def center(self) -> float:
        return round(self.x + self.width / 2, 1)


@dataclass(frozen=True)
class BarChart:
    width: int
    height: int
    baseline: float
    bars: list[Bar]
    max_value: int
    gridlines: list[tuple[float, int]]  # (y, value)

    @property
    def label_y(self) -> int:
        return self.height - 8


def bar_chart(
    points: list[tuple[str, int]],
    *,
    width: int = 720,
    height: int = 220,
    top: int = 16,
    bottom: int = 28,
    left: int = 8,
    right: int = 8,
    gap_ratio: float = 0.28,
) -> BarChart:
    """Bars for (label, value) points; negative values are drawn as zero."""
    plot_h = height - top - bottom
    baseline = top + plot_h
    max_value = max((max(v, 0) for _, v in points), default=0)
    slot = (width - left - right) / max(len(points), 1)
    bar_w = slot * (1 - gap_ratio)
    bars = []
    for i, (label, value) in enumerate(points):
        h = plot_h * max(value, 0) / max_value if max_value else 0
        bars.append(
            Bar(
                x=round(left + i * slot + (slot - bar_w) / 2, 1),
                y=round(baseline - h, 1),
                width=round(bar_w, 1),
                height=round(h, 1),
                label=label,
                value=value,
                is_last=i == len(points) - 1,
            )
        )
    gridlines = _gridlines(top, plot_h, max_value)
    return BarChart(width, height, baseline, bars, max_value, gridlines)


def _gridlines(top: int, plot_h: int, max_value: int) -> list[tuple[float, int]]:
    """Lines at half and full height, labelled with their values (none for an empty chart)."""
    if not max_value:
        return []
    return [(round(top + plot_h * (1 - f), 1), int(max_value * f)) for f in (0.5, 1.0)]


@dataclass(frozen=True)
class Group:
    label: str
    center: float
    bars: list[Bar]  # one per series, in the order of the series


@dataclass(frozen=True)
class GroupedBarChart:
    width: int
    height: int
    baseline: float
    groups: list[Group]
    max_value: int
    gridlines: list[tuple[float, int]]  # (y, value)

    @property
    def label_y(self) -> int:
        return self.height - 8


def grouped_bar_chart(
    labels: list[str],
    series: list[list[int]],
    *,
    width: int = 720,
    height: int = 220,
    top: int = 16,
    bottom: int = 28,
    left: int = 8,
    right: int = 8,
    gap_ratio: float = 0.25,
) -> GroupedBarChart:
    """Side-by-side bars: one group per label, one bar per series; negatives drawn as zero."""
    plot_h = height - top - bottom
    baseline = top + plot_h
    max_value = max((max(v, 0) for values in series for v in values), default=0)
    slot = (width - left - right) / max(len(labels), 1)
    bar_w = slot * (1 - gap_ratio) / max(len(series), 1)
    groups = []
    for i, label in enumerate(labels):
        start = left + i * slot + slot * gap_ratio / 2
        bars = []
        for s, values in enumerate(series):
            h = plot_h * max(values[i], 0) / max_value if max_value else 0
            bars.append(
                Bar(
                    x=round(start + s * bar_w, 1),
                    y=round(baseline - h, 1),
                    width=round(bar_w, 1),
                    height=round(h, 1),
                    label=label,
                    value=values[i],
                    is_last=i == len(labels) - 1,
                )
            )
        groups.append(Group(label, round(left + i * slot + slot / 2, 1), bars))
    gridlines = _gridlines(top, plot_h, max_value)
    return GroupedBarChart(width, height, baseline, groups, max_value, gridlines)


# -- Trend charts: lines and/or bars over months, with labelled reference lines -------------


@dataclass(frozen=True)
class Point:
    x: float
    y: float
    label: str
    value: float | None
    text: str  # the value as the reader sees it (formatted by the caller)
    height: float  # of a bar: from y down to the baseline


@dataclass(frozen=True)
class Series:
    name: str
    kind: str  # "line" or "bar"
    css: str  # series-1 … series-3
    points: list[Point]
    path: str  # SVG path of a line ("" for bars); gaps where a value is missing
    bar_width: float


@dataclass(frozen=True)
class ReferenceLine:
    name: str
    y: float
    text: str
    css: str  # "target" or "benchmark"


@dataclass(frozen=True)
class TrendChart:
    """Geometry for `backoffice/_trend_chart.html`: accessible inline SVG, no script."""

    title: str
    description: str
    width: int
    height: int
    left: int
    right_edge: float
    baseline: float
    labels: list[tuple[float, str]]  # (x, label) under the axis, thinned to fit
    gridlines: list[tuple[float, str]]  # (y, text)
    series: list[Series]
    references: list[ReferenceLine]
    rows: list[tuple[str, list[str]]]  # the data as a table: (label, texts per series)
    axis: str = ""  # what the labels along x are ("" = months)

    @property
    def label_y(self) -> int:
        return self.height - 8


def trend_chart(
    *,
    title: str,
    description: str,
    labels: list[str],
    series: list[tuple[str, str, list[float | None]]],
    fmt,
    references: list[tuple[str, float, str]] = (),
    width: int = 720,
    height: int = 240,
    top: int = 18,
    bottom: int = 28,
    left: int = 64,
    right: int = 12,
    max_labels: int = 12,
    axis: str = "",
) -> TrendChart:
    """Months along x; `series` are (name, "line" | "bar", values) sharing one y axis from 0;
    `references` are (name, value, "target" | "benchmark") drawn across; `fmt(value)` writes
    a value for the axis, the tooltips and the data table."""
    plot_h = height - top - bottom
    baseline = top + plot_h
    values = [v for _, _, vs in series for v in vs if v is not None]
    values += [v for _, v, _ in references if v is not None]
    top_value = max([0, *values]) or 1
    top_value *= 1.1
    slot = (width - left - right) / max(len(labels), 1)
    bars = [s for s in series if s[1] == "bar"]
    bar_w = slot * 0.7 / max(len(bars), 1)

    def y_of(value: float) -> float:
        return round(baseline - plot_h * max(value, 0) / top_value, 1)

    drawn = []
    bar_no = 0
    for n, (name, kind, vals) in enumerate(series, start=1):
        points, path, pen_down = [], [], False
        for i, (label, value) in enumerate(zip(labels, vals, strict=True)):
            if kind == "bar":
                x = left + i * slot + slot * 0.15 + bar_no * bar_w
            else:
                x = left + i * slot + slot / 2
            y = y_of(value) if value is not None else baseline
            text = fmt(value) if value is not None else "–"
            points.append(Point(round(x, 1), y, label, value, text, round(baseline - y, 1)))
            if kind == "line" and value is not None:
                path.append(f"{'L' if pen_down else 'M'}{round(x, 1)} {y}")
                pen_down = True
            else:
                pen_down = False
        if kind == "bar":
            bar_no += 1
        drawn.append(Series(name, kind, f"series-{n}", points, " ".join(path), round(bar_w, 1)))
    step = max(1, -(-len(labels) // max_labels))
    axis_labels = [
        (round(left + i * slot + slot / 2, 1), label)
        for i, label in enumerate(labels)
        if (len(labels) - 1 - i) % step == 0
    ]
    gridlines = [(y_of(top_value * f / 1.1), fmt(top_value * f / 1.1)) for f in (0.5, 1.0)]
    refs = [ReferenceLine(name, y_of(value), fmt(value), css) for name, value, css in references]
    rows = [(label, [s.points[i].text for s in drawn]) for i, label in enumerate(labels)]
    return TrendChart(
        title=title,
        description=description,
        width=width,
        height=height,
        left=left,
        right_edge=width - right,
        baseline=baseline,
        labels=axis_labels,
        gridlines=gridlines,
        series=drawn,
        references=refs,
        rows=rows,
        axis=axis,
    )
