"""The API's HTML pages: the docs page and the back-office pages for API keys."""

from __future__ import annotations

import json
import mimetypes
from pathlib import Path

import ninja
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from treu.api import selectors, services
from treu.api.errors import error_response
from treu.api.forms import ApiKeyForm
from treu.backoffice.access import staff_view
from treu.backoffice.forms import add_service_errors

# Swagger UI ships inside the installed django-ninja package; it is served from here,
# so the docs page loads nothing from a CDN.
NINJA_STATIC = Path(ninja.__file__).parent / "static" / "ninja"
DOCS_ASSETS = frozenset(
    {"swagger-ui.css", "swagger-ui-bundle.js", "swagger-ui-init.js", "favicon.png"}
)


def docs(request):
    settings = {
        "url": reverse("api:v1:openapi-json"),
        "layout": "BaseLayout",
        "deepLinking": True,
        "validatorUrl": None,  # otherwise Swagger UI asks validator.swagger.io
    }
    return render(request, "api/docs.html", {"swagger_settings": json.dumps(settings)})


def docs_asset(request, name: str):
    if name not in DOCS_ASSETS:
        raise Http404
    content_type, _encoding = mimetypes.guess_type(name)
    response = FileResponse((NINJA_STATIC / name).open("rb"), content_type=content_type)
    response["Cache-Control"] = "public, max-age=86400"
    return response


def unknown_endpoint(request):
    return error_response(404, _("There is no such API endpoint."), loc=("path",), type="not_found")


@staff_view("api.view_apikey")
def key_list(request):
    return render(request, "api/key_list.html", {"keys": selectors.key_list()})


@staff_view("api.add_apikey")
@never_cache
def key_create(request):
    form = ApiKeyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            new = services.create_key(**form.cleaned_data, created_by=request.user)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            # Shown on this page once; only its hash is kept, so it can never be shown again.
            return render(request, "api/key_created.html", {"key": new.key, "secret": new.secret})
    return render(request, "api/key_form.html", {"form": form})


@staff_view("api.change_apikey")  # first: strangers see the login, not a 405
@require_POST
def key_revoke(request, key_id: int):
    key = selectors.key_by_id(key_id)
    if key is None:
        raise Http404
    services.revoke_key(key)
    messages.success(request, _("The key %(name)s was revoked.") % {"name": key.name})
    return redirect("api:key_list")
