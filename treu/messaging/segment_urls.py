from django.urls import path

from treu.messaging import segment_views as views

urlpatterns = [
    path("segments/", views.segment_list, name="segment_list"),
    path("segments/new/", views.segment_new, name="segment_new"),
    path("segments/count/", views.segment_count, name="segment_count"),
    path("segments/<int:segment_id>/", views.segment_detail, name="segment_detail"),
    path("segments/<int:segment_id>/edit/", views.segment_edit, name="segment_edit"),
    path("segments/<int:segment_id>/refresh/", views.segment_refresh, name="segment_refresh"),
    path("segments/<int:segment_id>/delete/", views.segment_delete, name="segment_delete"),
    path("segments/<int:segment_id>/export.csv", views.segment_export, name="segment_export"),
]
