"""Coupons and store credit at checkout (services.checkout), and giving them back."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from treu.commerce import services as commerce
from treu.commerce.tests.factories import make_order
from treu.loyalty import selectors, services
from treu.loyalty.models import CouponUse, CreditKind, Member
from treu.loyalty.tests.conftest import make_reward

pytestmark = pytest.mark.django_db


def _coupon(member, kind="fixed_amount", **fields):
    return services.redeem_reward(member=member, reward=make_reward(kind, **fields)).coupon


def _use(coupon, order="1001", basket=5000, **kw):
    return services.consume_coupon(
        code=coupon.code, basket_cents=basket, shop="online", order_external_id=order, **kw
    )


@pytest.mark.parametrize(
    ("kind", "fields", "basket", "discount"),
    [
        ("fixed_amount", {"amount_cents": 500}, 5000, 500),
        ("fixed_amount", {"amount_cents": 500}, 300, 300),  # never more than the basket
        ("percent", {"percent": 10, "max_discount_cents": None}, 4999, 499),  # rounds down
        ("percent", {"percent": 20, "max_discount_cents": 1500}, 10000, 1500),  # the cap
        ("free_shipping", {}, 5000, 0),
        ("free_product", {"product_sku": "ESP-250"}, 5000, 0),
    ],
)
def test_a_coupon_is_worth_its_value_for_the_basket(
    program, rich_anna, kind, fields, basket, discount
):
    use, created = _use(_coupon(rich_anna, kind, **fields), basket=basket)
    assert created and use.discount_cents == discount


def test_a_coupon_is_used_once(program, rich_anna):
    coupon = _coupon(rich_anna)
    _use(coupon, order="1")
    with pytest.raises(services.CouponRefused) as refused:
        _use(coupon, order="2")
    assert refused.value.reason == "used"
    assert CouponUse.objects.count() == 1


def test_the_same_order_asking_again_gets_its_use(program, rich_anna):
    coupon = _coupon(rich_anna)
    first, created = _use(coupon)
    again, created_again = _use(coupon)
    assert (created, created_again, first.pk) == (True, False, again.pk)


@pytest.mark.parametrize(
    ("case", "reason"),
    [("unknown", "unknown"), ("expired", "expired"), ("wrong_member", "wrong_member")],
)
def test_it_refuses_coupons_it_may_not_take(program, rich_anna, ben, case, reason):
    coupon = _coupon(rich_anna)
    kwargs = {}
    if case == "unknown":
        coupon.code = "AAAA-BBBB-CCCC"
    elif case == "expired":
        kwargs["now"] = coupon.expires_at
    else:
        kwargs["customer_id"] = ben.pk
    with pytest.raises(services.CouponRefused) as refused:
        _use(coupon, **kwargs)
    assert refused.value.reason == reason
    assert not CouponUse.objects.exists()


@pytest.mark.parametrize("kind", ["perk", "experience", "partner"])
def test_codes_that_are_no_discount_are_not_taken_at_checkout(program, rich_anna, kind):
    reward = make_reward(kind)
    if kind == "partner":
        services.add_partner_codes(reward=reward, text="KORN-1")
    coupon = services.redeem_reward(member=rich_anna, reward=reward).coupon
    with pytest.raises(services.CouponRefused) as refused:
        _use(coupon)
    assert refused.value.reason == "not_for_checkout"


def test_the_owner_may_use_their_own_coupon(program, rich_anna, anna):
    use, created = _use(_coupon(rich_anna), customer_id=anna.pk)
    assert created


def test_the_database_refuses_a_second_open_use(program, rich_anna):
    coupon = _coupon(rich_anna)
    use, _ = _use(coupon)
    with pytest.raises(IntegrityError), transaction.atomic():
        CouponUse.objects.create(
            coupon=coupon,
            shop="laden",
            order_external_id="9",
            basket_cents=1,
            discount_cents=1,
            used_at=timezone.now(),
        )


def test_releasing_an_order_gives_the_coupon_back_once(program, rich_anna):
    coupon = _coupon(rich_anna)
    _use(coupon, order="1")
    released = services.release_order_rewards(shop="online", order_external_id="1")
    assert released.coupons == [coupon.code]
    assert services.release_order_rewards(shop="online", order_external_id="1").coupons == []
    coupon.refresh_from_db()
    assert coupon.used_at is None
    use, created = _use(coupon, order="2")  # usable again, by another order
    assert created and CouponUse.objects.filter(released_at__isnull=True).get() == use


def test_a_released_coupon_past_its_expiry_stays_unusable(program, rich_anna):
    coupon = _coupon(rich_anna)
    _use(coupon, order="1")
    services.release_order_rewards(shop="online", order_external_id="1")
    with pytest.raises(services.CouponRefused) as refused:
        _use(coupon, order="2", now=coupon.expires_at + timedelta(seconds=1))
    assert refused.value.reason == "expired"


# -- Store credit -----------------------------------------------------------------------------


@pytest.fixture
def credited(program, rich_anna) -> Member:
    services.redeem_reward(member=rich_anna, reward=make_reward("store_credit", amount_cents=1000))
    rich_anna.refresh_from_db()
    return rich_anna


def _spend(member, cents, order="1001"):
    return services.spend_store_credit(
        member=member, cents=cents, shop="online", order_external_id=order
    )


def test_store_credit_pays_exactly_what_is_there(credited):
    entry, created = _spend(credited, 400)
    credited.refresh_from_db()
    assert (created, entry.cents, credited.credit_cents) == (True, -400, 600)
    assert selectors.credit_sum(credited.pk) == 600


def test_it_refuses_more_store_credit_than_there_is(credited, settings):
    settings.LANGUAGE_CODE = "de"
    with pytest.raises(services.LoyaltyError) as refused:
        _spend(credited, 1001)
    assert refused.value.message_dict == {
        "amount_cents": ["Nicht genug Guthaben: 10,00\xa0€ verfügbar."]
    }
    credited.refresh_from_db()
    assert credited.credit_cents == 1000


def test_store_credit_is_spent_once_per_order(credited):
    first, _ = _spend(credited, 300)
    again, created = _spend(credited, 300)
    assert (again.pk, created) == (first.pk, False)
    with pytest.raises(services.LoyaltyError):
        _spend(credited, 200)  # another amount for the same order
    credited.refresh_from_db()
    assert credited.credit_cents == 700


def test_releasing_an_order_restores_its_store_credit_once(credited):
    _spend(credited, 300)
    assert (
        services.release_order_rewards(shop="online", order_external_id="1001").credit_cents == 300
    )
    assert services.release_order_rewards(shop="online", order_external_id="1001").credit_cents == 0
    credited.refresh_from_db()
    assert credited.credit_cents == 1000 == selectors.credit_sum(credited.pk)
    kinds = [e.kind for e in selectors.member_credit(credited)]
    assert kinds == [CreditKind.RESTORE, CreditKind.SPEND, CreditKind.ISSUE]


def test_a_cancelled_order_in_treu_gives_back_coupon_and_credit(credited, shop, after_commit):
    order = make_order(customer=credited.customer, shop=shop, external_id="A-77")
    coupon = _coupon(credited)
    services.consume_coupon(
        code=coupon.code, basket_cents=1490, shop=shop.code, order_external_id="A-77"
    )
    services.spend_store_credit(
        member=credited, cents=250, shop=shop.code, order_external_id="A-77"
    )
    with after_commit():
        commerce.cancel_order(order)
    coupon.refresh_from_db()
    credited.refresh_from_db()
    assert coupon.used_at is None
    assert credited.credit_cents == 1000


def test_using_and_giving_back_a_coupon_shows_on_the_timeline(program, rich_anna, anna):
    from treu.core import events
    from treu.core.models import DomainEvent
    from treu.loyalty.events import COUPON_RELEASED, COUPON_USED

    coupon = _coupon(rich_anna, amount_cents=500)
    _use(coupon, order="A-1")
    services.release_order_rewards(shop="online", order_external_id="A-1")
    used = DomainEvent.objects.get(kind=COUPON_USED)
    released = DomainEvent.objects.get(kind=COUPON_RELEASED)
    assert used.customer_id == released.customer_id == anna.pk
    assert used.payload["discount_cents"] == 500 and used.payload["order_external_id"] == "A-1"
    entry = events.describe(used)
    assert coupon.code in entry.title and entry.amount_cents == -500
    assert coupon.code in events.describe(released).title
