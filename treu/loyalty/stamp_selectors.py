"""Reads of the stamp cards: card types, a member's cards and vouchers."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet

from treu.loyalty.models import Member, StampCard, StampCardType, StampVoucher

MEMBER_VOUCHERS = 50


def stamp_card_types() -> QuerySet[StampCardType]:
    """Card types with their categories and how many members collect and vouchers exist.

    Three queries for any number of types (the list page pins it).
    """
    return (
        StampCardType.objects.prefetch_related("categories")
        .annotate(
            collectors=Count("cards", distinct=True),
            vouchers=Count("cards__vouchers", distinct=True),
            redeemed=Count(
                "cards__vouchers",
                filter=Q(cards__vouchers__redeemed_at__isnull=False),
                distinct=True,
            ),
        )
        .order_by("name", "id")
    )


def stamp_card_type(card_type_id: int) -> StampCardType:
    return StampCardType.objects.prefetch_related("categories").get(pk=card_type_id)


@dataclass(frozen=True)
class MemberStamps:
    cards: list[StampCard]
    vouchers: list[StampVoucher]


def member_stamps(member: Member) -> MemberStamps:
    """The member's cards and latest vouchers, for the member page: two queries."""
    cards = StampCard.objects.filter(member=member).select_related("card_type")
    vouchers = (
        StampVoucher.objects.filter(member=member)
        .select_related("card_type", "redeemed_by")
        .order_by("-issued_at", "-id")[:MEMBER_VOUCHERS]
    )
    return MemberStamps(cards=list(cards.order_by("card_type__name")), vouchers=list(vouchers))
