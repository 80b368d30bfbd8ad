"""What a shop's checkout does with loyalty: consume coupons and spend store credit once,
and give both back when the order is cancelled.

Exactly once: a coupon is taken by one conditional UPDATE (`used_at IS NULL`), so of two
checkouts racing for one code the database lets one win; a partial unique index (one
unreleased use per coupon) backs it up. Store credit moves under the member's row lock,
like points, and the database refuses a negative balance.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from treu.core import events
from treu.core.money import format_euro
from treu.loyalty.codes import normalise_code
from treu.loyalty.events import COUPON_RELEASED, COUPON_USED
from treu.loyalty.models import Coupon, CouponUse, CreditEntry, CreditKind, Member
from treu.loyalty.services.ledger import LoyaltyError, _lock_members, book_credit


class CouponRefused(LoyaltyError):
    """A checkout may not take this coupon; `reason` is a stable code for programs."""

    def __init__(self, reason: str, message: str) -> None:
        self.reason = reason
        super().__init__({"code": [message]})


def find_coupon(code: str) -> Coupon:
    """The coupon with this code (as typed), or CouponRefused("unknown")."""
    coupon = Coupon.objects.select_related("member").filter(code=normalise_code(code)).first()
    if coupon is None:
        raise CouponRefused("unknown", _("There is no coupon with this code."))
    return coupon


@transaction.atomic
def consume_coupon(
    *,
    code: str,
    basket_cents: int,
    shop: str,
    order_external_id: str,
    customer_id: int | None = None,
    now: datetime | None = None,
) -> tuple[CouponUse, bool]:
    """Use a coupon for an order: (use, created). The same order asking again gets its use.

    Refuses (CouponRefused, nothing written) unknown, expired, used, another customer's
    coupons, and codes that are no discount (a perk's code, an invitation).
    """
    now = now or timezone.now()
    coupon = find_coupon(code)
    mine = CouponUse.objects.filter(
        coupon=coupon, shop=shop, order_external_id=order_external_id, released_at__isnull=True
    )
    existing = mine.first()
    if existing is not None:
        return existing, False
    refusal = coupon.refusal(now=now, customer_id=customer_id)
    if refusal is not None:
        raise CouponRefused(*refusal)
    # voided_at: a redemption undone at the till a moment ago must not be taken either.
    won = Coupon.objects.filter(pk=coupon.pk, used_at__isnull=True, voided_at__isnull=True).update(
        used_at=now
    )
    if not won:
        # Another checkout took it a moment ago: perhaps this very order, sent twice at once.
        existing = mine.first()
        if existing is not None:
            return existing, False
        if Coupon.objects.filter(pk=coupon.pk, voided_at__isnull=False).exists():
            raise CouponRefused("voided", _("This coupon was cancelled."))
        raise CouponRefused("used", _("This coupon has already been used."))
    use = CouponUse.objects.create(
        coupon=coupon,
        shop=shop,
        order_external_id=order_external_id,
        basket_cents=basket_cents,
        discount_cents=coupon.discount_for(basket_cents),
        used_at=now,
    )
    events.publish_many([_coupon_event(COUPON_USED, use, coupon, now=now)])
    return use, True


def _coupon_event(kind: str, use: CouponUse, coupon: Coupon, *, now: datetime) -> events.NewEvent:
    return events.NewEvent(
        kind=kind,
        customer_id=coupon.member.customer_id,
        payload={
            "member_id": coupon.member_id,
            "coupon_id": coupon.pk,
            "code": coupon.code,
            "shop": use.shop,
            "order_external_id": use.order_external_id,
            "discount_cents": use.discount_cents,
        },
        source="checkout",
        occurred_at=now,
    )


def _not_enough_credit(balance: int) -> str:
    return _("Not enough store credit: %(balance)s available.") % {"balance": format_euro(balance)}


@transaction.atomic
def spend_store_credit(
    *,
    member: Member,
    cents: int,
    shop: str,
    order_external_id: str,
) -> tuple[CreditEntry, bool]:
    """Pay part of an order with store credit: (entry, created). Once per order.

    The same order asking again for the same amount gets its entry; another amount is
    refused (give back the first by cancelling the order, or ask the shop's staff).
    """
    if cents <= 0:
        raise LoyaltyError({"amount_cents": [_("Spend at least one cent.")]})
    member = _lock_members([member.pk])[member.pk]
    existing = CreditEntry.objects.filter(
        member=member,
        kind=CreditKind.SPEND,
        shop=shop,
        order_external_id=order_external_id,
        restored_by__isnull=True,
    ).first()
    if existing is not None:
        if -existing.cents == cents:
            return existing, False
        raise LoyaltyError(
            {
                "amount_cents": [
                    _("Store credit of %(amount)s was already spent on this order.")
                    % {"amount": format_euro(-existing.cents)}
                ]
            }
        )
    if cents > member.credit_cents:
        raise LoyaltyError({"amount_cents": [_not_enough_credit(member.credit_cents)]})
    entry = book_credit(
        member.pk,
        kind=CreditKind.SPEND,
        cents=-cents,
        shop=shop,
        order_external_id=order_external_id,
    )
    return entry, True


@dataclass(frozen=True)
class Released:
    coupons: list[str]
    credit_cents: int


@transaction.atomic
def release_order_rewards(
    *, shop: str, order_external_id: str, now: datetime | None = None
) -> Released:
    """Give back what a cancelled order used: its coupons and its store credit. Idempotent.

    A released coupon can be used again until it expires; restored credit is a ledger row
    of its own pointing at the spend, so a spend is restored at most once.
    """
    now = now or timezone.now()
    uses = list(
        CouponUse.objects.select_for_update(of=("self",))
        .select_related("coupon__member")
        .filter(shop=shop, order_external_id=order_external_id, released_at__isnull=True)
        .order_by("pk")
    )
    for use in uses:
        CouponUse.objects.filter(pk=use.pk).update(released_at=now)
        Coupon.objects.filter(pk=use.coupon_id).update(used_at=None)
    events.publish_many(_coupon_event(COUPON_RELEASED, u, u.coupon, now=now) for u in uses)
    spends = CreditEntry.objects.filter(
        kind=CreditKind.SPEND,
        shop=shop,
        order_external_id=order_external_id,
        restored_by__isnull=True,
    )
    _lock_members(spends.values_list("member_id", flat=True))  # held until the commit
    restored = 0
    for spend in spends.order_by("pk"):  # read again under the members' locks
        book_credit(
            spend.member_id,
            kind=CreditKind.RESTORE,
            cents=-spend.cents,
            shop=shop,
            order_external_id=order_external_id,
            restores=spend,
        )
        restored += -spend.cents
    return Released(coupons=[use.coupon.code for use in uses], credit_cents=restored)
