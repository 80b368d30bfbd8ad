"""The back-office pages for shop connections: owner only."""

from __future__ import annotations

import pytest

from treu.commerce.models import Shop
from treu.commerce.tests.factories import ShopFactory
from treu.connectors.models import DeliveryStatus, InboundDelivery, ShopConnection

pytestmark = pytest.mark.django_db


@pytest.fixture
def conn(connect):
    return connect("woocommerce", "kaffeeshop")


def _paths(conn):
    return [
        "/connectors/",
        "/connectors/new/",
        f"/connectors/{conn.pk}/",
    ]


def test_anonymous_visitors_are_sent_to_the_login(client, conn):
    for path in _paths(conn):
        response = client.get(path)
        assert response.status_code == 302
        assert response["Location"].startswith("/login/")


@pytest.mark.parametrize("who", ["outsider", "marketer", "agent", "cashier"])
def test_everyone_but_the_owner_is_refused(client_of, conn, request, who):
    client = client_of(request.getfixturevalue(who))
    for path in _paths(conn):
        assert client.get(path).status_code == 403, path
    assert client.post(f"/connectors/{conn.pk}/secret/").status_code == 403


def test_the_owner_sees_the_list_and_the_nav_item(
    client_of, owner, conn, django_assert_max_num_queries
):
    ShopFactory(code="laden", name="Laden Altona", kind="pos")
    client = client_of(owner)
    with django_assert_max_num_queries(12):
        response = client.get("/connectors/")
    assert response.status_code == 200
    text = response.content.decode()
    assert "kaffeeshop" in text and "Laden Altona" in text
    assert 'href="/connectors/"' in text


def test_the_owner_creates_a_connection_and_sees_what_to_enter(client_of, owner):
    client = client_of(owner)
    response = client.post(
        "/connectors/new/", {"name": "Onlineshop", "code": "online", "platform": "shopify"}
    )
    connection = ShopConnection.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/connectors/{connection.pk}/"
    assert Shop.objects.get().kind == "shopify"
    assert len(connection.secret) >= 32
    page = client.get(response["Location"]).content.decode()
    assert "http://testserver/hooks/shopify/online/" in page
    assert "orders/create" in page and "refunds/create" in page


def test_a_taken_code_is_refused_on_the_form(client_of, owner, conn):
    response = client_of(owner).post(
        "/connectors/new/", {"name": "Zweiter", "code": "kaffeeshop", "platform": "shopify"}
    )
    assert response.status_code == 400
    assert ShopConnection.objects.count() == 1


def test_the_owner_rotates_or_enters_the_secret(client_of, owner, conn):
    client = client_of(owner)
    old = conn.secret
    client.post(f"/connectors/{conn.pk}/secret/", {"secret": ""})
    conn.refresh_from_db()
    assert conn.secret != old and conn.secret_changed_at
    client.post(f"/connectors/{conn.pk}/secret/", {"secret": "shpss_0123456789abcdef0123"})
    conn.refresh_from_db()
    assert conn.secret == "shpss_0123456789abcdef0123"
    client.post(f"/connectors/{conn.pk}/secret/", {"secret": "kurz"})
    conn.refresh_from_db()
    assert conn.secret == "shpss_0123456789abcdef0123"


def test_the_owner_pauses_a_connection(client_of, owner, conn):
    client_of(owner).post(f"/connectors/{conn.pk}/active/")
    conn.refresh_from_db()
    assert conn.active is False


def test_the_owner_connects_an_existing_shop(client_of, owner, shop):
    response = client_of(owner).post(f"/connectors/shops/{shop.pk}/connect/")
    assert response.status_code == 302
    assert ShopConnection.objects.get().shop == shop


def test_the_page_shows_recent_deliveries_and_retries_a_failed_one(
    client_of, owner, conn, django_capture_on_commit_callbacks
):
    failed = InboundDelivery.objects.create(
        connection=conn,
        topic="order.created",
        delivery_id="x",
        body='{"id": 5, "line_items": "kaputt"}',
        status=DeliveryStatus.FAILED,
        error="Bestellung unvollständig",
    )
    client = client_of(owner)
    page = client.get(f"/connectors/{conn.pk}/").content.decode()
    assert "Bestellung unvollständig" in page
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/connectors/{conn.pk}/deliveries/{failed.pk}/retry/")
    assert response.status_code == 302
    failed.refresh_from_db()
    assert failed.attempts == 1


def test_the_shopware_manifest_names_treus_urls(client_of, owner, connect):
    sw = connect("shopware")
    response = client_of(owner).get(f"/connectors/{sw.pk}/manifest.xml")
    assert response.status_code == 200
    xml = response.content.decode()
    assert "<name>TreuConnector</name>" in xml
    assert "http://testserver/hooks/shopware/shopware/register/" in xml
    assert 'event="checkout.order.placed"' in xml
    assert f"<secret>{sw.secret}</secret>" in xml
