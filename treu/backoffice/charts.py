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
    gridlines = (
        [(round(top + plot_h * (1 - f), 1), int(max_value * f)) for f in (0.5, 1.0)]
        if max_value
        else []
    )
    return BarChart(width, height, baseline, bars, max_value, gridlines)


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
    gridlines = (
        [(round(top + plot_h * (1 - f), 1), int(max_value * f)) for f in (0.5, 1.0)]
        if max_value
        else []
    )
    return GroupedBarChart(width, height, baseline, groups, max_value, gridlines)
