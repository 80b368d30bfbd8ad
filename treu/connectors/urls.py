from django.urls import path

from treu.connectors import views

app_name = "connectors"
urlpatterns = [
    path("", views.connection_list, name="list"),
    path("new/", views.connection_create, name="create"),
    path("shops/<int:shop_id>/connect/", views.shop_connect, name="shop_connect"),
    path("<int:connection_id>/", views.connection_detail, name="detail"),
    path("<int:connection_id>/secret/", views.connection_rotate, name="rotate"),
    path("<int:connection_id>/active/", views.connection_toggle, name="toggle"),
    path(
        "<int:connection_id>/deliveries/<int:delivery_id>/retry/",
        views.delivery_retry,
        name="retry",
    ),
    path("<int:connection_id>/manifest.xml", views.shopware_manifest, name="manifest"),
]
