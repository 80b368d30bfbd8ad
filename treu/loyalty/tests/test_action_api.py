"""POST /api/v1/loyalty/actions: actions that earn points, from shops, tills and portals."""

from __future__ import annotations

import pytest

from treu.api.tests.fixtures import *  # noqa: F403 - the API fixtures
from treu.api.tests.fixtures import errors_at
from treu.customers import services as customer_services
from treu.loyalty import services
from treu.loyalty.models import ActionAward, PointsEntry

pytestmark = pytest.mark.django_db

PATH = "/loyalty/actions"


@pytest.fixture
def review_rule(program):
    return services.save_action_rule(
        name="Bewertung", trigger="review", points=20, limit="unlimited"
    )


def _body(customer, action="review", **extra):
    return {"customer": {"number": customer.number}, "action": action, **extra}


def test_it_needs_the_write_scope(api_as, make_key, anna_member, anna, review_rule):
    for scopes in (["read"], ["checkout"]):
        response = api_as(make_key(scopes=scopes).secret).post(PATH, _body(anna, reference="R-1"))
        assert response.status_code == 403
        assert "write" in response.json()["detail"][0]["msg"]
    assert api_as(None).post(PATH, _body(anna, reference="R-1")).status_code == 401
    assert not PointsEntry.objects.filter(source_rule="review").exists()


def test_an_action_that_earns_answers_201_with_points_and_balance(
    api, anna_member, anna, review_rule
):
    response = api.post(PATH, _body(anna, reference="R-4711"))
    assert response.status_code == 201
    data = response.json()
    assert data["points"] == 20 and data["balance"] == 20 and data["point_name"] == "Bohnen"
    assert data["awards"] == [{"rule_id": review_rule.pk, "rule": "Bewertung", "points": 20}]
    assert data["reason"] is None and data["customer_number"] == anna.number


def test_nothing_due_answers_200_with_a_german_reason(api, anna_member, anna, ben, review_rule):
    api.post(PATH, _body(anna, reference="R-1"))
    again = api.post(PATH, _body(anna, reference="R-1"))
    assert again.status_code == 200
    assert again.json()["reason"] == "already_recorded" and again.json()["points"] == 0
    assert again.json()["balance"] == 20
    stranger = api.post(PATH, _body(ben, reference="R-2"))
    assert stranger.status_code == 200
    assert stranger.json()["reason"] == "not_member" and stranger.json()["balance"] is None
    assert "Nicht Mitglied" in stranger.json()["message"]
    nothing = api.post(PATH, _body(anna, action="survey", reference="S-1"))
    assert nothing.json()["reason"] == "no_rule"
    assert "Keine aktive Regel" in nothing.json()["message"]


def test_a_once_rule_answers_limit_reached(api, anna_member, anna, program):
    services.save_action_rule(name="Newsletter", trigger="newsletter", points=30, limit="once")
    assert api.post(PATH, _body(anna, action="newsletter", reference="C-1")).status_code == 201
    second = api.post(PATH, _body(anna, action="newsletter", reference="C-2"))
    assert second.status_code == 200 and second.json()["reason"] == "limit_reached"
    assert second.json()["message"].startswith("Limit erreicht")


def test_the_customer_is_found_by_email_or_the_shops_id(api, anna_member, anna, shop, program):
    services.save_action_rule(name="Folgen", trigger="social", points=10, limit="once")
    customer_services.link_external_id(anna, shop=shop, external_id="shopify-9")
    by_email = api.post(
        PATH,
        {"customer": {"email": "ANNA.MUELLER@example.de"}, "action": "social", "network": "x"},
    )
    assert by_email.status_code == 201
    by_shop_id = api.post(
        PATH,
        {
            "customer": {"shop": shop.code, "external_id": "shopify-9"},
            "action": "social",
            "network": "instagram",
        },
    )
    assert by_shop_id.status_code == 200 and by_shop_id.json()["reason"] == "limit_reached"


def test_a_replayed_idempotency_key_answers_the_same_and_awards_once(
    api, anna_member, anna, review_rule
):
    headers = {"Idempotency-Key": "bewertung-1"}
    first = api.post(PATH, _body(anna, reference="R-1"), headers=headers)
    replay = api.post(PATH, _body(anna, reference="R-1"), headers=headers)
    assert first.status_code == replay.status_code == 201
    assert replay.json() == first.json() and replay["Idempotent-Replayed"] == "true"
    assert ActionAward.objects.count() == 1
    other = api.post(PATH, _body(anna, reference="R-2"), headers=headers)
    assert other.status_code == 422  # the same key for another request


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ({"customer": {"number": 999999}, "action": "review", "reference": "R"}, ("number",)),
        ({"customer": {"email": "nie@example.de"}, "action": "review", "reference": "R"},
         ("email",)),
        ({"customer": {"shop": "nix", "external_id": "1"}, "action": "review", "reference": "R"},
         ("external_id",)),
    ],
)  # fmt: skip
def test_an_unknown_customer_is_422(api, anna_member, review_rule, body, loc):
    response = api.post(PATH, body)
    assert response.status_code == 422
    assert errors_at(response, "body", "customer", *loc) == ["Es gibt keinen solchen Kunden."]


@pytest.mark.parametrize(
    ("extra", "loc"),
    [
        ({"action": "review"}, ("body", "reference")),
        ({"action": "birthday", "reference": "R"}, ("body", "action")),
        ({"action": "social", "network": "myspace"}, ("body", "network")),
        ({"action": "social"}, ("body", "network")),
        ({"action": "custom", "reference": "W-1"}, ("body", "event")),
        ({"action": "custom", "reference": "W-1", "event": "Workshop besucht"}, ("body", "event")),
        ({"action": "review", "reference": "x" * 61}, ("body", "reference")),
        ({"action": "review", "reference": "R", "extra": 1}, ("body", "extra")),
    ],
)
def test_bad_input_is_422_per_field(api, anna_member, anna, review_rule, extra, loc):
    response = api.post(PATH, {"customer": {"number": anna.number}, **extra})
    assert response.status_code == 422, response.content
    assert errors_at(response, *loc), response.json()
    assert not ActionAward.objects.exists()


@pytest.mark.parametrize(
    "customer",
    [{}, {"number": 1, "email": "a@example.de"}, {"external_id": "1"}, {"shop": "online"}],
)
def test_the_customer_is_named_exactly_one_way(api, anna_member, review_rule, customer):
    response = api.post(PATH, {"customer": customer, "action": "review", "reference": "R"})
    assert response.status_code == 422
    assert "Kunde" in response.json()["detail"][0]["msg"]


def test_recording_an_action_needs_few_queries(
    api, anna_member, anna, review_rule, django_assert_num_queries
):
    api.post(PATH, _body(anna, reference="R-0"))  # warm: the key's last use is recorded
    # Key and rate limit, customer, settings, rules and tiers, the member locked and its due
    # points, tier, keys and limits, the ledger row, sums, event and award, the answer.
    with django_assert_num_queries(24):
        assert api.post(PATH, _body(anna, reference="R-1")).status_code == 201
