"""Reads about tiers: settings, what a member qualifies with, progress, distribution.

A module of its own (not `selectors.py`) so tiers stay one sub-domain; the tier services
and the pages import from here.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.db.models import Count, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from treu.commerce import selectors as commerce_selectors
from treu.core.money import format_euro
from treu.loyalty.models import (
    SETTINGS_PK,
    EntryKind,
    Member,
    MemberTier,
    PointsEntry,
    Tier,
    TierAssignment,
    TierBasis,
    TierPeriod,
    TierSettings,
)


def tier_settings() -> TierSettings:
    return TierSettings.objects.filter(pk=SETTINGS_PK).first() or TierSettings(pk=SETTINGS_PK)


def tier_list() -> list[Tier]:
    return list(Tier.objects.order_by("rank"))


def add_months(moment: datetime, months: int) -> datetime:
    """The same wall-clock time `months` calendar months later in Berlin (31 Jan + 1 → 28 Feb)."""
    local = timezone.localtime(moment)
    index = local.year * 12 + local.month - 1 + months
    year, month = divmod(index, 12)
    day = min(local.day, calendar.monthrange(year, month + 1)[1])
    naive = local.replace(tzinfo=None, year=year, month=month + 1, day=day)
    return timezone.make_aware(naive)


def _local_midnight(moment: datetime) -> datetime:
    local = timezone.localtime(moment)
    return timezone.make_aware(
        local.replace(tzinfo=None, hour=0, minute=0, second=0, microsecond=0)
    )


def period_start(settings: TierSettings, now: datetime) -> datetime:
    """Where the qualification window begins: 12 months back, or 1 January (Berlin)."""
    if settings.period == TierPeriod.CALENDAR:
        return _local_midnight(timezone.localtime(now).replace(month=1, day=1))
    return add_months(now, -12)


def held_until_for(settings: TierSettings, now: datetime) -> datetime:
    """How long a tier reached (or confirmed) now holds before a lower one may replace it.

    Rolling: 12 months after the day it was last reached. Calendar year: to the end of the
    following year (reached in 2026, kept through 2027). Whole days, so the hourly runs of
    one day write nothing new.
    """
    if settings.period == TierPeriod.CALENDAR:
        year = timezone.localtime(now).year
        return timezone.make_aware(datetime(year + 2, 1, 1))  # noqa: DTZ001 - made aware
    return add_months(_local_midnight(now), 12) + timedelta(days=1)


def qualifying_values(
    settings: TierSettings,
    *,
    now: datetime,
    members: dict[int, int],
    customer_range: tuple[int, int] | None = None,
) -> dict[int, int]:
    """Each member's qualifying figure (cents spent or points earned) over the window.

    `members`: member id by customer id (the members asked about). One aggregate query:
    spend through commerce's selector, points from the ledger (earned less taken back).
    """
    since = period_start(settings, now)
    if settings.basis == TierBasis.SPEND:
        if customer_range is not None:
            rows = commerce_selectors.customer_spend(
                since=since, until=now, customer_range=customer_range
            )
        else:
            rows = commerce_selectors.customer_spend(
                since=since, until=now, customer_ids=sorted(members)
            )
        return {members[cid]: int(s or 0) for cid, s in rows if cid in members}
    entries = PointsEntry.objects.filter(
        kind__in=[EntryKind.EARN, EntryKind.REVERSE], created_at__gte=since, created_at__lte=now
    )
    if customer_range is not None:
        entries = entries.filter(
            member__customer_id__gte=customer_range[0], member__customer_id__lt=customer_range[1]
        )
    else:
        entries = entries.filter(member_id__in=sorted(members.values()))
    rows = entries.order_by().values("member_id").annotate(s=Sum("points"))
    return {row["member_id"]: int(row["s"] or 0) for row in rows}


def qualified_tier(tiers: list[Tier], value: int) -> Tier | None:
    """The highest tier open to everyone whose threshold the value reaches."""
    best = None
    for tier in tiers:
        if (
            not tier.invite_only
            and value >= tier.threshold
            and (best is None or tier.rank > best.rank)
        ):
            best = tier
    return best


def multipliers_of(member_ids: list[int]) -> dict[int, Decimal]:
    """Earning multipliers above 1 of these members' tiers (purchase earning applies them)."""
    if not Tier.objects.filter(earning_multiplier__gt=1).exists():
        return {}  # most shops: no list of a thousand member ids to send
    return dict(
        MemberTier.objects.filter(
            member_id__any_of=member_ids, tier__earning_multiplier__gt=1
        ).values_list("member_id", "tier__earning_multiplier")
    )


def member_tier(member: Member) -> MemberTier | None:
    return MemberTier.objects.select_related("tier").filter(member=member).first()


@dataclass(frozen=True)
class TierProgress:
    tier: Tier | None
    next_tier: Tier | None
    basis: str
    value: int  # cents or points in the current window
    missing: int  # to the next tier; 0 when there is none
    held_until: datetime | None
    pinned: bool
    text: str  # "noch 42,00 € bis Gold"
    set_up: bool = True  # False: the programme has no tiers


def tier_progress(
    member: Member, *, now: datetime | None = None, point_name: str = ""
) -> TierProgress:
    """Where a member stands and what is missing to the next tier; works for any member."""
    now = now or timezone.now()
    tiers = tier_list()
    if not tiers:  # no tiers set up: nothing to show, nothing more to read
        return TierProgress(None, None, TierBasis.SPEND, 0, 0, None, False, "", set_up=False)
    settings = tier_settings()
    state = member_tier(member)
    current = state.tier if state else None
    value = qualifying_values(settings, now=now, members={member.customer_id: member.pk}).get(
        member.pk, 0
    )
    above = [t for t in tiers if not t.invite_only and t.rank > (current.rank if current else 0)]
    next_tier = above[0] if above else None
    missing = max(0, next_tier.threshold - value) if next_tier else 0
    if next_tier is None:
        text = _("Highest tier reached") if current else ""
    elif settings.basis == TierBasis.SPEND:
        text = _("%(amount)s to go to %(tier)s") % {
            "amount": format_euro(missing),
            "tier": next_tier.name,
        }
    else:
        text = _("%(count)s %(points)s to go to %(tier)s") % {
            "count": missing,
            "points": point_name or _("points"),
            "tier": next_tier.name,
        }
    return TierProgress(
        tier=current,
        next_tier=next_tier,
        basis=settings.basis,
        value=value,
        missing=missing,
        held_until=state.held_until if state else None,
        pinned=bool(state and state.pinned),
        text=text,
    )


@dataclass(frozen=True)
class TierCount:
    name: str
    members: int


def tier_distribution() -> list[TierCount]:
    """Members per tier (highest first), then those in none: one indexed count per page."""
    tiers = tier_list()
    if not tiers:
        return []
    counts = dict(
        MemberTier.objects.filter(tier__isnull=False)
        .order_by()
        .values("tier_id")
        .annotate(n=Count("member_id"))
        .values_list("tier_id", "n")
    )
    total = Member.objects.count()
    rows = [TierCount(t.name, counts.get(t.pk, 0)) for t in reversed(tiers)]
    rows.append(TierCount(_("No tier"), total - sum(counts.values())))
    return rows


def tier_assignments(member: Member, *, limit: int = 5) -> list[TierAssignment]:
    """The latest tiers staff assigned to this member by hand, with who and why (the audit)."""
    return list(
        TierAssignment.objects.filter(member=member)
        .select_related("tier", "staff_user")
        .order_by("-created_at", "-id")[:limit]
    )
