"""Loyalty's models, a package split by sub-domain: `points` (settings, members, the points
ledger), `rewards` (catalogue, redemptions, coupons, store credit), `stamps` (stamp
cards), `referrals`, `tiers` (tiers and points expiry), `purchase_rules` (earning rules
for purchases), `action_rules` (earning rules for actions) and `store` (member cards, the
till). Import from here.
"""

from treu.loyalty.models.action_rules import (
    EVENT_NAME,
    ActionAward,
    ActionRule,
    ActionTrigger,
    SocialNetwork,
)
from treu.loyalty.models.points import (
    SETTINGS_PK,
    EntryKind,
    EntryStatus,
    Member,
    Membership,
    PointsBasis,
    PointsEntry,
    ProgramSettings,
    Rounding,
)
from treu.loyalty.models.purchase_rules import (
    RULE_TAG_PREFIX,
    PurchaseRule,
    PurchaseRuleKind,
    PurchaseRuleUse,
)
from treu.loyalty.models.referrals import (
    REFERRAL_SETTINGS_PK,
    AdvocateReward,
    Referral,
    ReferralCode,
    ReferralFlag,
    ReferralSettings,
    ReferralStatus,
)
from treu.loyalty.models.rewards import (
    CHECKOUT_KINDS,
    Coupon,
    CouponUse,
    CreditEntry,
    CreditKind,
    PartnerCode,
    Redemption,
    Reward,
    RewardKind,
)
from treu.loyalty.models.rules import RuleLimit
from treu.loyalty.models.stamps import (
    StampCard,
    StampCardType,
    StampEntry,
    StampEntryKind,
    StampVoucher,
)
from treu.loyalty.models.store import (
    TILL_SETTINGS_PK,
    MemberCard,
    TillAction,
    TillActionKind,
    TillSettings,
    VatRate,
)
from treu.loyalty.models.tiers import (
    ExpiryMode,
    ExpirySettings,
    ExpiryWarning,
    MemberTier,
    Tier,
    TierAssignment,
    TierBasis,
    TierPeriod,
    TierSettings,
)

__all__ = [
    "CHECKOUT_KINDS", "SETTINGS_PK", "Coupon", "CouponUse", "CreditEntry", "CreditKind",
    "EntryKind", "EntryStatus", "Member", "Membership", "PartnerCode", "PointsBasis",
    "PointsEntry", "ProgramSettings", "Redemption", "Reward", "RewardKind", "Rounding",
    "StampCard", "StampCardType", "StampEntry", "StampEntryKind", "StampVoucher",
    "ExpiryMode", "ExpirySettings", "ExpiryWarning", "MemberTier", "Tier", "TierAssignment",
    "TierBasis", "TierPeriod", "TierSettings",
    "REFERRAL_SETTINGS_PK", "AdvocateReward", "Referral", "ReferralCode", "ReferralFlag",
    "ReferralSettings", "ReferralStatus",
    "RULE_TAG_PREFIX", "PurchaseRule", "PurchaseRuleKind", "PurchaseRuleUse",
    "EVENT_NAME", "ActionAward", "ActionRule", "ActionTrigger", "SocialNetwork",
    "RuleLimit",
    "TILL_SETTINGS_PK", "MemberCard", "TillAction", "TillActionKind", "TillSettings", "VatRate",
]  # fmt: skip
