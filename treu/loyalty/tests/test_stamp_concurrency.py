"""On PostgreSQL, many tills at once: the card's row lock keeps stamps and vouchers exact."""

from __future__ import annotations

import threading

import pytest
from django.contrib.auth.models import User
from django.db import connection

from treu.commerce import services as commerce
from treu.customers.tests.factories import CustomerFactory
from treu.loyalty import services
from treu.loyalty.models import StampEntry, StampVoucher
from treu.loyalty.tests.conftest import start_program
from treu.loyalty.tests.stamps import (
    COFFEE,
    assert_stamps_reconcile,
    card_of,
    coffee_card,
    order_with,
)
from treu.loyalty.tests.test_concurrency import _all_at_once

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_twenty_parallel_stamps_on_one_card_count_exactly_and_fill_exactly():
    start_program()
    card_type = coffee_card(stamps_needed=7)
    member = services.join_program(customer=CustomerFactory())
    staff = User.objects.create_user("kasse-parallel")
    # The card does not exist yet: twenty tills also race to create it.
    results = _all_at_once(
        20,
        lambda: services.add_stamps(member=member, card_type=card_type, count=3, staff_user=staff),
    )
    assert all(not isinstance(r, Exception) for r in results), results
    card = card_of(member, card_type)
    # 60 stamps on cards of 7: 8 vouchers, 4 stamps on the current card.
    assert (card.stamps, card.cards_filled) == (4, 8)
    assert StampVoucher.objects.filter(member=member).count() == 8
    assert sum(len(r.vouchers) for r in results) == 8
    assert StampEntry.objects.filter(member=member).count() == 20
    assert_stamps_reconcile(member, card_type)


def test_one_voucher_redeemed_at_twenty_tills_at_once_is_redeemed_once():
    start_program()
    card_type = coffee_card()
    member = services.join_program(customer=CustomerFactory())
    staff = User.objects.create_user("kasse-parallel")
    voucher = services.add_stamps(
        member=member, card_type=card_type, count=10, staff_user=staff
    ).vouchers[0]
    results = _all_at_once(
        20, lambda: services.redeem_stamp_voucher(code=voucher.code, staff_user=staff)
    )
    refused = [r for r in results if isinstance(r, services.LoyaltyError)]
    assert len(refused) == 19, [r for r in results if not isinstance(r, services.LoyaltyError)]


def test_orders_cancelled_while_they_are_stamped_keep_no_stamps():
    customer = CustomerFactory()
    # Placed before the programme was set up, so no subscriber stamped them yet.
    orders = [order_with(customer, (COFFEE, 3)) for _ in range(20)]
    start_program()
    card_type = coffee_card(stamps_needed=100)
    member = services.join_program(customer=customer)
    errors = []
    barrier = threading.Barrier(2)

    def run(work):
        try:
            barrier.wait()
            work()
        except Exception as error:  # noqa: BLE001 - checked below
            errors.append(error)
        finally:
            connection.close()

    def stamp():
        for order in orders:
            services.award_stamps_for_orders([order.pk])

    def cancel():
        for order in orders:  # its subscriber takes the stamps back right after the commit
            commerce.cancel_order(order)

    threads = [threading.Thread(target=run, args=(w,)) for w in (stamp, cancel)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    card = card_of(member, card_type)
    assert card is None or card.stamps == 0
    assert_stamps_reconcile(member, card_type)
