from django.urls import path

from treu.loyalty import views

app_name = "loyalty"
urlpatterns = [
    path("", views.member_list, name="member_list"),
    path("members/new/", views.member_enrol, name="member_enrol"),
    path("members/<int:member_id>/", views.member_detail, name="member_detail"),
    path("members/<int:member_id>/adjust/", views.member_adjust, name="member_adjust"),
    path("settings/", views.program_settings, name="settings"),
]
