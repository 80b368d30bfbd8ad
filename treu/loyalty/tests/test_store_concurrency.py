"""On PostgreSQL, the till at once: a form sent many times books once, an undo and a
checkout racing for one coupon end with exactly one of them."""

from __future__ import annotations

import itertools

import pytest

from treu.commerce.models import Order, ShopKind
from treu.commerce.tests.factories import ShopFactory
from treu.customers.tests.factories import CustomerFactory
from treu.loyalty import services
from treu.loyalty.models import Coupon, StampCard, StampEntry, TillAction
from treu.loyalty.tests.conftest import assert_sums_match_ledger, make_reward, start_program
from treu.loyalty.tests.stamps import coffee_card
from treu.loyalty.tests.test_concurrency import _all_at_once

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _staff():
    from django.contrib.auth.models import User

    return User.objects.get_or_create(username="kasse-test")[0]


def _member(points: int = 0):
    start_program()
    member = services.join_program(customer=CustomerFactory())
    if points:
        services.adjust_points(member=member, points=points, reason="Start", staff_user=_staff())
    return member


def test_twenty_sends_of_one_purchase_form_book_one_order():
    member = _member()
    shop = ShopFactory(code="laden", name="Laden", kind=ShopKind.POS, is_store=True)
    services.update_till_settings(shop=shop, tax_rate_bp=700)
    cashier = _staff()
    results = _all_at_once(
        20,
        lambda: services.record_store_purchase(
            member=member, amount_cents=1000, staff_user=cashier, key="same-form-key-0001"
        ),
    )
    errors = [r for r in results if isinstance(r, Exception)]
    assert not errors, errors[:3]
    assert sorted(created for _action, created in results) == [False] * 19 + [True]
    assert Order.objects.count() == 1 and TillAction.objects.count() == 1
    member.refresh_from_db()
    assert member.pending_points == 10
    assert_sums_match_ledger(member)


def test_twenty_tills_stamping_one_member_at_once_add_up():
    member = _member()
    card_type = coffee_card(stamps_needed=100)
    cashier = _staff()
    keys = itertools.count()
    results = _all_at_once(
        20,
        lambda: services.give_store_stamps(
            member=member,
            card_type=card_type,
            count=2,
            staff_user=cashier,
            key=f"stamp-form-{next(keys):08d}",
        ),
    )
    assert not [r for r in results if isinstance(r, Exception)]
    assert StampCard.objects.get().stamps == 40
    assert StampEntry.objects.count() == TillAction.objects.count() == 20


@pytest.mark.parametrize("attempt", range(5))
def test_an_undo_and_a_checkout_racing_for_one_coupon_end_with_one(attempt):
    member = _member(500)
    cashier = _staff()
    reward = make_reward("fixed_amount", points_cost=200)
    action, _ = services.redeem_at_till(
        member=member, reward=reward, staff_user=cashier, key="redeem-form-0001"
    )
    code = Coupon.objects.get().code
    tasks = iter(
        [
            lambda: services.undo_till_action(action=action, staff_user=cashier),
            lambda: services.consume_coupon(
                code=code, basket_cents=3000, shop="online", order_external_id="1"
            ),
        ]
    )
    results = _all_at_once(2, lambda: next(tasks)())
    failed = [r for r in results if isinstance(r, Exception)]
    assert len(failed) == 1, results
    coupon = Coupon.objects.get()
    member.refresh_from_db()
    if coupon.voided_at is not None:  # the undo won: the checkout was refused
        assert coupon.used_at is None and isinstance(failed[0], services.CouponRefused)
        assert member.points_balance == 500
    else:  # the checkout won: the undo was refused
        assert coupon.used_at is not None and member.points_balance == 300
        assert TillAction.objects.get().undone_at is None
    assert_sums_match_ledger(member)
