"""Points for purchases: awarding new orders, taking back, following changed orders."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime, timedelta, tzinfo
from decimal import Decimal
from typing import TYPE_CHECKING

from django.db import IntegrityError, transaction
from django.utils import timezone

from treu.commerce import selectors as commerce_selectors
from treu.commerce.models import OrderStatus
from treu.loyalty import selectors, tier_selectors
from treu.loyalty.models import (
    EntryKind,
    EntryStatus,
    Member,
    Membership,
    PointsEntry,
    ProgramSettings,
)
from treu.loyalty.points import Line, Rate, order_points, returned_share
from treu.loyalty.services.ledger import (
    CANCELLATION,
    ORDER_CHANGED,
    PURCHASE,
    RETURN,
    SHIPPING,
    NewEntry,
    _append,
    _lock_members,
    _lock_members_of,
    _release,
)
from treu.loyalty.services.programme import _create_members, started
from treu.loyalty.services.purchase_rules import RuleBook, RuleSettlement, rule_id_of

if TYPE_CHECKING:
    from treu.commerce.models import Order
    from treu.commerce.selectors import OrderFigures


def _available_at(
    order: Order | OrderFigures, program: ProgramSettings, zone: tzinfo | None = None
) -> datetime:
    """The return window runs from delivery; without a delivery date, from the order.

    `zone` is the current time zone, when the caller looked it up once for many orders
    (each lookup is a context-local read, several µs).
    """
    start = order.delivered_at or order.placed_at
    return timezone.localtime(start, zone) + timedelta(days=program.return_window_days)


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
    # The orders stay locked until the points are written: a cancellation or return racing
    # this award either committed before (and is seen here) or waits, and its subscriber
    # then finds these points to take back.
    by_order = {
        order.id: (order, lines)
        for order, lines in commerce_selectors.order_figures(ids, lock=True, placed_since=begin)
        if lines and order.customer_id is not None and order.status != OrderStatus.CANCELLED
    }
    if not by_order:
        return 0
    customer_ids = {order.customer_id for order, _lines in by_order.values()}
    members = _lock_members_of(customer_ids)
    if program.membership == Membership.ALL:
        missing = [cid for cid in customer_ids if cid not in members]
        if missing:
            members.update(_create_members(missing, program, now=now, source="loyalty"))
    done = set(
        PointsEntry.objects.filter(
            order_id__any_of=list(by_order), kind=EntryKind.EARN
        ).values_list("key", flat=True)
    )
    # A tier's earning multiplier scales the rate, so rounding still happens once per order.
    multipliers = tier_selectors.multipliers_of([m.pk for m in members.values()])
    # Earning rules (one query when none runs); limits are taken in the order of purchase.
    rules = RuleBook.for_batch(list(by_order.values()), members.values())
    rates: dict[Decimal, Rate] = {}
    zone = timezone.get_current_timezone()
    groups: list[tuple[Member, list[NewEntry]]] = []
    for order_id, (order, lines) in sorted(by_order.items(), key=lambda o: o[1][0].placed_at):
        member = members.get(order.customer_id)
        if member is None:
            continue
        if program.membership == Membership.OPT_IN and order.placed_at < member.joined_at:
            continue
        multiplier = multipliers.get(member.pk, Decimal(1))
        if multiplier not in rates:
            rates[multiplier] = Rate(
                points_per_euro=program.points_per_euro * multiplier,
                basis=program.points_basis,
                include_shipping=program.include_shipping,
                rounding=program.rounding,
            )
        earned = order_points(
            [Line(line.id, line.total_cents, line.tax_rate_bp) for line in lines],
            shipping_cents=order.shipping_cents,
            discount_cents=order.discount_cents,
            rate=rates[multiplier],
            bonuses=rules.bonuses_for(order, lines, member),
        )
        available_at = _available_at(order, program, zone)
        status = EntryStatus.AVAILABLE if available_at <= now else EntryStatus.PENDING
        targets = [(line.id, earned.lines[line.id]) for line in lines]
        targets.append((None, earned.shipping))
        rows = []
        for line_id, points in targets:
            key = f"earn:line:{line_id}" if line_id else f"earn:shipping:{order_id}"
            if points <= 0 or key in done:
                continue
            rows.append(
                NewEntry(
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
        rows += rules.entries(
            order, member, earned, status=status, available_at=available_at, done=done
        )
        if rows:
            groups.append((member, rows))
    rules.save(now=now)
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
    taken: dict[str, int] = defaultdict(int)  # per earn row's slot (see _slot)
    for e in rows:
        if e.kind == EntryKind.REVERSE:
            taken[_slot(e.key)] += -e.points + e.unrecovered
    lines = {line.pk: line for line in order.lines.all()}
    cancelled = order.status == OrderStatus.CANCELLED
    shipping_refunded = sum(r.shipping_refund_cents for r in order.returns.all())
    program = selectors.program_settings()
    by_rules = RuleSettlement.of(order, earns, program=program, cancelled=cancelled)
    new: list[PointsEntry] = []
    balance = member.points_balance
    done = {e.key for e in rows}  # a cause handled before (an event delivered twice)
    for earn in earns:
        slot = _slot(earn.key)
        key = f"{cause}:{slot}"
        if key in done:
            continue
        line = lines.get(earn.order_line_id) if earn.order_line_id else None
        rule = CANCELLATION if cancelled else RETURN
        if cancelled:
            target = earn.points
        elif rule_id_of(earn.source_rule) is not None:
            target, rule = by_rules.target(earn, line)
        elif earn.order_line_id is None:
            target = returned_share(earn.points, shipping_refunded, order.shipping_cents)
        elif line is None:
            target, rule = earn.points, ORDER_CHANGED
        else:
            target = returned_share(earn.points, line.returned_quantity, line.quantity)
        todo = target - taken[slot]
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
            reason=earn.reason,  # a rule's name: "Doppelte Punkte im Dezember" goes back
        )
        if earn.status == EntryStatus.PENDING:
            entry.points = -todo
        else:
            take = min(todo, balance)
            balance -= take
            entry.points, entry.unrecovered = -take, todo - take
        taken[slot] += todo
        new.append(entry)
    by_rules.give_back_uses(now=now)
    _append([(member, new)], program=program, now=now, source="loyalty", kind=EntryKind.REVERSE)
    return -sum(e.points for e in new)


# What an earn row and its reversals share: the end of their keys. Earn keys are
# `earn:<slot>` (`earn:line:17`, `earn:rule:3:line:17`, `earn:rule:3:order:9`; shipping
# `earn:shipping:9`), reversal keys `<cause>:<slot>` (the cause may hold colons; the
# order's id is left out of the slots of shipping and per-order rows, as it always was).
_SLOT = re.compile(r"(?:rule:\d+:)?(?:line:\d+|order|shipping)(?=(?::\d+)?$)")


def _slot(key: str) -> str:
    """The slot of an earn or reversal key; see `_SLOT`."""
    if key.startswith("earn:"):
        key = key[len("earn:") :]
    match = _SLOT.search(key)
    return match.group(0) if match else key


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


def follow_order_changes(causes: dict[int, str], *, now: datetime | None = None) -> int:
    """`follow_order_change` for a batch of changed orders, for those it concerns.

    Most changes (paid → shipped) leave points alone: two queries find the orders whose
    delivery date moves their pending points or whose lines the shop replaced, and only
    those are followed one by one. Returns how many were.
    """
    earned: dict[int, list[tuple]] = defaultdict(list)
    rows = PointsEntry.objects.filter(order_id__in=list(causes), kind=EntryKind.EARN)
    for order_id, line_id, status, available_at in rows.values_list(
        "order_id", "order_line_id", "status", "available_at"
    ):
        earned[order_id].append((line_id, status, available_at))
    if not earned:
        return 0
    program = selectors.program_settings()
    current: dict[int, set[int]] = defaultdict(set)
    orders: dict[int, Order] = {}
    for line in commerce_selectors.lines_of_orders(list(earned)):
        current[line.order_id].add(line.pk)
        orders[line.order_id] = line.order
    followed = 0
    for order_id, entries in earned.items():
        order = orders.get(order_id)
        replaced = any(line_id and line_id not in current[order_id] for line_id, *_ in entries)
        moves = (
            order is not None
            and order.delivered_at is not None
            and any(
                status == EntryStatus.PENDING and at != _available_at(order, program)
                for _line, status, at in entries
            )
        )
        if replaced or moves:
            follow_order_change(order_id, cause=causes[order_id], now=now)
            followed += 1
    return followed


# Orders handled per transaction by the catch-up (short locks, id lists well below limits).
CATCH_UP_CHUNK = 1000


def catch_up_points(*, since: datetime, now: datetime | None = None) -> int:
    """The safety net for lost events: orders taken in, cancelled or returned since `since`.

    Subscribers run in-process after the commit; if one failed (a database hiccup, the
    process stopped) an order would earn nothing, or keep points for goods sent back. The
    hourly job runs this over the last hours: orders without points go through the same
    rules as always (guests, cancelled, too early or not a member still earn nothing);
    every order with points that was cancelled or returned in the window, or earns now, is
    settled (`settle_order_points` counts over everything, so settling twice takes nothing
    twice). Returns the points awarded less those taken back.
    """
    now = now or timezone.now()
    cause = f"catch-up:{now:%Y%m%d%H%M%S}"
    ids = commerce_selectors.order_ids_recorded_since(since)
    changed = commerce_selectors.order_ids_cancelled_or_returned_since(since)
    net = 0
    for start in range(0, len(ids), CATCH_UP_CHUNK):
        chunk = ids[start : start + CATCH_UP_CHUNK]
        missed = set(chunk) - _orders_with_points(chunk)
        if missed:
            net += award_points_for_orders(missed, now=now)
            changed.extend(_orders_with_points(missed))
    for start in range(0, len(changed), CATCH_UP_CHUNK):
        for order_id in sorted(_orders_with_points(changed[start : start + CATCH_UP_CHUNK])):
            net -= settle_order_points(order_id, cause=f"{cause}:{order_id}", now=now)
    return net


def _orders_with_points(order_ids: Iterable[int]) -> set[int]:
    return set(
        PointsEntry.objects.filter(order_id__in=list(order_ids), kind=EntryKind.EARN)
        .values_list("order_id", flat=True)
        .distinct()
    )
