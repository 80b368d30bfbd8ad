from django.urls import path

from treu.commerce import views

app_name = "commerce"
urlpatterns = [
    path("orders/", views.order_list, name="order_list"),
    path("orders/<int:order_id>/", views.order_detail, name="order_detail"),
]
