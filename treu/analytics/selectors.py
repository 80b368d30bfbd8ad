"""Reads of analytics: the dashboard, cohorts, RFM segments and the customers behind a number.

Everything reads the aggregate tables the worker fills (a fixed handful of queries per
page); nothing here touches the orders.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from fractions import Fraction
from urllib.parse import urlencode

from django.db.models import Exists, Max, OuterRef, Q, QuerySet, Subquery
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html_join
from django.utils.translation import gettext_lazy as _

from treu.analytics import metrics, rfm
from treu.analytics.computation import month_bounds
from treu.analytics.models import (
    ActivitySpell,
    AnalyticsSettings,
    ChurnRisk,
    CohortCell,
    CustomerFigures,
    CustomerMonth,
    CustomerPrediction,
    Experiment,
    PeriodFigures,
    PredictionFit,
    RecomputeRun,
    RfmCell,
    RunStatus,
    Segment,
    SegmentFigures,
    SegmentMove,
    month_index,
    month_start,
)
from treu.analytics.uplift import GroupRevenue, Uplift, Verdict, conversion_uplift, revenue_uplift
from treu.core.money import format_euro

PERIODS = {1: _("Month"), 3: _("Quarter"), 12: _("12 months")}
TREND_MONTHS = 24
COHORT_MONTHS = 36


def analytics_settings() -> AnalyticsSettings:
    """The saved settings, or the defaults (unsaved) before the owner saved any."""
    return AnalyticsSettings.objects.filter(pk=1).first() or AnalyticsSettings(pk=1)


@dataclass(frozen=True)
class RunState:
    last_done: RecomputeRun | None
    pending: RecomputeRun | None  # queued or running
    last_failed: RecomputeRun | None  # only when newer than the last good run


def run_state() -> RunState:
    """The stamp: one query for the latest runs of each kind that matters."""
    runs = list(RecomputeRun.objects.order_by("-created_at", "-id")[:20])
    done = next((r for r in runs if r.status == RunStatus.DONE), None)
    pending = next((r for r in runs if r.status in (RunStatus.QUEUED, RunStatus.RUNNING)), None)
    failed = next((r for r in runs if r.status == RunStatus.FAILED), None)
    if failed and done and failed.created_at < done.created_at:
        failed = None
    return RunState(last_done=done, pending=pending, last_failed=failed)


# -- KPI cards -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Card:
    key: str
    label: str
    kind: str  # "percent", "cents", "number", "ratio", "days"
    value: object
    previous: object
    previous_year: object
    higher_is_better: bool = True
    target: object = None
    benchmark: object = None
    note: str = ""
    drill: str = ""  # URL of the customers behind the number
    parts: list[tuple[str, int, str]] = field(default_factory=list)  # (label, count, url)

    @property
    def is_rate(self) -> bool:
        return self.kind == "percent"

    def _delta(self, other):
        if self.is_rate:
            return metrics.point_change(self.value, other)
        return metrics.change(self.value, other)

    @property
    def change_previous(self):
        return self._delta(self.previous)

    @property
    def change_previous_year(self):
        return self._delta(self.previous_year)

    def _good(self, delta) -> bool | None:
        if delta is None or delta == 0:
            return None
        return (delta > 0) == self.higher_is_better

    @property
    def previous_good(self) -> bool | None:
        return self._good(self.change_previous)

    @property
    def previous_year_good(self) -> bool | None:
        return self._good(self.change_previous_year)

    @property
    def target_met(self) -> bool | None:
        if self.target is None or self.value is None:
            return None
        return self.value >= self.target if self.higher_is_better else self.value <= self.target


def drill_url(metric: str, *, month: int, period: int, **extra) -> str:
    query = {"metric": metric, "month": f"{month_start(month):%Y-%m}", "period": period, **extra}
    return f"{reverse('analytics:customers')}?{urlencode(query)}"


@dataclass(frozen=True)
class Dashboard:
    settings: AnalyticsSettings
    period: int
    month: int | None
    months: list[date]  # every month with figures, newest first (for the picker)
    current: PeriodFigures | None
    previous: PeriodFigures | None
    previous_year: PeriodFigures | None
    rolling_year: PeriodFigures | None
    cards: list[Card]
    trend: list[PeriodFigures]  # months=1, the last TREND_MONTHS up to `month`
    trend_year: list[PeriodFigures]  # months=12 (rolling), same months
    period_rows: list[PeriodFigures]  # every row of the chosen period length, newest first

    @property
    def month_date(self) -> date | None:
        return month_start(self.month) if self.month is not None else None

    @property
    def show_previous_year(self) -> bool:
        return self.period != 12

    @property
    def card_keys(self) -> set[str]:
        return {card.key for card in self.cards}


def _year_clv(row: PeriodFigures | None) -> int | None:
    if row is None or row.months != 12:
        return None
    return metrics.simple_clv_cents(
        revenue_cents=row.revenue_cents,
        orders=row.orders,
        buyers=row.buyers,
        annual_churn=row.churn_rate,
    )


def dashboard(
    *, period: int = 12, month: int | None = None, now_month: int | None = None
) -> Dashboard:
    """The overview in two queries: the settings and every period row it shows.

    `month` is the period's last month (month index); by default the last complete month,
    or the current one while the shop's history has no complete month yet.
    """
    settings = analytics_settings()
    period = period if period in PERIODS else 12
    rows = list(PeriodFigures.objects.filter(months__in={1, 12, period}).order_by("month_index"))
    by_key = {(r.months, r.month_index): r for r in rows}
    indexes = sorted({r.month_index for r in rows if r.months == 1})
    if not indexes:
        return Dashboard(settings, period, None, [], None, None, None, None, [], [], [], [])
    if month not in indexes:
        last = indexes[-1]
        complete = [i for i in indexes if now_month is None or i < now_month]
        month = complete[-1] if complete else last
    current = by_key.get((period, month))
    previous = by_key.get((period, month - period))
    previous_year = by_key.get((period, month - 12))
    rolling = by_key.get((12, month))
    trend_range = range(month - TREND_MONTHS + 1, month + 1)
    trend = [by_key[(1, m)] for m in trend_range if (1, m) in by_key]
    trend_year = [by_key[(12, m)] for m in trend_range if (12, m) in by_key]
    cards = _cards(settings, period, month, current, previous, previous_year, by_key)
    if any(r.members_to_date for r in rows):
        cards += _loyalty_cards(period, month, current, previous, previous_year)
    if any(r.email_mails or r.email_orders for r in rows):
        cards += _email_cards(period, month, current, previous, previous_year)
    return Dashboard(
        settings=settings,
        period=period,
        month=month,
        months=[month_start(i) for i in reversed(indexes)],
        current=current,
        previous=previous,
        previous_year=previous_year,
        rolling_year=rolling,
        cards=cards,
        trend=trend,
        trend_year=trend_year,
        period_rows=[r for r in reversed(rows) if r.months == period],
    )


def _get(row, name):
    if row is None:
        return None
    value = getattr(row, name)
    return value


# What each KPI card is: its label, how its value reads, and which way is good.
KPI_META: dict[str, tuple[object, str, bool]] = {
    "retention": (_("Retention rate"), "percent", True),
    "churn": (_("Churn rate"), "percent", False),
    "repeat": (_("Repeat-customer rate"), "percent", True),
    "frequency": (_("Purchase frequency"), "ratio", True),
    "aov": (_("Average order value"), "cents", True),
    "second_days": (_("Time to second purchase"), "days", False),
    "second_rate": (_("Second purchase within 90 days"), "percent", True),
    "historic_clv": (_("Historic CLV"), "cents", True),
    "simple_clv": (_("Simple CLV"), "cents", True),
    "active": (_("Active customers"), "number", True),
    "new": (_("New customers"), "number", True),
    # From the loyalty programme; shown once it has members.
    "members": (_("Loyalty members"), "number", True),
    "member_share": (_("Members among active customers"), "percent", True),
    "member_revenue": (_("Revenue share of members"), "percent", True),
    "redemption": (_("Points redemption rate"), "percent", True),
    # From email; shown once a marketing mail was sent.
    "email_revenue": (_("Email-attributed revenue"), "cents", True),
    "email_share": (_("Email share of revenue"), "percent", True),
}


def _card(key: str, *values, **options) -> Card:
    label, kind, higher_is_better = KPI_META[key]
    return Card(key, label, kind, *values, higher_is_better=higher_is_better, **options)


def _cards(settings, period, month, current, previous, previous_year, by_key) -> list[Card]:
    def url(metric, **extra):
        return drill_url(metric, month=month, period=period, **extra)

    def three(name):
        return _get(current, name), _get(previous, name), _get(previous_year, name)

    clv_now = _year_clv(by_key.get((12, month)))
    clv_prev = _year_clv(by_key.get((12, month - period)))
    clv_year = _year_clv(by_key.get((12, month - 12)))
    target_clv = settings.target_clv_cents
    c = current
    cards = [
        _card(
            "retention",
            *three("retention_rate"),
            target=Fraction(settings.target_retention_pct, 100),
            benchmark=Fraction(settings.industry_retention_pct, 100),
            drill=url("retained"),
            parts=[
                (_("S: active at the start"), c.starting, url("starting")) if c else None,
                (_("E: active at the end"), c.ending, url("ending")) if c else None,
                (_("N: new"), c.new_active, url("new_active")) if c else None,
                (_("came back"), c.reactivated, url("reactivated")) if c else None,
            ],
        ),
        _card(
            "churn",
            *three("churn_rate"),
            target=Fraction(settings.target_churn_pct, 100),
            drill=url("lost"),
            parts=[(_("lost"), c.lost, url("lost"))] if c else [],
        ),
        _card(
            "repeat",
            *three("repeat_rate"),
            drill=url("repeat"),
            parts=[
                (_("two or more orders"), c.repeat_to_date, url("repeat")),
                (_("customers to date"), c.customers_to_date, url("customers")),
            ]
            if c
            else [],
        ),
        _card(
            "frequency",
            *three("purchase_frequency"),
            drill=url("buyers"),
            parts=[(_("customers who ordered"), c.buyers, url("buyers"))] if c else [],
        ),
        _card(
            "aov",
            *three("aov_cents"),
            drill=url("buyers"),
        ),
        _card(
            "second_days",
            *three("second_days_median"),
            drill=url("second_orders"),
            parts=[(_("second orders"), c.second_orders, url("second_orders"))] if c else [],
        ),
        _card(
            "second_rate",
            *three("second_rate_90"),
            drill=url("second_within", days=90),
            parts=[
                (_("within 30 days"), c.second_within_30, url("second_within", days=30)),
                (_("within 60 days"), c.second_within_60, url("second_within", days=60)),
                (_("within 90 days"), c.second_within_90, url("second_within", days=90)),
                (_("new customers"), c.new_customers, url("new")),
            ]
            if c
            else [],
        ),
        _card(
            "historic_clv",
            *three("historic_clv_cents"),
            target=target_clv,
            drill=url("customers"),
        ),
        _card(
            "simple_clv",
            clv_now,
            clv_prev,
            clv_year,
            target=target_clv,
            drill=drill_url("buyers", month=month, period=12),
        ),
        _card(
            "active",
            *three("ending"),
            drill=url("ending"),
        ),
        _card(
            "new",
            *three("new_customers"),
            drill=url("new"),
        ),
    ]
    for card in cards:
        card.parts[:] = [p for p in card.parts if p is not None]
    return cards


def _loyalty_cards(period, month, current, previous, previous_year) -> list[Card]:
    def url(metric):
        return drill_url(metric, month=month, period=period)

    def three(name):
        return _get(current, name), _get(previous, name), _get(previous_year, name)

    c = current
    return [
        _card(
            "members",
            *three("members_to_date"),
            drill=url("members"),
            parts=[(_("joined in the period"), c.new_members, url("new_members"))] if c else [],
        ),
        _card(
            "member_share",
            *three("member_share"),
            drill=url("active_members"),
            parts=[
                (_("active members"), c.ending_members, url("active_members")),
                (_("active customers"), c.ending, url("ending")),
            ]
            if c
            else [],
        ),
        _card(
            "member_revenue",
            *three("member_revenue_share"),
            drill=url("member_buyers"),
            parts=[(_("orders of members"), c.member_orders, url("member_buyers"))] if c else [],
        ),
        _card(
            "redemption",
            *three("redemption_rate"),
            parts=[
                (_("points issued"), c.points_issued, ""),
                (_("points redeemed"), c.points_redeemed, ""),
            ]
            if c
            else [],
        ),
    ]


def _email_cards(period, month, current, previous, previous_year) -> list[Card]:
    def three(name):
        return _get(current, name), _get(previous, name), _get(previous_year, name)

    c = current
    drill = drill_url("email_buyers", month=month, period=period)
    return [
        _card(
            "email_revenue",
            *three("email_revenue_cents"),
            drill=drill,
            parts=[
                (_("marketing mails sent"), c.email_mails, ""),
                (_("attributed orders"), c.email_orders, drill),
            ]
            if c
            else [],
        ),
        _card("email_share", *three("email_revenue_share"), drill=drill),
    ]


# -- Cohorts ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class HeatCell:
    offset: int
    customers: int
    revenue_cents: int
    share: Fraction | None
    url: str

    @property
    def text(self) -> str:
        """The share as whole percent: the heatmap has ~700 cells, so no template filter."""
        return "–" if self.share is None else f"{round(self.share * 100)}\u00a0%"

    @property
    def style(self) -> str:
        """Background strength by share (0–100 %); white ink on the dark cells."""
        if not self.share:
            return ""
        strength = min(float(self.share), 1.0)
        alpha = round(0.08 + 0.85 * strength, 2)
        ink = "#fff" if alpha > 0.55 else "inherit"
        return f"background-color: rgba(122, 74, 42, {alpha}); color: {ink}"


@dataclass(frozen=True)
class CohortRow:
    cohort: date
    cohort_index: int
    size: int
    revenue_cents: int  # in the first month
    cells: list[HeatCell]
    by: str  # "customers" or "revenue"

    @property
    def cells_html(self) -> str:
        """The row's cells as HTML: ~700 cells through the template engine cost more than
        the rest of the page, so they are joined here (every value escaped)."""
        return format_html_join(
            "",
            '<td class="num" style="{}"><a href="{}" title="{}">{}</a></td>',
            (
                (
                    cell.style,
                    cell.url,
                    format_euro(cell.revenue_cents)
                    if self.by == "revenue"
                    else f"{cell.customers} / {self.size}",
                    cell.text,
                )
                for cell in self.cells
            ),
        )


def cohorts(*, by: str = "customers") -> list[CohortRow]:
    """The retention triangle: one row per acquisition month (newest last), 36 at most."""
    last = PeriodFigures.objects.filter(months=1).aggregate(last=Max("month_index"))["last"]
    if last is None:
        return []
    cells = CohortCell.objects.filter(cohort_index__gt=last - COHORT_MONTHS)
    grouped: dict[int, dict[int, CohortCell]] = {}
    for cell in cells.order_by("cohort_index", "offset"):
        grouped.setdefault(cell.cohort_index, {})[cell.offset] = cell
    base = reverse("analytics:customers")
    rows = []
    for index in sorted(grouped):
        by_offset = grouped[index]
        first = by_offset.get(0)
        size = first.customers if first else 0
        base_revenue = first.revenue_cents if first else 0
        month = f"{month_start(index):%Y-%m}"
        row_cells = []
        for offset in range(0, last - index + 1):
            cell = by_offset.get(offset)
            customers = cell.customers if cell else 0
            cents = cell.revenue_cents if cell else 0
            share = (
                metrics.ratio(cents, base_revenue)
                if by == "revenue"
                else metrics.ratio(customers, size)
            )
            query = f"metric=cohort&month={month}&period=1&offset={offset}"
            row_cells.append(HeatCell(offset, customers, cents, share, f"{base}?{query}"))
        rows.append(CohortRow(month_start(index), index, size, base_revenue, row_cells, by))
    return rows


# -- RFM -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SegmentRow:
    segment: Segment
    customers: int
    revenue_cents: int
    month_end_customers: int  # at the end of the last complete month
    previous_customers: int  # at the end of the month before

    @property
    def label(self) -> str:
        return self.segment.label

    @property
    def change(self) -> int:
        """The move over the last complete month."""
        return self.month_end_customers - self.previous_customers

    @property
    def url(self) -> str:
        query = urlencode({"metric": "segment", "segment": self.segment.value})
        return f"{reverse('analytics:customers')}?{query}"


@dataclass(frozen=True)
class RfmOverview:
    segments: list[SegmentRow]
    grid: list[
        list[tuple[int, int, Segment, int, int, str]]
    ]  # rows R 5..1: (r, fm, seg, n, cents, url)
    moves: list[tuple[Segment | None, list[tuple[Segment, int, str]]]]  # from -> [(to, n, url)]
    total_customers: int
    total_revenue_cents: int
    month_end: date | None  # the last day of the last complete month, as of the recompute
    previous_end: date | None  # the last day of the month before


def rfm_overview(*, as_of=None) -> RfmOverview:
    """Segments, the R × FM grid and the month-over-month moves: three small queries.

    `as_of` is when the figures were computed (the last run), to name the months."""
    stored = {s.segment: s for s in SegmentFigures.objects.all()}
    empty = SegmentFigures(
        customers=0, revenue_cents=0, month_end_customers=0, previous_customers=0
    )
    segments = [
        SegmentRow(
            segment,
            stored.get(segment, empty).customers,
            stored.get(segment, empty).revenue_cents,
            stored.get(segment, empty).month_end_customers,
            stored.get(segment, empty).previous_customers,
        )
        for segment in rfm.SEGMENT_ORDER
    ]
    cells = {(c.recency_score, c.fm_score): c for c in RfmCell.objects.all()}
    base = reverse("analytics:customers")
    grid = []
    for r in range(5, 0, -1):
        row = []
        for fm in range(1, 6):
            cell = cells.get((r, fm))
            link = f"{base}?{urlencode({'metric': 'rfm', 'r': r, 'fm': fm})}"
            row.append(
                (
                    r,
                    fm,
                    rfm.GRID[r][fm],
                    cell.customers if cell else 0,
                    cell.revenue_cents if cell else 0,
                    link,
                )
            )
        grid.append(row)
    move_counts = {(m.from_segment, m.to_segment): m.customers for m in SegmentMove.objects.all()}
    moves = []
    for source in ("", *[s.value for s in rfm.SEGMENT_ORDER]):
        targets = []
        for target in rfm.SEGMENT_ORDER:
            n = move_counts.get((source, target.value), 0)
            query = {"metric": "move", "from": source or "none", "to": target.value}
            link = f"{base}?{urlencode(query)}"
            targets.append((target, n, link))
        moves.append((Segment(source) if source else None, targets))
    return RfmOverview(
        segments=segments,
        grid=grid,
        moves=moves,
        total_customers=sum(s.customers for s in segments),
        total_revenue_cents=sum(s.revenue_cents for s in segments),
        month_end=_month_end(as_of, 1),
        previous_end=_month_end(as_of, 2),
    )


def _month_end(as_of, months_back: int) -> date | None:
    if as_of is None:
        return None
    current = month_index(timezone.localdate(as_of))
    return month_start(current - months_back + 1) - timedelta(days=1)


def customers_in_segment(segment: str) -> QuerySet:
    """Ids of the customers in an RFM segment as of the last recompute (a subquery for
    messaging's segments: `Customer.objects.filter(pk__in=customers_in_segment("at_risk"))`)."""
    return CustomerFigures.objects.filter(segment=segment).values("customer_id")


def customer_rfm(customer_id: int) -> CustomerFigures | None:
    return CustomerFigures.objects.filter(customer_id=customer_id).first()


# -- Drill-down ------------------------------------------------------------------------------


class DrillError(ValueError):
    """The address names no list (unknown metric, month or segment)."""


@dataclass(frozen=True)
class Drill:
    metric: str
    title: str
    month: int | None
    period: int
    # CustomerFigures with their customer and predictions, biggest revenue first (a churn
    # band: ChurnBandFigures, the most valuable first)
    figures: QuerySet | ChurnBandFigures

    @property
    def start(self) -> date | None:
        return month_start(self.month - self.period + 1) if self.month is not None else None

    @property
    def end(self) -> date | None:
        return month_start(self.month) if self.month is not None else None


def _active_at(index: int) -> QuerySet:
    return ActivitySpell.objects.filter(first_month__lte=index, last_month__gte=index).values(
        "customer_id"
    )


def _ids(metric: str, *, m: int, p: int, params) -> Q:
    start = m - p + 1
    window = Q(first_month__gte=start, first_month__lte=m)
    if metric == "starting":
        return Q(customer_id__in=_active_at(m - p))
    if metric == "ending":
        return Q(customer_id__in=_active_at(m))
    if metric == "retained":
        return Q(customer_id__in=_active_at(m - p)) & Q(customer_id__in=_active_at(m))
    if metric == "lost":
        return Q(customer_id__in=_active_at(m - p)) & ~Q(customer_id__in=_active_at(m))
    if metric == "new_active":
        first_spell = ActivitySpell.objects.filter(
            spell_no=1, first_month__gte=start, first_month__lte=m, last_month__gte=m
        ).values("customer_id")
        return Q(customer_id__in=first_spell)
    if metric == "reactivated":
        first_spell = ActivitySpell.objects.filter(
            spell_no=1, first_month__gte=start, first_month__lte=m, last_month__gte=m
        ).values("customer_id")
        return (
            Q(customer_id__in=_active_at(m))
            & ~Q(customer_id__in=_active_at(m - p))
            & ~Q(customer_id__in=first_spell)
        )
    if metric == "new":
        return window
    if metric == "buyers":
        bought = CustomerMonth.objects.filter(
            customer_id=OuterRef("customer_id"), month_index__gte=start, month_index__lte=m
        )
        return Q(Exists(bought))
    if metric == "customers":
        return Q(first_month__lte=m)
    if metric == "repeat":
        return Q(second_month__lte=m)
    if metric == "second_orders":
        return Q(second_month__gte=start, second_month__lte=m)
    if metric == "second_within":
        days = _int(params.get("days"), {30, 60, 90})
        return window & Q(days_to_second__lte=days)
    if metric in CHANNEL_DRILLS:
        return _channel_ids(metric, start=start, m=m)
    if metric == "cohort":
        offset = _int(params.get("offset"), range(0, 1000))
        bought = CustomerMonth.objects.filter(
            customer_id=OuterRef("customer_id"), month_index=m + offset
        )
        return Q(first_month=m) & Q(Exists(bought))
    raise DrillError(metric)


CHANNEL_DRILLS = ("members", "new_members", "active_members", "member_buyers", "email_buyers")


def _channel_ids(metric: str, *, start: int, m: int) -> Q:
    """The customers behind the loyalty and email figures (only those with an order: the
    list shows customer figures). Members come from loyalty's selectors, attributed orders
    from messaging's; the email list looks up the period's orders (a list page, not the
    dashboard)."""
    from treu.loyalty import selectors as loyalty_selectors

    begins, ends = month_bounds(start)[0], month_bounds(m)[1]
    if metric == "members":
        return Q(customer_id__in=loyalty_selectors.members_joined_before(ends))
    if metric == "new_members":
        return Q(customer_id__in=loyalty_selectors.members_joined_before(ends)) & ~Q(
            customer_id__in=loyalty_selectors.members_joined_before(begins)
        )
    if metric == "active_members":
        return Q(customer_id__in=_active_at(m)) & Q(
            customer_id__in=loyalty_selectors.members_joined_before(ends)
        )
    if metric == "member_buyers":
        joined = loyalty_selectors.member_facts().filter(customer_id=OuterRef("customer_id"))
        bought = CustomerMonth.objects.filter(
            customer_id=OuterRef("customer_id"),
            month_index__gte=start,
            month_index__lte=m,
            last_at__gte=Subquery(joined.values("joined_at")[:1]),
        )
        return Q(Exists(bought))
    from treu.messaging import selectors as messaging_selectors

    attributed = messaging_selectors.attributed_orders(placed_since=begins, placed_before=ends)
    return Q(customer_id__in=attributed.values("customer_id"))


def _int(value, allowed) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise DrillError(value) from None
    if number not in allowed:
        raise DrillError(value)
    return number


def drill_url_for_segments(segments: list[Segment]) -> str:
    """The customers of one or more RFM segments."""
    query = urlencode({"metric": "segment", "segment": ",".join(s.value for s in segments)})
    return f"{reverse('analytics:customers')}?{query}"


def _segment(value) -> str:
    if value not in Segment.values:
        raise DrillError(value)
    return value


TITLES = {
    "starting": _("Active at the start of the period"),
    "ending": _("Active at the end of the period"),
    "retained": _("Retained: active at the start and at the end"),
    "lost": _("Lost: active at the start, no longer at the end"),
    "new_active": _("New customers of the period, active at its end"),
    "reactivated": _("Came back: lapsed before the period, active again at its end"),
    "new": _("New customers: first order in the period"),
    "buyers": _("Customers who ordered in the period"),
    "customers": _("Customers with at least one order by the end of the period"),
    "repeat": _("Repeat customers: two or more orders by the end of the period"),
    "second_orders": _("Customers whose second order fell in the period"),
    "second_within": _("New customers of the period with a second order within the days"),
    "cohort": _("Cohort: customers of the first month who ordered in the chosen month"),
    "members": _("Loyalty members by the end of the period (customers with an order)"),
    "new_members": _("Joined the loyalty programme in the period (customers with an order)"),
    "active_members": _("Active customers at the end of the period who are loyalty members"),
    "member_buyers": _("Loyalty members who ordered in the period as members"),
    "email_buyers": _("Customers with an order attributed to a marketing mail in the period"),
    "segment": _("RFM segment"),
    "move": _("Moved between RFM segments in the last complete month"),
    "rfm": _("RFM cell"),
    "churn": _("Churn risk (predicted)"),
}


def drill(params) -> Drill:
    """The customers behind a number, from the query string of its link (DrillError if bad)."""
    metric = params.get("metric", "")
    if metric not in TITLES:
        raise DrillError(metric)
    qs = CustomerFigures.objects.select_related("customer")
    month, period = None, 1
    if metric == "segment":  # one segment, or several separated by commas
        wanted = [_segment(v) for v in (params.get("segment") or "").split(",")]
        qs = qs.filter(segment__in=wanted)
    elif metric == "move":
        source = params.get("from", "")
        qs = qs.filter(
            previous_segment="" if source == "none" else _segment(source),
            month_end_segment=_segment(params.get("to")),
        )
    elif metric == "rfm":
        qs = qs.filter(
            recency_score=_int(params.get("r"), range(1, 6)),
            fm_score=_int(params.get("fm"), range(1, 6)),
        )
    elif metric == "churn":
        band = params.get("band")
        if band not in ChurnRisk.values:
            raise DrillError(band)
        return Drill(metric, str(TITLES[metric]), None, 1, ChurnBandFigures(band))
    else:
        month = parse_month(params.get("month"))
        period = _int(params.get("period", 1), set(PERIODS))
        qs = qs.filter(_ids(metric, m=month, p=period, params=params))
    return Drill(
        metric=metric,
        title=str(TITLES[metric]),
        month=month,
        period=period,
        figures=_with_predictions(qs).order_by("-revenue_cents", "customer_id"),
    )


def drill_rows(found: Drill) -> QuerySet:
    """The drill-down's customers as rows with `customer_id` (for a segment of them)."""
    if isinstance(found.figures, ChurnBandFigures):
        return found.figures.predictions
    return found.figures


class ChurnBandFigures:
    """The customers of a churn-risk band for the paginator and the CSV, the most valuable
    (predicted 12-month value) first: the order comes from the prediction index
    (churn_risk, −clv_cents), then one query fetches the page's figures. Sorting the figures
    by a per-row prediction instead cost half a second for a band of 40,000 customers."""

    def __init__(self, band: str) -> None:
        self.predictions = CustomerPrediction.objects.filter(churn_risk=band).order_by(
            "-clv_cents", "customer_id"
        )

    def count(self) -> int:
        return self.predictions.count()

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, key):
        if not isinstance(key, slice):
            return self[key : key + 1][0]
        ids = list(self.predictions.values_list("customer_id", flat=True)[key])
        figures = CustomerFigures.objects.select_related("customer").filter(customer_id__in=ids)
        by_id = {f.customer_id: f for f in _with_predictions(figures)}
        return [by_id[i] for i in ids if i in by_id]

    def iterator(self, chunk_size: int = 2000):
        start = 0
        while chunk := self[start : start + chunk_size]:
            yield from chunk
            start += chunk_size


def _with_predictions(qs: QuerySet) -> QuerySet:
    """The customer's predictions beside their figures (primary-key lookups per row shown)."""
    row = CustomerPrediction.objects.filter(customer_id=OuterRef("customer_id"))
    return qs.annotate(
        p_alive=Subquery(row.values("p_alive")[:1]),
        predicted_clv_cents=Subquery(row.values("clv_cents")[:1]),
        expected_365=Subquery(row.values("expected_365")[:1]),
        churn_risk=Subquery(row.values("churn_risk")[:1]),
        next_order_on=Subquery(row.values("next_order_on")[:1]),
    )


def parse_month(value) -> int:
    try:
        year, month = (int(part) for part in str(value).split("-"))
        return month_index(date(year, month, 1))
    except (TypeError, ValueError):
        raise DrillError(value) from None


def figures_in_segments(*, customer, segments: list[str]) -> QuerySet:
    """The customer's figures if their RFM segment (as of the last recompute) is one of
    these; `customer` is an id, or OuterRef("pk") for messaging's Exists over customers."""
    return CustomerFigures.objects.filter(customer_id=customer, segment__in=segments)


# -- The experiment log ------------------------------------------------------------------------


@dataclass(frozen=True)
class ControlComparison:
    """Recipients against the control group of the send an experiment measures."""

    name: str
    treated_people: int
    treated_converted: int
    control_people: int
    control_converted: int
    conversion: Uplift
    revenue: Uplift  # cents per person

    @property
    def verdict(self) -> Verdict:
        """Conversion decides; revenue alone (a few large orders) does not make it "works"."""
        return self.conversion.verdict


@dataclass(frozen=True)
class ExperimentEntry:
    experiment: Experiment
    figure: Card  # value: the result (None until evaluated); previous: the baseline
    can_evaluate: bool  # its months are over and computed (control groups: until decided)
    control: ControlComparison | None = None

    @property
    def period_text(self) -> str:
        from django.utils import formats

        e = self.experiment
        first = formats.date_format(e.first_month_date, "F Y")
        if e.months == 1:
            return first
        return f"{first} – {formats.date_format(e.last_month_date, 'F Y')}"


def _stored(value, kind: str):
    if value is None:
        return None
    return int(value) if kind in ("cents", "number") else value


def experiment_entry(
    experiment: Experiment, *, computed_month: int | None = None
) -> ExperimentEntry:
    if computed_month is None:
        done = run_state().last_done
        computed_month = month_index(timezone.localdate(done.as_of)) if done else None
    label, kind, better = KPI_META[experiment.metric]
    figure = Card(
        experiment.metric,
        label,
        kind,
        _stored(experiment.result, kind),
        _stored(experiment.baseline, kind),
        None,
        higher_is_better=better,
    )
    can_evaluate = computed_month is not None and computed_month > experiment.last_month
    if experiment.control_group:
        can_evaluate = not experiment.decision
    return ExperimentEntry(experiment, figure, can_evaluate, _control_comparison(experiment))


def _control_comparison(e: Experiment) -> ControlComparison | None:
    if not e.control_group or e.treated_people is None or e.control_people is None:
        return None
    from treu.analytics.experiments import control_group_choices

    name = dict(control_group_choices()).get(e.control_group, e.control_group)
    conversion = conversion_uplift(
        treated_conversions=e.treated_converted,
        treated=e.treated_people,
        control_conversions=e.control_converted,
        control=e.control_people,
    )
    revenue = revenue_uplift(
        GroupRevenue(e.treated_people, e.treated_revenue_cents, int(e.treated_squares)),
        GroupRevenue(e.control_people, e.control_revenue_cents, int(e.control_squares)),
    )
    return ControlComparison(
        name, e.treated_people, e.treated_converted, e.control_people, e.control_converted,
        conversion, revenue,
    )  # fmt: skip


def experiment_log() -> list[ExperimentEntry]:
    done = run_state().last_done
    computed_month = month_index(timezone.localdate(done.as_of)) if done else None
    return [
        experiment_entry(e, computed_month=computed_month)
        for e in Experiment.objects.select_related("created_by")
    ]


# Recommendations and replenishment timing (their own module; imported from here by others).
from treu.analytics.recommendations.selectors import (  # noqa: E402, F401
    Recommendation,
    Runout,
    customer_ids_running_out,
    customers_running_out,
    expected_runouts,
    recommendations_for,
    recommendations_for_customers,
    related_products,
    reorder_interval,
)

# -- Predicted customer value and churn risk -----------------------------------------------


@dataclass(frozen=True)
class BandRow:
    band: ChurnRisk
    customers: int
    clv_cents: int | None
    expected_365: float
    url: str

    @property
    def label(self) -> str:
        return self.band.label


@dataclass(frozen=True)
class PredictionOverview:
    fit: PredictionFit | None
    problems: list[str]
    bands: list[BandRow]
    customers: int
    clv_cents: int | None
    expected_365: float
    calibration: list[dict]  # {group, label, customers, predicted, actual}

    @property
    def calibration_cutoff(self) -> date | None:
        cutoff = self.fit.calibration.get("cutoff") if self.fit else None
        return date.fromisoformat(cutoff) if cutoff else None


def prediction_overview(run: RecomputeRun | None) -> PredictionOverview:
    """The fit of the last good recompute and its per-band totals: one query."""
    from treu.analytics import prediction

    fit = PredictionFit.objects.filter(run=run).first() if run is not None else None
    if fit is None:
        return PredictionOverview(None, [], [], 0, None, 0.0, [])
    base = reverse("analytics:customers")
    bands = []
    for band in ChurnRisk:
        n, cents, expected = fit.bands.get(band.value, (0, None, 0.0))
        query = urlencode({"metric": "churn", "band": band.value})
        bands.append(BandRow(band, n, cents, expected, f"{base}?{query}"))
    values = [b.clv_cents for b in bands if b.clv_cents is not None]
    calibration = [
        {
            "group": group,
            "label": f"{group}+" if group == prediction.CALIBRATION_GROUPS else str(group),
            "customers": n,
            "predicted": predicted,
            "actual": actual,
        }
        for group, n, predicted, actual in fit.calibration.get("rows", [])
    ]
    return PredictionOverview(
        fit=fit,
        problems=[prediction.problem_text(p) for p in fit.problems],
        bands=bands,
        customers=sum(b.customers for b in bands),
        clv_cents=sum(values) if fit.has_value else None,
        expected_365=sum(b.expected_365 for b in bands),
        calibration=calibration,
    )


def customer_prediction(customer_id: int) -> CustomerPrediction | None:
    return CustomerPrediction.objects.filter(customer_id=customer_id).first()


def customers_at_churn_risk(band: str) -> QuerySet:
    """Ids of the customers in a churn-risk band as of the last recompute (a subquery, like
    `customers_in_segment`)."""
    return CustomerPrediction.objects.filter(churn_risk=band).values("customer_id")


def customer_ids_overdue(*, days: int, today: date | None = None) -> QuerySet:
    """Repeat buyers whose expected next order (the last recompute's prediction) is more than
    `days` days past — the win-back's audience — as (customer_id, next_order_on) rows."""
    today = today or timezone.localdate()
    return (
        CustomerPrediction.objects.filter(next_order_on__lt=today - timedelta(days=days))
        .exclude(churn_risk=ChurnRisk.ONE_TIME)
        .order_by()
        .values("customer_id", "next_order_on")
    )
