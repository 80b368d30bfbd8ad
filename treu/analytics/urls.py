from django.urls import path

from treu.analytics import views
from treu.analytics.recommendations import views as recommendation_views

app_name = "analytics"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("segments/", views.segments, name="segments"),
    path("prediction/", views.prediction, name="prediction"),
    path("customers/", views.customers, name="customers"),
    path("customers/segment/", views.customers_to_segment, name="customers_to_segment"),
    path("next-steps/", views.next_steps, name="next_steps"),
    path("report/", views.report, name="report"),
    path("experiments/", views.experiments, name="experiments"),
    path("experiments/<int:experiment_id>/", views.experiment, name="experiment"),
    path("settings/", views.settings_view, name="settings"),
    path("recompute/", views.recompute, name="recompute"),
    path("export/<slug:table>.csv", views.export_csv, name="export"),
    path("recommendations/", recommendation_views.recommendations, name="recommendations"),
    path(
        "recommendations/export/<slug:table>.csv",
        recommendation_views.export_csv,
        name="recommendations_export",
    ),
]
