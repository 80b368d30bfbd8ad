"""Points expiry: inactivity and lifetime, the grace period after switching on, warnings."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from treu.commerce.tests.factories import make_order
from treu.core.models import DomainEvent
from treu.loyalty import services
from treu.loyalty.events import POINTS_CHANGED, POINTS_EXPIRING
from treu.loyalty.models import EntryKind, ExpiryWarning, PointsEntry
from treu.loyalty.tests.conftest import assert_sums_match_ledger
from treu.loyalty.tier_selectors import add_months


def at(*args) -> datetime:
    return timezone.make_aware(datetime(*args))  # noqa: DTZ001 - made aware


@pytest.fixture
def staff(db):
    return User.objects.create_user("chefin")


def add(member, points, when, staff):
    return services.adjust_points(
        member=member, points=points, reason="Test", staff_user=staff, now=when
    )


def expired_points(member) -> int:
    return -sum(member.entries.filter(kind=EntryKind.EXPIRE).values_list("points", flat=True))


def test_switching_expiry_on_starts_the_grace_period_and_off_ends_it(program):
    rule = services.update_expiry_settings(mode="lifetime", months=12, now=at(2026, 1, 5))
    assert rule.enabled_at == at(2026, 1, 5)
    same = services.update_expiry_settings(mode="lifetime", months=12, now=at(2026, 3, 1))
    assert same.enabled_at == at(2026, 1, 5)
    longer = services.update_expiry_settings(mode="lifetime", months=6, now=at(2026, 3, 1))
    assert longer.enabled_at == at(2026, 3, 1)
    assert services.update_expiry_settings(mode="off", months=6).enabled_at is None
    with pytest.raises(services.LoyaltyError):
        services.update_expiry_settings(mode="lifetime", months=0)


def test_lifetime_expiry_takes_what_is_old_less_what_was_spent(program, anna_member, staff):
    services.update_expiry_settings(mode="lifetime", months=12, now=at(2023, 1, 1))
    add(anna_member, 100, at(2024, 3, 10), staff)
    services.redeem_points(member=anna_member, points=30, reason="Prämie", now=at(2024, 9, 1))
    add(anna_member, 50, at(2026, 1, 10), staff)
    now = at(2026, 2, 3, 9)
    assert services.expire_points(now=now) == 70
    assert services.expire_points(now=now + timedelta(hours=1)) == 0
    anna_member.refresh_from_db()
    assert anna_member.points_balance == 50
    assert_sums_match_ledger(anna_member)
    event = DomainEvent.objects.filter(kind=POINTS_CHANGED).latest("id")
    assert (event.payload["kind"], event.payload["available_change"]) == ("expire", -70)


def test_points_expire_at_the_end_of_the_month_after_their_lifetime(program, anna_member, staff):
    services.update_expiry_settings(mode="lifetime", months=12, now=at(2023, 1, 1))
    add(anna_member, 40, at(2025, 1, 15), staff)
    assert services.expire_points(now=at(2026, 1, 31, 23)) == 0
    assert services.expire_points(now=at(2026, 2, 1, 0, 30)) == 40


def test_nothing_expires_before_a_full_period_since_switching_on(program, anna_member, staff):
    add(anna_member, 100, at(2023, 5, 1), staff)
    services.update_expiry_settings(mode="lifetime", months=12, now=at(2026, 1, 10))
    assert services.expire_points(now=at(2026, 6, 1)) == 0
    assert services.expire_points(now=at(2027, 1, 9)) == 0
    assert services.expire_points(now=at(2027, 1, 10, 1)) == 100
    assert_sums_match_ledger(anna_member)


def test_inactivity_expires_the_whole_balance_after_months_without_a_purchase(
    program, anna_member, anna, shop, staff
):
    services.update_expiry_settings(mode="inactivity", months=12, now=at(2020, 1, 1))
    order = make_order(customer=anna, shop=shop, lines=((1, 3_000, 700),))
    services.award_points_for_orders([order.pk])
    services.release_pending_points(now=timezone.now() + timedelta(days=30))
    add(anna_member, 10, timezone.now(), staff)  # not a purchase: no activity
    now = timezone.now()
    assert services.expire_points(now=now + timedelta(days=300)) == 0
    assert services.expire_points(now=now + timedelta(days=370)) == 40
    assert services.expire_points(now=now + timedelta(days=371)) == 0
    assert_sums_match_ledger(anna_member)


def test_a_purchase_keeps_the_points_alive(program, anna_member, anna, shop):
    services.update_expiry_settings(mode="inactivity", months=12, now=at(2020, 1, 1))
    old = make_order(customer=anna, shop=shop, lines=((1, 3_000, 700),))
    services.award_points_for_orders([old.pk])
    PointsEntry.objects.filter(order=old).update(created_at=timezone.now() - timedelta(days=500))
    services.release_pending_points(now=timezone.now() + timedelta(days=30))
    recent = make_order(customer=anna, shop=shop, lines=((1, 1_000, 700),))
    services.award_points_for_orders([recent.pk])
    assert services.expire_points(now=timezone.now() + timedelta(days=30)) == 0


def test_inactivity_warnings_come_30_and_7_days_ahead_once_each(
    program, anna_member, anna, shop, after_commit
):
    services.update_expiry_settings(mode="inactivity", months=12, now=at(2020, 1, 1))
    order = make_order(customer=anna, shop=shop, lines=((1, 3_000, 700),))
    services.award_points_for_orders([order.pk])
    services.release_pending_points(now=timezone.now() + timedelta(days=30))
    last = PointsEntry.objects.filter(order=order).latest("created_at").created_at
    expires = add_months(last, 12)
    assert services.warn_expiring_points(now=expires - timedelta(days=40)) == 0
    assert services.warn_expiring_points(now=expires - timedelta(days=29)) == 1
    assert services.warn_expiring_points(now=expires - timedelta(days=28)) == 0
    assert services.warn_expiring_points(now=expires - timedelta(days=6)) == 1
    assert services.warn_expiring_points(now=expires - timedelta(days=5)) == 0
    warnings = DomainEvent.objects.filter(kind=POINTS_EXPIRING).order_by("id")
    assert [(e.payload["days_before"], e.payload["points"]) for e in warnings] == [
        (30, 30),
        (7, 30),
    ]
    assert warnings[0].payload["expires_on"] == timezone.localdate(expires).isoformat()
    assert ExpiryWarning.objects.count() == 2


def test_lifetime_warnings_name_what_expires_at_the_end_of_the_month(program, anna_member, staff):
    services.update_expiry_settings(mode="lifetime", months=12, now=at(2023, 1, 1))
    add(anna_member, 80, at(2025, 2, 10), staff)  # expired with February 2026
    add(anna_member, 60, at(2025, 3, 5), staff)  # expires with March 2026
    now = at(2026, 3, 20, 12)
    assert services.warn_expiring_points(now=now) == 1
    event = DomainEvent.objects.get(kind=POINTS_EXPIRING)
    assert (event.payload["points"], event.payload["expires_on"]) == (60, "2026-03-31")
    assert event.payload["days_before"] == 30
    assert services.expire_points(now=now) == 80


def test_expiry_switched_off_expires_nothing(program, anna_member, staff):
    add(anna_member, 100, at(2020, 5, 1), staff)
    assert services.expire_points() == 0
    assert services.warn_expiring_points() == 0
    assert expired_points(anna_member) == 0
