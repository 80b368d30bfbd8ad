from django.urls import path

from treu.analytics import views

app_name = "analytics"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("segments/", views.segments, name="segments"),
    path("customers/", views.customers, name="customers"),
    path("next-steps/", views.next_steps, name="next_steps"),
    path("report/", views.report, name="report"),
    path("experiments/", views.experiments, name="experiments"),
    path("experiments/<int:experiment_id>/", views.experiment, name="experiment"),
    path("settings/", views.settings_view, name="settings"),
    path("recompute/", views.recompute, name="recompute"),
    path("export/<slug:table>.csv", views.export_csv, name="export"),
]
