"""The till (Kasse): member cards, bookings at the till, and undoing the last one.

Every booking runs under the member's row lock and is recorded as a `TillAction` with the
staff member and the form's key: a double tap or a retried request finds the first
booking and changes nothing. A store purchase is a commerce order of the store's shop
(one line), so revenue, tiers by spend and the KPIs count it and its points come from the
ordinary award path (pending for the return window, tier multiplier included). Undoing
goes the ordinary ways back too: the order is cancelled (its points follow), stamps are
taken back by a ledger row, a redemption gives its points back and voids its coupon.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING

from django.db import transaction
from django.db.models import F, Sum
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from treu.commerce import selectors as commerce_selectors
from treu.commerce import services as commerce_services
from treu.commerce.models import OrderStatus, ShopKind
from treu.core import events
from treu.core.money import format_euro
from treu.core.sequences import next_number
from treu.loyalty import selectors
from treu.loyalty.codes import new_code
from treu.loyalty.models import (
    TILL_SETTINGS_PK,
    Coupon,
    CreditEntry,
    CreditKind,
    EntryKind,
    EntryStatus,
    Member,
    MemberCard,
    MemberTier,
    PointsEntry,
    Redemption,
    Reward,
    RewardKind,
    StampCardType,
    StampEntry,
    StampEntryKind,
    TillAction,
    TillActionKind,
    TillSettings,
    VatRate,
)
from treu.loyalty.services.ledger import (
    LoyaltyError,
    _append,
    _lock_member,
    _lock_members,
    _point_name,
    book_credit,
)
from treu.loyalty.services.rewards import redeem_reward
from treu.loyalty.services.stamps import _lock_cards, _record, add_stamps
from treu.loyalty.services.tiers import take_back_undone_upgrade
from treu.loyalty.store_events import REDEMPTION_CANCELLED

if TYPE_CHECKING:
    from django.contrib.auth.base_user import AbstractBaseUser

    from treu.commerce.models import Shop

# Long enough to notice a typo or a wrong customer, short enough that nothing has been
# built on the booking yet (the customer has not left the shop).
UNDO_WINDOW = timedelta(minutes=5)
# A till amount above this is a typo (12500 for 125,00), not a purchase.
MAX_PURCHASE_CENTS = 10_000_00
# 16 characters, 80 random bits: printed on the card and in its QR code.
CARD_CODE = {"length": 16, "group": 4}
TILL_UNDO = "till_undo"  # PointsEntry.source_rule of points given back by an undo
ORDER_SEQUENCE = "till_order"


# -- Settings and the store's shop -------------------------------------------------------------


def till_settings() -> TillSettings:
    """The saved settings, or unsaved defaults (no store chosen, 19 % VAT)."""
    return TillSettings.objects.select_related("shop").filter(pk=TILL_SETTINGS_PK).first() or (
        TillSettings(pk=TILL_SETTINGS_PK)
    )


def _is_store(shop: Shop) -> bool:
    return shop.is_store or shop.kind == ShopKind.POS


def store_shop(settings: TillSettings) -> Shop | None:
    """Where till purchases are booked: the chosen store, or the only active one there is."""
    if settings.shop is not None:
        return settings.shop if settings.shop.active else None
    stores = [s for s in commerce_selectors.shops() if s.active and _is_store(s)]
    return stores[0] if len(stores) == 1 else None


def _free_shop_code(name: str) -> str:
    base = slugify(name)[:40] or "laden"
    taken = set(commerce_selectors.shops().values_list("code", flat=True))
    code, n = base, 2
    while code in taken:
        code, n = f"{base}-{n}", n + 1
    return code


@transaction.atomic
def update_till_settings(
    *, shop: Shop | None, tax_rate_bp: int, new_store_name: str = ""
) -> TillSettings:
    """Choose the store (or create it by name) and the VAT rate of till purchases."""
    errors: dict[str, list[str]] = {}
    name = new_store_name.strip()
    if name:
        try:
            shop = commerce_services.create_shop(
                code=_free_shop_code(name), name=name, kind=ShopKind.POS, is_store=True
            )
        except commerce_services.ShopRejected as error:
            errors["new_store_name"] = [m for ms in error.message_dict.values() for m in ms]
    elif shop is None:
        errors["shop"] = [_("Choose the store, or enter the name of a new one.")]
    elif not _is_store(shop):
        errors["shop"] = [_("%(shop)s is an online shop, not a store.") % {"shop": shop.name}]
    if tax_rate_bp not in VatRate.values:
        errors["tax_rate_bp"] = [_("Choose one of the VAT rates offered.")]
    if errors:
        raise LoyaltyError(errors)
    settings, _created = TillSettings.objects.update_or_create(
        pk=TILL_SETTINGS_PK, defaults={"shop": shop, "tax_rate_bp": tax_rate_bp}
    )
    return settings


# -- Member cards ------------------------------------------------------------------------------


@transaction.atomic
def issue_member_card(
    *,
    member: Member,
    staff_user: AbstractBaseUser | None,
    replace: bool = False,
    now: datetime | None = None,
) -> MemberCard:
    """The member's card (made once); `replace` gives a new code, and the old one stops working."""
    now = now or timezone.now()
    _lock_members([member.pk])  # two staff issuing the first card at once make one
    card = MemberCard.objects.filter(member=member).first()
    if card is not None and not replace:
        return card
    if card is None:
        card = MemberCard(member=member)
    card.code, card.issued_at, card.issued_by = new_code(**CARD_CODE), now, staff_user
    card.save()
    return card


# -- Bookings ----------------------------------------------------------------------------------


def _check(key: str, staff_user: AbstractBaseUser | None) -> None:
    errors: dict[str, list[str]] = {}
    if not key or len(key) > TillAction._meta.get_field("key").max_length:
        errors["key"] = [_("The form has expired; please reload the page.")]
    if staff_user is None:
        errors["staff_user"] = [_("A booking at the till needs the staff member making it.")]
    if errors:
        raise LoyaltyError(errors)


def _replayed(key: str, member: Member) -> TillAction | None:
    """The booking this form already made (checked under the member's lock), if any."""
    existing = TillAction.objects.filter(key=key).first()
    if existing is not None and existing.member_id != member.pk:
        raise LoyaltyError({"key": [_("This form was used for another member; reload the page.")]})
    return existing


@transaction.atomic
def record_store_purchase(
    *,
    member: Member,
    amount_cents: int,
    staff_user: AbstractBaseUser | None,
    key: str,
    now: datetime | None = None,
) -> tuple[TillAction, bool]:
    """A purchase in the store: an order of the store's shop, earning as every order does.

    Returns (action, created); the same key again returns the first booking.
    """
    now = now or timezone.now()
    _check(key, staff_user)
    if not 1 <= amount_cents <= MAX_PURCHASE_CENTS:
        raise LoyaltyError(
            {
                "amount": [
                    _("Enter an amount between 0,01 € and %(max)s.")
                    % {"max": format_euro(MAX_PURCHASE_CENTS)}
                ]
            }
        )
    member = _lock_member(member, now=now)
    existing = _replayed(key, member)
    if existing is not None:
        return existing, False
    settings = till_settings()
    shop = store_shop(settings)
    if shop is None:
        raise LoyaltyError(
            {"amount": [_("No store is set up for the till yet: the owner chooses it first.")]}
        )
    tier_before = MemberTier.objects.filter(member=member).first()
    number = next_number(ORDER_SEQUENCE)
    result = commerce_services.ingest_order(
        commerce_services.OrderInput(
            shop=shop,
            external_id=f"till-{key}",
            number=f"Kasse-{number:06d}",
            customer_id=member.customer_id,
            # Handed over at the counter: the return window runs from now.
            status=OrderStatus.DELIVERED,
            placed_at=now,
            paid_at=now,
            delivered_at=now,
            lines=[
                commerce_services.LineInput(
                    title=_("Store purchase"),
                    quantity=1,
                    unit_price_cents=amount_cents,
                    tax_rate_bp=settings.tax_rate_bp,
                )
            ],
            total_cents=amount_cents,
            source="till",
        )
    )
    action = TillAction.objects.create(
        member=member,
        kind=TillActionKind.PURCHASE,
        staff_user=staff_user,
        key=key,
        amount_cents=amount_cents,
        order=result.order,
        tier_before_id=tier_before.tier_id if tier_before else None,
        tier_held_before=tier_before.held_until if tier_before else None,
        tier_notice_before=tier_before.notice_for if tier_before else None,
        created_at=now,
    )
    return action, True


@transaction.atomic
def give_store_stamps(
    *,
    member: Member,
    card_type: StampCardType,
    count: int,
    staff_user: AbstractBaseUser | None,
    key: str,
    now: datetime | None = None,
) -> tuple[TillAction, bool]:
    """Stamps at the till (through `add_stamps`), as a booking that can be undone."""
    now = now or timezone.now()
    _check(key, staff_user)
    member = _lock_members([member.pk])[member.pk]  # member, then card: the order merging uses
    existing = _replayed(key, member)
    if existing is not None:
        return existing, False
    result = add_stamps(
        member=member,
        card_type=card_type,
        count=count,
        staff_user=staff_user,
        key=f"till:{key}",
        now=now,
    )
    action = TillAction.objects.create(
        member=member,
        kind=TillActionKind.STAMPS,
        staff_user=staff_user,
        key=key,
        card_type=card_type,
        stamps=count,
        stamp_entry=result.entry,
        cards_filled=len(result.vouchers),
        created_at=now,
    )
    return action, True


@transaction.atomic
def redeem_at_till(
    *,
    member: Member,
    reward: Reward,
    staff_user: AbstractBaseUser | None,
    key: str,
    now: datetime | None = None,
) -> tuple[TillAction, bool]:
    """A reward redeemed at the till (through `redeem_reward`), as a booking that can be undone."""
    now = now or timezone.now()
    _check(key, staff_user)
    member = _lock_member(member, now=now)
    existing = _replayed(key, member)
    if existing is not None:
        return existing, False
    redemption = redeem_reward(
        member=member,
        reward=reward,
        staff_user=staff_user,
        key=f"till:{key}",
        source="till",
        now=now,
    )
    action = TillAction.objects.create(
        member=member,
        kind=TillActionKind.REDEMPTION,
        staff_user=staff_user,
        key=key,
        redemption=redemption,
        created_at=now,
    )
    return action, True


# -- Undo --------------------------------------------------------------------------------------


def _local_time(moment: datetime) -> str:
    return timezone.localtime(moment).strftime("%H:%M")


def undo_refusal(action: TillAction, *, user: AbstractBaseUser, now: datetime) -> str | None:
    """Why `user` may not undo this booking now (German), or None: the cheap checks.

    The service checks them again under the lock, and what depends on the booking too.
    """
    if action.undone_at is not None:
        return _("This booking was already undone at %(time)s.") % {
            "time": _local_time(action.undone_at)
        }
    if now - action.created_at > UNDO_WINDOW:
        return _(
            "Only the last 5 minutes can be undone; this booking is from %(time)s. "
            "Ask the owner to correct it in the back office."
        ) % {"time": _local_time(action.created_at)}
    if action.staff_user_id != user.pk and not user.has_perm("loyalty.undo_any_tillaction"):
        return _("Only the staff member who made this booking (or the owner) can undo it.")
    return None


@transaction.atomic
def undo_till_action(
    *, action: TillAction, staff_user: AbstractBaseUser, now: datetime | None = None
) -> TillAction:
    """Take back the member's last booking at the till, within 5 minutes.

    Refuses, writing nothing, anything older, undone already, someone else's (unless the
    user may undo any), not the member's last booking, or something the member has
    already built on: purchase points spent, stamps that filled a card, a coupon used,
    store credit spent, a partner's code handed out.
    """
    now = now or timezone.now()
    member = _lock_member(action.member, now=now)
    action = TillAction.objects.select_related("order", "card_type", "redemption__reward").get(
        pk=action.pk
    )
    refusal = undo_refusal(action, user=staff_user, now=now)
    if refusal is None:
        latest = TillAction.objects.filter(member=member).order_by("-created_at", "-id").first()
        if latest is not None and latest.pk != action.pk:
            refusal = _("Only the member's last booking can be undone.")
    if refusal is not None:
        raise LoyaltyError({"action": [refusal]})
    if action.kind == TillActionKind.PURCHASE:
        _undo_purchase(action, member, now=now)
    elif action.kind == TillActionKind.STAMPS:
        _undo_stamps(action, member, staff_user=staff_user, now=now)
    else:
        _undo_redemption(action, member, staff_user=staff_user, now=now)
    TillAction.objects.filter(pk=action.pk).update(undone_at=now, undone_by=staff_user)
    action.undone_at, action.undone_by = now, staff_user
    return action


def _undo_purchase(action: TillAction, member: Member, *, now: datetime) -> None:
    program = selectors.program_settings()
    available = PointsEntry.objects.filter(
        order_id=action.order_id, status=EntryStatus.AVAILABLE
    ).aggregate(s=Sum("points"))["s"]
    if (available or 0) > member.points_balance:
        raise LoyaltyError(
            {
                "action": [
                    _(
                        "The %(points)s of this purchase have already been redeemed; "
                        "the purchase can no longer be undone here."
                    )
                    % {"points": _point_name(program)}
                ]
            }
        )
    try:
        # Cancelling publishes order.cancelled: its points (and anything else an order
        # brings) are taken back by the same subscribers as for any cancelled order.
        commerce_services.cancel_order(action.order, when=now, source="till")
    except commerce_services.OrderRejected as error:
        raise LoyaltyError({"action": error.messages}) from None
    # After the commit, once order.cancelled has taken the points back (tiers by points
    # count them): an upgrade the purchase alone brought goes with it.
    transaction.on_commit(
        partial(
            take_back_undone_upgrade,
            member_id=member.pk,
            tier_before_id=action.tier_before_id,
            held_before=action.tier_held_before,
            notice_before=action.tier_notice_before,
            booked_at=action.created_at,
            # When it runs: the take-back rows are written at the time of their subscriber.
        ),
        robust=True,
    )


def _undo_stamps(
    action: TillAction, member: Member, *, staff_user: AbstractBaseUser, now: datetime
) -> None:
    if action.cards_filled:
        raise LoyaltyError(
            {
                "action": [
                    _(
                        "These stamps filled a card and its voucher has been issued; the "
                        "voucher stays valid, so the stamps cannot be undone."
                    )
                ]
            }
        )
    pair = (member.pk, action.card_type_id)
    cards = _lock_cards([pair], now=now)
    card = cards[pair]
    if card.stamps < action.stamps:
        raise LoyaltyError(
            {
                "action": [
                    _(
                        "Only %(left)s stamps are still on the card (some were taken back "
                        "or filled a card since); the stamps cannot be undone."
                    )
                    % {"left": card.stamps}
                ]
            }
        )
    entry = StampEntry(
        member=member,
        card_type=action.card_type,
        kind=StampEntryKind.REVERSE,
        stamps=-action.stamps,
        cause="undo",
        reason=_("Undone at the till"),
        staff_user=staff_user,
        key=f"undo:{action.pk}",
    )
    _record({pair: [entry]}, cards, now=now, source="till")


def _undo_redemption(
    action: TillAction, member: Member, *, staff_user: AbstractBaseUser, now: datetime
) -> None:
    redemption: Redemption = action.redemption
    reward = redemption.reward
    if reward.kind == RewardKind.PARTNER:
        raise LoyaltyError(
            {
                "action": [
                    _(
                        "The partner's code has been handed out and may already be in use; "
                        "this redemption cannot be undone."
                    )
                ]
            }
        )
    coupon = Coupon.objects.filter(redemption=redemption).first()
    if coupon is not None:
        # The same condition a checkout's use needs: of the two, exactly one wins.
        voided = Coupon.objects.filter(
            pk=coupon.pk, used_at__isnull=True, voided_at__isnull=True
        ).update(voided_at=now)
        if not voided:
            coupon.refresh_from_db(fields=["used_at"])
            when = timezone.localtime(coupon.used_at or now).strftime("%d.%m.%Y %H:%M")
            raise LoyaltyError(
                {
                    "action": [
                        _(
                            "Coupon %(code)s was already used on %(when)s; the redemption "
                            "can no longer be undone."
                        )
                        % {"code": coupon.code, "when": when}
                    ]
                }
            )
    credit = CreditEntry.objects.filter(redemption=redemption).first()
    if credit is not None:
        member.refresh_from_db(fields=["credit_cents"])
        if member.credit_cents < credit.cents:
            raise LoyaltyError(
                {
                    "action": [
                        _(
                            "The store credit has already been spent (%(left)s left); the "
                            "redemption can no longer be undone."
                        )
                        % {"left": format_euro(member.credit_cents)}
                    ]
                }
            )
        book_credit(member.pk, kind=CreditKind.REVOKE, cents=-credit.cents)
    if reward.kind == RewardKind.EXPERIENCE:
        Reward.objects.filter(pk=reward.pk, seats_taken__gt=0).update(
            seats_taken=F("seats_taken") - 1
        )
    program = selectors.program_settings()
    refund = PointsEntry(
        member=member,
        kind=EntryKind.ADJUST,
        points=redemption.points,
        status=EntryStatus.AVAILABLE,
        available_at=now,
        reason=(_("Redemption undone: %(reward)s") % {"reward": reward.name})[:200],
        staff_user=staff_user,
        source_rule=TILL_UNDO,
        key=f"undo:{action.pk}",
    )
    _append([(member, [refund])], program=program, now=now, source="till")
    Redemption.objects.filter(pk=redemption.pk).update(cancelled_at=now)
    events.publish(
        REDEMPTION_CANCELLED,
        customer=member.customer,
        payload={
            "member_id": member.pk,
            "redemption_id": redemption.pk,
            "reward_id": reward.pk,
            "reward": reward.name,
            "points": redemption.points,
            "code": coupon.code if coupon is not None else "",
            "credit_cents": credit.cents if credit is not None else 0,
            "balance": member.points_balance,
            "point_name": _point_name(program),
        },
        source="till",
        occurred_at=now,
    )
