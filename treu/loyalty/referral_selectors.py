"""Reads of the referral programme: its settings, codes and the review queue."""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet

from treu.loyalty.codes import normalise_code
from treu.loyalty.models import (
    REFERRAL_SETTINGS_PK,
    Member,
    Referral,
    ReferralCode,
    ReferralSettings,
    ReferralStatus,
)


def referral_settings() -> ReferralSettings:
    """The saved settings, or unsaved defaults (referrals off until switched on)."""
    found = ReferralSettings.objects.filter(pk=REFERRAL_SETTINGS_PK).first()
    return found or ReferralSettings(pk=REFERRAL_SETTINGS_PK)


def referral_code(code: str) -> ReferralCode | None:
    """The code as typed (case, spaces and dashes do not matter), with its member."""
    normalised = normalise_code(code)
    if not normalised:
        return None
    return ReferralCode.objects.select_related("member__customer").filter(code=normalised).first()


def referral_list(*, status: str = "") -> QuerySet[Referral]:
    """The review queue (oldest first: first come, first decided) or all referrals."""
    qs = Referral.objects.select_related(
        "advocate__customer", "friend", "reviewed_by", "coupon", "order"
    )
    if status == ReferralStatus.REVIEW:
        return qs.filter(status=status).order_by("created_at", "id")
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("-created_at", "-id")


def referral_counts(member: Member) -> tuple[int, int]:
    """(friends referred, of them rewarded) in one query."""
    counts = Referral.objects.filter(advocate=member).aggregate(
        referred=Count("id"), rewarded=Count("id", filter=Q(status=ReferralStatus.REWARDED))
    )
    return counts["referred"], counts["rewarded"]
