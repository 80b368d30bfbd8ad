from django.urls import path

from treu.loyalty import tier_views, views

app_name = "loyalty"
urlpatterns = [
    path("", views.member_list, name="member_list"),
    path("members/new/", views.member_enrol, name="member_enrol"),
    path("members/<int:member_id>/", views.member_detail, name="member_detail"),
    path("members/<int:member_id>/adjust/", views.member_adjust, name="member_adjust"),
    path("settings/", views.program_settings, name="settings"),
    path("tiers/", tier_views.tier_list, name="tier_list"),
    path("tiers/new/", tier_views.tier_edit, name="tier_new"),
    path("tiers/<int:tier_id>/", tier_views.tier_edit, name="tier_edit"),
    path("members/<int:member_id>/tier/", tier_views.member_assign_tier, name="member_tier"),
    path("expiry/", tier_views.expiry_settings, name="expiry"),
]
