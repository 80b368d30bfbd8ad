"""The inbound endpoints: signatures, refusals, limits and duplicates."""

from __future__ import annotations

import json

import pytest

from treu.commerce.models import Order
from treu.connectors import shopware
from treu.connectors.models import DeliveryStatus, InboundDelivery
from treu.connectors.tests.conftest import SECRET, payload

pytestmark = pytest.mark.django_db

CASES = [
    ("shopify", "shopify_order", "orders/create"),
    ("woocommerce", "woocommerce_order", "order.created"),
    ("shopware", "shopware_order_placed", ""),
]


@pytest.mark.parametrize(("platform", "name", "topic"), CASES)
def test_it_takes_in_a_correctly_signed_delivery(connect, send, platform, name, topic):
    connection = connect(platform)
    response = send(connection, payload(name), topic=topic, delivery="d-1")
    assert response.status_code == 200, response.content
    delivery = InboundDelivery.objects.get()
    assert delivery.status == DeliveryStatus.PROCESSED, delivery.error
    assert Order.objects.count() == 1
    connection.refresh_from_db()
    assert connection.last_received_at is not None


@pytest.mark.parametrize(("platform", "name", "topic"), CASES)
def test_it_refuses_a_wrong_signature_and_stores_nothing(connect, send, platform, name, topic):
    connection = connect(platform)
    other = connect(platform, f"{platform}-zwei", secret="ein-ganz-anderes-geheimnis-42")
    body = json.dumps(payload(name)).encode()
    from treu.connectors.tests.conftest import signed_headers

    forged = signed_headers(other, body, topic=topic, delivery="d-1")
    response = send(connection, None, body=body, headers=forged)
    assert response.status_code == 401
    assert response.json() == {"ok": False, "error": "invalid signature"}
    assert not InboundDelivery.objects.exists()
    assert not Order.objects.exists()


@pytest.mark.parametrize(("platform", "name", "topic"), CASES)
def test_it_refuses_an_unsigned_delivery(connect, send, platform, name, topic):
    connection = connect(platform)
    headers = {"HTTP_X_SHOPIFY_TOPIC": topic, "HTTP_X_WC_WEBHOOK_TOPIC": topic}
    response = send(connection, payload(name), headers=headers)
    assert response.status_code == 401
    assert not InboundDelivery.objects.exists()


def test_it_refuses_a_body_changed_after_signing(connect, send):
    connection = connect("shopify")
    body = json.dumps(payload("shopify_order")).encode()
    from treu.connectors.tests.conftest import signed_headers

    headers = signed_headers(connection, body, topic="orders/create", delivery="d-1")
    tampered = body.replace(b'"67.63"', b'"6.76"')
    assert send(connection, None, body=tampered, headers=headers).status_code == 401


def test_unknown_shops_and_wrong_systems_get_404(connect, client):
    connect("shopify")
    assert client.post("/hooks/shopify/gibtsnicht/", b"{}", "application/json").status_code == 404
    # The shop exists, but is a Shopify shop, not a WooCommerce one.
    response = client.post("/hooks/woocommerce/shopify/", b"{}", "application/json")
    assert response.status_code == 404
    assert response.json()["ok"] is False


def test_a_paused_connection_refuses_deliveries(connect, send):
    from treu.connectors import services

    connection = services.set_active(connect("shopify"), active=False)
    response = send(connection, payload("shopify_order"), topic="orders/create", delivery="d-1")
    assert response.status_code == 404
    assert not InboundDelivery.objects.exists()


def test_only_post_is_allowed(connect, client):
    connect("shopify")
    assert client.get("/hooks/shopify/shopify/").status_code == 405


def test_a_body_over_the_limit_gets_413(connect, send, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 20 * 1024 * 1024
    connection = connect("shopify")
    big = b'{"x": "' + b"a" * (10 * 1024 * 1024) + b'"}'
    response = send(connection, None, body=big, headers={})
    assert response.status_code == 413
    assert not InboundDelivery.objects.exists()


def test_a_duplicate_delivery_is_acknowledged_but_not_taken_in_again(connect, send):
    connection = connect("shopify")
    data = payload("shopify_order")
    first = send(connection, data, topic="orders/create", delivery="same-id")
    again = send(connection, data, topic="orders/create", delivery="same-id")
    assert first.status_code == again.status_code == 200
    assert again.json() == {"ok": True, "duplicate": True}
    assert InboundDelivery.objects.count() == 1
    assert Order.objects.count() == 1


def test_shopware_deduplicates_by_the_event_id_in_the_body(connect, send):
    connection = connect("shopware")
    data = payload("shopware_order_placed")
    send(connection, data)
    assert send(connection, data).json()["duplicate"] is True
    assert InboundDelivery.objects.get().delivery_id == data["source"]["eventId"]


def test_woocommerce_ping_on_saving_the_webhook_answers_200(connect, client):
    connect("woocommerce")
    response = client.post(
        "/hooks/woocommerce/woocommerce/",
        b"webhook_id=12",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200
    assert not InboundDelivery.objects.exists()


def test_malformed_json_with_a_valid_signature_gets_400(connect, send):
    connection = connect("shopify")
    from treu.connectors.tests.conftest import signed_headers

    body = b'{"id": 1,'
    headers = signed_headers(connection, body, topic="orders/create", delivery="d-1")
    response = send(connection, None, body=body, headers=headers)
    assert response.status_code == 400
    assert response.json()["error"] == "body is not JSON"
    bad_utf8 = b'{"name": "\xff"}'
    headers = signed_headers(connection, bad_utf8, topic="orders/create", delivery="d-2")
    assert send(connection, None, body=bad_utf8, headers=headers).status_code == 400
    assert not InboundDelivery.objects.exists()


def test_topics_treu_does_not_take_in_are_logged_without_their_payload(connect, send):
    connection = connect("shopify")
    response = send(connection, {"id": 1, "title": "Bohne"}, topic="products/update", delivery="p")
    assert response.status_code == 200
    delivery = InboundDelivery.objects.get()
    assert delivery.status == DeliveryStatus.IGNORED
    assert delivery.body == ""


def test_the_view_only_stores_and_hands_over(connect, client, django_capture_on_commit_callbacks):
    connection = connect("shopify")
    body = json.dumps(payload("shopify_order")).encode()
    from treu.connectors.tests.conftest import signed_headers

    headers = signed_headers(connection, body, topic="orders/create", delivery="d-1")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post("/hooks/shopify/shopify/", body, "application/json", **headers)
    assert response.status_code == 200
    assert len(callbacks) == 1  # the worker job, run after the commit
    assert InboundDelivery.objects.get().status == DeliveryStatus.RECEIVED
    assert not Order.objects.exists()


def test_shopware_app_registration_hands_over_the_secret(connect, client):
    connection = connect("shopware")
    query = "shop-id=dgrH7nLU6tlE&shop-url=https://kaffee.example.de&timestamp=1709280000"
    signature = shopware.sign(SECRET, query.encode())
    response = client.get(
        f"/hooks/shopware/shopware/register/?{query}", HTTP_SHOPWARE_APP_SIGNATURE=signature
    )
    assert response.status_code == 200
    answer = response.json()
    expected = shopware.sign(SECRET, b"dgrH7nLU6tlEhttps://kaffee.example.deTreuConnector")
    assert answer["proof"] == expected
    assert answer["secret"] == connection.secret
    assert answer["confirmation_url"].endswith("/hooks/shopware/shopware/confirm/")
    refused = client.get(f"/hooks/shopware/shopware/register/?{query}")
    assert refused.status_code == 401
    body = json.dumps({"apiKey": "SWIA", "secretKey": "x", "shopId": "dgrH7nLU6tlE"}).encode()
    confirm = client.post(
        "/hooks/shopware/shopware/confirm/",
        body,
        "application/json",
        HTTP_SHOPWARE_SHOP_SIGNATURE=shopware.sign(SECRET, body),
    )
    assert confirm.status_code == 204
    unsigned = client.post("/hooks/shopware/shopware/confirm/", body, "application/json")
    assert unsigned.status_code == 401
