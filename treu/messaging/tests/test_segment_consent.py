"""The consent condition as a segment rule: who may get marketing mail, kept current by the
consent events."""

from __future__ import annotations

import pytest

from treu.customers.tests.factories import CustomerFactory
from treu.messaging import services as messaging_services
from treu.messaging.models import SegmentMembership
from treu.messaging.segments import services
from treu.messaging.tests.consent.conftest import sign_up

pytestmark = pytest.mark.django_db


def _rules(value):
    return {"groups": [{"conditions": [{"field": "email_consent", "op": "in", "value": value}]}]}


def _members(segment) -> set:
    return set(
        SegmentMembership.objects.filter(segment=segment).values_list("customer__email", flat=True)
    )


def test_a_confirmed_sign_up_enters_and_a_withdrawal_leaves_the_segment(
    mailoutbox, django_capture_on_commit_callbacks
):
    anna = CustomerFactory(email="anna@example.de")
    CustomerFactory(email="ben@example.de")
    may = services.save_segment(name="Newsletter", rules_tree=_rules(["given"]))
    may_not = services.save_segment(name="Ohne Einwilligung", rules_tree=_rules(["missing"]))
    for segment in (may, may_not):
        services.refresh_segment(segment.pk)
    assert _members(may) == set()
    assert _members(may_not) == {"anna@example.de", "ben@example.de"}

    with django_capture_on_commit_callbacks(execute=True):
        messaging_services.confirm_consent(token=sign_up(anna).token)
    assert _members(may) == {"anna@example.de"}
    assert _members(may_not) == {"ben@example.de"}

    with django_capture_on_commit_callbacks(execute=True):
        messaging_services.withdraw_consent(customer=anna, method="link")
    assert _members(may) == set()
