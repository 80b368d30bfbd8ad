"""Stamp cards: card types, stamps for orders and in the store, full cards into vouchers.

One stamp per qualifying unit (a line's quantity), never per order: a returned unit then
takes back exactly its stamp. The member's current card of a type is one `StampCard` row,
locked (`select_for_update`, in pk order) while its stamps change; every change is a
`StampEntry` row in the same transaction, so per member and type
sum(entries) = card.stamps + sum(voucher.stamps) always holds. Stamps for online orders:
`stamp_orders`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from treu.core import events
from treu.core.bulk import bulk_create_with_ids, update_values
from treu.loyalty.codes import new_code, normalise_code
from treu.loyalty.models import (
    Member,
    StampCard,
    StampCardType,
    StampEntry,
    StampEntryKind,
    StampVoucher,
)
from treu.loyalty.services.ledger import LoyaltyError
from treu.loyalty.stamp_events import STAMP_ADDED, STAMP_CARD_FULL

if TYPE_CHECKING:
    from django.contrib.auth.base_user import AbstractBaseUser

CARD_TYPE_FIELDS = (
    "name", "stamps_needed", "skus", "categories", "reward_sku", "reward_description",
    "voucher_valid_days", "valid_from", "valid_until",
)  # fmt: skip

# More than this at once in the store is a typo, not a purchase.
MAX_STORE_STAMPS = 50
# Voucher codes are read aloud and typed at the till: shorter than a coupon's (50 bits).
VOUCHER_CODE = {"length": 10, "group": 5}

Pair = tuple[int, int]  # (member id, card type id)


# -- Card types --------------------------------------------------------------------------------


def clean_skus(value: Iterable[str] | str) -> list[str]:
    """SKUs as staff type them ("K-100, K-200 K-300") → a sorted list without duplicates."""
    parts = re.split(r"[\s,;]+", value) if isinstance(value, str) else list(value)
    return sorted({p.strip() for p in parts if p and p.strip()})


@transaction.atomic
def save_stamp_card_type(*, card_type: StampCardType | None = None, **fields: Any) -> StampCardType:
    """Create (or change) a card type. A changed size applies to cards from their next stamp."""
    unknown = set(fields) - set(CARD_TYPE_FIELDS)
    if unknown:
        raise TypeError(f"Not a stamp card field: {sorted(unknown)}")
    categories = list(fields.pop("categories", None) or [])
    target = card_type or StampCardType()
    for name, value in fields.items():
        setattr(target, name, value.strip() if isinstance(value, str) else value)
    target.skus = clean_skus(target.skus or [])
    errors: dict[str, list[str]] = {}
    try:
        target.full_clean(validate_unique=False, validate_constraints=False)
    except ValidationError as error:
        errors.update(error.message_dict)
    if not target.skus and not categories:
        errors.setdefault("skus", []).append(
            _("Name at least one SKU or category whose purchase earns stamps.")
        )
    if target.valid_from and target.valid_until and target.valid_until < target.valid_from:
        errors.setdefault("valid_until", []).append(_("The end lies before the start."))
    if errors:
        raise LoyaltyError(errors)
    target.save()
    target.categories.set(categories)
    return target


@dataclass(frozen=True)
class _Rule:
    """A card type with what earns its stamps as sets, for matching thousands of lines."""

    card_type: StampCardType
    skus: frozenset[str]
    categories: frozenset[int]

    def counts(self, sku: str, category_id: int | None, day) -> bool:
        return self.card_type.runs_on(day) and (
            sku in self.skus or (category_id is not None and category_id in self.categories)
        )


def _rules() -> list[_Rule]:
    types = StampCardType.objects.prefetch_related("categories").order_by("pk")
    return [_Rule(t, frozenset(t.skus), frozenset(c.pk for c in t.categories.all())) for t in types]


# -- Writing stamps ----------------------------------------------------------------------------


def _voucher_expiry(card_type: StampCardType, now: datetime) -> datetime:
    """Valid through the last day (Europe/Berlin): a voucher never ends mid-afternoon."""
    last = timezone.localdate(now) + timedelta(days=card_type.voucher_valid_days)
    return datetime.combine(
        last + timedelta(days=1), time.min, tzinfo=timezone.get_current_timezone()
    )


def _fill(card: StampCard, card_type: StampCardType, *, now: datetime) -> list[StampVoucher]:
    """Turn every full card into a voucher; the next card keeps the overflow."""
    vouchers = []
    while card.stamps >= card_type.stamps_needed:
        card.stamps -= card_type.stamps_needed
        card.cards_filled += 1
        vouchers.append(
            StampVoucher(
                member_id=card.member_id,
                card=card,
                card_type=card_type,
                code=new_code(**VOUCHER_CODE),
                stamps=card_type.stamps_needed,
                reward_sku=card_type.reward_sku,
                reward_description=card_type.reward_description,
                issued_at=now,
                expires_at=_voucher_expiry(card_type, now),
            )
        )
    return vouchers


def _lock_cards(pairs: Iterable[Pair], *, now: datetime) -> dict[Pair, StampCard]:
    """The members' cards of these types, locked in pk order; missing ones are created.

    Two writers creating the same card: the loser gets an IntegrityError, and its caller
    retries once, now finding (and waiting for) the winner's row.
    """
    wanted = set(pairs)
    if not wanted:
        return {}
    found = StampCard.objects.select_for_update().filter(
        member_id__in={m for m, _t in wanted}, card_type_id__in={t for _m, t in wanted}
    )
    # The filter may lock a few cards beyond the pairs (other types of these members): harmless.
    cards = {(c.member_id, c.card_type_id): c for c in found.order_by("pk")}
    missing = [
        StampCard(member_id=m, card_type_id=t, created_at=now, updated_at=now)
        for m, t in sorted(wanted - set(cards))
    ]
    for card in bulk_create_with_ids(StampCard, missing):
        cards[(card.member_id, card.card_type_id)] = card
    return cards


def _record(
    groups: dict[Pair, list[StampEntry]],
    cards: dict[Pair, StampCard],
    *,
    now: datetime,
    source: str,
) -> list[StampVoucher]:
    """Write stamp entries, move the locked cards by exactly as much, fill, tell everyone.

    One group is one change of one member's card (an order's stamps, a till's stamps) and
    becomes one `loyalty.stamp_added` event; each voucher a `loyalty.stamp_card_full`.
    """
    entries = [e for group in groups.values() for e in group]
    if not entries:
        return []
    StampEntry.objects.bulk_create(entries)
    vouchers: list[StampVoucher] = []
    added: list[events.NewEvent] = []
    members: dict[int, int] = {}  # member id → customer id
    for pair, group in groups.items():
        card = cards[pair]
        card_type = group[0].card_type
        change = sum(e.stamps for e in group)
        card.stamps += change
        filled = _fill(card, card_type, now=now)
        vouchers.extend(filled)
        card.updated_at = now
        customer_id = members.setdefault(card.member_id, group[0].member.customer_id)
        if change or filled:
            added.append(
                events.NewEvent(
                    kind=STAMP_ADDED,
                    customer_id=customer_id,
                    payload={
                        "member_id": card.member_id,
                        "card_type_id": card_type.pk,
                        "card_name": card_type.name,
                        "change": change,
                        "stamps": card.stamps,
                        "needed": card_type.stamps_needed,
                        "cards_filled": len(filled),
                        "order_id": group[0].order_id,
                    },
                    source=source,
                    occurred_at=now,
                )
            )
    bulk_create_with_ids(StampVoucher, vouchers)
    update_values(
        StampCard,
        ["stamps", "cards_filled", "updated_at"],
        [(c.pk, c.stamps, c.cards_filled, now) for c in {c.pk: c for c in cards.values()}.values()],
    )
    full = [
        events.NewEvent(
            kind=STAMP_CARD_FULL,
            customer_id=members[v.member_id],
            payload={
                "member_id": v.member_id,
                "card_type_id": v.card_type_id,
                "card_name": v.card_type.name,
                "voucher_id": v.pk,
                "code": v.code,
                "reward": v.reward_description,
                "reward_sku": v.reward_sku,
                "expires_at": v.expires_at.isoformat(),
            },
            source=source,
            occurred_at=now,
        )
        for v in vouchers
    ]
    events.publish_many([*added, *full])
    return vouchers


def _retrying(work):
    """Run `work` in a transaction; once more if a concurrent writer created the same rows."""
    try:
        with transaction.atomic():
            return work()
    except IntegrityError:
        with transaction.atomic():
            return work()


# -- In the store ------------------------------------------------------------------------------


@dataclass
class StampResult:
    """What adding stamps did: the card as it is now and the vouchers it turned into."""

    card: StampCard
    entry: StampEntry
    vouchers: list[StampVoucher] = field(default_factory=list)


def add_stamps(
    *,
    member: Member,
    card_type: StampCardType,
    count: int,
    staff_user: AbstractBaseUser | None,
    reason: str = "",
    key: str | None = None,
    now: datetime | None = None,
) -> StampResult:
    """Stamps given at the till (the cashier screen calls this); exactly once per key.

    Refuses, writing nothing, a count outside 1…50, a card type not running today, and
    stamps without the staff member giving them.
    """
    now = now or timezone.now()
    errors: dict[str, list[str]] = {}
    if not 1 <= count <= MAX_STORE_STAMPS:
        errors["count"] = [
            _("Add between 1 and %(max)s stamps at a time.") % {"max": MAX_STORE_STAMPS}
        ]
    if not card_type.runs_on(timezone.localdate(now)):
        errors["card_type"] = [_("This stamp card is not running today.")]
    if staff_user is None:
        errors["staff_user"] = [_("Stamps in the store need the staff member giving them.")]
    if errors:
        raise LoyaltyError(errors)

    def work() -> StampResult:
        cards = _lock_cards([(member.pk, card_type.pk)], now=now)
        card = cards[(member.pk, card_type.pk)]
        if key:  # checked under the card's lock: a repeated request waits, then finds it
            existing = StampEntry.objects.filter(key=key, member=member).first()
            if existing is not None:
                return StampResult(card=card, entry=existing)
        entry = StampEntry(
            member=member,
            card_type=card_type,
            kind=StampEntryKind.STORE,
            stamps=count,
            reason=reason.strip()[:200],
            staff_user=staff_user,
            key=key or None,
        )
        vouchers = _record({(member.pk, card_type.pk): [entry]}, cards, now=now, source="store")
        return StampResult(card=card, entry=entry, vouchers=vouchers)

    return _retrying(work)


# -- Vouchers ----------------------------------------------------------------------------------


def redeem_stamp_voucher(
    *, code: str, staff_user: AbstractBaseUser | None, now: datetime | None = None
) -> StampVoucher:
    """Mark a voucher used, exactly once, even when two tills redeem it at the same moment.

    Refuses unknown, used and expired codes with the reason, writing nothing.
    """
    now = now or timezone.now()
    voucher = (
        StampVoucher.objects.select_related("member__customer", "card_type")
        .filter(code=normalise_code(code, **VOUCHER_CODE))
        .first()
    )
    if voucher is None:
        raise LoyaltyError({"code": [_("No stamp voucher has this code.")]})
    used = _("This voucher was already redeemed on %(when)s.")
    if voucher.redeemed_at is not None:
        raise LoyaltyError({"code": [used % {"when": _local(voucher.redeemed_at)}]})
    if voucher.expires_at <= now:
        expired = _("This voucher expired on %(when)s.")
        raise LoyaltyError({"code": [expired % {"when": _local(voucher.expires_at)}]})
    # The condition is the lock: of two racing tills, only one UPDATE finds the row unused.
    claimed = StampVoucher.objects.filter(
        pk=voucher.pk, redeemed_at__isnull=True, expires_at__gt=now
    ).update(redeemed_at=now, redeemed_by=staff_user)
    if not claimed:
        raise LoyaltyError({"code": [used % {"when": _local(now)}]})
    voucher.redeemed_at, voucher.redeemed_by = now, staff_user
    return voucher


def _local(moment: datetime) -> str:
    return timezone.localtime(moment).strftime("%d.%m.%Y %H:%M")


# -- Merging -----------------------------------------------------------------------------------


def merge_stamp_cards(*, survivor: Member, duplicate: Member, now: datetime | None = None) -> int:
    """Two members become one: cards of one type are added up (and filled), rows move.

    Called by `merge_members` inside its transaction, before the duplicate goes.
    """
    now = now or timezone.now()
    theirs = list(
        StampCard.objects.select_for_update().filter(member=duplicate).select_related("card_type")
    )
    if not theirs:
        return StampEntry.objects.filter(member=duplicate).update(member=survivor)
    ours = _lock_cards([(survivor.pk, c.card_type_id) for c in theirs], now=now)
    vouchers = []
    for card in theirs:
        kept = ours[(survivor.pk, card.card_type_id)]
        StampVoucher.objects.filter(card=card).update(card=kept, member=survivor)
        kept.stamps += card.stamps
        kept.cards_filled += card.cards_filled
        vouchers.extend(_fill(kept, card.card_type, now=now))
    bulk_create_with_ids(StampVoucher, vouchers)
    update_values(
        StampCard,
        ["stamps", "cards_filled", "updated_at"],
        [(c.pk, c.stamps, c.cards_filled, now) for c in ours.values()],
    )
    StampCard.objects.filter(pk__in=[c.pk for c in theirs]).delete()
    StampVoucher.objects.filter(member=duplicate).update(member=survivor)
    return StampEntry.objects.filter(member=duplicate).update(member=survivor)
