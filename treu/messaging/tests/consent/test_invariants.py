"""Hypothesis: any sequence of sign-up, confirmation (with fresh, stale or forged links),
preferences, withdrawal, re-subscription, the §7(3) basis and the purge keeps the current
state equal to the newest history entry, never changes or removes an entry, and keeps
may_send_marketing and the SQL condition in agreement."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase

from treu.customers.models import Customer
from treu.customers.tests.factories import CustomerFactory
from treu.messaging import selectors, services
from treu.messaging.models import (
    Consent,
    ConsentAction,
    ConsentRecord,
    ConsentState,
    LegalBasis,
)

START = datetime(2026, 1, 5, 9, 0).astimezone()
RECORD_FIELDS = (
    "id", "consent_id", "customer_id", "channel", "action", "state", "legal_basis", "source",
    "wording_id", "address", "occurred_at", "ip", "token_hash", "method", "reason", "detail",
)  # fmt: skip

step = st.tuples(
    st.sampled_from(
        [
            "signup",
            "confirm_fresh",
            "confirm_stale",
            "confirm_forged",
            "withdraw",
            "reason",
            "preferences",
            "existing_customer",
            "purge",
        ]
    ),  # fmt: skip
    st.integers(0, 60 * 24 * 40),  # minutes that pass before the step: up to 40 days
    st.sampled_from(["page", "embed", "cashier", "portal"]),
)


class TestConsentStateMachine(TestCase):
    @given(st.lists(step, max_size=20))
    @settings(max_examples=60, deadline=None)
    def test_the_current_state_is_the_newest_entry_and_the_history_only_grows(self, steps):
        customer = CustomerFactory(email="kundin@example.de", order_count=1)
        now = START
        tokens: list[str] = []
        seen: list[tuple] = []
        for action, minutes, source in steps:
            now += timedelta(minutes=minutes)
            try:
                self._do(action, customer, now, source, tokens)
            except services.ConsentLinkError:
                pass  # forged, stale and expired links change nothing: checked below
            except ValidationError:
                pass  # refused steps (preferences when not signed up …) write nothing
            seen = self._check(customer, seen)

    def _do(self, action, customer, now, source, tokens):
        if action == "signup":
            result = services.subscribe_to_newsletter(
                customer, source=source, ip="198.51.100.1", now=now
            )
            if result.token:
                tokens.append(result.token)
        elif action == "confirm_fresh" and tokens:
            services.confirm_consent(token=tokens[-1], ip="203.0.113.1", now=now)
        elif action == "confirm_stale" and len(tokens) > 1:
            services.confirm_consent(token=tokens[0], now=now)
        elif action == "confirm_forged":
            services.confirm_consent(token="erfunden", now=now)
        elif action == "withdraw":
            services.withdraw_consent(customer=customer, method="one_click", now=now)
        elif action == "reason":
            services.record_withdrawal_reason(customer=customer, reason="Zu viele", now=now)
        elif action == "preferences":
            services.update_preferences(customer=customer, topics=[], frequency="weekly", now=now)
        elif action == "existing_customer":
            services.record_existing_customer_basis(customer=customer, source="checkout", now=now)
        elif action == "purge":
            services.purge_unconfirmed(now=now)

    def _check(self, customer, seen):
        records = list(
            ConsentRecord.objects.filter(customer=customer)
            .order_by("occurred_at", "id")
            .values_list(*RECORD_FIELDS)
        )
        # Append-only: everything seen before is still there, unchanged, in the same order.
        assert records[: len(seen)] == seen
        consent = Consent.objects.filter(customer=customer).first()
        if consent is None:
            assert records == []
            return records
        newest = ConsentRecord.objects.filter(customer=customer).order_by("occurred_at", "id")
        last = newest.last()
        assert (consent.state, consent.legal_basis) == (last.state, last.legal_basis)
        assert bool(consent.token_hash) == (consent.state == ConsentState.PENDING)
        if consent.state == ConsentState.ACTIVE and consent.legal_basis == LegalBasis.CONSENT:
            # Double opt-in: consent-based email is active only after a confirmation click.
            actions = [r.action for r in newest]
            last_signup = max(i for i, a in enumerate(actions) if a == ConsentAction.SIGNUP)
            assert ConsentAction.CONFIRMED in actions[last_signup:]
        fresh = Customer.objects.get(pk=customer.pk)
        may = selectors.may_send_marketing(fresh)
        assert may == (
            consent.state == ConsentState.ACTIVE and consent.legal_basis == LegalBasis.CONSENT
        )
        in_sql = Customer.objects.filter(
            selectors.marketing_consent_condition(), pk=customer.pk
        ).exists()
        assert in_sql == may
        return records
