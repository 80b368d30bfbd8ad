from __future__ import annotations

import re

import pytest
from django.urls import reverse

from treu.api import services
from treu.api.models import ApiKey

pytestmark = pytest.mark.django_db
PAGES = [reverse("api:key_list"), reverse("api:key_create")]


@pytest.mark.parametrize("path", PAGES)
def test_anonymous_visitors_are_sent_to_the_login(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=")


@pytest.mark.parametrize("path", PAGES)
def test_only_the_owner_sees_the_key_pages(client_of, outsider, marketer, agent, owner, path):
    for user in (outsider, marketer, agent):
        assert client_of(user).get(path).status_code == 403, user.username
    assert client_of(owner).get(path).status_code == 200


def test_revoking_is_refused_to_others(client_of, marketer, client):
    key = services.create_key(name="Kasse", scopes=["read"]).key
    url = reverse("api:key_revoke", args=[key.pk])
    assert client.post(url).status_code == 302
    assert client_of(marketer).post(url).status_code == 403
    assert ApiKey.objects.get().revoked_at is None


def test_the_key_is_shown_once_and_never_again(client_of, owner):
    client = client_of(owner)
    response = client.post(
        reverse("api:key_create"),
        {"name": "Shopify Onlineshop", "scopes": ["read", "write"], "rate_limit_per_minute": 600},
    )
    assert response.status_code == 200
    secret = re.search(r'value="(treu_[^"]+)"', response.content.decode()).group(1)
    assert response["Cache-Control"].startswith("max-age=0")
    key = ApiKey.objects.get()
    assert services.key_for_secret(secret) == key
    assert key.created_by == owner
    listing = client.get(reverse("api:key_list")).content.decode()
    assert key.prefix in listing
    assert secret not in listing


def test_a_key_without_scope_is_refused_and_not_created(client_of, owner):
    response = client_of(owner).post(
        reverse("api:key_create"), {"name": "Kasse", "rate_limit_per_minute": 600}
    )
    assert response.status_code == 200
    assert not ApiKey.objects.exists()


def test_the_owner_revokes_a_key(client_of, owner):
    new = services.create_key(name="Kasse", scopes=["read"])
    response = client_of(owner).post(reverse("api:key_revoke", args=[new.key.pk]))
    assert response.status_code == 302
    assert ApiKey.objects.get().revoked_at is not None
    assert services.key_for_secret(new.secret) is None


def test_the_key_list_shows_scopes_and_last_use(client_of, owner, django_assert_max_num_queries):
    for n in range(5):
        services.create_key(name=f"Shop {n}", scopes=["read"], created_by=owner)
    client = client_of(owner)
    with django_assert_max_num_queries(8):
        response = client.get(reverse("api:key_list"))
    assert response.content.decode().count("never") + response.content.decode().count("nie") >= 5


def test_the_nav_shows_api_keys_only_to_the_owner(client_of, owner, marketer):
    assert reverse("api:key_list") in client_of(owner).get("/").content.decode()
    assert reverse("api:key_list") not in client_of(marketer).get("/").content.decode()


def test_the_docs_load_nothing_from_another_host(client):
    html = client.get("/api/docs").content.decode()
    urls = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert urls and all(u.startswith("/") and not u.startswith("//") for u in urls)
    assert '"validatorUrl": null' in html
    for url in urls:
        assert client.get(url).status_code == 200, url


def test_the_openapi_description_lists_every_endpoint(client):
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    assert {
        "/api/v1/customers",
        "/api/v1/customers/{number}",
        "/api/v1/customers/batch",
        "/api/v1/products/{sku}",
        "/api/v1/orders/{shop}/{external_id}",
        "/api/v1/orders/{shop}/{external_id}/refunds",
        "/api/v1/orders/batch",
    } <= set(paths)
