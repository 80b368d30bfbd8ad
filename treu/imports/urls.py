from django.urls import path

from treu.imports import views

app_name = "imports"
urlpatterns = [
    path("", views.job_list, name="list"),
    path("new/", views.job_new, name="new"),
    path("<int:job_id>/", views.job_detail, name="detail"),
    path("<int:job_id>/import/", views.job_import_for_real, name="import_for_real"),
]
