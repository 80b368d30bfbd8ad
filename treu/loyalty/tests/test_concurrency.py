"""On PostgreSQL, many writers at once: the member's row lock keeps the ledger true."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from treu.commerce.tests.factories import make_order
from treu.core.tests.threads import all_at_once as _all_at_once
from treu.customers.tests.factories import CustomerFactory
from treu.loyalty import services
from treu.loyalty.models import EntryKind, PointsEntry
from treu.loyalty.tests.conftest import assert_sums_match_ledger, start_program

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_fifty_parallel_redemptions_never_overspend():
    start_program()
    customer = CustomerFactory()
    member = services.join_program(customer=customer)
    services.adjust_points(member=member, points=100, reason="Start", staff_user=_staff())
    results = _all_at_once(
        50, lambda: services.redeem_points(member=member, points=3, reason="Prämie")
    )
    refused = [r for r in results if isinstance(r, services.LoyaltyError)]
    assert len(results) == 50
    assert len(refused) == 50 - 33, [r for r in results if isinstance(r, Exception)]
    assert PointsEntry.objects.filter(kind=EntryKind.REDEEM).count() == 33
    assert_sums_match_ledger(member)
    assert member.points_balance == 1


def test_one_redemption_key_sent_by_many_workers_at_once_redeems_once():
    start_program()
    member = services.join_program(customer=CustomerFactory())
    services.adjust_points(member=member, points=100, reason="Start", staff_user=_staff())
    results = _all_at_once(
        10, lambda: services.redeem_points(member=member, points=30, reason="Prämie", key="k-1")
    )
    assert all(not isinstance(r, Exception) for r in results), results
    assert len({r.pk for r in results}) == 1
    assert_sums_match_ledger(member)
    assert member.points_balance == 70


def test_an_order_event_delivered_to_many_workers_at_once_awards_once():
    customer = CustomerFactory()
    # Placed before the programme was set up, so nothing was awarded yet; the programme is
    # then dated back, and ten workers award the order at once (the member is new, too).
    order = make_order(customer=customer, placed_at=timezone.now() - timedelta(hours=1))
    start_program(membership="all", welcome_points=5)
    results = _all_at_once(10, lambda: services.award_points_for_orders([order.pk]))
    assert all(not isinstance(r, Exception) for r in results), results
    assert sorted(results) == [0] * 9 + [14]
    assert PointsEntry.objects.filter(kind=EntryKind.EARN, order=order).count() == 1
    member = customer.loyalty_member
    assert_sums_match_ledger(member)
    assert (member.points_balance, member.pending_points) == (5, 14)


def test_orders_cancelled_while_they_are_awarded_keep_no_points():
    from django.db.models import Sum

    from treu.commerce import services as commerce

    customer = CustomerFactory()
    # Placed before the programme was set up, so no subscriber awarded them yet.
    orders = [make_order(customer=customer) for _ in range(30)]
    start_program()
    member = services.join_program(customer=customer, now=timezone.now() - timedelta(days=5))

    def award():
        for order in orders:
            services.award_points_for_orders([order.pk])

    def cancel():
        for order in orders:  # its subscriber takes the points back right after the commit
            commerce.cancel_order(order)

    barrier = threading.Barrier(2)
    errors = []

    def run(work):
        try:
            barrier.wait()
            work()
        except Exception as error:  # noqa: BLE001 - checked below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(w,)) for w in (award, cancel)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    left = PointsEntry.objects.filter(order__in=orders).aggregate(s=Sum("points"))["s"]
    assert left in (None, 0)
    assert_sums_match_ledger(member)
    assert (member.points_balance, member.pending_points) == (0, 0)


def _staff():
    from django.contrib.auth.models import User

    return User.objects.create_user("kasse-test")


def test_reward_runs_at_once_reward_a_referral_once():
    start_program()
    services.update_referral_settings(active=True, advocate_points=100)
    advocate = services.join_program(customer=CustomerFactory())
    friend = CustomerFactory()
    code = services.referral_code_for(member=advocate).code
    services.record_referral(code=code, friend=friend)
    make_order(customer=friend, placed_at=timezone.now())
    later = timezone.now() + timedelta(days=15)
    results = _all_at_once(8, lambda: services.reward_referrals(now=later))
    assert sorted(results) == [0] * 7 + [1], results
    referral_rows = PointsEntry.objects.filter(member=advocate, source_rule=services.REFERRAL)
    assert [e.points for e in referral_rows] == [100]
    assert_sums_match_ledger(advocate)
