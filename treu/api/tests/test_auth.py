from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from treu.api import services
from treu.api.models import ApiKey, RateWindow
from treu.api.tests.fixtures import *  # noqa: F403 - the API fixtures

pytestmark = pytest.mark.django_db


def test_it_refuses_a_request_without_a_key(api_as):
    response = api_as(None).get("/customers")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Bearer"
    assert response.json()["detail"][0]["loc"] == ["header", "Authorization"]


def test_it_refuses_a_wrong_key(api_as, make_key):
    secret = make_key().secret
    assert api_as(secret[:-2] + "xx").get("/customers").status_code == 401
    assert api_as("not-a-treu-key").get("/customers").status_code == 401


def test_it_refuses_a_revoked_key(api_as, make_key):
    new = make_key()
    services.revoke_key(new.key)
    response = api_as(new.secret).get("/customers")
    assert response.status_code == 401
    assert response.json()["detail"][0]["type"] == "unauthorized"


def test_it_accepts_the_key_in_the_x_api_key_header(api_as, make_key):
    client = api_as(None)
    response = client.call("GET", "/customers", headers={"X-API-Key": make_key().secret})
    assert response.status_code == 200


def test_it_refuses_writes_with_a_read_only_key(api_as, make_key):
    client = api_as(make_key(scopes=["read"]).secret)
    assert client.get("/customers").status_code == 200
    response = client.post("/customers", {"email": "anna@example.de"})
    assert response.status_code == 403
    assert "write" in response.json()["detail"][0]["msg"]


def test_it_refuses_reads_with_a_write_only_or_checkout_key(api_as, make_key):
    assert api_as(make_key(scopes=["write"]).secret).get("/customers").status_code == 403
    assert api_as(make_key(scopes=["checkout"]).secret).get("/customers").status_code == 403


def test_it_answers_429_with_retry_after_over_the_rate_limit(api_as, make_key):
    client = api_as(make_key(rate_limit_per_minute=3).secret)
    assert [client.get("/customers").status_code for _ in range(3)] == [200, 200, 200]
    response = client.get("/customers")
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= 60
    assert response.json()["detail"][0]["type"] == "rate_limited"


def test_the_rate_limit_counts_in_the_shared_database(make_key):
    key = make_key(rate_limit_per_minute=2).key
    now = timezone.now()
    assert services.count_request(key, now=now)[0]
    assert services.count_request(key, now=now)[0]
    assert not services.count_request(key, now=now)[0]
    assert RateWindow.objects.get(key=key).count == 3
    # The next minute starts afresh.
    assert services.count_request(key, now=now + timedelta(minutes=1))[0]


def test_it_remembers_the_last_use_at_most_once_a_minute(api, django_assert_max_num_queries):
    key = ApiKey.objects.get()
    api.get("/customers")
    first = ApiKey.objects.get().last_used_at
    assert first is not None
    api.get("/customers")
    assert ApiKey.objects.get().last_used_at == first
    assert key.last_used_at is None  # the earlier object, untouched


def test_keys_are_stored_only_as_a_hash(make_key):
    new = make_key()
    stored = ApiKey.objects.get()
    assert new.secret.startswith(stored.prefix + "_")
    assert new.secret not in {stored.prefix, stored.secret_hash, stored.name}
    assert services.key_for_secret(new.secret) == stored


def test_it_refuses_a_key_without_name_or_scope(db):
    with pytest.raises(services.ApiKeyError) as refused:
        services.create_key(name=" ", scopes=[])
    assert set(refused.value.message_dict) == {"name", "scopes"}
