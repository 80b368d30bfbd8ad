"""Fixtures of the loyalty tests: a running programme and a way to run subscribers."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from treu.loyalty import selectors, services
from treu.loyalty.models import Member, ProgramSettings, Reward


def start_program(**fields) -> ProgramSettings:
    """Save the settings and date the programme's start a year back (orders in tests are recent)."""
    program = services.update_program_settings(**fields)
    ProgramSettings.objects.filter(pk=program.pk).update(
        created_at=timezone.now() - timedelta(days=365)
    )
    return selectors.program_settings()


def assert_sums_match_ledger(member: Member) -> None:
    member.refresh_from_db()
    assert (member.points_balance, member.pending_points) == selectors.ledger_sums(member.pk)
    assert member.points_balance >= 0


@pytest.fixture
def program(db) -> ProgramSettings:
    return start_program(point_name="Bohnen")


@pytest.fixture
def after_commit(django_capture_on_commit_callbacks):
    """Run a block like a request: its events reach the subscribers once it commits."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def anna_member(program, anna, after_commit) -> Member:
    with after_commit():
        member = services.join_program(
            customer=anna, now=timezone.now() - timedelta(days=30), source="test"
        )
    return member


def give_points(member: Member, points: int) -> Member:
    """Available points by a manual adjustment (the quickest honest way into the ledger)."""
    from django.contrib.auth.models import User

    staff, _ = User.objects.get_or_create(username="punkte-test")
    services.adjust_points(member=member, points=points, reason="Test", staff_user=staff)
    member.refresh_from_db()
    return member


REWARD_DEFAULTS = {
    "fixed_amount": {"amount_cents": 500},
    "percent": {"percent": 10, "max_discount_cents": 1500},
    "free_product": {"product_sku": "ESP-250"},
    "free_shipping": {},
    "store_credit": {"amount_cents": 1000},
    "perk": {"access_code": "VORVERKAUF"},
    "experience": {"seats": 2},
    "partner": {"partner_name": "Bäckerei Korn"},
}


def make_reward(kind: str = "fixed_amount", **fields) -> Reward:
    values = {"name": f"Prämie {kind}", "kind": kind, "points_cost": 100}
    values.update(REWARD_DEFAULTS[kind])
    values.update(fields)
    return services.save_reward(**values)


@pytest.fixture
def rich_anna(anna_member) -> Member:
    """Anna, a member with 1,000 available points."""
    return give_points(anna_member, 1000)
