from django.urls import path

from treu.customers import views

app_name = "customers"
urlpatterns = [
    path("", views.customer_list, name="list"),
    path("new/", views.customer_create, name="create"),
    path("<int:customer_id>/", views.customer_detail, name="detail"),
    path("<int:customer_id>/edit/", views.customer_edit, name="edit"),
    path("<int:customer_id>/notes/", views.note_add, name="add_note"),
    path("<int:customer_id>/merge/", views.customer_merge, name="merge"),
]
