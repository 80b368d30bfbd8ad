"""The experiment log: which figures an experiment can be measured on, and reading them."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

from treu.analytics import selectors

# The dashboard's figures an owner can set out to move (card keys), in the order offered.
METRICS = (
    "second_rate",
    "repeat",
    "retention",
    "churn",
    "frequency",
    "aov",
    "new",
    "active",
    "historic_clv",
)
PERIODS = (1, 3, 12)
SIX = Decimal("0.000001")


def metric_choices() -> list[tuple[str, str]]:
    return [(key, str(selectors.KPI_META[key][0])) for key in METRICS]


def metric_kind(metric: str) -> str:
    return selectors.KPI_META[metric][1]


def higher_is_better(metric: str) -> bool:
    return selectors.KPI_META[metric][2]


def figure(metric: str, *, months: int, last_month: int) -> Decimal | None:
    """The metric over `months` months ending with `last_month`, as stored; None if unknown."""
    view = selectors.dashboard(period=months, month=last_month)
    if view.month != last_month:
        return None
    card = next((c for c in view.cards if c.key == metric), None)
    if card is None or card.value is None:
        return None
    return as_decimal(card.value)


def as_decimal(value) -> Decimal:
    if isinstance(value, Fraction):
        return (Decimal(value.numerator) / Decimal(value.denominator)).quantize(SIX)
    return Decimal(value).quantize(SIX)


def control_group_choices() -> list[tuple[str, str]]:
    """The campaigns and automations that hold out a control group, by name."""
    from treu.messaging import selectors as messaging_selectors

    return [(prefix, str(name)) for prefix, name in messaging_selectors.measurable_sends()]


def measure_against_control_group(prefix: str, *, now) -> dict[str, int]:
    """Recipients and control group of the send as the experiment stores them: orders within
    messaging's attribution window after each one's mail (or the moment they were held back)."""
    from treu.messaging import selectors as messaging_selectors

    outcome = messaging_selectors.send_outcome(
        prefix, window=messaging_selectors.attribution_window(), now=now
    )
    figures = {}
    for side, group in (("treated", outcome.recipients), ("control", outcome.control)):
        figures[f"{side}_people"] = group.people
        figures[f"{side}_converted"] = group.converted
        figures[f"{side}_revenue_cents"] = group.revenue_cents
        figures[f"{side}_squares"] = group.revenue_squares
    return figures
