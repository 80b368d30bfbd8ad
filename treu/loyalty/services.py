"""Writes of the loyalty programme. Every change of points goes through `_append`.

Rules every service keeps:
- A member's row is locked (`select_for_update`) before their points change, and the
  member's due pending points are released first, so a decision is taken on the
  current balance and the release job cannot race a reversal.
- `Member.points_balance` / `pending_points` change in the same transaction as the
  ledger rows, by exactly their sums; the database refuses a negative balance.
- Purchase points and their reversals carry an idempotency key: a replayed event
  changes nothing.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from treu.commerce import selectors as commerce_selectors
from treu.commerce.models import OrderStatus
from treu.core import events
from treu.core.bulk import update_values
from treu.loyalty import selectors
from treu.loyalty.events import MEMBER_JOINED, POINTS_CHANGED
from treu.loyalty.models import (
    SETTINGS_PK,
    EntryKind,
    EntryStatus,
    Member,
    Membership,
    PointsEntry,
    ProgramSettings,
)
from treu.loyalty.points import Line, Rate, order_points, returned_share

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


# -- Settings ----------------------------------------------------------------------------------

SETTINGS_FIELDS = (
    "program_name", "point_name", "membership", "points_per_euro", "points_basis",
    "include_shipping", "rounding", "welcome_points", "return_window_days",
)  # fmt: skip


@transaction.atomic
def update_program_settings(**fields: Any) -> ProgramSettings:
    """Save the programme settings; the first save starts the programme (see `started`)."""
    unknown = set(fields) - set(SETTINGS_FIELDS)
    if unknown:
        raise TypeError(f"Not a programme setting: {sorted(unknown)}")
    current = ProgramSettings.objects.select_for_update().filter(pk=SETTINGS_PK).first()
    current = current or ProgramSettings(pk=SETTINGS_PK)  # the first save starts the programme
    for name, value in fields.items():
        setattr(current, name, value.strip() if isinstance(value, str) else value)
    try:
        current.full_clean(validate_unique=False)
    except ValidationError as error:
        raise LoyaltyError(error.message_dict) from None
    current.save()
    return current


def started(program: ProgramSettings) -> datetime | None:
    """When the programme began: orders placed before never earn (imports stay quiet)."""
    return program.created_at  # None until the settings were saved once


# -- Members -----------------------------------------------------------------------------------


def _point_name(program: ProgramSettings) -> str:
    return program.point_name or "Punkte"


@transaction.atomic
def join_program(*, customer, now: datetime | None = None, source: str = "") -> Member:
    """Make a customer a member (once); welcome points are available at once."""
    program = selectors.program_settings()
    if started(program) is None:
        raise LoyaltyError(_("The loyalty programme has not been set up yet."))
    if getattr(customer, "erased_at", None):
        raise LoyaltyError(_("An erased customer cannot join the programme."))
    existing = Member.objects.filter(customer_id=customer.pk).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            created = _create_members(
                [customer.pk], program, now=now or timezone.now(), source=source
            )
    except IntegrityError:  # joined a moment ago in another request
        return Member.objects.get(customer_id=customer.pk)
    return created[customer.pk]


def _create_members(
    customer_ids: Iterable[int], program: ProgramSettings, *, now: datetime, source: str
) -> dict[int, Member]:
    """New members with their welcome points and events; the caller holds the transaction."""
    members = Member.objects.bulk_create(
        [Member(customer_id=cid, joined_at=now) for cid in customer_ids]
    )
    joined = [
        events.NewEvent(
            kind=MEMBER_JOINED,
            customer_id=m.customer_id,
            payload={"member_id": m.pk, "program": program.program_name},
            source=source,
            occurred_at=now,
        )
        for m in members
    ]
    events.publish_many(joined)
    if program.welcome_points:
        _append(
            [
                (
                    m,
                    [
                        PointsEntry(
                            member=m,
                            kind=EntryKind.EARN,
                            points=program.welcome_points,
                            status=EntryStatus.AVAILABLE,
                            available_at=now,
                            source_rule=WELCOME,
                            key=f"welcome:{m.pk}",
                        )
                    ],
                )
                for m in members
            ],
            program=program,
            now=now,
            source=source,
        )
    return {m.customer_id: m for m in members}


def _lock_members(member_ids: Iterable[int]) -> dict[int, Member]:
    """Lock members in id order (no deadlocks between two writers) and return them by id."""
    ids = sorted(set(member_ids))
    if not ids:
        return {}
    return {m.pk: m for m in Member.objects.select_for_update().filter(pk__in=ids).order_by("pk")}


def _lock_members_of(customer_ids: Iterable[int]) -> dict[int, Member]:
    """The members of these customers, locked in id order, by customer id."""
    locked = Member.objects.select_for_update().filter(customer_id__in=sorted(set(customer_ids)))
    return {m.customer_id: m for m in locked.order_by("pk")}


def _lock_member(member: Member, *, now: datetime) -> Member:
    members = _lock_members([member.pk])
    _release(members, now=now)
    return members[member.pk]


def merge_members(*, survivor, duplicate) -> int:
    """Merge handler for customers: one member per person, their ledgers joined."""
    dup = Member.objects.select_for_update().filter(customer_id=duplicate.pk).first()
    if dup is None:
        return 0
    kept = Member.objects.select_for_update().filter(customer_id=survivor.pk).first()
    if kept is None:
        return Member.objects.filter(pk=dup.pk).update(customer_id=survivor.pk)
    moved = PointsEntry.objects.filter(member=dup).update(member=kept)
    Member.objects.filter(pk=kept.pk).update(
        points_balance=kept.points_balance + dup.points_balance,
        pending_points=kept.pending_points + dup.pending_points,
        joined_at=min(kept.joined_at, dup.joined_at),
    )
    Member.objects.filter(pk=dup.pk).delete()
    return moved


# -- The ledger --------------------------------------------------------------------------------


def _append(
    groups: list[tuple[Member, list[PointsEntry]]],
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
    rows = [entry for _member, entries in groups for entry in entries]
    if not rows:
        return
    PointsEntry.objects.bulk_create(rows)
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
        member_id__in=list(members), status=EntryStatus.PENDING, available_at__lte=now
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


@transaction.atomic
def release_pending_points(*, now: datetime | None = None) -> int:
    """Release every member's purchase points whose return window has passed; returns points.

    Run hourly by the worker (`tasks.release_pending_points`); safe to run any time.
    """
    now = now or timezone.now()
    due = PointsEntry.objects.filter(status=EntryStatus.PENDING, available_at__lte=now)
    members = _lock_members(due.values_list("member_id", flat=True).distinct().order_by())
    return _release(members, now=now)


# -- Purchases ---------------------------------------------------------------------------------


def _available_at(order, program: ProgramSettings):
    """The return window runs from delivery; without a delivery date, from the order."""
    start = order.delivered_at or order.placed_at
    return timezone.localtime(start) + timedelta(days=program.return_window_days)


def award_points_for_orders(order_ids: Iterable[int], *, now: datetime | None = None) -> int:
    """Earn points for newly placed orders, all in one go; returns the points awarded.

    Set-based (a fixed number of queries for any number of orders), idempotent per line
    (key `earn:line:<id>`). Earns nothing for guests, cancelled orders, orders placed
    before the programme started and, when members join explicitly, before they joined.
    """
    ids = sorted(set(order_ids))
    program = selectors.program_settings()
    if not ids or started(program) is None:
        return 0
    now = now or timezone.now()
    try:
        with transaction.atomic():
            return _award(ids, program, now=now)
    except IntegrityError:
        # Another worker made one of these customers a member (or awarded these lines) at
        # the same moment; a second pass sees and locks its rows and writes only what's left.
        with transaction.atomic():
            return _award(ids, program, now=now)


def _award(ids: list[int], program: ProgramSettings, *, now: datetime) -> int:
    begin = started(program)
    by_order: dict[int, list] = defaultdict(list)
    # The orders stay locked until the points are written: a cancellation or return racing
    # this award either committed before (and is seen here) or waits, and its subscriber
    # then finds these points to take back.
    for line in commerce_selectors.lines_of_orders(ids, lock=True):
        order = line.order
        if (
            order.customer_id is not None
            and order.status != OrderStatus.CANCELLED
            and order.placed_at >= begin
        ):
            by_order[order.pk].append(line)
    if not by_order:
        return 0
    customer_ids = {lines[0].order.customer_id for lines in by_order.values()}
    members = _lock_members_of(customer_ids)
    if program.membership == Membership.ALL:
        missing = [cid for cid in customer_ids if cid not in members]
        if missing:
            members.update(_create_members(missing, program, now=now, source="loyalty"))
    done = set(
        PointsEntry.objects.filter(order_id__in=list(by_order), kind=EntryKind.EARN).values_list(
            "key", flat=True
        )
    )
    rate = Rate(
        points_per_euro=program.points_per_euro,
        basis=program.points_basis,
        include_shipping=program.include_shipping,
        rounding=program.rounding,
    )
    groups: list[tuple[Member, list[PointsEntry]]] = []
    for order_id, lines in by_order.items():
        order = lines[0].order
        member = members.get(order.customer_id)
        if member is None:
            continue
        if program.membership == Membership.OPT_IN and order.placed_at < member.joined_at:
            continue
        earned = order_points(
            [Line(line.pk, line.total_cents, line.tax_rate_bp) for line in lines],
            shipping_cents=order.shipping_cents,
            discount_cents=order.discount_cents,
            rate=rate,
        )
        available_at = _available_at(order, program)
        status = EntryStatus.AVAILABLE if available_at <= now else EntryStatus.PENDING
        targets = [(line.pk, earned.lines[line.pk]) for line in lines]
        targets.append((None, earned.shipping))
        rows = []
        for line_id, points in targets:
            key = f"earn:line:{line_id}" if line_id else f"earn:shipping:{order_id}"
            if points <= 0 or key in done:
                continue
            rows.append(
                PointsEntry(
                    member=member,
                    kind=EntryKind.EARN,
                    points=points,
                    status=status,
                    available_at=available_at,
                    order_id=order_id,
                    order_line_id=line_id,
                    source_rule=PURCHASE if line_id else SHIPPING,
                    key=key,
                )
            )
        if rows:
            groups.append((member, rows))
    _append(groups, program=program, now=now, source="loyalty")
    return sum(e.points for _member, rows in groups for e in rows)


@transaction.atomic
def settle_order_points(order_id: int, *, cause: str, now: datetime | None = None) -> int:
    """Take back the points an order no longer deserves; returns the points taken back.

    Cancelled: all of them. Returned units: their line's share (`returned_share`),
    counted over all returns so far, so it does not matter which event arrives first or
    twice. Refunded shipping: its share of the shipping points. Lines the shop replaced
    (an order changed before anything was returned): all of theirs. Pending points are
    reversed as pending (they are released together with what they reverse); available
    points only as far as the balance allows: what the member already spent is recorded
    as `unrecovered` and not chased later.
    """
    now = now or timezone.now()
    member_id = (
        PointsEntry.objects.filter(order_id=order_id, kind=EntryKind.EARN)
        .values_list("member_id", flat=True)
        .first()
    )
    if member_id is None:
        return 0
    members = _lock_members([member_id])
    _release(members, now=now)
    member = members[member_id]
    order = commerce_selectors.order_detail(order_id)
    rows = list(PointsEntry.objects.filter(order_id=order_id, member=member).order_by("id"))
    earns = [e for e in rows if e.kind == EntryKind.EARN]
    taken: dict[int | None, int] = defaultdict(int)  # per line (None: shipping)
    for e in rows:
        if e.kind == EntryKind.REVERSE:
            taken[e.order_line_id] += -e.points + e.unrecovered
    lines = {line.pk: line for line in order.lines.all()}
    cancelled = order.status == OrderStatus.CANCELLED
    shipping_refunded = sum(r.shipping_refund_cents for r in order.returns.all())
    program = selectors.program_settings()
    new: list[PointsEntry] = []
    balance = member.points_balance
    done = {e.key for e in rows}  # a cause handled before (an event delivered twice)
    for earn in earns:
        key = f"{cause}:line:{earn.order_line_id}" if earn.order_line_id else f"{cause}:shipping"
        if key in done:
            continue
        line = lines.get(earn.order_line_id) if earn.order_line_id else None
        rule = CANCELLATION if cancelled else RETURN
        if cancelled:
            target = earn.points
        elif earn.order_line_id is None:
            target = returned_share(earn.points, shipping_refunded, order.shipping_cents)
        elif line is None:
            target, rule = earn.points, ORDER_CHANGED
        else:
            target = returned_share(earn.points, line.returned_quantity, line.quantity)
        todo = target - taken[earn.order_line_id]
        if todo <= 0:
            continue
        entry = PointsEntry(
            member=member,
            kind=EntryKind.REVERSE,
            status=earn.status,
            available_at=earn.available_at,
            order_id=order_id,
            order_line_id=earn.order_line_id,
            source_rule=rule,
            key=key,
        )
        if earn.status == EntryStatus.PENDING:
            entry.points = -todo
        else:
            take = min(todo, balance)
            balance -= take
            entry.points, entry.unrecovered = -take, todo - take
        taken[earn.order_line_id] += todo
        new.append(entry)
    _append([(member, new)], program=program, now=now, source="loyalty", kind=EntryKind.REVERSE)
    return -sum(e.points for e in new)


@transaction.atomic
def reschedule_order_points(order_id: int) -> int:
    """Move an order's pending points to its delivery date plus the return window.

    Earn and reversal rows of the order move together, so they are released together.
    """
    program = selectors.program_settings()
    order = commerce_selectors.order_detail(order_id)
    pending = PointsEntry.objects.filter(order_id=order_id, status=EntryStatus.PENDING)
    member_ids = list(pending.values_list("member_id", flat=True).distinct().order_by())
    if order.delivered_at is None or not member_ids:
        return 0
    _lock_members(member_ids)  # the release job must not count these rows while they move
    return pending.update(available_at=_available_at(order, program))


def follow_order_change(order_id: int, *, cause: str, now: datetime | None = None) -> None:
    """An order that earned points changed in the shop: keep its points in step.

    A delivery date moves the return window; lines the shop replaced (possible only before
    anything was returned) lose their points and the new lines earn theirs.
    """
    if not PointsEntry.objects.filter(order_id=order_id, kind=EntryKind.EARN).exists():
        return
    reschedule_order_points(order_id)
    settle_order_points(order_id, cause=cause, now=now)
    award_points_for_orders([order_id], now=now)


# -- Redeeming and adjusting -------------------------------------------------------------------


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
    staff_user=None,
    key: str | None = None,
    now: datetime | None = None,
) -> PointsEntry:
    """Spend available points (for a reward; the catalogue is built on this). Exactly once per key.

    Refuses, writing nothing, more than the member has available.
    """
    now = now or timezone.now()
    program = selectors.program_settings()
    if key:
        existing = PointsEntry.objects.filter(key=key, member=member).first()
        if existing is not None:
            return existing
    if points <= 0:
        raise LoyaltyError({"points": [_("Redeem at least one point.")]})
    member = _lock_member(member, now=now)
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
    *, member: Member, points: int, reason: str, staff_user, now: datetime | None = None
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
