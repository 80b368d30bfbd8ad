"""Fixtures of the loyalty tests: a running programme and a way to run subscribers."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from treu.loyalty import selectors, services
from treu.loyalty.models import Member, ProgramSettings


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
