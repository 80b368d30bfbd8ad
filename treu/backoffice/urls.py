from django.contrib.auth import views as auth_views
from django.urls import path

from treu.backoffice import views

app_name = "backoffice"
urlpatterns = [
    path("", views.overview, name="overview"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("mails/", views.mail_list, name="mail_list"),
    path("mails/<int:mail_id>/", views.mail_detail, name="mail_detail"),
    path("mails/<int:mail_id>/html/", views.mail_html, name="mail_html"),
]
