"""The loyalty block on the customer's 360° page."""

from __future__ import annotations

import pytest
from django.urls import reverse

from treu.loyalty import services

pytestmark = pytest.mark.django_db


def _page(client, customer) -> str:
    return client.get(reverse("customers:detail", args=[customer.pk])).content.decode()


def test_a_member_shows_points_tier_progress_and_a_link_to_the_ledger(
    client_of, agent, anna_member, anna
):
    services.update_tier_settings(basis="spend", period="rolling")
    services.save_tier(name="Gold", rank=1, threshold=50_000)
    services.adjust_points(member=anna_member, points=120, reason="Start", staff_user=agent)
    body = _page(client_of(agent), anna)
    assert 'id="loyalty-panel"' in body
    assert "<strong>120</strong>" in body and "bis Gold" in body
    assert reverse("loyalty:member_detail", args=[anna_member.pk]) in body


def test_a_customer_outside_the_programme_is_said_to_be_one(client_of, agent, program, ben):
    body = _page(client_of(agent), ben)
    assert "Kein Mitglied des Treueprogramms." in body


def test_without_a_programme_and_for_the_cashier_there_is_no_block(client_of, agent, cashier, ben):
    assert 'id="loyalty-panel"' not in _page(client_of(agent), ben)
