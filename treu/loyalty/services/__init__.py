"""Writes of the loyalty programme. Every change of points goes through `ledger._append`.

Rules every service keeps:
- A member's row is locked (`select_for_update`) before their points change, and the
  member's due pending points are released first, so a decision is taken on the
  current balance and the release job cannot race a reversal.
- `Member.points_balance` / `pending_points` change in the same transaction as the
  ledger rows, by exactly their sums; the database refuses a negative balance.
- Purchase points and their reversals carry an idempotency key: a replayed event
  changes nothing.

A package split by sub-domain: `ledger` (locks, the one way into the ledger, release,
redeeming, adjusting), `programme` (settings, joining, merging), `purchases` (points for
orders), `rewards` (the catalogue, redeeming a reward for a coupon or store credit),
`checkout` (consuming coupons and store credit, giving them back), `stamps` (stamp
cards, the till, vouchers), `stamp_orders` (stamps for orders), `referrals`, `tiers`
(tiers and their recompute), `expiry` (points expiry and its warnings), `purchase_rules`
(earning rules for purchases), `action_rules` (earning rules for actions: birthdays,
reviews, newsletter …), `store` (member cards, the till and its undo). Import from here.
"""

from treu.loyalty.services.action_rules import (
    ACTION_RULE_FIELDS,
    ActionOutcome,
    award_anniversary_points,
    award_birthday_points,
    record_action,
    record_action_of_event,
    save_action_rule,
    staff_reference,
)
from treu.loyalty.services.checkout import (
    CouponRefused,
    Released,
    consume_coupon,
    find_coupon,
    release_order_rewards,
    spend_store_credit,
)
from treu.loyalty.services.expiry import (
    expire_points,
    expiry_settings,
    update_expiry_settings,
    warn_expiring_points,
)
from treu.loyalty.services.ledger import (
    CANCELLATION,
    MANUAL,
    ORDER_CHANGED,
    PURCHASE,
    REDEMPTION,
    RELEASE,
    RETURN,
    SHIPPING,
    WELCOME,
    LoyaltyError,
    adjust_points,
    award_points_by_automation,
    redeem_points,
    release_pending_points,
)
from treu.loyalty.services.programme import (
    SETTINGS_FIELDS,
    join_program,
    merge_members,
    started,
    update_program_settings,
)
from treu.loyalty.services.purchase_rules import (
    PURCHASE_RULE_FIELDS,
    RULE_UNMET,
    save_purchase_rule,
    set_purchase_rule_active,
)
from treu.loyalty.services.purchases import (
    award_points_for_orders,
    catch_up_points,
    follow_order_change,
    follow_order_changes,
    reschedule_order_points,
    settle_order_points,
)
from treu.loyalty.services.referrals import (
    REFERRAL,
    REFERRAL_SETTINGS_FIELDS,
    ReferralRefused,
    forget_old_ip_hashes,
    merge_referrals,
    record_click,
    record_referral,
    record_referral_of_new_customer,
    referral_code_for,
    review_referral,
    reward_referrals,
    update_referral_settings,
)
from treu.loyalty.services.rewards import (
    REWARD_FIELDS,
    add_partner_codes,
    issue_automation_coupons,
    redeem_reward,
    save_reward,
)
from treu.loyalty.services.stamp_orders import (
    award_stamps_for_orders,
    catch_up_stamps,
    follow_order_stamp_changes,
    settle_order_stamps,
)
from treu.loyalty.services.stamps import (
    CARD_TYPE_FIELDS,
    StampResult,
    add_stamps,
    merge_stamp_cards,
    redeem_stamp_voucher,
    save_stamp_card_type,
)
from treu.loyalty.services.store import (
    TILL_UNDO,
    UNDO_WINDOW,
    give_store_stamps,
    issue_member_card,
    record_store_purchase,
    redeem_at_till,
    store_shop,
    till_settings,
    undo_refusal,
    undo_till_action,
    update_till_settings,
)
from treu.loyalty.services.tiers import (
    TIER_FIELDS,
    TIER_SETTINGS_FIELDS,
    RecomputeResult,
    assign_tier,
    recompute_tiers,
    save_tier,
    update_tier_settings,
    upgrade_tiers_after,
)

__all__ = [
    "CANCELLATION", "MANUAL", "ORDER_CHANGED", "PURCHASE", "REDEMPTION", "RELEASE", "RETURN",
    "SETTINGS_FIELDS", "SHIPPING", "WELCOME", "LoyaltyError", "adjust_points",
    "award_points_by_automation",
    "award_points_for_orders", "catch_up_points", "follow_order_change",
    "follow_order_changes", "join_program", "merge_members", "redeem_points",
    "release_pending_points", "reschedule_order_points", "settle_order_points", "started",
    "update_program_settings", "CouponRefused", "Released", "consume_coupon", "find_coupon",
    "release_order_rewards", "spend_store_credit", "REWARD_FIELDS", "add_partner_codes",
    "issue_automation_coupons", "redeem_reward", "save_reward",
    # Stamp cards
    "CARD_TYPE_FIELDS", "StampResult", "add_stamps", "award_stamps_for_orders", "catch_up_stamps",
    "follow_order_stamp_changes", "merge_stamp_cards", "redeem_stamp_voucher",
    "save_stamp_card_type", "settle_order_stamps",
    # Referrals
    "REFERRAL", "REFERRAL_SETTINGS_FIELDS", "ReferralRefused",
    "forget_old_ip_hashes", "merge_referrals", "record_click", "record_referral",
    "record_referral_of_new_customer", "referral_code_for", "review_referral",
    "reward_referrals", "update_referral_settings",
    # Tiers and expiry
    "expire_points", "expiry_settings", "update_expiry_settings",
    "warn_expiring_points", "TIER_FIELDS", "TIER_SETTINGS_FIELDS", "RecomputeResult",
    "assign_tier", "recompute_tiers", "save_tier", "update_tier_settings", "upgrade_tiers_after",
    # Earning rules
    "PURCHASE_RULE_FIELDS", "RULE_UNMET", "save_purchase_rule", "set_purchase_rule_active",
    # Earning rules for actions
    "ACTION_RULE_FIELDS", "ActionOutcome", "award_anniversary_points", "award_birthday_points",
    "record_action", "record_action_of_event", "save_action_rule", "staff_reference",
    # The till
    "TILL_UNDO", "UNDO_WINDOW", "give_store_stamps", "issue_member_card", "record_store_purchase",
    "redeem_at_till", "store_shop", "till_settings", "undo_refusal", "undo_till_action",
    "update_till_settings",
]  # fmt: skip
