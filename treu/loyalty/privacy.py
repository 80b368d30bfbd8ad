"""What the loyalty programme keeps about customers (see treu.core.privacy).

Points are no accounting record: on erasure the member and the whole ledger go.
"""

from __future__ import annotations

from treu.core import privacy
from treu.loyalty.models import (
    Member,
    PointsEntry,
    ProgramSettings,
    StampCard,
    StampCardType,
    StampEntry,
    StampVoucher,
)


def _erase_member(customer) -> int:
    # Stamp cards, stamp entries and vouchers go with the member (on_delete=CASCADE).
    deleted = PointsEntry.objects.filter(member__customer_id=customer.pk).delete()[0]
    return deleted + Member.objects.filter(customer_id=customer.pk).delete()[0]


privacy.register(
    Member,
    customer="customer",
    fields=["joined_at", "points_balance", "pending_points"],
    erasure=privacy.Erasure.DELETE,
    eraser=_erase_member,
)
privacy.register(
    PointsEntry,
    customer="member__customer",
    fields=["created_at", "kind", "points", "status", "available_at", "order__number", "reason"],
    erasure=privacy.Erasure.DELETE,
)
privacy.not_personal(
    ProgramSettings, reason="The programme's and its points' names, not about a person."
)
privacy.register(
    StampCard,
    customer="member__customer",
    fields=["card_type__name", "stamps", "cards_filled"],
    erasure=privacy.Erasure.DELETE,
)
privacy.register(
    StampEntry,
    customer="member__customer",
    fields=["created_at", "card_type__name", "kind", "stamps", "cause", "order__number", "reason"],
    erasure=privacy.Erasure.DELETE,
)
privacy.register(
    StampVoucher,
    customer="member__customer",
    fields=["code", "reward_description", "issued_at", "expires_at", "redeemed_at"],
    erasure=privacy.Erasure.DELETE,
)
privacy.not_personal(
    StampCardType, reason="A kind of stamp card the shop offers, not about a person."
)
