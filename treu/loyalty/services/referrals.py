"""Referrals: codes, recording a friend (with the fraud checks), review, rewarding.

The advocate is rewarded at most once per friend: the reward is written in the same
transaction as the conditional move of the referral from `pending` to `rewarded` (the row
is locked first), and a points reward carries the ledger key `referral:<id>`, which the
database holds unique. Only the friend's first order counts, and only once its return
window has passed; a first order cancelled or returned makes the referral void.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import re
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from treu.commerce import selectors as commerce_selectors
from treu.commerce.models import OrderStatus
from treu.core import events
from treu.customers import selectors as customer_selectors
from treu.customers import services as customer_services
from treu.customers.models import SourceChannel, fold
from treu.loyalty import referral_selectors, selectors
from treu.loyalty.codes import new_coupon_code
from treu.loyalty.events import REFERRAL_RECORDED, REFERRAL_REWARDED
from treu.loyalty.models import (
    REFERRAL_SETTINGS_PK,
    AdvocateReward,
    Coupon,
    CreditKind,
    EntryKind,
    EntryStatus,
    Member,
    Referral,
    ReferralCode,
    ReferralFlag,
    ReferralSettings,
    ReferralStatus,
    RewardKind,
)
from treu.loyalty.services.ledger import (
    LoyaltyError,
    NewEntry,
    _append,
    _lock_member,
    _point_name,
    book_credit,
)
from treu.loyalty.services.programme import join_program, started
from treu.loyalty.services.purchases import _available_at
from treu.loyalty.services.rewards import issue_coupon

if TYPE_CHECKING:
    from django.contrib.auth.base_user import AbstractBaseUser

    from treu.commerce.models import Order
    from treu.customers.models import Customer

REFERRAL = "referral"  # PointsEntry.source_rule of an advocate's reward
REFERRAL_SETTINGS_FIELDS = (
    "active", "advocate_reward", "advocate_points", "advocate_credit_cents",
    "friend_discount_cents", "friend_coupon_valid_days", "max_referrals_per_ip_week",
)  # fmt: skip
# A shop may tell treu about the referral just after the order went in: an order placed
# this shortly before the referral still counts as the friend's first, not as an earlier one.
GRACE = timedelta(hours=1)
IP_WINDOW = timedelta(days=7)
# The hashed address serves the weekly check only; it is forgotten well after that.
IP_RETENTION = timedelta(days=30)


class ReferralRefused(LoyaltyError):
    """A referral that cannot be recorded; `reason` is a stable code for programs."""

    def __init__(self, reason: str, message: str, field: str = "code") -> None:
        self.reason = reason
        super().__init__({field: [message]})


@transaction.atomic
def update_referral_settings(**fields: Any) -> ReferralSettings:
    unknown = set(fields) - set(REFERRAL_SETTINGS_FIELDS)
    if unknown:
        raise TypeError(f"Not a referral setting: {sorted(unknown)}")
    current = ReferralSettings.objects.select_for_update().filter(pk=REFERRAL_SETTINGS_PK).first()
    current = current or ReferralSettings(pk=REFERRAL_SETTINGS_PK)
    for name, value in fields.items():
        setattr(current, name, value)
    try:
        current.full_clean(validate_unique=False)
    except ValidationError as error:
        raise LoyaltyError(error.message_dict) from None
    current.save()
    return current


def referral_code_for(*, member: Member) -> ReferralCode:
    """The member's personal code, made on first use (a member who never shares needs none)."""
    existing = ReferralCode.objects.filter(member=member).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            return ReferralCode.objects.create(member=member, code=new_coupon_code())
    except IntegrityError:  # made a moment ago by another request
        return ReferralCode.objects.get(member=member)


def record_click(*, code: str) -> ReferralCode | None:
    """Count an opened referral link; None for an unknown code."""
    found = referral_selectors.referral_code(code)
    if found is not None:
        ReferralCode.objects.filter(pk=found.pk).update(clicks=F("clicks") + 1)
    return found


def hash_ip(ip: str) -> str:
    """A keyed hash of the truncated address (IPv4 /24, IPv6 /48); "" for no address.

    Truncated, so a single household is not singled out; keyed with the secret key, so the
    hash cannot be reversed by trying all 2^24 networks.
    """
    try:
        address = ipaddress.ip_address(ip.strip())
    except ValueError:
        return ""
    prefix = 24 if address.version == 4 else 48
    network = ipaddress.ip_network(f"{address}/{prefix}", strict=False)
    digest = hmac.new(settings.SECRET_KEY.encode(), str(network).encode(), hashlib.sha256)
    return digest.hexdigest()[:32]


def _email_key(email: str | None) -> str:
    # "anna.k+freunde@gmail.com" is the same inbox as "annak@gmail.com".
    if not email or "@" not in email:
        return ""
    local, domain = email.strip().lower().rsplit("@", 1)
    local = local.split("+", 1)[0]
    if domain in ("gmail.com", "googlemail.com"):
        local, domain = local.replace(".", ""), "gmail.com"
    return f"{local}@{domain}"


def _fold(text: str) -> str:
    # "Müller" on the account, "MUELLER" on the card: the same name (as customer search folds).
    return re.sub(r"[^a-z0-9]+", "", fold(text))


def _name_key(first: str, last: str) -> str:
    # Order does not matter: "Meier Anna" on a card is "Anna Meier".
    return "".join(sorted(_fold(p) for p in f"{first} {last}".split() if _fold(p)))


def _address_keys(customer: Customer) -> set[tuple[str, str]]:
    return {
        (_fold(street), _fold(postcode))
        for street, postcode in customer.addresses.values_list("street", "postcode")
    }


def fraud_flags(
    *,
    advocate: Customer,
    friend: Customer,
    payment_name: str = "",
    ip_hash: str = "",
    now: datetime,
    program: ReferralSettings,
) -> list[str]:
    """Why a referral looks like the advocate referring themselves, or like a farm."""
    flags = []
    if _email_key(friend.email) and _email_key(friend.email) == _email_key(advocate.email):
        flags.append(ReferralFlag.SAME_EMAIL)
    if _address_keys(friend) & _address_keys(advocate):
        flags.append(ReferralFlag.SAME_ADDRESS)
    advocate_name = _name_key(advocate.first_name, advocate.last_name)
    names = {_name_key(friend.first_name, friend.last_name), _name_key(payment_name, "")}
    if advocate_name and advocate_name in names:
        flags.append(ReferralFlag.SAME_NAME)
    if commerce_selectors.has_orders_before(friend.pk, now - GRACE):
        flags.append(ReferralFlag.NOT_NEW)
    if ip_hash:
        recent = Referral.objects.filter(ip_hash=ip_hash, created_at__gte=now - IP_WINDOW).count()
        if recent + 1 > program.max_referrals_per_ip_week:
            flags.append(ReferralFlag.IP_BURST)
    return [str(flag) for flag in flags]


@transaction.atomic
def record_referral(
    *,
    code: str,
    friend: Customer,
    ip: str = "",
    payment_name: str = "",
    source: str = "",
    now: datetime | None = None,
) -> tuple[Referral, bool]:
    """A friend came with an advocate's code: (referral, created). Once per friend.

    A clean referral makes the friend a member and gives them the welcome coupon at once;
    a suspicious one waits for review and gets the coupon only when approved. The same
    friend with the same code again gets the first referral back.
    """
    now = now or timezone.now()
    program = referral_selectors.referral_settings()
    if not program.active or started(selectors.program_settings()) is None:
        raise ReferralRefused("inactive", _("The referral programme is not active."))
    found = referral_selectors.referral_code(code)
    if found is None:
        raise ReferralRefused("unknown", _("There is no referral code like this."))
    advocate = found.member
    if friend.erased_at:
        raise ReferralRefused("erased", _("This customer has been erased."), "customer")
    if advocate.customer_id == friend.pk:
        raise ReferralRefused("self_referral", _("Customers cannot refer themselves."))
    existing = Referral.objects.filter(friend=friend).first()
    if existing is not None:
        if existing.advocate_id == advocate.pk:
            return existing, False
        raise ReferralRefused(
            "already_referred", _("This customer was already referred by someone else.")
        )
    ip_hash = hash_ip(ip)
    flags = fraud_flags(
        advocate=advocate.customer,
        friend=friend,
        payment_name=payment_name,
        ip_hash=ip_hash,
        now=now,
        program=program,
    )
    try:
        with transaction.atomic():
            referral = Referral.objects.create(
                advocate=advocate,
                friend=friend,
                status=ReferralStatus.REVIEW if flags else ReferralStatus.PENDING,
                flags=flags,
                ip_hash=ip_hash,
                source=source[:20],
                created_at=now,
            )
    except IntegrityError:  # the same friend recorded a moment ago by another request
        referral = Referral.objects.get(friend=friend)
        if referral.advocate_id != advocate.pk:
            raise ReferralRefused(
                "already_referred", _("This customer was already referred by someone else.")
            ) from None
        return referral, False
    if not flags:
        _give_welcome_coupon(referral, program, now=now, source=source)
    events.publish(
        REFERRAL_RECORDED,
        customer=advocate.customer,
        payload={
            "member_id": advocate.pk,
            "referral_id": referral.pk,
            "status": referral.status,
            "flags": flags,
        },
        source=source,
    )
    return referral, True


@transaction.atomic
def record_referral_of_new_customer(
    *,
    code: str,
    email: str,
    first_name: str = "",
    last_name: str = "",
    ip: str = "",
    payment_name: str = "",
    source: str = "",
    now: datetime | None = None,
) -> tuple[Referral, bool]:
    """The friend by email (created when unknown) and their referral, all or nothing.

    For a checkout that knows the friend only as a new account: a refused referral leaves
    no customer behind. An email already known is that customer (and the checks apply).
    """
    if referral_selectors.referral_code(code) is None:  # before creating anyone
        raise ReferralRefused("unknown", _("There is no referral code like this."))
    friend = customer_selectors.customer_by_email(email)
    if friend is None:
        friend = customer_services.create_customer(
            email=email,
            first_name=first_name,
            last_name=last_name,
            source_channel=SourceChannel.API,
            event_source=source,
        )
    return record_referral(
        code=code, friend=friend, ip=ip, payment_name=payment_name, source=source, now=now
    )


def _give_welcome_coupon(
    referral: Referral, program: ReferralSettings, *, now: datetime, source: str
) -> Coupon:
    # A coupon belongs to a member: taking up a friend's invitation is joining the programme.
    member = join_program(customer=referral.friend, now=now, source=source or REFERRAL)
    coupon = issue_coupon(
        member=member,
        label=_("Welcome discount for a referred friend"),
        valid_days=program.friend_coupon_valid_days,
        now=now,
        source=source,
        kind=RewardKind.FIXED_AMOUNT,
        amount_cents=program.friend_discount_cents,
    )
    Referral.objects.filter(pk=referral.pk).update(coupon=coupon)
    referral.coupon = coupon
    return coupon


@transaction.atomic
def review_referral(
    *,
    referral: Referral,
    approve: bool,
    reason: str,
    staff_user: AbstractBaseUser | None,
    now: datetime | None = None,
) -> Referral:
    """Staff decide on a suspicious referral; who, when and why stay on the row.

    Approved, it goes on like a clean one (the friend gets the welcome coupon now);
    rejected, nobody gets anything.
    """
    now = now or timezone.now()
    errors: dict[str, list[str]] = {}
    if not reason.strip():
        errors["reason"] = [_("Give a reason: it is kept with the referral.")]
    if staff_user is None:
        errors["staff_user"] = [_("A review needs the staff member making it.")]
    if errors:
        raise LoyaltyError(errors)
    locked = Referral.objects.select_for_update().select_related("friend").get(pk=referral.pk)
    if locked.status != ReferralStatus.REVIEW:
        raise LoyaltyError({"reason": [_("This referral has already been reviewed.")]})
    locked.status = ReferralStatus.PENDING if approve else ReferralStatus.REJECTED
    locked.reviewed_by = staff_user
    locked.reviewed_at = now
    locked.review_reason = reason.strip()[:200]
    locked.save(update_fields=["status", "reviewed_by", "reviewed_at", "review_reason"])
    if approve and not locked.friend.erased_at:
        program = referral_selectors.referral_settings()
        _give_welcome_coupon(locked, program, now=now, source="backoffice")
    return locked


def reward_referrals(*, now: datetime | None = None) -> int:
    """Reward every advocate whose friend's first order is past its return window.

    Run hourly by the worker; safe to run any time and twice. Returns referrals rewarded.
    """
    now = now or timezone.now()
    waiting = Referral.objects.filter(status=ReferralStatus.PENDING).order_by("pk")
    return sum(_settle_referral(pk, now=now) for pk in waiting.values_list("pk", flat=True))


def _first_order_gone(order: Order) -> bool:
    return order.status == OrderStatus.CANCELLED or order.returns_count > 0


@transaction.atomic
def _settle_referral(referral_id: int, *, now: datetime) -> int:
    referral = (
        Referral.objects.select_for_update()
        .filter(pk=referral_id, status=ReferralStatus.PENDING)
        .first()
    )
    if referral is None:  # rewarded, voided or rejected meanwhile
        return 0
    order = commerce_selectors.first_order_since(
        referral.friend_id, placed_since=referral.created_at - GRACE
    )
    if order is None:
        return 0
    referral.order = order
    if _first_order_gone(order):
        referral.status = ReferralStatus.VOID
        referral.save(update_fields=["status", "order"])
        return 0
    program = selectors.program_settings()
    if _available_at(order, program) > now:
        return 0
    settings_ = referral_selectors.referral_settings()
    advocate = _lock_member(referral.advocate, now=now)
    if settings_.advocate_reward == AdvocateReward.CREDIT:
        referral.reward_cents = settings_.advocate_credit_cents
        book_credit(advocate.pk, kind=CreditKind.ISSUE, cents=referral.reward_cents)
    else:
        referral.reward_points = settings_.advocate_points
        entry = NewEntry(
            kind=EntryKind.EARN,
            points=referral.reward_points,
            status=EntryStatus.AVAILABLE,
            available_at=now,
            source_rule=REFERRAL,
            key=f"referral:{referral.pk}",
            reason=_("Referral of a friend"),
        )
        _append([(advocate, [entry])], program=program, now=now, source=REFERRAL)
    referral.status = ReferralStatus.REWARDED
    referral.rewarded_at = now
    referral.save(update_fields=["status", "order", "rewarded_at", "reward_points", "reward_cents"])
    events.publish(
        REFERRAL_REWARDED,
        customer=advocate.customer,
        payload={
            "member_id": advocate.pk,
            "referral_id": referral.pk,
            "points": referral.reward_points,
            "credit_cents": referral.reward_cents,
            "point_name": _point_name(program),
        },
        source=REFERRAL,
    )
    return 1


def forget_old_ip_hashes(*, now: datetime | None = None) -> int:
    """Blank hashed addresses older than the retention: the weekly check needs no more."""
    now = now or timezone.now()
    old = Referral.objects.filter(created_at__lt=now - IP_RETENTION).exclude(ip_hash="")
    return old.update(ip_hash="")


def merge_referrals(*, survivor: Customer, duplicate: Customer) -> int:
    """Merge handler for customers: a person is referred at most once, so the survivor's
    referral wins and the duplicate's goes; without one, the duplicate's moves over."""
    theirs = Referral.objects.filter(friend_id=duplicate.pk)
    if Referral.objects.filter(friend_id=survivor.pk).exists():
        theirs.delete()
        return 0
    return theirs.update(friend_id=survivor.pk)
