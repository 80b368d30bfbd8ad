"""The ledger's one way in (`_append`), member locks, releasing, redeeming, adjusting."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any, NamedTuple

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from treu.core import events
from treu.core.bulk import bulk_create_with_ids, from_rows, insert_rows, update_values
from treu.loyalty import selectors
from treu.loyalty.events import POINTS_CHANGED
from treu.loyalty.models import (
    CreditEntry,
    EntryKind,
    EntryStatus,
    Member,
    PointsEntry,
    ProgramSettings,
)

if TYPE_CHECKING:
    from django.contrib.auth.base_user import AbstractBaseUser

# The rule a row came from (PointsEntry.source_rule), and the kind of a release event.
PURCHASE = "purchase"
SHIPPING = "shipping"
WELCOME = "welcome"
MANUAL = "manual"
REDEMPTION = "redemption"
CANCELLATION = "cancellation"
RETURN = "return"
ORDER_CHANGED = "order_changed"
RELEASE = "release"


class LoyaltyError(ValidationError):
    """A refused loyalty change; German messages (per field where there is one)."""


def _point_name(program: ProgramSettings) -> str:
    return program.point_name or "Punkte"


def _lock_members(member_ids: Iterable[int]) -> dict[int, Member]:
    """Lock members in id order (no deadlocks between two writers) and return them by id."""
    ids = sorted(set(member_ids))
    if not ids:
        return {}
    return {
        m.pk: m for m in Member.objects.select_for_update().filter(pk__any_of=ids).order_by("pk")
    }


_MEMBER_FIELDS = tuple(f.attname for f in Member._meta.concrete_fields if not f.primary_key)


def _lock_members_of(customer_ids: Iterable[int]) -> dict[int, Member]:
    """The members of these customers, locked in id order, by customer id."""
    locked = Member.objects.select_for_update().filter(
        customer_id__any_of=sorted(set(customer_ids))
    )
    # Read as tuples and built like `from_rows` does: a batch award locks a thousand, and
    # Django's model loading costs a few µs per field (the same instances otherwise).
    rows = list(locked.order_by("pk").values_list("pk", *_MEMBER_FIELDS))
    members = from_rows(Member, _MEMBER_FIELDS, [row[1:] for row in rows], [r[0] for r in rows])
    return {m.customer_id: m for m in members}


def _lock_member(member: Member, *, now: datetime) -> Member:
    members = _lock_members([member.pk])
    _release(members, now=now)
    return members[member.pk]


class NewEntry(NamedTuple):
    """A ledger row to write, lighter than a PointsEntry where a batch makes thousands."""

    kind: str
    points: int
    status: str
    available_at: datetime
    order_id: int | None = None
    order_line_id: int | None = None
    source_rule: str = ""
    key: str | None = None
    reason: str = ""
    unrecovered: int = 0


_NEW_ENTRY_COLUMNS = ("member_id", *NewEntry._fields, "created_at")


def _append(
    groups: list[tuple[Member, list[PointsEntry | NewEntry]]],
    *,
    program: ProgramSettings,
    now: datetime,
    source: str = "",
    kind: str = "",
) -> None:
    """Write ledger rows, move the members' sums by exactly as much, tell everyone.

    One group is one change of one member (an order's points, a redemption) and becomes
    one `loyalty.points_changed` event. A fixed number of queries for any number of
    groups. The members must be locked (or new) in the caller's transaction.
    """
    instances = [e for _member, group in groups for e in group if isinstance(e, PointsEntry)]
    light = [
        (member.pk, *e, now) for member, group in groups for e in group if isinstance(e, NewEntry)
    ]
    if not instances and not light:
        return
    # Both write with COPY on PostgreSQL: a batch award writes thousands of rows.
    bulk_create_with_ids(PointsEntry, instances)
    insert_rows(PointsEntry, _NEW_ENTRY_COLUMNS, light, return_ids=False)
    changed: dict[int, tuple] = {}
    published = []
    for member, entries in groups:
        available = sum(e.points for e in entries if e.status == EntryStatus.AVAILABLE)
        pending = sum(e.points for e in entries if e.status == EntryStatus.PENDING)
        if not available and not pending:
            continue
        member.points_balance += available
        member.pending_points += pending
        changed[member.pk] = (member.pk, member.points_balance, member.pending_points, now)
        first = entries[0]
        published.append(
            events.NewEvent(
                kind=POINTS_CHANGED,
                customer_id=member.customer_id,
                payload={
                    "member_id": member.pk,
                    "kind": kind or first.kind,
                    "rule": first.source_rule,
                    "available_change": available,
                    "pending_change": pending,
                    "balance": member.points_balance,
                    "pending": member.pending_points,
                    "order_id": first.order_id,
                    "point_name": _point_name(program),
                },
                source=source,
                occurred_at=now,
            )
        )
    update_values(Member, ["points_balance", "pending_points", "updated_at"], [*changed.values()])
    events.publish_many(published)


def _release(members: dict[int, Member], *, now: datetime) -> int:
    """Make the locked members' pending points available whose time has come."""
    if not members:
        return 0
    due = PointsEntry.objects.filter(
        member_id__any_of=list(members), status=EntryStatus.PENDING, available_at__lte=now
    )
    sums = dict(
        due.order_by().values("member_id").annotate(s=Sum("points")).values_list("member_id", "s")
    )
    if not sums:
        return 0
    # The members are locked: nobody else writes their rows, so the sums stay true.
    due.update(status=EntryStatus.AVAILABLE)
    rows, released = [], []
    for member_id, points in sums.items():
        member = members[member_id]
        member.points_balance += points
        member.pending_points -= points
        rows.append((member_id, member.points_balance, member.pending_points, now))
        if points:
            released.append((member, points))
    update_values(Member, ["points_balance", "pending_points", "updated_at"], rows)
    point_name = _point_name(selectors.program_settings())
    events.publish_many(
        events.NewEvent(
            kind=POINTS_CHANGED,
            customer_id=member.customer_id,
            payload={
                "member_id": member.pk,
                "kind": RELEASE,
                "rule": PURCHASE,
                "available_change": points,
                "pending_change": -points,
                "balance": member.points_balance,
                "pending": member.pending_points,
                "order_id": None,
                "point_name": point_name,
            },
            occurred_at=now,
        )
        for member, points in released
    )
    return sum(sums.values())


# Members released per transaction: short locks, and id lists well below SQLite's limit of
# bound parameters however many members are due (the first run after a large import).
RELEASE_CHUNK = 1000


def release_pending_points(*, now: datetime | None = None) -> int:
    """Release every member's purchase points whose return window has passed; returns points.

    Run hourly by the worker (`tasks.release_pending_points`); safe to run any time.
    """
    now = now or timezone.now()
    released, more = 0, True
    while more:
        points, more = _release_chunk(now)
        released += points
    return released


@transaction.atomic
def _release_chunk(now: datetime) -> tuple[int, bool]:
    due = PointsEntry.objects.filter(status=EntryStatus.PENDING, available_at__lte=now)
    member_ids = list(
        due.order_by("member_id").values_list("member_id", flat=True).distinct()[:RELEASE_CHUNK]
    )
    # The chunk's due rows all become available, so the next chunk starts after it.
    return _release(_lock_members(member_ids), now=now), len(member_ids) == RELEASE_CHUNK


def _not_enough(program: ProgramSettings, balance: int) -> str:
    return _("Not enough %(points)s: %(balance)s available.") % {
        "points": _point_name(program),
        "balance": balance,
    }


@transaction.atomic
def redeem_points(
    *,
    member: Member,
    points: int,
    reason: str,
    staff_user: AbstractBaseUser | None = None,
    key: str | None = None,
    now: datetime | None = None,
) -> PointsEntry:
    """Spend available points (for a reward; the catalogue is built on this). Exactly once per key.

    Refuses, writing nothing, more than the member has available.
    """
    now = now or timezone.now()
    program = selectors.program_settings()
    if points <= 0:
        raise LoyaltyError({"points": [_("Redeem at least one point.")]})
    member = _lock_member(member, now=now)
    if key:  # checked under the lock: a second request with the key waits, then finds it
        existing = PointsEntry.objects.filter(key=key, member=member).first()
        if existing is not None:
            return existing
    if points > member.points_balance:
        raise LoyaltyError({"points": [_not_enough(program, member.points_balance)]})
    entry = PointsEntry(
        member=member,
        kind=EntryKind.REDEEM,
        points=-points,
        status=EntryStatus.AVAILABLE,
        available_at=now,
        reason=reason.strip()[:200],
        staff_user=staff_user,
        source_rule=REDEMPTION,
        key=key or None,
    )
    _append([(member, [entry])], program=program, now=now)
    return entry


@transaction.atomic
def adjust_points(
    *,
    member: Member,
    points: int,
    reason: str,
    staff_user: AbstractBaseUser | None,
    now: datetime | None = None,
) -> PointsEntry:
    """A correction by hand: needs a reason and the staff member; never below zero."""
    now = now or timezone.now()
    program = selectors.program_settings()
    errors: dict[str, list[str]] = {}
    if not points:
        errors["points"] = [_("Enter a number of points other than zero.")]
    if not reason.strip():
        errors["reason"] = [_("Give a reason: it is shown in the member's ledger.")]
    if staff_user is None:
        errors["staff_user"] = [_("A manual adjustment needs the staff member making it.")]
    if errors:
        raise LoyaltyError(errors)
    member = _lock_member(member, now=now)
    if member.points_balance + points < 0:
        raise LoyaltyError({"points": [_not_enough(program, member.points_balance)]})
    entry = PointsEntry(
        member=member,
        kind=EntryKind.ADJUST,
        points=points,
        status=EntryStatus.AVAILABLE,
        available_at=now,
        reason=reason.strip()[:200],
        staff_user=staff_user,
        source_rule=MANUAL,
    )
    _append([(member, [entry])], program=program, now=now, source="backoffice")
    return entry


def book_credit(member_id: int, *, kind: str, cents: int, **links: Any) -> CreditEntry:
    """Store credit's one way in: a CreditEntry and the member's sum moved by exactly as much.

    `cents` is signed (an issue adds, a spend takes); the database refuses a negative sum.
    The caller holds the member's lock (or writes credit nobody else can touch yet).
    """
    entry = CreditEntry.objects.create(member_id=member_id, kind=kind, cents=cents, **links)
    Member.objects.filter(pk=member_id).update(credit_cents=F("credit_cents") + cents)
    return entry


AUTOMATION = "automation"


@transaction.atomic
def award_points_by_automation(
    *, keys: dict[int, str], points: int, reason: str, now: datetime | None = None
) -> set[int]:
    """Points an automation gives ({customer id: idempotency key}); returns the customers
    awarded. Members only (no one joins by it), once per key, nothing before the programme
    started. Set-based: the members are locked in one query, the rows written in one."""
    from treu.loyalty.services.programme import started

    now = now or timezone.now()
    if points <= 0:
        raise LoyaltyError({"points": [_("Enter a number of points above zero.")]})
    program = selectors.program_settings()
    if started(program) is None or not keys:
        return set()
    members = _lock_members_of(keys)
    _release({m.pk: m for m in members.values()}, now=now)
    taken = set(
        PointsEntry.objects.filter(key__in=[keys[c] for c in members]).values_list("key", flat=True)
    )
    groups = [
        (
            member,
            [
                NewEntry(
                    kind=EntryKind.EARN,
                    points=points,
                    status=EntryStatus.AVAILABLE,
                    available_at=now,
                    source_rule=AUTOMATION,
                    key=keys[customer_id],
                    reason=reason.strip()[:200],
                )
            ],
        )
        for customer_id, member in members.items()
        if keys[customer_id] not in taken
    ]
    _append(groups, program=program, now=now, source="automation")
    return {member.customer_id for member, _entries in groups}
