"""The checkout API: /api/v1/checkout/…, `checkout` scope."""

from __future__ import annotations

import pytest

from treu.api.tests.fixtures import *  # noqa: F403 - the API fixtures
from treu.api.tests.fixtures import errors_at
from treu.loyalty import services
from treu.loyalty.models import CouponUse
from treu.loyalty.tests.conftest import make_reward

pytestmark = pytest.mark.django_db


@pytest.fixture
def till(api_as, make_key):
    return api_as(make_key(scopes=["checkout"]).secret)


@pytest.fixture
def coupon(program, rich_anna):
    reward = make_reward("percent", percent=10, max_discount_cents=1000)
    return services.redeem_reward(member=rich_anna, reward=reward).coupon


def _use_body(code, order="5551234", shop="online", basket=4990, **extra):
    return {
        "code": code,
        "basket_cents": basket,
        "order": {"shop": shop, "external_id": order},
        **extra,
    }


@pytest.fixture
def online(shop):
    shop.code = "online"
    shop.save()
    return shop


# -- Scope ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/checkout/coupons/check"),
        ("POST", "/checkout/coupons/use"),
        ("POST", "/checkout/orders/release"),
        ("POST", "/checkout/credit/spend"),
        ("GET", "/checkout/members/10001"),
        ("GET", "/checkout/rewards"),
        ("POST", "/checkout/members/10001/redemptions"),
    ],
)
def test_it_refuses_keys_without_the_checkout_scope(api, method, path):
    response = api.call(method, path, {})
    assert response.status_code == 403
    assert "checkout" in response.json()["detail"][0]["msg"]


def test_a_checkout_key_reads_no_customers(till):
    assert till.get("/customers").status_code == 403


# -- Checking ---------------------------------------------------------------------------------


def test_it_tells_what_a_coupon_is_worth_for_a_basket(till, coupon, anna):
    body = {"code": coupon.code.lower(), "basket_cents": 4990, "customer_number": anna.number}
    response = till.post("/checkout/coupons/check", body)
    assert response.status_code == 200
    data = response.json()
    assert data["valid"] is True and data["reason"] is None
    assert data["coupon"]["discount_cents"] == 499
    assert data["coupon"]["free_shipping"] is False
    assert not CouponUse.objects.exists()  # checking changes nothing


def test_it_tells_why_not_in_german(till, coupon, ben):
    body = {"code": coupon.code, "basket_cents": 4990, "customer_number": ben.number}
    data = till.post("/checkout/coupons/check", body).json()
    assert (data["valid"], data["reason"]) == (False, "wrong_member")
    assert data["message"] == "Dieser Gutschein gehört einem anderen Kunden."
    unknown = till.post("/checkout/coupons/check", {"code": "XXXX", "basket_cents": 1}).json()
    assert (unknown["valid"], unknown["reason"]) == (False, "unknown")


def test_it_answers_in_english_on_request(till, coupon):
    response = till.call(
        "POST",
        "/checkout/coupons/check",
        {"code": "nope", "basket_cents": 1},
        headers={"Accept-Language": "en"},
    )
    assert response.json()["message"] == "There is no coupon with this code."


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ({"basket_cents": 100}, ("body", "code")),
        ({"code": "X", "basket_cents": 12.5}, ("body", "basket_cents")),
        ({"code": "X", "basket_cents": -1}, ("body", "basket_cents")),
        ({"code": "X", "basket_cents": 1, "coupon": "typo"}, ("body", "coupon")),
        ({"code": "X", "basket_cents": 1, "customer_number": 999999}, ("body", "customer_number")),
    ],
)
def test_it_refuses_bad_input_by_field(till, program, body, loc):
    response = till.post("/checkout/coupons/check", body)
    assert response.status_code == 422
    assert errors_at(response, *loc), response.json()


# -- Using ------------------------------------------------------------------------------------


def test_a_coupon_is_used_once_and_a_retry_of_the_order_is_answered(till, coupon, online):
    first = till.post("/checkout/coupons/use", _use_body(coupon.code))
    assert first.status_code == 201
    assert first.json()["discount_cents"] == 499
    assert first.json()["order"] == {"shop": "online", "external_id": "5551234"}
    again = till.post("/checkout/coupons/use", _use_body(coupon.code))
    assert (again.status_code, again.json()["used_at"]) == (200, first.json()["used_at"])
    other = till.post("/checkout/coupons/use", _use_body(coupon.code, order="5551235"))
    assert other.status_code == 409
    assert other.json()["detail"] == [
        {
            "loc": ["body", "code"],
            "msg": "Dieser Gutschein wurde bereits eingelöst.",
            "type": "used",
        }
    ]


def test_the_idempotency_key_replays_the_use(till, coupon, online):
    headers = {"Idempotency-Key": "kasse-1-beleg-4711"}
    first = till.post("/checkout/coupons/use", _use_body(coupon.code), headers=headers)
    again = till.post("/checkout/coupons/use", _use_body(coupon.code), headers=headers)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again["Idempotent-Replayed"] == "true"
    assert CouponUse.objects.count() == 1


def test_it_refuses_an_unknown_shop(till, coupon):
    response = till.post("/checkout/coupons/use", _use_body(coupon.code, shop="nirgends"))
    assert response.status_code == 422
    assert errors_at(response, "body", "order", "shop")


def test_it_refuses_an_expired_coupon_with_its_reason(till, coupon, online):
    from django.utils import timezone

    type(coupon).objects.filter(pk=coupon.pk).update(expires_at=timezone.now())
    response = till.post("/checkout/coupons/use", _use_body(coupon.code))
    assert response.status_code == 422
    assert response.json()["detail"][0]["type"] == "expired"


def test_releasing_the_order_gives_the_coupon_back(till, coupon, online):
    till.post("/checkout/coupons/use", _use_body(coupon.code))
    response = till.post("/checkout/orders/release", {"shop": "online", "external_id": "5551234"})
    assert response.status_code == 200
    assert response.json() == {"coupons": [coupon.code], "credit_cents": 0}
    assert till.post("/checkout/coupons/use", _use_body(coupon.code, order="2")).status_code == 201


# -- Store credit and balance -----------------------------------------------------------------


def test_the_till_sees_points_pending_credit_and_open_coupons(till, coupon, anna):
    services.redeem_reward(
        member=coupon.member, reward=make_reward("store_credit", amount_cents=1500)
    )
    response = till.get(f"/checkout/members/K{anna.number:06d}")
    assert response.status_code == 200
    data = response.json()
    assert (data["points"], data["pending_points"], data["credit_cents"]) == (800, 0, 1500)
    assert data["point_name"] == "Bohnen"
    assert [c["code"] for c in data["coupons"]] == [coupon.code]


def test_a_non_member_has_no_balance(till, program, ben):
    response = till.get(f"/checkout/members/{ben.number}")
    assert response.status_code == 404
    assert response.json()["detail"][0]["loc"] == ["path", "number"]


def test_store_credit_is_spent_through_the_api(till, rich_anna, anna, online):
    services.redeem_reward(member=rich_anna, reward=make_reward("store_credit", amount_cents=800))
    body = {
        "customer_number": anna.number,
        "amount_cents": 500,
        "order": {"shop": "online", "external_id": "77"},
    }
    first = till.post("/checkout/credit/spend", body)
    assert (first.status_code, first.json()["credit_cents"]) == (201, 300)
    assert till.post("/checkout/credit/spend", body).status_code == 200  # same order: once
    too_much = till.post(
        "/checkout/credit/spend", {**body, "order": {"shop": "online", "external_id": "78"}}
    )
    assert too_much.status_code == 422
    assert errors_at(too_much, "body", "amount_cents") == [
        "Nicht genug Guthaben: 3,00\xa0€ verfügbar."
    ]


def test_it_refuses_store_credit_for_a_customer_who_is_no_member(till, program, ben, online):
    body = {
        "customer_number": ben.number,
        "amount_cents": 1,
        "order": {"shop": "online", "external_id": "1"},
    }
    response = till.post("/checkout/credit/spend", body)
    assert response.status_code == 422
    assert errors_at(response, "body", "customer_number")


# -- Redeeming --------------------------------------------------------------------------------


def test_the_till_lists_the_rewards_on_offer(till, program):
    make_reward(name="Versand gratis", kind="free_shipping", points_cost=50)
    make_reward(name="Alt", active=False)
    response = till.get("/checkout/rewards")
    assert response.status_code == 200
    assert [(r["name"], r["points_cost"]) for r in response.json()] == [("Versand gratis", 50)]


def test_the_till_redeems_a_reward_for_a_coupon(till, rich_anna, anna):
    reward = make_reward("perk", points_cost=250)
    response = till.post(f"/checkout/members/{anna.number}/redemptions", {"reward_id": reward.pk})
    assert response.status_code == 201
    data = response.json()
    assert (data["points"], data["balance"], data["detail_code"]) == (250, 750, "VORVERKAUF")
    assert data["coupon"]["code"] == rich_anna.coupons.get().code


def test_a_retried_redemption_with_its_idempotency_key_redeems_once(till, rich_anna, anna):
    reward = make_reward("store_credit", points_cost=100, amount_cents=500)
    url, headers = f"/checkout/members/{anna.number}/redemptions", {"Idempotency-Key": "r-1"}
    first = till.post(url, {"reward_id": reward.pk}, headers=headers)
    again = till.post(url, {"reward_id": reward.pk}, headers=headers)
    assert first.json() == again.json() and again["Idempotent-Replayed"] == "true"
    assert first.json()["credit_cents"] == 500 and first.json()["coupon"] is None
    rich_anna.refresh_from_db()
    assert (rich_anna.points_balance, rich_anna.credit_cents) == (900, 500)


def test_a_redemption_without_enough_points_says_so_on_the_reward(till, anna_member, anna):
    reward = make_reward(points_cost=100)
    response = till.post(f"/checkout/members/{anna.number}/redemptions", {"reward_id": reward.pk})
    assert response.status_code == 422
    assert errors_at(response, "body", "reward_id") == ["Nicht genug Bohnen: 0 verfügbar."]


def test_it_refuses_a_reward_not_on_offer_and_an_unknown_member(till, rich_anna, anna, ben):
    hidden = make_reward(active=False)
    url = f"/checkout/members/{anna.number}/redemptions"
    response = till.post(url, {"reward_id": hidden.pk})
    assert response.status_code == 422 and errors_at(response, "body", "reward_id")
    shown = make_reward()
    response = till.post(f"/checkout/members/{ben.number}/redemptions", {"reward_id": shown.pk})
    assert response.status_code == 404


def test_erasing_the_member_deletes_stored_answers_with_their_coupon(till, rich_anna, anna):
    from treu.api.models import IdempotencyRecord
    from treu.core import privacy

    reward = make_reward(points_cost=100)
    url, headers = f"/checkout/members/{anna.number}/redemptions", {"Idempotency-Key": "r-2"}
    assert till.post(url, {"reward_id": reward.pk}, headers=headers).status_code == 201
    assert IdempotencyRecord.objects.count() == 1
    privacy.erase_customer(anna)
    assert not IdempotencyRecord.objects.exists()


def test_the_balance_needs_the_same_few_queries_for_many_coupons(
    till, rich_anna, anna, django_assert_num_queries
):
    for kind in ("fixed_amount", "percent", "free_shipping", "free_product"):
        services.redeem_reward(member=rich_anna, reward=make_reward(kind, points_cost=10))
    url = f"/checkout/members/{anna.number}"
    till.get(url)
    # key, rate window (two statements), member with customer, coupons with rewards, settings,
    # the member's tier
    with django_assert_num_queries(7):
        response = till.get(url)
    assert len(response.json()["coupons"]) == 4


def test_using_a_coupon_needs_a_few_queries(till, coupon, online, django_assert_max_num_queries):
    till.post("/checkout/coupons/check", {"code": coupon.code, "basket_cents": 1})
    # key, rate window (two), shop, coupon, this order's use, the conditional update, the
    # use, its event (two on SQLite: the id sequence), the savepoint and its release
    with django_assert_max_num_queries(12):
        response = till.post("/checkout/coupons/use", _use_body(coupon.code))
    assert response.status_code == 201
