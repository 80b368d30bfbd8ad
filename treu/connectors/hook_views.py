"""Inbound shop webhooks: public URLs, authenticated by the shop's HMAC signature only.

The view verifies, stores and hands over to the worker; it never applies a delivery itself,
so it answers within milliseconds whatever the payload.
"""

from __future__ import annotations

import json

from django.core.exceptions import RequestDataTooBig
from django.http import HttpResponse, JsonResponse
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from treu.connectors import selectors, services, shopware


def _error(status: int, error: str) -> JsonResponse:
    return JsonResponse({"ok": False, "error": error}, status=status)


def _body(request) -> bytes | None:
    """The raw body, or None when it is over the limit (checked before reading it)."""
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > services.MAX_BODY_BYTES:
        return None
    try:
        body = request.body
    except RequestDataTooBig:
        return None
    return body if len(body) <= services.MAX_BODY_BYTES else None


@csrf_exempt
@require_POST
def receive(request, platform: str, shop_code: str):
    body = _body(request)
    if body is None:
        return _error(413, "payload too large")
    connection = selectors.connection_for_hook(platform, shop_code)
    if connection is None:
        return _error(404, "no active connection for this shop")
    receipt = services.receive_delivery(connection=connection, body=body, headers=request.headers)
    return JsonResponse(receipt.answer, status=receipt.status)


@require_GET
def shopware_register(request, shop_code: str):
    """Step 1 of installing treu's Shopware app: prove we know the secret, hand it over."""
    connection = selectors.connection_for_hook("shopware", shop_code)
    if connection is None:
        return _error(404, "no active connection for this shop")
    query = request.META.get("QUERY_STRING", "")
    signature = request.headers.get("shopware-app-signature", "")
    if not shopware.verify_registration(connection.secret, query, signature):
        return _error(401, "invalid signature")
    confirm = request.build_absolute_uri(reverse("hooks:shopware_confirm", args=[shop_code]))
    return JsonResponse(shopware.registration_response(connection.secret, query, confirm))


@csrf_exempt
@require_POST
def shopware_confirm(request, shop_code: str):
    """Step 2: Shopware confirms, sending API credentials treu does not need (not stored)."""
    body = _body(request)
    if body is None:
        return _error(413, "payload too large")
    connection = selectors.connection_for_hook("shopware", shop_code)
    if connection is None:
        return _error(404, "no active connection for this shop")
    if not shopware.verify(connection.secret, body, request.headers):
        return _error(401, "invalid signature")
    try:
        json.loads(body)
    except ValueError:
        return _error(400, "body is not JSON")
    return HttpResponse(status=204)
