from django.urls import path

from treu.loyalty import (
    action_rule_views,
    kpi_views,
    purchase_rule_views,
    referral_views,
    stamp_views,
    store_views,
    tier_views,
    views,
)

app_name = "loyalty"
urlpatterns = [
    path("", views.member_list, name="member_list"),
    path("members/new/", views.member_enrol, name="member_enrol"),
    path("members/<int:member_id>/", views.member_detail, name="member_detail"),
    path("members/<int:member_id>/adjust/", views.member_adjust, name="member_adjust"),
    path("members/<int:member_id>/redeem/", views.member_redeem, name="member_redeem"),
    path("settings/", views.program_settings, name="settings"),
    path("rewards/", views.reward_list, name="reward_list"),
    path("rewards/new/", views.reward_create, name="reward_create"),
    path("rewards/<int:reward_id>/", views.reward_edit, name="reward_edit"),
    path("rewards/<int:reward_id>/codes/", views.reward_codes, name="reward_codes"),
    path("redemptions/", views.redemption_list, name="redemption_list"),
    path("stamp-cards/", stamp_views.card_type_list, name="stamp_card_types"),
    path("stamp-cards/new/", stamp_views.card_type_create, name="stamp_card_type_create"),
    path(
        "stamp-cards/<int:card_type_id>/", stamp_views.card_type_edit, name="stamp_card_type_edit"
    ),
    path("stamp-vouchers/redeem/", stamp_views.voucher_redeem, name="stamp_voucher_redeem"),
    path("kpis/", kpi_views.loyalty_kpis, name="kpis"),
    path("referrals/", referral_views.referral_list, name="referral_list"),
    path(
        "referrals/<int:referral_id>/review/",
        referral_views.referral_review,
        name="referral_review",
    ),
    path("referrals/settings/", referral_views.referral_settings, name="referral_settings"),
    # Public: the link a member shares (see test_url_access.PUBLIC).
    path("r/<str:code>/", referral_views.landing, name="referral_landing"),
    path("tiers/", tier_views.tier_list, name="tier_list"),
    path("tiers/new/", tier_views.tier_edit, name="tier_new"),
    path("tiers/<int:tier_id>/", tier_views.tier_edit, name="tier_edit"),
    path("members/<int:member_id>/tier/", tier_views.member_assign_tier, name="member_tier"),
    path("expiry/", tier_views.expiry_settings, name="expiry"),
    path("rules/", purchase_rule_views.purchase_rules, name="purchase_rules"),
    path("rules/purchases/new/", purchase_rule_views.purchase_rule_new, name="purchase_rule_new"),
    path(
        "rules/purchases/<int:rule_id>/",
        purchase_rule_views.purchase_rule_edit,
        name="purchase_rule_edit",
    ),
    path("rules/actions/", action_rule_views.action_rule_list, name="action_rules"),
    path("rules/actions/new/", action_rule_views.action_rule_new, name="action_rule_new"),
    path(
        "rules/actions/<int:rule_id>/", action_rule_views.action_rule_edit, name="action_rule_edit"
    ),
    path(
        "members/<int:member_id>/action/",
        action_rule_views.member_record_action,
        name="member_action",
    ),
    # The till (Kasse) and the member card
    path("till/", store_views.till, name="till"),
    path("till/enrol/", store_views.till_enrol, name="till_enrol"),
    path("till/settings/", store_views.till_settings, name="till_settings"),
    path("till/members/<int:member_id>/", store_views.till_member, name="till_member"),
    path(
        "till/members/<int:member_id>/purchase/",
        store_views.till_purchase,
        name="till_purchase",
    ),
    path("till/members/<int:member_id>/stamps/", store_views.till_stamps, name="till_stamps"),
    path("till/members/<int:member_id>/redeem/", store_views.till_redeem, name="till_redeem"),
    path(
        "till/members/<int:member_id>/undo/<int:action_id>/",
        store_views.till_undo,
        name="till_undo",
    ),
    path("members/<int:member_id>/card/", store_views.member_card, name="member_card"),
    path(
        "members/<int:member_id>/card/issue/",
        store_views.member_card_issue,
        name="member_card_issue",
    ),
]
