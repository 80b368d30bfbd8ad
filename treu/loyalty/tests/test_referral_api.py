"""The referral endpoints of the checkout API: /api/v1/checkout/referrals…, `checkout` scope."""

from __future__ import annotations

import pytest

from treu.api.tests.fixtures import *  # noqa: F403 - the API fixtures
from treu.api.tests.fixtures import errors_at
from treu.customers.models import Customer
from treu.loyalty import services
from treu.loyalty.models import Referral, ReferralStatus

pytestmark = pytest.mark.django_db


@pytest.fixture
def till(api_as, make_key):
    return api_as(make_key(scopes=["checkout"]).secret)


@pytest.fixture
def code(program, anna_member) -> str:
    services.update_referral_settings(active=True, friend_discount_cents=1000)
    return services.referral_code_for(member=anna_member).code


@pytest.mark.parametrize(
    ("method", "path"),
    [("POST", "/checkout/referrals"), ("GET", "/checkout/referrals/members/10001")],
)
def test_it_refuses_keys_without_the_checkout_scope(api, method, path):
    response = api.call(method, path, {})
    assert response.status_code == 403
    assert "checkout" in response.json()["detail"][0]["msg"]


def test_a_known_friend_gets_the_welcome_coupon(till, code, ben):
    body = {"code": code.lower(), "customer_number": ben.number, "ip": "203.0.113.7"}
    response = till.post("/checkout/referrals", body)
    assert response.status_code == 201
    data = response.json()
    assert (data["status"], data["customer_number"]) == ("pending", ben.number)
    assert data["coupon"]["amount_cents"] == 1000
    referral = Referral.objects.get()
    assert referral.coupon.code == data["coupon"]["code"]
    assert referral.ip_hash and "203.0.113" not in referral.ip_hash
    again = till.post("/checkout/referrals", body)
    assert again.status_code == 200 and again.json() == data  # a retried checkout


def test_a_new_friend_is_created_by_email(till, code):
    body = {
        "code": code,
        "customer": {"email": "clara@example.org", "first_name": "Clara", "last_name": "Neu"},
    }
    response = till.post("/checkout/referrals", body)
    assert response.status_code == 201
    clara = Customer.objects.get(email="clara@example.org")
    assert response.json()["customer_number"] == clara.number
    assert clara.loyalty_member is not None  # taking up the invitation is joining


def test_a_refused_referral_leaves_no_new_customer(till, code):
    body = {"code": "ZZZZ-ZZZZ-ZZZZ", "customer": {"email": "clara@example.org"}}
    response = till.post("/checkout/referrals", body)
    assert response.status_code == 422
    assert response.json()["detail"][0]["type"] == "unknown"
    assert errors_at(response, "body", "code") == ["Diesen Empfehlungscode gibt es nicht."]
    assert not Customer.objects.filter(email="clara@example.org").exists()


def test_a_suspicious_referral_answers_review_and_no_coupon(till, code, ben):
    body = {"code": code, "customer_number": ben.number, "payment_name": "Anna Müller"}
    data = till.post("/checkout/referrals", body).json()
    assert (data["status"], data["coupon"]) == (ReferralStatus.REVIEW, None)


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ({"code": "X"}, ("body",)),
        ({"code": "X", "customer_number": 1, "customer": {"email": "a@b.de"}}, ("body",)),
        ({"code": "X", "customer_number": 999999}, ("body", "customer_number")),
        ({"customer_number": 1}, ("body", "code")),
        ({"code": "X", "customer_number": 1, "typo": 1}, ("body", "typo")),
    ],
)
def test_it_says_what_is_wrong_with_a_request(till, code, body, loc):
    response = till.post("/checkout/referrals", body)
    assert response.status_code == 422
    assert errors_at(response, *loc)


def test_self_referral_is_refused(till, code, anna):
    response = till.post("/checkout/referrals", {"code": code, "customer_number": anna.number})
    assert response.status_code == 422
    assert response.json()["detail"][0]["type"] == "self_referral"


def test_a_member_gets_their_code_and_link_for_the_shop(till, code, anna, ben):
    services.record_referral(code=code, friend=ben)
    response = till.get(f"/checkout/referrals/members/K{anna.number}")
    assert response.status_code == 200
    data = response.json()
    assert data["code"] == code
    assert data["url"].endswith(f"/loyalty/r/{code}/")
    assert (data["referrals"], data["rewarded"]) == (1, 0)
    assert till.get("/checkout/referrals/members/424242").status_code == 404


def test_the_member_code_needs_few_queries(till, code, anna, django_assert_num_queries):
    till.get(f"/checkout/referrals/members/{anna.number}")
    # key, rate limit (update, read); member, code, the counts
    with django_assert_num_queries(6):
        assert till.get(f"/checkout/referrals/members/{anna.number}").status_code == 200


def test_a_new_friend_with_a_broken_email_is_refused_per_field(till, code):
    body = {"code": code, "customer": {"email": "kein-at-zeichen"}}
    response = till.post("/checkout/referrals", body)
    assert response.status_code == 422
    assert errors_at(response, "body", "customer", "email")
    assert not Referral.objects.exists()
