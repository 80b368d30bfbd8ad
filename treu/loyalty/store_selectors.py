"""Reads of the till: finding a member by card, number, email or name, and the member's view."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

import segno
from django.db.models import Q, QuerySet, Sum
from django.utils import timezone

from treu.customers import selectors as customer_selectors
from treu.customers.models import Customer
from treu.loyalty import selectors, tier_selectors
from treu.loyalty.codes import normalise_code
from treu.loyalty.models import (
    Coupon,
    Member,
    MemberCard,
    PointsEntry,
    ProgramSettings,
    Reward,
    StampCard,
    StampCardType,
    StampVoucher,
    TillAction,
    TillActionKind,
)
from treu.loyalty.services.store import CARD_CODE

MAX_MATCHES = 8  # a short list the cashier can scan with the eye
RECENT_ACTIONS = 5
LAST_SHOWN = timedelta(minutes=30)  # the last booking's panel; older ones only in the list


@dataclass(frozen=True)
class Lookup:
    members: list[Member] = field(default_factory=list)
    more: bool = False  # more matches than shown: type more of the name
    customer: Customer | None = None  # found by number or email, but not a member


def find_members(text: str) -> Lookup:
    """Members by card code (scanned or typed), customer number ("42", "#42", "K000042"),
    email, or the start of a name; at most MAX_MATCHES."""
    text = text.strip()
    if not text:
        return Lookup()
    members = Member.objects.select_related("customer").filter(customer__erased_at__isnull=True)
    code = normalise_code(text, **CARD_CODE)
    if "-" in code and "@" not in text:  # 16 letters and digits: a card (or a long name)
        by_card = list(members.filter(card__code=code))
        if by_card:
            return Lookup(members=by_card)
    number = customer_selectors.customer_number_in(text)
    if number is not None or "@" in text:
        customer = (
            customer_selectors.customer_by_number(number)
            if number is not None
            else customer_selectors.customer_by_email(text)
        )
        if customer is None or customer.erased_at:
            return Lookup()
        found = list(members.filter(customer=customer))
        return Lookup(members=found) if found else Lookup(customer=customer)
    found = list(selectors.member_list(query=text)[: MAX_MATCHES + 1])
    return Lookup(members=found[:MAX_MATCHES], more=len(found) > MAX_MATCHES)


def member_card(member: Member) -> MemberCard | None:
    return MemberCard.objects.filter(member=member).first()


def card_qr_svg(code: str) -> str:
    """The card's QR code as inline SVG (made here, no image from anywhere else)."""
    return segno.make(code, error="m").svg_inline(scale=1, omitsize=True, border=2)


@dataclass(frozen=True)
class CardRow:
    card_type: StampCardType
    stamps: int
    cards_filled: int
    running: bool

    @property
    def dots(self) -> list[bool]:
        """One per stamp of a full card, filled or not (drawn for cards up to 20 stamps)."""
        needed = self.card_type.stamps_needed
        return [i < self.stamps for i in range(needed)] if needed <= 20 else []


@dataclass(frozen=True)
class LastAction:
    action: TillAction
    points: int | None  # what a purchase earned (pending or available)
    refusal: str | None  # why the user cannot undo it, or None


@dataclass(frozen=True)
class TillView:
    member: Member
    program: ProgramSettings
    progress: tier_selectors.TierProgress
    cards: list[CardRow]
    affordable: list[Reward]
    next_reward: Reward | None
    next_missing: int  # points still missing for next_reward
    coupons: list[Coupon]
    vouchers: list[StampVoucher]
    actions: list[TillAction]
    last: LastAction | None


def till_view(member: Member, *, user, now: datetime | None = None) -> TillView:
    """Everything the till shows of one member: a fixed number of queries (pinned in tests)."""
    from treu.loyalty.services.store import undo_refusal

    now = now or timezone.now()
    program = selectors.program_settings()
    cards = {
        c.card_type_id: c
        for c in StampCard.objects.filter(member=member).select_related("card_type")
    }
    rows = []
    for card_type in stamp_types_running(now):
        card = cards.pop(card_type.pk, None)
        rows.append(
            CardRow(card_type, card.stamps if card else 0, card.cards_filled if card else 0, True)
        )
    rows += [CardRow(c.card_type, c.stamps, c.cards_filled, False) for c in cards.values()]
    offer = list(selectors.rewards_on_offer(now))
    affordable = [r for r in offer if r.points_cost <= member.points_balance]
    later = [r for r in offer if r.points_cost > member.points_balance]
    actions = list(
        TillAction.objects.filter(member=member)
        .select_related(
            "staff_user", "undone_by", "card_type", "redemption__reward", "redemption__coupon"
        )
        .order_by("-created_at", "-id")[:RECENT_ACTIONS]
    )
    last = None
    if actions and now - actions[0].created_at <= LAST_SHOWN:
        action = actions[0]
        points = None
        if action.kind == TillActionKind.PURCHASE:
            points = PointsEntry.objects.filter(order_id=action.order_id).aggregate(
                s=Sum("points")
            )["s"]
        last = LastAction(action, points, undo_refusal(action, user=user, now=now))
    return TillView(
        member=member,
        program=program,
        progress=tier_selectors.tier_progress(member, now=now, point_name=program.point_name),
        cards=rows,
        affordable=affordable,
        next_reward=later[0] if later else None,
        next_missing=later[0].points_cost - member.points_balance if later else 0,
        coupons=selectors.open_coupons(member, now),
        vouchers=list(
            StampVoucher.objects.filter(member=member, redeemed_at__isnull=True, expires_at__gt=now)
            .select_related("card_type")
            .order_by("expires_at", "id")
        ),
        actions=actions,
        last=last,
    )


def stamp_types_running(now: datetime | None = None) -> QuerySet[StampCardType]:
    """Card types collecting stamps today (Europe/Berlin)."""
    today = timezone.localdate(now or timezone.now())
    return StampCardType.objects.filter(
        Q(valid_until__isnull=True) | Q(valid_until__gte=today), valid_from__lte=today
    ).order_by("name", "id")
