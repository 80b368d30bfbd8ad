"""The rewards catalogue: keeping rewards and partner codes, and redeeming a reward.

Redeeming takes the points through `redeem_points` under the member's lock, so the ledger
rules (never overspent, exactly once per key) are the same as everywhere; what the member
gets (a coupon, or store credit) is written in the same transaction.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from treu.core import events
from treu.core.money import format_euro
from treu.loyalty import selectors, tier_selectors
from treu.loyalty.codes import new_coupon_code
from treu.loyalty.events import COUPON_ISSUED, REWARD_REDEEMED
from treu.loyalty.models import (
    Coupon,
    CreditKind,
    Member,
    PartnerCode,
    Redemption,
    Reward,
    RewardKind,
    Tier,
)
from treu.loyalty.services.ledger import (
    LoyaltyError,
    _lock_member,
    _point_name,
    book_credit,
    redeem_points,
)

if TYPE_CHECKING:
    from django.contrib.auth.base_user import AbstractBaseUser

REWARD_FIELDS = (
    "name", "description", "kind", "points_cost", "active", "available_from", "available_until",
    "limit_per_member", "coupon_valid_days", "amount_cents", "percent", "max_discount_cents",
    "product_sku", "access_code", "seats", "partner_name",
)  # fmt: skip

# The value fields each kind uses; the others are emptied, so a changed kind leaves no
# stale value behind (a former percent on what is now a fixed discount).
KIND_FIELDS: dict[str, frozenset[str]] = {
    RewardKind.FIXED_AMOUNT: frozenset({"amount_cents"}),
    RewardKind.PERCENT: frozenset({"percent", "max_discount_cents"}),
    RewardKind.FREE_PRODUCT: frozenset({"product_sku"}),
    RewardKind.FREE_SHIPPING: frozenset(),
    RewardKind.STORE_CREDIT: frozenset({"amount_cents"}),
    RewardKind.PERK: frozenset({"access_code"}),
    RewardKind.EXPERIENCE: frozenset({"seats"}),
    RewardKind.PARTNER: frozenset({"partner_name"}),
}
VALUE_FIELDS = frozenset().union(*KIND_FIELDS.values())
MAX_AMOUNT_CENTS = 100_000_00  # 100.000 €: far above any reward, far below a typo's damage
MAX_KEY_LENGTH = 90  # the points row's key is "reward:<key>" in 100 characters


def _kind_errors(reward: Reward) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    kind = reward.kind
    needs_amount = kind in (RewardKind.FIXED_AMOUNT, RewardKind.STORE_CREDIT)
    if needs_amount and not 1 <= (reward.amount_cents or 0) <= MAX_AMOUNT_CENTS:
        errors["amount_cents"] = [
            _("Enter an amount between 0,01 € and %(max)s.")
            % {"max": format_euro(MAX_AMOUNT_CENTS)}
        ]
    if kind == RewardKind.PERCENT:
        if not reward.percent or not 1 <= reward.percent <= 100:
            errors["percent"] = [_("Enter a percentage between 1 and 100.")]
        if reward.max_discount_cents is not None and not (
            1 <= reward.max_discount_cents <= MAX_AMOUNT_CENTS
        ):
            errors["max_discount_cents"] = [
                _("The cap must be at least 0,01 €; leave it empty for none.")
            ]
    if kind == RewardKind.FREE_PRODUCT and not reward.product_sku:
        errors["product_sku"] = [_("Enter the SKU of the free product.")]
    if kind == RewardKind.EXPERIENCE:
        if not reward.seats:
            errors["seats"] = [_("Enter how many seats the event has.")]
        elif reward.seats < reward.seats_taken:
            errors["seats"] = [
                _("%(taken)s seats are already taken; the event cannot have fewer.")
                % {"taken": reward.seats_taken}
            ]
    if kind == RewardKind.PARTNER and not reward.partner_name:
        errors["partner_name"] = [_("Enter the partner's name.")]
    if (
        reward.available_from
        and reward.available_until
        and reward.available_until <= reward.available_from
    ):
        errors["available_until"] = [_("The end must lie after the start.")]
    return errors


@transaction.atomic
def save_reward(
    *, reward: Reward | None = None, eligible_tiers: Iterable[Tier] | None = None, **fields: Any
) -> Reward:
    """Create a reward, or change one; German messages per field when it does not add up.

    `eligible_tiers`: the tiers whose members may redeem it (empty: everyone); None leaves
    a changed reward's tiers as they are.
    """
    unknown = set(fields) - set(REWARD_FIELDS)
    if unknown:
        raise TypeError(f"Not a reward field: {sorted(unknown)}")
    if reward is not None and reward.pk:
        reward = Reward.objects.select_for_update().get(pk=reward.pk)  # seats_taken is current
    else:
        reward = Reward()
    for name, value in fields.items():
        setattr(reward, name, value.strip() if isinstance(value, str) else value)
    for name in VALUE_FIELDS - KIND_FIELDS.get(reward.kind, frozenset()):
        setattr(reward, name, Reward._meta.get_field(name).get_default())
    errors: dict[str, list[str]] = {}
    try:
        reward.full_clean(validate_unique=False, validate_constraints=False)
    except ValidationError as error:
        errors.update(error.message_dict)
    for name, messages in _kind_errors(reward).items():
        errors.setdefault(name, []).extend(messages)
    if errors:
        raise LoyaltyError(errors)
    reward.save()
    if eligible_tiers is not None:
        reward.eligible_tiers.set(list(eligible_tiers))
    return reward


def _split_codes(text: str) -> list[str]:
    codes = [c.strip() for c in re.split(r"[\n\r,;\t]+", text)]
    return list(dict.fromkeys(c for c in codes if c))


@transaction.atomic
def add_partner_codes(*, reward: Reward, text: str) -> int:
    """Add a partner's voucher codes (one a line, or separated by commas); returns new ones.

    Codes already in the list are skipped, so pasting an updated list again is harmless.
    """
    if reward.kind != RewardKind.PARTNER:
        raise LoyaltyError({"codes": [_("Only partner perks have a list of codes.")]})
    codes = _split_codes(text)
    if not codes:
        raise LoyaltyError({"codes": [_("Paste at least one code, one per line.")]})
    too_long = [c for c in codes if len(c) > 64]
    if too_long:
        raise LoyaltyError(
            {"codes": [_("Codes have at most 64 characters: %(code)s") % {"code": too_long[0]}]}
        )
    before = PartnerCode.objects.filter(reward=reward).count()
    PartnerCode.objects.bulk_create(
        [PartnerCode(reward=reward, code=code) for code in codes], ignore_conflicts=True
    )
    return PartnerCode.objects.filter(reward=reward).count() - before


def _availability_error(reward: Reward, now: datetime) -> str | None:
    if not reward.active:
        return _("This reward is not offered at the moment.")
    if reward.available_from and now < reward.available_from:
        return _("This reward can only be redeemed from %(date)s.") % {
            "date": timezone.localtime(reward.available_from).strftime("%d.%m.%Y %H:%M")
        }
    if reward.available_until and now >= reward.available_until:
        return _("This reward could only be redeemed until %(date)s.") % {
            "date": timezone.localtime(reward.available_until).strftime("%d.%m.%Y %H:%M")
        }
    return None


def _tier_error(reward: Reward, member: Member) -> str | None:
    """Why the member's tier may not redeem this reward, or None (no tiers listed: everyone).

    The tier counts as it is at the moment of redeeming; a coupon already issued stays
    valid when the member moves down later.
    """
    tiers = list(reward.eligible_tiers.order_by("rank"))
    if not tiers:
        return None
    state = tier_selectors.member_tier(member)
    if state is not None and state.tier_id in {t.pk for t in tiers}:
        return None
    names = [t.name for t in tiers]
    listed = names[0]
    if len(names) > 1:
        listed = _("%(some)s or %(last)s") % {"some": ", ".join(names[:-1]), "last": names[-1]}
    return _("This reward is reserved for %(tiers)s members.") % {"tiers": listed}


@transaction.atomic
def redeem_reward(
    *,
    member: Member,
    reward: Reward,
    staff_user: AbstractBaseUser | None = None,
    key: str | None = None,
    source: str = "",
    now: datetime | None = None,
) -> Redemption:
    """Exchange a member's points for a reward: a coupon, or store credit. Once per key.

    Refuses, writing nothing, a reward not on offer, one reserved for tiers the member is
    not in, one past its limit per member, more points than the member has, an event
    without seats, a partner perk without codes.
    """
    now = now or timezone.now()
    if key and len(key) > MAX_KEY_LENGTH:
        raise LoyaltyError(
            {"key": [_("The key may have at most %(n)d characters.") % {"n": MAX_KEY_LENGTH}]}
        )
    member = _lock_member(member, now=now)
    if key:  # under the member's lock: a second request with the key waits, then finds it
        existing = Redemption.objects.filter(key=key).first()  # keys are unique overall
        if existing is not None and existing.member_id != member.pk:
            raise LoyaltyError({"key": [_("This key was already used for another member.")]})
        if existing is not None:
            return existing
    reward = Reward.objects.get(pk=reward.pk)  # as it is now, not as the caller loaded it
    refused = _availability_error(reward, now) or _tier_error(reward, member)
    if refused:
        raise LoyaltyError({"reward": [refused]})
    if reward.limit_per_member is not None:
        # Counted under the member's lock, so two redemptions at once cannot both pass.
        done = Redemption.objects.filter(
            member=member, reward=reward, cancelled_at__isnull=True
        ).count()
        if done >= reward.limit_per_member:
            raise LoyaltyError(
                {
                    "reward": [
                        _("This reward can be redeemed at most %(n)s times per member.")
                        % {"n": reward.limit_per_member}
                    ]
                }
            )
    entry = redeem_points(
        member=member,
        points=reward.points_cost,
        reason=reward.name,
        staff_user=staff_user,
        key=f"reward:{key}" if key else None,
        now=now,
    )
    detail_code = reward.access_code
    if reward.kind == RewardKind.EXPERIENCE:
        _take_seat(reward)
    if reward.kind == RewardKind.PARTNER:
        detail_code = _draw_partner_code(reward, now=now)
    redemption = Redemption.objects.create(
        member=member,
        reward=reward,
        points=reward.points_cost,
        entry=entry,
        staff_user=staff_user,
        source=source[:20],
        key=key or None,
    )
    program = selectors.program_settings()
    credit_cents = 0
    if reward.kind == RewardKind.STORE_CREDIT:
        credit_cents = reward.amount_cents or 0
        book_credit(member.pk, kind=CreditKind.ISSUE, cents=credit_cents, redemption=redemption)
    events.publish(
        REWARD_REDEEMED,
        customer=member.customer,
        payload={
            "member_id": member.pk,
            "redemption_id": redemption.pk,
            "reward_id": reward.pk,
            "reward": reward.name,
            "kind": reward.kind,
            "points": reward.points_cost,
            "credit_cents": credit_cents,
            "balance": member.points_balance - reward.points_cost,
            "point_name": _point_name(program),
        },
        source=source,
    )
    if reward.kind != RewardKind.STORE_CREDIT:
        issue_coupon(
            member=member,
            label=reward.name,
            valid_days=reward.coupon_valid_days,
            now=now,
            source=source,
            redemption=redemption,
            kind=reward.kind,
            amount_cents=reward.amount_cents,
            percent=reward.percent,
            max_discount_cents=reward.max_discount_cents,
            product_sku=reward.product_sku,
            detail_code=detail_code,
        )
    return redemption


def _take_seat(reward: Reward) -> None:
    # One conditional UPDATE: of two members taking the last seat, one finds it taken.
    taken = Reward.objects.filter(pk=reward.pk, seats_taken__lt=F("seats")).update(
        seats_taken=F("seats_taken") + 1
    )
    if not taken:
        raise LoyaltyError({"reward": [_("This event is fully booked: no seats are left.")]})


def _draw_partner_code(reward: Reward, *, now: datetime) -> str:
    # skip_locked: concurrent redemptions take different codes instead of queueing for one.
    free = (
        PartnerCode.objects.select_for_update(skip_locked=True)
        .filter(reward=reward, handed_out_at__isnull=True)
        .order_by("pk")
        .first()
    )
    if free is None:
        raise LoyaltyError(
            {
                "reward": [
                    _("%(partner)s has no vouchers left; this perk cannot be redeemed now.")
                    % {"partner": reward.partner_name or reward.name}
                ]
            }
        )
    PartnerCode.objects.filter(pk=free.pk).update(handed_out_at=now)
    return free.code


def issue_coupon(
    *,
    member: Member,
    label: str,
    valid_days: int,
    now: datetime,
    source: str,
    redemption: Redemption | None = None,
    **value: Any,
) -> Coupon:
    """A new single-use coupon of the member's (`value`: kind, amounts, SKU …), announced.

    For a redeemed reward and for a referred friend's welcome discount alike; the caller
    holds the transaction.
    """
    coupon = Coupon.objects.create(
        code=new_coupon_code(),
        redemption=redemption,
        member=member,
        # Calendar days in Europe/Berlin: the same wall-clock time, across summer time too.
        expires_at=timezone.localtime(now) + timedelta(days=valid_days),
        **value,
    )
    events.publish(
        COUPON_ISSUED,
        customer=member.customer,
        payload={
            "member_id": member.pk,
            "coupon_id": coupon.pk,
            "code": coupon.code,
            "kind": coupon.kind,
            "reward": label,
            "expires_at": coupon.expires_at.isoformat(),
            "expires_on": timezone.localtime(coupon.expires_at).strftime("%d.%m.%Y"),
        },
        source=source,
    )
    return coupon


@transaction.atomic
def issue_automation_coupons(
    *,
    customer_ids: Iterable[int],
    label: str,
    valid_days: int,
    source: str,
    now: datetime | None = None,
    amount_cents: int | None = None,
    percent: int | None = None,
) -> dict[int, str]:
    """A single-use coupon for each of these customers who is a member (an automation's
    birthday gift, a win-back discount): a fixed amount or a percentage. Returns the codes
    by customer id; customers who are not members get none. The caller makes it once."""
    now = now or timezone.now()
    errors: dict[str, list[str]] = {}
    if (amount_cents is None) == (percent is None):
        errors["value"] = [_("Give either an amount or a percentage.")]
    elif amount_cents is not None and not 0 < amount_cents <= 100_000:
        errors["amount_cents"] = [_("Enter an amount between 0,01 € and 1.000 €.")]
    elif percent is not None and not 0 < percent <= 100:
        errors["percent"] = [_("Enter a percentage between 1 and 100.")]
    if not 1 <= valid_days <= 365:
        errors["valid_days"] = [_("A coupon is valid for 1 to 365 days.")]
    if errors:
        raise LoyaltyError(errors)
    if amount_cents is not None:
        value = {"kind": RewardKind.FIXED_AMOUNT, "amount_cents": amount_cents}
    else:
        value = {"kind": RewardKind.PERCENT, "percent": percent}
    members = Member.objects.filter(customer_id__in=list(customer_ids)).select_related("customer")
    codes = {}
    for member in members.order_by("pk"):
        coupon = issue_coupon(
            member=member, label=label, valid_days=valid_days, now=now, source=source, **value
        )
        codes[member.customer_id] = coupon.code
    return codes
