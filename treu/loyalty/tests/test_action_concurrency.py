"""On PostgreSQL, the same action reported many times at once earns once."""

from __future__ import annotations

import itertools
import json

import pytest
from django.test import Client

from treu.api import services as api_services
from treu.customers.tests.factories import CustomerFactory
from treu.loyalty import services
from treu.loyalty.models import ActionAward, Membership
from treu.loyalty.tests.conftest import assert_sums_match_ledger, start_program
from treu.loyalty.tests.test_concurrency import _all_at_once

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_two_parallel_requests_for_a_once_rule_award_once():
    start_program()
    services.save_action_rule(name="Newsletter", trigger="newsletter", points=30, limit="once")
    customer = CustomerFactory()
    member = services.join_program(customer=customer)
    secret = api_services.create_key(name="Shop", scopes=["write"]).secret
    references = itertools.count()

    def request():
        body = {
            "customer": {"number": customer.number},
            "action": "newsletter",
            "reference": f"C-{next(references)}",
        }
        response = Client().post(
            "/api/v1/loyalty/actions",
            json.dumps(body),
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {secret}",
            HTTP_X_FORWARDED_PROTO="https",
        )
        return response.status_code, response.json()

    results = _all_at_once(2, request)
    assert sorted(status for status, _body in results) == [200, 201], results
    refused = next(body for status, body in results if status == 200)
    assert refused["reason"] == "limit_reached"
    assert ActionAward.objects.count() == 1
    assert_sums_match_ledger(member)
    assert member.points_balance == 30


def test_many_reports_of_one_review_award_once_and_make_one_member():
    start_program(membership=Membership.ALL)
    services.save_action_rule(name="Bewertung", trigger="review", points=20, limit="unlimited")
    customer = CustomerFactory()  # not yet a member: every customer is one, made at once
    results = _all_at_once(
        10, lambda: services.record_action(customer=customer, action="review", reference="R-1")
    )
    errors = [r for r in results if isinstance(r, Exception)]
    assert not errors, errors[:3]
    assert sorted(r.points for r in results) == [0] * 9 + [20]
    assert {r.reason for r in results if not r.awards} == {"already_recorded"}
    member = customer.loyalty_member
    assert ActionAward.objects.count() == 1
    assert_sums_match_ledger(member)
    assert member.points_balance == 20
