from django.urls import URLPattern, include, path, re_path

from treu.api import views
from treu.api.idempotency import guard
from treu.api.main import api


def _guarded(patterns):
    """Every API route gets the body limit and the Idempotency-Key handling."""
    return [
        URLPattern(p.pattern, guard(p.callback), p.default_args, p.name)
        if isinstance(p, URLPattern)
        else p
        for p in patterns
    ]


_patterns, _ninja_app, _namespace = api.urls

app_name = "api"
urlpatterns = [
    path("v1/", include((_guarded(_patterns), _namespace), namespace=_namespace)),
    re_path(r"^v1/", views.unknown_endpoint, name="unknown"),
    path("docs", views.docs, name="docs"),
    path("docs/assets/<str:name>", views.docs_asset, name="docs_asset"),
    path("keys/", views.key_list, name="key_list"),
    path("keys/new/", views.key_create, name="key_create"),
    path("keys/<int:key_id>/revoke/", views.key_revoke, name="key_revoke"),
]
