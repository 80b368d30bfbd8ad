"""Connections per platform and a helper that sends a signed webhook like the shop does."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from treu.connectors import services, shopify, shopware, woocommerce

PAYLOADS = Path(__file__).parent / "payloads"
SECRET = "geheimnis-der-roesterei-0123456789"  # noqa: S105


def payload(name: str) -> dict:
    return json.loads((PAYLOADS / f"{name}.json").read_text(encoding="utf-8"))


@pytest.fixture
def connect(db):
    def make(platform: str, code: str = "", *, secret: str = SECRET):
        return services.create_connection(
            code=code or platform, name=f"Shop {platform}", platform=platform, secret=secret
        )

    return make


def signed_headers(connection, body: bytes, *, topic: str = "", delivery: str = "") -> dict:
    platform = connection.platform
    if platform == "shopify":
        return {
            "HTTP_X_SHOPIFY_HMAC_SHA256": shopify.sign(connection.secret, body),
            "HTTP_X_SHOPIFY_TOPIC": topic,
            "HTTP_X_SHOPIFY_WEBHOOK_ID": delivery,
            "HTTP_X_SHOPIFY_SHOP_DOMAIN": "roesterei-treu.myshopify.com",
        }
    if platform == "woocommerce":
        return {
            "HTTP_X_WC_WEBHOOK_SIGNATURE": woocommerce.sign(connection.secret, body),
            "HTTP_X_WC_WEBHOOK_TOPIC": topic,
            "HTTP_X_WC_WEBHOOK_DELIVERY_ID": delivery,
            "HTTP_X_WC_WEBHOOK_SOURCE": "https://kaffee-shop.example.de/",
        }
    return {"HTTP_SHOPWARE_SHOP_SIGNATURE": shopware.sign(connection.secret, body)}


@pytest.fixture
def send(client, django_capture_on_commit_callbacks):
    """send(connection, data, topic=, delivery=) posts it signed; the worker runs inline."""

    def post(connection, data, *, topic: str = "", delivery: str = "", headers=None, body=None):
        raw = body if body is not None else json.dumps(data).encode()
        extra = (
            headers
            if headers is not None
            else signed_headers(connection, raw, topic=topic, delivery=delivery)
        )
        url = f"/hooks/{connection.platform}/{connection.shop.code}/"
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(url, raw, content_type="application/json", **extra)

    return post
