"""The next-best-action advisor: which retention measure to start first, from the shop's figures.

Analytics knows the figures, not the measures: each app that offers a measure (loyalty's
programme, messaging's sign-up form and, later, its automations) registers an advisor
that reads `ShopFigures` and its own state and says what it would do, with a link to set
it up. The page orders the advice by the revenue at stake — a figure computed from the
shop's own numbers, each with the sentence saying how (`stake_note`); no industry
promises of "x % more sales".
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from fractions import Fraction

from django.utils.translation import gettext as _

from treu.analytics import selectors
from treu.analytics.models import PeriodFigures, Segment, SegmentFigures


@dataclass(frozen=True)
class ShopFigures:
    """The last complete year's figures an advisor may reason with."""

    month: int | None  # month index of the last complete month with figures
    year: PeriodFigures | None  # the 12 months ending there

    @property
    def aov_cents(self) -> int:
        return (self.year.aov_cents or 0) if self.year else 0

    @property
    def new_customers(self) -> int:
        return self.year.new_customers if self.year else 0

    @property
    def second_rate_90(self) -> Fraction | None:
        return self.year.second_rate_90 if self.year else None

    @property
    def first_timers_lost(self) -> int:
        """New customers of the year without a second order within 90 days."""
        rate = self.second_rate_90
        if rate is None:
            return 0
        return round(self.new_customers * (1 - rate))

    @property
    def active(self) -> int:
        return self.year.ending if self.year else 0

    @property
    def orders_per_customer_year(self) -> Fraction:
        if not self.year or not self.year.buyers:
            return Fraction(0)
        return Fraction(self.year.orders, self.year.buyers)

    def segment(self, segment: Segment) -> int:
        return self._segments.get(segment, 0)

    @property
    def _segments(self) -> dict[str, int]:
        cached = self.__dict__.get("_segment_counts")
        if cached is None:
            cached = dict(SegmentFigures.objects.values_list("segment", "customers"))
            object.__setattr__(self, "_segment_counts", cached)
        return cached


@dataclass(frozen=True)
class Advice:
    key: str
    title: str  # the finding, in the owner's words: "71 % Ihrer Erstkäufer …"
    text: str  # what to do about it
    action_label: str
    action_url: str
    stake_cents: int  # revenue a year this is about, from the shop's own figures
    stake_note: str  # how the stake was computed
    drill_url: str = ""  # the customers behind the finding


Advisor = Callable[[ShopFigures], Iterable[Advice]]
_advisors: dict[str, Advisor] = {}


def register(name: str, advisor: Advisor) -> None:
    """An app's advisor (registered in its AppConfig.ready())."""
    _advisors[name] = advisor


def shop_figures(*, now_month: int | None = None) -> ShopFigures:
    view = selectors.dashboard(period=12, now_month=now_month)
    return ShopFigures(month=view.month, year=view.current)


def advice(*, now_month: int | None = None) -> tuple[ShopFigures, list[Advice]]:
    """Every advisor's advice for this shop, the largest stake first."""
    figures = shop_figures(now_month=now_month)
    if figures.year is None:
        return figures, []
    found: list[Advice] = []
    for name in sorted(_advisors):
        found.extend(_advisors[name](figures))
    found.sort(key=lambda a: (-a.stake_cents, a.key))
    return figures, found


def at_risk_advice(figures: ShopFigures) -> Iterable[Advice]:
    """Regulars drifting away: analytics' own finding, with the list to act on."""
    count = figures.segment(Segment.AT_RISK) + figures.segment(Segment.CANT_LOSE)
    if not count or not figures.aov_cents:
        return []
    orders = figures.orders_per_customer_year or Fraction(1)
    stake = round(count * figures.aov_cents * orders)
    url = selectors.drill_url_for_segments([Segment.CANT_LOSE, Segment.AT_RISK])
    return [
        Advice(
            key="at_risk",
            title=_("%(n)s regular customers are drifting away") % {"n": count},
            text=_(
                "They used to buy often and well, but not for a while (RFM segments “At "
                "risk” and “Can't lose them”). A personal word brings many back: a "
                "win-back mail, a call, a small thank-you."
            ),
            action_label=_("See who they are"),
            action_url=url,
            stake_cents=stake,
            stake_note=_("%(n)s customers × %(orders)s orders a year × %(aov)s average order value")
            % {
                "n": count,
                "orders": f"{float(orders):.1f}".replace(".", ","),
                "aov": _euros(figures.aov_cents),
            },
            drill_url=url,
        )
    ]


def first_timer_stake(figures: ShopFigures) -> tuple[int, str]:
    """The second orders a year that do not happen, and the sentence saying so."""
    lost = figures.first_timers_lost
    return lost * figures.aov_cents, _(
        "%(n)s new customers a year without a second order × %(aov)s average order value"
    ) % {"n": lost, "aov": _euros(figures.aov_cents)}


def _euros(cents: int) -> str:
    from treu.core.money import format_euro

    return format_euro(cents)


register("analytics", at_risk_advice)
