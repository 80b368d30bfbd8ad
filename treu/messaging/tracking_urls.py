"""Links in mails that lead through this installation: clicks (and opens, where allowed)."""

from django.urls import path

from treu.messaging import tracking_views

app_name = "messaging_tracking"

urlpatterns = [
    path("c/<str:token>/", tracking_views.click, name="click"),
    path("o/<str:token>/", tracking_views.open_pixel, name="open"),
]
