"""What the loyalty programme keeps about customers (see treu.core.privacy).

Points are no accounting record: on erasure the member and the whole ledger go.
"""

from __future__ import annotations

from treu.core import privacy
from treu.loyalty.models import (
    ExpirySettings,
    ExpiryWarning,
    Member,
    MemberTier,
    PointsEntry,
    ProgramSettings,
    Tier,
    TierAssignment,
    TierSettings,
)


def _erase_member(customer) -> int:
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
    MemberTier,
    customer="member__customer",
    fields=["tier__name", "held_until", "pinned"],
    erasure=privacy.Erasure.DELETE,
)
privacy.register(
    TierAssignment,
    customer="member__customer",
    fields=["created_at", "tier__name", "reason"],
    erasure=privacy.Erasure.DELETE,
)
privacy.register(
    ExpiryWarning,
    customer="member__customer",
    fields=["created_at", "expires_at", "points"],
    erasure=privacy.Erasure.DELETE,
)
privacy.not_personal(Tier, reason="A tier's name and its benefits, not about a person.")
privacy.not_personal(TierSettings, reason="How members qualify for tiers.")
privacy.not_personal(ExpirySettings, reason="Whether and when points expire.")
