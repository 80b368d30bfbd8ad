"""Reads of the loyalty programme: settings, members, ledgers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet, Sum
from django.db.models.functions import Coalesce

from treu.customers import selectors as customer_selectors
from treu.customers.models import Customer
from treu.loyalty import kpis
from treu.loyalty.codes import normalise_code
from treu.loyalty.models import (
    SETTINGS_PK,
    Coupon,
    CreditEntry,
    EntryStatus,
    Member,
    MemberTier,
    PointsEntry,
    ProgramSettings,
    Redemption,
    Reward,
    Tier,
)
from treu.loyalty.points import Line, Rate, order_points


def program_settings() -> ProgramSettings:
    """The saved settings, or unsaved defaults: the programme starts when they are first saved."""
    return ProgramSettings.objects.filter(pk=SETTINGS_PK).first() or ProgramSettings(pk=SETTINGS_PK)


@dataclass(frozen=True)
class Example:
    goods_cents: int
    shipping_cents: int
    points: int


EXAMPLE_GOODS_CENTS, EXAMPLE_SHIPPING_CENTS, EXAMPLE_VAT_BP = 4500, 490, 700


def example_points(program: ProgramSettings) -> Example:
    """What a typical order (45 € of coffee at 7 % VAT, 4,90 € shipping) earns with these settings.

    Shown on the settings page, so "points per euro, net, rounded down" reads as a number.
    """
    earned = order_points(
        [Line(1, EXAMPLE_GOODS_CENTS, EXAMPLE_VAT_BP)],
        shipping_cents=EXAMPLE_SHIPPING_CENTS,
        discount_cents=0,
        rate=Rate(
            points_per_euro=program.points_per_euro,
            basis=program.points_basis,
            include_shipping=program.include_shipping,
            rounding=program.rounding,
        ),
    )
    return Example(EXAMPLE_GOODS_CENTS, EXAMPLE_SHIPPING_CENTS, earned.total)


def member_of(customer_id: int) -> Member | None:
    return Member.objects.filter(customer_id=customer_id).first()


def member_list(*, query: str = "") -> QuerySet[Member]:
    """Members with their customer; the search is the customer list's (number, email, name)."""
    qs = Member.objects.select_related("customer", "tier_state__tier")
    if query.strip():
        found = customer_selectors.customer_list(customer_selectors.CustomerFilters(query=query))
        return qs.filter(customer__in=found.values("pk")).order_by(
            "customer__last_name", "customer__first_name", "id"
        )
    return qs.order_by("-joined_at", "-id")


def customer_for_enrolment(text: str) -> Customer | None:
    """A customer who has not been erased, by customer number ('K00042', '42') or email."""
    if "@" in text:
        customer = customer_selectors.customer_by_email(text)
        return customer if customer is not None and not customer.erased_at else None
    number = customer_selectors.customer_number_in(text)
    return customer_selectors.customer_by_number(number) if number is not None else None


def member_detail(member_id: int) -> Member:
    return Member.objects.select_related("customer").get(pk=member_id)


def member_ledger(member: Member) -> QuerySet[PointsEntry]:
    """Newest first, with what a row links to."""
    return PointsEntry.objects.filter(member=member).select_related("order", "staff_user")


def ledger_sums(member_id: int) -> tuple[int, int]:
    """(available, pending) summed from the ledger itself: the truth the member row mirrors."""
    sums = PointsEntry.objects.filter(member_id=member_id).aggregate(
        available=Coalesce(Sum("points", filter=Q(status=EntryStatus.AVAILABLE)), 0),
        pending=Coalesce(Sum("points", filter=Q(status=EntryStatus.PENDING)), 0),
    )
    return sums["available"], sums["pending"]


# -- Rewards and coupons --------------------------------------------------------------------


# The tiers a reward is reserved for, lowest first; one query for a whole list of rewards.
_ELIGIBLE_TIERS = Prefetch("eligible_tiers", queryset=Tier.objects.order_by("rank"))


def reward_list() -> QuerySet[Reward]:
    """Every reward, with how many partner codes are left and the tiers it is reserved for."""
    return (
        Reward.objects.annotate(
            codes_left=Count("partner_codes", filter=Q(partner_codes__handed_out_at__isnull=True)),
        )
        .prefetch_related(_ELIGIBLE_TIERS)
        .order_by("-active", "points_cost", "name", "id")
    )


def reward_detail(reward_id: int) -> Reward:
    return Reward.objects.annotate(
        codes_left=Count("partner_codes", filter=Q(partner_codes__handed_out_at__isnull=True)),
        codes_total=Count("partner_codes"),
    ).get(pk=reward_id)


def rewards_on_offer(now: datetime, *, member: Member | None = None) -> QuerySet[Reward]:
    """Rewards a member could redeem now (limits, points and stock are the service's check).

    With a member: only those open to the member's tier (rewards reserved for no tier,
    and those reserved for the tier the member is in). The reserved tiers come along.
    """
    rewards = (
        Reward.objects.filter(active=True)
        .filter(Q(available_from__isnull=True) | Q(available_from__lte=now))
        .filter(Q(available_until__isnull=True) | Q(available_until__gt=now))
    )
    if member is not None:
        reserved = Reward.eligible_tiers.through.objects.filter(reward_id=OuterRef("pk"))
        rewards = rewards.filter(
            ~Exists(reserved) | Exists(reserved.filter(tier__membertier__member=member))
        )
    return rewards.prefetch_related(_ELIGIBLE_TIERS).order_by("points_cost", "name", "id")


def redemption_list(*, query: str = "") -> QuerySet[Redemption]:
    """Newest first, with member, reward, coupon and credit; the search finds a coupon code."""
    qs = Redemption.objects.select_related(
        "member__customer", "reward", "coupon", "credit", "staff_user"
    )
    text = query.strip()
    if text:
        code = normalise_code(text)
        qs = qs.filter(Q(coupon__code__icontains=code) | Q(coupon__detail_code__iexact=text))
    return qs.order_by("-created_at", "-id")


def member_coupons(member: Member, *, limit: int = 50) -> list[Coupon]:
    return list(
        Coupon.objects.filter(member=member)
        .select_related("redemption__reward")
        .order_by("-created_at", "-id")[:limit]
    )


def member_credit(member: Member, *, limit: int = 50) -> list[CreditEntry]:
    return list(CreditEntry.objects.filter(member=member).order_by("-created_at", "-id")[:limit])


def credit_sum(member_id: int) -> int:
    """The store-credit ledger's sum: the truth `Member.credit_cents` mirrors."""
    return CreditEntry.objects.filter(member_id=member_id).aggregate(s=Coalesce(Sum("cents"), 0))[
        "s"
    ]


def member_by_customer_number(number: int) -> Member | None:
    return (
        Member.objects.select_related("customer")
        .filter(customer__number=number, customer__erased_at__isnull=True)
        .first()
    )


def open_coupons(member: Member, now: datetime) -> list[Coupon]:
    """Coupons the member can still use, soonest to expire first (for the till)."""
    return list(
        Coupon.objects.filter(
            member=member, used_at__isnull=True, voided_at__isnull=True, expires_at__gt=now
        )
        .select_related("redemption__reward")
        .order_by("expires_at", "id")
    )


# -- For segments (messaging) ------------------------------------------------------------------
# `customer` is an id, or OuterRef("pk") when the caller wraps the rows in an Exists.


def members_with_points(
    *, customer, at_least: int | None = None, more_than: int | None = None
) -> QuerySet[Member]:
    """The customer's membership if its available balance is at least / more than so."""
    qs = Member.objects.filter(customer_id=customer)
    if at_least is not None:
        qs = qs.filter(points_balance__gte=at_least)
    if more_than is not None:
        qs = qs.filter(points_balance__gt=more_than)
    return qs


def members_in_tiers(*, customer, tier_ids: list[int]) -> QuerySet:
    """The customer's tier state if they hold one of these tiers now."""
    return MemberTier.objects.filter(member__customer_id=customer, tier_id__in=tier_ids)


# -- For mail templates (messaging) ------------------------------------------------------------


@dataclass(frozen=True)
class MailBalance:
    points: int
    tier: str  # the tier's name, or "" when in none


def balances_for_customers(customer_ids: list[int]) -> dict[int, MailBalance]:
    """Available points and tier name per customer who is a member (one query per batch)."""
    rows = (
        Member.objects.filter(customer_id__any_of=list(customer_ids))
        .values_list("customer_id", "points_balance", "tier_state__tier__name")
        .order_by()
    )
    return {customer: MailBalance(points, tier or "") for customer, points, tier in rows}


# -- For analytics (compiled into its set-based recompute, never iterated) -------------------


def member_facts() -> QuerySet:
    """Every member as (customer_id, joined_at) rows: who is in the programme since when."""
    return Member.objects.order_by().values("customer_id", "joined_at")


def points_facts(*, booked_before: datetime) -> QuerySet:
    """Ledger rows as (created_at, issued, taken_back, redeemed, expired), positive numbers
    as on the KPIs page (`kpis.POINT_FLOWS`)."""
    return kpis.points_facts(booked_before=booked_before)


def members_joined_before(moment: datetime) -> QuerySet:
    """Ids of the customers who had joined the programme before a moment (a subquery)."""
    return Member.objects.filter(joined_at__lt=moment).values("customer_id")
