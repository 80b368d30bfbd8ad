"""What the loyalty programme keeps about customers (see treu.core.privacy).

Points are no accounting record: on erasure the member and the whole ledger go, and with
them the member's redemptions, coupons and store credit (a coupon of an erased customer
can no longer be used; store credit is a loyalty reward, not a paid gift card).
"""

from __future__ import annotations

from treu.core import privacy
from treu.loyalty.models import (
    ActionAward,
    ActionRule,
    Coupon,
    CouponUse,
    CreditEntry,
    CreditKind,
    ExpirySettings,
    ExpiryWarning,
    Member,
    MemberCard,
    MemberTier,
    PartnerCode,
    PointsEntry,
    ProgramSettings,
    PurchaseRule,
    PurchaseRuleUse,
    Redemption,
    Referral,
    ReferralCode,
    ReferralSettings,
    Reward,
    StampCard,
    StampCardType,
    StampEntry,
    StampVoucher,
    Tier,
    TierAssignment,
    TierSettings,
    TillAction,
    TillSettings,
)


def _erase_member(customer) -> int:
    mine = {"member__customer_id": customer.pk}
    # In the order the protecting foreign keys need: restores before the spends they
    # restore, coupons and credit before their redemptions, redemptions before points.
    deleted = CreditEntry.objects.filter(kind=CreditKind.RESTORE, **mine).delete()[0]
    deleted += CreditEntry.objects.filter(**mine).delete()[0]
    deleted += Coupon.objects.filter(**mine).delete()[0]
    deleted += Redemption.objects.filter(**mine).delete()[0]
    deleted += PointsEntry.objects.filter(**mine).delete()[0]
    # Stamp cards, stamp entries and vouchers go with the member (on_delete=CASCADE).
    return deleted + Member.objects.filter(customer_id=customer.pk).delete()[0]


privacy.register(
    Member,
    customer="customer",
    fields=["joined_at", "points_balance", "pending_points", "credit_cents"],
    erasure=privacy.Erasure.DELETE,
    eraser=_erase_member,
)
privacy.register(
    PointsEntry,
    customer="member__customer",
    fields=["created_at", "kind", "points", "status", "available_at", "order__number", "reason"],
    erasure=privacy.Erasure.DELETE,
)
privacy.register(
    Redemption,
    customer="member__customer",
    fields=["created_at", "reward__name", "points"],
    erasure=privacy.Erasure.DELETE,
)
privacy.register(
    Coupon,
    customer="member__customer",
    fields=["created_at", "code", "kind", "detail_code", "expires_at", "used_at"],
    erasure=privacy.Erasure.DELETE,
)
privacy.register(
    CouponUse,
    customer="coupon__member__customer",
    fields=["shop", "order_external_id", "discount_cents", "used_at", "released_at"],
    erasure=privacy.Erasure.DELETE,
)
privacy.register(
    CreditEntry,
    customer="member__customer",
    fields=["created_at", "kind", "cents", "shop", "order_external_id"],
    erasure=privacy.Erasure.DELETE,
)
privacy.register(
    ReferralCode,
    customer="member__customer",
    fields=["code", "clicks", "created_at"],
    erasure=privacy.Erasure.DELETE,
)
# Registered for the friend; the advocate's side goes with their member (on_delete CASCADE).
privacy.register(
    Referral,
    customer="friend",
    fields=["created_at", "status", "flags", "ip_hash", "review_reason", "rewarded_at"],
    erasure=privacy.Erasure.DELETE,
    retention="The hashed IP address is blanked 30 days after the referral.",
)
privacy.not_personal(ReferralSettings, reason="Amounts and limits of the referral programme.")
privacy.not_personal(
    ProgramSettings, reason="The programme's and its points' names, not about a person."
)
privacy.not_personal(Reward, reason="The catalogue: reward names and descriptions.")
privacy.not_personal(
    PartnerCode, reason="A partner's voucher codes; who got one is on the member's coupon."
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
privacy.register(
    PurchaseRuleUse,
    customer="member__customer",
    fields=["created_at", "rule__name", "order__number", "year", "voided_at"],
    erasure=privacy.Erasure.DELETE,  # with the member (on_delete CASCADE)
)
privacy.not_personal(
    PurchaseRule, reason="An earning rule: its name, window, goods and points, not a person."
)
privacy.register(
    ActionAward,
    customer="entry__member__customer",
    fields=["created_at", "rule__name", "trigger", "reference", "network", "year"],
    erasure=privacy.Erasure.DELETE,  # with the ledger row it belongs to (on_delete CASCADE)
)
privacy.not_personal(ActionRule, reason="Which actions earn how many points; no person.")

# The till: the card code and the bookings go with the member (on_delete=CASCADE).
privacy.register(
    MemberCard,
    customer="member__customer",
    fields=["code", "issued_at"],
    erasure=privacy.Erasure.DELETE,
)
privacy.register(
    TillAction,
    customer="member__customer",
    fields=["created_at", "kind", "amount_cents", "stamps", "undone_at"],
    erasure=privacy.Erasure.DELETE,
)
privacy.not_personal(TillSettings, reason="Which store the till books into, and its VAT rate.")
