"""On PostgreSQL: double clicks and parallel sign-ups write each step once."""

from __future__ import annotations

import pytest

from treu.core.models import DomainEvent
from treu.customers.models import Customer
from treu.loyalty.tests.test_concurrency import _all_at_once
from treu.messaging import services
from treu.messaging.models import Consent, ConsentRecord, ConsentState
from treu.messaging.tests.consent.conftest import sign_up

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_ten_clicks_on_one_link_confirm_once(anna, mailoutbox):
    token = sign_up(anna).token
    results = _all_at_once(10, lambda: services.confirm_consent(token=token, ip="203.0.113.1"))
    confirmed = [r for r in results if isinstance(r, Consent)]
    refused = [r for r in results if isinstance(r, services.ConsentLinkError)]
    assert len(confirmed) == 1, results
    assert len(refused) == 9
    assert {r.problem for r in refused} == {"used"}
    assert ConsentRecord.objects.filter(action="confirmed").count() == 1
    assert DomainEvent.objects.filter(kind="consent.confirmed").count() == 1
    assert Consent.objects.get().state == ConsentState.ACTIVE


def test_parallel_sign_ups_of_a_new_address_make_one_customer_and_one_mail(mailoutbox):
    results = _all_at_once(5, lambda: sign_up("neu@example.de", ip=None).status)
    assert not [r for r in results if isinstance(r, Exception)], results
    assert sorted(results).count(services.SignupStatus.MAIL_SENT) == 1
    assert Customer.objects.count() == 1
    assert Consent.objects.count() == 1
    assert ConsentRecord.objects.filter(action="signup").count() == 1
    assert len(mailoutbox) == 1
