"""API test helpers; test modules import the fixtures they use from here."""

from __future__ import annotations

import json
from typing import Any

import pytest

from treu.api import services

# Test modules take the fixtures with `from treu.api.tests.fixtures import *`.
__all__ = ["api", "api_as", "make_key"]


class ApiClient:
    """The Django test client speaking JSON with an API key."""

    def __init__(self, client, secret: str | None) -> None:
        self.client = client
        self.secret = secret

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        raw: bytes | None = None,
        headers: dict[str, str] | None = None,
        **query,
    ):
        extra = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in (headers or {}).items()}
        if self.secret:
            extra.setdefault("HTTP_AUTHORIZATION", f"Bearer {self.secret}")
        data = raw if raw is not None else (b"" if body is None else json.dumps(body).encode())
        url = "/api/v1" + path
        if query:
            from urllib.parse import urlencode

            url += "?" + urlencode({k: v for k, v in query.items() if v is not None})
        return self.client.generic(method, url, data, content_type="application/json", **extra)

    def get(self, path, **query):
        return self.call("GET", path, **query)

    def post(self, path, body=None, **kw):
        return self.call("POST", path, body, **kw)

    def put(self, path, body=None, **kw):
        return self.call("PUT", path, body, **kw)

    def patch(self, path, body=None, **kw):
        return self.call("PATCH", path, body, **kw)


@pytest.fixture
def make_key(db):
    def make(scopes=("read", "write"), **kwargs):
        return services.create_key(name="Shopify Onlineshop", scopes=list(scopes), **kwargs)

    return make


@pytest.fixture
def api(client, make_key) -> ApiClient:
    """A client with a read+write key."""
    return ApiClient(client, make_key().secret)


@pytest.fixture
def api_as(client, make_key):
    def as_key(secret: str | None) -> ApiClient:
        return ApiClient(client, secret)

    return as_key


def errors_at(response, *loc) -> list[str]:
    """The messages the answer gives for one location."""
    return [e["msg"] for e in response.json()["detail"] if tuple(e["loc"]) == loc]
