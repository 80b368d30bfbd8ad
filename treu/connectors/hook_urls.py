from django.urls import path

from treu.connectors import hook_views

app_name = "hooks"
urlpatterns = [
    path(
        "shopware/<slug:shop_code>/register/",
        hook_views.shopware_register,
        name="shopware_register",
    ),
    path(
        "shopware/<slug:shop_code>/confirm/",
        hook_views.shopware_confirm,
        name="shopware_confirm",
    ),
    path(
        "<str:platform>/<slug:shop_code>/",
        hook_views.receive,
        name="receive",
    ),
]
