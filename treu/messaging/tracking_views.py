"""The click redirect and the open pixel; public, without login, never cached."""

from __future__ import annotations

import base64

from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from treu.messaging.services import engagement

# A transparent 1×1 GIF.
PIXEL = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")


@never_cache
@require_safe
def click(request, token: str):
    url = engagement.record_click(token) if request.method == "GET" else None
    if request.method == "HEAD":  # link checkers and mail scanners: no click recorded
        target = engagement.read_click_token(token)
        url = target.url if target else None
    if url is None:
        return render(request, "messaging/public/link_invalid.html", status=404)
    response = HttpResponseRedirect(url)
    response["Referrer-Policy"] = "no-referrer"
    return response


@never_cache
@require_safe
def open_pixel(request, token: str):
    if request.method == "GET":
        engagement.record_open(token)
    return HttpResponse(PIXEL, content_type="image/gif")
