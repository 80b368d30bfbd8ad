"""Who is calling: API keys from the Authorization or X-API-Key header, scopes, rate limits."""

from __future__ import annotations

from datetime import timedelta

from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja.security import APIKeyHeader, HttpBearer

from treu.api import services
from treu.api.errors import ApiError, retry_after
from treu.api.models import ApiKey, Scope

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_CACHE = "_treu_api_key"


# The checkout endpoints (loyalty's router) need the checkout scope for reads and writes
# alike: a till's key can check coupons and balances but read no customer list. Decided
# by path, because the idempotency layer authenticates before django-ninja routes.
CHECKOUT_PATH = "/api/v1/checkout/"


def required_scope(method: str, path: str = "") -> str:
    if path.startswith(CHECKOUT_PATH):
        return Scope.CHECKOUT
    return Scope.READ if method in READ_METHODS else Scope.WRITE


def authenticate(request: HttpRequest, raw: str, *, header: str) -> ApiKey:
    """The key behind `raw`, checked for scope and rate limit; raises ApiError otherwise.

    The outcome is kept on the request: the idempotency layer authenticates before
    django-ninja does, and a request must count once against the rate limit.
    """
    cached = getattr(request, _CACHE, None)
    if isinstance(cached, ApiError):
        raise cached
    if cached is not None:
        return cached
    try:
        key = _check(request, raw, header=header)
    except ApiError as refused:
        setattr(request, _CACHE, refused)
        raise
    setattr(request, _CACHE, key)
    return key


def _check(request: HttpRequest, raw: str, *, header: str) -> ApiKey:
    key = services.key_for_secret(raw)
    if key is None:
        raise ApiError(
            401,
            _("This API key is not valid or was revoked."),
            loc=("header", header),
            type="unauthorized",
            headers={"WWW-Authenticate": "Bearer"},
        )
    scope = required_scope(request.method or "GET", request.path_info)
    if not key.has_scope(scope):
        raise ApiError(
            403,
            _("This API key lacks the scope %(scope)s needed here.") % {"scope": scope},
            loc=("header", header),
            type="forbidden",
        )
    allowed, wait = services.count_request(key)
    if not allowed:
        raise ApiError(
            429,
            _(
                "Too many requests: this key may make %(limit)d requests per minute. "
                "Try again in %(seconds)s seconds."
            )
            % {"limit": key.rate_limit_per_minute, "seconds": retry_after(wait)},
            type="rate_limited",
            headers={"Retry-After": retry_after(wait)},
        )
    services.touch_key(key, now=timezone.now(), every=timedelta(minutes=1))
    return key


def key_from_headers(request: HttpRequest) -> tuple[str, str] | None:
    """(raw key, header name) or None; used before django-ninja's own auth runs."""
    authorization = request.headers.get("Authorization", "")
    scheme, _sep, token = authorization.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip(), "Authorization"
    api_key = request.headers.get("X-API-Key", "").strip()
    if api_key:
        return api_key, "X-API-Key"
    return None


class BearerKey(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> ApiKey:
        return authenticate(request, token, header="Authorization")


class HeaderKey(APIKeyHeader):
    param_name = "X-API-Key"

    def authenticate(self, request: HttpRequest, key: str | None) -> ApiKey | None:
        if not key:
            return None
        return authenticate(request, key, header="X-API-Key")


API_AUTH = [BearerKey(), HeaderKey()]
