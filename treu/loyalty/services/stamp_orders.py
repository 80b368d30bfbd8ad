"""Stamps for online orders: awarding new orders, taking back, following changes, catching up.

The writing itself (cards, locks, vouchers, events) is `stamps._record`; see `stamps` for
the rules every change keeps.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from treu.commerce import selectors as commerce_selectors
from treu.commerce.models import OrderStatus
from treu.loyalty import selectors
from treu.loyalty.models import (
    Membership,
    ProgramSettings,
    StampCardType,
    StampEntry,
    StampEntryKind,
)
from treu.loyalty.services.ledger import CANCELLATION, ORDER_CHANGED, RETURN, _lock_members_of
from treu.loyalty.services.programme import _create_members, started
from treu.loyalty.services.stamps import (
    Pair,
    _lock_cards,
    _record,
    _retrying,
    _Rule,
    _rules,
)


def award_stamps_for_orders(order_ids: Iterable[int], *, now: datetime | None = None) -> int:
    """Stamps for newly placed orders, all in one go; returns the stamps added.

    Set-based (a fixed number of queries per batch; one when no card type exists) and
    idempotent per order line and card type (key `stamp:line:<id>:type:<id>`). The same
    orders earn as for points: not guests, cancelled orders, orders before the programme
    started or, when customers join explicitly, before the member joined; and only on the
    days a card type runs.
    """
    ids = sorted(set(order_ids))
    if not ids:
        return 0
    rules = _rules()
    if not rules:  # most shops: one query per batch
        return 0
    program = selectors.program_settings()
    if started(program) is None:
        return 0
    now = now or timezone.now()
    return _retrying(lambda: _award(ids, rules, program, now=now))


def _award(ids: list[int], rules: list[_Rule], program: ProgramSettings, *, now: datetime) -> int:
    begin = started(program)
    # The orders stay locked until the stamps are written (as for points): a cancellation
    # racing this either committed before and is seen, or waits and then takes them back.
    lines = [
        line
        for line in commerce_selectors.lines_of_orders(ids, lock=True)
        if line.order.customer_id is not None
        and line.order.status != OrderStatus.CANCELLED
        and line.order.placed_at >= begin
    ]
    category_of: dict[str, int | None] = {}
    if any(rule.categories for rule in rules):
        skus = {line.sku for line in lines if line.sku}
        category_of = dict(
            commerce_selectors.product_list()
            .filter(sku__in=skus)
            .values_list("sku", "category_id")
            .order_by()
        )
    matches = []
    for line in lines:
        day = timezone.localdate(line.order.placed_at)
        for rule in rules:
            if rule.counts(line.sku, category_of.get(line.sku), day):
                matches.append((line, rule.card_type))
    if not matches:
        return 0
    customer_ids = {line.order.customer_id for line, _t in matches}
    members = _lock_members_of(customer_ids)
    if program.membership == Membership.ALL:
        missing = [cid for cid in customer_ids if cid not in members]
        if missing:
            members.update(_create_members(missing, program, now=now, source="loyalty"))
    done = set(
        StampEntry.objects.filter(order_id__any_of=ids, kind=StampEntryKind.PURCHASE).values_list(
            "key", flat=True
        )
    )
    groups: dict[Pair, list[StampEntry]] = defaultdict(list)
    for line, card_type in matches:
        member = members.get(line.order.customer_id)
        if member is None:
            continue
        if program.membership == Membership.OPT_IN and line.order.placed_at < member.joined_at:
            continue
        key = f"stamp:line:{line.pk}:type:{card_type.pk}"
        if key in done:
            continue
        groups[(member.pk, card_type.pk)].append(
            StampEntry(
                member=member,
                card_type=card_type,
                kind=StampEntryKind.PURCHASE,
                stamps=line.quantity,
                order_id=line.order_id,
                order_line_id=line.pk,
                key=key,
            )
        )
    _record(groups, _lock_cards(groups, now=now), now=now, source="loyalty")
    return sum(e.stamps for group in groups.values() for e in group)


@transaction.atomic
def settle_order_stamps(order_id: int, *, cause: str, now: datetime | None = None) -> int:
    """Take back the stamps an order no longer deserves; returns the stamps taken back.

    Counted over everything so far (an event arriving twice takes nothing twice):
    cancelled or a line the shop replaced, all of its stamps; returned units, one stamp
    each. Only from the current card and never below zero: stamps already on a voucher
    stay there (the voucher stays valid) and are recorded as `unrecovered`.
    """
    now = now or timezone.now()
    entries = list(
        StampEntry.objects.filter(order_id=order_id).select_related("card_type", "member")
    )
    earns = [e for e in entries if e.kind == StampEntryKind.PURCHASE]
    if not earns:
        return 0
    cards = _lock_cards({(e.member_id, e.card_type_id) for e in earns}, now=now)
    order = commerce_selectors.order_detail(order_id)
    lines = {line.pk: line for line in order.lines.all()}
    cancelled = order.status == OrderStatus.CANCELLED
    taken: dict[tuple, int] = defaultdict(int)
    for e in entries:
        if e.kind == StampEntryKind.REVERSE:
            taken[(e.order_line_id, e.card_type_id)] += -e.stamps + e.unrecovered
    left = {pair: card.stamps for pair, card in cards.items()}
    done = {e.key for e in entries}
    groups: dict[Pair, list[StampEntry]] = defaultdict(list)
    for earn in sorted(earns, key=lambda e: e.pk):
        key = f"{cause}:stamp:line:{earn.order_line_id}:type:{earn.card_type_id}"
        line = lines.get(earn.order_line_id)
        if key in done:
            continue
        if cancelled:
            target, why = earn.stamps, CANCELLATION
        elif line is None:
            target, why = earn.stamps, ORDER_CHANGED
        else:
            target, why = min(earn.stamps, line.returned_quantity), RETURN
        todo = target - taken[(earn.order_line_id, earn.card_type_id)]
        if todo <= 0:
            continue
        pair = (earn.member_id, earn.card_type_id)
        take = min(todo, left[pair])
        left[pair] -= take
        taken[(earn.order_line_id, earn.card_type_id)] += todo
        groups[pair].append(
            StampEntry(
                member=earn.member,
                card_type=earn.card_type,
                kind=StampEntryKind.REVERSE,
                stamps=-take,
                unrecovered=todo - take,
                cause=why,
                order_id=order_id,
                order_line_id=earn.order_line_id,
                key=key,
            )
        )
    _record(groups, cards, now=now, source="loyalty")
    return -sum(e.stamps for group in groups.values() for e in group)


def follow_order_stamp_changes(causes: dict[int, str], *, now: datetime | None = None) -> int:
    """Orders the shop changed: lines it replaced lose their stamps, new lines earn theirs.

    One query when none of the orders holds stamps (a nightly status sync); returns how
    many orders were followed.
    """
    earned: dict[int, set[int]] = defaultdict(set)
    rows = StampEntry.objects.filter(order_id__in=list(causes), kind=StampEntryKind.PURCHASE)
    for order_id, line_id in rows.values_list("order_id", "order_line_id"):
        earned[order_id].add(line_id)
    if not earned:
        return 0
    current: dict[int, set[int]] = defaultdict(set)
    for order_id, line_id in (
        commerce_selectors.lines_of_orders(list(earned)).values_list("order_id", "id").order_by()
    ):
        current[order_id].add(line_id)
    followed = 0
    for order_id, line_ids in sorted(earned.items()):
        if line_ids - current[order_id]:
            settle_order_stamps(order_id, cause=causes[order_id], now=now)
            award_stamps_for_orders([order_id], now=now)
            followed += 1
    return followed


# Orders handled per transaction by the catch-up (short locks, id lists well below limits).
CATCH_UP_CHUNK = 1000


def catch_up_stamps(*, since: datetime, now: datetime | None = None) -> int:
    """The safety net for lost events, as `catch_up_points` is for points.

    Orders taken in since `since` are awarded (idempotent per line: nothing twice), and
    every order with stamps that was cancelled or returned since then is settled (counted
    over everything, so settling again takes nothing twice). Returns stamps added less
    stamps taken back.
    """
    now = now or timezone.now()
    if not StampCardType.objects.exists():
        return 0
    cause = f"catch-up:{now:%Y%m%d%H%M%S}"
    ids = commerce_selectors.order_ids_recorded_since(since)
    net = 0
    for start in range(0, len(ids), CATCH_UP_CHUNK):
        net += award_stamps_for_orders(ids[start : start + CATCH_UP_CHUNK], now=now)
    changed = commerce_selectors.order_ids_cancelled_or_returned_since(since)
    for start in range(0, len(changed), CATCH_UP_CHUNK):
        chunk = changed[start : start + CATCH_UP_CHUNK]
        stamped = StampEntry.objects.filter(order_id__in=chunk, kind=StampEntryKind.PURCHASE)
        for order_id in sorted(set(stamped.values_list("order_id", flat=True))):
            net -= settle_order_stamps(order_id, cause=f"{cause}:{order_id}", now=now)
    return net
