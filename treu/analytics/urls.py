from django.urls import path

from treu.analytics import views

app_name = "analytics"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("segments/", views.segments, name="segments"),
    path("prediction/", views.prediction, name="prediction"),
    path("customers/", views.customers, name="customers"),
    path("settings/", views.settings_view, name="settings"),
    path("recompute/", views.recompute, name="recompute"),
    path("export/<slug:table>.csv", views.export_csv, name="export"),
]
