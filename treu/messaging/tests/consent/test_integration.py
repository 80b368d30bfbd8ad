"""Consent and the rest of treu: loyalty's newsletter points, the SQL condition segments use,
privacy export and erasure, merging customers, the back-office pages and their access."""

from __future__ import annotations

import pytest

from treu.core import privacy
from treu.customers.models import Customer
from treu.customers.services import merge_customers
from treu.loyalty import services as loyalty_services
from treu.loyalty.tests.conftest import start_program
from treu.messaging import selectors, services
from treu.messaging.models import Consent, ConsentRecord, ConsentState
from treu.messaging.tests.consent.conftest import sign_up

pytestmark = pytest.mark.django_db


def test_a_confirmed_sign_up_earns_the_newsletter_points_once(anna, mailoutbox, after_commit):
    start_program(point_name="Bohnen")
    loyalty_services.save_action_rule(
        name="Newsletter", trigger="newsletter", points=50, limit="once"
    )
    with after_commit():
        member = loyalty_services.join_program(customer=anna, source="test")
    with after_commit():
        token = sign_up(anna).token
    member.refresh_from_db()
    assert member.points_balance == 0  # pending earns nothing
    with after_commit():
        services.confirm_consent(token=token)
    member.refresh_from_db()
    assert member.points_balance == 50
    # Unsubscribing and confirming again is the same consent: no second award.
    with after_commit():
        services.withdraw_consent(customer=anna, method="link")
    with after_commit():
        again = sign_up(anna).token
    with after_commit():
        services.confirm_consent(token=again)
    member.refresh_from_db()
    assert member.points_balance == 50


def scenario(anna, ben, topics):
    """Customers in every situation the rule knows; returns the customers by name."""
    from treu.customers.tests.factories import CustomerFactory

    people = {"anna": anna, "ben": ben}
    services.confirm_consent(token=sign_up(anna).token)  # active
    sign_up(ben)  # pending
    people["carla"] = CustomerFactory(email="carla@example.de")
    services.confirm_consent(token=sign_up(people["carla"]).token)
    services.withdraw_consent(customer=people["carla"], method="link")
    people["dora"] = CustomerFactory(email="dora@example.de")
    services.confirm_consent(token=sign_up(people["dora"]).token)
    Customer.objects.filter(pk=people["dora"].pk).update(email="dora.neu@example.de")
    people["emil"] = CustomerFactory(email="emil@example.de", order_count=2)
    services.record_existing_customer_basis(customer=people["emil"], source="checkout")
    people["fine"] = CustomerFactory(email="fine@example.de")
    services.confirm_consent(token=sign_up(people["fine"], topics=[topics[2]]).token)
    people["gero"] = CustomerFactory(email="gero@example.de")  # never signed up
    return {name: Customer.objects.get(pk=c.pk) for name, c in people.items()}


def test_the_sql_condition_says_what_may_send_marketing_says(anna, ben, topics, mailoutbox):
    people = scenario(anna, ben, topics)
    for topic in (None, *topics):
        condition = selectors.marketing_consent_condition(topic=topic)
        in_sql = set(Customer.objects.filter(condition).values_list("email", flat=True))
        in_python = {
            c.email for c in people.values() if selectors.may_send_marketing(c, topic=topic)
        }
        assert in_sql == in_python, topic
    everyone = Customer.objects.filter(selectors.marketing_consent_condition())
    assert set(everyone.values_list("first_name", flat=True)) >= {"Anna"}
    assert set(everyone) == {people["anna"], people["fine"]}
    offers = Customer.objects.filter(selectors.marketing_consent_condition(topic=topics[1]))
    assert set(offers) == {people["anna"], people["emil"]}


def test_the_condition_works_from_another_model(anna, mailoutbox):
    from treu.core.models import DomainEvent

    services.confirm_consent(token=sign_up(anna).token)
    rows = DomainEvent.objects.filter(
        selectors.marketing_consent_condition(customer_path="customer__"),
        kind="consent.confirmed",
    )
    assert rows.count() == 1


def test_the_export_holds_the_consent_and_its_history(anna, mailoutbox):
    services.confirm_consent(token=sign_up(anna).token, ip="203.0.113.5")
    exported = privacy.export_customer(anna)
    assert exported["messaging.Consent"][0]["state"] == "active"
    history = exported["messaging.ConsentRecord"]
    assert [row["action"] for row in history] == ["signup", "mail_sent", "confirmed"]
    assert history[-1]["ip"] == "203.0.113.5"


def test_erasure_stops_marketing_and_keeps_the_proof_minimised(anna, mailoutbox):
    services.confirm_consent(token=sign_up(anna).token, ip="203.0.113.5")
    services.record_withdrawal_reason  # noqa: B018 - reasons are blanked, see below
    privacy.erase_customer(anna)
    anna.refresh_from_db()
    consent = Consent.objects.get(customer=anna)
    assert consent.state == ConsentState.WITHDRAWN
    assert consent.address == services.address_hash("anna.mueller@example.de")
    records = list(ConsentRecord.objects.filter(customer=anna).order_by("id"))
    assert [r.action for r in records] == ["signup", "mail_sent", "confirmed", "withdrawn"]
    assert records[-1].method == "erasure"
    assert {r.address for r in records} == {services.address_hash("anna.mueller@example.de")}
    assert records[2].ip == "203.0.113.5"  # the proof of the click stays
    assert not selectors.may_send_marketing(anna)


def test_erasure_blanks_free_text_reasons(anna, mailoutbox):
    services.confirm_consent(token=sign_up(anna).token)
    services.withdraw_consent(customer=anna, method="link", reason="Ich heiße Anna und ...")
    privacy.erase_customer(anna)
    assert not ConsentRecord.objects.exclude(reason="").exists()


def test_merging_keeps_the_active_consent_and_both_histories(anna, ben, mailoutbox):
    sign_up(anna)  # pending on the survivor
    services.confirm_consent(token=sign_up(ben).token)  # active on the duplicate
    ben_email = ben.email
    Customer.objects.filter(pk=ben.pk).update(email=None)
    Customer.objects.filter(pk=anna.pk).update(email=ben_email)
    anna.refresh_from_db()
    ben.refresh_from_db()
    merge_customers(survivor=anna, duplicate=ben)
    consent = Consent.objects.get()
    assert consent.customer_id == anna.pk
    assert consent.state == ConsentState.ACTIVE
    records = ConsentRecord.objects.filter(customer=anna)
    assert records.count() == 6  # 2 + 3 + the merge
    assert records.order_by("-occurred_at", "-id")[0].state == ConsentState.ACTIVE
    assert selectors.may_send_marketing(anna)


def test_merging_moves_a_consent_the_survivor_lacks(anna, ben, mailoutbox):
    services.confirm_consent(token=sign_up(ben).token)
    merge_customers(survivor=anna, duplicate=ben)
    assert Consent.objects.get().customer_id == anna.pk
    assert ConsentRecord.objects.filter(customer=anna).count() == 3
