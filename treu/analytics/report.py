"""The owner's monthly report: the month in figures, what went well, what needs attention.

Read from the aggregate tables like the dashboard (no raw orders): the month's own figures
(new customers, average order value, purchase frequency, second purchases) against the
month before and the same month a year earlier, and the figures that only mean something
over a year (retention, churn, repeat customers, CLV, active customers) for the 12 months
ending with that month, against the 12 months ending a month earlier and a year earlier.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from treu.analytics import selectors
from treu.analytics.models import Segment, month_index, month_start
from treu.analytics.templatetags.analytics_ui import delta, metric

# The loyalty and email cards are there once the dashboard shows them (programme, mails).
MONTH_CARDS = ("new", "aov", "frequency", "second_rate", "email_revenue", "redemption")
YEAR_CARDS = ("retention", "churn", "repeat", "simple_clv", "active", "member_share")
# RFM segments whose growth is good news, and those whose growth asks for action.
GOOD_SEGMENTS = (Segment.CHAMPIONS, Segment.LOYAL, Segment.POTENTIAL_LOYALIST)
RISK_SEGMENTS = (
    Segment.CANT_LOSE,
    Segment.AT_RISK,
    Segment.ABOUT_TO_SLEEP,
    Segment.NEED_ATTENTION,
)


@dataclass(frozen=True)
class Highlight:
    text: str
    url: str = ""


@dataclass(frozen=True)
class MonthlyReport:
    month: int  # month index
    month_cards: list[selectors.Card]  # previous = the month before, previous_year = a year
    year_cards: list[selectors.Card]  # 12 months; previous = ending a month earlier
    went_well: list[Highlight]
    attention: list[Highlight]
    segments: list[selectors.SegmentRow]  # only when the month is the last complete one
    settings: object

    @property
    def month_date(self) -> date:
        return month_start(self.month)

    @property
    def is_empty(self) -> bool:
        return not any(c.value is not None for c in self.month_cards + self.year_cards)


def report_months(*, now_month: int) -> list[date]:
    """The complete months a report can be read for, newest first."""
    figures = selectors.dashboard(period=1, now_month=now_month)
    return [m for m in figures.months if month_index(m) < now_month]


def monthly_report(month: int, *, rfm_as_of=None) -> MonthlyReport | None:
    """The report of one month (month index); None when there are no figures for it.

    `rfm_as_of`: when the stored figures were computed; the segment moves are those of the
    last complete month as of then, so they are shown only for that month.
    """
    month_view = selectors.dashboard(period=1, month=month)
    if month_view.month != month:
        return None
    year_view = selectors.dashboard(period=12, month=month)
    year_before = selectors.dashboard(period=12, month=month - 1)
    month_cards = [c for c in month_view.cards if c.key in MONTH_CARDS]
    earlier = {c.key: c.value for c in year_before.cards} if year_before.month == month - 1 else {}
    year_cards = [
        replace(c, previous=earlier.get(c.key), previous_year=c.previous)
        for c in year_view.cards
        if c.key in YEAR_CARDS
    ]
    segments: list[selectors.SegmentRow] = []
    if rfm_as_of is not None:
        overview = selectors.rfm_overview(as_of=rfm_as_of)
        if overview.month_end is not None and month_index(overview.month_end) == month:
            segments = overview.segments
    went_well, attention = _highlights(month_cards + year_cards, segments)
    return MonthlyReport(
        month=month,
        month_cards=month_cards,
        year_cards=year_cards,
        went_well=went_well,
        attention=attention,
        segments=segments,
        settings=month_view.settings,
    )


def _highlights(
    cards: list[selectors.Card], segments: list[selectors.SegmentRow]
) -> tuple[list[Highlight], list[Highlight]]:
    """Plain sentences: each figure that moved the right or the wrong way, targets, segments."""
    good: list[Highlight] = []
    bad: list[Highlight] = []
    for card in cards:
        value = metric(card.value, card.kind)
        if card.target_met is True:
            good.append(
                Highlight(
                    _("%(figure)s reached its target: %(value)s (target %(target)s).")
                    % {
                        "figure": card.label,
                        "value": value,
                        "target": metric(card.target, card.kind),
                    },
                    card.drill,
                )
            )
        elif card.target_met is False:
            bad.append(
                Highlight(
                    _("%(figure)s misses its target: %(value)s (target %(target)s).")
                    % {
                        "figure": card.label,
                        "value": value,
                        "target": metric(card.target, card.kind),
                    },
                    card.drill,
                )
            )
        if card.previous_good is None:
            continue
        sentence = _("%(figure)s: %(value)s, %(change)s on the month before.") % {
            "figure": card.label,
            "value": value,
            "change": delta(card.change_previous, card.kind),
        }
        (good if card.previous_good else bad).append(Highlight(sentence, card.drill))
    for row in segments:
        if row.change > 0 and row.segment in GOOD_SEGMENTS:
            good.append(
                Highlight(
                    ngettext(
                        "%(n)s more customer in “%(segment)s” than a month before.",
                        "%(n)s more customers in “%(segment)s” than a month before.",
                        row.change,
                    )
                    % {"n": row.change, "segment": row.label},
                    row.url,
                )
            )
        elif row.change > 0 and row.segment in RISK_SEGMENTS:
            bad.append(
                Highlight(
                    ngettext(
                        "%(n)s more customer in “%(segment)s” than a month before: "
                        "a good moment to write to them.",
                        "%(n)s more customers in “%(segment)s” than a month before: "
                        "a good moment to write to them.",
                        row.change,
                    )
                    % {"n": row.change, "segment": row.label},
                    row.url,
                )
            )
    return good, bad
