"""Reads for the loyalty KPIs page: what the programme costs, owes and brings in.

Every figure comes from a handful of aggregate queries (five in all), never from a loop
over members or ledger rows. Definitions are in docs/loyalty.md (*KPIs*) and on the page.
Months are calendar months in Europe/Berlin: a point booked at 00:30 on 1 April Berlin
time (22:30 UTC on 31 March) belongs to April. The members per tier come from
`tier_selectors.tier_distribution`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from fractions import Fraction

from django.db.models import (
    BigIntegerField,
    Case,
    Count,
    F,
    IntegerField,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from treu.commerce import selectors as commerce_selectors
from treu.loyalty.models import EntryKind, Member, PointsEntry, Reward, RewardKind

ACTIVE_DAYS = 90
# Earn rows that come by the calendar, not by anything the member did (action rules).
UNEARNED_BY_DOING = ("birthday", "anniversary")
MONTHS = 12
# Rewards worth a plain amount of euro: what a point is worth is read from them.
VALUE_KINDS = (RewardKind.FIXED_AMOUNT, RewardKind.STORE_CREDIT)


@dataclass(frozen=True)
class PointsMonth:
    """Points booked in one Berlin calendar month (all positive numbers)."""

    month: date
    issued: int  # earned (purchases, shipping, welcome) and added by hand
    taken_back: int  # reversed (cancellations, returns) and removed by hand
    redeemed: int
    expired: int


@dataclass(frozen=True)
class PointValue:
    """The euro value of a point: the best euro-per-point rate of the catalogue."""

    reward_name: str
    amount_cents: int
    points_cost: int

    def cents_for(self, points: int) -> int:
        """Points in cents at this rate, rounded half up to the cent (exact integer maths)."""
        return (2 * points * self.amount_cents + self.points_cost) // (2 * self.points_cost)


@dataclass(frozen=True)
class LoyaltyKpis:
    now: datetime
    since: datetime  # start of the first of the twelve months
    active_since: datetime
    members: int
    active_members: int
    available_points: int
    pending_points: int
    point_value: PointValue | None
    months: list[PointsMonth]
    revenue: commerce_selectors.RevenueSplit

    @property
    def outstanding_points(self) -> int:
        return self.available_points + self.pending_points

    @property
    def liability_cents(self) -> int | None:
        """None when the catalogue has no reward with a euro amount to value points by."""
        if self.point_value is None:
            return None
        return self.point_value.cents_for(self.outstanding_points)

    @property
    def active_share(self) -> float | None:
        return self.active_members / self.members if self.members else None

    @property
    def issued(self) -> int:
        return sum(m.issued for m in self.months)

    @property
    def taken_back(self) -> int:
        return sum(m.taken_back for m in self.months)

    @property
    def redeemed(self) -> int:
        return sum(m.redeemed for m in self.months)

    @property
    def expired(self) -> int:
        return sum(m.expired for m in self.months)

    @property
    def redemption_rate(self) -> float | None:
        """Points redeemed ÷ points issued in the twelve months; None when none were issued."""
        return self.redeemed / self.issued if self.issued else None


def _first_month(now: datetime) -> tuple[date, datetime]:
    """The first of the twelve months (the current one included) and its start in Berlin."""
    tz = timezone.get_default_timezone()
    today = timezone.localtime(now, tz).date()
    index = today.year * 12 + today.month - 1 - (MONTHS - 1)
    first = date(index // 12, index % 12 + 1, 1)
    return first, datetime.combine(first, datetime.min.time(), tzinfo=tz)


def _month_list(first: date) -> list[date]:
    index = first.year * 12 + first.month - 1
    return [date((index + n) // 12, (index + n) % 12 + 1, 1) for n in range(MONTHS)]


def member_counts(*, now: datetime) -> tuple[int, int, int, int]:
    """(members, active members, available points, pending points): two queries.

    Active: at least one `earn` or `redeem` row booked in the last 90 days. Welcome points
    count (joining is activity); reversals, expiry, staff adjustments and the points the
    daily job gives for a birthday or anniversary do not, since the member did nothing.
    """
    sums = Member.objects.aggregate(
        n=Count("id"),
        available=Coalesce(Sum("points_balance"), 0),
        pending=Coalesce(Sum("pending_points"), 0),
    )
    active = (
        PointsEntry.objects.filter(
            kind__in=[EntryKind.EARN, EntryKind.REDEEM],
            created_at__gt=now - timedelta(days=ACTIVE_DAYS),
            created_at__lte=now,
        )
        .exclude(source_rule__in=UNEARNED_BY_DOING)
        .aggregate(n=Count("member_id", distinct=True))["n"]
    )
    return sums["n"], active, sums["available"], sums["pending"]


def _month_starts(first: date) -> list[datetime]:
    """Midnight Berlin time at the start of each of the twelve months and of the next one."""
    tz = timezone.get_default_timezone()
    index = first.year * 12 + first.month - 1
    return [
        datetime(((index + n) // 12), (index + n) % 12 + 1, 1, tzinfo=tz) for n in range(MONTHS + 1)
    ]


_ADJUST = Q(kind=EntryKind.ADJUST)
# Which ledger rows make up each flow of points (their points summed; all but `issued` are
# negative in the ledger). Shared with `points_facts`, which analytics sums per month.
POINT_FLOWS = {
    "issued": Q(kind=EntryKind.EARN) | _ADJUST & Q(points__gt=0),
    "taken_back": Q(kind=EntryKind.REVERSE) | _ADJUST & Q(points__lt=0),
    "redeemed": Q(kind=EntryKind.REDEEM),
    "expired": Q(kind=EntryKind.EXPIRE),
}


def points_facts(*, booked_before: datetime) -> QuerySet:
    """Ledger rows booked before a moment as (created_at, issued, taken_back, redeemed,
    expired), each flow a positive number and 0 for the other flows: the KPIs page's
    definitions, for analytics to sum per month in its own SQL (compiled, never iterated).
    """
    flows = {
        name: Case(
            When(which, then=F("points") if name == "issued" else -F("points")),
            default=Value(0),
            output_field=BigIntegerField(),
        )
        for name, which in POINT_FLOWS.items()
    }
    return (
        PointsEntry.objects.filter(created_at__lt=booked_before)
        .order_by()
        .values("created_at")
        .annotate(**flows)
    )


def points_by_month(*, now: datetime) -> list[PointsMonth]:
    """Points issued, taken back, redeemed and expired per Berlin month: one grouped query.

    A row counts in the month it was booked (`created_at`), pending purchase points
    included: they are promised from the day of the order. The month is a CASE over the
    twelve boundaries computed here (midnight Berlin time), not a time-zone function per
    row: on SQLite that is a Python call per ledger row, 15 times slower at a million rows.
    """
    first, since = _first_month(now)
    starts = _month_starts(first)
    month_index = Case(
        *(When(created_at__lt=starts[n + 1], then=Value(n)) for n in range(MONTHS)),
        output_field=IntegerField(),
    )
    rows = (
        PointsEntry.objects.filter(created_at__gte=since, created_at__lte=now)
        .annotate(month=month_index)
        .values("month")
        .annotate(**{name: Sum("points", filter=which) for name, which in POINT_FLOWS.items()})
        .order_by("month")
    )
    found = {
        r["month"]: (
            r["issued"] or 0,
            -(r["taken_back"] or 0),
            -(r["redeemed"] or 0),
            -(r["expired"] or 0),
        )
        for r in rows
    }
    months = _month_list(first)
    return [PointsMonth(m, *found.get(n, (0, 0, 0, 0))) for n, m in enumerate(months)]


def point_value() -> PointValue | None:
    """The catalogue's best euro-per-point rate among active fixed-discount and credit rewards.

    The best rate, not the cheapest reward's: a liability is stated at what it can cost,
    and a member with enough points may take the best offer. None without such a reward.
    """
    rates = Reward.objects.filter(active=True, kind__in=VALUE_KINDS, amount_cents__gt=0)
    best = max(
        rates.values_list("name", "amount_cents", "points_cost"),
        key=lambda r: (Fraction(r[1], r[2]), -r[2]),
        default=None,
    )
    return PointValue(*best) if best else None


def loyalty_kpis(*, now: datetime | None = None) -> LoyaltyKpis:
    """Every figure of the KPIs page in five queries."""
    now = now or timezone.now()
    members, active, available, pending = member_counts(now=now)
    _, since = _first_month(now)
    return LoyaltyKpis(
        now=now,
        since=since,
        active_since=now - timedelta(days=ACTIVE_DAYS),
        members=members,
        active_members=active,
        available_points=available,
        pending_points=pending,
        point_value=point_value(),
        months=points_by_month(now=now),
        revenue=commerce_selectors.revenue_split(
            customer_ids=Member.objects.values("customer_id"), since=since, until=now
        ),
    )
