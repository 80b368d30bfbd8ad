"""Walks the whole URL conf: no back-office page is reachable without a login and a role."""

from __future__ import annotations

import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

# Reachable without a staff role, on purpose.
PUBLIC = {
    "healthz",
    "set_language",
    "backoffice:login",
    "backoffice:logout",
    # A member's referral link: shows a friend the welcome discount, nothing personal.
    "loyalty:referral_landing",
    # Newsletter sign-up, double opt-in and unsubscribe: for people who are no staff; the
    # links carry a random token (confirmation) or a signed one (unsubscribe, preferences).
    "messaging:consent_signup",
    "messaging:consent_signup_embed",
    "messaging:consent_signup_done",
    "messaging:consent_confirm",
    "messaging:unsubscribe",
    "messaging:unsubscribe_one_click",
    "messaging:unsubscribe_reason",
    "messaging:preferences",
    # Links in marketing mails: a click redirect to a signed target, and the open pixel
    # (only in mails of customers who allowed it); both record at most one event.
    "messaging_tracking:click",
    "messaging_tracking:open",
}
# The API authenticates with its own keys, shop webhooks (hooks/) with the shop's signature,
# mail providers' delivery reports (hooks/anymail/) with HTTP basic auth.
PUBLIC_PREFIXES = ("static/", "api/", "hooks/")


def _walk(resolver: URLResolver, prefix: str = "", namespace: str = ""):
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            ns = entry.namespace or ""
            full_ns = f"{namespace}:{ns}" if namespace and ns else ns or namespace
            yield from _walk(entry, prefix + str(entry.pattern), full_ns)
        elif isinstance(entry, URLPattern):
            name = f"{namespace}:{entry.name}" if namespace and entry.name else entry.name
            yield name, prefix + str(entry.pattern)


def _example_path(route: str) -> str:
    path = re.sub(r"<int:\w+>", "1", route)
    path = re.sub(r"<(?:str|slug):\w+>", "x", path)
    path = re.sub(r"<uuid:\w+>", "00000000-0000-0000-0000-000000000000", path)
    path = re.sub(r"<[^>]+>", "x", path)
    return "/" + path.lstrip("^").rstrip("$").replace("\\", "")


def _backoffice_routes():
    routes = []
    for name, route in _walk(get_resolver()):
        if name in PUBLIC or route.startswith(PUBLIC_PREFIXES):
            continue
        routes.append(pytest.param(_example_path(route), id=name or route))
    return routes


def test_the_walk_finds_the_back_office():
    paths = {p.values[0] for p in _backoffice_routes()}
    assert {"/", "/customers/", "/customers/1/", "/commerce/orders/"} <= paths


@pytest.mark.django_db
@pytest.mark.parametrize("path", _backoffice_routes())
def test_anonymous_visitors_are_sent_to_the_login(client, path):
    for method in (client.get, client.post):
        response = method(path)
        assert response.status_code == 302, f"{method.__name__.upper()} {path}"
        assert response["Location"].startswith("/login/?next=")


@pytest.mark.django_db
@pytest.mark.parametrize("path", _backoffice_routes())
def test_staff_without_a_role_are_refused(client_of, outsider, path):
    client = client_of(outsider)
    assert client.get(path).status_code == 403
    assert client.post(path).status_code == 403
