"""Points expiry: by inactivity or a fixed lifetime per earn, with warnings ahead.

Set-based: one aggregate over the ledger finds the members concerned, then per chunk of
1,000 members they are locked, their amounts counted again under the lock and `expire`
rows written through `_append` (so balance = ledger sum holds and nothing goes negative).

- Inactivity: a member's whole available balance expires `months` after their last
  purchase (or joining, without one).
- Lifetime: points expire at the end of the month `months` after they became available
  (earned in January 2026 with 12 months: gone after 31 January 2027). Spending uses the
  oldest points first, so what expires is what was earned before the cutoff less
  everything spent, taken back or expired since, never more than the balance.
- Nothing expires before `months` have passed since expiry was switched on (`enabled_at`):
  points earned under "no expiry" get a full period's grace.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max, Q, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from treu.core import events
from treu.loyalty import selectors
from treu.loyalty.events import POINTS_EXPIRING
from treu.loyalty.models import (
    SETTINGS_PK,
    EntryKind,
    EntryStatus,
    ExpiryMode,
    ExpirySettings,
    ExpiryWarning,
    Member,
    PointsEntry,
)
from treu.loyalty.services.ledger import (
    PURCHASE,
    SHIPPING,
    LoyaltyError,
    NewEntry,
    _append,
    _lock_members,
    _point_name,
    _release,
)
from treu.loyalty.tier_selectors import add_months

EXPIRY = "expiry"
WARN_DAYS = (30, 7)
CHUNK = 1000


def expiry_settings() -> ExpirySettings:
    return ExpirySettings.objects.filter(pk=SETTINGS_PK).first() or ExpirySettings(pk=SETTINGS_PK)


@transaction.atomic
def update_expiry_settings(
    *, mode: str, months: int, now: datetime | None = None
) -> ExpirySettings:
    """Save the expiry rule. Switching it on, or to another rule or period, restarts the
    grace period: nothing expires earlier than `months` from now."""
    now = now or timezone.now()
    current = ExpirySettings.objects.select_for_update().filter(pk=SETTINGS_PK).first()
    current = current or ExpirySettings(pk=SETTINGS_PK)
    changed = (current.mode, current.months) != (mode, months)
    current.mode, current.months = mode, months
    if mode == ExpiryMode.OFF:
        current.enabled_at = None
    elif changed or current.enabled_at is None:
        current.enabled_at = now
    try:
        current.full_clean()
    except ValidationError as error:
        raise LoyaltyError(error.message_dict) from None
    current.save()
    return current


def _month_start(moment: datetime) -> datetime:
    local = timezone.localtime(moment)
    return timezone.make_aware(
        local.replace(tzinfo=None, day=1, hour=0, minute=0, second=0, microsecond=0)
    )


def _earliest(rule: ExpirySettings) -> datetime:
    return add_months(rule.enabled_at, rule.months)


def _debits() -> Any:
    return Coalesce(Sum("points", filter=Q(points__lt=0)), 0)


def _lifetime_due(
    rule: ExpirySettings, at: datetime, member_ids: list[int] | None
) -> dict[int, int]:
    """Points that have expired by `at` and are not yet gone, per member (lifetime rule)."""
    cutoff = add_months(_month_start(at), -rule.months)
    rows = PointsEntry.objects.filter(status=EntryStatus.AVAILABLE)
    if member_ids is not None:
        rows = rows.filter(member_id__in=member_ids)
    sums = (
        rows.order_by()
        .values("member_id")
        .annotate(
            old=Coalesce(Sum("points", filter=Q(points__gt=0, available_at__lt=cutoff)), 0),
            spent=_debits(),
            balance=Sum("points"),
        )
        .values_list("member_id", "old", "spent", "balance")
    )
    # Only old points not yet used up by everything spent since (oldest first) are due.
    return {
        mid: min(balance, old + spent)
        for mid, old, spent, balance in sums
        if old + spent > 0 and balance > 0
    }


def _inactivity_due(
    rule: ExpirySettings, at: datetime, member_ids: list[int] | None
) -> dict[int, tuple[datetime, int]]:
    """(expiry instant, balance) of members with points whose inactivity expiry is by `at`."""
    members = Member.objects.filter(points_balance__gt=0)
    if member_ids is not None:
        members = members.filter(pk__in=member_ids)
    last = Max(
        "entries__created_at",
        filter=Q(entries__kind=EntryKind.EARN, entries__source_rule__in=[PURCHASE, SHIPPING]),
    )
    # A superset in SQL (calendar months are 28 to 31 days), the exact date in Python.
    bound = add_months(at, -rule.months) + timedelta(days=4)
    rows = (
        members.annotate(last=last)
        .filter(Q(last__lte=bound) | Q(last__isnull=True, joined_at__lte=bound))
        .values_list("pk", "joined_at", "last", "points_balance")
    )
    earliest = _earliest(rule)
    due = {}
    for mid, joined_at, last_purchase, balance in rows:
        expires = max(add_months(last_purchase or joined_at, rule.months), earliest)
        if expires <= at:
            due[mid] = (expires, balance)
    return due


def expire_points(*, now: datetime | None = None) -> int:
    """Expire what the rule says is due; returns the points expired. Safe to run any time."""
    now = now or timezone.now()
    rule = expiry_settings()
    if rule.mode == ExpiryMode.OFF or rule.enabled_at is None or now < _earliest(rule):
        return 0
    candidates = sorted(_due(rule, now, None))
    expired = 0
    for start in range(0, len(candidates), CHUNK):
        expired += _expire_chunk(rule, candidates[start : start + CHUNK], now)
    return expired


def _due(rule: ExpirySettings, at: datetime, member_ids: list[int] | None) -> dict[int, int]:
    if rule.mode == ExpiryMode.LIFETIME:
        return _lifetime_due(rule, at, member_ids)
    return {mid: points for mid, (_at, points) in _inactivity_due(rule, at, member_ids).items()}


@transaction.atomic
def _expire_chunk(rule: ExpirySettings, member_ids: list[int], now: datetime) -> int:
    members = _lock_members(member_ids)
    _release(members, now=now)
    due = _due(rule, now, member_ids)  # again, under the lock: the amounts are exact
    program = selectors.program_settings()
    groups = []
    for mid, points in sorted(due.items()):
        points = min(points, members[mid].points_balance)
        if points <= 0:
            continue
        entry = NewEntry(
            kind=EntryKind.EXPIRE,
            points=-points,
            status=EntryStatus.AVAILABLE,
            available_at=now,
            source_rule=EXPIRY,
            key=f"expire:{mid}:{now:%Y%m%d%H%M%S}",
        )
        groups.append((members[mid], [entry]))
    _append(groups, program=program, now=now, source="loyalty", kind=EntryKind.EXPIRE)
    return -sum(e.points for _m, rows in groups for e in rows)


def _next_expiry(rule: ExpirySettings, now: datetime) -> dict[int, tuple[datetime, int]]:
    """Per member, the next expiry within the longest warning time: (instant, points)."""
    horizon = now + timedelta(days=max(WARN_DAYS))
    if rule.mode == ExpiryMode.INACTIVITY:
        return {
            mid: (at, points)
            for mid, (at, points) in _inactivity_due(rule, horizon, None).items()
            if at > now
        }
    at = max(add_months(_month_start(now), 1), _earliest(rule))
    if at > horizon:
        return {}
    expiring = _lifetime_due(rule, at, None)
    already = _lifetime_due(rule, now, None) if now >= _earliest(rule) else {}
    return {
        mid: (at, points - already.get(mid, 0))
        for mid, points in expiring.items()
        if points - already.get(mid, 0) > 0
    }


@transaction.atomic
def warn_expiring_points(*, now: datetime | None = None) -> int:
    """Publish `loyalty.points_expiring` 30 and 7 days before points expire; each once.

    Returns the number of warnings. Messaging (later) turns them into mails.
    """
    now = now or timezone.now()
    rule = expiry_settings()
    if rule.mode == ExpiryMode.OFF or rule.enabled_at is None:
        return 0
    upcoming = _next_expiry(rule, now)
    if not upcoming:
        return 0
    sent = set(
        ExpiryWarning.objects.filter(expires_at__gt=now).values_list(
            "member_id", "expires_at", "days_before"
        )
    )
    customers = dict(Member.objects.filter(pk__in=list(upcoming)).values_list("pk", "customer_id"))
    point_name = _point_name(selectors.program_settings())
    warnings, published = [], []
    for mid, (at, points) in sorted(upcoming.items()):
        days = max(WARN_DAYS) if at - now > timedelta(days=min(WARN_DAYS)) else min(WARN_DAYS)
        if (mid, at, days) in sent:
            continue
        warnings.append(
            ExpiryWarning(member_id=mid, expires_at=at, days_before=days, points=points)
        )
        published.append(
            events.NewEvent(
                kind=POINTS_EXPIRING,
                customer_id=customers[mid],
                payload={
                    "member_id": mid,
                    "points": points,
                    "expires_at": at.isoformat(),
                    "expires_on": timezone.localdate(at - timedelta(microseconds=1)).isoformat(),
                    "days_before": days,
                    "point_name": point_name,
                },
                source="loyalty",
                occurred_at=now,
            )
        )
    ExpiryWarning.objects.bulk_create(warnings)
    events.publish_many(published)
    return len(warnings)
