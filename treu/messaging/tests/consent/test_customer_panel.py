"""The newsletter block on the customer's 360° page."""

from __future__ import annotations

import pytest
from django.urls import reverse

from treu.messaging.tests.consent.conftest import sign_up

pytestmark = pytest.mark.django_db


def test_support_sees_the_state_and_the_link_to_the_proof(client_of, agent, anna_active, anna):
    body = client_of(agent).get(reverse("customers:detail", args=[anna.pk])).content.decode()
    assert 'id="consent-panel"' in body and "Aktiv" in body
    assert reverse("messaging:consent_proof", args=[anna.pk]) in body


def test_a_pending_sign_up_and_no_sign_up(client_of, agent, anna, ben):
    sign_up(anna)
    client = client_of(agent)
    assert (
        "Wartet auf Bestätigung"
        in client.get(reverse("customers:detail", args=[anna.pk])).content.decode()
    )
    assert (
        "Keine Newsletter-Anmeldung."
        in client.get(reverse("customers:detail", args=[ben.pk])).content.decode()
    )
