from django.urls import path

from treu.messaging import template_views as views

urlpatterns = [
    path("templates/", views.template_list, name="template_list"),
    path("templates/new/", views.template_new, name="template_new"),
    path("templates/<int:template_id>/", views.template_edit, name="template_edit"),
    path("templates/<int:template_id>/preview/", views.template_preview, name="template_preview"),
    path(
        "templates/<int:template_id>/test-send/",
        views.template_test_send,
        name="template_test_send",
    ),
    path("templates/<int:template_id>/delete/", views.template_delete, name="template_delete"),
]
